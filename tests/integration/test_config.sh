#!/bin/sh
# Bad configurations: each gives a one-line message naming the key and its
# location, and exit status 2.  Needs no /dev/kvm: configs are checked first.
. "$(dirname "$0")/lib.sh"

for cfg in "$CONFIGS"/bad/*.toml; do
	name=config-$(basename "$cfg" .toml)
	want=$(sed -n 's/^# expect: //p' "$cfg")
	run_vm "$cfg" 20
	lines=$(wc -l <"$ERR_FILE")
	if [ "$STATUS" != 2 ]; then
		fail "$name" "exit status $STATUS, expected 2"; cat "$ERR_FILE"
	elif ! grep -qF -- "$want" "$ERR_FILE"; then
		fail "$name" "message lacks '$want'"; cat "$ERR_FILE"
	elif [ "$lines" != 1 ]; then
		fail "$name" "expected one line on stderr, got $lines"; cat "$ERR_FILE"
	else
		pass "$name"
	fi
done

# missing config file
run_vm "$TMP/nonexistent.toml" 10
if [ "$STATUS" = 2 ] && grep -q "nonexistent.toml: No such file" "$ERR_FILE"; then
	pass config-missing-file
else
	fail config-missing-file "status $STATUS: $(cat "$ERR_FILE")"
fi

# no argument / unknown command
"$FUKIVMM" run >/dev/null 2>&1; s=$?
"$FUKIVMM" frobnicate >/dev/null 2>&1; s2=$?
if [ $s = 2 ] && [ $s2 = 2 ]; then pass cli-usage-errors; else fail cli-usage-errors "statuses $s $s2"; fi
