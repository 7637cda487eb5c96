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
	cat "$BTMP"/ev.* | python3 -c "
import sys, statistics, re
runs, cur = [], {}
for line in sys.stdin:
    m = re.match(r'fukivmm-event t=([0-9.]+) event=([a-z-]+)', line)
    if not m: continue
    t, ev = float(m.group(1)), m.group(2)
    if ev == 'booted': cur = {}
    if ev == 'swap-requested': cur['req'] = t
    if ev == 'swap-accepted': cur['acc'] = t
    if ev == 'rebuilt': cur['reb'] = t
    if ev == 'first-output' and 'reb' in cur and 'req' in cur and 'done' not in cur:
        cur['done'] = t; runs.append((t - cur['req'], cur['acc'] - cur['req'], t - cur['reb']))
if not runs: print('$rom: no swap observed'); sys.exit(1)
tot = statistics.median(r[0] for r in runs) * 1000
cp = statistics.median(r[1] for r in runs) * 1000
fo = statistics.median(r[2] for r in runs) * 1000
print('%s: doorbell write -> tenant first byte, median of %d: %.3f ms (copy+hash+validate %.3f ms, rebuilt -> first byte %.3f ms)' % ('$rom', len(runs), tot, cp, fo))
"
	rm -f "$BTMP"/ev.*
done
