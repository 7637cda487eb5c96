#!/bin/sh
# needs: kvm
# Integration test: a real Linux kernel (Debian's, the one tests/kvmvm runs)
# boots on fukivmm under Debian's SeaBIOS and linuxboot ROM, with the
# initramfs of tests/linuxguest.  Its /init reports the CPUs (MADT), the
# ACPI tables, the virtio-blk disk and its interrupt type; reads a marker
# from sector 0, writes sector 1, and powers off through ACPI S5, so
# fukivmm exits 0.  The host then checks the disk and that the disk's
# notifications and MSI-X interrupts used ioeventfd and irqfds.
. "$(dirname "$0")/lib.sh"

BIOS=${FUKI_SEABIOS:-/usr/share/seabios/bios-256k.bin}
LG=build/linuxguest

need_kvm linux-boot linux-rom-before-disk linux-disk linux-fast-paths || exit 0
if [ ! -f "$BIOS" ] || [ ! -f /usr/share/qemu/linuxboot_dma.bin ]; then
	for n in linux-boot linux-rom-before-disk linux-disk linux-fast-paths; do
		skip "$n" "needs $BIOS and /usr/share/qemu/linuxboot_dma.bin (seabios, qemu-system-data)"
	done
	exit 0
fi
# on a host with /dev/kvm this builds the guest; inside tests/kvmvm,
# tests/run.sh has built it before starting the VM
[ -f "$LG/initrd.cpio" ] || sh tests/linuxguest/prepare.sh >/dev/null 2>&1 || true
if [ ! -f "$LG/initrd.cpio" ] || [ ! -f "$LG/vmlinuz" ]; then
	for n in linux-boot linux-rom-before-disk linux-disk linux-fast-paths; do
		skip "$n" "no $LG/vmlinuz + initrd.cpio (tests/linuxguest/prepare.sh could not build them)"
	done
	exit 0
fi

MARKER="fukivmm-linux-disk-marker"
disk=$TMP/linux-disk.img
printf '%s\n' "$MARKER" >"$disk"
truncate -s 8M "$disk"
sed -e "s|@BIOS@|$BIOS|" -e "s|@KERNEL@|$PWD/$LG/vmlinuz|" -e "s|@INITRD@|$PWD/$LG/initrd.cpio|" \
	-e "s|@DISK@|$disk|" -e "s|@IRQCHIP@|kernel|" "$CONFIGS/linux.toml.in" >"$TMP/linux.toml"
run_vm "$TMP/linux.toml" 900
# the kernel's serial console writes CRLF
tr -d '\r' <"$OUT_FILE" >"$OUT_FILE.lf" && mv "$OUT_FILE.lf" "$OUT_FILE"
# exit 0: the kernel's ACPI power-off reached the PIIX4 PM1 block
expect linux-boot 0 'linuxinit: hello from init, Linux ' '^linuxinit: cpus online 2$' \
	'^linuxinit: acpi tables:.* APIC' '^linuxinit: acpi tables:.* FACP' \
	'^linuxinit: virtio_blk module: loaded$' "^linuxinit: sector 0: \"$MARKER\"\$" \
	'^linuxinit: vda sectors 16384$' '^linuxinit: irq .*PCI-MSIX.*virtio0' \
	'^linuxinit: powering off$' || exit 0
# bootorder puts the linuxboot ROM first, as QEMU does: SeaBIOS must not try
# the (unbootable) disk before it
if grep -q 'Booting from Hard Disk' "$OUT_FILE"; then
	fail linux-rom-before-disk "SeaBIOS tried the disk before the linuxboot ROM"
else
	pass linux-rom-before-disk
fi
if od -A n -c -j 512 -N 64 "$disk" | tr -d ' \n' | grep -q 'writtenbyLinux.*onfukivmm'; then
	pass linux-disk
else
	fail linux-disk "sector 1 of the disk file: $(od -A d -c -j 512 -N 64 "$disk" | head -3)"
fi
sd=$(grep 'event=shutdown' "$ERR_FILE")
n_ev=$(echo "$sd" | sed -n 's/.* notify_eventfd=\([0-9]*\).*/\1/p')
n_irqfd=$(echo "$sd" | sed -n 's/.* msi_irqfd=\([0-9]*\).*/\1/p')
if [ "${n_ev:-0}" -gt 0 ] && [ "${n_irqfd:-0}" -gt 0 ]; then
	pass "linux-fast-paths ($n_ev notifications by ioeventfd, $n_irqfd MSIs by irqfd)"
else
	fail linux-fast-paths "$sd"
fi
