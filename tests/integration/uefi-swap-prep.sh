#!/bin/sh
# tests/integration/uefi-swap-prep.sh DIR: the inputs of test_uefi_swap.sh,
# built on a host that has the tools (tests/run.sh runs it before it boots
# tests/kvmvm, whose VM has no python3 or mtools; the directory travels in
# with build/).  Writes to DIR:
#   ovmf.igvm    the tenant's firmware: a second, different OVMF build
#                from the provider's, Debian's 4 MiB one (OVMF_VARS_4M.fd
#                and OVMF_CODE_4M.fd joined into one 4 MiB image, as
#                OVMF.fd joins the 2 MiB pair; it runs from ROM with its
#                variables in memory), as a native IGVM file, its pages at
#                the top of 4 GiB (build/guest/mkigvm --firmware)
#   fuki.efi     a UKI made from systemd's stub by
#                tests/integration/uki/mkuki.py: .efifw "tenant-ovmf" holds
#                ovmf.igvm, .hwids names it for the CHID type 3 fukivmm
#                gives the identity in smbios.toml; with FUKI_TEST_LONG=1
#                (make test-long) also the Linux guest of test_linux.sh
#                (.linux and .initrd from build/linuxguest/, made by
#                tests/linuxguest/prepare.sh when missing, and a .cmdline),
#                when it can be had: the file "linux" (the kernel's
#                version) says so
#   esp.img      a FAT16 ESP (no partition table) holding the UEFI client
#                (build/uefi/fuki-client.efi) as \EFI\BOOT\BOOTX64.EFI and
#                that UKI as \EFI\Linux\fuki.efi
#   esp-oneshot.img  the same with \EFI\fuki\client.options = "one-shot"
#   smbios.toml  the [smbios] identity; chid3 its CHID type 3
#   igvm.sha384  the SHA-384 of ovmf.igvm, hex
# Exit 1 with one line on stderr when a tool or input is missing.
dir=${1:?usage: uefi-swap-prep.sh DIR}
root=$(cd "$(dirname "$0")/../.." && pwd)
stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
mkuki=$root/tests/integration/uki/mkuki.py
mkigvm=$root/build/guest/mkigvm
client=$root/build/uefi/fuki-client.efi
fukivmm=$root/build/fukivmm
ovmf=${FUKI_OVMF:-/usr/share/ovmf/OVMF.fd}
tcode=${FUKI_TENANT_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
tvars=${FUKI_TENANT_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}
lg=$root/build/linuxguest

for f in "$stub" "$client" "$fukivmm" "$mkigvm" "$ovmf" "$tcode" "$tvars"; do
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
printf '[firmware]\npath = "%s"\n\n' "$ovmf" | cat - "$dir/smbios.toml" >"$dir/chids.toml"
chid3=$("$fukivmm" smbios chids "$dir/chids.toml" | awk '$1 == 3 { gsub(/[{}]/, "", $2); print $2 }')
[ -n "$chid3" ] || { echo "uefi-swap-prep: no CHID type 3 from fukivmm smbios chids" >&2; exit 1; }
echo "$chid3" >"$dir/chid3"

cat "$tvars" "$tcode" >"$dir/tenant.fd" &&
	"$mkigvm" --firmware "$dir/tenant.fd" "$dir/ovmf.igvm" || exit 1
stat -c %s "$dir/tenant.fd" >"$dir/tenant.size"
rm -f "$dir/tenant.fd"
sha384sum "$dir/ovmf.igvm" | cut -d' ' -f1 >"$dir/igvm.sha384"
python3 "$mkuki" efifw --fwid tenant-ovmf --payload "$dir/ovmf.igvm" -o "$dir/fw.efifw" &&
	python3 "$mkuki" hwids --uefi-fw "vm:tenant-ovmf:$chid3" -o "$dir/match.hwids" || exit 1
rm -f "$dir/linux"
linux=""
if [ "${FUKI_TEST_LONG:-0}" = 1 ]; then
	[ -f "$lg/vmlinuz" ] && [ -f "$lg/initrd.cpio" ] ||
		(cd "$root" && sh tests/linuxguest/prepare.sh) >/dev/null 2>&1
fi
if [ "${FUKI_TEST_LONG:-0}" = 1 ] && [ -f "$lg/vmlinuz" ] && [ -f "$lg/initrd.cpio" ]; then
	printf 'console=ttyS0 quiet panic=0' >"$dir/cmdline"
	linux="--section .linux=$lg/vmlinuz --section .initrd=$lg/initrd.cpio --section .cmdline=$dir/cmdline"
fi
# shellcheck disable=SC2086 # a list of options
python3 "$mkuki" build --stub "$stub" --section .efifw="$dir/fw.efifw" \
	--section .hwids="$dir/match.hwids" $linux -o "$dir/fuki.efi" || exit 1
if [ -n "$linux" ]; then
	cat "$lg/kernel.version" >"$dir/linux" 2>/dev/null || echo linux >"$dir/linux"
fi
# room for the UKI and the client, at least FAT16's 16 MiB
mib=$(( ($(stat -c %s "$dir/fuki.efi") >> 20) + 16 ))
rm -f "$dir/esp.img"
truncate -s ${mib}M "$dir/esp.img" &&
	mkfs.vfat -F 16 -n FUKI "$dir/esp.img" >/dev/null &&
	mmd -i "$dir/esp.img" ::/EFI ::/EFI/BOOT ::/EFI/Linux &&
	mcopy -i "$dir/esp.img" "$client" ::/EFI/BOOT/BOOTX64.EFI &&
	mcopy -i "$dir/esp.img" "$dir/fuki.efi" ::/EFI/Linux/fuki.efi || exit 1
# the same ESP with \EFI\fuki\client.options asking for one-shot swaps
cp "$dir/esp.img" "$dir/esp-oneshot.img" &&
	printf 'one-shot\n' >"$dir/client.options" &&
	mmd -i "$dir/esp-oneshot.img" ::/EFI/fuki &&
	mcopy -i "$dir/esp-oneshot.img" "$dir/client.options" ::/EFI/fuki/client.options || exit 1
rm -f "$dir/fw.efifw" "$dir/match.hwids" "$dir/cmdline" "$dir/chids.toml" "$dir/client.options"
