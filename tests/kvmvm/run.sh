#!/usr/bin/env bash
# tests/kvmvm/run.sh: runs a command inside a small Linux VM (QEMU TCG emulating AMD SVM) whose
# kernel loads kvm_amd, so the command gets a working /dev/kvm on machines that have none.
# Owns build/kvmvm/ (cache, logs); reads build/, configs/, tests/; changes nothing else.
#
# usage: tests/kvmvm/run.sh [options] -- CMD [ARG...]
#        tests/kvmvm/run.sh [options] --selftest [ITERATIONS]
# See tests/kvmvm/README.md. Exit status: CMD's, or 124 (timeout), 125 (VM or setup failure),
# 2 (usage or missing package).
set -euo pipefail
trap 'echo "kvmvm: internal error: \"$BASH_COMMAND\" failed (line $LINENO of $0)" >&2' ERR

die() { echo "kvmvm: $*" >&2; exit "${KVMVM_DIE_RC:-125}"; }
usage_die() { echo "kvmvm: $*" >&2; echo "usage: $0 [--timeout S] [--mem MiB] [--smp N] [--cpu MODEL] [--accel tcg[,OPTS]] [--icount SHIFT] [--kvm-amd PARAMS] [--include REPOPATH]... [--add HOSTPATH]... [--dmesg] [--verbose] [--kernel-deb FILE] [--kernel-pkg NAME] (-- CMD [ARG...] | --selftest [N] | --export-kernel DIR [MODULE...])" >&2; exit 2; }
need() { # need COMMAND PACKAGE
	command -v "$1" >/dev/null 2>&1 || { echo "kvmvm: '$1' not found: install the Debian package '$2' (apt-get install -y $2)" >&2; exit 2; }
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache="$repo/build/kvmvm"

timeout_s=300 mem=2048 smp=2 cpu=max accel=tcg icount='' amd_params='' dmesg=0 verbose=0 selftest=0 kernel_deb=${KVMVM_KERNEL_DEB:-}
# Debian 12's 6.12 kernel has guest_memfd, KVM_SET_USER_MEMORY_REGION2 and KVM_CAP_VM_TYPES; 6.1 has not
default_kernel_pkg=linux-image-6.12-amd64
kernel_pkg=${KVMVM_KERNEL_PKG:-$default_kernel_pkg}
includes=() adds=() export_dir= export_mods=()
while [ $# -gt 0 ]; do
	case "$1" in
	--timeout) [ $# -ge 2 ] || usage_die "--timeout needs a value"; timeout_s=$2; shift 2 ;;
	--mem) [ $# -ge 2 ] || usage_die "--mem needs a value"; mem=$2; shift 2 ;;
	--smp) [ $# -ge 2 ] || usage_die "--smp needs a value"; smp=$2; shift 2 ;;
	--accel) [ $# -ge 2 ] || usage_die "--accel needs a value"; accel=$2; shift 2 ;;
	--icount) [ $# -ge 2 ] || usage_die "--icount needs a shift"; icount=$2; shift 2 ;;
	--cpu) [ $# -ge 2 ] || usage_die "--cpu needs a value"; cpu=$2; shift 2 ;;
	--kvm-amd) [ $# -ge 2 ] || usage_die "--kvm-amd needs a value"; amd_params=$2; shift 2 ;;
	--include) [ $# -ge 2 ] || usage_die "--include needs a value"; includes+=("$2"); shift 2 ;;
	--add) [ $# -ge 2 ] || usage_die "--add needs a value"; adds+=("$2"); shift 2 ;;
	--kernel-deb) [ $# -ge 2 ] || usage_die "--kernel-deb needs a value"; kernel_deb=$2; shift 2 ;;
	--kernel-pkg) [ $# -ge 2 ] || usage_die "--kernel-pkg needs a value"; kernel_pkg=$2; shift 2 ;;
	--dmesg) dmesg=1; shift ;;
	--verbose|-v) verbose=1; shift ;;
	--selftest) selftest=1; shift; break ;;
	--export-kernel) [ $# -ge 2 ] || usage_die "--export-kernel needs a directory"; export_dir=$2; shift 2
		export_mods=("$@"); set -- export; break ;;
	--) shift; break ;;
	-h|--help) usage_die "runs CMD inside a QEMU TCG VM that has /dev/kvm" ;;
	*) usage_die "unknown option '$1'" ;;
	esac
