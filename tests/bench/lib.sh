# tests/bench/lib.sh: helpers shared by the benchmarks (POSIX sh + awk; no
# python, so they also run inside tests/kvmvm).
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FUKIVMM=$ROOT/build/fukivmm
TIMEIT=$ROOT/build/timeit
BTMP=$(mktemp -d "${TMPDIR:-/tmp}/fukivmm-bench.XXXXXX")
trap 'rm -rf "$BTMP"' EXIT INT TERM

have_kvm() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

if [ ! -x "$TIMEIT" ]; then
	cc -O2 -o "$TIMEIT" "$ROOT/tests/bench/timeit.c" || exit 1
fi

# timeit N TIMEOUT CMD...: "MEDIAN_MS MIN_MS MAXRSS_KIB STATUS P90_MS MAX_MS
# CPU_MS CPU_P90_MS FIRST_MS FIRST_P90_MS" (tests/bench/timeit.c)
timeit() { _n=$1; _t=$2; shift 2; "$TIMEIT" "$_n" "$_t" -- "$@"; }
# tm N TIMEOUT CMD...: timeit with the flags in $TM (-s, -r, -j K, -k R);
# sets MED MIN RSS ST P90 MAX CPU CPU90 FB FB90
tm() {
	_n=$1; _t=$2; shift 2
	# shellcheck disable=SC2086
	set -- $("$TIMEIT" $TM "$_n" "$_t" -- "$@")
	MED=$1 MIN=$2 RSS=$3 ST=$4 P90=$5 MAX=$6 CPU=$7 CPU90=$8 FB=$9
	shift 9
	FB90=$1
}
# lib_bench NAME: build tests/bench/NAME.c against build/libfuki.a (made
# first if missing) as $BTMP/NAME
lib_bench() {
	if [ ! -f "$ROOT/build/libfuki.a" ]; then
		make -s -C "$ROOT" -j2 build/libfuki.a || return 1
	fi
	cc -O2 -g -std=gnu11 -I"$ROOT" -D_GNU_SOURCE -o "$BTMP/$1" "$ROOT/tests/bench/$1.c" \
		"$ROOT/build/libfuki.a" -lpthread -lcrypto -lcbor -luring
}
# say LINE: one figure line; a run inside tests/kvmvm labels every one
say() { echo "${FUKI_BENCH_INNER:+[$FUKI_BENCH_INNER] }$*"; }
# stats: "MEDIAN P90 COUNT" of the numbers on stdin (one per line)
stats() {
	sort -n | awk '{ a[NR] = $1 } END {
		if (!NR) { print "- - 0"; exit }
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		k = int((9 * NR + 9) / 10); if (k < 1) k = 1
		printf "%.3f %.3f %d\n", m, a[k], NR }'
}
# kvm_note: what the host's /dev/kvm makes of the figures
kvm_note() {
	if [ -n "$FUKI_BENCH_INNER" ]; then
		echo "nested: inside tests/kvmvm (QEMU TCG), not a headline figure"
	elif grep -qE '\b(svm|vmx)\b' /proc/cpuinfo; then
		echo "hardware KVM"
	else
		echo "/dev/kvm emulating guest code: the VMM's own costs"
	fi
}
median_ms() { n=$1; shift; "$TIMEIT" "$n" 60 -- "$@" | awk '{print $1}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f\n", a / b; else print "n/a" }'; }
# median of the numbers on stdin (one per line)
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }
