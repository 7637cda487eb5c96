#!/bin/sh
# tests/integration/test_uefi_client.sh: the UEFI F-UKI client
# (build/uefi/fuki-client.efi, tests/uefi/) under QEMU TCG with Debian's
# OVMF.fd, from an ESP image built here (dosfstools, mtools) holding the
# client as \EFI\BOOT\BOOTX64.EFI and a UKI made from systemd's stub by
# tests/integration/uki/mkuki.py as \EFI\Linux\fuki.efi.  QEMU 7.2 has no
# vm-launch-update device: a read-only -fw_cfg file named etc/vmlaunchupdate
# stands in for the doorbell, so the write fails and the client must boot
# on.  Each case checks the client's console lines, and that it started the
# UKI (the stub, which has no .linux here, says so and returns).  The CHIDs
# and the choice are compared with `fukivmm smbios chids` / `uki select` on
# a config with the same SMBIOS identity.  No KVM needed.
. "$(dirname "$0")/lib.sh"

CLIENT=$ROOT/build/uefi/fuki-client.efi
MKUKI=$ROOT/tests/integration/uki/mkuki.py
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
OVMF=/usr/share/ovmf/OVMF.fd
QEMU=qemu-system-x86_64
CASES="good no-doorbell no-efifw bad-hwids no-match too-large load-fail already-runs other-record igvm-unoffered"

missing=""
command -v $QEMU >/dev/null 2>&1 || missing="$missing qemu-system-x86_64 (qemu-system-x86)"
[ -f "$OVMF" ] || missing="$missing $OVMF (ovmf)"
[ -f "$STUB" ] || missing="$missing $STUB (systemd-boot-efi)"
command -v mkfs.vfat >/dev/null 2>&1 || missing="$missing mkfs.vfat (dosfstools)"
command -v mcopy >/dev/null 2>&1 || missing="$missing mcopy (mtools)"
command -v python3 >/dev/null 2>&1 || missing="$missing python3"
[ -f /usr/include/efi/efi.h ] || missing="$missing gnu-efi"
if [ -n "$missing" ]; then
	for c in $CASES; do skip "uefi-client-$c" "not installed:$missing (make deps)"; done
	exit 0
fi
if [ ! -f "$CLIENT" ]; then
	for c in $CASES; do fail "uefi-client-$c" "$CLIENT not built (make uefi)"; done
	exit 0
fi

# ---- the machine: one SMBIOS identity, in QEMU and as a fukivmm config ----
MFR=fukivmm-test PRODUCT=uefi-client FAMILY=F-UKI SKU=SKU-1 BMFR=Board-Co BPRODUCT=board-1
SMBIOS_ARGS="-smbios type=1,manufacturer=$MFR,product=$PRODUCT,family=$FAMILY,sku=$SKU
-smbios type=2,manufacturer=$BMFR,product=$BPRODUCT"
cat >"$TMP/vm.toml" <<EOF
[vm]
memory = "512M"
vcpus = 1
[firmware]
path = "$OVMF"
[smbios]
manufacturer = "$MFR"
product = "$PRODUCT"
family = "$FAMILY"
sku = "$SKU"
board_manufacturer = "$BMFR"
board_product = "$BPRODUCT"
EOF
HAVE_FUKIVMM=0
[ -x "$FUKIVMM" ] && "$FUKIVMM" smbios chids "$TMP/vm.toml" >"$TMP/chids.txt" 2>&1 && HAVE_FUKIVMM=1
# CHID type 3 (Manufacturer + Family + Product + SKU + board) of this machine:
# from fukivmm when built, else the value it gives for this identity
CHID3=93ed409d-459a-5457-b2cb-3025bbba7fcc
if [ $HAVE_FUKIVMM = 1 ]; then
	CHID3=$(awk '$1 == 3 { gsub(/[{}]/, "", $2); print $2 }' "$TMP/chids.txt")
fi
OTHER=12345678-1234-5678-9abc-def012345678

# ---- inputs ----
python3 - "$TMP" <<'EOF'
import hashlib, struct, sys
d = sys.argv[1]
# a 256 KiB "raw ROM" and a 16 MiB + 4 KiB one (over the doorbell's limit)
fw = bytes((i * 7 + (i >> 9)) & 0xff for i in range(256 * 1024))
open(d + "/fw.rom", "wb").write(fw)
open(d + "/big.rom", "wb").write(bytes(16 * 1024 * 1024 + 4096))
open(d + "/fw.igvm", "wb").write(b"IGVM" + bytes(4092))
RAW, IGVM = 1 << 33, 1 << 32
def doorbell(name, status=0, caps=RAW | IGVM, oaddr=0, osize=0):
    open(d + "/" + name, "wb").write(struct.pack("<HHIQQQQQQ", 1, status, 0, caps, 0, 0, 0, oaddr, osize))
