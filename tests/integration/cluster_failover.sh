#!/usr/bin/env bash
# cluster_failover.sh: a broker of a three-broker cluster that dies or stalls.
# kill -9: its partitions report leader -1 within the session timeout + 1 s
# while the other brokers' partitions keep taking and serving records; after
# a restart (same dir, same node id) it leads them again and nothing is lost,
# and a kconsume -f that ran throughout has every record once. SIGSTOP past
# the session: the broker is fenced, its partitions lose their leader; after
# SIGCONT it accepts no write at the leader epoch it had before (every record
# it takes is at the epoch the cluster gave it since) and leads again shortly.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"

begin_cluster_test

timeout 10 ktopic create orders -p 6 -b "$b1_ADDR" >/dev/null
check "orders has leaders 1 2 3 1 2 3" wait_until 5 eval '[ "$(leaders "$b2_ADDR" orders)" = "[1,2,3,1,2,3]" ]'
seq 0 5999 | awk '{ printf "key-%d:before-%d\n", $1 % 600, $1 }' >"$T/before"
check "6,000 keyed records in through broker 1" \
  timeout 30 kproduce -b "$b1_ADDR" -t orders -K : "$T/before"

# A follower through broker 2 for the whole story.
kconsume -f -b "$b2_ADDR" -t orders --format '%p %v\n' >"$T/follow.out" 2>"$T/follow.err" &
follower=$!
_started_pids+=("$follower")
check "the follower read the first 6,000" wait_until 10 eval '[ "$(wc -l <"$T/follow.out")" -ge 6000 ]'

# --- kill -9 of broker 3 -------------------------------------------------------
kill9_broker b3
t0=$(date +%s%N)
wait_until 10 eval '[ "$(leaders "$b1_ADDR" orders)" = "[1,2,-1,1,2,-1]" ]'
lost_ms=$(ms_since "$t0")
echo "broker 3 killed: its partitions leaderless after $lost_ms ms (session $SESSION_MS ms)" >&2
check_bound "its partitions report leader -1 within session + 1 s ($lost_ms ms)" \
  test "$lost_ms" -le $((SESSION_MS + 1000))
check "broker 2 agrees: $(leaders "$b2_ADDR" orders)" test "$(leaders "$b2_ADDR" orders)" = "[1,2,-1,1,2,-1]"
desc=$(rpc "$b1_ADDR" '{"op":"describe_cluster","id":1}')
check "describe_cluster shows node 3 fenced and 2 leaderless partitions ($desc)" \
  test "$(jq -c '[([.brokers[] | select(.node == 3) | .state][0]), .leaderless_partitions]' <<<"$desc")" = '["fenced",2]'
check "a produce to a leaderless partition is LEADER_NOT_AVAILABLE" test "$(rpc "$b1_ADDR" \
  '{"op":"produce","id":1,"topic":"orders","partition":2,"records":[{"value":"x"}]}' | jq -r .error.code)" = LEADER_NOT_AVAILABLE

# The other brokers' partitions keep working: in through broker 2, out through 1.
for p in 0 1 3 4; do
  seq 0 99 | sed "s/^/during-$p-/" | timeout 20 kproduce -b "$b2_ADDR" -t orders -p "$p" 2>"$T/during.err"
  rc=$?
  check "produce to orders/$p while broker 3 is down (exit $rc: $(head -1 "$T/during.err"))" test "$rc" -eq 0
  got=$(timeout 20 kconsume -b "$b1_ADDR" -t orders -p "$p" | grep -c "^during-$p-")
  check "consume orders/$p while broker 3 is down ($got of 100 new)" test "$got" -eq 100
done
check "keyed records for live partitions get through (key-0 is on orders/1)" \
  eval 'echo key-0:during-keyed | timeout 20 kproduce -b "$b1_ADDR" -t orders -K :'
# Limitation (reported, not hidden): kconsume without -f reads the whole topic
# only when every partition has a leader; it exits 75 at once otherwise.
timeout 20 kconsume -b "$b1_ADDR" -t orders >/dev/null 2>"$T/whole.err"
echo "kconsume of the whole topic while broker 3 is down: exit $? ($(head -1 "$T/whole.err"))" >&2

restart_broker b3 || { fail "broker 3 did not restart"; finish; }
t0=$(date +%s%N)
check "after its restart broker 3 leads its partitions again" \
  wait_until 10 eval '[ "$(leaders "$b1_ADDR" orders)" = "[1,2,3,1,2,3]" ]'
