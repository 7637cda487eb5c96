#!/bin/sh
# tests/integration/ovmf-qemu-ref.sh OVMF.fd [kvm|tcg]: QEMU -M pc (512 MiB,
# no default devices, COM1 on stdout) boots the firmware; prints its serial
# output up to and including the UEFI shell prompt, then stops QEMU.  The
# reference test_ovmf.sh compares fukivmm's output with.  Exit 1 if no prompt
# came within 120 s.
fw=${1:?usage: ovmf-qemu-ref.sh OVMF.fd [kvm|tcg]}
accel=${2:-tcg}
out=$(mktemp "${TMPDIR:-/tmp}/ovmf-ref.XXXXXX")
err=$out.err
trap 'rm -f "$out" "$err"' EXIT INT TERM
qemu-system-x86_64 -M pc -accel "$accel" -m 512 -nodefaults -bios "$fw" \
	-serial stdio -display none -monitor none </dev/null >"$out" 2>"$err" &
pid=$!
n=0
while [ $n -lt 120 ] && kill -0 $pid 2>/dev/null && ! grep -q 'Shell>' "$out"; do
	sleep 1
	n=$((n + 1))
done
sleep 1
kill $pid 2>/dev/null
wait $pid 2>/dev/null
cat "$out"
grep -v 'terminating on signal' "$err" >&2
grep -q 'Shell>' "$out"
