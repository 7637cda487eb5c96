#!/bin/sh
# Reset-rebuild: a guest that resets itself 100 times (build/guest/reset100.rom)
# against hello.rom (no reset), fukivmm (a new KVM VM per reset) and QEMU
# -M pc (in-place reset) in the same run, N runs each (BENCH_RUNS, default
# 20), median and p90:
#   - per reset, guest boot code included: (T(reset100) - T(hello)) / 100
#     from the medians (and the p90s) of the whole runs;
#   - the same per reset from the event log: the time between two `reset`
#     events (fukivmm only: QEMU does not say);
#   - fukivmm's own rebuild (stop -> new VM ready), the `rebuilt` events' ms
#     and vm_ms (the hypervisor VM alone), over every reset of R runs
#     (BENCH_RESET_LOG_RUNS, default 5);
#   - the host CPU a reset costs, (CPU(reset100) - CPU(hello)) / 100, with
#     every descendant waited for (timeit -r), so the retired VMs' teardown
#     is included; KVM's kernel threads are not;
#   - the floor under a reset: the guest's boot in its new VM (`rebuilt` ->
#     next `reset` event), the exits it makes (the `reset` events' `exits`;
#     QEMU's from its kvm_run_exit trace, one run) and what one exit costs
#     (tests/bench/kvmfloor.c, io_exit): the boot runs the same guest code
#     under either VMM.
# Targets (issue "speed"): rebuild median <= 0.5 ms, p90 <= 1.0 ms; per reset
# <= 0.6 x QEMU.
. "$(dirname "$0")/lib.sh"
N=${BENCH_RUNS:-20}
R=${BENCH_RESET_LOG_RUNS:-5}
if ! have_kvm; then
	echo "SKIP: reset-rebuild benchmark needs /dev/kvm"
	exit 0
fi
for g in hello reset100; do
	cat >"$BTMP/$g.toml" <<T
[vm]
memory = "64M"
[firmware]
path = "$ROOT/build/guest/$g.rom"
[serial]
output = "none"
[debug_exit]
port = 0xf4
[log]
reset_rate = 0
T
done
per() { awk -v r="$1" -v h="$2" 'BEGIN { printf "%.3f", (r - h) / 100 }'; }
say "reset-rebuild, $N runs each, $(kvm_note); machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
TM=-r tm "$N" 60 "$FUKIVMM" run "$BTMP/reset100.toml"
[ "$ST" = 65 ] || { echo "fukivmm: reset100.rom failed (status $ST)"; exit 1; }
r_med=$MED r_p90=$P90 r_cpu=$CPU
TM=-r tm "$N" 60 "$FUKIVMM" run "$BTMP/hello.toml"
f_per=$(per "$r_med" "$MED") f_per90=$(per "$r_p90" "$P90") f_cpu=$(per "$r_cpu" "$CPU")
say "fukivmm per reset (guest boot code included): median $f_per ms, p90 $f_per90 ms (100 resets $r_med / $r_p90 ms, hello $MED / $P90 ms)"
say "fukivmm host CPU per reset, retired VMs' teardown included: $f_cpu ms (median CPU 100 resets $r_cpu ms, hello $CPU ms)"

: >"$BTMP/rb"
: >"$BTMP/gap"
: >"$BTMP/boot"
: >"$BTMP/exits"
i=0
while [ $i -lt "$R" ]; do
	"$FUKIVMM" run "$BTMP/reset100.toml" 2>"$BTMP/ev" >/dev/null </dev/null
	sed -n 's/.*event=rebuilt .* ms=\([0-9.]*\) vm_ms=\([0-9.]*\).*/\1 \2/p' "$BTMP/ev" >>"$BTMP/rb"
	awk '/event=reset / { sub("t=", "", $2); if (p != "") printf "%.3f\n", ($2 - p) * 1000; p = $2 }' \
		"$BTMP/ev" >>"$BTMP/gap"
	# the guest's boot: from the VM ready to the next reset (the first
	# boot, in the VM of the launch, is left out)
	awk '/event=rebuilt / { sub("t=", "", $2); b = $2 }
	     /event=reset / { sub("t=", "", $2); if (b != "") printf "%.3f\n", ($2 - b) * 1000 }' \
		"$BTMP/ev" >>"$BTMP/boot"
	sed -n 's/.*event=reset .* exits=\([0-9]*\).*/\1/p' "$BTMP/ev" | sed 1d >>"$BTMP/exits"
	i=$((i + 1))
