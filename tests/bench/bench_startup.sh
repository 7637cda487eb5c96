#!/bin/sh
# Start-up: a firmware that prints one byte and exits (build/guest/hello.rom),
# fukivmm against QEMU -M microvm -bios (same image, same 64 MiB) in the same
# run, each N times (BENCH_RUNS, default 30), median and p90:
#   - exec -> exit (the caller's wait returns), peak RSS, the CPU time the
#     host spends on one launch including the VM's teardown after the exit
#     (timeit -r: the helper that outlives the process is waited for too);
#   - exec -> first serial byte, read with a timestamp from a pipe on the
#     VMM's stdout (serial output = "stdout" / -serial stdio);
#   - the process floor (`fukivmm version`).
# Targets (issue "speed"): exec -> exit median <= 5 ms, p90 <= 8 ms,
# <= 0.12 x microvm; first byte <= 3 ms; peak RSS <= 6 MiB.
. "$(dirname "$0")/lib.sh"
N=${BENCH_RUNS:-30}
ROM=$ROOT/build/guest/hello.rom
if ! have_kvm; then
	echo "SKIP: start-up benchmark needs /dev/kvm"
	exit 0
fi
for out in none stdout; do
	cat >"$BTMP/hello-$out.toml" <<T
[vm]
memory = "64M"
[firmware]
path = "$ROM"
[serial]
output = "$out"
[debug_exit]
port = 0xf4
T
done
say "start-up, $N runs each, $(kvm_note); machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
TM= tm "$N" 20 "$FUKIVMM" run "$BTMP/hello-none.toml"
if [ "$ST" != 65 ]; then
	echo "fukivmm did not run hello.rom (status $ST)"
	exit 1
fi
f_med=$MED f_p90=$P90 f_rss=$RSS
say "fukivmm exec -> exit: median $MED ms, p90 $P90 ms, min $MIN ms; CPU (process) median $CPU ms; peak RSS $RSS KiB"
TM=-r tm "$N" 20 "$FUKIVMM" run "$BTMP/hello-none.toml"
f_cpu=$CPU
say "fukivmm host CPU per launch, teardown included: median $CPU ms, p90 $CPU90 ms (wall median $MED ms)"
TM=-s tm "$N" 20 "$FUKIVMM" run "$BTMP/hello-stdout.toml"
f_fb=$FB f_fb90=$FB90
say "fukivmm exec -> first serial byte (read from its stdout pipe): median $FB ms, p90 $FB90 ms"
TM= tm "$N" 20 "$FUKIVMM" version
say "process floor (fukivmm version): median $MED ms, p90 $P90 ms"

if ! command -v qemu-system-x86_64 >/dev/null; then
	say "qemu-system-x86_64 not installed: no ratio (make deps installs it)"
	exit 0
fi
set -- qemu-system-x86_64 -accel kvm -M microvm -m 64M -bios "$ROM" -nodefaults \
	-no-user-config -display none -device isa-debug-exit,iobase=0xf4,iosize=4
TM= tm "$N" 20 "$@" -serial none
if [ "$ST" != 65 ]; then
	say "qemu could not run the image (status $ST): no ratio"
	exit 0
fi
say "qemu -M microvm exec -> exit: median $MED ms, p90 $P90 ms, min $MIN ms; peak RSS $RSS KiB"
say "ratio fukivmm/qemu exec -> exit: median $(ratio "$f_med" "$MED"), p90 $(ratio "$f_p90" "$P90"); peak RSS $(ratio "$f_rss" "$RSS")"
TM=-r tm "$N" 20 "$@" -serial none
say "qemu host CPU per launch: median $CPU ms, p90 $CPU90 ms; ratio fukivmm/qemu $(ratio "$f_cpu" "$CPU")"
TM=-s tm "$N" 20 "$@" -serial stdio
say "qemu exec -> first serial byte: median $FB ms, p90 $FB90 ms; ratio fukivmm/qemu median $(ratio "$f_fb" "$FB"), p90 $(ratio "$f_fb90" "$FB90")"
