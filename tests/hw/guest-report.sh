#!/bin/sh
# tests/hw/guest-report.sh: runs INSIDE the confidential guest (as /init of a
# small initrd, or from any shell).  Fetches an attestation report through
# configfs-tsm (Linux >= 6.7, CONFIG_TSM_REPORTS + sev-guest / tdx-guest)
# and prints it in hex between markers on the serial console, where
# tests/hw/attest.sh picks it up.  Owns nothing else.
set -eu
[ "$$" = 1 ] && { mount -t proc proc /proc; mount -t sysfs sys /sys; }
mountpoint -q /sys/kernel/config 2>/dev/null || mount -t configfs configfs /sys/kernel/config
R=/sys/kernel/config/tsm/report/fuki.$$
mkdir "$R"
# 64 bytes of report data: fixed, so the kit can check it round-trips
printf 'fukivmm-hw-kit-0123456789abcdef0123456789abcdef0123456789abcdef' > "$R/inblob"
echo "FUKI-PROVIDER $(cat "$R/provider")"
echo "FUKI-REPORT-BEGIN"
od -An -v -tx1 "$R/outblob" | tr -d ' \n'
echo
echo "FUKI-REPORT-END"
rmdir "$R"
# optional second stage: ring the firmware-swap doorbell with a client the
# tester supplies (see README), then the VMM rebuilds and we run again
if [ -x /fuki-swap ] && [ ! -e /fuki-swapped ]; then
	echo "FUKI-SWAP"
	/fuki-swap
fi
[ "$$" = 1 ] && poweroff -f
exit 0