done
if [ -s "$BTMP/rb" ]; then
	set -- $(awk '{ print $1 }' "$BTMP/rb" | stats)
	rb="median $1 ms, p90 $2 ms over $3 resets"
	set -- $(awk '{ print $2 }' "$BTMP/rb" | stats)
	say "fukivmm rebuild (rebuilt event ms: stop -> new VM ready): $rb; KVM VM build (vm_ms) median $1 ms, p90 $2 ms"
	set -- $(stats <"$BTMP/gap")
	say "fukivmm per reset from the event log (reset -> next reset): median $1 ms, p90 $2 ms over $3 resets"
fi
if command -v qemu-system-x86_64 >/dev/null; then
	set -- qemu-system-x86_64 -accel kvm -M pc -m 64M -nodefaults -no-user-config -display none \
		-serial none -device isa-debug-exit,iobase=0xf4,iosize=4 -bios
	TM=-r tm "$N" 60 "$@" "$ROOT/build/guest/reset100.rom"
	if [ "$ST" = 65 ]; then
		q_med=$MED q_p90=$P90 q_cpu=$CPU
		TM=-r tm "$N" 60 "$@" "$ROOT/build/guest/hello.rom"
		q_per=$(per "$q_med" "$MED") q_per90=$(per "$q_p90" "$P90") q_cpu=$(per "$q_cpu" "$CPU")
		say "qemu -M pc per reset (in place): median $q_per ms, p90 $q_per90 ms (100 resets $q_med / $q_p90 ms, hello $MED / $P90 ms)"
		say "qemu host CPU per reset: $q_cpu ms"
		say "ratio fukivmm/qemu per reset: median $(ratio "$f_per" "$q_per"), p90 $(ratio "$f_per90" "$q_per90"); host CPU $(ratio "$f_cpu" "$q_cpu")"
	else
		say "qemu could not run reset100.rom (status $ST): no ratio"
	fi
	# QEMU's exits per boot: its trace of kvm_run_exit (the log backend),
	# one run, not timed (the trace slows each exit)
	"$@" "$ROOT/build/guest/reset100.rom" -trace enable=kvm_run_exit \
		-trace file="$BTMP/qtrace" >/dev/null 2>&1 </dev/null
	q_exits=$(awk '/kvm_run_exit/ { n++ } END { if (n) printf "%.1f", n / 101 }' "$BTMP/qtrace" 2>/dev/null)
fi
if [ -s "$BTMP/boot" ] && cc -O2 -o "$BTMP/kvmfloor" "$ROOT/tests/bench/kvmfloor.c" &&
	"$BTMP/kvmfloor" 10 64 >"$BTMP/floor"; then
	set -- $(stats <"$BTMP/boot")
	g_med=$1 g_p90=$2 g_n=$3
	set -- $(stats <"$BTMP/exits")
	e_med=$1
	x=$(awk '$1 == "io_exit" { print $2 }' "$BTMP/floor")
	say "floor: the guest's boot in its new VM (rebuilt -> next reset): median $g_med ms, p90 $g_p90 ms over $g_n boots; exits per boot median ${e_med%.*} (fukivmm), ${q_exits:-?} (qemu, traced), one exit round trip $x ms (kvmfloor io_exit): $(awk -v e="$e_med" -v x="$x" 'BEGIN { printf "%.3f", e * x }') ms of the boot are exits; the rest is the guest's own code (emulated here) and the new VM's first entry"
	[ -n "$q_per" ] &&
		say "floor: 0.6 x qemu per reset is $(awk -v q="$q_per" 'BEGIN { printf "%.3f", 0.6 * q }') ms; the guest's boot alone is $(ratio "$g_med" "$q_per") x qemu's whole reset"
fi
