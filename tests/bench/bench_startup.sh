#!/bin/sh
# Start-up: exec -> debug-exit for a firmware that prints one byte and exits
# (build/guest/hello.rom), fukivmm against QEMU (-M microvm -bios, same image,
# same memory) in the same run; and fukivmm's peak RSS.
# Targets (issue "Foundation"): median <= 5 ms, <= 0.15 x QEMU, RSS <= 4 MiB +
# touched guest memory.
. "$(dirname "$0")/lib.sh"
N=${BENCH_RUNS:-30}
ROM=$ROOT/build/guest/hello.rom
if ! have_kvm; then
	echo "SKIP: no /dev/kvm: start-up benchmark not run"
	exit 0
fi
cat >"$BTMP/hello.toml" <<T
[vm]
memory = "64M"
[firmware]
path = "$ROM"
[serial]
output = "none"
[debug_exit]
port = 0xf4
T
out=$("$FUKIVMM" run "$BTMP/hello.toml" 2>&1); st=$?
if [ $st != 65 ]; then
	echo "fukivmm did not run hello.rom (status $st): $out"
	exit 1
fi
f=$(median_ms "$N" "$FUKIVMM" run "$BTMP/hello.toml")
echo "fukivmm start-up (exec -> debug-exit), median of $N: $f ms"
set -- $(peak_rss_kib "$FUKIVMM" run "$BTMP/hello.toml")
echo "fukivmm peak RSS: $1 KiB (guest touches a few pages)"
if command -v qemu-system-x86_64 >/dev/null; then
	Q="qemu-system-x86_64 -accel kvm -M microvm -m 64M -bios $ROM -nodefaults -no-user-config -display none -serial none -device isa-debug-exit,iobase=0xf4,iosize=4"
	qs=$($Q >/dev/null 2>&1; echo $?)
	if [ "$qs" = 65 ]; then
		q=$(median_ms "$N" $Q)
		echo "qemu -M microvm start-up, median of $N: $q ms"
		echo "ratio fukivmm/qemu: $(ratio "$f" "$q")"
		set -- $(peak_rss_kib $Q)
		echo "qemu peak RSS: $1 KiB"
	else
		echo "qemu could not run the image (status $qs): no ratio"
	fi
else
	echo "qemu-system-x86_64 not installed: no ratio (make deps installs it)"
fi
