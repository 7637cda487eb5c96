# tests/integration/lib.sh: shared helpers for the integration tests, which
# run the real build/fukivmm on test guests and check serial output and exit
# statuses.  Each test prints "PASS name", "FAIL name: why" or
# "SKIP name: why"; tests/run.sh counts those lines.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FUKIVMM=${FUKIVMM_BIN:-$ROOT/build/fukivmm}
CONFIGS=$ROOT/tests/integration/configs
GUESTS=$ROOT/build/guest
TMP=$(mktemp -d "${TMPDIR:-/tmp}/fukivmm-it.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
skip() { echo "SKIP $1: $2"; }

have_kvm() { [ -z "$FUKI_FORCE_NO_KVM" ] && [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; }

# need_kvm NAME...: true when the tests can run; otherwise prints the loud
# skip line for every named test case, so each counts as skipped.
need_kvm() {
	if have_kvm; then
		return 0
	fi
	for _nk in "$@"; do
		echo "SKIP: no /dev/kvm ($_nk)"
	done
	return 1
}

# run_vm CONFIG TIMEOUT [ARGS...]: runs fukivmm; sets STATUS, OUT_FILE, ERR_FILE.
run_vm() {
	_rv_cfg=$1
	_rv_timeout=$2
	shift 2
	OUT_FILE=$TMP/out.$$.$RANDOM
	ERR_FILE=$TMP/err.$$.$RANDOM
	timeout --signal=KILL "$_rv_timeout" "$FUKIVMM" run "$_rv_cfg" "$@" >"$OUT_FILE" 2>"$ERR_FILE" </dev/null
	STATUS=$?
}

# make_lines FILE N WORD: N lines "WORD initrd line NNNNNNNN." (known
# contents for initrd tests; (len(WORD) + 22) * N bytes).
make_lines() {
	_ml_i=0
	: >"$1"
	while [ $_ml_i -lt "$2" ]; do
		printf '%s initrd line %08d.\n' "$3" $_ml_i >>"$1"
		_ml_i=$((_ml_i + 1))
	done
}

# expect NAME STATUS PATTERN...: exit status and every grep -E pattern in stdout.
expect() {
	name=$1
	want=$2
	shift 2
	if [ "$STATUS" != "$want" ]; then
		fail "$name" "exit status $STATUS, expected $want"
		echo "--- stdout"; tail -20 "$OUT_FILE"; echo "--- stderr"; tail -20 "$ERR_FILE"
		return 1
	fi
	for pat in "$@"; do
		if ! grep -Eq -- "$pat" "$OUT_FILE"; then
			fail "$name" "serial output lacks /$pat/"
			echo "--- stdout"; tail -20 "$OUT_FILE"; echo "--- stderr"; tail -20 "$ERR_FILE"
			return 1
		fi
	done
	pass "$name"
}

# A guest image the tests need; prints the SKIP line if it was not built.
need_guest() {
	if [ -f "$GUESTS/$1" ]; then
		return 0
	fi
	fail "$2" "test guest build/guest/$1 is missing (make guests)"
	return 1
}

# PASS/FAIL constants of the test guests (tests/guest/README.md)
GUEST_PASS=65
GUEST_FAIL=67
