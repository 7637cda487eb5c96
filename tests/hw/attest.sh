#!/bin/sh
# tests/hw/attest.sh: real-hardware check that a launched SEV-SNP / TDX guest
# reports the measurement `fukivmm measure` predicts.  Owns the kit's host
# side: writes a guest config, runs fukivmm, reads the report the guest
# prints (tests/hw/guest-report.sh), compares.  Verified only against the
# platform model until someone runs it on hardware (README.md).
#
#   tests/hw/attest.sh snp|tdx FIRMWARE KERNEL INITRD [SWAP_FIRMWARE]
#
# Env: FUKIVMM (default build/fukivmm), VCPUS (2), MEMORY (2G), VCPU_TYPE
# (EPYC-v4, SNP), TIMEOUT (300 s), WORK (a temporary folder).
set -eu
PLAT=${1:?snp|tdx}; FW=${2:?firmware}; KERNEL=${3:?kernel}; INITRD=${4:?initrd}
SWAP=${5:-}
FUKIVMM=${FUKIVMM:-build/fukivmm}; VCPUS=${VCPUS:-2}; MEMORY=${MEMORY:-2G}
VCPU_TYPE=${VCPU_TYPE:-EPYC-v4}; TIMEOUT=${TIMEOUT:-300}
WORK=${WORK:-$(mktemp -d)}
case $PLAT in
snp) TYPE=sev-snp; EXTRA="vcpu_type = \"$VCPU_TYPE\""; OFF=144 ;;  # MEASUREMENT @0x90
tdx) TYPE=tdx; EXTRA=""; OFF=184 ;;                                   # quote hdr 48 + MRTD @136
*) echo "attest.sh: platform must be snp or tdx" >&2; exit 2 ;;
esac
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
cat > "$WORK/guest.toml" <<EOT
[vm]
name = "hw-kit"
memory = "$MEMORY"
vcpus = $VCPUS

[firmware]
path = "$(abs "$FW")"

[serial]
output = "file:$WORK/serial.log"

[kernel]
path = "$(abs "$KERNEL")"
initrd = "$(abs "$INITRD")"
cmdline = "console=ttyS0 rdinit=/init"

[confidential]
type = "$TYPE"
$EXTRA
EOT
echo "== predicted"
"$FUKIVMM" measure "$WORK/guest.toml" | tee "$WORK/predicted"
PRED=$(cat "$WORK/predicted")
SWAPPRED=""
if [ -n "$SWAP" ]; then
	sed "s|^path = \"$(abs "$FW")\"|path = \"$(abs "$SWAP")\"|" "$WORK/guest.toml" > "$WORK/swap.toml"
	SWAPPRED=$("$FUKIVMM" measure "$WORK/swap.toml")
	echo "after swap: $SWAPPRED"
fi
echo "== boot"
: > "$WORK/serial.log"
timeout "$TIMEOUT" "$FUKIVMM" run "$WORK/guest.toml" --log-level info 2> "$WORK/vmm.log" || true
reports() { awk '/FUKI-REPORT-BEGIN/{getline; print}' "$WORK/serial.log"; }
N=$(reports | wc -l)
[ "$N" -ge 1 ] || { echo "FAIL: no report on the serial console (see $WORK)"; exit 1; }
fail=0
i=0
for hex in $(reports); do
	i=$((i + 1))
	got=$(echo "$hex" | cut -c$((OFF * 2 + 1))-$((OFF * 2 + 96)))
	want=$PRED; [ "$i" -ge 2 ] && want=$SWAPPRED
	if [ "$got" = "$want" ]; then echo "report $i: OK $got"
	else echo "report $i: MISMATCH got $got want $want"; fail=1; fi
done
[ -n "$SWAP" ] && [ "$N" -lt 2 ] && { echo "FAIL: no report after the firmware swap"; fail=1; }
echo "logs in $WORK"
exit $fail
