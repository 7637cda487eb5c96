#!/bin/sh
# virtio-blk data path without a guest: tests/bench/blk_bench.c plays the
# driver (descriptor chains in a guest-memory buffer, notify through the
# MMIO bus) and the device model serves it through io_uring (O_DIRECT).
# Compared with fio --ioengine=io_uring --direct=1 on the same file in the
# same run: 4 KiB random reads at QD 32 and 128 KiB sequential reads.
#
# Each workload runs four ways, taking turns ROUNDS times, so that a drift
# of the storage under them (a virtual disk shared with other machines can
# move by a factor of two within a minute) falls on all four alike.  Two
# pairs, each a driver pattern and fio submitting the same way:
#   - batched: blk_bench posts every request a wake-up completed and
#     notifies once, so the device submits them in one io_uring_enter;
#     fio with iodepth_batch_submit = iodepth_batch_complete_min = QD;
#   - one at a time: blk_bench notifies after each request, so each is
#     its own io_uring_enter; fio as it comes (one request per
#     io_uring_enter, reaped as they come): the issue's peer.
# Each prints median and p90 of the per-round IOPS (p90 from the top: the
# slow tail), the CPU per request, and the ratio of the medians.
# BENCH_BLK_FILE: file to use (default: a 1 GiB scratch file in $TMPDIR,
# deleted afterwards; it must not be on tmpfs: O_DIRECT);
# BENCH_BLK_SECS: seconds per run (1); BENCH_BLK_ROUNDS: rounds (20).
. "$(dirname "$0")/lib.sh"
SECS=${BENCH_BLK_SECS:-1}
ROUNDS=${BENCH_BLK_ROUNDS:-20}
QD=32
FILE=${BENCH_BLK_FILE:-$BTMP/bench-blk.img}
BIN=$BTMP/blk_bench
make -C "$ROOT" -s build/libfuki.a || exit 1
cc -O2 -I"$ROOT" -D_GNU_SOURCE -std=gnu11 -o "$BIN" "$ROOT/tests/bench/blk_bench.c" \
	"$ROOT/build/libfuki.a" -lpthread -lcrypto -lcbor -luring || exit 1
if [ ! -f "$FILE" ]; then
	# real data, not a sparse file, so both sides read the same blocks
	dd if=/dev/urandom of="$FILE" bs=1M count=1024 status=none || exit 1
fi
if ! command -v fio >/dev/null; then
	echo "SKIP: fio not installed (apt-get install fio): comparison not run"
	HAVE_FIO=0
else
	HAVE_FIO=1
fi

# fio terse v3: field 7 read KiB/s, 8 read IOPS; 88/89 usr/sys CPU %
fio_run() { # RW BS [FIO ARGS...] -> "iops cpu_us_per_req"
	_rw=$1 _bs=$2
	shift 2
	fio --name=b --filename="$FILE" --ioengine=io_uring --direct=1 --rw="$_rw" --bs="$_bs" \
		--iodepth="$QD" --runtime="$SECS" --time_based --numjobs=1 "$@" \
		--output-format=terse --terse-version=3 2>/dev/null | awk -F';' -v secs="$SECS" '{
			iops = $8; cpu = ($88 + $89) / 100 * secs;
			printf "%.0f %.2f\n", iops, (iops > 0 ? cpu * 1e6 / (iops * secs) : 0) }'
}
# lowstats: "MEDIAN P90 COUNT" of rates on stdin, p90 from the top (the
# slow tail): the 10th percentile of the values
lowstats() {
	sort -n | awk '{ a[NR] = $1 } END {
		if (!NR) { print "- - 0"; exit }
		m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		k = int((NR + 9) / 10); if (k < 1) k = 1
		printf "%.0f %.0f %d\n", m, a[k], NR }'
}
# report LABEL FILE BYTES_PER_REQ: a line of median / p90 IOPS, MiB/s, CPU
report() {
	set -- "$1" "$(awk '{print $1}' "$2" | lowstats)" "$(awk '{print $2}' "$2" | stats)" "$3"
	# shellcheck disable=SC2086
	set -- "$1" $2 $3 "$4"
	say "$1: median $2 IOPS ($(awk -v i="$2" -v b="$8" 'BEGIN { printf "%.0f", i * b / 1048576 }') MiB/s), p90 $3 IOPS over $4 rounds; CPU per request median $5 us"
	REP_MED=$2 REP_CPU=$5
}

say "virtio-blk against fio, QD $QD, O_DIRECT, $ROUNDS rounds of $SECS s each, taking turns; $(basename "$FILE"): $(($(stat -c %s "$FILE") >> 20)) MiB; machine: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for w in "rand4k randread 4k 4096" "seq128k read 128k 131072"; do
	set -- $w
	name=$1 rw=$2 bs=$3 bytes=$4
	for k in vb fb vs fs rb rs; do : >"$BTMP/$k"; done
	i=0
	while [ "$i" -lt "$ROUNDS" ]; do
		for mode in batch single; do
			v=$("$BIN" "$FILE" "$name" "$QD" "$SECS" "$mode") ||
				{ echo "blk_bench $name $mode failed: $v"; exit 1; }
			m=$(echo "$mode" | cut -c1)
			echo "$v" | awk '{print $2, $6}' >>"$BTMP/v$m"
			[ "$HAVE_FIO" = 1 ] || continue
			if [ "$mode" = batch ]; then
				f=$(fio_run "$rw" "$bs" --iodepth_batch_submit="$QD" \
					--iodepth_batch_complete_min="$QD")
			else
				f=$(fio_run "$rw" "$bs")
			fi
			echo "$f" >>"$BTMP/f$m"
			# the round's own ratio: how far one round can lie
			echo "$v $f" | awk '{ if ($11 > 0) printf "%.3f\n", $2 / $11 }' >>"$BTMP/r$m"
		done
		i=$((i + 1))
	done
	for m in b s; do
		[ "$m" = b ] && how="batched" || how="one at a time"
		report "virtio-blk $name, $how" "$BTMP/v$m" "$bytes"
		v_med=$REP_MED v_cpu=$REP_CPU
		[ "$HAVE_FIO" = 1 ] || continue
		[ "$m" = b ] && peer="fio batched as the driver" || peer="fio as it comes"
		report "$peer $name" "$BTMP/f$m" "$bytes"
		f_med=$REP_MED f_cpu=$REP_CPU
		set -- $(sort -n "$BTMP/r$m" | awk '{ a[NR] = $1 } END { print a[1], a[NR] }')
		say "ratio $name, $how: virtio-blk/$peer IOPS $(ratio "$v_med" "$f_med") (single rounds: $1 to $2), CPU per request $(ratio "$v_cpu" "$f_cpu")"
	done
done
