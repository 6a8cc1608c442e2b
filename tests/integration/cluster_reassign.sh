#!/usr/bin/env bash
# cluster_reassign.sh: moving a replica online with kzk-lite and three
# brokers. `ktopic reassign` moves a one-replica partition holding records to
# another broker: the target joins the replicas as "adding", the old one is
# "removing", describe shows the move; once the target is in the ISR the move
# completes (replicas = the target, which leads at a new epoch) and the old
# broker removes its log. A rebalance dry run over the brokers left after one
# stops prints a plan and changes nothing; --execute starts its moves.
# The target broker is paused (SIGSTOP) while the move starts, so the move is
# seen running; once it runs again it copies the records, joins the ISR and
# the move completes with every record on the new replica.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"

begin_cluster_test
B=([1]="$b1_ADDR" [2]="$b2_ADDR" [3]="$b3_ADDR")
D=([1]="$b1_DIR" [2]="$b2_DIR" [3]="$b3_DIR")

timeout 10 ktopic create moves -p 1 -b "$b1_ADDR" >/dev/null
check "ktopic create moves -p 1" test $? -eq 0
knows_leader() {
  local a
  for a in "${B[@]}"; do
    [ "$(leaders "$a" moves | jq '.[0] // -1')" -ge 1 ] || return 1
  done
}
check "every broker knows moves/0's leader" wait_until 5 knows_leader
FROM=$(leaders "$b1_ADDR" moves | jq '.[0]')
TO=$((FROM % 3 + 1))
echo "moving moves/0 from node $FROM to node $TO" >&2
seq 1 100 | timeout 20 kproduce -b "$b1_ADDR" -t moves >/dev/null 2>"$T/p.err"
check "100 records produced to moves/0 on node $FROM ($(head -2 "$T/p.err"))" test $? -eq 0

# Bad requests are refused and change nothing.
out=$(timeout 10 ktopic reassign moves --partition 0 --replicas 7 -b "$b1_ADDR" 2>&1)
check "a target naming an unknown broker exits 64 ($out)" test $? -eq 64
check "naming it" grep -q 'node 7 is not registered' <<<"$out"
out=$(timeout 10 ktopic reassign moves --partition 0 --cancel -b "$b1_ADDR" 2>&1)
check "a cancel with no move running exits 64 ($out)" test $? -eq 64
timeout 10 ktopic reassign moves --partition 0 -b "$b1_ADDR" 2>/dev/null
check "reassign without --replicas or --cancel is a usage error" test $? -eq 64

# The move starts: target first, then the replica being removed. The target
# is paused so that it cannot catch up before the running move is looked at.
kill -STOP "$(eval echo "\$b${TO}_PID")"
timeout 10 ktopic reassign moves --partition 0 --replicas "$TO" --json -b "${B[$FROM]}" >"$T/r.json" 2>"$T/r.err"
check "ktopic reassign moves --partition 0 --replicas $TO exits 0 ($(cat "$T/r.err"))" test $? -eq 0
check "its answer lists replicas [$TO,$FROM], adding [$TO], removing [$FROM] ($(cat "$T/r.json"))" \
  jq -e --argjson f "$FROM" --argjson t "$TO" \
  '.replicas == [$t, $f] and .adding == [$t] and .removing == [$f] and .leader == $f' "$T/r.json" >/dev/null
moving() {
  local a
  for a in "${B[$FROM]}" "${B[$(( (TO % 3) + 1 ))]}"; do
    rpc "$a" '{"op":"metadata","id":1}' | jq -e --argjson f "$FROM" --argjson t "$TO" \
      '.topics[] | select(.topic == "moves") | .partitions[0] | .adding == [$t] and .removing == [$f]' >/dev/null || return 1
  done
}
check "the running brokers' metadata shows the move" wait_until 5 moving
timeout 10 ktopic describe moves -b "${B[$FROM]}" >"$T/d.txt" 2>&1
check "ktopic describe shows the move ($(grep reassigning "$T/d.txt"))" \
  grep -qx "reassigning: partition 0 adding $TO, removing $FROM" "$T/d.txt"
kill -CONT "$(eval echo "\$b${TO}_PID")"
check "the new replica's broker opened a log for it" wait_until 5 test -d "${D[$TO]}/moves-0"

