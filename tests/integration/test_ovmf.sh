#!/bin/sh
# needs: kvm
# kvmvm: --smp 1 --icount 1 --add /usr/share/ovmf --add /usr/share/OVMF
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
# follows its instructions, so no backlog builds up.  Shift 1 (2 ns an
# instruction): with shift 3 the VM still aborted in two of four runs of
# this file's split-image cases (tests/kvmvm/README.md).
. "$(dirname "$0")/lib.sh"

OVMF=${FUKI_OVMF:-/usr/share/ovmf/OVMF.fd}
NAME=ovmf-shell

if [ ! -f "$OVMF" ]; then
	skip $NAME "$OVMF is absent (install Debian's ovmf package)"
	skip ovmf-vars-set "not run"
	skip ovmf-vars-persist "not run"
	exit 0
fi
need_kvm $NAME ovmf-vs-qemu ovmf-vars-set ovmf-vars-persist || exit 0
if [ -n "$KVMVM" ] && [ -z "$KVMVM_ICOUNT" ]; then
	skip $NAME "in tests/kvmvm without --icount: QEMU's TCG would abort the VM (see this file's header)"
	skip ovmf-vs-qemu "not run"
	skip ovmf-vars-set "not run"
	skip ovmf-vars-persist "not run"
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

# Persistent variables: Debian's split images, OVMF_CODE.fd with a copy of
# OVMF_VARS.fd as [firmware] code + vars (the CFI flash store of
# devices/pflash.c), and a disk whose startup.nsh (ovmf-vars-esp.sh) prints
# the variable FukiPersist, sets it (non-volatile) and powers off with
# "reset -s".  Run 1 finds no such variable; run 2, on the same store,
# prints the bytes run 1 set.  The ESP: $FUKI_OVMF_VARS_ESP when tests/run.sh
# built it on the host, else built here (mtools), else the cases skip.
CODE=${FUKI_OVMF_CODE:-/usr/share/OVMF/OVMF_CODE.fd}
VARS=${FUKI_OVMF_VARS:-/usr/share/OVMF/OVMF_VARS.fd}
VGUID=6f6e7d2a-3c1b-4d9e-8a47-5b2c1f0e9d83
VESP=${FUKI_OVMF_VARS_ESP:-}
if [ -z "$VESP" ] && sh "$(dirname "$0")/ovmf-vars-esp.sh" "$TMP/vesp.img" "$VGUID" 2>"$TMP/vesp.err"; then
	VESP=$TMP/vesp.img
fi
case "$VESP" in ""|/*) ;; *) VESP=$ROOT/$VESP ;; esac
# vars_run N: boot the split images on $TMP/vars.fd until they power off
# (or 240 s); $TMP/vars-N.txt the normalised output, VSTATUS the exit status
vars_run() {
	cp "$VESP" "$TMP/vesp-run.img"
	timeout --signal=TERM 240 "$FUKIVMM" run "$TMP/vars.toml" >"$TMP/vars-$1.out" 2>"$TMP/vars-$1.err" </dev/null
	VSTATUS=$?
	normalise "$TMP/vars-$1.out" >"$TMP/vars-$1.txt"
}
if [ ! -f "$CODE" ] || [ ! -f "$VARS" ]; then
	skip ovmf-vars-set "$CODE or $VARS is absent (Debian's ovmf package)"
	skip ovmf-vars-persist "not run"
elif [ -z "$VESP" ] || [ ! -f "$VESP" ]; then
	skip ovmf-vars-set "no ESP with startup.nsh: $(tail -1 "$TMP/vesp.err" 2>/dev/null) (make deps: mtools, dosfstools)"
	skip ovmf-vars-persist "not run"
else
	cp "$VARS" "$TMP/vars.fd"
	printf '[vm]\nname = "ovmf-vars"\nmemory = "512M"\nvcpus = 1\n\n[firmware]\ncode = "%s"\nvars = "%s"\n\n[serial]\noutput = "stdout"\n\n[[disk]]\npath = "%s"\n' \
		"$CODE" "$TMP/vars.fd" "$TMP/vesp-run.img" >"$TMP/vars.toml"
	t0=$(date +%s)
	vars_run 1
	t1=$(date +%s)
	# the store now holds OVMF's own variables and ours, as UTF-16 names
	names=$(tr -d '\000' <"$TMP/vars.fd" | grep -ao -e BootOrder -e PlatformLang -e ConOut -e FukiPersist |
		sort -u | tr '\n' ' ')
	if [ "$VSTATUS" = 0 ] && grep -q 'fuki-vars: done' "$TMP/vars-1.txt" &&
		! grep -qi '46 4b 4d 52 4b' "$TMP/vars-1.txt" &&
		! cmp -s "$VARS" "$TMP/vars.fd" && echo " $names" | grep -q ' BootOrder ' &&
		echo " $names" | grep -q ' FukiPersist '; then
		pass "ovmf-vars-set (OVMF_CODE.fd + OVMF_VARS.fd: startup.nsh found no FukiPersist, set it and powered off, exit 0 after $((t1 - t0)) s; the store holds: $names)"
	else
		fail ovmf-vars-set "exit $VSTATUS; variables in the store: ${names:-none}"
		tail -12 "$TMP/vars-1.txt"; grep -v '^fukivmm-event' "$TMP/vars-1.err" | tail -5
	fi
	vars_run 2
	if [ "$VSTATUS" = 0 ] &&
		awk '/fuki-vars: before/ { b = 1 } b && /46 4[bB] 4[dD] 52 4[bB]/ { v = 1 }
		v && /fuki-vars: setting/ { s = 1 } END { exit !s }' "$TMP/vars-2.txt"; then
		pass "ovmf-vars-persist (run 2 on the same store printed what run 1 set: $(grep -i -m1 '46 4b 4d 52 4b' "$TMP/vars-2.txt" | tr -s ' '))"
	else
		fail ovmf-vars-persist "exit $VSTATUS; run 2 did not print FukiPersist before setting it"
		tail -12 "$TMP/vars-2.txt"
	fi
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
