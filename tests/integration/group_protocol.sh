#!/usr/bin/env bash
# group_protocol.sh: consumer groups over the raw protocol (kreek-protocol(7),
# GROUPS), with tests/lib/group_member.py as the members. Standalone broker:
# find_coordinator creates __consumer_offsets; two members split a topic's
# partitions; commits are fenced by generation; a member that stops
# heartbeating is expired and the other gets everything within the session
# timeout + 1 s; delete_group is refused while members live. Three brokers:
# committed offsets survive kill -9 of the group's coordinator, whose groups
# move to another broker, and the next generation is greater than before.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"

for tool in jq nc timeout python3; do
  check "$tool is installed" command -v "$tool" >/dev/null
done
[ "$FAILURES" -eq 0 ] || finish
MEMBER="$KREEK_SRC/tests/lib/group_member.py"
T=$TEST_TMP

# member NAME BROKER [flags...]: starts a member in the background (NAME_PID,
# state in $T/NAME.json, log in $T/NAME.log).
member() {
  local name=$1 broker=$2
  shift 2
  python3 "$MEMBER" --broker "$broker" --group g --topics logs --state "$T/$name.json" "$@" 2>"$T/$name.log" &
  local pid=$!
  _started_pids+=("$pid")
  printf -v "${name}_PID" %s "$pid"
}
state() { jq -r "$2" "$T/$1.json" 2>/dev/null; }
# partitions NAME: "0,1" (sorted) of topic logs in NAME's last assignment.
partitions() { state "$1" '.assignment.logs // [] | sort | map(tostring) | join(",")'; }
field() { jq -r "$1"; }

# --- standalone -----------------------------------------------------------------
timeout 10 kbroker --data-dir "$T/bad" --group-min-session-timeout-ms 5000 --group-max-session-timeout-ms 1000 \
  2>"$T/bad.log"
check "kbroker refuses a min session timeout above the max (exit 64)" test $? -eq 64
check "... naming both flags" grep -q 'group-min-session-timeout-ms 5000 is more than --group-max-session-timeout-ms 1000' "$T/bad.log"
start_broker s --offsets-topic-partitions 4 || { fail "the broker did not start"; finish; }
check "create topic logs with 4 partitions" timeout 10 ktopic create logs -p 4 -b "$s_ADDR"

# The first find_coordinator waits while the offsets topic is created; the
# requests pipelined behind it on the connection are answered after it.
first=$(rpc "$s_ADDR" '{"op":"find_coordinator","id":1,"group":"g"}' '{"op":"describe_group","id":2,"group":"g"}' \
  '{"op":"list_groups","id":3}')
check "find_coordinator creating the offsets topic, and two requests behind it: 3 answers in order" \
  test "$(echo "$first" | jq -c '[.id, (if .ok then true else .error.code end)]' | paste -sd' ')" = '[1,true] [2,"GROUP_ID_NOT_FOUND"] [3,true]'
check "... and the broker still serves after them" \
  eval 'rpc "$s_ADDR" "{\"op\":\"hello\",\"id\":4}" | jq -e .ok >/dev/null && kill -0 "$s_PID"'
fc=$(echo "$first" | head -n 1)
check "find_coordinator names this broker ($fc)" \
  test "$(echo "$fc" | field .addr)" = "$s_ADDR"
check "__consumer_offsets exists with 4 partitions, compacted" \
  eval 'timeout 10 ktopic describe __consumer_offsets --json -b "$s_ADDR" | jq -e ".partitions | length == 4" >/dev/null'
check "a bad group name is INVALID_REQUEST" \
  test "$(rpc "$s_ADDR" '{"op":"find_coordinator","id":1,"group":"a b"}' | field .error.code)" = INVALID_REQUEST
check "producing to __consumer_offsets is refused" \
  test "$(rpc "$s_ADDR" '{"op":"produce","id":1,"topic":"__consumer_offsets","records":[{"key":"k","value":"v"}]}' | field .error.code)" = INVALID_REQUEST
check "deleting __consumer_offsets is refused" \
  test "$(rpc "$s_ADDR" '{"op":"delete_topic","id":1,"topic":"__consumer_offsets"}' | field .error.code)" = INVALID_REQUEST