done_moving() {
  rpc "${B[$FROM]}" '{"op":"metadata","id":1}' | jq -e --argjson t "$TO" \
    '.topics[] | select(.topic == "moves") | .partitions[0] | .replicas == [$t] and .leader == $t and (has("adding") | not)' >/dev/null
}
check "the new replica catches up, joins the ISR and the move completes" wait_until 15 done_moving
check "with a new leader epoch" test "$(rpc "${B[$FROM]}" '{"op":"metadata","id":1}' |
  jq --slurpfile r "$T/r.json" '.topics[] | select(.topic == "moves") | .partitions[0].epoch > $r[0].leader_epoch')" = true
check "the old replica's broker removed its log" wait_until 5 test ! -d "${D[$FROM]}/moves-0"
check "and said so" grep -q "removing the log of moves/0" "$TEST_TMP/b$FROM.log"
check "the new replica's log is still there" test -d "${D[$TO]}/moves-0"
timeout 10 ktopic describe moves -b "$b1_ADDR" >"$T/d2.txt" 2>&1
check "describe no longer shows a move" bash -c "! grep -q reassigning '$T/d2.txt'"
echo 101 | timeout 20 kproduce -b "${B[$FROM]}" -t moves >/dev/null 2>"$T/p2.err"
check "produce through the old broker reaches the new leader ($(head -2 "$T/p2.err"))" test $? -eq 0
timeout 20 kconsume -b "${B[$FROM]}" -t moves >"$T/c.txt" 2>"$T/c.err"
check "the 100 records moved with the replica, and the new one follows ($(wc -l <"$T/c.txt") read; $(head -2 "$T/c.err"))" \
  cmp -s "$T/c.txt" <(seq 1 101)

# The rebalance plan over the brokers left when one stops: a dry run changes
# nothing, --execute starts the moves it printed.
timeout 10 ktopic create spread -p 6 -b "$b1_ADDR" >/dev/null
check "ktopic create spread -p 6" test $? -eq 0
stop_broker b3
check "broker 3 stops" test $? -eq 0
state_of_3_is() { test "$(broker_state "$b1_ADDR" 3)" = "$1"; }
check "broker 3 is fenced" wait_until 5 state_of_3_is fenced
snapshot() { rpc "$b1_ADDR" '{"op":"metadata","id":1}' | jq -cS '[.topics[] | {topic, partitions: [.partitions[] | {replicas, adding, removing}]}]'; }
before=$(snapshot)
timeout 10 ktopic reassign --rebalance -b "$b1_ADDR" >"$T/plan.txt" 2>"$T/plan.err"
check "ktopic reassign --rebalance (dry run) exits 0 ($(cat "$T/plan.err"))" test $? -eq 0
check "it prints a plan over brokers 1,2 ($(head -1 "$T/plan.txt"))" grep -q '^plan over brokers 1,2: ' "$T/plan.txt"
check "and says it was a dry run" grep -qx '(dry run: nothing was changed; --execute starts these moves)' "$T/plan.txt"
timeout 10 ktopic reassign --rebalance --json -b "$b1_ADDR" >"$T/plan.json"
check "the --json plan moves every replica off node 3" \
  jq -e '(.moves | length) >= 1 and all(.moves[]; (.to | index(3)) == null) and .replicas_after["3"] == null' "$T/plan.json" >/dev/null
check "the dry run changed nothing" test "$(snapshot)" = "$before"
timeout 10 ktopic reassign --rebalance --execute -b "$b1_ADDR" >/dev/null 2>"$T/exec.err"
check "ktopic reassign --rebalance --execute exits 0 ($(cat "$T/exec.err"))" test $? -eq 0
started() {
  rpc "$b1_ADDR" '{"op":"metadata","id":1}' | jq -e --slurpfile plan "$T/plan.json" '
    [.topics[] as $t | $t.partitions[] | select(has("adding")) | {topic: $t.topic, partition, target: (.replicas - (.removing // []))}] as $running
    | all($plan[0].moves[]; . as $m | any($running[]; .topic == $m.topic and .partition == $m.partition and .target == $m.to))' >/dev/null
}
check "every planned move is running" wait_until 5 started
restart_broker b3
check "broker 3 is back" wait_until 10 state_of_3_is live

stop_cluster
finish
