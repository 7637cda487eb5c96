#!/bin/sh
# needs: kvm
# Confidential guests on a host without SEV-SNP or TDX (as every machine
# these tests run on): `fukivmm run` fails with one line naming the missing
# capability and exit status 2.  The launch itself is tested against the
# platform model (tests/unit/test_launch_model.c) and on hardware by
# tests/hw/.
. "$(dirname "$0")/lib.sh"

need_kvm coco-sev-snp-unsupported coco-tdx-unsupported || exit 0

for t in sev-snp:4 tdx:5; do
	name=coco-${t%:*}-unsupported
	run_vm "$CONFIGS/coco-${t%:*}.toml" 30
	if grep -q "fukivmm-event" "$ERR_FILE"; then
		fail "$name" "the VM started: $(head -3 "$ERR_FILE")"
	elif [ "$STATUS" = 2 ] && [ "$(wc -l <"$ERR_FILE")" = 1 ] && grep -q "VM type ${t#*:}" "$ERR_FILE"; then
		pass "$name ($(cat "$ERR_FILE"))"
	else
		fail "$name" "status $STATUS: $(cat "$ERR_FILE")"
	fi
done
