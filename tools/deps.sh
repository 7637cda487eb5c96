#!/bin/sh
# Install the Debian 12 packages fukivmm needs to build, test, demo and bench.
# Idempotent: only missing packages are installed.  Runs apt-get as root, or
# through sudo otherwise.
set -e
PKGS="gcc make clang libc6-dev linux-libc-dev binutils pkg-config
libcbor-dev libssl-dev liburing-dev libcriterion-dev
qemu-system-x86 qemu-system-data seabios ovmf fio hyperfine python3
fwupd systemd-boot-efi busybox-static cpio gnu-efi mtools dosfstools"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "deps: installing$missing"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
