#!/bin/sh
# needs: kvm
# Linux direct boot through fw_cfg (vmm/launch/linuxboot.c, docs/boot.md): Debian's
# qboot loads build/guest/testkernel.bin with an initrd and a command line;
# the test kernel prints what it received.  A kernel that is not a bzImage
# is refused at start-up (exit status 2).
. "$(dirname "$0")/lib.sh"

QBOOT=${FUKI_QBOOT:-/usr/share/qemu/qboot.rom}

need_kvm qboot-direct-boot qboot-initrd-contents kernel-not-bzimage || exit 0

# kernel-not-bzimage: needs no particular firmware, only a file to name
need_guest basic.rom kernel-not-bzimage && {
	head -c 8192 /dev/zero >"$TMP/notakernel"
	sed -e "s|@FIRMWARE@|$GUESTS/basic.rom|" -e "s|@KERNEL@|$TMP/notakernel|" \
		"$CONFIGS/kernel-not-bzimage.toml.in" >"$TMP/notbz.toml"
	run_vm "$TMP/notbz.toml" 30
	if [ "$STATUS" = 2 ] && grep -q "HdrS" "$ERR_FILE"; then
		pass kernel-not-bzimage
	else
		fail kernel-not-bzimage "exit status $STATUS (expected 2 and a line naming \"HdrS\")"
		tail -5 "$ERR_FILE"
	fi
}

if [ ! -f "$QBOOT" ]; then
	skip qboot-direct-boot "no $QBOOT (Debian package qemu-system-data)"
	skip qboot-initrd-contents "no $QBOOT"
	exit 0
fi
need_guest testkernel.bin qboot-direct-boot || exit 0

# a 3000-byte initrd with known contents
make_lines "$TMP/initrd.img" 100 fukivmm
sed -e "s|@FIRMWARE@|$QBOOT|" -e "s|@KERNEL@|$GUESTS/testkernel.bin|" \
	-e "s|@INITRD@|$TMP/initrd.img|" "$CONFIGS/qboot.toml.in" >"$TMP/qboot.toml"
run_vm "$TMP/qboot.toml" 120
# QEMU's x86_load_linux() for 256 MiB: initrd under 256M - 0x28000 (ACPI room)
expect qboot-direct-boot $GUEST_PASS \
	'^testkernel: cmdline "console=ttyS0 fukivmm=1"$' \
	'^testkernel: initrd 3000 bytes at 0x' \
	'loader 0x000000b0' \
	'^testkernel: fw_cfg kernel 0x00100000 setup 0x00010000 cmdline 0x00020000 initrd 0x0ffd7000$' \
	'^testkernel: acpi rsdp rev 2 xsdt.* FACP.* DSDT; checksums ok; cpus 1 pm1a 0x00000600 sci 9$' \
	'^testkernel: acpi .* APIC' &&
{
	# the initrd in guest RAM must be the bytes fw_cfg holds
	mem=$(sed -n 's/^testkernel: initrd sum \(0x[0-9a-f]*\),.*/\1/p' "$OUT_FILE")
	item=$(sed -n 's/^testkernel: fw_cfg sums .* initrd \(0x[0-9a-f]*\)$/\1/p' "$OUT_FILE")
	if [ -n "$mem" ] && [ "$mem" = "$item" ]; then
		pass qboot-initrd-contents
	else
		fail qboot-initrd-contents "initrd sum in RAM '$mem', in fw_cfg '$item'"
	fi
}
