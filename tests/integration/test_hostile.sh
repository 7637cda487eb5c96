#!/bin/sh
# needs: kvm
# A hostile guest cannot hurt the host (issue 12): what a tenant's guest
# does must not take the host's memory, kill the VMM, flood the host's logs
# or make the VMM ignore the host.  One section per case below, each under
# a "---- case: NAME ----" header with what it checks; every check prints
# PASS, FAIL or SKIP.  Run on the sanitized binary too
# (FUKIVMM_BIN=build/fukivmm-san FUKIVMM_CLEAN_EXIT=1).
. "$(dirname "$0")/lib.sh"

# ==== Images: an IGVM describing gigabytes, images that do not fit the
# memory map (the doorbell's budget, docs/doorbell.md) ====
if need_kvm hostile-igvm-runs-to-end hostile-igvm-statuses hostile-igvm-rejected-events \
	hostile-igvm-rebuilt hostile-igvm-peak-rss; then

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

fi   # images

# ==== Floods and stops: bounded log volume, sinks that never block a vCPU,
# SIGTERM / SIGINT / the control socket's shutdown within 1 s ====
# Guests: tests/guest/flood.c.  Every case starts fukivmm in the background,
# lets the guest flood, then stops it and times the stop (from the signal to
# the process's exit: at most 1000 ms).  Log volume: the event log and
# warnings on stderr over the whole run, at most 8 KiB + 1 KiB per second of
# run time (without the rate limits a doorbell flood wrote 9 MB in 5 s).
# The `shutdown` event's stop_ms (the VMM's own count from the stop request
# it took to the event: the vCPUs are stopped, the output drained) must be
# at most 1000 ms too.  The process's exit, timed from outside, includes
# process start-up for the control-socket client and, on the sanitized
# binary with FUKIVMM_CLEAN_EXIT, the full teardown and LeakSanitizer's
# scan: it is held to 1000 ms on the plain binary with a signal, 3 s with
# the client, 10 s on the sanitized binary.  Both times are printed.
if need_kvm hostile-doorbell-flood hostile-virtio-warning-flood hostile-uart-pipe \
	hostile-uart-file-cap hostile-spin-cli hostile-spin-cli-sigint hostile-uart-pipe-api-shutdown \
	hostile-reset-loop; then

FL_STOP_MAX_MS=1000
FL_EXIT_MAX_MS=1000
case "$FUKIVMM" in *-san) FL_EXIT_MAX_MS=10000 ;; esac

fl_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# fl_cfg NAME ROM [SERIAL_OUTPUT [MAX_SIZE [DISK]]]: writes $TMP/NAME.toml
fl_cfg() {
	{
		printf '[vm]\nname = "%s"\nmemory = "64M"\nvcpus = 1\n\n' "$1"
		printf '[firmware]\npath = "%s"\n\n' "$GUESTS/$2"
		printf '[serial]\noutput = "%s"\n' "${3:-stdout}"
		[ -n "$4" ] && printf 'max_size = %s\n' "$4"
		[ -n "$5" ] && printf '\n[[disk]]\npath = "%s"\n' "$5"
	} >"$TMP/$1.toml"
}

# fl_start NAME [pipe] [ARGS...]: fukivmm in the background, stdout to
# $TMP/NAME.out or (pipe) into a FIFO whose reader never reads; FL_PID
fl_start() {
	_fs_name=$1
	shift
	FL_ERR=$TMP/$_fs_name.err
	FL_OUT=$TMP/$_fs_name.out
	FL_T0=$(fl_now_ms)
	if [ "$1" = pipe ]; then
		shift
		rm -f "$TMP/$_fs_name.fifo"
		mkfifo "$TMP/$_fs_name.fifo"
		sleep 3600 <"$TMP/$_fs_name.fifo" &
		FL_READER=$!
		"$FUKIVMM" run "$TMP/$_fs_name.toml" "$@" >"$TMP/$_fs_name.fifo" 2>"$FL_ERR" </dev/null &
	else
		FL_READER=
		"$FUKIVMM" run "$TMP/$_fs_name.toml" "$@" >"$FL_OUT" 2>"$FL_ERR" </dev/null &
	fi
	FL_PID=$!
}

