#!/usr/bin/env bash
# Bad input at the edge: each case gets a clear error response (or a clean
# close), and the broker keeps serving everyone else within bounded memory.
source "$(dirname "$0")/../lib/common.sh"

# Under AddressSanitizer freed memory waits in a quarantine (256 MB by default)
# before it is reused, which would count against the RSS bound below; a small
# quarantine keeps the bound meaningful in `make asan` too.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"

start_broker b
host=127.0.0.1
port=$b_PORT

# expect_code 'request line' CODE: the response carries that error code.
expect_code() {
  local line=$1 want=$2 got
  got=$(rpc "$b_ADDR" "$line" | head -n 1 | jq -r '.error.code // "OK"')
  check "$(printf '%.60s' "$line") -> $want (got $got)" test "$got" = "$want"
}

expect_code 'nope' INVALID_REQUEST
expect_code '{"op":"hello"' INVALID_REQUEST
expect_code '[1,2,3]' INVALID_REQUEST
expect_code '{"op":"nope"}' INVALID_REQUEST
expect_code '{"op":42}' INVALID_REQUEST
expect_code '{"op":"fetch","topic":"t","partition":0,"offset":-1}' INVALID_REQUEST
expect_code '{"op":"fetch","topic":"t","partition":"zero","offset":0}' INVALID_REQUEST
expect_code '{"op":"produce","topic":"t","records":"not an array"}' INVALID_REQUEST
expect_code '{"op":"produce","topic":"t","records":[{"value":5}]}' INVALID_REQUEST
expect_code '{"op":"create_topic","topic":"../../etc"}' INVALID_REQUEST
expect_code "{\"op\":\"create_topic\",\"topic\":\"$(printf 'a%.0s' $(seq 1 300))\"}" INVALID_REQUEST
expect_code '{"op":"produce","topic":"../../etc","records":[{"value":"x"}]}' INVALID_REQUEST
check "no directory escaped the data dir" test ! -e "$b_DIR/../../etc-0"

# Invalid UTF-8 inside a string.
got=$(printf '{"op":"produce","topic":"t","records":[{"value":"\xff\xfe"}]}\n' |
  timeout 10 nc -N $host "$port" | jq -r '.error.code')
check "invalid UTF-8 -> INVALID_REQUEST (got $got)" test "$got" = INVALID_REQUEST

# Pipelined: a bad line between good ones; answers come in order, the
# connection stays open.
out=$(printf '{"op":"hello","id":1}\nnope\n{"op":"hello","id":3}\n' | timeout 10 nc -N $host "$port" | jq -c '[.id, .ok]' | tr -d '\n')
check "pipelined answers in order around a bad line ($out)" test "$out" = '[1,true][null,false][3,true]'

# A 100 MB line without a newline, then a good request on the same connection:
# MESSAGE_TOO_LARGE, and the broker's memory stays bounded.
rss_before=$(awk '/VmRSS/ { print $2 }' /proc/"$b_PID"/status)
{ head -c 100000000 /dev/zero | tr '\0' a; printf '\n{"op":"hello","id":2}\n'; } |
  timeout 60 nc -N $host "$port" >"$TEST_TMP/big.out"
rss_after=$(awk '/VmRSS/ { print $2 }' /proc/"$b_PID"/status)
check "100 MB line -> MESSAGE_TOO_LARGE" test "$(head -n 1 "$TEST_TMP/big.out" | jq -r .error.code)" = MESSAGE_TOO_LARGE
check "the next request on that connection is answered" test "$(sed -n 2p "$TEST_TMP/big.out" | jq -r .ok)" = true
check "broker RSS grew by less than 32 MB (${rss_before} -> ${rss_after} kB)" \
  test $((rss_after - rss_before)) -lt 32768

# A client that disconnects mid-line does not disturb another.
exec 7<>/dev/tcp/$host/"$port"
printf '{"op":"hello","id":' >&7
exec 7>&-
check "another client is still served" test "$(rpc "$b_ADDR" '{"op":"hello"}' | jq -r .ok)" = true
check "the broker is still running" kill -0 "$b_PID"
stop_broker b
check "and shuts down cleanly" test $? -eq 0
finish
