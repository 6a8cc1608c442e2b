#!/usr/bin/env bash
# security_small_things.sh: the small findings of the robustness review, each
# against a real broker and kzk-lite: duplicate JSON keys refused by both
# servers alike; ids the tools cannot hold (1e999, 0.5) refused, not echoed;
# control characters from a topic name escaped in the log; flush.ms and
# flush.messages take -1; no hex floats for min.cleanable.dirty.ratio;
# --segment-bytes has the topic config's range.
source "$(dirname "$0")/../lib/common.sh"
T=$TEST_TMP

start_broker b || exit 1
start_kzk z || exit 1
export KREEK_BROKERS=$b_ADDR

for who in b z; do
  addr_var="${who}_ADDR"
  addr=${!addr_var}
  check "$who: duplicate keys are INVALID_REQUEST" \
    eval 'rpc "$addr" "{\"id\":1,\"op\":\"hello\",\"op\":\"metadata\"}" | jq -e ".error.code == \"INVALID_REQUEST\" and (.error.message | test(\"duplicate key\"))" >/dev/null'
  check "$who: ... also when one is written with escapes" \
    eval 'rpc "$addr" "{\"id\":1,\"op\":\"hello\",\"\\u006fp\":\"hello\"}" | jq -e ".error.code == \"INVALID_REQUEST\"" >/dev/null'
  for id in 1e999 0.5 9223372036854775808; do
    check "$who: \"id\":$id is refused with id null" \
      eval 'rpc "$addr" "{\"id\":$id,\"op\":\"hello\"}" | jq -e ".id == null and .error.code == \"INVALID_REQUEST\"" >/dev/null'
  done
  check "$who: an integer id is echoed" eval 'rpc "$addr" "{\"id\":-42,\"op\":\"hello\"}" | jq -e ".id == -42 and .ok" >/dev/null'
done

rpc "$b_ADDR" '{"id":1,"op":"produce","topic":"evil\u001b[2J\u0007name","records":[{"value":"x"}]}' >/dev/null
check "a topic name with control characters is refused" grep -q 'warn bad produce' "$b_LOG"
check "... and its control characters reach the log escaped, not raw" \
  eval '! LC_ALL=C grep -q "[[:cntrl:]]" <(tr -d "\n" <"$b_LOG")'

check "flush.ms=-1 and flush.messages=-1 are accepted (kreek-format(5)'s default)" \
  timeout 10 ktopic create f -c flush.ms=-1 -c flush.messages=-1
check "a hex float for min.cleanable.dirty.ratio is refused" \
  eval '! timeout 10 ktopic create h -c cleanup.policy=compact -c min.cleanable.dirty.ratio=0x1p-1 2>"$T/hex.err" && grep -q "is not a number" "$T/hex.err"'
for bytes in 100 3000000000; do
  timeout 10 kbroker --segment-bytes "$bytes" --data-dir "$T/seg" 2>/dev/null
  check "kbroker --segment-bytes $bytes is a usage error, as segment.bytes=$bytes is" test $? -eq 64
done
check "... and segment.bytes=3000000000 is refused the same way" \
  eval '! timeout 10 ktopic create s -c segment.bytes=3000000000 2>/dev/null'

stop_broker b
check "kbroker exits 0 on SIGTERM" test $? -eq 0
stop_broker z
check "kzk-lite exits 0 on SIGTERM" test $? -eq 0
finish