# fl_wait_err PATTERN SECONDS: the pattern in stderr (the first-output event
# says the guest runs)
fl_wait_err() {
	for _i in $(seq $(($2 * 10))); do
		grep -q "$1" "$FL_ERR" && return 0
		kill -0 "$FL_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# fl_wait_stalled SECONDS: until the VMM has written at least 64 KiB in all
# and its write count stands still for 1 s: the pipe is full (the guest's
# bytes now wait in the ring, which wakes the loop no more).  Then as long
# again as that took, plus 2 s: the 64 KiB ring is full too, later bytes
# are dropped.  False when SECONDS pass first.
fl_wait_stalled() {
	_ws_prev=-1
	_ws_t0=$(fl_now_ms)
	for _i in $(seq "$1"); do
		_ws_now=$(sed -n 's/^wchar: //p' "/proc/$FL_PID/io" 2>/dev/null)
		[ -n "$_ws_now" ] || return 1
		if [ "$_ws_now" -ge 65536 ] && [ "$_ws_now" = "$_ws_prev" ]; then
			sleep $((($(fl_now_ms) - _ws_t0) / 1000 + 2))
			return 0
		fi
		_ws_prev=$_ws_now
		sleep 1
	done
	return 1
}

# fl_wait_size FILE BYTES SECONDS
fl_wait_size() {
	for _i in $(seq $(($3 * 10))); do
		[ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# fl_stop SIGNAL|api SOCKET: stop the VMM; sets FL_STATUS, FL_STOP_MS
# (FL_STATUS 124: still running 10 s later, killed)
fl_stop() {
	_st_t0=$(fl_now_ms)
	FL_EXIT_MAX=$FL_EXIT_MAX_MS
	if [ "$1" = api ]; then
		[ "$FL_EXIT_MAX" -ge 3000 ] || FL_EXIT_MAX=3000
		"$FUKIVMM" ctl "$2" shutdown >/dev/null 2>&1
	else
		kill -"$1" "$FL_PID"
	fi
	FL_STATUS=124
	for _i in $(seq 1000); do
		if ! kill -0 "$FL_PID" 2>/dev/null; then
			wait "$FL_PID"
			FL_STATUS=$?
			break
		fi
		sleep 0.01
	done
	FL_STOP_MS=$(($(fl_now_ms) - _st_t0))
	# the VMM's own count, from the request it took to the shutdown event
	FL_SHUT_MS=$(sed -n 's/^fukivmm-event .* event=shutdown .* stop_ms=\([0-9]*\).*/\1/p' "$FL_ERR")
	[ -n "$FL_SHUT_MS" ] || FL_SHUT_MS=$FL_STOP_MS
	if [ "$FL_STATUS" = 124 ]; then
		kill -KILL "$FL_PID" 2>/dev/null
		wait "$FL_PID" 2>/dev/null
	fi
	[ -n "$FL_READER" ] && kill "$FL_READER" 2>/dev/null
	FL_RUN_MS=$(($(fl_now_ms) - FL_T0))
}

fl_field() { sed -n "s/^fukivmm-event .* event=shutdown .* $1=\([0-9]*\).*/\1/p" "$FL_ERR"; }

# fl_check_stop NAME: status 0, the shutdown event within FL_STOP_MAX_MS and
# the exit within FL_EXIT_MAX_MS; prints the FAIL line
fl_check_stop() {
	if [ "$FL_STATUS" != 0 ] || [ "$FL_SHUT_MS" -gt $FL_STOP_MAX_MS ] ||
	   [ "$FL_STOP_MS" -gt "$FL_EXIT_MAX" ]; then
		fail "$1" "status $FL_STATUS, stop_ms $FL_SHUT_MS, exit after $FL_STOP_MS ms (want 0, $FL_STOP_MAX_MS ms, $FL_EXIT_MAX ms)"
		tail -5 "$FL_ERR"
		return 1
	fi
	FL_STOPPED="stop_ms $FL_SHUT_MS, exited in $FL_STOP_MS ms"
	return 0
}

# fl_check_log NAME: the stderr volume over the run within the bound; sets FL_RATE
fl_check_log() {
	_cl_bytes=$(wc -c <"$FL_ERR")
	_cl_max=$((8192 + 1024 * FL_RUN_MS / 1000))
	FL_RATE=$((_cl_bytes * 1000 / FL_RUN_MS))
	if [ "$_cl_bytes" -gt "$_cl_max" ]; then
		fail "$1" "$_cl_bytes bytes of log in $FL_RUN_MS ms ($FL_RATE B/s), more than $_cl_max"
		return 1
	fi
	FL_LOG="$_cl_bytes bytes of log in $FL_RUN_MS ms: $FL_RATE B/s"
	return 0
}

# -- a doorbell flood: rejected requests back to back for 5 s
need_guest flood-doorbell.rom hostile-doorbell-flood && {
	fl_cfg dbflood flood-doorbell.rom
	fl_start dbflood
	fl_wait_err "event=first-output" 60 && sleep 5
	fl_stop TERM
	sup=$(fl_field doorbell_events_suppressed)
	if fl_check_stop hostile-doorbell-flood && fl_check_log hostile-doorbell-flood; then
		if [ "${sup:-0}" -gt 0 ] && grep -q "doorbell: [0-9]* events suppressed" "$FL_ERR"; then
			pass "hostile-doorbell-flood ($FL_LOG; $sup events suppressed; $FL_STOPPED)"
		else
			fail hostile-doorbell-flood "no suppressed doorbell events (suppressed=$sup): did the guest flood?"
		fi
	fi
}

# -- a device-warning flood: invalid virtio queue_size writes for 5 s
need_guest flood-virtio.rom hostile-virtio-warning-flood && {
	truncate -s 1M "$TMP/flood-disk.img"
	fl_cfg vflood flood-virtio.rom stdout "" "$TMP/flood-disk.img"
	fl_start vflood
	fl_wait_err "event=first-output" 60 && sleep 5
	fl_stop TERM
	if fl_check_stop hostile-virtio-warning-flood && fl_check_log hostile-virtio-warning-flood; then
		n=$(sed -n 's/.* \([0-9]*\) messages suppressed (devices\/virtio_pci.c.*/\1/p' "$FL_ERR" |
			awk '{ s += $1 } END { print s + 0 }')
		if [ "$n" -gt 0 ]; then
			pass "hostile-virtio-warning-flood ($FL_LOG; $n warnings suppressed; $FL_STOPPED)"
		else
			fail hostile-virtio-warning-flood "no suppressed virtio warnings: did the guest flood?"
		fi
	fi
}

# -- a reset loop: the guest resets at once at every boot.  The event log
# gets the events of 20 resets, then of 1 a second (VM_RESET_LOG_BURST,
# [log] reset_rate's default); the shutdown event counts every reset and those not
# logged.  Runs until the log says resets went unlogged (the limit was
# reached and reopened), then 3 s more.
need_guest flood-reset.rom hostile-reset-loop && {
	fl_cfg rflood flood-reset.rom
	fl_start rflood
	fl_wait_err "resets were not logged" 90
	reached=$?
	[ $reached = 0 ] && sleep 3
	fl_stop TERM
	resets=$(fl_field resets)
	unlogged=$(fl_field resets_unlogged)
	logged=$(grep -c '^fukivmm-event .* event=reset ' "$FL_ERR")
	max=$((20 + FL_RUN_MS / 1000 + 1))
	bytes=$(wc -c <"$FL_ERR")
	rate=$((bytes * 1000 / FL_RUN_MS))
	if ! fl_check_stop hostile-reset-loop; then
		:
	elif [ $reached != 0 ] && [ "${resets:-0}" -le $max ]; then
		skip hostile-reset-loop "resets too slow here to reach the limit: ${resets:-0} in $FL_RUN_MS ms"
	elif [ $reached != 0 ]; then
		fail hostile-reset-loop "$resets resets in $FL_RUN_MS ms, $logged logged, and no 'not logged' line"
	elif [ "$logged" -gt $max ] || [ $((logged + unlogged)) != "$resets" ]; then
		fail hostile-reset-loop "$resets resets in $FL_RUN_MS ms: $logged logged (at most $max), $unlogged unlogged"
	else
		pass "hostile-reset-loop ($resets resets in $FL_RUN_MS ms, $logged logged, $unlogged not; $bytes bytes of log: $rate B/s; $FL_STOPPED)"
	fi
}

# -- UART flood into a pipe nobody reads: the pipe and the ring fill, the
# guest keeps running, SIGTERM stops the VMM
need_guest flood-uart.rom hostile-uart-pipe && {
	fl_cfg upipe flood-uart.rom
	fl_start upipe pipe
	if fl_wait_err "event=first-output" 60 && fl_wait_stalled 120; then
		sleep 1
		fl_stop TERM
		drop=$(fl_field serial_dropped)
		if fl_check_stop hostile-uart-pipe; then
			if [ "${drop:-0}" -gt 0 ]; then
				pass "hostile-uart-pipe ($FL_STOPPED; $drop bytes dropped)"
			else
				fail hostile-uart-pipe "serial_dropped=$drop: the sink never filled"
			fi
		fi
	else
		fl_stop KILL
		fail hostile-uart-pipe "the VMM's writes never filled the pipe (or it ended early)"
	fi
}

# -- the same with the control socket's shutdown
need_guest flood-uart.rom hostile-uart-pipe-api-shutdown && {
	fl_cfg uapi flood-uart.rom
	fl_start uapi pipe --api-socket "$TMP/uapi.sock"
	if fl_wait_err "event=first-output" 60 && fl_wait_stalled 120 && [ -S "$TMP/uapi.sock" ]; then
		fl_stop api "$TMP/uapi.sock"
		fl_check_stop hostile-uart-pipe-api-shutdown &&
			pass "hostile-uart-pipe-api-shutdown ($FL_STOPPED)"
	else
		fl_stop KILL
		fail hostile-uart-pipe-api-shutdown "the pipe never filled, or no control socket"
	fi
}

# -- UART flood into a file with max_size: the file stops at its cap
need_guest flood-uart.rom hostile-uart-file-cap && {
	cap=16384
	fl_cfg ufile flood-uart.rom "file:$TMP/ufile.serial" $cap
	fl_start ufile
	if fl_wait_size "$TMP/ufile.serial" $cap 120; then
		sleep 1
		fl_stop TERM
		size=$(stat -c %s "$TMP/ufile.serial")
		drop=$(fl_field serial_dropped)
		if fl_check_stop hostile-uart-file-cap; then
			if [ "$size" = $cap ] && [ "${drop:-0}" -gt 0 ]; then
				pass "hostile-uart-file-cap ($size bytes = max_size, $drop dropped; $FL_STOPPED)"
			else
				fail hostile-uart-file-cap "file $size bytes (cap $cap), serial_dropped=$drop"
			fi
		fi
	else
		fl_stop KILL
		fail hostile-uart-file-cap "the file never reached $cap bytes"
	fi
}

# -- a guest spinning with interrupts off: SIGTERM, then SIGINT
need_guest spin-cli.rom hostile-spin-cli && {
	fl_cfg spin spin-cli.rom
	for sig in TERM INT; do
		case $sig in TERM) name=hostile-spin-cli ;; *) name=hostile-spin-cli-sigint ;; esac
		fl_start spin
		if fl_wait_err "event=first-output" 60; then
			sleep 1
			fl_stop $sig
			fl_check_stop $name && pass "$name (SIG$sig: $FL_STOPPED)"
		else
			fl_stop KILL
			fail $name "the guest did not start"
		fi
	done
}

fi
