#!/bin/sh
# needs: kvm
# kvmvm: --smp 1 --icount 1 --add /usr/share/OVMF --include build/uefi-swap
# The F-UKI chain end to end on fukivmm, plain KVM.  The provider's
# firmware is Debian's 2 MiB OVMF as split images, OVMF_CODE.fd with a copy
# of OVMF_VARS.fd as its variable store ([firmware] code + vars); it boots
# from a virtio-blk disk holding an ESP; its
# removable-media path \EFI\BOOT\BOOTX64.EFI is the UEFI client
# (tests/uefi/), which reads SMBIOS, computes the CHIDs, picks the tenant's
# firmware from the UKI's .efifw section by its .hwids (a different OVMF
# build, Debian's 4 MiB one, as an IGVM file), rings etc/vmlaunchupdate and
# resets.  fukivmm checks the IGVM on the doorbell's worker and rebuilds the
# VM from its plan; the tenant's OVMF now runs from the guest's image (from
# ROM, variables in memory), the client starts again, finds the hand-over
# record of the swap it made, and starts the UKI.  In `make test` the UKI
# has no kernel: systemd's stub says so and returns, and SIGTERM stops
# fukivmm.  In `make test-long` (FUKI_TEST_LONG=1) its stub boots the Linux
# guest of test_linux.sh (tests/linuxguest/): it finds the ACPI tables and
# the virtio-blk disk, writes a sector and powers off through ACPI S5, and
# fukivmm exits 0.  Each step is checked from the serial console and the
# event log.
#
# Inputs (the ESP, the UKI, the SMBIOS identity) come from
# tests/integration/uefi-swap-prep.sh: FUKI_UEFI_SWAP_DIR names them when
# tests/run.sh built them on the host before it booted tests/kvmvm (whose VM
# lacks python3 and mtools), else this test builds them itself.  In
# tests/kvmvm it needs -icount for OVMF, as test_ovmf.sh explains; shift 1
# (fewer timer interrupts per instruction than test_ovmf.sh's 3) gets the
# long stretch of the UKI's 12 MB load and Linux's boot through.
. "$(dirname "$0")/lib.sh"

PCODE=${FUKI_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE.fd}
PVARS=${FUKI_OVMF_VARS:-/usr/share/OVMF/OVMF_VARS.fd}
CASES="uefi-swap-esp-boot uefi-swap-choice uefi-swap-accepted uefi-swap-rebuilt uefi-swap-second-boot
uefi-swap-provider-vars uefi-swap-uki-linux uefi-swap-oneshot-armed uefi-swap-oneshot-return"

skip_all() {
	for c in $CASES; do skip "$c" "$1"; done
	exit 0
}

for f in "$PCODE" "$PVARS"; do
	[ -f "$f" ] || skip_all "$f is absent (install Debian's ovmf package)"
done
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
for f in esp.img esp-oneshot.img fuki.efi smbios.toml igvm.sha384 chid3; do
	[ -f "$IN/$f" ] || skip_all "$IN/$f is missing (tests/integration/uefi-swap-prep.sh)"
done
igvm_sha=$(cat "$IN/igvm.sha384")
chid3=$(cat "$IN/chid3")

# finish PID: stop that fukivmm (SIGTERM when it still runs); t1 the time,
# status its exit status, $TMP/console.txt its console ($OUT_FILE) without
# carriage returns and escape sequences
finish() {
	t1=$(date +%s)
	kill -TERM "$1" 2>/dev/null
	wait "$1"
	status=$?
	tr -d '\r' <"$OUT_FILE" | sed 's/\x1b\[[0-9;?=]*[A-Za-z]//g' >"$TMP/console.txt"
}

# fukivmm on OVMF with a writable copy of the ESP as its disk (Linux writes
# sector 1 of it), until Linux powers off (or the client's UKI returns, a
# FAIL line, the shell, 300 s); then SIGTERM if it still runs
cp "$IN/esp.img" "$TMP/esp.img" && cp "$PVARS" "$TMP/vars.fd" || skip_all "cannot copy the ESP"
cfg=$TMP/uefi-swap.toml
{
	printf '[vm]\nname = "uefi-swap"\nmemory = "512M"\nvcpus = 1\n\n'
	printf '[firmware]\ncode = "%s"\nvars = "%s"\n\n' "$PCODE" "$TMP/vars.fd"
	cat "$IN/smbios.toml"
	printf '\n[serial]\noutput = "stdout"\n\n'
	printf '[[disk]]\npath = "%s"\n\n' "$TMP/esp.img"
	printf '[uki]\npath = "%s"\n' "$IN/fuki.efi"
} >"$cfg"
OUT_FILE=$TMP/uefi-swap.out
ERR_FILE=$TMP/uefi-swap.err
t0=$(date +%s)
"$FUKIVMM" run "$cfg" >"$OUT_FILE" 2>"$ERR_FILE" </dev/null &
pid=$!
n=0
while [ $n -lt 300 ] && kill -0 $pid 2>/dev/null &&
	! grep -aq -e 'fuki-client: the UKI returned' -e '^guest: FAIL' -e 'Shell>' "$OUT_FILE"; do
	sleep 1
	n=$((n + 1))
