#!/bin/sh
# Density: many one-byte-firmware VMs (build/guest/hello.rom, 64 MiB each)
# launched at once, fukivmm against QEMU -M microvm in the same run:
#   - 64 at once;
#   - 8 at once, 4 times one after the other (32 launches a run);
# N runs of each (BENCH_DENSITY_RUNS, default 20): the wall time from the
# first launch until every VMM process has exited, median and p90, the
# launches per second that makes (launches / median wall), the host CPU per
# launch with everything the VMMs left behind waited for (timeit -r), and
# the largest peak RSS of one VMM.
. "$(dirname "$0")/lib.sh"
N=${BENCH_DENSITY_RUNS:-20}
ROM=$ROOT/build/guest/hello.rom
if ! have_kvm; then
	echo "SKIP: density benchmark needs /dev/kvm"
	exit 0
fi
cat >"$BTMP/hello.toml" <<T
[vm]
memory = "64M"
[firmware]
path = "$ROM"
[serial]
output = "none"
[debug_exit]
port = 0xf4
T
rate() { awk -v n="$1" -v ms="$2" 'BEGIN { if (ms > 0) printf "%.1f", n / (ms / 1000); else print "n/a" }'; }
per() { awk -v c="$1" -v n="$2" 'BEGIN { printf "%.3f", c / n }'; }
have_qemu=
command -v qemu-system-x86_64 >/dev/null && have_qemu=1
say "density, $N runs of each shape, $(kvm_note); machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for shape in "64 1" "8 4"; do
	set -- $shape
	j=$1 k=$2 n=$(($1 * $2))
	what="$j at once$( [ "$k" -gt 1 ] && echo ", $k times")"
	TM="-r -j $j -k $k" tm "$N" 120 "$FUKIVMM" run "$BTMP/hello.toml"
	if [ "$ST" != 65 ]; then
		say "fukivmm $what: not every VM ran hello.rom (status $ST)"
		continue
	fi
	f_med=$MED f_p90=$P90 f_rate=$(rate "$n" "$MED")
	say "fukivmm $what: all exited after median $MED ms, p90 $P90 ms: $f_rate launches/s; host CPU per launch $(per "$CPU" "$n") ms; peak RSS $RSS KiB"
	[ -n "$have_qemu" ] || continue
	TM="-r -j $j -k $k" tm "$N" 120 qemu-system-x86_64 -accel kvm -M microvm -m 64M -bios "$ROM" \
		-nodefaults -no-user-config -display none -serial none \
		-device isa-debug-exit,iobase=0xf4,iosize=4
	if [ "$ST" != 65 ]; then
		say "qemu -M microvm $what: not every VM ran (status $ST): no ratio"
		continue
	fi
	q_rate=$(rate "$n" "$MED")
	say "qemu -M microvm $what: all exited after median $MED ms, p90 $P90 ms: $q_rate launches/s; host CPU per launch $(per "$CPU" "$n") ms; peak RSS $RSS KiB"
	say "ratio fukivmm/qemu $what: wall median $(ratio "$f_med" "$MED"), p90 $(ratio "$f_p90" "$P90"); launches/s $(ratio "$f_rate" "$q_rate")"
done
[ -n "$have_qemu" ] || say "qemu-system-x86_64 not installed: no ratio (make deps installs it)"
