#!/usr/bin/env bash
# r2_leader_pause.sh: SIGSTOP the leader of partition 0 past the session timeout under acks=all
# load, then SIGCONT. The coordinator fences it and another in-sync replica takes over; the
# paused leader acknowledges nothing that was sent to it while its epoch was being superseded;
# it rejoins the ISR; and the checker finds every safety figure 0.
# Short: 1 pause; long (KREEK_SOAK=1 or --long): 6.
source "$(dirname "$0")/lib/fault.sh" "$@"

fault_cluster
fault_topic r2 3 min.insync.replicas=2
ROUNDS=$(long 1 6)
HOLD=$(long 1 5)   # seconds the new leader takes writes before the old one wakes
start_workload --writers 6 --rate "$(long 100 300)"

for ((r = 1; r <= ROUNDS; r++)); do
  wait_for_leader 0 "pause $r" || break
  L=$(leader_of 0)
  old_epoch=$(epoch_of 0)
  kill -STOP "$(eval echo "\$b${L}_PID")"
  t_stop=$(now_ms)
  mark_fault sigstop "$L" 0
  FAULT_AVOID=$L
  check "pause $r: node $L is fenced" wait_until 10 eval '[ "$(broker_state "$(any_broker)" "$L")" = fenced ]'
  expect_new_leader 0 "$L" "pause $r" 10
  if [ "$FAULT_RF" -gt 1 ]; then
    check "pause $r: the leader epoch moved on ($old_epoch -> $(epoch_of 0))" test "$(epoch_of 0)" -gt "$old_epoch"
  fi
  sleep "$HOLD"
  kill -CONT "$(eval echo "\$b${L}_PID")"
  t_cont=$(now_ms)
  mark_fault sigcont "$L" 0 false
  FAULT_AVOID=""
  check "pause $r: node $L is back in partition 0's ISR" wait_until 20 in_isr 0 "$L"
  expect_no_acks_from "$L" "$t_stop" "$t_cont" "pause $r (paused)"
done
end_safe_run
