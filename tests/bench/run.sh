#!/bin/sh
# tests/bench/run.sh: `make bench`.  Runs every tests/bench/bench_*.sh; each
# runs fukivmm and the peer it is compared with in the same run and prints
# the figures and ratios.  Benchmarks that need /dev/kvm say so and skip.
cd "$(dirname "$0")/../.." || exit 1
rc=0
for b in tests/bench/bench_*.sh; do
	echo "== $(basename "$b" .sh)"
	sh "$b" || rc=1
	echo
done
exit $rc
