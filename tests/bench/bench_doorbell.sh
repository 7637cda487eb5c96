#!/bin/sh
# tests/bench/bench_doorbell.sh: what a guest's doorbell image write costs
# the writing vCPU.  Builds tests/bench/doorbell_bench.c against
# build/libfuki.a and runs it (no KVM needed): the time the port write holds
# the vCPU thread and the port-I/O bus lock with the check on the doorbell's
# worker (fukivmm now) against the same write checked inline (the peer: how
# every write was checked before), and when the guest sees the transfer
# end, for 2 and 16 MiB raw ROMs.  FUKI_BENCH_RUNS sets the runs (20).
. "$(dirname "$0")/lib.sh"
lib_bench doorbell_bench || exit 1
runs=${FUKI_BENCH_RUNS:-20}
say "doorbell image write, raw ROM, $runs runs each, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
for mib in 2 16; do
	"$BTMP/doorbell_bench" $mib "$runs" >"$BTMP/db.$mib" || { say "doorbell_bench $mib MiB failed"; exit 1; }
	set -- $(awk '$1 == "worker" { print $2 }' "$BTMP/db.$mib" | stats)
	wh=$1 wh90=$2
	set -- $(awk '$1 == "worker" { print $3 }' "$BTMP/db.$mib" | stats)
	we=$1 we90=$2
	set -- $(awk '$1 == "inline" { print $2 }' "$BTMP/db.$mib" | stats)
	ih=$1 ih90=$2
	say "$mib MiB: vCPU held $wh / p90 $wh90 ms (transfer ends after $we / $we90 ms); inline check (peer) held $ih / $ih90 ms; ratio $(ratio "$wh" "$ih") / $(ratio "$wh90" "$ih90")"
done
