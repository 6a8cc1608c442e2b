#!/usr/bin/env bash
# cluster_basic.sh: kzk-lite and three brokers on loopback, as a user meets
# them: every broker answers the same metadata, describe_cluster lists three
# live brokers, six partitions spread their leaders 2/2/2, 60,000 keyed records
# produced through one broker come back through another, each key on its
# murmur2 partition, none lost or repeated; a second broker with a node id
# already live is refused with exit 78 and a line naming the id.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"

begin_cluster_test python3
B=("$b1_ADDR" "$b2_ADDR" "$b3_ADDR")

desc=$(rpc "$b2_ADDR" '{"op":"describe_cluster","id":1}')
check "describe_cluster lists 3 live brokers ($desc)" \
  test "$(jq -c '[.brokers[] | select(.state == "live") | .node]' <<<"$desc")" = "[1,2,3]"
check "describe_cluster names their addresses" \
  test "$(jq -r '[.brokers[].addr] | join(" ")' <<<"$desc")" = "${B[*]}"
check "every broker tells the same cluster id" \
  test "$(for a in "${B[@]}"; do rpc "$a" '{"op":"describe_cluster","id":1}' | jq -r .cluster_id; done | sort -u | wc -l)" -eq 1

timeout 10 ktopic create orders -p 6 -b "$b1_ADDR" >/dev/null
check "ktopic create orders -p 6 through broker 1" test $? -eq 0

# The topic reaches every broker's metadata; then all three answer the same.
same_metadata() {
  local a first=""
  for a in "${B[@]}"; do
    m=$(rpc "$a" '{"op":"metadata","id":1}' | jq -cS '{brokers, topics}')
    [ -n "$first" ] || first=$m
    [ "$m" = "$first" ] || return 1
  done
  jq -e '.topics | length == 1' <<<"$first" >/dev/null
}
check "the three brokers answer the same metadata (brokers, partitions, leaders)" wait_until 5 same_metadata
spread=$(leaders "$b3_ADDR" orders | jq -c 'group_by(.) | map(length)')
check "six partitions spread their leaders 2/2/2 ($(leaders "$b3_ADDR" orders))" test "$spread" = "[2,2,2]"

# 60,000 keyed records (6,000 keys, ten records each) in through broker 1,
# out through broker 2.
seq 0 59999 | awk '{ printf "key-%d:%d\n", $1 % 6000, $1 }' >"$TEST_TMP/in"
t0=$(date +%s%N)
timeout 60 kproduce -b "$b1_ADDR" -t orders -K : <"$TEST_TMP/in" 2>"$TEST_TMP/p.err"
rc=$?
t1=$(date +%s%N)
check "kproduce -b broker1 of 60,000 keyed records exits 0 (got $rc: $(head -3 "$TEST_TMP/p.err"))" test "$rc" -eq 0
timeout 60 kconsume -b "$b2_ADDR" -t orders --format '%p %k %v\n' >"$TEST_TMP/out" 2>"$TEST_TMP/c.err"
rc=$?
t2=$(date +%s%N)
echo "produce $(((t1 - t0) / 1000000)) ms, consume $(((t2 - t1) / 1000000)) ms" >&2
check "kconsume -b broker2 exits 0 (got $rc: $(head -3 "$TEST_TMP/c.err"))" test "$rc" -eq 0
check "60,000 records came back (got $(wc -l <"$TEST_TMP/out"))" test "$(wc -l <"$TEST_TMP/out")" -eq 60000
check "none lost or repeated" \
  test "$(cut -d' ' -f3 "$TEST_TMP/out" | sort -n | uniq | wc -l)" -eq 60000
check "every value is one that was sent" \
  cmp -s <(cut -d' ' -f3 "$TEST_TMP/out" | sort -n) <(seq 0 59999)
bad=$(cut -d' ' -f1,2 "$TEST_TMP/out" | murmur2_mismatches 6)
check "every key is on its murmur2 partition ($bad are not)" test "$bad" = 0
# Each key's records in the order they were produced.
unordered=$(awk '{ if (($2 in last) && $3 <= last[$2]) n++; last[$2] = $3 } END { print n + 0 }' "$TEST_TMP/out")
check "each key's records in order ($unordered out of order)" test "$unordered" = 0
# Every partition got some: the records really went to all three brokers.
check "all six partitions hold records" test "$(cut -d' ' -f1 "$TEST_TMP/out" | sort -u | wc -l)" -eq 6
check "broker 3 gives the same records as broker 2" \
  cmp -s <(sort "$TEST_TMP/out") <(timeout 60 kconsume -b "$b3_ADDR" -t orders --format '%p %k %v\n' | sort)

# A fourth broker claiming node id 1 (another data dir) is refused.
mkdir -p "$TEST_TMP/dup"
timeout 20 kbroker --listen 127.0.0.1:0 --data-dir "$TEST_TMP/dup/data" \
  --coordinator "$z_ADDR" --node-id 1 2>"$TEST_TMP/dup.log" &
dpid=$!
_started_pids+=("$dpid")
wait "$dpid"
rc=$?
check "a duplicate node id exits 78 (got $rc)" test "$rc" -eq 78
check "with a line naming node id 1 ($(grep -v ' info ' "$TEST_TMP/dup.log" | head -2))" \
  grep -Eq 'error.*node( id)? 1\b' "$TEST_TMP/dup.log"
check "and broker 1 is still live" test "$(broker_state "$b2_ADDR" 1)" = live
check "and the refused broker is not in the cluster" \
  test "$(rpc "$b2_ADDR" '{"op":"describe_cluster","id":1}' | jq '.brokers | length')" -eq 3

stop_cluster
finish