done
finish $pid

# ev NAME: the event lines of that name
ev() { grep "^fukivmm-event .* event=$1 " "$ERR_FILE"; }
show() {
	echo "--- console"
	grep -a -e 'fuki-client:' -e '^linuxinit:' -e 'BdsDxe' -e 'Kernel panic' "$TMP/console.txt" |
		grep -v 'fuki-client: CHID [0-9]' | tail -15
	echo "--- stderr"; tail -8 "$ERR_FILE"
}
has() { grep -aqF -- "$1" "$TMP/console.txt"; }
# one_event CASE NAME PATTERN WHAT: PASS when exactly one NAME event was
# logged and it matches the grep pattern
one_event() {
	_oe=$(ev "$2")
	if [ "$(echo "$_oe" | grep -c .)" = 1 ] && echo "$_oe" | grep -q "$3"; then
		pass "$1 ($4)"
	else
		fail "$1" "$2 events: ${_oe:-none}"
		show
	fi
}

if has 'fuki-client: ' && grep -aq 'BdsDxe: starting Boot.*PciRoot' "$TMP/console.txt"; then
	pass "uefi-swap-esp-boot (OVMF started the client from the virtio-blk ESP)"
else
	fail uefi-swap-esp-boot "the client never ran after $((t1 - t0)) s"
	show
	for c in $CASES; do
		[ "$c" = uefi-swap-esp-boot ] || fail "$c" "not run: OVMF never started the client"
	done
	exit 0
fi
if has 'fuki-client: chose firmware "tenant-ovmf" (.efifw [0]' &&
	has "CHID type 3 {$chid3} matches .hwids record 0 (name \"vm\")"; then
	pass "uefi-swap-choice (CHID type 3 {$chid3}, as fukivmm smbios chids gives it)"
else
	fail uefi-swap-choice "the client did not choose tenant-ovmf by its CHID"
	show
fi
one_event uefi-swap-accepted swap-accepted "format=igvm .* sha384=$igvm_sha .* fwid=\"\?tenant-ovmf" \
	"IGVM, the SHA-384 of ovmf.igvm, fwid tenant-ovmf"
one_event uefi-swap-rebuilt rebuilt "n=1 .* firmware=guest format=igvm .* sha384=$igvm_sha fwid=\"\?tenant-ovmf" \
	"one reset, rebuilt from the IGVM's plan"
# after the reset: OVMF from the guest's image, the client again, its
# record found, the UKI started, no second swap
if awk '/fuki-client: the host accepted firmware "tenant-ovmf": resetting into it/ { s = 1 }
	s && /BdsDxe: starting Boot/ { b = 1 }
	b && /fuki-client: firmware "tenant-ovmf" already runs: the hand-over record of the previous swap names it/ { r = 1 }
	r && /fuki-client: starting the UKI/ { u = 1 } END { exit !u }' "$TMP/console.txt" &&
	ev shutdown | grep -q ' resets=1 '; then
	pass "uefi-swap-second-boot (the client found its hand-over record and started the UKI)"
else
	fail uefi-swap-second-boot "no second client run that found its record and started the UKI"
	show
fi
# the provider's OVMF kept its variables in the store (the tenant's, from
# ROM, never sees it)
names=$(tr -d '\000' <"$TMP/vars.fd" | grep -ao -e BootOrder -e PlatformLang -e ConOut | sort -u | tr '\n' ' ')
if ! cmp -s "$PVARS" "$TMP/vars.fd" && echo " $names" | grep -q ' BootOrder '; then
	pass "uefi-swap-provider-vars (the provider's OVMF wrote its store: $names)"
else
	fail uefi-swap-provider-vars "the variable store was not written (variables: ${names:-none})"
fi
if [ ! -f "$IN/linux" ] && [ "${FUKI_TEST_LONG:-0}" != 1 ]; then
	skip uefi-swap-uki-linux "the UKI's Linux boot runs in make test-long (about a minute more)"