done
if [ "$selftest" = 1 ]; then
	set -- kvmcheck "$@"
fi
[ $# -ge 1 ] || usage_die "no command given"
[[ "$timeout_s" =~ ^[0-9]+$ && "$timeout_s" -gt 0 ]] || usage_die "bad --timeout '$timeout_s'"
[[ "$mem" =~ ^[0-9]+$ && "$mem" -ge 256 ]] || usage_die "bad --mem '$mem' (MiB, at least 256)"
[[ "$smp" =~ ^[0-9]+$ && "$smp" -ge 1 ]] || usage_die "bad --smp '$smp'"
[[ "$accel" == tcg* ]] || usage_die "--accel must be tcg[,options]: this machine has no KVM"
if [ -n "$icount" ]; then
	[[ "$icount" =~ ^[0-9]+$ ]] || usage_die "--icount needs a number (QEMU's -icount shift)"
	# icount runs one TCG thread (round-robin)
	case "$accel" in *thread=single*) ;; *) accel="$accel,thread=single" ;; esac
fi
[[ "$cpu" == *svm* || "$cpu" == max || "$cpu" == EPYC* ]] ||
	echo "kvmvm: warning: CPU model '$cpu' may lack svm (use max or EPYC)" >&2

need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need dpkg-deb dpkg
need ldd libc-bin
need timeout coreutils
need flock util-linux
busybox=
for b in /bin/busybox /usr/bin/busybox; do [ -x "$b" ] && { busybox=$b; break; }; done
[ -n "$busybox" ] || { echo "kvmvm: busybox not found: install the Debian package 'busybox-static'" >&2; exit 2; }

t0=$(date +%s%N)
# GNU tools copied from the host into the image (those missing here are skipped)
host_tools="dash bash timeout env mktemp date stat sed grep awk sort head tail cut tr od wc find xargs
cmp diff sha256sum sha384sum dd truncate seq sleep readlink realpath basename dirname cat tee"
log() { # verbose progress, with milliseconds since start
	[ "$verbose" = 1 ] || return 0
	echo "kvmvm: [$(( ($(date +%s%N) - t0) / 1000000 )) ms] $*" >&2
}
mkdir -p "$cache"

