#!/usr/bin/env bash
# bench/consume_restart.sh: what checking stored batches on first read costs a
# consumer. Produces BENCH_RECORDS 100-byte records, restarts the broker
# cleanly (everything is then below the recovery point and unchecked), and
# times kconsume of the whole topic three times: the first read after the
# restart (checks every batch once), a second read (checked bytes are sent
# straight from the files), and a third after a restart with a descriptor
# bound of KREEK_MAX_OPEN (closed segments' files reopened on demand), if the
# broker has --max-open-segments. Page cache warm throughout: the figure is
# CPU, not disk.
#
# Env: KREEK_BIN (build dir), BENCH_RECORDS (default 2000000), BENCH_SEGMENT_BYTES
#      (default 8388608: several segments), KREEK_MAX_OPEN (default 4).
set -uo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tests/lib/common.sh
source "$HERE/../tests/lib/common.sh"

N=${BENCH_RECORDS:-2000000}
SEG=${BENCH_SEGMENT_BYTES:-8388608}
MAX_OPEN=${KREEK_MAX_OPEN:-4}
say() { echo "consume_restart: $*" >&2; }
secs_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }'; }

awk -v n="$N" 'BEGIN { pad = sprintf("%89s", ""); gsub(/ /, "x", pad); for (i = 0; i < n; i++) printf "%010d %s\n", i, pad }' >"$TEST_TMP/records.txt"
start_broker k --segment-bytes "$SEG" || { say "kbroker did not start"; exit 1; }
timeout 300 kproduce -b "$k_ADDR" -t bench "$TEST_TMP/records.txt" || { say "kproduce failed"; exit 1; }
segs=$(find "$k_DIR" -path '*bench-*' -name '*.log' | wc -l)

# CPU seconds (user+sys) the broker has used so far: steadier than wall time
# on a shared machine.
CLK_TCK=$(getconf CLK_TCK)
cpu_of() { awk -v t="$CLK_TCK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat"; }

consume_once() {
  local t0=$EPOCHREALTIME c0 count el
  c0=$(cpu_of "$k_PID")
  count=$(timeout 300 kconsume -b "$k_ADDR" -t bench | wc -l)
  el=$(secs_since "$t0")
  [ "$count" = "$N" ] || say "WARNING: consumed $count records, expected $N"
  printf '%-52s %8s s  %10s rec/s  kbroker CPU %5.2f s\n' "$1" "$el" \
    "$(awk -v n="$N" -v s="$el" 'BEGIN { printf "%.0f", n / s }')" \
    "$(awk -v a="$c0" -v b="$(cpu_of "$k_PID")" 'BEGIN { print b - a }')"
}

echo "kconsume of $N records in $segs segments of $SEG bytes (kconsume | wc -l, page cache warm)"
consume_once "same broker that appended them"
stop_broker k
start_broker k --segment-bytes "$SEG"
consume_once "after a clean restart: first read"
consume_once "after a clean restart: second read"
if kbroker --help 2>/dev/null | grep -q -- --max-open-segments; then
  stop_broker k
  start_broker k --segment-bytes "$SEG" --max-open-segments "$MAX_OPEN"
  consume_once "restart, --max-open-segments $MAX_OPEN: first read"
  consume_once "restart, --max-open-segments $MAX_OPEN: second read"
fi
stop_broker k
