#!/bin/sh
# tests/run.sh: run every fukivmm test and print one closing line
# "N passed, N failed, N skipped".
#   1. unit tests (Criterion), normal build      build/unit/test_*
#   2. unit tests, AddressSanitizer + UBSan      build/unit-san/test_*
#   3. integration tests on the real binary      tests/integration/test_*.sh
#   4. fuzz smoke runs                           build/fuzz/fuzz_*
# (first: the include arrows, tools/check-layers.sh)
# Exit status 0 only when nothing failed.  Set FUKI_TEST_FILTER to a
# substring to run only matching test files.
cd "$(dirname "$0")/.." || exit 1
ROOT=$(pwd)
OUT=$ROOT/build/test-output
rm -rf "$OUT"
mkdir -p "$OUT"
PASSED=0
FAILED=0
SKIPPED=0
FAILED_NAMES=""

note_fail() { FAILED=$((FAILED + $1)); FAILED_NAMES="$FAILED_NAMES $2"; }

want() {
	[ -z "$FUKI_TEST_FILTER" ] && return 0
	case "$1" in *"$FUKI_TEST_FILTER"*) return 0 ;; esac
	return 1
}

run_criterion() {  # $1 = binary, $2 = label
	bin=$1
	name=$2
	want "$name" || return 0
	safe=$(echo "$name" | tr '/' '_')
	tap=$OUT/$safe.tap
	log=$OUT/$safe.log
	timeout 600 "$bin" --jobs 2 --tap="$tap" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^ok ' "$tap" 2>/dev/null)
	s=$(grep -c '^ok .*# SKIP' "$tap" 2>/dev/null)
	f=$(grep -c '^not ok ' "$tap" 2>/dev/null)
	p=$((${p:-0} - ${s:-0}))
	PASSED=$((PASSED + p))
	SKIPPED=$((SKIPPED + ${s:-0}))
	# Criterion does not fail a test on a sanitizer report printed at exit
	san=$(grep -c '^SUMMARY: \(Address\|Leak\|UndefinedBehavior\)Sanitizer' "$log")
	if [ "${f:-0}" -gt 0 ]; then
		note_fail "$f" "$name"
		grep -A12 '^not ok ' "$tap" | sed 's/^/    /'
	elif [ "$san" -gt 0 ]; then
		note_fail "$san" "$name(sanitizer)"
		grep -B30 '^SUMMARY:' "$log" | head -60 | sed 's/^/    /'
	elif [ $rc -ne 0 ]; then
		note_fail 1 "$name(exit-$rc)"
		tail -20 "$log" | sed 's/^/    /'
	fi
	grep '# SKIP' "$tap" 2>/dev/null | sed "s|^|    $name: |"
	printf '%-40s %3d passed %3d failed %3d skipped\n' "$name" "$p" "${f:-0}" "${s:-0}"
}

echo "== layers (make check-layers: the include arrows of docs/architecture.md)"
if want layers; then
	if sh tools/check-layers.sh >"$OUT/check-layers.log" 2>&1; then
		PASSED=$((PASSED + 1))
		printf '%-40s passed\n' "check-layers"
	else
		note_fail 1 "check-layers"
		sed 's/^/    /' "$OUT/check-layers.log"
	fi
fi

echo "== unit tests (Criterion)"
nunit=0
for t in build/unit/test_*; do
	[ -x "$t" ] && run_criterion "$t" "unit/$(basename "$t")" && nunit=$((nunit + 1))
done
if [ $nunit = 0 ] && [ -z "$FUKI_TEST_FILTER" ]; then
	note_fail 1 "unit(no test binaries: make unit)"
fi

echo "== unit tests with AddressSanitizer + UndefinedBehaviorSanitizer"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
nunit=0
for t in build/unit-san/test_*; do
	[ -x "$t" ] && run_criterion "$t" "unit-san/$(basename "$t")" && nunit=$((nunit + 1))
done
if [ $nunit = 0 ] && [ -z "$FUKI_TEST_FILTER" ]; then
	note_fail 1 "unit-san(no test binaries: make unit-san)"
fi