# ---- kernel: vmlinuz + kvm modules from a Debian linux-image package, extracted (never installed)
ko_path() { # ko_path LIST NAME: the package path of module NAME ('-' or '_'), or nothing
	printf '%s\n' "$1" | grep -E "/kernel/.*/${2//[-_]/[-_]}\.ko(\.xz|\.zst|\.gz)?$" | head -n 1
}
ko_unpack() { # ko_unpack SRC DST: a module file as the package holds it, decompressed
	case "$1" in
	*.xz) need xz xz-utils; xz -dc "$1" >"$2" ;;
	*.zst) need zstd zstd; zstd -qdc "$1" >"$2" ;;
	*.gz) gzip -dc "$1" >"$2" ;;
	*) cp "$1" "$2" ;;
	esac
}
kernel_fetch() { # sets kdir
	local deb=$kernel_deb
	if [ -z "$deb" ]; then
		# the newest cached package for this meta package, else download it once
		local mark="$cache/pkg.$kernel_pkg"
		if [ -f "$mark" ] && [ -f "$cache/$(cat "$mark")" ]; then
			deb="$cache/$(cat "$mark")"
		else
			need apt-get apt
			# a meta package depends on one linux-image-VERSION package; a versioned one on none
			local pkg
			pkg=$(apt-cache depends "$kernel_pkg" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
			if [ -z "$pkg" ] && apt-cache show "$kernel_pkg" >/dev/null 2>&1; then
				pkg=$kernel_pkg
			fi
			if [ -z "$pkg" ] && [ "$kernel_pkg" = "$default_kernel_pkg" ]; then
				echo "kvmvm: note: $kernel_pkg not known to apt, trying linux-image-amd64" >&2
				pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
			fi
			case "$pkg" in
			linux-image-[0-9]*-amd64) ;;
			*) KVMVM_DIE_RC=2 die "cannot resolve '$kernel_pkg' to a linux-image-VERSION-amd64 package (run 'apt-get update' first, or pass --kernel-deb FILE)" ;;
			esac
			deb=$(find "$cache" -maxdepth 1 -name "${pkg}_*.deb" | sort | tail -n 1)
			if [ -z "$deb" ]; then
				echo "kvmvm: downloading $pkg (once, cached in build/kvmvm/)" >&2
				(cd "$cache" && apt-get download -q "$pkg" >/dev/null 2>"$cache/apt.log") ||
					KVMVM_DIE_RC=2 die "apt-get download $pkg failed (see build/kvmvm/apt.log; run 'apt-get update' or pass --kernel-deb FILE)"
				deb=$(find "$cache" -maxdepth 1 -name "${pkg}_*.deb" | sort | tail -n 1)
			fi
			[ -n "$deb" ] || die "apt-get download $pkg left no .deb in build/kvmvm/"
			basename "$deb" >"$mark"
		fi
	fi
	[ -f "$deb" ] || die "no such kernel package '$deb'"
	kernel_deb_path=$deb
	local list ver stamp
	# the package's kernel version, remembered by the package's name, size and time
	stamp="$cache/$(basename "$deb").$(stat -L -c %s.%Y "$deb").ver"
	if [ -f "$stamp" ]; then
		ver=$(cat "$stamp")
		kdir="$cache/kernel-$ver"
		[ -f "$kdir/ready" ] && return 0
	fi
	list=$(dpkg-deb --fsys-tarfile "$deb" | tar -t) || die "cannot read $deb"
	ver=$(printf '%s\n' "$list" | sed -n 's|^\./boot/vmlinuz-||p' | head -n 1)
	[ -n "$ver" ] || die "$deb holds no /boot/vmlinuz-*"
	kdir="$cache/kernel-$ver"
	echo "$ver" >"$stamp"
	[ -f "$kdir/ready" ] && return 0
	echo "kvmvm: extracting kernel $ver and kvm modules from $(basename "$deb")" >&2
	rm -rf "$kdir.tmp" && mkdir -p "$kdir.tmp/x" "$kdir.tmp/modules"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir.tmp/x" "./boot/vmlinuz-$ver" ||
		die "cannot extract vmlinuz from $deb"
	cp "$kdir.tmp/x/boot/vmlinuz-$ver" "$kdir.tmp/vmlinuz"
	# resolve kvm-amd's dependencies level by level from the .modinfo "depends=" strings;
	# names are kept with '-' (the file names of kvm-amd.ko and friends)
	local want=(kvm-amd) have=" "
	declare -A deps_of=()
	while [ ${#want[@]} -gt 0 ]; do
		local paths=() m p
		for m in "${want[@]}"; do
			p=$(ko_path "$list" "$m")
			[ -n "$p" ] || die "module $m not found in $deb"
			paths+=("$p")
		done
		dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$kdir.tmp/x" "${paths[@]}" || die "cannot extract modules from $deb"
		local next=()
		for p in "${paths[@]}"; do
			local f="$kdir.tmp/x/$p" name ko d deps
			name=$(basename "$p"); name=${name%%.ko*}; name=${name//_/-}
			ko="$kdir.tmp/modules/$name.ko"
			ko_unpack "$f" "$ko"
			have+="$name "
			deps=$(tr '\0' '\n' <"$ko" | sed -n 's/^depends=//p' | head -n 1)
			deps=${deps//_/-}
			deps_of[$name]=${deps//,/ }
			for d in ${deps_of[$name]}; do
				[[ "$have" == *" $d "* || " ${next[*]} " == *" $d "* ]] || next+=("$d")
			done
		done
		want=("${next[@]}")
	done
	# load order: dependencies first (depth-first), each module once
	local listed=" "
	: >"$kdir.tmp/modules.list"
	emit() {
		local d
		[[ "$listed" == *" $1 "* ]] && return 0
		for d in ${deps_of[$1]}; do emit "$d"; done
		listed+="$1 "
		echo "$1" >>"$kdir.tmp/modules.list"
	}
	emit kvm-amd
	rm -rf "$kdir.tmp/x"
	touch "$kdir.tmp/ready"
	rm -rf "$kdir" && mv "$kdir.tmp" "$kdir"
}

# ---- copy an ELF file's shared libraries (and loader) into a staging root, at their host paths
rtld=
for l in /lib64/ld-linux-x86-64.so.2 /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2; do
	[ -x "$l" ] && { rtld=$l; break; }
done
list_libs() { # list_libs FILE...: the shared objects (and loader) the dynamic ELF files need
	local f v
	for f in "$@"; do
		if [ -n "$rtld" ]; then
			# what ldd does, without its shell script per file: --verify 0/2 = dynamic
			v=0; "$rtld" --verify "$f" >/dev/null 2>&1 || v=$?
			if [ $v = 0 ] || [ $v = 2 ]; then "$rtld" --list "$f" 2>/dev/null || true; fi
		else
			ldd "$f" 2>/dev/null || true
		fi
	done
}
copy_libs() { # copy_libs STAGE FILE...
	local stage=$1 l
	shift
	[ $# -gt 0 ] || return 0
	list_libs "$@" |
		sed -n -e 's/^.*=> \(\/[^ ]*\) (0x.*$/\1/p' -e 's/^[[:space:]]*\(\/[^ ]*\) (0x.*$/\1/p' | sort -u |
		while read -r l; do
			[ -e "$stage$l" ] && continue
			mkdir -p "$stage$(dirname "$l")"
			cp -L "$l" "$stage$l"
		done
}

# ---- base image: busybox, init, kvm modules, kvmcheck (cached; rebuilt when an input changes)
base_build() { # sets base
	local stamp stage
	stamp=$(cat "$here/init" "$here/kvmcheck.c" "$kdir/modules.list" "${BASH_SOURCE[0]}" | cksum | cut -d' ' -f1)
	base="$cache/base-$(basename "$kdir")-$stamp.cpio"
	[ -f "$base" ] && return 0
	log "building $base"
	rm -rf "$cache"/base.??????
	stage=$(mktemp -d "$cache/base.XXXXXX")
	mkdir -p "$stage/bin" "$stage/kvmvm/modules" "$stage/kvmvm/bin" "$stage/repo"
	cp "$busybox" "$stage/bin/busybox"
	copy_libs "$stage" "$busybox"
	cp "$here/init" "$stage/init" && chmod 755 "$stage/init"
	cp "$kdir/modules.list" "$stage/kvmvm/modules.list"
	cp "$kdir"/modules/*.ko "$stage/kvmvm/modules/"
	if command -v gcc >/dev/null 2>&1 &&
		gcc -static -O2 -o "$stage/kvmvm/bin/kvmcheck" "$here/kvmcheck.c" 2>"$cache/kvmcheck.log"; then
		:
	else
		echo "kvmvm: note: kvmcheck not built (needs gcc and libc6-dev; see build/kvmvm/kvmcheck.log)" >&2
	fi
	# host tools, at their host paths, so scripts get GNU behaviour (busybox fills in the rest)
	local t p tools=()
	for t in $host_tools; do
		p=$(command -v "$t" 2>/dev/null) || continue
		case "$p" in /*) ;; *) continue ;; esac
		mkdir -p "$stage$(dirname "$p")"
		cp -L "$p" "$stage$p"
		tools+=("$p")
	done
	# /bin/sh and /bin/bash as on Debian; busybox's own sh prefers its applets to these tools
	for t in dash:sh bash:bash; do
		p=$(command -v "${t%%:*}" 2>/dev/null) || continue
		[ -e "$stage$p" ] && [ ! -e "$stage/bin/${t#*:}" ] && ln -s "$p" "$stage/bin/${t#*:}"
	done
	copy_libs "$stage" "${tools[@]}"
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$base.tmp" ||
		die "cpio failed building the base image"
	rm -rf "$stage"
	rm -f "$cache/base-$(basename "$kdir")"-*.cpio
	mv "$base.tmp" "$base"
}

exec 9>"$cache/lock"
flock -w 600 9 || die "could not lock build/kvmvm/lock"
kernel_fetch
if [ -n "$export_dir" ]; then
	# --export-kernel DIR [MODULE...]: the same kernel for a fukivmm guest
	# (tests/linuxguest): vmlinuz and the named modules, decompressed
	mkdir -p "$export_dir" || die "cannot create $export_dir"
	cp "$kdir/vmlinuz" "$export_dir/vmlinuz"
	xlist=$(dpkg-deb --fsys-tarfile "$kernel_deb_path" | tar -t) || die "cannot read $kernel_deb_path"
	xtmp=$(mktemp -d "$cache/export.XXXXXX")
	for m in "${export_mods[@]}"; do
		p=$(ko_path "$xlist" "$m")
		[ -n "$p" ] || { rm -rf "$xtmp"; die "module $m not found in $kernel_deb_path"; }
		dpkg-deb --fsys-tarfile "$kernel_deb_path" | tar -x -C "$xtmp" "$p" || die "cannot extract $p"
		ko_unpack "$xtmp/$p" "$export_dir/$m.ko"
	done
	rm -rf "$xtmp"
	basename "$kdir" >"$export_dir/kernel.version"
	exit 0
fi
base_build
flock -u 9
log "kernel and base image ready"

# ---- per-run payload: the repo parts, extra host files, their libraries, the command
work=$(mktemp -d "$cache/run.XXXXXX")
cleanup() { # on any exit: stop a QEMU still running (timeout forwards TERM to it), drop the work dir
	local pid
	pid=$(cat "$work/qemu.pid" 2>/dev/null || true)
	if [ -n "$pid" ] && [ ! -f "$work/qemu.rc" ]; then kill -TERM "$pid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
stage="$work/root"
mkdir -p "$stage/repo" "$stage/kvmvm"
paths=()
for p in build configs tests; do
	[ -e "$repo/$p" ] && paths+=("$p")
done
for p in "${includes[@]}"; do
	case "$p" in /*|*..*) usage_die "--include takes a path inside the repository: '$p'" ;; esac
	[ -e "$repo/$p" ] || die "--include: no such path in the repository: '$p'"
	paths+=("$p")
done
if [ ${#paths[@]} -gt 0 ]; then
	# tar exits 1 when a file changed while read (a build running beside us): not an error here
	# build/: objects, archives, libFuzzer binaries and the large inputs of
	# test_uefi_swap.sh stay out unless asked for with --include
	excl=(--exclude=build/kvmvm --exclude=build/obj --exclude=build/san --exclude=build/fuzzobj
		--exclude='*.o' --exclude='*.a')
	[[ " ${includes[*]} " == *" build/fuzz "* ]] || excl+=(--exclude=build/fuzz)
	[[ " ${includes[*]} " == *" build/uefi-swap "* ]] || excl+=(--exclude=build/uefi-swap)
	{
		tar -C "$repo" -cf - --warning=no-file-changed --warning=no-file-removed --ignore-failed-read \
			"${excl[@]}" "${paths[@]}" || [ $? -eq 1 ]
	} | tar -C "$stage/repo" -xf - ||
		die "copying ${paths[*]} into the image failed"
fi
if [ -d "$repo/../shared/testdata" ]; then
	mkdir -p "$stage/shared"
	cp -r "$repo/../shared/testdata" "$stage/shared/testdata"
fi
for a in "${adds[@]}"; do
	case "$a" in /*) ;; *) a=$(command -v "$a" 2>/dev/null || echo "$a") ;; esac
	[ -e "$a" ] || die "--add: no such host path '$a'"
	mkdir -p "$stage$(dirname "$a")"
	cp -rL "$a" "$stage$a"
done
log "repo files copied"
mapfile -t elfs < <(find "$stage" -type f \( -perm -u+x -o -name '*.so*' \) 2>/dev/null)
copy_libs "$stage" "${elfs[@]}"
# glibc dlopens libgcc_s for thread cancellation and unwinding
for l in /lib/x86_64-linux-gnu/libgcc_s.so.1 /usr/lib/x86_64-linux-gnu/libgcc_s.so.1; do
	if [ -e "$l" ] && [ ! -e "$stage$l" ]; then mkdir -p "$stage$(dirname "$l")"; cp -L "$l" "$stage$l"; break; fi
done

log "shared libraries copied"
token=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
ldpath=$(cd "$stage" && find . -name '*.so*' -type f -printf '%h\n' 2>/dev/null | sed 's|^\.||' | sort -u | paste -sd: -)
{
	printf 'KVMVM_TOKEN=%s\nKVMVM_DMESG=%s\n' "$token" "$dmesg"
	printf "KVMVM_AMD_PARAMS='%s'\n" "${amd_params//\'/}"
	printf "KVMVM_LD_PATH='%s'\n" "${ldpath//\'/}"
} >"$stage/kvmvm/config"
{
	# CMD can tell it runs in this VM, and whether under icount
	printf "export KVMVM=1 KVMVM_ICOUNT='%s'\n" "$icount"
	printf 'exec'
	for a in "$@"; do
		printf " '%s'" "${a//\'/\'\\\'\'}"
	done
	printf '\n'
} >"$stage/kvmvm/cmd"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$work/payload.cpio" ||
	die "cpio failed building the payload"
cat "$base" "$work/payload.cpio" >"$work/initrd.cpio"
rm -rf "$stage" "$work/payload.cpio"
size_mb=$(( $(stat -c %s "$work/initrd.cpio") / 1048576 ))
# the initramfs lives in guest RAM twice while it unpacks
[ $((size_mb * 3 + 512)) -le "$mem" ] || mem=$((size_mb * 3 + 512))
log "initramfs ${size_mb} MiB, guest ${mem} MiB, ${smp} vCPUs, cpu $cpu"

# ---- boot
# this run's console (runs may overlap); build/kvmvm/last-console.log gets a copy
console="$work/console.log"
: >"$console"
log "initramfs written"
set +e
trap - ERR
# the braces keep bash's "Aborted ..." job report (a crashing QEMU) out of the output
{
	timeout -k 5 "$timeout_s" qemu-system-x86_64 -accel "$accel" ${icount:+-icount shift=$icount,sleep=off} -cpu "$cpu" -m "$mem" -smp "$smp" \
		-nodefaults -no-user-config -display none -monitor none -serial stdio -no-reboot \
		-kernel "$kdir/vmlinuz" -initrd "$work/initrd.cpio" \
		-append "console=ttyS0 quiet loglevel=1 panic=-1 mitigations=off" </dev/null 2>"$work/qemu.err" &
	echo $! >"$work/qemu.pid"
	wait $!
	echo $? >"$work/qemu.rc"
} 2>/dev/null | tr -d '\r' | tee "$console" | awk -v tok="$token" '
	index($0, "KVMVM-EXIT " tok ": ") == 1 { inside = 0; next }
	inside { print; fflush() }
	index($0, "KVMVM-BEGIN " tok) == 1 { inside = 1 }'
qrc=$(cat "$work/qemu.rc" 2>/dev/null || echo unknown)
set -e
log "VM stopped (guest kernel up $(sed -n "s/^KVMVM-UPTIME $token: //p" "$console" | head -n 1) s when CMD started)"
grep -v -i 'warning: TCG doesn.t support' "$work/qemu.err" >&2 || true

cp "$console" "$cache/last-console.log" 2>/dev/null || true
rc=$(sed -n "s/^KVMVM-EXIT $token: \([0-9]*\)\$/\1/p" "$console" | tail -n 1)
err=$(sed -n "s/^KVMVM-ERROR $token: //p" "$console" | tail -n 1)
if [ -n "$err" ]; then
	echo "kvmvm: VM setup failed: $err (console log: build/kvmvm/last-console.log)" >&2
	tail -n 30 "$console" >&2
	exit 125
fi
if [ -z "$rc" ]; then
	if [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		echo "kvmvm: timed out after ${timeout_s} s (console log: build/kvmvm/last-console.log)" >&2
		exit 124
	fi
	echo "kvmvm: the VM stopped without reporting an exit status (qemu exit $qrc; console log: build/kvmvm/last-console.log)" >&2
	tail -n 30 "$console" >&2
	exit 125
fi
exit "$rc"
