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

# timeit N TIMEOUT CMD...: "MEDIAN_MS MIN_MS MAXRSS_KIB STATUS"
timeit() { _n=$1; _t=$2; shift 2; "$TIMEIT" "$_n" "$_t" -- "$@"; }
median_ms() { n=$1; shift; "$TIMEIT" "$n" 60 -- "$@" | awk '{print $1}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f\n", a / b; else print "n/a" }'; }
# median of the numbers on stdin (one per line)
median() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }
