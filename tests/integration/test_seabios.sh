#!/bin/sh
# needs: kvm
# Integration test: Debian's SeaBIOS (/usr/share/seabios/bios-256k.bin, package
# seabios) boots in fukivmm: it needs the i440FX PAM registers to shadow
# itself into RAM, prints its banner on COM1 (fw_cfg etc/sercon-port), finds
# a virtio-blk disk and boots its boot sector (build/guest/bootsect.img),
# which prints a marker and exits through the debug-exit port (status 65).
. "$(dirname "$0")/lib.sh"

BIOS=${FUKI_SEABIOS:-/usr/share/seabios/bios-256k.bin}

if [ ! -f "$BIOS" ]; then
	skip seabios-disk "$BIOS is absent (install Debian's seabios package)"
	exit 0
fi
need_kvm seabios-disk || exit 0
need_guest bootsect.img seabios-disk || exit 0

# the disk: the boot sector, then zeros up to 1 MiB
cp "$GUESTS/bootsect.img" "$TMP/disk.img"
truncate -s 1M "$TMP/disk.img"
sed -e "s|@BIOS@|$BIOS|" -e "s|@DISK@|$TMP/disk.img|" \
	"$CONFIGS/seabios-disk.toml.in" >"$TMP/seabios-disk.toml"
run_vm "$TMP/seabios-disk.toml" 180
expect seabios-disk "$GUEST_PASS" 'SeaBIOS \(version' 'bootsect: hello from the disk' && {
	# SeaBIOS's virtio-blk notifications reached the device through
	# KVM_IOEVENTFD (no exit to fukivmm); SeaBIOS polls, so no MSIs
	n=$(sed -n 's/.*event=shutdown .* notify_eventfd=\([0-9]*\).*/\1/p' "$ERR_FILE")
	if [ -n "$n" ] && [ "$n" -gt 0 ]; then
		pass "seabios-disk-ioeventfd ($n notifications through the eventfd)"
	else
		fail seabios-disk-ioeventfd "notify_eventfd='$n': $(grep 'event=shutdown' "$ERR_FILE")"
	fi
}

# a reset after SeaBIOS shadowed and write-protected itself: the rebuild
# brings the PAM registers and the ROM alias back to the power-on state and
# SeaBIOS boots again (bootsect-reboot.img resets once by 0xCF9)
need_guest bootsect-reboot.img seabios-reboot && {
	cp "$GUESTS/bootsect-reboot.img" "$TMP/disk2.img"
	truncate -s 1M "$TMP/disk2.img"
	sed -e "s|@BIOS@|$BIOS|" -e "s|@DISK@|$TMP/disk2.img|" \
		"$CONFIGS/seabios-disk.toml.in" >"$TMP/seabios-reboot.toml"
	run_vm "$TMP/seabios-reboot.toml" 180
	expect seabios-reboot "$GUEST_PASS" 'bootsect: first boot, resetting' \
		'bootsect: second boot after the reset' 'bootsect: hello from the disk' && {
		n=$(grep -c 'SeaBIOS (version' "$OUT_FILE")
		if [ "$n" = 2 ] && grep -q "event=shutdown status=65 resets=1" "$ERR_FILE"; then
			pass seabios-reboot-twice
		else
			fail seabios-reboot-twice "$n banners; $(grep 'event=shutdown' "$ERR_FILE")"
		fi
	}
}

# bootorder: two bootable disks, the second one first by bootindex; SeaBIOS
# must boot it and never run the first one's boot sector
need_guest bootsect-reboot.img seabios-bootorder && {
	cp "$GUESTS/bootsect-reboot.img" "$TMP/first.img"
	truncate -s 1M "$TMP/first.img"
	cp "$GUESTS/bootsect.img" "$TMP/second.img"
	truncate -s 1M "$TMP/second.img"
	sed -e "s|@BIOS@|$BIOS|" -e "s|@FIRST@|$TMP/first.img|" -e "s|@SECOND@|$TMP/second.img|" \
		"$CONFIGS/seabios-bootorder.toml.in" >"$TMP/seabios-bootorder.toml"
	run_vm "$TMP/seabios-bootorder.toml" 180
	expect seabios-bootorder "$GUEST_PASS" 'bootsect: hello from the disk' && {
		if grep -q 'bootsect: first boot' "$OUT_FILE"; then
			fail seabios-bootorder-not-first "SeaBIOS ran the first disk's boot sector"
		else
			pass seabios-bootorder-not-first
		fi
	}
}

# Linux direct boot under SeaBIOS: QEMU's linuxboot_dma.bin as a fw_cfg
# option ROM loads build/guest/testkernel.bin with an initrd
ROM=${FUKI_LINUXBOOT_ROM:-/usr/share/qemu/linuxboot_dma.bin}
if [ ! -f "$ROM" ]; then
	skip seabios-kernel "no $ROM (Debian package qemu-system-data)"
elif need_guest testkernel.bin seabios-kernel; then
	make_lines "$TMP/initrd.img" 50 seabios
	sed -e "s|@BIOS@|$BIOS|" -e "s|@KERNEL@|$GUESTS/testkernel.bin|" \
		-e "s|@INITRD@|$TMP/initrd.img|" -e "s|@ROM@|$ROM|" \
		"$CONFIGS/seabios-kernel.toml.in" >"$TMP/seabios-kernel.toml"
	run_vm "$TMP/seabios-kernel.toml" 120
	expect seabios-kernel "$GUEST_PASS" 'SeaBIOS \(version' \
		'testkernel: cmdline "console=ttyS0 fukivmm=seabios"$' \
		'^testkernel: initrd 1500 bytes at 0x' \
		'^testkernel: acpi rsdp rev 2 xsdt.* FACP.* DSDT; checksums ok; cpus 1 pm1a 0x00000600 sci 9$' \
		'^testkernel: acpi .* APIC' && {
		mem=$(sed -n 's/^testkernel: initrd sum \(0x[0-9a-f]*\),.*/\1/p' "$OUT_FILE")
		item=$(sed -n 's/^testkernel: fw_cfg sums .* initrd \(0x[0-9a-f]*\)$/\1/p' "$OUT_FILE")
		if [ -n "$mem" ] && [ "$mem" = "$item" ]; then
			pass seabios-kernel-initrd-contents
		else
			fail seabios-kernel-initrd-contents "initrd sum in RAM '$mem', in fw_cfg '$item'"
		fi
	}
fi

# the doorbell: the provider test firmware hands SeaBIOS over as a raw ROM
# (provider-seabios.rom, built only where bios-256k.bin exists), resets, and
# the rebuilt VM runs SeaBIOS, which boots the same disk
if [ ! -f "$GUESTS/provider-seabios.rom" ]; then
	skip seabios-doorbell-swap "build/guest/provider-seabios.rom was not built (no $BIOS at build time)"
	exit 0
fi
sed -e "s|@GUESTS@|$GUESTS|" -e "s|@DISK@|$TMP/disk.img|" \
	"$CONFIGS/seabios-swap.toml.in" >"$TMP/seabios-swap.toml"
run_vm "$TMP/seabios-swap.toml" 180
expect seabios-doorbell-swap "$GUEST_PASS" 'provider: status 0' 'SeaBIOS \(version' \
	'bootsect: hello from the disk' && {
	if grep -q "^fukivmm-event .* event=rebuilt .*firmware=guest format=raw-rom size=262144" "$ERR_FILE"; then
		pass seabios-doorbell-swap-rebuilt
	else
		fail seabios-doorbell-swap-rebuilt "$(grep 'event=rebuilt' "$ERR_FILE")"
	fi
}
