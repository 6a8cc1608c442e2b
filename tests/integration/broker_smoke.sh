#!/usr/bin/env bash
# broker_smoke: starts the real kbroker on a free port with a temp data dir and
# speaks the wire protocol to it with nc: hello, topic admin, produce, fetch,
# list_offsets, bad input (the connection keeps answering), oversize lines,
# acks=0, and a clean SIGTERM shutdown (exit 0). Self-contained on purpose.
set -uo pipefail

BIN=${KREEK_BIN:-./build}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kreek-broker-smoke.XXXXXX")
pid=""
cleanup() {
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null; fi
  if [[ -n ${KEEP_TMP:-} ]]; then cat "$tmp/broker.err" >&2; fi  # KEEP_TMP=1: show the broker log
  rm -rf "$tmp"
}
trap cleanup EXIT

failures=0
passes=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
# expect_eq NAME ACTUAL WANT: exact equality.
expect_eq() {
  if [[ $2 == "$3" ]]; then passes=$((passes + 1)); else fail "$1: expected '$3', got '$2'"; fi
}
# expect NAME ACTUAL PATTERN: ACTUAL must contain the fixed string PATTERN.
expect() {
  if [[ $2 == *"$3"* ]]; then passes=$((passes + 1)); else fail "$1: expected '$3' in: $2"; fi
}

"$BIN/kbroker" --listen 127.0.0.1:0 --data-dir "$tmp/data" --max-request-bytes 4096 \
  2>"$tmp/broker.err" &
pid=$!

# Wait for the "listening on" line (it carries the real port), not a fixed sleep.
port=""
deadline=$((SECONDS + 20))
while [[ -z $port ]]; do
  port=$(sed -n 's/^.* info listening on 127\.0\.0\.1:\([0-9][0-9]*\)$/\1/p' "$tmp/broker.err")
  [[ -n $port ]] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "FAIL: kbroker exited before listening:" >&2
    cat "$tmp/broker.err" >&2
    exit 1
  fi
  if ((SECONDS > deadline)); then
    echo "FAIL: no 'listening on' line within 20s" >&2
    exit 1
  fi
  sleep 0.05
done

# send LINE...: one connection, the lines pipelined, every response printed.
send() { printf '%s\n' "$@" | timeout 10 nc -N 127.0.0.1 "$port"; }

r=$(send '{"op":"hello","id":1}')
expect hello "$r" '{"id":1,"ok":true,"protocol":1,"server":"kreek 0.1.0","node":0}'

r=$(send '{"op":"create_topic","id":2,"topic":"smoke","partitions":1}')
expect create_topic "$r" '{"id":2,"ok":true,"topic":"smoke","partitions":1}'
r=$(send '{"op":"create_topic","id":3,"topic":"smoke"}')
expect create_exists "$r" '"code":"TOPIC_EXISTS"'

records='[{"key":"k","value":"one"},{"value":"two","headers":{"h":"x"}},{"value":"three","ts":1700000000000}]'
r=$(send '{"op":"produce","id":4,"topic":"smoke","partition":0,"records":'"$records"'}')
expect produce "$r" '{"id":4,"ok":true,"partition":0,"base":0,"last":2,"ts":'

r=$(send '{"op":"fetch","id":5,"topic":"smoke","partition":0,"offset":0}')
head_line=$(printf '%s\n' "$r" | head -n 1)
batch_line=$(printf '%s\n' "$r" | sed -n 2p)
expect fetch_header "$head_line" '{"id":5,"ok":true,"parts":[{"topic":"smoke","partition":0,"hw":3,"log_start":0,"bytes":'
bytes=$(printf '%s' "$head_line" | sed -n 's/.*"bytes":\([0-9]*\).*/\1/p')
expect_eq fetch_bytes "$((${#batch_line} + 1))" "$bytes"
expect fetch_batch "$batch_line" '{"v":1,"base":0,"n":3,'
expect fetch_records_verbatim "$batch_line" "\"records\":$records}"

r=$(send '{"op":"list_offsets","id":6,"topic":"smoke","at":"latest"}' \
  '{"op":"list_offsets","id":7,"topic":"smoke","at":"earliest"}')
expect list_latest "$r" '{"id":6,"ok":true,"topic":"smoke","partitions":[{"partition":0,"offset":3,"log_start":0,"log_end":3}]}'
expect list_earliest "$r" '{"id":7,"ok":true,"topic":"smoke","partitions":[{"partition":0,"offset":0,'

# Bad input: an error line each, and the same connection goes on answering.
r=$(send 'this is not json' '{"op":"nope","id":8}' '{"op":"fetch","id":9,"topic":"smoke","partition":0,"offset":-1}' '{"op":"hello","id":10}')
expect bad_json "$r" '{"id":null,"ok":false,"error":{"code":"INVALID_REQUEST"'
expect unknown_op "$r" '{"id":8,"ok":false,"error":{"code":"INVALID_REQUEST","message":"unknown op \"nope\""}}'
expect negative_offset "$r" '{"id":9,"ok":false,"error":{"code":"INVALID_REQUEST"'
expect still_open "$r" '{"id":10,"ok":true,"protocol":1'

# A line over --max-request-bytes: MESSAGE_TOO_LARGE, then the next line is served.
big=$(printf '{"op":"hello","pad":"%05000d"}' 0)
r=$(send "$big" '{"op":"hello","id":11}')
expect oversize "$r" '"code":"MESSAGE_TOO_LARGE","message":"request line exceeds 4096 bytes"'
expect after_oversize "$r" '{"id":11,"ok":true'

# acks=0: no response line at all; the hello after it is the only answer.
r=$(send '{"op":"produce","id":12,"topic":"smoke","acks":0,"records":[{"value":"quiet"}]}' '{"op":"hello","id":13}')
expect acks0_silent "$(printf '%s\n' "$r" | head -n 1)" '{"id":13,"ok":true'
r=$(send '{"op":"list_offsets","id":14,"topic":"smoke","at":"latest"}')
expect acks0_appended "$r" '"offset":4'

# Long poll: a fetch at the log end waits, and an append from another
# connection wakes it with the new batch.
(send '{"op":"fetch","id":15,"topic":"smoke","partition":0,"offset":4,"max_wait_ms":5000}' >"$tmp/poll.out") &
poller=$!
# Give the fetch time to park; if the produce still wins the race the fetch
# simply finds the data at once, and the check below holds either way.
sleep 0.3
send '{"op":"produce","id":16,"topic":"smoke","records":[{"value":"wake"}]}' >/dev/null
wait "$poller"
expect long_poll "$(cat "$tmp/poll.out")" '"value":"wake"'

# SIGTERM: clean shutdown, exit 0.
kill -TERM "$pid"
status=0
wait "$pid" || status=$?
pid=""
expect_eq sigterm_exit "$status" 0
expect stopped_logged "$(cat "$tmp/broker.err")" 'info stopped'

echo "broker_smoke: $passes passed, $failures failed"
((failures == 0))
