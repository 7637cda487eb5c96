#!/bin/sh
# Without a usable /dev/kvm, `fukivmm run` says so in one line and exits 2.
. "$(dirname "$0")/lib.sh"

if have_kvm; then
	skip no-kvm-message "this machine has /dev/kvm"
	exit 0
fi
run_vm "$CONFIGS/boot-basic.toml" 20
if [ "$STATUS" = 2 ] && grep -q "/dev/kvm" "$ERR_FILE" && [ "$(wc -l <"$ERR_FILE")" = 1 ]; then
	pass no-kvm-message
else
	fail no-kvm-message "status $STATUS: $(cat "$ERR_FILE")"
fi
