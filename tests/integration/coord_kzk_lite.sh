#!/usr/bin/env bash
# coord_kzk_lite.sh: kzk-lite on its own, spoken to with nc as kzk-lite(1)
# shows: registration and heartbeats, a duplicate node id refused, topic
# changes answered only once durable, the metadata log served by offset,
# sessions that run out fence their broker, kill -9 loses no acknowledged
# change, a torn tail is cut at start-up, SIGTERM exits 0.
source "$(dirname "$0")/../lib/common.sh"

for tool in jq nc timeout; do
  check "$tool is installed" command -v "$tool" >/dev/null
done
[ "$FAILURES" -eq 0 ] || finish

# field ADDR 'request' JQ: one request, one field of its answer.
field() { rpc "$1" "$2" | jq -r "$3"; }

# A session long enough that a loaded machine does not fence the broker
# between the steps that heartbeat for it by hand.
start_kzk z --session-timeout-ms 6000 --heartbeat-interval-ms 100 --election-interval-ms 100 || finish
Z=$z_ADDR

check "hello names kzk-lite" test "$(field "$Z" '{"op":"hello","id":1}' .server | cut -d' ' -f1)" = kzk-lite

reg='{"op":"register_broker","id":2,"node":1,"incarnation":"a1","data_dir_id":"dir-1","addr":"127.0.0.1:19093"}'
answer=$(rpc "$Z" "$reg")
epoch=$(jq -r .broker_epoch <<<"$answer")
check "registration answers a broker epoch ($answer)" test "$(jq -r .ok <<<"$answer")" = true
check "registration tells the heartbeat interval" test "$(jq -r .heartbeat_interval_ms <<<"$answer")" = 100

hb() { rpc "$Z" "{\"op\":\"heartbeat\",\"id\":3,\"node\":$1,\"broker_epoch\":$2,\"applied_offset\":$3}"; }
# A new broker is fenced until it has applied the log up to its registration.
check "a broker that has applied nothing stays fenced" test "$(hb 1 "$epoch" -1 | jq -r .state)" = fenced
check "a caught-up broker is unfenced" test "$(hb 1 "$epoch" 100 | jq -r .state)" = live

dup='{"op":"register_broker","id":4,"node":1,"incarnation":"b1","data_dir_id":"other-dir","addr":"127.0.0.1:19094"}'
check "a second live broker with node id 1 is refused" \
  test "$(field "$Z" "$dup" .error.code)" = DUPLICATE_BROKER

hb 1 "$epoch" 100 >/dev/null  # keep it live: creation needs a live broker
created=$(rpc "$Z" '{"op":"create_topic","id":5,"topic":"orders","partitions":3,"replication_factor":1}')
check "create_topic answers once durable ($created)" test "$(jq -r .ok <<<"$created")" = true
check "a replication factor above the live brokers is refused" \
  test "$(field "$Z" '{"op":"create_topic","id":6,"topic":"big","replication_factor":2}' .error.message)" = \
  "replication factor 2 is larger than the 1 live broker"
check "a bad topic config is refused" \
  test "$(field "$Z" '{"op":"create_topic","id":7,"topic":"x","config":{"retention.ms":"soon"}}' .error.code)" = INVALID_REQUEST

log=$(rpc "$Z" '{"op":"metadata_fetch","id":8,"from":0}')
check "the metadata log holds the topic" \
  test "$(jq -r '[.records[].record | select(.type=="create_topic")][0].name' <<<"$log")" = orders
end=$(jq -r .next <<<"$log")
check "a poll at the log end with no wait answers at once with nothing" \
  test "$(field "$Z" "{\"op\":\"metadata_fetch\",\"id\":9,\"from\":$end}" '.records | length')" = 0

# A long poll at the end wakes when the log grows.
(rpc "$Z" "{\"op\":\"metadata_fetch\",\"id\":10,\"from\":$end,\"max_wait_ms\":5000}" >"$TEST_TMP/poll.out") &
poller=$!
for ((i = 0; i < 100; i++)); do hb 1 "$epoch" 100 >/dev/null; sleep 0.02; [ $i -eq 5 ] && break; done
hb 1 "$epoch" 100 >/dev/null
t0=$(date +%s%N)
rpc "$Z" '{"op":"create_topic","id":11,"topic":"later"}' >/dev/null
wait "$poller"
t1=$(date +%s%N)
check "the long poll woke with the new topic" \
  test "$(jq -r '.records[0].record.name' "$TEST_TMP/poll.out")" = later
check_bound "it woke well before its deadline ($(((t1 - t0) / 1000000)) ms)" test $(((t1 - t0) / 1000000)) -lt 3000

# kill -9 at any moment loses no acknowledged change.
kill9_broker z
restart_kzk z || finish
Z=$z_ADDR
desc=$(rpc "$Z" '{"op":"describe_cluster","id":12}')
check "after kill -9 the broker is still registered" test "$(jq -r '.brokers[0].node' <<<"$desc")" = 1
after=$(rpc "$Z" '{"op":"metadata_fetch","id":13,"from":0}')
check "after kill -9 the log is the same" \
  test "$(jq -c '[.records[] | select(.offset < '"$end"')]' <<<"$after")" = "$(jq -c '.records' <<<"$log")"

# Without heartbeats the session runs out and the broker is fenced; its
# partitions lose their leader (replication factor 1: no one else has them).
for ((i = 0; i < 500; i++)); do
  state=$(field "$Z" '{"op":"describe_cluster","id":14}' '.brokers[0].state')
  [ "$state" = fenced ] && break
  sleep 0.02
done
check "a silent broker is fenced after its session" test "$state" = fenced
leaders=$(rpc "$Z" '{"op":"metadata_fetch","id":15,"from":0}' |
  jq -c '[.records[].record | select(.type=="partition_change" and .topic=="orders")] | group_by(.partition) | map(last.leader) | unique')
check "its partitions have no leader ($leaders)" test "$leaders" = "[-1]"
# Coming back (applied up to the fence) it leads them again.
hb 1 "$epoch" 1000 >/dev/null
for ((i = 0; i < 200; i++)); do
  hb 1 "$epoch" 1000 >/dev/null
  l=$(rpc "$Z" '{"op":"metadata_fetch","id":16,"from":0}' |
    jq -c '[.records[].record | select(.type=="partition_change" and .topic=="orders" and .partition==0)] | last | .leader')
  [ "$l" = 1 ] && break
  sleep 0.02
done
check "a broker back in time leads its partitions again" test "$l" = 1

# A torn tail (an unfinished write) is cut at start-up.
stop_broker z
check "SIGTERM exits 0" test $? -eq 0
printf '{"offset":999,"crc":1,"rec' >>"$z_DIR/metadata.log"
restart_kzk z || finish
check "the torn tail is reported" grep -q "torn tail" "$z_LOG"
check "the log still answers" test "$(field "$z_ADDR" '{"op":"describe_cluster","id":17}' .ok)" = true
check "bad input gets INVALID_REQUEST" test "$(field "$z_ADDR" 'nope' .error.code)" = INVALID_REQUEST
check "an unknown op is named" test "$(field "$z_ADDR" '{"op":"dance","id":1}' .error.message)" = 'unknown op "dance"'
stop_broker z
finish
