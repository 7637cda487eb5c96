#!/bin/sh
# needs: kvm
# Integration test: build/guest/vblk.rom, a minimal virtio-blk driver with
# one MSI-X vector, on a 1 MiB disk whose sector 0 holds a marker: GET_ID
# (the disk's file name), a write of sector 1, FLUSH, a read of sectors 0-1,
# a read past the end (IOERR), one interrupt per request.  The host then
# checks that the disk file holds exactly the marker and the pattern.  Run
# with KVM's irqchip and with the split one (MSIs through fukivmm).
. "$(dirname "$0")/lib.sh"

need_kvm virtio-blk-msix-kernel virtio-blk-disk-kernel virtio-blk-fast-paths-kernel \
	virtio-blk-msix-split virtio-blk-disk-split virtio-blk-fast-paths-split || exit 0
need_guest vblk.rom virtio-blk-msix-kernel || exit 0

MARKER=fukivmm-vblk-sector0

# the bytes vblk.rom writes to sector 1: 16 lines of 32 bytes
pattern() {
	_l=0
	while [ $_l -lt 16 ]; do
		printf 'vblk-sector1 line %02d 0123456789\n' $_l
		_l=$((_l + 1))
	done
}

# the disk as the guest must leave it: marker, zeros, pattern, zeros
printf '%s' "$MARKER" >"$TMP/expect.img"
truncate -s 512 "$TMP/expect.img"
pattern >>"$TMP/expect.img"
truncate -s 1M "$TMP/expect.img"

for chip in kernel split; do
	dir=$TMP/$chip
	mkdir -p "$dir"
	disk=$dir/vblk-disk.img
	printf '%s' "$MARKER" >"$disk"
	truncate -s 1M "$disk"
	sed -e "s|@ROM@|$GUESTS/vblk.rom|" -e "s|@DISK@|$disk|" -e "s|@IRQCHIP@|$chip|" \
		"$CONFIGS/vblk.toml.in" >"$dir/vblk.toml"
	run_vm "$dir/vblk.toml" 120
	expect "virtio-blk-msix-$chip" "$GUEST_PASS" '^vblk: id "vblk-disk\.img"$' \
		'^vblk: sector 0 marker ok, sector 1 pattern ok$' \
		'^vblk: read at sector 2048 \(past the end\): status 1$' \
		'^vblk: 5 requests, 5 interrupts$' '^guest: PASS$' || {
		fail "virtio-blk-disk-$chip" "not checked: the guest did not pass"
		continue
	}
	n=$(grep -c '^vblk: hello from vblk' "$OUT_FILE")
	if [ "$n" != 1 ]; then
		fail "virtio-blk-disk-$chip" "the guest started $n times (reset or triple fault?)"
	elif ! cmp -s "$TMP/expect.img" "$disk"; then
		fail "virtio-blk-disk-$chip" "disk file differs from marker + pattern: $(cmp "$TMP/expect.img" "$disk" 2>&1)"
		od -A d -c -j 512 -N 64 "$disk"
	else
		pass "virtio-blk-disk-$chip"
	fi
	# the fast paths: the 5 notifications came through KVM_IOEVENTFD and the
	# 5 MSI-X interrupts through irqfds, none by exit or KVM_SIGNAL_MSI
	sd=$(grep 'event=shutdown' "$ERR_FILE")
	if echo "$sd" | grep -q 'notify_eventfd=5 msi_irqfd=5 msi_signal=0'; then
		pass "virtio-blk-fast-paths-$chip"
	else
		fail "virtio-blk-fast-paths-$chip" "want notify_eventfd=5 msi_irqfd=5 msi_signal=0: $sd"
	fi
done
