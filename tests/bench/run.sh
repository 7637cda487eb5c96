#!/bin/sh
# tests/bench/run.sh: `make bench`.  Runs every tests/bench/bench_*.sh; each
# runs fukivmm and the peer it is compared with in the same run and prints
# the figures and ratios.  Benchmarks that need /dev/kvm say so and skip.
#
# Where: tests/kvmvm/probe.sh decides, as for `make test`.  The benchmark
# guests are tiny ROMs (port I/O and resets), so a /dev/kvm that fails the
# probe because it emulates guest code still runs them: its figures are the
# VMM's own costs and are labelled so.  Without /dev/kvm the benchmarks run
# inside tests/kvmvm, and every figure is labelled "nested" (QEMU TCG under
# the VMM: not a headline figure).
cd "$(dirname "$0")/../.." || exit 1
where=$(sh tests/kvmvm/probe.sh 2>build/bench-probe.log) || where=kvmvm
cat build/bench-probe.log
if [ "$where" = kvmvm ] && [ -z "$FUKI_BENCH_INNER" ]; then
	if [ -c /dev/kvm ] && [ "${FUKI_KVMVM:-auto}" != always ]; then
		echo "bench: this host's /dev/kvm emulates guest code: the figures below are the VMM's own costs"
	else
		echo "bench: running inside tests/kvmvm: every figure below is NESTED (QEMU TCG), not a headline figure"
		exec bash tests/kvmvm/run.sh --timeout 1500 --accel tcg,thread=single --add /usr/share/seabios \
			--add /usr/share/qemu -- env FUKI_BENCH_INNER=nested sh tests/bench/run.sh
	fi
fi
[ "$FUKI_BENCH_INNER" = nested ] && echo "bench: NESTED run (inside tests/kvmvm): figures are inflated"
rc=0
# bench_density last: right after its 3,840 launches (fukivmm's and QEMU's)
# the load average stood at 15-20 and the benchmarks after it ran slower
# (bench_startup's exec -> exit 8.6 ms against 6.0 ms run alone)
for b in $(ls tests/bench/bench_*.sh | grep -v bench_density) tests/bench/bench_density.sh; do
	echo "== $(basename "$b" .sh)${FUKI_BENCH_INNER:+ (nested)}"
	sh "$b" || rc=1
	echo
done
exit $rc
