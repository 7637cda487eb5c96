#!/bin/sh
# tests/linuxguest/prepare.sh: the Linux guest of test_linux.sh, in
# build/linuxguest/: Debian's kernel (the package tests/kvmvm uses, fetched
# once into build/kvmvm/) as vmlinuz, and initrd.cpio holding
# build/guest/linux-init as /init plus the virtio_blk module.  Runs on the
# host; exit status 0 when both files are ready.
set -eu
cd "$(dirname "$0")/../.."
out=build/linuxguest
init=build/guest/linux-init
[ -x "$init" ] || { echo "linuxguest: $init not built (make guests)" >&2; exit 1; }
command -v cpio >/dev/null || { echo "linuxguest: cpio is missing (Debian package cpio)" >&2; exit 1; }
if [ -f "$out/initrd.cpio" ] && [ -f "$out/vmlinuz" ] && [ "$out/initrd.cpio" -nt "$init" ]; then
	exit 0
fi
rm -rf "$out.tmp"
bash tests/kvmvm/run.sh --export-kernel "$out.tmp/k" virtio_blk >&2
mkdir -p "$out.tmp/root/dev" "$out.tmp/root/proc" "$out.tmp/root/sys"
cp "$init" "$out.tmp/root/init"
cp "$out.tmp/k/virtio_blk.ko" "$out.tmp/root/virtio_blk.ko"
(cd "$out.tmp/root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) >"$out.tmp/initrd.cpio"
mv "$out.tmp/k/vmlinuz" "$out.tmp/vmlinuz"
mv "$out.tmp/k/kernel.version" "$out.tmp/kernel.version"
rm -rf "$out.tmp/k" "$out.tmp/root" "$out"
mv "$out.tmp" "$out"
