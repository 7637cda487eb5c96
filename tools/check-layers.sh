#!/bin/sh
# tools/check-layers.sh: `make check-layers`.  Checks every project #include
# against the allowed arrows of docs/architecture.md ("Layers").  Prints one
# line per forbidden include and exits 1 if there is any.
#
# A rule is "FOLDER: ALLOWED..."; an include "a/b/c.h" is allowed from a file
# in FOLDER when the folder of c.h is FOLDER itself or starts with one of the
# ALLOWED prefixes (a prefix naming a file allows that file only).  Files in
# FORBID may not be included from FOLDER even where a prefix allows them.
cd "$(dirname "$0")/.." || exit 1
rules='
vmm/base:
devices: vmm/base
loader: vmm/base
snp: vmm/base loader
tdx: vmm/base loader
vmm/hv: vmm/base loader/plan.h
vmm/config: vmm/base loader snp/snp.h
vmm/launch: vmm/base vmm/hv vmm/config loader snp tdx devices/fwcfg.h
vmm/api: vmm/base devices/doorbell.h
vmm/vm: vmm/base vmm/hv vmm/config vmm/launch vmm/api loader devices
vmm/cli: vmm loader devices snp tdx
'
# the platform launchers alone (snp/launch.c, tdx/launch.c and their headers)
# also reach the hypervisor interface
impure='snp/launch.c snp/launch.h tdx/launch.c tdx/launch.h'
# the event log belongs to the lifecycle: no device or loader writes it
forbid_devices='vmm/base/events.h'
bad=0
for f in $(git ls-files 'vmm/*.[ch]' 'devices/*.[ch]' 'loader/*.[ch]' 'snp/*.[ch]' 'tdx/*.[ch]' 2>/dev/null ||
	   find vmm devices loader snp tdx -name '*.[ch]'); do
	dir=$(dirname "$f")
	allow=$(printf '%s\n' "$rules" | sed -n "s|^$dir: *||p")
	if ! printf '%s\n' "$rules" | grep -q "^$dir:"; then
		echo "check-layers: $f: folder $dir has no rule in tools/check-layers.sh"
		bad=1
		continue
	fi
	case " $impure " in *" $f "*) allow="$allow vmm/hv" ;; esac
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		idir=$(dirname "$inc")
		case $idir in
		.) echo "check-layers: $f: #include \"$inc\" is not root-relative"; bad=1; continue ;;
		"$dir") continue ;;
		esac
		ok=0
		for a in $allow; do
			case $inc in "$a"|"$a"/*) ok=1 ;; esac
		done
		case $dir in devices|loader)
			for x in $forbid_devices; do [ "$inc" = "$x" ] && ok=0; done ;;
		esac
		if [ $ok = 0 ]; then
			echo "check-layers: $f: #include \"$inc\": $dir may not depend on $idir"
			bad=1
		fi
	done
done
[ $bad = 0 ] && echo "check-layers: every include follows the arrows of docs/architecture.md"
exit $bad
