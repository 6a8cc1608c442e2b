#!/usr/bin/env bash
# bench/profile.sh: where produce and consume spend their CPU. Runs one kproduce and one
# kconsume of PROFILE_RECORDS 100-byte records against a standalone broker, each side under
# `perf record`, and prints the hottest functions of kbroker, kproduce and kconsume.
# Not part of make bench (perf slows what it watches); run it by hand:
#   KREEK_BIN=build bash bench/profile.sh        # perf.data files kept in $PROFILE_OUT
set -uo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tests/lib/common.sh
source "$HERE/../tests/lib/common.sh"

N=${PROFILE_RECORDS:-500000}
TOP=${PROFILE_TOP:-20}
OUT=${PROFILE_OUT:-$TEST_TMP/perf}
mkdir -p "$OUT"
command -v perf >/dev/null || { echo "profile: perf not installed" >&2; exit 1; }

awk -v n="$N" 'BEGIN { pad = sprintf("%89s", ""); gsub(/ /, "x", pad); for (i = 0; i < n; i++) printf "%010d %s\n", i, pad }' >"$TEST_TMP/records.txt"
start_broker pb || { echo "profile: kbroker did not start" >&2; exit 1; }

# profile_side NAME CMD...: perf on the broker (attached) and on CMD (launched) at once.
profile_side() {
  local name=$1
  shift
  perf record -q -e cpu-clock -c 250000 --call-graph dwarf,16384 -o "$OUT/kbroker-$name.data" -p "$pb_PID" 2>/dev/null &
  local bperf=$!
  sleep 0.3
  local t0=$EPOCHREALTIME
  perf record -q -e cpu-clock -c 250000 --call-graph dwarf,16384 -o "$OUT/$name.data" -- "$@" 2>"$TEST_TMP/$name.err"
  echo "profile: $name took $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s under perf" >&2
  kill -INT "$bperf"
  wait "$bperf"
}

report() {
  echo
  echo "== $1: top $TOP functions by self time"
  perf report -q -i "$2" --no-children --sort dso,symbol -g none --stdio 2>/dev/null | cut -c1-150 |
    grep -E '^ +[0-9]' | head -n "$TOP"
}

profile_side kproduce kproduce -b "$pb_ADDR" -t prof "$TEST_TMP/records.txt"
profile_side kconsume sh -c "kconsume -b '$pb_ADDR' -t prof >/dev/null"
report "kbroker during produce" "$OUT/kbroker-kproduce.data"
report "kproduce" "$OUT/kproduce.data"
report "kbroker during consume" "$OUT/kbroker-kconsume.data"
report "kconsume" "$OUT/kconsume.data"
echo
echo "perf data in $OUT (removed at exit unless PROFILE_OUT is set); callers:"
echo "  perf report -i FILE --no-children --sort symbol -g caller --stdio"
