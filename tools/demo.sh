#!/bin/sh
# tools/demo.sh: `make demo`: boot configs/demo.toml and explain the result.
# Without a /dev/kvm that runs the guest (tests/kvmvm/probe.sh), the same
# command runs inside tests/kvmvm: a QEMU (software-emulated) VM whose kernel
# provides KVM.
cd "$(dirname "$0")/.." || exit 1
echo "== fukivmm demo: a guest brings its own firmware (configs/demo.toml)"
echo "   serial output on stdout, the event log (fukivmm-event lines) on stderr"
echo
CONFIG=configs/demo.toml

# The tenant's side of F-UKI: a UKI carrying two firmware images and a .hwids
# table.  fukivmm predicts which one the UKI stub will pick on this VM (from
# the SMBIOS tables it presents), extracts it, and names its fwid in the
# event log when the guest hands it over.  Needs Debian's systemd-boot-efi
# stub, objcopy and python3 (make deps installs them); skipped without them.
STUB=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
MKUKI=tests/integration/uki/mkuki.py
if [ -f "$STUB" ] && command -v objcopy >/dev/null && command -v python3 >/dev/null; then
	D=build/demo
	mkdir -p "$D"
	chid=$(build/fukivmm smbios chids "$CONFIG" --json | sed -n 's/.*"type": 5, "chid": "\([0-9a-f-]*\)".*/\1/p')
	python3 "$MKUKI" efifw --fwid tenant-demo --payload build/guest/tenant-reset.rom -o "$D/a.efifw" &&
	python3 "$MKUKI" efifw --fwid other-cloud --payload build/guest/basic.rom -o "$D/b.efifw" &&
	python3 "$MKUKI" hwids --uefi-fw "demo-vm:tenant-demo:$chid" \
		--uefi-fw "elsewhere:other-cloud:11111111-2222-5333-8444-555555555555" -o "$D/hwids" &&
	python3 "$MKUKI" build --stub "$STUB" --section ".efifw=$D/a.efifw" --section ".efifw=$D/b.efifw" \
		--section ".hwids=$D/hwids" -o "$D/demo.efi" >/dev/null
	if [ -f "$D/demo.efi" ]; then
		echo "== the tenant's UKI ($D/demo.efi): which firmware will it pick on this VM?"
		build/fukivmm uki select "$D/demo.efi" "$CONFIG"
		build/fukivmm uki extract "$D/demo.efi" --fwid tenant-demo -o "$D/tenant-demo.rom" &&
		cmp -s "$D/tenant-demo.rom" build/guest/tenant-reset.rom &&
			echo "   extracted: the same image the provider firmware carries and hands over"
		sed -e 's|"\.\./build/guest/|"../guest/|' "$CONFIG" >"$D/demo-uki.toml"
		printf '\n[uki]\npath = "demo.efi"\n' >>"$D/demo-uki.toml"
		CONFIG=$D/demo-uki.toml
		echo
	fi
fi

echo "== booting $CONFIG"
# where: this host's /dev/kvm when it runs the test guests, else tests/kvmvm
# (tests/kvmvm/probe.sh; FUKI_KVMVM=always|never|auto overrides)
where=$(sh tests/kvmvm/probe.sh 2>build/demo-probe.log) || where=kvmvm
if [ "$where" = host ]; then
	build/fukivmm run "$CONFIG"
	st=$?
else
	echo "   ($(sed 's/^kvm: //; s/: KVM tests run .*//' build/demo-probe.log);"
	echo "    so the demo runs inside tests/kvmvm, a QEMU VM with nested KVM;"
	echo "    the first run downloads a Debian kernel package)"
	echo
	bash tests/kvmvm/run.sh --timeout 300 --accel tcg,thread=single -- \
		build/fukivmm run "$CONFIG"
	st=$?
fi
echo
case $st in
65) echo "== demo finished: the provider handed over the tenant firmware, fukivmm rebuilt the VM"
    echo "   with it, the tenant ran and reset, and the host's firmware came back (status 65)" ;;
2)  echo "== fukivmm could not start (status 2): see the message above" ;;
*)  echo "== demo ended with status $st" ;;
esac
[ "$st" = 65 ]
