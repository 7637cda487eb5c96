#!/bin/sh
# tests/bench/bench_measure.sh: wall time of `fukivmm measure` for SEV-SNP
# (Debian's OVMF.fd, 4 vCPUs, EPYC-v4) and TDX, N runs each (BENCH_RUNS,
# default 30), median and p90, against sev-snp-measure in the same run when
# SEV_SNP_MEASURE_DIR names a checkout of it (its sev-snp-measure.py), and
# the floors: the process start (`fukivmm version`) and OpenSSL's SHA-384
# throughput.  No /dev/kvm needed.
# Target (issue "speed"): median <= 4 ms and <= 0.05 x sev-snp-measure.
. "$(dirname "$0")/lib.sh"
N=${BENCH_RUNS:-30}
FW=/usr/share/ovmf/OVMF.fd
[ -r "$FW" ] || { echo "SKIP: $FW missing (make deps installs ovmf): measure benchmark not run"; exit 0; }
set -- "$FUKIVMM" measure --platform snp --firmware "$FW" --vcpus 4 --vcpu-type EPYC-v4
say "measure, $N runs each; machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
say "fukivmm digest: $("$@")"
TM= tm "$N" 20 "$@"
[ "$ST" = 0 ] || { echo "fukivmm measure failed (status $ST)"; exit 1; }
f_med=$MED f_p90=$P90
say "fukivmm measure (snp, OVMF.fd, 4 vCPUs): median $MED ms, p90 $P90 ms, min $MIN ms; CPU median $CPU ms; peak RSS $RSS KiB"
TM= tm "$N" 20 "$FUKIVMM" measure --platform tdx --firmware "$FW"
say "fukivmm measure (tdx, OVMF.fd): median $MED ms, p90 $P90 ms, min $MIN ms"
TM= tm "$N" 20 "$FUKIVMM" version
say "process floor (fukivmm version): median $MED ms, p90 $P90 ms, min $MIN ms"

if [ -n "${SEV_SNP_MEASURE_DIR:-}" ] && [ -f "$SEV_SNP_MEASURE_DIR/sev-snp-measure.py" ]; then
	set -- python3 "$SEV_SNP_MEASURE_DIR/sev-snp-measure.py" --mode snp --vcpus 4 --vcpu-type EPYC-v4 --ovmf "$FW"
	d=$("$@")
	say "sev-snp-measure digest: $d ($( [ "$d" = "$("$FUKIVMM" measure --platform snp --firmware "$FW" --vcpus 4 --vcpu-type EPYC-v4)" ] && echo same || echo DIFFERENT))"
	TM= tm "$N" 60 "$@"
	say "sev-snp-measure: median $MED ms, p90 $P90 ms, min $MIN ms"
	say "ratio fukivmm/sev-snp-measure: median $(ratio "$f_med" "$MED"), p90 $(ratio "$f_p90" "$P90")"
else
	say "sev-snp-measure: SEV_SNP_MEASURE_DIR does not name a checkout: no ratio"
fi

# The hashing floor: SHA-384 over the image's distinct runs of pages plus
# one 112-byte PAGE_INFO per page, at OpenSSL's speed here.
if command -v openssl >/dev/null &&
	openssl speed -evp sha384 -bytes 4096 -seconds 1 >"$BTMP/speed" 2>/dev/null; then
	kbs=$(awk '/^sha384/ { v = $2; sub("k", "", v); print v }' "$BTMP/speed")
	say "$(awk -v k="$kbs" 'BEGIN { mbs = k * 1000 / 1e6
		printf "openssl SHA-384 (4 KiB blocks): %.0f MB/s: hashing all 2 MiB of OVMF.fd takes %.2f ms", mbs, 2097152 / (mbs * 1e6) * 1e3 }')"
fi
