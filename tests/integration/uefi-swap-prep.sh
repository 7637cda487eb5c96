#!/bin/sh
# tests/integration/uefi-swap-prep.sh DIR: the inputs of test_uefi_swap.sh,
# built on a host that has the tools (tests/run.sh runs it before it boots
# tests/kvmvm, whose VM has no python3 or mtools; the directory travels in
# with build/).  Writes to DIR:
#   esp.img      a 16 MiB FAT16 ESP (no partition table): the UEFI client
#                (build/uefi/fuki-client.efi) as \EFI\BOOT\BOOTX64.EFI and
#                a UKI, \EFI\Linux\fuki.efi, made from systemd's stub by
#                tests/integration/uki/mkuki.py: .efifw "tenant-fw" holds
#                build/guest/tenant.rom (a raw ROM), .hwids names it for
#                the CHID type 3 fukivmm gives the identity in smbios.toml
#   fuki.efi     that UKI, for the config's [uki] path (events name the fwid)
#   smbios.toml  the [smbios] identity
#   tenant.sha384  the SHA-384 of tenant.rom, hex
#   chid3        that CHID
# Exit 1 with one line on stderr when a tool or input is missing.
dir=${1:?usage: uefi-swap-prep.sh DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
mkuki=$root/tests/integration/uki/mkuki.py
client=$root/build/uefi/fuki-client.efi
tenant=$root/build/guest/tenant.rom
fukivmm=$root/build/fukivmm

for f in "$stub" "$client" "$tenant" "$fukivmm"; do
	[ -f "$f" ] || { echo "uefi-swap-prep: $f is missing" >&2; exit 1; }
done
for c in python3 mkfs.vfat mmd mcopy sha384sum; do
	command -v $c >/dev/null 2>&1 || { echo "uefi-swap-prep: $c is not installed" >&2; exit 1; }
done
mkdir -p "$dir" || exit 1
cat >"$dir/smbios.toml" <<EOF
[smbios]
manufacturer = "fukivmm-test"
product = "uefi-swap"
family = "F-UKI"
sku = "SKU-1"
board_manufacturer = "Board-Co"
board_product = "board-1"
EOF
# a whole config for `smbios chids` (the firmware does not change CHIDs)
printf '[firmware]\npath = "%s"\n\n' "$tenant" | cat - "$dir/smbios.toml" >"$dir/chids.toml"
chid3=$("$fukivmm" smbios chids "$dir/chids.toml" | awk '$1 == 3 { gsub(/[{}]/, "", $2); print $2 }')
[ -n "$chid3" ] || { echo "uefi-swap-prep: no CHID type 3 from fukivmm smbios chids" >&2; exit 1; }
python3 "$mkuki" efifw --fwid tenant-fw --payload "$tenant" -o "$dir/fw.efifw" &&
	python3 "$mkuki" hwids --uefi-fw "vm:tenant-fw:$chid3" -o "$dir/match.hwids" &&
	python3 "$mkuki" build --stub "$stub" --section .efifw="$dir/fw.efifw" \
		--section .hwids="$dir/match.hwids" -o "$dir/fuki.efi" || exit 1
rm -f "$dir/esp.img"
truncate -s 16M "$dir/esp.img" &&
	mkfs.vfat -F 16 -n FUKI "$dir/esp.img" >/dev/null &&
	mmd -i "$dir/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/Linux &&
	mcopy -i "$dir/esp.img" "$client" ::/EFI/BOOT/BOOTX64.EFI &&
	mcopy -i "$dir/esp.img" "$dir/fuki.efi" ::/EFI/Linux/fuki.efi || exit 1
sha384sum "$tenant" | cut -d' ' -f1 >"$dir/tenant.sha384"
echo "$chid3" >"$dir/chid3"
