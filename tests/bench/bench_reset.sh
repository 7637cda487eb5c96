#!/bin/sh
# Reset-rebuild: a guest that resets itself 100 times (build/guest/reset100.rom);
# per-reset cost = (T(reset100) - T(hello)) / 100 for fukivmm (a new KVM VM per
# reset) and QEMU -M pc (in-place reset) in the same run, and fukivmm's own
# rebuild time (stop -> new VM running) from its event log.  Target <= 1 ms.
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
set -- $(timeit "$N" 60 "$FUKIVMM" run "$BTMP/reset100.toml")
[ "$4" = 65 ] || { echo "fukivmm: reset100.rom failed (status $4)"; exit 1; }
r=$1
h=$(median_ms "$N" "$FUKIVMM" run "$BTMP/hello.toml")
per=$(awk -v r="$r" -v h="$h" 'BEGIN { printf "%.3f", (r - h) / 100 }')
echo "fukivmm: hello $h ms, 100 resets $r ms: $per ms per reset (guest boot code included)"
"$FUKIVMM" run "$BTMP/reset100.toml" 2>"$BTMP/ev" >/dev/null
grep 'event=rebuilt' "$BTMP/ev" | sed -n 's/.* ms=\([0-9.]*\) vm_ms=\([0-9.]*\).*/\1 \2/p' >"$BTMP/rb"
if [ -s "$BTMP/rb" ]; then
	echo "fukivmm rebuild (stop -> new VM ready), $(wc -l <"$BTMP/rb") resets: median $(awk '{print $1}' "$BTMP/rb" | median) ms" \
	     "(KVM VM build $(awk '{print $2}' "$BTMP/rb" | median) ms), max $(awk '{print $1}' "$BTMP/rb" | sort -n | tail -1) ms"
fi
if command -v qemu-system-x86_64 >/dev/null; then
	set -- qemu-system-x86_64 -accel kvm -M pc -m 64M -nodefaults -no-user-config -display none \
		-serial none -device isa-debug-exit,iobase=0xf4,iosize=4 -bios
	q=$(timeit "$N" 60 "$@" "$ROOT/build/guest/reset100.rom")
	qs=$(echo "$q" | awk '{print $4}')
	if [ "$qs" = 65 ]; then
		qr=$(echo "$q" | awk '{print $1}')
		qh=$(median_ms "$N" "$@" "$ROOT/build/guest/hello.rom")
		qper=$(awk -v r="$qr" -v h="$qh" 'BEGIN { printf "%.3f", (r - h) / 100 }')
		echo "qemu -M pc: hello $qh ms, 100 resets $qr ms: $qper ms per reset"
		echo "ratio fukivmm/qemu per reset: $(ratio "$per" "$qper")"
	else
		echo "qemu could not run reset100.rom (status $qs): no ratio"
	fi
fi
