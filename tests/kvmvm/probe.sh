#!/bin/sh
# tests/kvmvm/probe.sh: decide where the KVM tests, `make demo` and `make bench`
# run: on this host's /dev/kvm, or inside tests/kvmvm (a QEMU TCG VM with nested
# KVM).  A /dev/kvm that exists may still not run the test guests: a KVM that
# emulates guest code stops on x87 and on parts of the interrupt path with
# KVM_EXIT_INTERNAL_ERROR.  So the probe runs two small guests on the host
# with the real build/fukivmm:
#   probe.rom  protected mode from the ROM, x87, SSE, cpuid, rdtsc, movsb
#   irq.rom    interrupt delivery through the in-kernel IOAPIC and LAPIC
# and says "host" only when both pass.
#
# Prints one word on stdout, "host" or "kvmvm", and one line on stderr that
# says why.  FUKI_KVMVM=always|never|auto (default auto) overrides the
# choice ("no" is an old spelling of never).  Needs build/fukivmm and
# build/guest/{probe,irq}.rom (make all guests).
cd "$(dirname "$0")/../.." || exit 1
mode=${FUKI_KVMVM:-auto}
case $mode in
always) echo "kvm: FUKI_KVMVM=always: KVM tests run inside tests/kvmvm" >&2; echo kvmvm; exit 0 ;;
never|no) echo "kvm: FUKI_KVMVM=$mode: KVM tests run on this host" >&2; echo host; exit 0 ;;
auto) ;;
*) echo "kvm: FUKI_KVMVM must be always, never or auto (not '$mode')" >&2; exit 2 ;;
esac
if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "kvm: no usable /dev/kvm on this host: KVM tests run inside tests/kvmvm" >&2
	echo kvmvm
	exit 0
fi
for f in build/fukivmm build/guest/probe.rom build/guest/irq.rom; do
	if [ ! -e "$f" ]; then
		echo "kvm: $f missing (make all guests): cannot probe /dev/kvm, using tests/kvmvm" >&2
		echo kvmvm
		exit 0
	fi
done
dir=$(mktemp -d "${TMPDIR:-/tmp}/fukivmm-probe.XXXXXX") || exit 1
trap 'rm -rf "$dir"' EXIT INT TERM
why=""
for g in probe irq; do
	cat >"$dir/$g.toml" <<EOT
[vm]
name = "kvm-probe-$g"
memory = "16M"
vcpus = 1
[firmware]
path = "$(pwd)/build/guest/$g.rom"
[serial]
output = "stdout"
[debug_exit]
port = 0xf4
EOT
	timeout --signal=KILL 30 build/fukivmm run "$dir/$g.toml" >"$dir/$g.out" 2>"$dir/$g.err" </dev/null
	st=$?
	if [ "$st" != 65 ]; then
		err=$(grep -m1 'error:' "$dir/$g.err" | sed 's/^fukivmm: error: //; s/ (data .*//')
		why="$g.rom exited $st${err:+ ($err)}"
		break
	fi
done
if [ -z "$why" ]; then
	echo "kvm: this host's /dev/kvm runs the probe guests: KVM tests run here" >&2
	echo host
else
	echo "kvm: this host's /dev/kvm cannot run the test guests ($why): KVM tests run inside tests/kvmvm" >&2
	echo kvmvm
fi