echo "broker 3 restarted: leading again $(ms_since "$t0") ms after its listening line" >&2
timeout 30 kconsume -b "$b1_ADDR" -t orders --format '%p %v\n' >"$T/all" 2>"$T/all.err"
check "everything is readable through broker 1 (exit $?: $(head -1 "$T/all.err"))" test $? -eq 0
check "6,000 + 400 + 1 records ($(wc -l <"$T/all"))" test "$(wc -l <"$T/all")" -eq 6401
check "none repeated" test "$(sort -u "$T/all" | wc -l)" -eq 6401
check "every record from before the kill is there" \
  test "$(grep -c ' before-' "$T/all")" -eq 6000
check "the follower saw every record once" \
  wait_until 15 eval 'cmp -s <(sort "$T/all") <(sort "$T/follow.out")'
[ "$(sort "$T/follow.out" | uniq -d | wc -l)" -eq 0 ] || fail "the follower repeated records"
echo "follower: $(wc -l <"$T/follow.out") lines; stderr: $(tr '\n' '|' <"$T/follow.err")" >&2

# --- SIGSTOP of broker 3 past its session ----------------------------------------
old_epoch=$(rpc "$b1_ADDR" '{"op":"metadata","id":1}' | jq '.topics[0].partitions[2].epoch')
kill -STOP "$b3_PID"
t0=$(date +%s%N)
check "a stopped broker is fenced" wait_until 10 eval '[ "$(broker_state "$b1_ADDR" 3)" = fenced ]'
echo "broker 3 stopped: fenced after $(ms_since "$t0") ms" >&2
check "its partitions have leader -1" \
  wait_until 5 eval '[ "$(leaders "$b2_ADDR" orders)" = "[1,2,-1,1,2,-1]" ]'
kill -CONT "$b3_PID"
t0=$(date +%s%N)
# Write to it straight away and keep writing until it leads again; every write
# it accepts must be at a leader epoch the cluster gave it after the fence.
i=0
while :; do
  i=$((i + 1))
  rpc "$b3_ADDR" "{\"op\":\"produce\",\"id\":$i,\"topic\":\"orders\",\"partition\":2,\"records\":[{\"value\":\"cont-$i\"}]}" >>"$T/cont.replies"
  [ "$(leaders "$b1_ADDR" orders)" = "[1,2,3,1,2,3]" ] && break
  [ "$(ms_since "$t0")" -gt 10000 ] && break
  sleep 0.02
done
back_ms=$(ms_since "$t0")
echo "broker 3 continued: leading again after $back_ms ms; its answers: $(jq -r 'if .ok then "ok" else .error.code end' "$T/cont.replies" | sort | uniq -c | tr -s ' \n' ' ')" >&2
check_bound "after SIGCONT it rejoins and leads its partitions again ($back_ms ms)" \
  test "$(leaders "$b1_ADDR" orders)" = "[1,2,3,1,2,3]"
check "its first answer after SIGCONT refuses the write ($(head -1 "$T/cont.replies"))" \
  test "$(head -1 "$T/cont.replies" | jq -r .error.code)" = LEADER_NOT_AVAILABLE
check "broker 3 logs that it was fenced" grep -q "warn fenced by the coordinator" "$b3_LOG"
check "and that it is live again" wait_until 5 grep -q "info live again in the cluster" "$b3_LOG"
check "refusals are only the retriable LEADER_NOT_AVAILABLE/NOT_LEADER" \
  test -z "$(jq -r 'select(.ok != true) | .error.code' "$T/cont.replies" | grep -Ev '^(LEADER_NOT_AVAILABLE|NOT_LEADER)$')"
new_epoch=$(rpc "$b1_ADDR" '{"op":"metadata","id":1}' | jq '.topics[0].partitions[2].epoch')
check "the leader epoch moved on ($old_epoch -> $new_epoch)" test "$new_epoch" -gt "$old_epoch"
stale=$(cat "$b3_DIR"/orders-2/*.log | jq -c --argjson e "$old_epoch" \
  'select(.epoch <= $e) | .records[] | select(.value | startswith("cont-")) | .value')
check "no write after SIGCONT went in at the old epoch (${stale//$'\n'/ })" test -z "$stale"
echo x | timeout 20 kproduce -b "$b1_ADDR" -t orders -p 2 >/dev/null
check "a produce to its partition works again" test $? -eq 0

kill "$follower" 2>/dev/null
stop_cluster
finish
