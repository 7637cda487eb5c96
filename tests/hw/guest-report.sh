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
# optional second stage: ring the firmware-swap doorbell (tests/hw/fuki-swap.sh
# with tests/hw/doorbell-kmod, see README); on success the guest resets, the
# VMM relaunches with the new firmware and this script runs again, where
# fuki-swap.sh sees its hand-over marker and does nothing.  A failure must
# not kill PID 1 (set -e): report it and power off.
if [ -x /fuki-swap ]; then
	echo "FUKI-SWAP"
	/fuki-swap || echo "FUKI-SWAP-FAILED"
fi
[ "$$" = 1 ] && poweroff -f
exit 0
