#!/bin/sh
# needs: kvm
# kvmvm: --smp 1 --icount 3 --add /usr/share/ovmf
# Integration test: Debian's OVMF.fd (/usr/share/ovmf/OVMF.fd, package ovmf;
# one image, variables emulated in memory) boots on fukivmm's i440FX/PIIX4
# board with 512 MiB to its boot manager and the UEFI shell, with no key
# sent: the shell counts down 5 s for startup.nsh, finds none and prints
# "Shell>".  The serial output must be QEMU's -M pc -nodefaults output with
# the same firmware, line for line, after the normalisation below (escape
# sequences, the countdown, device paths).
#
# The QEMU reference: the file $FUKI_OVMF_QEMU_REF when set (tests/run.sh
# captures it on the host before it boots tests/kvmvm), else QEMU run here
# (KVM when /dev/kvm works, TCG otherwise), else the comparison skips.
#
# In tests/kvmvm this test needs its own VM, as the "# kvmvm:" line says: QEMU's
# TCG (7.2 and 10.0) aborts the whole VM (tcg_handle_interrupt: assertion
# failed) when a nested guest writes CR8 while KVM has an interrupt window
# open (target/i386 helper_write_crN calls cpu_interrupt without the
# iothread lock).  OVMF writes CR8 on every interrupt return; a timer backlog
# makes that certain within seconds.  With -icount the nested guest's time
# follows its instructions, so no backlog builds up.
. "$(dirname "$0")/lib.sh"

OVMF=${FUKI_OVMF:-/usr/share/ovmf/OVMF.fd}
NAME=ovmf-shell

if [ ! -f "$OVMF" ]; then
	skip $NAME "$OVMF is absent (install Debian's ovmf package)"
	exit 0
fi
need_kvm $NAME ovmf-vs-qemu || exit 0
if [ -n "$KVMVM" ] && [ -z "$KVMVM_ICOUNT" ]; then
	skip $NAME "in tests/kvmvm without --icount: QEMU's TCG would abort the VM (see this file's header)"
	skip ovmf-vs-qemu "not run"
	exit 0
fi

# normalise FILE: the serial output as lines of text.  Cursor positioning
# starts a line, other escape sequences go; the startup.nsh countdown is one
# line; device paths of boot options are masked (QEMU and fukivmm have
# different devices by design).
normalise() {
	tr -d '\r' <"$1" |
		sed -e 's/\x1b\[[0-9;]*H/\n/g' -e 's/\x1b\[[0-9;?=]*[a-zA-Z]//g' |
		sed -e 's/Press ESC in [0-9]* seconds to skip startup.nsh or any other key to continue\./&\n/g' |
		sed -e 's/Press ESC in [0-9]* seconds/Press ESC in N seconds/' \
		    -e 's/PciRoot([^ ]*/<device path>/g' -e 's/[[:space:]]*$//' |
		grep -v '^$' | uniq
}

# boot OVMF; stop fukivmm once the shell prompt is there
cfg=$TMP/ovmf.toml
sed "s|/usr/share/ovmf/OVMF.fd|$OVMF|" "$CONFIGS/ovmf.toml" >"$cfg"
OUT_FILE=$TMP/ovmf.out
ERR_FILE=$TMP/ovmf.err
t0=$(date +%s)
"$FUKIVMM" run "$cfg" >"$OUT_FILE" 2>"$ERR_FILE" </dev/null &
pid=$!
n=0
while [ $n -lt 240 ] && kill -0 $pid 2>/dev/null && ! grep -q 'Shell>' "$OUT_FILE"; do
	sleep 1
	n=$((n + 1))
done
sleep 1
kill $pid 2>/dev/null
wait $pid
t1=$(date +%s)
normalise "$OUT_FILE" >"$TMP/ovmf.txt"
if grep -q '^Shell>' "$TMP/ovmf.txt" &&
	grep -q '^BdsDxe: starting Boot[0-9A-F]* "EFI Internal Shell"' "$TMP/ovmf.txt" &&
	grep -q '^UEFI Interactive Shell v' "$TMP/ovmf.txt"; then
	pass "$NAME (boot manager and shell prompt after $((t1 - t0)) s)"
else
	fail $NAME "no shell prompt after $((t1 - t0)) s"
	echo "--- serial (normalised)"; tail -20 "$TMP/ovmf.txt"; echo "--- stderr"; tail -20 "$ERR_FILE"
	exit 0
fi

# the same firmware under QEMU -M pc, no default devices (no VGA, no disks,
# no NIC: fukivmm's board has none of them either)
REF=${FUKI_OVMF_QEMU_REF:-}
if [ -z "$REF" ]; then
	if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
		skip ovmf-vs-qemu "no qemu-system-x86_64 here and no FUKI_OVMF_QEMU_REF"
		exit 0
	fi
	REF=$TMP/qemu.out
	accel=tcg
	have_kvm && accel=kvm
	sh "$(dirname "$0")/ovmf-qemu-ref.sh" "$OVMF" "$accel" >"$REF" 2>"$TMP/qemu.err" ||
		{ fail ovmf-vs-qemu "QEMU did not reach the shell: $(tail -3 "$TMP/qemu.err")"; exit 0; }
fi
normalise "$REF" >"$TMP/qemu.txt"
if ! grep -q '^Shell>' "$TMP/qemu.txt"; then
	fail ovmf-vs-qemu "the QEMU reference $REF has no shell prompt"
elif diff -u "$TMP/qemu.txt" "$TMP/ovmf.txt" >"$TMP/diff"; then
	pass "ovmf-vs-qemu ($(wc -l <"$TMP/ovmf.txt") lines as QEMU -M pc prints them)"
else
	fail ovmf-vs-qemu "serial output differs from QEMU -M pc's"
	cat "$TMP/diff"
fi
