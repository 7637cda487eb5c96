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
set -- $(timeit "$N" 20 "$FUKIVMM" run "$BTMP/hello.toml")
if [ "$4" != 65 ]; then
	echo "fukivmm did not run hello.rom (status $4)"
	exit 1
fi
f=$1
echo "fukivmm start-up (exec -> debug-exit): median $1 ms, min $2 ms over $N runs; peak RSS $3 KiB"
set -- $(timeit 5 20 "$FUKIVMM" version)
echo "  (process floor here: fukivmm version, median $1 ms)"
if command -v qemu-system-x86_64 >/dev/null; then
	set -- $(timeit "$N" 20 qemu-system-x86_64 -accel kvm -M microvm -m 64M -bios "$ROM" -nodefaults \
		-no-user-config -display none -serial none -device isa-debug-exit,iobase=0xf4,iosize=4)
	if [ "$4" = 65 ]; then
		echo "qemu -M microvm start-up: median $1 ms, min $2 ms over $N runs; peak RSS $3 KiB"
		echo "ratio fukivmm/qemu (median): $(ratio "$f" "$1")"
	else
		echo "qemu could not run the image (status $4): no ratio"
	fi
else
	echo "qemu-system-x86_64 not installed: no ratio (make deps installs it)"
fi
