#!/bin/sh
# tests/integration/test_uki.sh: `fukivmm smbios` and `fukivmm uki` end to
# end.  CHIDs of the tables fukivmm presents are checked against fwupd's
# fwupdtool (an independent implementation); UKIs carrying two and three
# firmware images are built from systemd-boot's stub with objcopy
# (tests/integration/uki/mkuki.py writes .efifw/.hwids), and inspect,
# select, extract and measure must agree with the inputs and with
# `fukivmm measure`.  Needs no /dev/kvm.
. "$(dirname "$0")/lib.sh"

FUKIVMM=${FUKIVMM_BIN:-$FUKIVMM}
MKUKI=$ROOT/tests/integration/uki/mkuki.py
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
OVMF=/usr/share/ovmf/OVMF.fd

if ! "$FUKIVMM" uki --help >/dev/null 2>&1; then
	fail uki-cli "$FUKIVMM has no 'uki' subcommand"
	exit 0
fi

# cfg NAME PLATFORM FIRMWARE SMBIOS-LINES...: writes $TMP/NAME.toml
cfg() {
	name=$1 plat=$2 fw=$3
	shift 3
	{
		printf '[vm]\nmemory = "2G"\nvcpus = 2\n[firmware]\npath = "%s"\n' "$fw"
		case $plat in
		sev-snp) printf '[confidential]\ntype = "sev-snp"\nvcpu_type = "EPYC-v4"\n' ;;
		tdx) printf '[confidential]\ntype = "tdx"\n' ;;
		esac
		printf '[smbios]\n'
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$TMP/$name.toml"
}

# chid CONFIG TYPE: the CHID of TYPE from `fukivmm smbios chids`
chid() {
	"$FUKIVMM" smbios chids "$1" | awk -v t="$2" '$1 == t { gsub(/[{}]/, "", $2); print $2 }'
}

cfg ident-a none "$OVMF" 'sku = "TENANT-A"'
cfg ident-b none "$OVMF" 'sku = "TENANT-B"' 'board_product = "board-b"'
cfg ident-c none "$OVMF" 'manufacturer = "  Other Corp "' 'product = "0042 Box"' \
	'family = "Boxes"' 'bios_release = "10.3"' 'bios_version = "01.02"' 'chassis_type = 17'
cfg ident-d none "$OVMF" 'manufacturer = "Nobody"'

# ---- smbios dump: deterministic, parseable, the anchor checksums ----
if "$FUKIVMM" smbios dump "$TMP/ident-a.toml" -o "$TMP/a1.dmi" --anchor "$TMP/a.ep" &&
	"$FUKIVMM" smbios dump "$TMP/ident-a.toml" >"$TMP/a2.dmi" &&
	cmp -s "$TMP/a1.dmi" "$TMP/a2.dmi" && [ "$(head -c5 "$TMP/a.ep")" = "_SM3_" ] &&
	[ "$(od -An -tu1 -v "$TMP/a.ep" | awk '{for(i=1;i<=NF;i++)s+=$i} END {print s % 256}')" = 0 ]; then
	pass smbios-dump
else
	fail smbios-dump "dump not reproducible, or bad _SM3_ anchor"
fi

# ---- CHIDs against fwupd ----
if ! command -v fwupdtool >/dev/null 2>&1; then
	skip chids-fwupd "fwupdtool not installed (Debian package fwupd)"
