#!/bin/sh
# tests/bench/bench_measure.sh: wall time of `fukivmm measure` for SEV-SNP
# (Debian OVMF.fd, 4 vCPUs, EPYC-v4), optionally against a sev-snp-measure
# checkout named by SEV_SNP_MEASURE_DIR, and raw SHA-384 throughput.
# Usage: tests/bench/bench_measure.sh [RUNS]   (run from the repo root)
set -eu
RUNS=${1:-50}
FW=/usr/share/ovmf/OVMF.fd
BIN=build/fukivmm
[ -x "$BIN" ] || { echo "bench_measure: $BIN missing (make all)"; exit 2; }
[ -r "$FW" ] || { echo "bench_measure: $FW missing (make deps installs ovmf); skipped"; exit 0; }
CMD="$BIN measure --platform snp --firmware $FW --vcpus 4 --vcpu-type EPYC-v4"

# median wall time in ms of "$@" over $RUNS runs
median_ms() {
	if command -v hyperfine >/dev/null 2>&1; then
		hyperfine -N -w 3 -r "$RUNS" --export-json /tmp/bench_measure.$$.json "$*" >/dev/null 2>&1
		python3 -c "import json,sys;print('%.2f'%(json.load(open(sys.argv[1]))['results'][0]['median']*1000))" \
			/tmp/bench_measure.$$.json
		rm -f /tmp/bench_measure.$$.json
		return
	fi
	i=0
	: > /tmp/bench_measure.$$.txt
	while [ $i -lt "$RUNS" ]; do
		t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
		echo $(( (t1 - t0) / 1000 )) >> /tmp/bench_measure.$$.txt
		i=$((i + 1))
	done
	sort -n /tmp/bench_measure.$$.txt | awk '{a[NR]=$1} END {printf "%.2f\n", a[int((NR+1)/2)]/1000}'
	rm -f /tmp/bench_measure.$$.txt
}

echo "digest: $($CMD)"
FUKI=$(median_ms $CMD)
echo "fukivmm measure (snp, OVMF.fd, 4 vCPUs): median ${FUKI} ms over $RUNS runs"
BASE=$(median_ms $BIN --help)
echo "process start baseline (fukivmm --help): median ${BASE} ms"

if [ -n "${SEV_SNP_MEASURE_DIR:-}" ] && [ -f "$SEV_SNP_MEASURE_DIR/sev-snp-measure.py" ]; then
	REF="python3 $SEV_SNP_MEASURE_DIR/sev-snp-measure.py --mode snp --vcpus 4 --vcpu-type EPYC-v4 --ovmf $FW"
	echo "sev-snp-measure digest: $($REF)"
	SSM=$(median_ms $REF)
	echo "sev-snp-measure: median ${SSM} ms"
	python3 -c "print('ratio sev-snp-measure / fukivmm: %.1fx' % ($SSM / $FUKI))"
fi

# Compute part: SHA-384 over the image once (2 MiB) plus one 112-byte
# PAGE_INFO per measured page, versus raw throughput.
if openssl speed -evp sha384 -bytes 4096 -seconds 1 >/tmp/bench_measure.$$.speed 2>/dev/null; then
	KBS=$(awk '/^sha384/ {print $2}' /tmp/bench_measure.$$.speed | tr -d k)
	rm -f /tmp/bench_measure.$$.speed
	python3 -c "
kbs=float('$KBS'); mbs=kbs*1000/1e6
size=2*1024*1024; pages=size//4096+64+4
print('openssl SHA-384 (4 KiB blocks): %.0f MB/s' % mbs)
print('ideal compute for OVMF.fd: %.2f ms (image) + %d PAGE_INFO folds' % (size/(mbs*1e6)*1e3, pages))
print('measure minus process start: %.2f ms' % ($FUKI - $BASE))"
fi
