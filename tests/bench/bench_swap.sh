#!/bin/sh
# Swap latency (issue "doorbell"): from the guest's doorbell write to the
# tenant firmware's first serial byte, for a 64 KiB and a 2 MiB image, read
# from the event log: t(first-output after the rebuild) - t(swap-requested).
# It includes the provider's own work between its write and its reset (a few
# serial lines and the 0xCF9 write) and the copy + SHA-384 of the image.
# Target: <= 2 ms plus the copy (about 1 ms per 2 MiB).
. "$(dirname "$0")/lib.sh"
N=${BENCH_RUNS:-10}
if ! have_kvm; then
	echo "SKIP: no /dev/kvm: swap-latency benchmark not run"
	exit 0
fi
for rom in provider provider-big; do
	cat >"$BTMP/$rom.toml" <<T
[vm]
memory = "64M"
[firmware]
path = "$ROOT/build/guest/$rom.rom"
[serial]
output = "none"
[debug_exit]
port = 0xf4
T
	for i in $(seq "$N"); do
		"$FUKIVMM" run "$BTMP/$rom.toml" >/dev/null 2>"$BTMP/ev.$i" </dev/null
	done
	# one line per run: total, copy+hash+validate, rebuilt -> first byte (ms)
	for i in $(seq "$N"); do
		awk '
		$2 ~ /^t=/ { t = substr($2, 3) }
		/event=swap-requested/ { req = t }
		/event=swap-accepted/ { acc = t }
		/event=rebuilt/ { reb = t }
		/event=first-output/ && reb && req && !done { done = 1; printf "%.3f %.3f %.3f\n", (t - req) * 1000, (acc - req) * 1000, (t - reb) * 1000 }
		' "$BTMP/ev.$i"
	done >"$BTMP/swaps"
	if [ ! -s "$BTMP/swaps" ]; then
		echo "$rom: no swap observed"
		continue
	fi
	say "$rom: doorbell write -> tenant first byte, median of $(wc -l <"$BTMP/swaps"): $(awk '{print $1}' "$BTMP/swaps" | median) ms" \
	     "(copy+hash+validate $(awk '{print $2}' "$BTMP/swaps" | median) ms, rebuilt -> first byte $(awk '{print $3}' "$BTMP/swaps" | median) ms)"
	rm -f "$BTMP"/ev.*
done
