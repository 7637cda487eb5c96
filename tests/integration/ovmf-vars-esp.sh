#!/bin/sh
# tests/integration/ovmf-vars-esp.sh OUT GUID: a small FAT ESP for
# test_ovmf.sh's persistent-variable runs, whose startup.nsh (the UEFI shell
# runs it after its countdown) prints the variable FukiPersist of vendor
# GUID, sets it (non-volatile) and powers off.  Built on the host
# (tests/run.sh runs it before it boots tests/kvmvm, which has no mtools).
out=${1:?usage: ovmf-vars-esp.sh OUT GUID}
guid=${2:?usage: ovmf-vars-esp.sh OUT GUID}
for c in mkfs.vfat mcopy; do
	command -v $c >/dev/null 2>&1 || { echo "ovmf-vars-esp: $c is not installed" >&2; exit 1; }
done
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
printf '@echo -off\r\necho fuki-vars: before\r\nsetvar FukiPersist -guid %s\r\necho fuki-vars: setting\r\nsetvar FukiPersist -guid %s -bs -nv =464b4d524b\r\necho fuki-vars: done\r\nreset -s\r\n' \
	"$guid" "$guid" >"$tmp/startup.nsh"
rm -f "$out"
truncate -s 8M "$out" &&
	mkfs.vfat -n FUKIVARS "$out" >/dev/null &&
	mcopy -i "$out" "$tmp/startup.nsh" ::/startup.nsh
