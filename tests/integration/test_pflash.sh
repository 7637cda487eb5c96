#!/bin/sh
# needs: kvm
# [firmware] code + vars: the flash variable store (devices/pflash.c) with
# build/guest/flash.rom, which detects it as OVMF does, reads the CFI query,
# erases a sector and programs a boot record byte by byte.  A second run on
# the same file finds the first run's record; without vars the region reads
# as ROM; a store another VM holds is refused.
. "$(dirname "$0")/lib.sh"

need_kvm pflash-first-boot pflash-persists pflash-none pflash-locked || exit 0
need_guest flash.rom pflash-first-boot || exit 0
need_guest idle.rom pflash-locked || exit 0

# config ROM VARS: a 64 MiB guest on ROM, with the store VARS (none: "")
config() {
	printf '[vm]\nmemory = "64M"\n\n[firmware]\ncode = "%s"\n' "$1"
	[ -z "$2" ] || printf 'vars = "%s"\n' "$2"
	printf '\n[serial]\noutput = "stdout"\n\n[debug_exit]\nport = 0xf4\n'
}

head -c 65536 /dev/zero | tr '\0' '\377' >"$TMP/vars.fd"
config "$GUESTS/flash.rom" "$TMP/vars.fd" >"$TMP/flash.toml"
run_vm "$TMP/flash.toml" 60
# the record is in the file after the run: magic, then boots = 1
expect pflash-first-boot $GUEST_PASS "flash: detected as FLASH" \
	"flash: CFI query QRY, command set 1, 2\^16 bytes, 16 blocks of 4096" "flash: boot 1 of this store"
rec=$(od -A n -t x1 -j 4096 -N 12 "$TMP/vars.fd" | tr -d ' \n')
run_vm "$TMP/flash.toml" 60
if [ "$rec" = 46554b49464c534801000000 ]; then
	expect pflash-persists $GUEST_PASS "flash: boot 2 of this store"
else
	fail pflash-persists "the store file holds '$rec' at 0x1000 after the first run, not the record"
fi

config "$GUESTS/flash.rom" "" >"$TMP/noflash.toml"
run_vm "$TMP/noflash.toml" 60
expect pflash-none $GUEST_FAIL "flash: no flash store \(status read 0xff: behaves as ROM\)"

# a store in use: the second VM is refused before it starts
config "$GUESTS/idle.rom" "$TMP/vars.fd" >"$TMP/idle.toml"
"$FUKIVMM" run "$TMP/idle.toml" >"$TMP/idle.out" 2>"$TMP/idle.err" </dev/null &
idle=$!
n=0
while [ $n -lt 100 ] && ! grep -q 'event=booted' "$TMP/idle.err"; do
	sleep 0.1
	n=$((n + 1))
done
run_vm "$TMP/flash.toml" 30
kill -TERM $idle 2>/dev/null
wait $idle
if [ "$STATUS" = 2 ] && grep -q "variable store $TMP/vars.fd: in use by another VM (locked)" "$ERR_FILE"; then
	pass "pflash-locked (a second VM on the store exits 2: $(grep -o 'in use by another VM (locked)' "$ERR_FILE"))"
else
	fail pflash-locked "exit $STATUS: $(tail -2 "$ERR_FILE")"
fi