else
	for id in ident-a ident-b ident-c ident-d; do
		d=$TMP/sysfw-$id
		mkdir -p "$d/dmi/tables"
		"$FUKIVMM" smbios dump "$TMP/$id.toml" -o "$d/dmi/tables/DMI" \
			--anchor "$d/dmi/tables/smbios_entry_point"
		# fwupd reads DIR/dmi/tables/{DMI,smbios_entry_point} under
		# FWUPD_SYSFSFWDIR; its first 15 hardware-ID lines are types 0-14
		FWUPD_SYSFSFWDIR=$d fwupdtool hwids 2>/dev/null |
			awk '/^Hardware IDs/ {on = 1; next} on && /<-|not available/ && n < 15 {
				if ($0 ~ /^\{/) { g = $1; gsub(/[{}]/, "", g); print n + 0, g } else print n + 0, "none"; n++ }' \
			>"$TMP/fwupd-$id"
		"$FUKIVMM" smbios chids "$TMP/$id.toml" |
			awk '$1 ~ /^[0-9]+$/ && $1 < 15 { g = $2; gsub(/[{}]/, "", g); print $1, g }' >"$TMP/ours-$id"
		if [ "$(wc -l <"$TMP/fwupd-$id")" -ne 15 ]; then
			fail "chids-fwupd-$id" "fwupdtool printed no hardware IDs for the dump"
			continue
		fi
		# where fwupd says "not available" (a string absent from the tables)
		# systemd-stub hashes an empty string instead: compare the rest
		# both lists are types 0..14 in order
		paste -d' ' "$TMP/fwupd-$id" "$TMP/ours-$id" >"$TMP/both-$id"
		bad=$(awk '$1 != $3 || ($2 != "none" && $2 != $4)' "$TMP/both-$id")
		same=$(awk '$2 != "none" && $2 == $4' "$TMP/both-$id" | wc -l)
		if [ -z "$bad" ] && [ "$(wc -l <"$TMP/ours-$id")" -eq 15 ] && [ "$same" -ge 8 ]; then
			pass "chids-fwupd-$id"
		else
			fail "chids-fwupd-$id" "differ from fwupdtool (type fwupd type ours): $bad"
		fi
	done
fi

# ---- UKIs ----
if [ ! -f "$STUB" ] || ! command -v objcopy >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	skip uki "needs $STUB (systemd-boot-efi), objcopy and python3"
	exit 0
fi
need_guest tenant.rom uki-build || exit 0
need_guest basic.rom uki-build || exit 0
if [ ! -f "$OVMF" ]; then
	skip uki "needs $OVMF (ovmf)"
	exit 0
fi

A3=$(chid "$TMP/ident-a.toml" 3)
B3=$(chid "$TMP/ident-b.toml" 3)
C5=$(chid "$TMP/ident-c.toml" 5)
A5=$(chid "$TMP/ident-a.toml" 5)
python3 "$MKUKI" efifw --fwid tenant --payload "$GUESTS/tenant.rom" -o "$TMP/fw-tenant" &&
python3 "$MKUKI" efifw --fwid basic --payload "$GUESTS/basic.rom" -o "$TMP/fw-basic" &&
python3 "$MKUKI" efifw --fwid ovmf --payload "$OVMF" -o "$TMP/fw-ovmf" &&
python3 "$MKUKI" hwids -o "$TMP/hwids3" \
	--uefi-fw "Tenant A:tenant:$A3" --uefi-fw "Tenant B:basic:$B3" --uefi-fw "Other:ovmf:$C5" &&
python3 "$MKUKI" hwids -o "$TMP/hwids2" --uefi-fw "Generic:tenant:$A5" --uefi-fw "Specific:ovmf:$A3" &&
python3 "$MKUKI" build --stub "$STUB" -o "$TMP/three.efi" --section .efifw="$TMP/fw-tenant" \
	--section .efifw="$TMP/fw-basic" --section .efifw="$TMP/fw-ovmf" --section .hwids="$TMP/hwids3" &&
python3 "$MKUKI" build --stub "$STUB" -o "$TMP/two.efi" --section .efifw="$TMP/fw-tenant" \
	--section .efifw="$TMP/fw-ovmf" --section .hwids="$TMP/hwids2"
if [ $? -ne 0 ]; then
	fail uki-build "could not build the test UKIs"
	exit 0
fi

sha() { sha384sum "$1" | cut -d' ' -f1; }

# inspect: every firmware with its fwid, size and SHA-384, and the table
out=$("$FUKIVMM" uki inspect "$TMP/three.efi")
ok=1
for f in tenant:$GUESTS/tenant.rom basic:$GUESTS/basic.rom ovmf:$OVMF; do
	id=${f%%:*} p=${f#*:}
	echo "$out" | grep -q "fwid \"$id\" size $(stat -c %s "$p") sha384 $(sha "$p")" || ok=0
done
echo "$out" | grep -q "Hardware IDs (.hwids): 3 records" || ok=0
"$FUKIVMM" uki inspect --json "$TMP/three.efi" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["efifw"]) == 3 and len(d["hwids"]["records"]) == 3' || ok=0
[ $ok = 1 ] && pass uki-inspect || fail uki-inspect "$out"

