#!/usr/bin/env bash
# The replication metrics as an operator watches them through a failure: a
# broker of a replication-factor-3 topic dies, the survivors count the
# leader change, the leaders shrink their ISR and report under-replicated
# partitions; it comes back and catches up, the ISR expands and nothing is
# under-replicated any more. Read with ktopic metrics --broker N --json.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/cluster.sh"
begin_cluster_test

# metric NODE NAME: the sum of a family's sample values on broker NODE.
metric() {
  timeout 10 ktopic -b "$b1_ADDR" metrics --broker "$1" --json 2>/dev/null |
    jq --arg n "$2" '[.metrics[] | select(.name == $n) | .samples[].value] | add // 0'
}
# sum NAME NODE...: the family summed over brokers.
sum() {
  local name=$1 total=0 n v
  shift
  for n in "$@"; do
    v=$(metric "$n" "$name")
    total=$((total + ${v:-0}))
  done
  echo "$total"
}

# sum_is VALUE NAME NODE...: for wait_until, which must re-read each time.
sum_is() {
  local want=$1
  shift
  [ "$(sum "$@")" = "$want" ]
}

timeout 10 ktopic -b "$b1_ADDR" create repl -p 3 -r 3 || fail "create repl"
seq 1 300 | timeout 20 kproduce -b "$b1_ADDR" -t repl || fail "produce"
check "nothing under-replicated at first" wait_until 20 sum_is 0 kreek_under_replicated_partitions 1 2 3
shrinks0=$(sum kreek_isr_shrinks_total 1 2)
changes0=$(metric 1 kreek_leader_changes_total)

kill9_broker b3
check "a leader reports under-replicated partitions once b3 is out of the ISR" \
  wait_until 30 sum_is 3 kreek_under_replicated_partitions 1 2
check "the ISR shrinks are counted" test "$(sum kreek_isr_shrinks_total 1 2)" -gt "$shrinks0"
check "broker 1 saw b3's partition change leader" test "$(metric 1 kreek_leader_changes_total)" -gt "$changes0"
check "leadership moved to the survivors" test "$(sum kreek_leader_partitions 1 2)" = 3
seq 1 300 | timeout 20 kproduce -b "$b1_ADDR" -t repl || fail "produce while b3 is down"

expands0=$(sum kreek_isr_expands_total 1 2 3)
restart_broker b3
check "b3 catches up: nothing under-replicated" wait_until 30 sum_is 0 kreek_under_replicated_partitions 1 2 3
check "the ISR expands are counted" test "$(sum kreek_isr_expands_total 1 2 3)" -gt "$expands0"
check "no follower lags once caught up" wait_until 20 sum_is 0 kreek_follower_lag_records 1 2 3
stop_cluster
finish