member a "$s_ADDR" --session-ms 3000 --heartbeat-ms 250
check "member a joins and gets all 4 partitions" wait_until 15 eval '[ "$(partitions a)" = "0,1,2,3" ]'
gen_a=$(state a .generation)
id_a=$(state a .member_id)

member b "$s_ADDR" --session-ms 3000 --heartbeat-ms 250
split() {
  local ga gb
  ga=$(state a .generation)
  gb=$(state b .generation)
  [ -n "$gb" ] && [ "$ga" = "$gb" ] && [ "$ga" -gt "$gen_a" ] || return 1
  [ "$(printf '%s,%s\n' "$(partitions a)" "$(partitions b)" | tr , '\n' | sort -n | paste -sd,)" = "0,1,2,3" ] &&
    [ -n "$(partitions a)" ] && [ -n "$(partitions b)" ]
}
check "a second member: both at the next generation, disjoint partitions covering all 4" wait_until 20 split
gen=$(state a .generation)
id_a=$(state a .member_id)

commit() {  # commit MEMBER GENERATION PARTITION OFFSET -> error code or "ok"
  rpc "$s_ADDR" "{\"op\":\"commit_offsets\",\"id\":1,\"group\":\"g\",\"member_id\":\"$1\",\"generation\":$2,\"offsets\":[{\"topic\":\"logs\",\"partition\":$3,\"offset\":$4,\"metadata\":\"\"}]}" |
    jq -r 'if .ok then "ok" else .error.code end'
}
check "a member commits at its generation" test "$(commit "$id_a" "$gen" 0 17)" = ok
check "a commit from an older generation is fenced (ILLEGAL_GENERATION)" \
  test "$(commit "$id_a" "$gen_a" 0 99)" = ILLEGAL_GENERATION
check "an admin commit is refused while the group has members (GROUP_NOT_EMPTY)" \
  test "$(commit "" -1 0 0)" = GROUP_NOT_EMPTY
check "fetch_offsets returns the committed offset" \
  test "$(rpc "$s_ADDR" '{"op":"fetch_offsets","id":1,"group":"g","topics":["logs"]}' | jq -c '[.offsets[] | [.partition, .offset]]')" = "[[0,17]]"
check "delete_group is refused while members live (GROUP_NOT_EMPTY)" \
  test "$(rpc "$s_ADDR" '{"op":"delete_group","id":1,"group":"g"}' | field .error.code)" = GROUP_NOT_EMPTY
desc=$(rpc "$s_ADDR" '{"op":"describe_group","id":1,"group":"g"}')
check "describe_group: Stable, 2 members, the offset ($desc)" \
  eval 'echo "$desc" | jq -e ".state == \"Stable\" and (.members | length) == 2 and .offsets == [{\"topic\":\"logs\",\"partition\":0,\"offset\":17}]" >/dev/null'
check "list_groups names the group" \
  eval 'rpc "$s_ADDR" "{\"op\":\"list_groups\",\"id\":1}" | jq -e ".groups == [{\"group\":\"g\",\"state\":\"Stable\",\"members\":2}]" >/dev/null'

# b stops heartbeating (kill -9): a gets everything within session (3 s) + 1 s.
{ kill -9 "$b_PID"; wait "$b_PID"; } 2>/dev/null
t0=$(date +%s%N)
check "after member b dies, a gets all 4 partitions" wait_until 10 eval '[ "$(partitions a)" = "0,1,2,3" ]'
took=$(ms_since "$t0")
check_bound "... within the session timeout + 1 s (took ${took} ms)" test "$took" -le 4000

kill -TERM "$a_PID"
wait "$a_PID"
check "member a leaves cleanly" test $? -eq 0
check "the group is Empty after the last member left" \
  wait_until 5 eval '[ "$(rpc "$s_ADDR" "{\"op\":\"describe_group\",\"id\":1,\"group\":\"g\"}" | jq -r .state)" = Empty ]'
check "an admin reset is allowed once the group is empty" test "$(commit "" -1 1 5)" = ok
stop_broker s
check "the broker exits 0 on SIGTERM" test $? -eq 0
restart_broker s || { fail "the broker did not restart"; finish; }
check "after a restart the offsets are read back from __consumer_offsets" \
  wait_until 10 eval '[ "$(rpc "$s_ADDR" "{\"op\":\"fetch_offsets\",\"id\":1,\"group\":\"g\"}" | jq -c "[.offsets[] | [.partition, .offset]]")" = "[[0,17],[1,5]]" ]'