# select: each identity gets its firmware, for the right reason
sel() { # NAME UKI CONFIG FWID TYPE
	o=$("$FUKIVMM" uki select --json "$2" "$3")
	st=$?
	if [ $st -eq 0 ] && echo "$o" | grep -q "\"fwid\": \"$4\"" && echo "$o" | grep -q "\"chid_type\": $5,"; then
		pass "$1"
	else
		fail "$1" "status $st, expected fwid $4 by CHID type $5: $o"
	fi
}
sel uki-select-a "$TMP/three.efi" "$TMP/ident-a.toml" tenant 3
sel uki-select-b "$TMP/three.efi" "$TMP/ident-b.toml" basic 3
sel uki-select-c "$TMP/three.efi" "$TMP/ident-c.toml" ovmf 5
# priority: ident-a matches both records of two.efi; type 3 beats type 5
sel uki-select-priority "$TMP/two.efi" "$TMP/ident-a.toml" ovmf 3
"$FUKIVMM" uki select "$TMP/three.efi" "$TMP/ident-d.toml" >/dev/null 2>"$TMP/nomatch.err"
st=$?
if [ $st -eq 1 ] && grep -q "no uefi-fw record" "$TMP/nomatch.err"; then
	pass uki-select-nomatch
else
	fail uki-select-nomatch "status $st (expected 1): $(cat "$TMP/nomatch.err")"
fi

# extract: the payload, byte for byte
ok=1
for f in tenant:$GUESTS/tenant.rom basic:$GUESTS/basic.rom ovmf:$OVMF; do
	id=${f%%:*} p=${f#*:}
	"$FUKIVMM" uki extract "$TMP/three.efi" --fwid "$id" -o "$TMP/x-$id" && cmp -s "$TMP/x-$id" "$p" || ok=0
done
"$FUKIVMM" uki extract "$TMP/three.efi" --fwid nosuch -o "$TMP/x-none" 2>/dev/null
[ $? -eq 1 ] || ok=0
[ $ok = 1 ] && pass uki-extract || fail uki-extract "payload differs or bad exit status"

# measure: the selected firmware under the config's platform, equal to
# `fukivmm measure` of a config naming that firmware directly
for plat in sev-snp tdx; do
	cfg m-$plat $plat /nonexistent.fd 'manufacturer = "  Other Corp "' 'product = "0042 Box"' \
		'family = "Boxes"' 'bios_release = "10.3"' 'bios_version = "01.02"' 'chassis_type = 17'
	sed "s#/nonexistent.fd#$OVMF#" "$TMP/m-$plat.toml" >"$TMP/m-$plat-direct.toml"
	got=$("$FUKIVMM" uki measure "$TMP/three.efi" "$TMP/m-$plat.toml" 2>"$TMP/m.err")
	want=$("$FUKIVMM" measure "$TMP/m-$plat-direct.toml" 2>>"$TMP/m.err")
	if [ -n "$got" ] && [ "$got" = "$want" ]; then
		pass "uki-measure-$plat"
	else
		fail "uki-measure-$plat" "uki measure '$got' vs measure '$want': $(cat "$TMP/m.err")"
	fi
done
cfg m-none none /nonexistent.fd 'sku = "TENANT-A"'
"$FUKIVMM" uki measure "$TMP/three.efi" "$TMP/m-none.toml" >/dev/null 2>"$TMP/plain.err"
[ $? -eq 2 ] && grep -q "a plain guest has no launch measurement" "$TMP/plain.err" &&
	pass uki-measure-plain ||
	fail uki-measure-plain "expected status 2 and 'a plain guest has no launch measurement': $(cat "$TMP/plain.err")"

# malformed input: clean errors, status 2
head -c 3000 "$TMP/three.efi" >"$TMP/trunc.efi"
"$FUKIVMM" uki inspect "$TMP/trunc.efi" >/dev/null 2>"$TMP/trunc.err"
st1=$?
"$FUKIVMM" uki inspect "$GUESTS/tenant.rom" >/dev/null 2>"$TMP/rom.err"
st2=$?
if [ $st1 -eq 2 ] && [ $st2 -eq 2 ] && grep -q "not a PE file" "$TMP/rom.err" &&
   [ "$(wc -l <"$TMP/trunc.err")" = 1 ]; then
	pass uki-malformed
else
	fail uki-malformed "status $st1/$st2, expected 2 with one clean line: $(cat "$TMP/trunc.err" "$TMP/rom.err")"
fi
