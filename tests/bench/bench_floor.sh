#!/bin/sh
# The physical floor: what the KVM calls of one start-up cost on this host
# with nothing of fukivmm around them (tests/bench/kvmfloor.c): create the
# VM, two memslots (64 MiB RAM, 64 KiB ROM), irqchip + PIT, one vCPU, the
# first KVM_RUN to an I/O exit, and closing it all; median and p90 over R
# rounds (BENCH_FLOOR_ROUNDS, default 50), and one exit round trip of a
# running vCPU (io_exit, not in the total).  Set next to the start-up and
# rebuild figures: no VMM can go below their sum.
. "$(dirname "$0")/lib.sh"
R=${BENCH_FLOOR_ROUNDS:-50}
if ! have_kvm; then
	echo "SKIP: KVM floor needs /dev/kvm"
	exit 0
fi
cc -O2 -Wall -o "$BTMP/kvmfloor" "$ROOT/tests/bench/kvmfloor.c" || exit 1
say "KVM floor, $R rounds, $(kvm_note); machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BTMP/kvmfloor" "$R" 64 >"$BTMP/floor" || exit 1
while read -r step med p90; do
	say "KVM $step: median $med ms, p90 $p90 ms"
done <"$BTMP/floor"