doorbell("db.bin")
doorbell("db-loadfail.bin", status=1)
doorbell("db-raw-only.bin", caps=RAW)
doorbell("db-swapped.bin", oaddr=0x7ff000, osize=96)
def record(name, payload, fwid):
    r = bytearray(96)
    r[0:8] = b"FUKIHOV1"
    struct.pack_into("<IIQQ", r, 8, 1, 96, RAW, len(payload))
    r[32:52] = hashlib.sha1(payload).digest()
    r[56:56 + len(fwid)] = fwid.encode()
    r[88:96] = hashlib.sha1(bytes(r[8:88])).digest()[:8]
    open(d + "/" + name, "wb").write(bytes(r))
record("rec-same.bin", fw, "tenant-fw")
record("rec-other.bin", b"something else", "older-fw")
EOF

uki() {  # NAME SECTION=FILE...
	n=$1
	shift
	args=""
	for s in "$@"; do args="$args --section $s"; done
	# shellcheck disable=SC2086 # a list of options
	python3 "$MKUKI" build --stub "$STUB" $args -o "$TMP/$n.efi"
}
python3 "$MKUKI" efifw --fwid tenant-fw --payload "$TMP/fw.rom" -o "$TMP/fw.efifw"
python3 "$MKUKI" efifw --fwid tenant-fw --payload "$TMP/big.rom" -o "$TMP/big.efifw"
python3 "$MKUKI" efifw --fwid tenant-fw --payload "$TMP/fw.igvm" -o "$TMP/igvm.efifw"
python3 "$MKUKI" hwids --uefi-fw "vm:tenant-fw:$CHID3" -o "$TMP/match.hwids"
python3 "$MKUKI" hwids --uefi-fw "vm:tenant-fw:$OTHER" -o "$TMP/other.hwids"
# malformed: the first record's type nibble becomes 7 (neither devicetree nor uefi-fw)
python3 -c "import sys; b = bytearray(open(sys.argv[1], 'rb').read()); b[3] = 0x70; open(sys.argv[2], 'wb').write(b)" \
	"$TMP/match.hwids" "$TMP/bad.hwids"
uki good .efifw="$TMP/fw.efifw" .hwids="$TMP/match.hwids"
uki noefifw .hwids="$TMP/match.hwids"
uki badhwids .efifw="$TMP/fw.efifw" .hwids="$TMP/bad.hwids"
uki nomatch .efifw="$TMP/fw.efifw" .hwids="$TMP/other.hwids"
uki big .efifw="$TMP/big.efifw" .hwids="$TMP/match.hwids"
uki igvm .efifw="$TMP/igvm.efifw" .hwids="$TMP/match.hwids"

esp() {  # NAME UKI: an ESP (FAT32, no partition table) with the client and the UKI
	truncate -s 64M "$TMP/$1.img"
	mkfs.vfat -F 32 -n FUKI "$TMP/$1.img" >/dev/null &&
		mmd -i "$TMP/$1.img" ::/EFI ::/EFI/BOOT ::/EFI/Linux &&
		mcopy -i "$TMP/$1.img" "$CLIENT" ::/EFI/BOOT/BOOTX64.EFI &&
		mcopy -i "$TMP/$1.img" "$TMP/$2.efi" ::/EFI/Linux/fuki.efi
}
for u in good noefifw badhwids nomatch big igvm; do
	esp "esp-$u" "$u" || { for c in $CASES; do fail "uefi-client-$c" "cannot build the ESP image"; done; exit 0; }
done

# run_case NAME ESP [QEMU ARGS...]: boots until the client has started the
# UKI and it returned (or 120 s); the console, cleaned, in $TMP/NAME.log
run_case() {
	rc_name=$1 rc_esp=$2
	shift 2
	# shellcheck disable=SC2086 # SMBIOS_ARGS is a list of options
	$QEMU -M pc -accel tcg -m 512 -bios "$OVMF" -nographic -serial stdio -monitor none \
		-net none -drive format=raw,file="$TMP/$rc_esp.img",snapshot=on $SMBIOS_ARGS "$@" \
		</dev/null >"$TMP/$rc_name.raw" 2>&1 &
	rc_pid=$!
	rc_t=0
	while [ $rc_t -lt 240 ]; do
		if grep -aq -e 'fuki-client: the UKI returned' -e 'fuki-client: cannot read the UKI' \
			-e 'Shell>' "$TMP/$rc_name.raw" 2>/dev/null; then
			break
		fi
		kill -0 $rc_pid 2>/dev/null || break
		sleep 0.5
		rc_t=$((rc_t + 1))
	done
	kill $rc_pid 2>/dev/null
	wait $rc_pid 2>/dev/null
	tr -d '\r' <"$TMP/$rc_name.raw" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' >"$TMP/$rc_name.log"
}

# check NAME PATTERN...: every fixed string in the client's console, and the
# UKI started (systemd's stub, without a .linux section, says so)
check() {
	ck_name=$1
	shift
	for ck_p in "$@" "fuki-client: starting the UKI \\EFI\\Linux\\fuki.efi" \
		"Unable to locate embedded .linux section"; do
		if ! grep -aqF -- "$ck_p" "$TMP/$ck_name.log"; then
			fail "uefi-client-$ck_name" "no console line with: $ck_p"
			grep -a 'fuki-client:' "$TMP/$ck_name.log" | tail -15 | sed 's/^/    | /'
			return 1
		fi
	done
	pass "uefi-client-$ck_name"
}

