#!/bin/sh
# needs: kvm
# kvmvm: --smp 1 --icount 3 --add /usr/share/ovmf
# The F-UKI chain end to end on fukivmm, plain KVM: Debian's OVMF.fd (the
# host's firmware) boots from a virtio-blk disk holding an ESP; its
# removable-media path \EFI\BOOT\BOOTX64.EFI is the UEFI client
# (tests/uefi/), which reads SMBIOS, computes the CHIDs, picks the tenant's
# firmware from the UKI's .efifw section by its .hwids, rings
# etc/vmlaunchupdate (a raw ROM: build/guest/tenant.rom) and resets.
# fukivmm rebuilds the VM with that ROM; it runs, finds the hand-over record
# the client left in the opaque region, and PASSes.  Checks each step from
# the serial console and the event log, then SIGTERM stops fukivmm (exit 0).
#
# Inputs (the ESP, the UKI, the SMBIOS identity) come from
# tests/integration/uefi-swap-prep.sh: FUKI_UEFI_SWAP_DIR names them when
# tests/run.sh built them on the host before it booted tests/kvmvm (whose VM
# lacks python3 and mtools), else this test builds them itself.  In
# tests/kvmvm it needs -icount for OVMF, as test_ovmf.sh explains.
. "$(dirname "$0")/lib.sh"

OVMF=${FUKI_OVMF:-/usr/share/ovmf/OVMF.fd}
CASES="uefi-swap-esp-boot uefi-swap-choice uefi-swap-accepted uefi-swap-rebuilt uefi-swap-tenant-runs uefi-swap-stop"

skip_all() {
	for c in $CASES; do skip "$c" "$1"; done
	exit 0
}

[ -f "$OVMF" ] || skip_all "$OVMF is absent (install Debian's ovmf package)"
need_kvm $CASES || exit 0
if [ -n "$KVMVM" ] && [ -z "$KVMVM_ICOUNT" ]; then
	skip_all "in tests/kvmvm without --icount: QEMU's TCG would abort the VM (test_ovmf.sh)"
fi
IN=${FUKI_UEFI_SWAP_DIR:-}
if [ -n "$IN" ]; then
	case "$IN" in /*) ;; *) IN=$ROOT/$IN ;; esac
else
	IN=$TMP/in
	sh "$(dirname "$0")/uefi-swap-prep.sh" "$IN" 2>"$TMP/prep.err" ||
		skip_all "cannot build the ESP here: $(tail -1 "$TMP/prep.err") (make deps uefi guests)"
fi
for f in esp.img fuki.efi smbios.toml tenant.sha384 chid3; do
	[ -f "$IN/$f" ] || skip_all "$IN/$f is missing (tests/integration/uefi-swap-prep.sh)"
done
want_sha=$(cat "$IN/tenant.sha384")
chid3=$(cat "$IN/chid3")

cfg=$TMP/uefi-swap.toml
{
	printf '[vm]\nname = "uefi-swap"\nmemory = "512M"\nvcpus = 1\n\n'
	printf '[firmware]\npath = "%s"\n\n' "$OVMF"
	cat "$IN/smbios.toml"
	printf '\n[serial]\noutput = "stdout"\n\n'
	printf '[[disk]]\npath = "%s"\nreadonly = true\n\n' "$IN/esp.img"
	printf '[uki]\npath = "%s"\n' "$IN/fuki.efi"
} >"$cfg"

OUT_FILE=$TMP/uefi-swap.out
ERR_FILE=$TMP/uefi-swap.err
t0=$(date +%s)
"$FUKIVMM" run "$cfg" >"$OUT_FILE" 2>"$ERR_FILE" </dev/null &
pid=$!
n=0
while [ $n -lt 300 ] && kill -0 $pid 2>/dev/null &&
	! grep -aq -e '^guest: PASS' -e '^guest: FAIL' -e 'Shell>' "$OUT_FILE"; do
	sleep 1
	n=$((n + 1))
done
t1=$(date +%s)
kill -TERM $pid 2>/dev/null
wait $pid
status=$?
tr -d '\r' <"$OUT_FILE" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' >"$TMP/console.txt"

# ev NAME: the event lines of that name
ev() { grep "^fukivmm-event .* event=$1 " "$ERR_FILE"; }
show() {
	echo "--- console"; grep -a -e 'fuki-client:' -e '^tenant:' -e '^guest:' -e 'BdsDxe' \
		"$TMP/console.txt" | tail -15
	echo "--- stderr"; tail -8 "$ERR_FILE"
}
has() { grep -aqF -- "$1" "$TMP/console.txt"; }

if has 'fuki-client: ' && grep -aq 'BdsDxe: starting Boot.*PciRoot' "$TMP/console.txt"; then
	pass "uefi-swap-esp-boot (OVMF started the client from the virtio-blk ESP)"
else
	fail uefi-swap-esp-boot "the client never ran after $((t1 - t0)) s"
	show
	exit 0
fi
if has 'fuki-client: chose firmware "tenant-fw" (.efifw [0]' &&
	has "CHID type 3 {$chid3} matches .hwids record 0 (name \"vm\")"; then
	pass "uefi-swap-choice (CHID type 3 {$chid3}, as fukivmm smbios chids gives it)"
else
	fail uefi-swap-choice "the client did not choose tenant-fw by its CHID"
	show
fi
acc=$(ev swap-accepted)
if echo "$acc" | grep -q "format=raw-rom .* sha384=$want_sha .* fwid=\"\?tenant-fw"; then
	pass "uefi-swap-accepted (raw ROM, the SHA-384 of tenant.rom, fwid tenant-fw)"
else
	fail uefi-swap-accepted "no swap-accepted event for tenant.rom: ${acc:-none}"
	show
fi
reb=$(ev rebuilt)
if [ "$(echo "$reb" | grep -c .)" = 1 ] &&
	echo "$reb" | grep -q "n=1 .* firmware=guest format=raw-rom size=65536 sha384=$want_sha fwid=\"\?tenant-fw"; then
	pass "uefi-swap-rebuilt (one reset, rebuilt with the guest's image)"
else
	fail uefi-swap-rebuilt "rebuilt events: ${reb:-none}"
	show
fi
# the tenant runs after the reset, and the client's hand-over record
# ("FUKIHOV1") is in the opaque region the doorbell kept
if awk '/fuki-client: the host accepted firmware "tenant-fw": resetting into it/ { s = 1 }
	s && /^tenant: hello from tenant firmware/ { t = 1 }
	t && /^tenant: opaque bytes 46 55 4b 49 48 4f 56 31 / { o = 1 }
	o && /^guest: PASS/ { p = 1 } END { exit !p }' "$TMP/console.txt"; then
	pass "uefi-swap-tenant-runs (tenant firmware PASSed $((t1 - t0)) s after exec)"
else
	fail uefi-swap-tenant-runs "no tenant PASS after the client's reset"
	show
fi
if [ "$status" = 0 ] && ev shutdown | grep -q 'status=0 resets=1 '; then
	pass uefi-swap-stop
else
	fail uefi-swap-stop "exit status $status after SIGTERM; $(ev shutdown)"
fi
