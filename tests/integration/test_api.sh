#!/bin/sh
# needs: kvm
# The control socket with a running guest: status, reset, shutdown, SIGTERM,
# an events subscriber that sees the whole swap story in order, and a policy
# lock that makes the guest's doorbell write fail with DENIED (6).  The
# protocol and hostile clients are covered by tests/unit/test_api.c.
. "$(dirname "$0")/lib.sh"

need_kvm api-status api-reset api-shutdown api-sigterm api-events-swap-story \
	api-policy-lock api-plain-no-measurement api-events-plain-no-measurement || exit 0

SOCK=$TMP/vm.sock
CTL="$FUKIVMM ctl $SOCK"

# start_vm CONFIG: fukivmm in the background; waits for its socket
start_vm() {
	rm -f "$SOCK"
	"$FUKIVMM" run "$1" --api-socket "$SOCK" >"$TMP/vm.out" 2>"$TMP/vm.err" </dev/null &
	VM_PID=$!
	for i in $(seq 100); do
		[ -S "$SOCK" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_vm SECONDS: waits for the VM to exit; sets VM_STATUS (timeout: kill, 124)
wait_vm() {
	for i in $(seq $(($1 * 10))); do
		if ! kill -0 "$VM_PID" 2>/dev/null; then
			wait "$VM_PID"
			VM_STATUS=$?
			return 0
		fi
		sleep 0.1
	done
	kill -KILL "$VM_PID" 2>/dev/null
	wait "$VM_PID"
	VM_STATUS=124
}

wait_out() {  # wait_out PATTERN SECONDS
	for i in $(seq $(($2 * 10))); do
		grep -q "$1" "$TMP/vm.out" && return 0
		sleep 0.1
	done
	return 1
}

# status while a guest runs
if start_vm "$CONFIGS/api-idle.toml" && wait_out "idle: ready" 30; then
	st=$($CTL status)
	case "$st" in
	*'"state":"running"'*'"vcpus":1'*) pass api-status ;;
	*) fail api-status "$st" ;;
	esac
	# a plain guest has no hardware launch measurement: none is reported,
	# nor is one pending
	mp=$($CTL measure-pending)
	case "$st:$mp" in
	*'"measurement"'*) fail api-plain-no-measurement "$st $mp" ;;
	*'"firmware_sha384":"'*:'{"pending":false}') pass api-plain-no-measurement ;;
	*) fail api-plain-no-measurement "$st $mp" ;;
	esac
	# reset via the socket: the guest boots again (boot 2)
	$CTL reset >/dev/null
	if wait_out "idle: ready, boot 2" 30 && grep -q "event=reset .*reason=host" "$TMP/vm.err"; then
		pass api-reset
	else
		fail api-reset "$(tail -5 "$TMP/vm.out")"
	fi
	# shutdown via the socket: exit status 0, socket removed
	$CTL shutdown >/dev/null
	wait_vm 30
	if [ "$VM_STATUS" = 0 ] && [ ! -e "$SOCK" ]; then pass api-shutdown; else fail api-shutdown "status $VM_STATUS"; fi
else
	fail api-status "VM or socket did not come up: $(cat "$TMP/vm.err")"
fi

# SIGTERM: guest stopped, resources released, exit status 0
if start_vm "$CONFIGS/api-idle.toml" && wait_out "idle: ready" 30; then
	kill -TERM "$VM_PID"
	wait_vm 30
	if [ "$VM_STATUS" = 0 ] && [ ! -e "$SOCK" ]; then pass api-sigterm; else fail api-sigterm "status $VM_STATUS"; fi
else
	fail api-sigterm "VM did not come up"
fi

# an events subscriber sees requested -> accepted -> reset -> rebuilt -> booted
if start_vm "$CONFIGS/api-wait.toml"; then
	$CTL events >"$TMP/events.json" 2>&1 &
	EV_PID=$!
	wait_vm 60
	sleep 0.2
	kill "$EV_PID" 2>/dev/null
	order=$(sed -n 's/.*"event":"\([a-z-]*\)".*/\1/p' "$TMP/events.json" | tr '\n' ' ')
	case "$order" in
	*"swap-requested swap-accepted reset "*"rebuilt booted"*)
		if [ "$VM_STATUS" = $GUEST_PASS ]; then pass api-events-swap-story; else fail api-events-swap-story "guest status $VM_STATUS"; fi ;;
	*) fail api-events-swap-story "events: $order" ;;
	esac
	# plain: booted and swap-accepted carry no measurement, rebuilt an empty one
	if grep '"event":"\(booted\|swap-accepted\)"' "$TMP/events.json" | grep -q '"measurement"'; then
		fail api-events-plain-no-measurement "$(grep -m1 '"measurement":"[0-9a-f]' "$TMP/events.json")"
	elif grep '"event":"rebuilt"' "$TMP/events.json" | grep -q '"measurement":""'; then
		pass api-events-plain-no-measurement
	else
		fail api-events-plain-no-measurement "$(grep '"event":"rebuilt"' "$TMP/events.json")"
	fi
else
	fail api-events-swap-story "VM did not come up"
fi

# the host locks the doorbell while the provider waits: its write gets DENIED
if start_vm "$CONFIGS/api-wait.toml" && wait_out "waiting 3 s" 30; then
	$CTL policy --lock >/dev/null
	wait_vm 60
	if [ "$VM_STATUS" = $GUEST_FAIL ] && grep -q "provider: status 6" "$TMP/vm.out"; then
		pass api-policy-lock
	else
		fail api-policy-lock "status $VM_STATUS: $(grep 'provider:' "$TMP/vm.out" | tail -2)"
	fi
else
	fail api-policy-lock "VM did not come up"
fi
