#!/bin/sh
# needs: kvm
# Boot test guests on KVM: serial output and exit statuses; 1 and 4 vCPUs;
# 20 self-resets with the RAM counter checked; triple fault resets.
. "$(dirname "$0")/lib.sh"

need_kvm boot-basic boot-hello smp-1vcpu smp-4vcpus smp-4vcpus-split reset-20-times \
	reset-exit-counts triple-fault-resets serial-to-file irq-kernel-ioapic irq-split-ioapic || exit 0

need_guest basic.rom boot-basic && {
	run_vm "$CONFIGS/boot-basic.toml" 60
	expect boot-basic $GUEST_PASS "guest: hello from basic" "QEMU" "e820"
}
need_guest hello.rom boot-hello && {
	run_vm "$CONFIGS/hello.toml" 30
	expect boot-hello $GUEST_PASS "^H"
}
need_guest smp.rom smp-1 && {
	run_vm "$CONFIGS/smp1.toml" 60
	expect smp-1vcpu $GUEST_PASS "smp: 1 cpus up"
	run_vm "$CONFIGS/smp4.toml" 120
	expect smp-4vcpus $GUEST_PASS "smp: 4 cpus up"
	run_vm "$CONFIGS/smp4-split.toml" 120
	expect smp-4vcpus-split $GUEST_PASS "smp: 4 cpus up"
}
# IOAPIC -> LAPIC: edge, level with re-delivery on EOI, masking; KVM's IOAPIC
# and then fukivmm's (split irqchip) must count the same
need_guest irq.rom irq && {
	run_vm "$CONFIGS/irq-kernel.toml" 120
	expect irq-kernel-ioapic $GUEST_PASS "irq: ioapic version 0x11, 24 pins" \
		"irq: edge 16/16" "irq: level 16/16" "irq: unmask 1/1"
	run_vm "$CONFIGS/irq-split.toml" 120
	expect irq-split-ioapic $GUEST_PASS "irq: ioapic version 0x11, 24 pins" \
		"irq: edge 16/16" "irq: level 16/16" "irq: unmask 1/1"
}
need_guest reset.rom reset20 && {
	run_vm "$CONFIGS/reset20.toml" 300
	expect reset-20-times $GUEST_PASS "boot 20" "resets: 20 ok" &&
	# each `reset` event counts the exits of the boot it ends: reset.rom
	# makes one per serial byte, 9 for the fw_cfg RAM size (select, 8
	# reads) and 1 for the reset; at most 2 more may be a kick (EINTR)
	awk -v ev="$ERR_FILE" '
		{ bytes += length($0) + 1 }
		/^boot [0-9]+/ { b[$2 + 0] = bytes; bytes = 0 }
		END {
			while ((getline l < ev) > 0) {
				if (l !~ /event=reset /) continue
				n = l; sub(/.* n=/, "", n); sub(/ .*/, "", n)
				x = l; sub(/.* exits=/, "", x); sub(/ .*/, "", x)
				seen++
				d = x - b[n + 0] - 10
				if (!(n + 0 in b) || d < 0 || d > 2) {
					printf "reset %s: %s exits for %s serial bytes\n", n, x, b[n + 0]
					bad++
				}
			}
			exit !(seen == 20 && !bad)
		}' "$OUT_FILE" && pass reset-exit-counts || {
		fail reset-exit-counts "the reset events do not count the boots' exits"
		grep "event=reset " "$ERR_FILE" | head -5
	}
}
need_guest triple.rom triple && {
	run_vm "$CONFIGS/triple.toml" 60
	expect triple-fault-resets $GUEST_PASS "triple fault reset ok"
}
# serial to a file and SIGTERM handling: a guest that never exits
need_guest basic.rom serial-file && {
	rm -f "$TMP/serial.txt"
	sed "s|@SERIAL@|$TMP/serial.txt|" "$CONFIGS/serial-file.toml.in" >"$TMP/serial-file.toml"
	sed -i "s|@ROM@|$GUESTS/basic.rom|" "$TMP/serial-file.toml"
	run_vm "$TMP/serial-file.toml" 60
	if [ "$STATUS" = $GUEST_PASS ] && grep -q "guest: hello from basic" "$TMP/serial.txt" && [ ! -s "$OUT_FILE" ]; then
		pass serial-to-file
	else
		fail serial-to-file "status $STATUS"
	fi
}