# count_integration NAME LOG RC: add a test file's PASS/FAIL/SKIP lines
count_integration() {
	name=$1
	log=$2
	rc=$3
	p=$(grep -c '^PASS' "$log")
	f=$(grep -c '^FAIL' "$log")
	s=$(grep -c '^SKIP' "$log")
	PASSED=$((PASSED + p))
	SKIPPED=$((SKIPPED + s))
	if [ "$f" -gt 0 ]; then
		note_fail "$f" "$name"
	elif [ "$rc" -ne 0 ]; then
		note_fail 1 "$name(exit-$rc)"
	fi
	grep -E '^(FAIL|SKIP)' "$log" | sed 's/^/    /'
	[ "$f" -gt 0 ] && grep -B2 -A15 '^FAIL' "$log" | grep -v '^PASS' | sed 's/^/      | /' | head -60
	printf '%-40s %3d passed %3d failed %3d skipped\n' "$name" "$p" "$f" "$s"
}

# fuzz_smoke: every build/fuzz/fuzz_* for FUKI_FUZZ_RUNS runs on its corpus;
# prints a line each and writes "PASSED FAILED NAMES..." to OUT/fuzz.counts
# (it may run in a background lane, whose counters the caller cannot see)
fuzz_smoke() {
	fp=0
	ff=0
	fnames=""
	for t in build/fuzz/fuzz_*; do
		[ -x "$t" ] || continue
		base=$(basename "$t")
		corpus=tests/fuzz/corpus/${base#fuzz_}
		name=fuzz/$base
		want "$name" || continue
		scratch=$OUT/corpus-$base
		mkdir -p "$scratch"
		log=$OUT/$base.log
		if [ -d "$corpus" ]; then
			timeout 300 "$t" -runs="${FUKI_FUZZ_RUNS:-20000}" -max_len=65536 -rss_limit_mb=2048 \
				-artifact_prefix="$OUT/$base-" "$scratch" "$corpus" >"$log" 2>&1
		else
			timeout 300 "$t" -runs="${FUKI_FUZZ_RUNS:-20000}" -max_len=65536 -rss_limit_mb=2048 \
				-artifact_prefix="$OUT/$base-" "$scratch" >"$log" 2>&1
		fi
		rc=$?
		if [ $rc -eq 0 ]; then
			fp=$((fp + 1))
			printf '%-40s passed (%s)\n' "$name" "$(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$log")"
		else
			ff=$((ff + 1))
			fnames="$fnames $name"
			tail -30 "$log" | sed 's/^/    /'
			printf '%-40s FAILED (exit %d)\n' "$name" "$rc"
		fi
	done
	echo "$fp $ff$fnames" >"$OUT/fuzz.counts"
}

echo "== integration tests"
# where the KVM tests run: on this host's /dev/kvm when it runs the probe
# guests, else inside tests/kvmvm (tests/kvmvm/probe.sh; FUKI_KVMVM overrides)
KVM_WHERE=$(sh tests/kvmvm/probe.sh 2>"$OUT/kvm-probe.log") || KVM_WHERE=kvmvm
sed 's/^/   /' "$OUT/kvm-probe.log"
KVM_TESTS=""
OWN_VM_TESTS=""
HERE_TESTS=""
for t in tests/integration/test_*.sh; do
	[ -f "$t" ] || continue
	name=integration/$(basename "$t" .sh)
	want "$name" || continue
	# a "# kvmvm: OPTIONS" line: the test needs a VM of its own with those
	# tests/kvmvm/run.sh options (test_ovmf.sh: one vCPU and -icount)
	if grep -q '^# needs: kvm' "$t" && [ "$KVM_WHERE" = kvmvm ] && grep -q '^# kvmvm: ' "$t"; then
		OWN_VM_TESTS="$OWN_VM_TESTS $t"
		continue
	fi
	if grep -q '^# needs: kvm' "$t" && [ "$KVM_WHERE" = kvmvm ]; then
		KVM_TESTS="$KVM_TESTS $t"
		continue
	fi
	HERE_TESTS="$HERE_TESTS $t"
done