check "delete_group of the empty group" \
  test "$(rpc "$s_ADDR" '{"op":"delete_group","id":1,"group":"g"}' | jq -r .ok)" = true
check "a deleted group is GROUP_ID_NOT_FOUND" \
  test "$(rpc "$s_ADDR" '{"op":"describe_group","id":1,"group":"g"}' | field .error.code)" = GROUP_ID_NOT_FOUND
stop_broker s
check "the broker exits 0 on SIGTERM again" test $? -eq 0

# --- three brokers: the coordinator dies ------------------------------------------
start_kzk z --session-timeout-ms 1500 --heartbeat-interval-ms 250 || { fail "kzk-lite did not start"; finish; }
for n in 1 2 3; do
  start_broker "b$n" --coordinator "$z_ADDR" --node-id "$n" --offsets-topic-partitions 3 ||
    { fail "broker $n did not start"; finish; }
done
check "create topic logs (4 partitions, replication factor 3)" \
  timeout 10 ktopic create logs -p 4 -r 3 -b "$b1_ADDR"
coordinator() { rpc "$1" '{"op":"find_coordinator","id":1,"group":"g"}' | jq -r '.node // empty'; }
check "find_coordinator names a broker" wait_until 15 eval '[ -n "$(coordinator "$b1_ADDR")" ]'
check "__consumer_offsets has replication factor 3" \
  eval 'rpc "$b1_ADDR" "{\"op\":\"metadata\",\"id\":1}" | jq -e ".topics[] | select(.topic == \"__consumer_offsets\") | .partitions | all(.replicas | length == 3)" >/dev/null'

member c "$b1_ADDR,$b2_ADDR,$b3_ADDR" --session-ms 6000
check "member c joins through the coordinator" wait_until 20 eval '[ "$(partitions c)" = "0,1,2,3" ]'
gen_c=$(state c .generation)
id_c=$(state c .member_id)
old=$(state c .coordinator)
old_addr_var="b${old}_ADDR"
cc=$(rpc "${!old_addr_var}" "{\"op\":\"commit_offsets\",\"id\":1,\"group\":\"g\",\"member_id\":\"$id_c\",\"generation\":$gen_c,\"offsets\":[{\"topic\":\"logs\",\"partition\":2,\"offset\":420,\"metadata\":\"x\"},{\"topic\":\"logs\",\"partition\":3,\"offset\":7}]}")
check "commit at the coordinator (node $old): $cc" test "$(echo "$cc" | jq -r .ok)" = true
other=$((old % 3 + 1))
other_addr_var="b${other}_ADDR"
other_addr=${!other_addr_var}
check "a broker that is not the coordinator answers NOT_COORDINATOR" \
  test "$(rpc "$other_addr" '{"op":"fetch_offsets","id":1,"group":"g"}' | field .error.code)" = NOT_COORDINATOR

kill9_broker "b$old"
moved() { local n; n=$(coordinator "$other_addr"); [ -n "$n" ] && [ "$n" != "$old" ]; }
check "after kill -9 of node $old, find_coordinator names another broker" wait_until 20 moved
new=$(coordinator "$other_addr")
new_addr_var="b${new}_ADDR"
offsets_after() {
  rpc "${!new_addr_var}" '{"op":"fetch_offsets","id":1,"group":"g"}' | jq -c '[.offsets[] | [.partition, .offset, .metadata]]'
}
check "the new coordinator (node $new) returns the committed offsets" \
  wait_until 20 eval '[ "$(offsets_after)" = "[[2,420,\"x\"],[3,7,\"\"]]" ]'
join=$(timeout 60 python3 "$MEMBER" --broker "$other_addr" --group g --topics logs --session-ms 6000 --join-once 2>"$T/once.log")
check "a new join gets a generation greater than $gen_c ($join)" \
  eval '[ "$(echo "$join" | jq -r .generation)" -gt "$gen_c" ]'
check "member c followed the group to node $new" wait_until 20 eval '[ "$(state c .coordinator)" = "$new" ]'

kill -TERM "$c_PID"
wait "$c_PID"
for n in 1 2 3; do
  [ "$n" = "$old" ] && continue
  stop_broker "b$n"
  check "broker $n exits 0 on SIGTERM" test $? -eq 0
done
stop_broker z
finish