elif [ ! -f "$IN/linux" ]; then
	skip uefi-swap-uki-linux "no Linux in the UKI (tests/linuxguest/prepare.sh could not build build/linuxguest)"
elif awk '/fuki-client: starting the UKI/ { u = 1 }
	u && /linuxinit: hello from init, Linux / { h = 1 }
	h && /^linuxinit: acpi tables:.* FACP/ { a = 1 }
	a && /^linuxinit: virtio_blk module: loaded$/ { v = 1 }
	v && /^linuxinit: sector 1 written and flushed$/ { w = 1 }
	w && /^linuxinit: powering off$/ { p = 1 } END { exit !p }' "$TMP/console.txt" &&
	[ "$status" = 0 ] && ev shutdown | grep -q 'status=0 resets=1 '; then
	pass "uefi-swap-uki-linux (the UKI's Linux, $(cat "$IN/linux"), ran and powered off: $((t1 - t0)) s after exec)"
else
	fail uefi-swap-uki-linux "the UKI's Linux did not run to its power-off (exit $status)"
	show
fi

# One-shot: the same chain from an ESP whose \EFI\fuki\client.options
# says "one-shot".  The client asks for CTL_HOST_IGVM, the tenant's OVMF
# runs once and the client starts the UKI; then the host resets the VM
# through the control socket, and the provider's OVMF comes back: the
# client sees the used record and says the one-shot has ended.
cp "$IN/esp-oneshot.img" "$TMP/esp1.img" && cp "$PVARS" "$TMP/vars1.fd" ||
	{ fail uefi-swap-oneshot-armed "cannot copy the ESP"; fail uefi-swap-oneshot-return "not run"; exit 0; }
sed -e "s|$TMP/esp.img|$TMP/esp1.img|" -e "s|$TMP/vars.fd|$TMP/vars1.fd|" "$cfg" >"$TMP/oneshot.toml"
printf '\n[api]\nsocket = "%s"\n' "$TMP/api.sock" >>"$TMP/oneshot.toml"
OUT_FILE=$TMP/oneshot.out
ERR_FILE=$TMP/oneshot.err
t0=$(date +%s)
"$FUKIVMM" run "$TMP/oneshot.toml" >"$OUT_FILE" 2>"$ERR_FILE" </dev/null &
pid=$!
# (the reset goes as soon as the client starts the UKI, which in
# make test-long boots Linux to its power-off within seconds)
n=0
reset_at=""
while [ $n -lt 2000 ] && kill -0 $pid 2>/dev/null &&
	! grep -aq -e 'the one-shot swap of firmware "tenant-ovmf" has ended' -e '^guest: FAIL' "$OUT_FILE"; do
	if [ -z "$reset_at" ] && grep -aq 'already runs: the hand-over record of the previous swap names it (one-shot)' "$OUT_FILE" &&
		grep -aq 'fuki-client: starting the UKI' "$OUT_FILE"; then
		"$FUKIVMM" ctl "$TMP/api.sock" reset >/dev/null 2>&1 && reset_at=$((n / 5))
	fi
	sleep 0.2
	n=$((n + 1))
done
finish $pid
if has 'fuki-client: options from \EFI\fuki\client.options: read' &&
	has 'F-UKI client: UKI \EFI\Linux\fuki.efi, one-shot swaps' &&
	ev swap-applied | grep -q 'reason="\?one-shot' &&
	ev rebuilt | grep -q "n=1 .* firmware=guest format=igvm .* sha384=$igvm_sha"; then
	pass "uefi-swap-oneshot-armed (client.options read, tenant-ovmf swapped in one-shot: swap-applied reason one-shot)"
else
	fail uefi-swap-oneshot-armed "no one-shot swap (reset sent at ${reset_at:-never})"
	show
fi
if [ -n "$reset_at" ] && ev rebuilt | grep -q 'n=2 .* firmware=host ' &&
	awk '/already runs: the hand-over record of the previous swap names it \(one-shot\)/ { o = 1 }
	o && /BdsDxe: starting Boot/ { b = 1 }
	b && /fuki-client: the one-shot swap of firmware "tenant-ovmf" has ended/ { e = 1 } END { exit !e }' "$TMP/console.txt"; then
	pass "uefi-swap-oneshot-return (after the host's reset the provider's OVMF ran again and the client saw the one-shot end: $((t1 - t0)) s)"
else
	fail uefi-swap-oneshot-return "no return to the provider's firmware after the reset (sent at ${reset_at:-never} s)"
	show
fi
