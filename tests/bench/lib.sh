# tests/bench/lib.sh: helpers shared by the benchmarks.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FUKIVMM=$ROOT/build/fukivmm
BTMP=$(mktemp -d "${TMPDIR:-/tmp}/fukivmm-bench.XXXXXX")
trap 'rm -rf "$BTMP"' EXIT INT TERM

have_kvm() { [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

# median_ms N CMD...: run CMD N times, print the median wall time in ms.
median_ms() {
	n=$1
	shift
	python3 - "$n" "$@" <<'PY'
import subprocess, sys, time, statistics
n = int(sys.argv[1]); cmd = sys.argv[2:]
ts = []
for _ in range(n):
    t0 = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    ts.append((time.perf_counter() - t0) * 1000)
print("%.3f" % statistics.median(ts))
PY
}

# peak_rss_kib CMD...: peak resident set of CMD (KiB) and its exit status.
peak_rss_kib() {
	python3 - "$@" <<'PY'
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, p.returncode)
PY
}

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print('%.3f' % (a/b) if b else 'n/a')" "$1" "$2"; }
