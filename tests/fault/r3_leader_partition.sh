#!/usr/bin/env bash
# r3_leader_partition.sh: a network partition (Linux network namespaces, root only). Each broker
# and kzk-lite runs in its own namespace on a bridge; the leader of partition 0 is cut off from
# both followers and the coordinator while the workload (outside every namespace) still reaches
# it. The cut-off leader must acknowledge no acks=all write sent to it after the cut (it cannot
# reach min.insync.replicas), the majority side must elect a new leader and take writes, and
# after the heal the old leader must rejoin the ISR with nothing lost or inconsistent.
# Short: 2 partitions; long (KREEK_SOAK=1 or --long): 6.
source "$(dirname "$0")/lib/fault.sh" "$@"

fault_cluster --netns
fault_topic r3 3 min.insync.replicas=2
ROUNDS=$(long 2 6)
HOLD=$(long 3 8)
start_workload --writers 6 --rate "$(long 100 300)"

for ((r = 1; r <= ROUNDS; r++)); do
  wait_for_leader 0 "cut $r" || break
  L=$(leader_of 0)
  for other in z b1 b2 b3; do
    [ "$other" = "b$L" ] || cut_link "b$L" "$other" || { fail "cut b$L from $other"; finish; }
  done
  t_cut=$(now_ms)
  mark_fault partition "$L" 0
  FAULT_AVOID=$L   # it still answers, from its stale view
  check "cut $r: node $L is fenced by the coordinator" \
    wait_until 10 eval '[ "$(broker_state "$(any_broker)" "$L")" = fenced ]'
  expect_new_leader 0 "$L" "cut $r: the majority side" 10
  if [ "$FAULT_RF" -gt 1 ]; then
    a0=$(acks_on 0)
    check "cut $r: partition 0 takes writes on the majority side" wait_until "$HOLD" eval '[ "$(acks_on 0)" -gt "$a0" ]'
  fi
  sleep "$HOLD"
  heal_all
  t_heal=$(now_ms)
  mark_fault heal "$L" 0 false
  FAULT_AVOID=""
  check "cut $r: node $L is back in partition 0's ISR after the heal" wait_until 20 in_isr 0 "$L"
  expect_no_acks_from "$L" "$t_cut" "$t_heal" "cut $r (cut off)"
done
end_safe_run