# run_own_vm_tests: every test in $OWN_VM_TESTS in a tests/kvmvm of its own
# with the options of its "# kvmvm:" line; OUT/NAME.log and OUT/NAME.vmrc.
# Two lanes call it (the other core's, and this one's once the shared VM is
# done): each test goes to the first that claims it (mkdir is atomic).
run_own_vm_tests() {
	for t in $OWN_VM_TESTS; do
		base=$(basename "$t" .sh)
		mkdir "$OUT/claim-$base" 2>/dev/null || continue
		opts=$(sed -n 's/^# kvmvm: //p' "$t" | head -n 1)
		env="FUKI_TEST_LONG=${FUKI_TEST_LONG:-0}"
		case "$t" in
		# test_ovmf.sh's QEMU reference is taken here, on the host (TCG,
		# well under a minute), and travels into the VM with build/
		*test_ovmf.sh)
			mkdir -p build/ovmf
			if [ -f /usr/share/ovmf/OVMF.fd ] && command -v qemu-system-x86_64 >/dev/null 2>&1 &&
				sh tests/integration/ovmf-qemu-ref.sh /usr/share/ovmf/OVMF.fd tcg \
					>build/ovmf/qemu-ref.log 2>"$OUT/ovmf-qemu-ref.err"; then
				env="$env FUKI_OVMF_QEMU_REF=build/ovmf/qemu-ref.log"
			fi
			# and the ESP of its persistent-variable runs (mtools)
			if sh tests/integration/ovmf-vars-esp.sh build/ovmf/vars-esp.img \
				6f6e7d2a-3c1b-4d9e-8a47-5b2c1f0e9d83 2>"$OUT/ovmf-vars-esp.err"; then
				env="$env FUKI_OVMF_VARS_ESP=build/ovmf/vars-esp.img"
			fi ;;
		# test_uefi_swap.sh's ESP and UKI are built here too (python3, mtools)
		*test_uefi_swap.sh)
			rm -rf build/uefi-swap
			if FUKI_TEST_LONG=${FUKI_TEST_LONG:-0} sh tests/integration/uefi-swap-prep.sh build/uefi-swap \
				2>"$OUT/uefi-swap-prep.err"; then
				env="$env FUKI_UEFI_SWAP_DIR=build/uefi-swap"
			fi ;;
		esac
		echo "   (running $t inside its own tests/kvmvm: $opts)"
		# shellcheck disable=SC2086 # $opts is a list of options
		timeout 900 bash tests/kvmvm/run.sh --timeout 800 $opts -- sh -c "$env sh $t" >"$OUT/$base.log" 2>&1
		echo $? >"$OUT/$base.vmrc"
	done
}
# the other core's lane: the tests with a VM of their own, then the fuzz
# smoke runs (here, after the integration tests, when there is no lane)
OWN_VM_PID=""
if [ -n "$OWN_VM_TESTS" ]; then
	{ run_own_vm_tests; fuzz_smoke >"$OUT/fuzz.out" 2>&1; } >"$OUT/own-vm.out" 2>&1 &
	OWN_VM_PID=$!
fi

# the tests that run on this host, while the other lane has started
for t in $HERE_TESTS; do
	name=integration/$(basename "$t" .sh)
	log=$OUT/$(basename "$t" .sh).log
	sh "$t" >"$log" 2>&1
	count_integration "$name" "$log" $?
done

