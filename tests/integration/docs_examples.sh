#!/usr/bin/env bash
# docs_examples.sh: runs every examples/*.sh against a broker this test starts,
# so the examples the README and man pages point to keep working.
# Env: KREEK_BIN (binaries, default ./build), KREEK_SRC (repo root).
# shellcheck disable=SC2317 # cleanup runs from the EXIT trap
set -uo pipefail
KREEK_SRC=${KREEK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
KREEK_BIN=${KREEK_BIN:-./build}
[ -d "$KREEK_BIN" ] && KREEK_BIN=$(cd "$KREEK_BIN" && pwd)
export PATH="$KREEK_BIN:$PATH"
unset KREEK_BROKERS

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kreek-docs.XXXXXX")
BROKER_PID=""
cleanup() {
  if [ -n "$BROKER_PID" ]; then
    kill -9 "$BROKER_PID" 2>/dev/null
    wait "$BROKER_PID" 2>/dev/null
  fi
  rm -rf "$TEST_TMP"
}
trap cleanup EXIT

FAILURES=0
PASSES=0
fail() { echo "FAIL: $*" >&2; FAILURES=$((FAILURES + 1)); }
pass() { PASSES=$((PASSES + 1)); }
check() {
  local what=$1
  shift
  if "$@"; then pass; else fail "$what"; fi
}
finish() {
  echo "$(basename "$0" .sh): $PASSES passed, $FAILURES failed"
  [ "$FAILURES" -eq 0 ]
  exit $?
}

# start_broker: a kbroker on a free loopback port with its own data dir; sets
# BROKER_PID, BROKER_PORT, BROKER_LOG once the "listening on" line appears.
start_broker() {
  BROKER_LOG=$TEST_TMP/kbroker.log
  kbroker --listen 127.0.0.1:0 --data-dir "$TEST_TMP/data" 2>"$BROKER_LOG" &
  BROKER_PID=$!
  local i
  for ((i = 0; i < 2000; i++)); do # at most 20 s
    BROKER_PORT=$(grep -Eo 'info listening on 127\.0\.0\.1:[0-9]+' "$BROKER_LOG" | head -n 1 | sed 's/.*://')
    [ -n "$BROKER_PORT" ] && return 0
    kill -0 "$BROKER_PID" 2>/dev/null || break
    sleep 0.01
  done
  echo "kbroker did not print its listening line:" >&2
  sed 's/^/  kbroker: /' "$BROKER_LOG" >&2
  return 1
}

# stop_broker: SIGTERM, and the exit status kbroker ends with.
stop_broker() {
  kill -TERM "$BROKER_PID" 2>/dev/null
  local rc=0
  wait "$BROKER_PID" || rc=$?
  BROKER_PID=""
  return "$rc"
}

for tool in kbroker ktopic kproduce kconsume; do
  check "binary $KREEK_BIN/$tool exists" test -x "$KREEK_BIN/$tool"
done
for tool in jq nc timeout; do
  check "$tool is installed" command -v "$tool" >/dev/null
done
[ "$FAILURES" -eq 0 ] || finish

shopt -s nullglob
examples=("$KREEK_SRC"/examples/*.sh)
check "examples/ holds at least two scripts" test "${#examples[@]}" -ge 2

if ! start_broker; then
  fail "kbroker did not start"
  finish
fi
export KREEK_BROKERS=127.0.0.1:$BROKER_PORT

for ex in "${examples[@]}"; do
  name=$(basename "$ex")
  check "$name is executable" test -x "$ex"
  out="$TEST_TMP/${name%.sh}.out"
  timeout 60 bash "$ex" >"$out" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ]; then
    pass
  else
    fail "examples/$name exited $rc"
    sed 's/^/  | /' "$out" >&2
  fi
done

# The examples clean up after themselves: no example topic is left behind.
left=$(timeout 10 ktopic list | grep '^example-' || true)
check "examples deleted their topics (left: ${left//$'\n'/ })" test -z "$left"

stop_broker
check "kbroker exits 0 on SIGTERM" test $? -eq 0
finish