start=$(date +%s)
DB="-fw_cfg name=etc/vmlaunchupdate,file=$TMP/db.bin"
# two QEMUs at a time
run_case good esp-good $DB & run_case no-doorbell esp-good & wait
run_case no-efifw esp-noefifw $DB & run_case bad-hwids esp-badhwids $DB & wait
run_case no-match esp-nomatch $DB & run_case too-large esp-big $DB & wait
run_case load-fail esp-good -fw_cfg name=etc/vmlaunchupdate,file="$TMP/db-loadfail.bin" &
run_case igvm-unoffered esp-igvm -fw_cfg name=etc/vmlaunchupdate,file="$TMP/db-raw-only.bin" &
wait
# a record left by a previous swap, placed in RAM by QEMU's loader device
run_case already-runs esp-good -fw_cfg name=etc/vmlaunchupdate,file="$TMP/db-swapped.bin" \
	-device loader,file="$TMP/rec-same.bin",addr=0x7ff000,force-raw=on &
run_case other-record esp-good -fw_cfg name=etc/vmlaunchupdate,file="$TMP/db-swapped.bin" \
	-device loader,file="$TMP/rec-other.bin",addr=0x7ff000,force-raw=on &
wait
echo "uefi-client: 10 QEMU boots in $(($(date +%s) - start)) s"

# the choice, the console lines for it, and the failed write
if check good 'fuki-client: chose firmware "tenant-fw" (.efifw [0]' \
	"CHID type 3 {$CHID3} matches .hwids record 0 (name \"vm\")" \
	'fuki-client: doorbell: version 1, status 0 SUCCESS, capabilities 0x300000000' \
	'fuki-client: asking the host to boot firmware "tenant-fw" (raw ROM' \
	'the fw_cfg DMA write of etc/vmlaunchupdate failed (error bit)' \
	'fuki-client: request refused: booting on with the current firmware'; then
	if [ $HAVE_FUKIVMM = 1 ]; then
		# every CHID sd-stub can use, as fukivmm computes it for this identity
		bad=""
		for t in 3 4 5 6 7 8 9 10 11 13 14; do
			want=$(awk -v t=$t '$1 == t { gsub(/[{}]/, "", $2); print $2 }' "$TMP/chids.txt")
			grep -aqF "fuki-client: CHID $t {$want}" "$TMP/good.log" || bad="$bad $t"
		done
		sel=$("$FUKIVMM" uki select "$TMP/good.efi" "$TMP/vm.toml" --json 2>&1)
		if [ -n "$bad" ]; then
			fail uefi-client-chids "CHID types$bad differ from fukivmm smbios chids"
		elif ! echo "$sel" | grep -q '"fwid": *"tenant-fw"' || ! echo "$sel" | grep -q '"chid_type": *3'; then
			fail uefi-client-chids "fukivmm uki select disagrees: $sel"
		else
			pass uefi-client-chids
		fi
	else
		skip uefi-client-chids "$FUKIVMM not built: no cross-check with fukivmm smbios chids"
	fi
fi
check no-doorbell 'fuki-client: chose firmware "tenant-fw"' \
	'fuki-client: no doorbell: fw_cfg has no file etc/vmlaunchupdate (the host offers no firmware swap): booting on with the current firmware'
check no-efifw 'fuki-client: the UKI has no .efifw section: no firmware to hand over: booting on with the current firmware'
check bad-hwids 'fuki-client: malformed .hwids: a record of unknown type (systemd-stub rejects the table)' \
	'fuki-client: no firmware choice: booting on with the current firmware'
check no-match "fuki-client: no matching firmware: no uefi-fw record of .hwids matches this machine's CHIDs" \
	'fuki-client: no matching firmware: booting on with the current firmware'
check too-large 'fuki-client: firmware "tenant-fw" is 16781312 bytes: over the doorbell'"'"'s 16777216-byte image limit' \
	'fuki-client: image too large: booting on with the current firmware'
check load-fail 'fuki-client: the host answered an earlier request with 1 LOAD_FAIL' \
	"fuki-client: not asking again in this VM's life: booting on with the current firmware"
check igvm-unoffered 'fuki-client: firmware "tenant-fw": 4096 bytes, IGVM' \
	'fuki-client: the firmware is IGVM, the host accepts only 0x200000000' \
	'fuki-client: format not offered: booting on with the current firmware'
check already-runs 'fuki-client: firmware "tenant-fw" already runs: the hand-over record of the previous swap names it'
check other-record 'fuki-client: the previous swap installed firmware "older-fw", not this one: swapping' \
	'the fw_cfg DMA write of etc/vmlaunchupdate failed (error bit)'
exit 0
