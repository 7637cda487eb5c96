#!/bin/sh
# needs: kvm
# A hostile guest cannot hurt the host (issue 12): what a tenant's guest
# does must not take the host's memory, kill the VMM, flood the host's logs
# or make the VMM ignore the host.  One section per case below, each under
# a "---- case: NAME ----" header with what it checks; every check prints
# PASS, FAIL or SKIP.  Run on the sanitized binary too
# (FUKIVMM_BIN=build/fukivmm-san FUKIVMM_CLEAN_EXIT=1).
. "$(dirname "$0")/lib.sh"

need_kvm hostile-igvm-runs-to-end hostile-igvm-statuses hostile-igvm-rejected-events \
	hostile-igvm-rebuilt hostile-igvm-peak-rss || exit 0

ev() { grep "^fukivmm-event .* event=$1" "$ERR_FILE"; }
field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }

# run_vm_hwm CONFIG TIMEOUT: like run_vm (STATUS, OUT_FILE, ERR_FILE), and
# HWM_KIB, the VMM's peak resident set (VmHWM of /proc/PID/status, read
# every 0.1 s while it runs: the peak is kept by the kernel, so the last
# read before the exit has it).
run_vm_hwm() {
	OUT_FILE=$TMP/out.$$.hwm.$2
	ERR_FILE=$TMP/err.$$.hwm.$2
	"$FUKIVMM" run "$1" >"$OUT_FILE" 2>"$ERR_FILE" </dev/null &
	_rh_pid=$!
	_rh_ticks=0
	HWM_KIB=0
	while kill -0 "$_rh_pid" 2>/dev/null; do
		_rh_h=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$_rh_pid/status" 2>/dev/null)
		if [ -n "$_rh_h" ] && [ "$_rh_h" -gt "$HWM_KIB" ]; then
			HWM_KIB=$_rh_h
		fi
		_rh_ticks=$((_rh_ticks + 1))
		if [ $_rh_ticks -gt $(($2 * 10)) ]; then
			kill -KILL "$_rh_pid" 2>/dev/null
		fi
		sleep 0.1
	done
	wait "$_rh_pid"
	STATUS=$?
}

# ---- case: igvm (memory amplification and images that do not fit) ----
# A 64 MiB guest (igvm-hostile.rom) hands over IGVM images that describe
# gigabytes: 4 GiB of unmeasured 2 MiB zero pages above RAM (BAD_RANGE: no
# memory outside RAM above 4 GiB), 2 GiB of zero pages below 4 GiB
# (TOO_LARGE: past the 16 MiB firmware window), 2 GiB of 2 MiB pages that
# all reuse the same data and 64 MiB of zeroed parameter areas (TOO_LARGE:
# past the file size + 4 MiB the plan may hold); and images whose plan
# builds but does not fit the memory map: a page run across two memory
# regions (BAD_RANGE), more regions than the map holds (TOO_LARGE), a run
# over the end of RAM (BAD_RANGE).  Each is refused at write time with its
# status and a swap-rejected event that says why; then an accepted image
# (tenant-wait.rom plus 58 MiB of zero pages over RAM) is built at the
# reset and its tenant PASSes two seconds later.  The VMM's peak RSS stays within the budget of
# docs/doorbell.md: guest RAM, three image copies, one plan and the
# firmware window over what it held at the first boot.
if need_guest igvm-hostile.rom hostile-igvm-runs-to-end; then
	run_vm_hwm "$CONFIGS/hostile-igvm.toml" 300
	expect hostile-igvm-runs-to-end $GUEST_PASS "igvm: all cases sent" \
		"igvm: resetting into the IGVM image" "tenant: hello from tenant firmware"
	bad=""
	for c in huge-above:4 huge-below:3 reuse:3 params:3 across:4 toomany:3 overlap:4; do
		name=${c%:*}
		want=${c#*:}
		got=$(sed -n "s/^case $name status \([0-9]*\).*/\1/p" "$OUT_FILE" | head -1)
		[ "$got" = "$want" ] || bad="$bad $name=$got(want $want)"
	done
	if [ -z "$bad" ]; then
		pass hostile-igvm-statuses
	else
		fail hostile-igvm-statuses "$bad"
	fi
	bad=""
	for why in "above 4 GiB" "past 16 MiB" "file size + 4 MiB" "parameter area" \
		   "spans two memory regions" "memory map holds 16 regions" "overlaps ram"; do
		ev swap-rejected | grep -q "reason=[^ ]*.*$why" || bad="$bad '$why'"
	done
	n=$(ev swap-rejected | wc -l)
	if [ -z "$bad" ] && [ "$n" -eq 7 ]; then
		pass hostile-igvm-rejected-events
	else
		fail hostile-igvm-rejected-events "$n swap-rejected events; reasons missing:$bad"
	fi
	if ev rebuilt | grep -q "firmware=guest format=igvm size=67024" && ! ev swap-failed | grep -q .; then
		pass hostile-igvm-rebuilt
	else
		fail hostile-igvm-rebuilt "$(ev rebuilt) $(ev swap-failed)"
	fi
	boot=$(ev booted | head -1 | field rss_kib)
	# the RSS the events saw after the rebuild is a floor for the peak
	for r in $(ev rebuilt | field rss_kib) $(ev shutdown | field rss_kib); do
		[ "$r" -gt "$HWM_KIB" ] && HWM_KIB=$r
	done
	# KiB: RAM 65536, three copies of the largest image (2080 each), its
	# plan (2080 + 4096), the firmware window (16384)
	limit=$((${boot:-0} + 65536 + 3 * 2080 + 2080 + 4096 + 16384))
	if [ -n "$boot" ] && [ "$HWM_KIB" -gt 0 ] && [ "$HWM_KIB" -le "$limit" ]; then
		pass "hostile-igvm-peak-rss (peak $HWM_KIB KiB, $boot KiB at the first boot, budget $limit KiB)"
	else
		fail hostile-igvm-peak-rss "peak $HWM_KIB KiB, first boot ${boot:-?} KiB, budget $limit KiB"
	fi
fi
