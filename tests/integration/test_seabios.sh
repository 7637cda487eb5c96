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
run_vm "$TMP/seabios-disk.toml" 60
expect seabios-disk "$GUEST_PASS" 'SeaBIOS \(version' 'bootsect: hello from the disk'

# a reset after SeaBIOS shadowed and write-protected itself: the rebuild
# brings the PAM registers and the ROM alias back to the power-on state and
# SeaBIOS boots again (bootsect-reboot.img resets once by 0xCF9)
need_guest bootsect-reboot.img seabios-reboot && {
	cp "$GUESTS/bootsect-reboot.img" "$TMP/disk2.img"
	truncate -s 1M "$TMP/disk2.img"
	sed -e "s|@BIOS@|$BIOS|" -e "s|@DISK@|$TMP/disk2.img|" \
		"$CONFIGS/seabios-disk.toml.in" >"$TMP/seabios-reboot.toml"
	run_vm "$TMP/seabios-reboot.toml" 60
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

# the doorbell: the provider test firmware hands SeaBIOS over as a raw ROM
# (provider-seabios.rom, built only where bios-256k.bin exists), resets, and
# the rebuilt VM runs SeaBIOS, which boots the same disk
if [ ! -f "$GUESTS/provider-seabios.rom" ]; then
	skip seabios-doorbell-swap "build/guest/provider-seabios.rom was not built (no $BIOS at build time)"
	exit 0
fi
sed -e "s|@GUESTS@|$GUESTS|" -e "s|@DISK@|$TMP/disk.img|" \
	"$CONFIGS/seabios-swap.toml.in" >"$TMP/seabios-swap.toml"
run_vm "$TMP/seabios-swap.toml" 60
expect seabios-doorbell-swap "$GUEST_PASS" 'provider: status 0' 'SeaBIOS \(version' \
	'bootsect: hello from the disk' && {
	if grep -q "^fukivmm-event .* event=rebuilt .*firmware=guest format=raw-rom size=262144" "$ERR_FILE"; then
		pass seabios-doorbell-swap-rebuilt
	else
		fail seabios-doorbell-swap-rebuilt "$(grep 'event=rebuilt' "$ERR_FILE")"
	fi
}
