#!/usr/bin/env bash
# replication_basic.sh: a topic with replication factor 3 on three brokers.
# Followers hold byte-identical copies of the leader's segments; kill -9 of a
# leader moves its partitions to an in-sync follower with nothing lost;
# acks=all keeps working with one broker down (min.insync.replicas 2) and is
# refused with NOT_ENOUGH_REPLICAS with two down, while acks=1 still works;
# a restarted broker truncates by leader epoch, catches up and rejoins every
# ISR; SIGTERM of a leader hands its partitions over before it stops.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"

begin_cluster_test

# isr_sizes ADDR TOPIC: "[3,3,3]", each partition's ISR size as ADDR sees it.
isr_sizes() {
  rpc "$1" '{"op":"metadata","id":1}' |
    jq -c --arg t "$2" '[.topics[] | select(.topic == $t) | .partitions[] | (.isr | length)]'
}
# preferred ADDR TOPIC: "[1,2,3]", each partition's first replica.
preferred() {
  rpc "$1" '{"op":"metadata","id":1}' |
    jq -c --arg t "$2" '[.topics[] | select(.topic == $t) | .partitions[] | .replicas[0]]'
}
# leader_of ADDR TOPIC P
leader_of() { leaders "$1" "$2" | jq -r ".[$3]"; }
# replicas_equal TOPIC P: every broker's segment files of TOPIC/P are byte-equal.
replicas_equal() {
  local a b
  a=$(cat "$b1_DIR/$1-$2"/*.log | md5sum)
  for d in "$b2_DIR" "$b3_DIR"; do
    b=$(cat "$d/$1-$2"/*.log | md5sum)
    [ "$a" = "$b" ] || return 1
  done
}
# count_unique TOPIC ADDR: distinct values in the whole topic.
count_unique() { timeout 30 kconsume -b "$2" -t "$1" | sort -u | wc -l; }

check "create a topic with replication factor 3" \
  timeout 10 ktopic create r -p 3 -r 3 -c min.insync.replicas=2 -b "$b1_ADDR"
check "every partition has 3 in-sync replicas" \
  wait_until 10 eval '[ "$(isr_sizes "$b1_ADDR" r)" = "[3,3,3]" ]'
check "min.insync.replicas above the replication factor is refused" \
  eval '! timeout 10 ktopic create bad -r 2 -c min.insync.replicas=3 -b "$b1_ADDR" 2>/dev/null'

seq 1 3000 | sed 's/^/first-/' >"$T/first"
check "3,000 records in with acks=all (kproduce's default)" timeout 30 kproduce -b "$b2_ADDR" -t r "$T/first"
check "all 3,000 read back" eval '[ "$(count_unique r "$b3_ADDR")" -eq 3000 ]'
for p in 0 1 2; do
  check "r/$p: the followers' segment files are byte-equal to the leader's" wait_until 10 replicas_equal r "$p"
done

# --- kill -9 of partition 0's leader -------------------------------------------
victim=$(leader_of "$b1_ADDR" r 0)
kill9_broker "b$victim"
alive=$((victim % 3 + 1))
alive_addr_var="b${alive}_ADDR"
alive_addr=${!alive_addr_var}
check "r/0 gets a new leader after node $victim dies" \
  wait_until 10 eval 'l=$(leader_of "$alive_addr" r 0); [ "$l" != "$victim" ] && [ "$l" != -1 ]'
seq 1 1000 | sed 's/^/second-/' >"$T/second"
check "1,000 more with acks=all while node $victim is down" \
  timeout 30 kproduce -b "$alive_addr" -t r "$T/second"
check "nothing lost: 4,000 distinct records" eval '[ "$(count_unique r "$alive_addr")" -eq 4000 ]'

restart_broker "b$victim" || { fail "node $victim did not restart"; finish; }
check "node $victim rejoins every ISR" wait_until 15 eval '[ "$(isr_sizes "$b1_ADDR" r)" = "[3,3,3]" ]'
for p in 0 1 2; do
  check "r/$p: replicas byte-equal again after the restart" wait_until 10 replicas_equal r "$p"
done
check "each partition's preferred replica leads it again" \
  wait_until 15 eval '[ "$(leaders "$b1_ADDR" r)" = "$(preferred "$b1_ADDR" r)" ]'

# --- two brokers down: acks=all refused, acks=1 accepted -------------------------
kill9_broker b2
kill9_broker b3
check "with two brokers dead the ISRs shrink to broker 1" \
  wait_until 10 eval '[ "$(isr_sizes "$b1_ADDR" r)" = "[1,1,1]" ]'
p1=$(leaders "$b1_ADDR" r | jq -r 'index(1)')
code=$(rpc "$b1_ADDR" "{\"op\":\"produce\",\"id\":1,\"topic\":\"r\",\"partition\":$p1,\"acks\":\"all\",\"records\":[{\"value\":\"x\"}]}" | jq -r .error.code)
check "acks=all with 1 in-sync replica of min 2 is NOT_ENOUGH_REPLICAS ($code)" test "$code" = NOT_ENOUGH_REPLICAS
ok=$(rpc "$b1_ADDR" "{\"op\":\"produce\",\"id\":1,\"topic\":\"r\",\"partition\":$p1,\"acks\":1,\"records\":[{\"value\":\"one-copy\"}]}" | jq -r .ok)
check "acks=1 is still accepted" test "$ok" = true
restart_broker b2 || { fail "node 2 did not restart"; finish; }
restart_broker b3 || { fail "node 3 did not restart"; finish; }
check "both rejoin every ISR" wait_until 15 eval '[ "$(isr_sizes "$b1_ADDR" r)" = "[3,3,3]" ]'

# --- controlled shutdown of a leader under load --------------------------------------
check "leaders are back on their preferred replicas" \
  wait_until 15 eval '[ "$(leaders "$b1_ADDR" r)" = "$(preferred "$b1_ADDR" r)" ]'
leader1=$(leader_of "$b1_ADDR" r 1)
other=$((leader1 % 3 + 1))
other_addr_var="b${other}_ADDR"
seq 1 20000 | sed 's/^/third-/' >"$T/third"
timeout 60 kproduce -b "${!other_addr_var}" -t r --linger-ms 1 "$T/third" 2>"$T/third.err" &
producer=$!
sleep 0.3
stop_broker "b$leader1"
check "node $leader1 stops cleanly on SIGTERM (controlled shutdown)" test $? -eq 0
wait "$producer"
check "the producer went through the handover ($(head -1 "$T/third.err"))" test $? -eq 0
check "none of the 20,000 lost" eval '[ "$(timeout 30 kconsume -b "${!other_addr_var}" -t r | grep -c "^third-" )" -ge 20000 ]'
check "and each at least once: 20,000 distinct" \
  eval '[ "$(timeout 30 kconsume -b "${!other_addr_var}" -t r | grep "^third-" | sort -u | wc -l)" -eq 20000 ]'
restart_broker "b$leader1" || { fail "node $leader1 did not restart"; finish; }

stop_cluster
finish
