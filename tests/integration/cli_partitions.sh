#!/usr/bin/env bash
# ktopic partition-for answers where each key goes without producing (Kafka's
# murmur2 partitioner, checked against an independent implementation and
# against where kproduce really puts the records), and ktopic alter -p raises
# a topic's partition count, warning that keys move, refusing to lower it;
# standalone and in a cluster (the change goes through the coordinator and
# every broker serves the new partitions).
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/cluster.sh"

# jqe FILTER: jq -e, quietly (for check).
jqe() { jq -e "$@" >/dev/null; }
for tool in jq nc; do command -v "$tool" >/dev/null || { fail "$tool is not installed"; finish; }; done

# --- standalone -----------------------------------------------------------------
start_broker s
export KREEK_BROKERS=$s_ADDR
timeout 10 ktopic create orders -p 3 || fail "create orders"
keys=()
for i in $(seq 1 40); do keys+=("user-$i"); done
keys+=("ü-日本" "with space" "")
out=$(timeout 10 ktopic partition-for orders "${keys[@]}")
rc=$?
check "partition-for exits 0 (got $rc)" [ "$rc" = 0 ]
check "one line per key" [ "$(wc -l <<<"$out")" = "${#keys[@]}" ]
bad=$(awk -F'\t' '{ print $2 " " $1 }' <<<"$out" | murmur2_mismatches 3)
check "partition-for matches Kafka's murmur2 for 3 partitions ($bad mismatches)" [ "$bad" = 0 ]
check "an empty key has a partition too" grep -qP '^\t[0-2]$' <<<"$out"

# Where kproduce really put keyed records is where partition-for said.
printf '%s\n' "${keys[@]:0:40}" | sed 's/$/:v/' | timeout 20 kproduce -t orders -K : || fail "produce keyed records"
timeout 20 kconsume -t orders --from beginning -c 40 --format '%k\t%p\n' | sort >"$TEST_TMP/actual"
sort <<<"$(head -n 40 <<<"$out")" >"$TEST_TMP/predicted"
check "kproduce put every key where partition-for said" diff "$TEST_TMP/predicted" "$TEST_TMP/actual"

json=$(timeout 10 ktopic partition-for orders user-1 --json)
check "partition-for --json ($json)" jqe '.topic == "orders" and .partitions == 3 and .keys[0].key == "user-1" and (.keys[0].partition | type) == "number"' <<<"$json"
timeout 10 ktopic partition-for nope k1 >/dev/null 2>&1
rc=$?
check "partition-for on a missing topic exits 66 (got $rc)" [ "$rc" = 66 ]
timeout 10 ktopic partition-for orders >/dev/null 2>&1
rc=$?
check "partition-for without a key is a usage error (got $rc)" [ "$rc" = 64 ]

# alter -p: grow, warn, refuse to shrink.
timeout 10 ktopic alter orders -p 6 2>"$TEST_TMP/alter.err"
rc=$?
check "alter -p 6 exits 0 (got $rc)" [ "$rc" = 0 ]
check "alter -p warns that keyed records move" grep -q 'warning: keyed records now go to other partitions' "$TEST_TMP/alter.err"
check "describe shows 6 partitions" [ "$(timeout 10 ktopic describe orders --json | jq '.partitions | length')" = 6 ]
echo "on-five" | timeout 10 kproduce -t orders -p 5 || fail "produce to new partition 5"
check "the new partition serves" [ "$(timeout 10 kconsume -t orders -p 5 --from beginning -c 1 --format '%v')" = on-five ]
bad=$(timeout 10 ktopic partition-for orders "${keys[@]:0:40}" | awk -F'\t' '{ print $2 " " $1 }' | murmur2_mismatches 6)
check "partition-for follows the new count ($bad mismatches)" [ "$bad" = 0 ]
timeout 10 ktopic alter orders -p 4 2>"$TEST_TMP/lower.err"
rc=$?
check "alter -p 4 (lower) exits 64 (got $rc)" [ "$rc" = 64 ]
check "and says the count only grows" grep -q 'the count can only grow' "$TEST_TMP/lower.err"
check "the topic still has 6 partitions" [ "$(timeout 10 ktopic describe orders --json | jq '.partitions | length')" = 6 ]
timeout 10 ktopic alter orders -p 6 2>"$TEST_TMP/same.err"
rc=$?
check "alter -p to the same count exits 0 (got $rc)" [ "$rc" = 0 ]
check "and says nothing changed" grep -q 'already has 6 partitions' "$TEST_TMP/same.err"
timeout 10 ktopic alter orders 2>/dev/null
rc=$?
check "alter with neither -c nor -p exits 64 (got $rc)" [ "$rc" = 64 ]
timeout 10 ktopic alter orders -p 8 -c retention.ms=60000 -q 2>"$TEST_TMP/both.err"
rc=$?
check "alter -p with -c changes both (got $rc)" [ "$rc" = 0 ]
d=$(timeout 10 ktopic describe orders --json)
check "8 partitions and retention.ms set" jqe '(.partitions | length) == 8 and .overrides["retention.ms"] == "60000"' <<<"$d"
check "-q hides the warning" [ ! -s "$TEST_TMP/both.err" ]
check "the broker raw op refuses a lower count" \
  grep -q '"code":"INVALID_REQUEST"' <<<"$(rpc "$s_ADDR" '{"op":"create_partitions","id":1,"topic":"orders","partitions":2}')"
stop_broker s
unset KREEK_BROKERS

# --- a cluster: through the coordinator, seen by every broker -----------------
start_cluster || { fail "the cluster did not start"; finish; }
timeout 10 ktopic -b "$b1_ADDR" create events -p 2 -r 2 || fail "create events"
timeout 20 ktopic -b "$b1_ADDR" alter events -p 5 2>/dev/null
rc=$?
check "alter -p 5 in a cluster exits 0 (got $rc)" [ "$rc" = 0 ]
for n in 1 2 3; do
  addr_var="b${n}_ADDR"
  got=$(rpc "${!addr_var}" '{"op":"metadata","id":1,"topics":["events"]}' | jq '.topics[0].partitions | length')
  check "broker $n sees 5 partitions of events (got $got)" [ "$got" = 5 ]
done
check "every new partition has a leader and 2 replicas" \
  jqe '[.topics[0].partitions[] | select(.leader >= 0 and (.replicas | length) == 2)] | length == 5' \
  <<<"$(rpc "$b2_ADDR" '{"op":"metadata","id":1,"topics":["events"]}')"
echo "in-four" | timeout 20 kproduce -b "$b3_ADDR" -t events -p 4 || fail "produce to new partition 4 in the cluster"
check "the new partition serves in the cluster" \
  [ "$(timeout 20 kconsume -b "$b2_ADDR" -t events -p 4 --from beginning -c 1 --format '%v')" = in-four ]
bad=$(timeout 10 ktopic -b "$b2_ADDR" partition-for events a b c d e f g | awk -F'\t' '{ print $2 " " $1 }' | murmur2_mismatches 5)
check "partition-for in the cluster uses the new count ($bad mismatches)" [ "$bad" = 0 ]
timeout 10 ktopic -b "$b2_ADDR" alter events -p 3 2>/dev/null
rc=$?
check "lowering in a cluster exits 64 (got $rc)" [ "$rc" = 64 ]
stop_cluster

finish
