#!/bin/sh
# Reset-rebuild: a guest that resets itself 100 times (build/guest/reset100.rom);
# per-reset cost = (T(reset100) - T(hello)) / 100, for fukivmm (new KVM VM per
# reset) and QEMU -M pc (in-place reset) in the same run.  Target <= 1 ms.
. "$(dirname "$0")/lib.sh"
N=${BENCH_RUNS:-10}
if ! have_kvm; then
	echo "SKIP: no /dev/kvm: reset-rebuild benchmark not run"
	exit 0
fi
for g in hello reset100; do
	cat >"$BTMP/$g.toml" <<T
[vm]
memory = "64M"
[firmware]
path = "$ROOT/build/guest/$g.rom"
[serial]
output = "none"
[debug_exit]
port = 0xf4
T
done
st=$("$FUKIVMM" run "$BTMP/reset100.toml" >/dev/null 2>&1; echo $?)
[ "$st" = 65 ] || { echo "fukivmm: reset100.rom failed (status $st)"; exit 1; }
h=$(median_ms "$N" "$FUKIVMM" run "$BTMP/hello.toml")
r=$(median_ms "$N" "$FUKIVMM" run "$BTMP/reset100.toml")
per=$(python3 -c "print('%.3f' % ((float('$r') - float('$h')) / 100))")
echo "fukivmm: hello $h ms, 100 resets $r ms: $per ms per reset (includes the guest's own boot code)"
"$FUKIVMM" run "$BTMP/reset100.toml" --log-level debug 2>&1 >/dev/null | \
	sed -n 's/.*rebuilt in \([0-9.]*\) ms.*/\1/p' | python3 -c "
import sys, statistics
v = [float(x) for x in sys.stdin if x.strip()]
if v: print('fukivmm rebuild (stop -> new VM running), %d resets: median %.3f ms, max %.3f ms' % (len(v), statistics.median(v), max(v)))"
if command -v qemu-system-x86_64 >/dev/null; then
	Q="qemu-system-x86_64 -accel kvm -M pc -m 64M -nodefaults -no-user-config -display none -serial none -device isa-debug-exit,iobase=0xf4,iosize=4 -bios"
	qs=$($Q "$ROOT/build/guest/reset100.rom" >/dev/null 2>&1; echo $?)
	if [ "$qs" = 65 ]; then
		qh=$(median_ms "$N" $Q "$ROOT/build/guest/hello.rom")
		qr=$(median_ms "$N" $Q "$ROOT/build/guest/reset100.rom")
		qper=$(python3 -c "print('%.3f' % ((float('$qr') - float('$qh')) / 100))")
		echo "qemu -M pc: hello $qh ms, 100 resets $qr ms: $qper ms per reset"
		echo "ratio fukivmm/qemu per reset: $(ratio "$per" "$qper")"
	else
		echo "qemu could not run reset100.rom (status $qs): no ratio"
	fi
fi
