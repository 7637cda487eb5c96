#!/bin/sh
# needs: kvm
# The firmware-swap doorbell end to end (issue: etc/vmlaunchupdate): a
# provider firmware hands a tenant image over and resets; fukivmm rebuilds
# the VM with it.  Permanent and one-shot swaps, disabled doorbell, opaque
# hand-over, 50 alternating swaps without fd/RSS growth, the image modified
# after an accepted write (the launched copy is the one taken at write time),
# a reset storm under min_reset_interval, and every hostile request with its
# exact status while the VMM keeps running.
. "$(dirname "$0")/lib.sh"

need_kvm doorbell-swap doorbell-oneshot doorbell-disabled-by-host doorbell-50-swaps \
	doorbell-toctou doorbell-rate-limited doorbell-2mib-image doorbell-hostile || exit 0

ev() { grep "^fukivmm-event .* event=$1" "$ERR_FILE"; }

# permanent swap: provider -> tenant, opaque data arrives, events in order
run_vm "$CONFIGS/doorbell-swap.toml" 120
expect doorbell-swap $GUEST_PASS "provider: status 0" "tenant: hello from tenant firmware" \
	'tenant: opaque "opaque: provider says hi"' && {
	order=$(sed -n 's/^fukivmm-event .* event=\([a-z-]*\).*/\1/p' "$ERR_FILE" | tr '\n' ' ')
	case "$order" in
	*"swap-requested swap-accepted reset swap-applied rebuilt booted first-output"*"shutdown"*)
		pass doorbell-swap-events ;;
	*) fail doorbell-swap-events "event order: $order" ;;
	esac
	if ev rebuilt | grep -q "firmware=guest format=raw-rom size=65536"; then
		pass doorbell-swap-rebuilt-with-guest-image
	else
		fail doorbell-swap-rebuilt-with-guest-image "$(ev rebuilt)"
	fi
}

# one-shot (CTL_HOST_IGVM): provider -> tenant -> back to the provider
run_vm "$CONFIGS/doorbell-oneshot.toml" 120
expect doorbell-oneshot $GUEST_PASS "provider: status 0" "tenant: resetting back to the provider" \
	"provider: back again"

# disabled by host policy: capabilities read 0, the provider gives up
run_vm "$CONFIGS/doorbell-disabled.toml" 60
expect doorbell-disabled-by-host $GUEST_FAIL "lack FORMAT_RAW_ROM"

# 50 alternating swaps (provider -> tenant -> provider ...): no fd or RSS growth
# (--clean-exit: the shutdown event then follows every retired VM's teardown)
run_vm "$CONFIGS/doorbell-cycle.toml" 600 --clean-exit
expect doorbell-50-swaps $GUEST_PASS "provider: 50 swaps done" && {
	field() { sed -n "s/.* $1=\([0-9]*\).*/\1/p"; }
	# every reset, logged or not (the log gets 20, then 1 a second)
	n=$(ev shutdown | field resets)
	fb=$(ev booted | head -1 | field fds)
	fe=$(ev shutdown | field fds)
	r10=$(ev rebuilt | sed -n '10p' | field rss_kib)
	re=$(ev shutdown | field rss_kib)
	h10=$(ev rebuilt | sed -n '10p' | field heap_kib)
	he=$(ev shutdown | field heap_kib)
	# at shutdown every retired VM has been destroyed: the same descriptors
	# as at the first boot; heap in use and RSS no higher than at rebuild 10.
	# Under AddressSanitizer (heap reads 0, freed memory sits in quarantine)
	# only the descriptors are compared; LeakSanitizer checks the heap.
	case "$FUKIVMM" in *-san) sanitized=1 ;; *) sanitized=0 ;; esac
	if [ $sanitized = 1 ]; then
		h10=0 he=0 re=$r10
	fi
	if [ "${n:-0}" -ge 100 ] && [ -n "$fb" ] && [ "$fe" = "$fb" ] && [ "$he" -le $((h10 + 64)) ] &&
	   [ "$re" -le $((r10 + 512)) ]; then
		pass "doorbell-50-swaps-no-growth (fds $fb -> $fe, heap $h10 -> $he KiB, rss $r10 -> $re KiB over $n rebuilds)"
	else
		fail doorbell-50-swaps-no-growth "rebuilds $n, fds $fb -> $fe, heap $h10 -> $he KiB, rss $r10 -> $re KiB"
	fi
}

# the image is overwritten after the accepted write: the launched firmware is
# the copy taken at write time (its digest is tenant.rom's)
run_vm "$CONFIGS/doorbell-toctou.toml" 120
expect doorbell-toctou $GUEST_PASS "image in RAM overwritten" "tenant: hello from tenant firmware" && {
	want=$(sha384sum "$GUESTS/tenant.rom" | cut -d' ' -f1)
	if [ ${#want} != 96 ]; then
		fail doorbell-toctou-digest "cannot compute the SHA-384 of tenant.rom (sha384sum)"
	elif ev rebuilt | grep -q "sha384=$want"; then
		pass doorbell-toctou-digest
	else
		fail doorbell-toctou-digest "rebuilt event lacks sha384=$want: $(ev rebuilt)"
	fi
}

# reset storm: with min_reset_interval = 60s the second swap is refused
run_vm "$CONFIGS/doorbell-ratelimit.toml" 120
expect doorbell-rate-limited $GUEST_FAIL "provider: status 0" "provider: status 5"

# a 2 MiB image
run_vm "$CONFIGS/doorbell-big.toml" 180
expect doorbell-2mib-image $GUEST_PASS "provider: status 0" "tenant: hello from tenant firmware"

# hostile requests: exact statuses, and the VMM keeps running to the end
# (igvm-only sends the guest's raw ROM with FORMAT_IGVM: not an IGVM file)
run_vm "$CONFIGS/doorbell-hostile.toml" 120
expect doorbell-hostile-runs-to-end $GUEST_PASS "doorbell: all cases sent"
for c in addr0:1 size0:1 size-over-16m:3 overflow:4 past-ram:4 mmio-hole:4 \
	 firmware-region:4 size-unaligned:8 unknown-format:7 both-formats:7 igvm-only:8 \
	 partial-write:1 disable:0; do
	name=${c%:*}
	want=${c#*:}
	got=$(sed -n "s/^case $name status \([0-9]*\).*/\1/p" "$OUT_FILE" | head -1)
	if [ "$got" = "$want" ]; then
		pass "doorbell-hostile-$name"
	else
		fail "doorbell-hostile-$name" "status '$got', expected $want"
	fi
done
if grep -q "doorbell: disable left status 0, after-disable status 0, control bit0 1" "$OUT_FILE"; then
	pass doorbell-hostile-write-after-disable-ignored
else
	fail doorbell-hostile-write-after-disable-ignored "$(grep '^doorbell:' "$OUT_FILE")"
fi
