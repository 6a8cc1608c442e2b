#!/usr/bin/env bash
# docs_protocol_session.sh: replays the EXAMPLE SESSION of kreek-protocol(7)
# against a fresh broker with `nc -N` and checks that every response matches
# the documented one. The session sits between the roff comments
# `.\" test-session-begin` and `.\" test-session-end`; lines starting with
# {"id": or {"v": are responses, every other line after the `$ nc` prompt is
# a request. Fields that vary from run to run (ts) are deleted before comparing.
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
export LC_ALL=C

page=$KREEK_SRC/man/man7/kreek-protocol.7
check "binary $KREEK_BIN/kbroker exists" test -x "$KREEK_BIN/kbroker"
for tool in jq nc timeout; do
  check "$tool is installed" command -v "$tool" >/dev/null
done
[ "$FAILURES" -eq 0 ] || finish

# The session as a reader sees it: roff escapes undone, macro lines dropped.
session=$(sed -n '/^\.\\" test-session-begin$/,/^\.\\" test-session-end$/p' "$page" |
  grep -v '^\.' | sed -e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\e/\\/g')
requests=()
expected=()
prompt_seen=0
while IFS= read -r line; do
  if [[ $line == '$ nc '* ]]; then
    prompt_seen=1
  elif [[ $line == '{"id":'* || $line == '{"v":'* ]]; then
    expected+=("$line")
  elif [ -n "$line" ]; then
    requests+=("$line")
  fi
done <<<"$session"
check "the session starts with an nc prompt" test "$prompt_seen" -eq 1
check "the session has requests (found ${#requests[@]})" test "${#requests[@]}" -ge 5
check "the session has responses (found ${#expected[@]})" test "${#expected[@]}" -ge 5
for op in hello create_topic produce fetch list_offsets; do
  check "the session shows $op" grep -q "\"op\":\"$op\"" <<<"$session"
done
check "the session shows an error" grep -q '"ok":false' <<<"$session"

if ! start_broker; then
  fail "kbroker did not start"
  finish
fi

out=$TEST_TMP/responses
printf '%s\n' "${requests[@]}" | timeout 10 nc -N 127.0.0.1 "$BROKER_PORT" >"$out"
rc=$?
check "nc ends by itself once the broker has answered (exit $rc)" test "$rc" -eq 0

mapfile -t actual <"$out"
check "as many response lines as documented (${#actual[@]} vs ${#expected[@]})" \
  test "${#actual[@]}" -eq "${#expected[@]}"

# Compare line by line, ignoring member order and what the append time changes:
# ts, the batch crc that covers it, and a fetch's byte count (checked below
# against the batch lines that follow instead).
norm() { jq -cS 'del(.ts, .crc, .parts[]?.bytes)' 2>/dev/null <<<"$1" || printf 'not JSON: %s\n' "$1"; }
pending=0 # bytes of batch lines still owed by the last fetch header
for ((i = 0; i < ${#expected[@]}; i++)); do
  want=${expected[i]}
  got=${actual[i]-<missing>}
  if [ "$(norm "$want")" = "$(norm "$got")" ]; then
    pass
  else
    fail "response $((i + 1)) differs"$'\n'"  documented: $want"$'\n'"  broker:     $got"
  fi
  if [[ $want == '{"v":'* ]]; then
    pending=$((pending - ${#got} - 1))
  else
    check "response $((i + 1)) has id as its first member" \
      test "$(jq -r 'keys_unsorted[0]' 2>/dev/null <<<"$got")" = id
    check "fetch bytes owed before response $((i + 1)) were all sent (left $pending)" test "$pending" -eq 0
    pending=$(jq '[.parts[]?.bytes] | add // 0' 2>/dev/null <<<"$got" || echo 0)
  fi
done
check "the last fetch's bytes add up to its batch lines (left $pending)" test "$pending" -eq 0

stop_broker
check "kbroker exits 0 on SIGTERM" test $? -eq 0
finish
