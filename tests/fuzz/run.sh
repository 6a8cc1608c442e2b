#!/usr/bin/env bash
# Runs every libFuzzer target in $FUZZ_BUILD (default build-fuzz) for
# FUZZ_SECONDS each (default 60), one at a time under nice, over its corpus in
# tests/fuzz/corpus/<target>/ (read only: new inputs go to a scratch dir, and
# FUZZ_MERGE=1 merges them back into the repo's corpus, minimised). Extra
# arguments go to every target (e.g. -runs=10000000). Crashes are written to
# $FUZZ_BUILD/artifacts/; the exit status is non-zero if any target failed.
#   FUZZ_SECONDS=600 bash tests/fuzz/run.sh
#   FUZZ_TARGETS="fuzz_batch" bash tests/fuzz/run.sh -runs=10000000
# FUZZ_ASAN_OPTIONS adds to the ASan options (see tests/fuzz/README).
set -uo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${FUZZ_BUILD:-$SRC/build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-60}
TARGETS=${FUZZ_TARGETS:-"fuzz_request_line fuzz_batch fuzz_client_reply fuzz_checkpoint fuzz_data_dir fuzz_metadata_files fuzz_coord_request"}
mkdir -p "$BUILD/artifacts" "$BUILD/corpus"
failed=0
for t in $TARGETS; do
  bin=$BUILD/tests/fuzz/$t
  if [ ! -x "$bin" ]; then
    echo "fuzz: $bin is not built (make fuzz builds it)" >&2
    failed=1
    continue
  fi
  case $t in
    fuzz_client_reply) max_len=16384 ;;
    fuzz_batch | fuzz_request_line) max_len=8192 ;;
    *) max_len=4096 ;;
  esac
  work=$BUILD/corpus/$t
  mkdir -p "$work"
  echo "fuzz: $t for ${SECONDS_EACH}s" >&2
  # Leaks are checked where each input starts from nothing; the broker and
  # coordinator targets keep one server (its caches, threads) for many inputs.
  case $t in
    fuzz_request_line | fuzz_coord_request) leaks=0 ;;
    *) leaks=1 ;;
  esac
  ASAN_OPTIONS=detect_leaks=$leaks:allocator_may_return_null=1${FUZZ_ASAN_OPTIONS:+:$FUZZ_ASAN_OPTIONS} \
    UBSAN_OPTIONS=print_stacktrace=1 \
    nice -n 19 "$bin" -max_total_time="$SECONDS_EACH" -max_len="$max_len" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$t-" \
    "$@" "$work" "$SRC/tests/fuzz/corpus/$t" 2>"$BUILD/$t.log"
  rc=$?
  runs=$(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$BUILD/$t.log" | grep -Eo '[0-9]+$')
  echo "fuzz: $t exit $rc, ${runs:-?} inputs (log $BUILD/$t.log)" >&2
  if [ "$rc" -ne 0 ]; then
    failed=1
    grep -E 'ERROR|SUMMARY|runtime error' "$BUILD/$t.log" | head -n 5 >&2
  fi
  if [ "${FUZZ_MERGE:-0}" = 1 ]; then
    nice -n 19 "$bin" -merge=1 -max_len="$max_len" "$SRC/tests/fuzz/corpus/$t" "$work" 2>/dev/null
  fi
done
exit $failed
