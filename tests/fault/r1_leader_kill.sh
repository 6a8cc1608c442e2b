#!/usr/bin/env bash
# r1_leader_kill.sh: kill -9 the leader of partition 0 again and again under acks=all load
# (RF 3, min.insync.replicas 2), restarting it after a pause each time. Another in-sync replica
# must take over within the session timeout, the killed one must come back into the ISR, and
# the checker must find nothing lost, duplicated, reordered or inconsistent.
# Short: 5 kills; long (KREEK_SOAK=1 or --long): 25.
source "$(dirname "$0")/lib/fault.sh" "$@"

fault_cluster
fault_topic r1 3 min.insync.replicas=2
KILLS=$(long 5 25)
PAUSE=$(long 0.5 3)
start_workload --writers 6 --rate "$(long 100 300)"

for ((k = 1; k <= KILLS; k++)); do
  wait_for_leader 0 "kill $k" || break
  L=$(leader_of 0)
  kill9_broker "b$L"
  mark_fault kill9 "$L" 0
  FAULT_AVOID=$L
  expect_new_leader 0 "$L" "kill $k: node $L died" $(((SESSION_MS + 5000) / 1000))
  sleep "$PAUSE"
  restart_node "$L" || { fail "node $L did not restart"; finish; }
  mark_fault restart "$L" 0 false
  FAULT_AVOID=""
  check "kill $k: node $L is back in partition 0's ISR" wait_until 20 in_isr 0 "$L"
done
end_safe_run
