#!/bin/sh
# virtio-blk data path without a guest: tests/bench/blk_bench.c plays the
# driver (descriptor chains in a guest-memory buffer, notify through the
# MMIO bus) and the device model serves it through io_uring (O_DIRECT).
# Compared with fio --ioengine=io_uring --direct=1 on the same file in the
# same run: 4 KiB random reads at QD 32 and 128 KiB sequential reads.
# BENCH_BLK_FILE: file to use (default: a 1 GiB scratch file in $TMPDIR,
# deleted afterwards; it must not be on tmpfs: O_DIRECT);
# BENCH_BLK_SECS: seconds per run (5).
. "$(dirname "$0")/lib.sh"
SECS=${BENCH_BLK_SECS:-5}
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
fio_run() { # RW BS QD -> "iops mibps cpu_us_per_req"
	fio --name=b --filename="$FILE" --ioengine=io_uring --direct=1 --rw="$1" --bs="$2" \
		--iodepth="$3" --runtime="$SECS" --time_based --numjobs=1 --output-format=terse \
		--terse-version=3 2>/dev/null | awk -F';' -v secs="$SECS" '{
			iops = $8; cpu = ($88 + $89) / 100 * secs;
			printf "%.0f %.1f %.2f\n", iops, $7 / 1024, (iops > 0 ? cpu * 1e6 / (iops * secs) : 0) }'
}

for w in "rand4k randread 4k 32" "seq128k read 128k 32"; do
	set -- $w
	v=$("$BIN" "$FILE" "$1" "$4" "$SECS") || { echo "blk_bench $1 failed: $v"; exit 1; }
	vi=$(echo "$v" | awk '{print $2}')
	vm=$(echo "$v" | awk '{print $4}')
	vc=$(echo "$v" | awk '{print $6}')
	say "virtio-blk $1 qd$4: $vi IOPS, $vm MiB/s, $vc us CPU per request (VMM side incl. the driver loop)"
	if [ "$HAVE_FIO" = 1 ]; then
		f=$(fio_run "$2" "$3" "$4")
		fi_=$(echo "$f" | awk '{print $1}')
		fm=$(echo "$f" | awk '{print $2}')
		fc=$(echo "$f" | awk '{print $3}')
		say "fio        $1 qd$4: $fi_ IOPS, $fm MiB/s, $fc us CPU per request"
		say "ratio      $1: virtio-blk/fio IOPS $(ratio "$vi" "$fi_")"
	fi
done