# No usable /dev/kvm here: run the tests that need it inside a QEMU (TCG) VM
# whose kernel has a real /dev/kvm on nested SVM (tests/kvmvm/README.md).  If
# that VM cannot be started, they run here and skip loudly.
if [ -n "$KVM_TESTS" ]; then
	echo "   (running$KVM_TESTS inside tests/kvmvm, a QEMU VM with nested KVM)"
	vmlog=$OUT/kvmvm.log
	# ...and the swap and socket tests again on the AddressSanitizer +
	# UBSan build of fukivmm, with a full teardown so LeakSanitizer checks
	SAN_TESTS=""
	for t in $KVM_TESTS; do
		case "$t" in *test_doorbell.sh|*test_api.sh|*test_hostile.sh) SAN_TESTS="$SAN_TESTS $t" ;; esac
	done
	if [ ! -x build/fukivmm-san ] && [ -n "$SAN_TESTS" ]; then
		for t in $SAN_TESTS; do
			echo "    SKIP integration/$(basename "$t" .sh)(kvmvm,asan): build/fukivmm-san not built (make build/fukivmm-san)"
			SKIPPED=$((SKIPPED + 1))
		done
		SAN_TESTS=""
	fi
	script='for t in '"$KVM_TESTS"'; do echo "=== $t"; sh "$t"; echo "=== rc $?"; done
		for t in '"$SAN_TESTS"'; do echo "=== san:$t"
			FUKIVMM_BIN=build/fukivmm-san FUKIVMM_CLEAN_EXIT=1 sh "$t"; echo "=== rc $?"; done'
	# the Linux guest of test_linux.sh (Debian's kernel, our initramfs) is
	# built here, on the host, and travels into the VM with build/
	case "$KVM_TESTS" in
	*test_linux.sh*)
		sh tests/linuxguest/prepare.sh >"$OUT/linuxguest.log" 2>&1 ||
			echo "   (tests/linuxguest/prepare.sh failed, test_linux will skip: $(tail -1 "$OUT/linuxguest.log"))" ;;
	esac
	# host firmware the tests boot (Debian's seabios and qemu packages), when present
	vmadd=""
	for d in /usr/share/seabios /usr/share/qemu; do
		[ -d "$d" ] && vmadd="$vmadd --add $d"
	done
	# shellcheck disable=SC2086 # $vmadd is a list of options
	timeout 1500 bash tests/kvmvm/run.sh --timeout 1200 --accel tcg,thread=single $vmadd -- sh -c "$script" >"$vmlog" 2>&1
	vmrc=$?
	if [ $vmrc -eq 0 ] && grep -q '^=== rc' "$vmlog"; then
		for t in $KVM_TESTS; do
			log=$OUT/$(basename "$t" .sh).log
			sed -n "\|^=== $t\$|,\|^=== rc|p" "$vmlog" | sed '1d;$d' >"$log"
			rc=$(sed -n "\|^=== $t\$|,\|^=== rc|p" "$vmlog" | sed -n 's/^=== rc //p')
			count_integration "integration/$(basename "$t" .sh)(kvmvm)" "$log" "${rc:-1}"
		done
		for t in $SAN_TESTS; do
			log=$OUT/san-$(basename "$t" .sh).log
			sed -n "\|^=== san:$t\$|,\|^=== rc|p" "$vmlog" | sed '1d;$d' >"$log"
			rc=$(sed -n "\|^=== san:$t\$|,\|^=== rc|p" "$vmlog" | sed -n 's/^=== rc //p')
			count_integration "integration/$(basename "$t" .sh)(kvmvm,asan)" "$log" "${rc:-1}"
		done
	else
		echo "   tests/kvmvm could not run (status $vmrc); its output ends:"
		tail -15 "$vmlog" | sed 's/^/      | /'
		for t in $KVM_TESTS; do
			log=$OUT/$(basename "$t" .sh).log
			FUKI_FORCE_NO_KVM=1 sh "$t" >"$log" 2>&1
			count_integration "integration/$(basename "$t" .sh)" "$log" $?
		done
	fi
fi
if [ -n "$OWN_VM_PID" ]; then
	# this core is free: it takes the own-VM tests the other lane has not
	# started yet
	run_own_vm_tests >"$OUT/own-vm-here.out" 2>&1
	wait "$OWN_VM_PID"
	cat "$OUT/own-vm.out" "$OUT/own-vm-here.out"
fi
# ...after the tests that each need a VM of their own (their "# kvmvm:"
# line), which run meanwhile on the other core and, once the shared VM is
# done, on this one: one at a time per lane, each with its host-side inputs
# built first; counted once all are done
for t in $OWN_VM_TESTS; do
	base=$(basename "$t" .sh)
	log=$OUT/$base.log
	vmrc=$(cat "$OUT/$base.vmrc" 2>/dev/null || echo 1)
	if [ "$vmrc" -ne 0 ] && ! grep -qE '^(PASS|FAIL)' "$log"; then
		echo "   tests/kvmvm could not run $t (status $vmrc); its output ends:"
		tail -15 "$log" | sed 's/^/      | /'
		FUKI_FORCE_NO_KVM=1 sh "$t" >"$log" 2>&1
		count_integration "integration/$base" "$log" $?
		continue
	fi
	count_integration "integration/$base(kvmvm)" "$log" "$vmrc"
done

echo "== fuzz smoke runs (libFuzzer)"
[ -n "$OWN_VM_PID" ] || fuzz_smoke >"$OUT/fuzz.out" 2>&1
cat "$OUT/fuzz.out"
if read -r fz_p fz_f fz_names <"$OUT/fuzz.counts" 2>/dev/null; then
	PASSED=$((PASSED + fz_p))
	[ "$fz_f" -gt 0 ] && note_fail "$fz_f" "$fz_names"
else
	note_fail 1 "fuzz(no result)"
fi


echo
[ -n "$FAILED_NAMES" ] && echo "failed:$FAILED_NAMES"
echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
[ "$FAILED" -eq 0 ]
