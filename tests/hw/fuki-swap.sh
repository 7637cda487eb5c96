#!/bin/sh
# tests/hw/fuki-swap.sh: runs INSIDE the guest as /fuki-swap (guest-report.sh
# calls it after the first report).  Hands a second firmware image to the VMM
# through the etc/vmlaunchupdate doorbell with fuki_doorbell.ko
# (tests/hw/doorbell-kmod/) and resets.  Owns nothing outside the module's
# device and sysfs files; POSIX sh for busybox.
#
#   /fuki-swap [IMAGE]            IMAGE defaults to /fw2.fd
# Env: FUKI_KO (/fuki_doorbell.ko), FUKI_FORMAT (raw | igvm | a control
# number; default raw), FUKI_FORCE=1 (swap even after a swap).
# Exit: 0 after a swap already done (the host kept our opaque marker); 1 when
# anything fails.  On success it does not return: the machine resets.
set -u
IMG=${1:-/fw2.fd}
KO=${FUKI_KO:-/fuki_doorbell.ko}
FORMAT=${FUKI_FORMAT:-raw}
SYS=/sys/class/misc/fuki_doorbell
DEV=/dev/fuki_doorbell

say() { echo "FUKI-SWAP: $*"; }
fail() { say "FAIL: $*"; exit 1; }

[ -e /proc/self ] || mount -t proc proc /proc || fail "cannot mount /proc"
[ -d /sys/class ] || mount -t sysfs sysfs /sys || fail "cannot mount /sys"
if [ ! -d "$SYS" ]; then
	[ -f "$KO" ] || fail "no module $KO"
	insmod "$KO" || fail "insmod $KO failed (dmesg says why)"
fi
if [ ! -c "$DEV" ]; then
	# an initramfs gets no devtmpfs on /dev by itself
	mount -t devtmpfs devtmpfs /dev 2>/dev/null
	if [ ! -c "$DEV" ]; then
		mm=$(cat "$SYS/dev") || fail "no $SYS/dev"
		mknod "$DEV" c "${mm%%:*}" "${mm#*:}" || fail "mknod $DEV $mm failed"
	fi
fi

# The structure as the host shows it now (one fw_cfg DMA read).
status=unknown caps=unknown osize=unknown
while read -r key val rest; do
	case $key in
	status) status="$val $rest" ;;
	capabilities) caps=$val ;;
	opaque_size) osize=$val ;;
	esac
done < "$SYS/doorbell"
[ "$osize" != unknown ] || fail "cannot read the doorbell (no fw_cfg, no DMA or no etc/vmlaunchupdate: see dmesg)"
say "doorbell: capabilities $caps, last status $status, opaque size $osize"
# The module passes a marker as the opaque region with every image and the
# host keeps it across the relaunch: set means this boot follows a swap.
if [ "$osize" != 0x0 ] && [ "${FUKI_FORCE:-0}" != 1 ]; then
	say "already swapped (opaque region set), last status $status"
	case $status in 0\ *) exit 0 ;; *) exit 1 ;; esac
fi

[ -f "$IMG" ] || fail "no image $IMG"
say "image $IMG, up to $(cat "$SYS/max_image_size") bytes accepted"
cat "$IMG" > "$DEV" || fail "writing $IMG to $DEV failed (too large?)"
if echo "$FORMAT" > "$SYS/ring"; then rc=0; else rc=1; fi
st=$(cat "$SYS/status")
say "ring $FORMAT: status $st"
if [ "$rc" != 0 ]; then
	case $st in
	none*) fail "the doorbell write did not reach the host (dmesg says why)" ;;
	*) fail "the host refused the image: $st" ;;
	esac
fi
say "accepted; resetting into the new firmware"
echo b > /proc/sysrq-trigger
sleep 2
reboot -f
fail "the reset did not happen"
