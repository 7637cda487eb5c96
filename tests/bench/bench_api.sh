#!/bin/sh
# tests/bench/bench_api.sh: control-socket throughput and event delay.
# Builds tests/bench/api_bench.c against build/libfuki.a and runs it: a real
# server thread with a fake VM backend (no KVM needed), status round trips
# per second from 1 and from 16 clients, and the delay from events_emit() to
# a subscriber reading the frame.  FUKI_BENCH_SECONDS sets each run's length.
. "$(dirname "$0")/lib.sh"
lib_bench api_bench || exit 1
say "control socket, fake backend, $(nproc) CPUs"
out=$("$BTMP/api_bench" "$BTMP/api.sock" "${FUKI_BENCH_SECONDS:-2}")
rc=$?
printf '%s\n' "$out" | while IFS= read -r l; do say "$l"; done
exit $rc
