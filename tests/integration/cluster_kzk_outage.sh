#!/usr/bin/env bash
# cluster_kzk_outage.sh: kzk-lite killed with -9 under a running three-broker
# cluster. While it is down the brokers keep taking and serving records for
# the partitions they lead, and topic changes fail at once with a clear
# retriable error (exit 69); restarted on its data dir it has every topic and
# assignment, the brokers reconnect by themselves (none is restarted) and stay
# live, and a topic created afterwards works.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"

begin_cluster_test
# The cluster as a broker sees it: brokers, topics, leaders, epochs.
cluster_view() { rpc "$1" '{"op":"metadata","id":1}' | jq -cS '{brokers, topics}'; }

timeout 10 ktopic create orders -p 6 -b "$b1_ADDR" >/dev/null
timeout 10 ktopic create events -p 3 -b "$b2_ADDR" -c retention.ms=3600000 >/dev/null
check "two topics on every broker" \
  wait_until 5 eval '[ "$(cluster_view "$b3_ADDR" | jq ".topics | length")" = 2 ]'
before=$(cluster_view "$b1_ADDR")
pids_before="$b1_PID $b2_PID $b3_PID"

kill9_broker z
seq 0 5999 | awk '{ printf "key-%d:down-%d\n", $1 % 600, $1 }' >"$T/down"
timeout 30 kproduce -b "$b1_ADDR" -t orders -K : "$T/down" 2>"$T/p.err"
rc=$?
check "with kzk-lite down, 6,000 keyed records go in through broker 1 (exit $rc: $(head -1 "$T/p.err"))" test "$rc" -eq 0
got=$(timeout 30 kconsume -b "$b2_ADDR" -t orders | grep -c '^down-')
check "and come out through broker 2 ($got)" test "$got" -eq 6000

t0=$(date +%s%N)
timeout 30 ktopic create later -p 3 -b "$b2_ADDR" 2>"$T/create.err"
rc=$?
echo "ktopic create with kzk-lite down: exit $rc after $(ms_since "$t0") ms: $(cat "$T/create.err")" >&2
check "ktopic create with kzk-lite down exits 69 or 75 (got $rc)" test "$rc" -eq 69 -o "$rc" -eq 75
check "saying the coordinator cannot be reached ($(cat "$T/create.err"))" \
  grep -q "^ktopic: error: the coordinator 127.0.0.1:$z_PORT cannot be reached" "$T/create.err"
check "the broker answers UNAVAILABLE on the wire" test "$(rpc "$b3_ADDR" \
  '{"op":"create_topic","id":1,"topic":"later","partitions":1}' | jq -r .error.code)" = UNAVAILABLE
timeout 30 ktopic delete events -b "$b1_ADDR" 2>"$T/delete.err"
rc=$?
check "ktopic delete with kzk-lite down exits 69 or 75 (got $rc: $(cat "$T/delete.err"))" test "$rc" -eq 69 -o "$rc" -eq 75
check "and events is still there" test -d "$b1_DIR/events-0"
# A produce that would create a topic waits for it up to its --timeout, then
# exits 75 naming why.
t0=$(date +%s%N)
echo x | timeout 30 kproduce -b "$b1_ADDR" -t auto-while-down --timeout 3000 2>"$T/auto.err"
rc=$?
waited=$(ms_since "$t0")
check "kproduce to a new topic with kzk-lite down exits 75 (got $rc: $(cat "$T/auto.err"))" test "$rc" -eq 75
check "after waiting out its --timeout of 3000 ms (${waited} ms)" test "$waited" -ge 2900

check "each broker logs the lost coordinator" \
  wait_until 5 eval '[ "$(grep -l "coordinator 127.0.0.1:$z_PORT unreachable" "$b1_LOG" "$b2_LOG" "$b3_LOG" | wc -l)" -eq 3 ]'

restart_kzk z || { fail "kzk-lite did not restart"; finish; }
t0=$(date +%s%N)
for n in 1 2 3; do
  log_var="b${n}_LOG"
  check "broker $n reconnects by itself" wait_for_line "${!log_var}" "coordinator 127.0.0.1:$z_PORT reachable again" 10
done
echo "brokers reconnected $(ms_since "$t0") ms after kzk-lite's listening line" >&2
check "no broker was restarted" test "$b1_PID $b2_PID $b3_PID" = "$pids_before"
for n in 1 2 3; do kill -0 "$(eval echo \$b${n}_PID)" || fail "broker $n died"; done
check "topics, leaders and epochs are as before the kill" test "$(cluster_view "$b3_ADDR")" = "$before"
check "kzk-lite has both topics" \
  test "$(rpc "$z_ADDR" '{"op":"describe_cluster","id":1}' | jq .topics)" = 2
# Heartbeats resumed: for two sessions every broker stays live.
stays_live() {
  local t0
  t0=$(date +%s%N)
  while [ "$(ms_since "$t0")" -lt $((2 * SESSION_MS)) ]; do
    rpc "$z_ADDR" '{"op":"describe_cluster","id":1}' |
      jq -e '[.brokers[].state] == ["live", "live", "live"]' >/dev/null || return 1
    sleep 0.1
  done
}
check "every broker stays live for two sessions after the restart" stays_live

timeout 10 ktopic create later -p 3 -b "$b2_ADDR" >/dev/null 2>"$T/later.err"
check "a topic created after the restart works ($(cat "$T/later.err"))" test $? -eq 0
check "its leaders are on the three brokers" \
  wait_until 5 eval '[ "$(leaders "$b1_ADDR" later | jq -c sort)" = "[1,2,3]" ]'
seq 1 300 | sed 's/^/k&:v/' | timeout 20 kproduce -b "$b3_ADDR" -t later -K :
check "records into it through broker 3 come out through broker 1" \
  test "$(timeout 20 kconsume -b "$b1_ADDR" -t later | wc -l)" -eq 300
check "orders still has all 6,000" \
  test "$(timeout 30 kconsume -b "$b3_ADDR" -t orders | wc -l)" -eq 6000
timeout 10 ktopic delete events -b "$b1_ADDR" >/dev/null
check "a topic delete after the restart works" test $? -eq 0

stop_cluster
finish
