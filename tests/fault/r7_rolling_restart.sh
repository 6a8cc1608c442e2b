#!/usr/bin/env bash
# r7_rolling_restart.sh: a rolling restart of all three brokers under acks=all load from
# idempotent producers (pid/pepoch/seq from init_producer_id). Each broker gets SIGTERM
# (controlled shutdown moves its leaderships away first) and must exit 0; it is started again
# and the next one goes only when every partition has all three replicas in sync. Nothing may
# be lost, and with idempotence nothing may be written twice (every duplicate counts).
# Short: one pass; long (KREEK_SOAK=1 or --long): 4 passes.
source "$(dirname "$0")/lib/fault.sh" "$@"

fault_cluster
fault_topic r7 3 min.insync.replicas=2
ROUNDS=$(long 1 4)
start_workload --writers 6 --rate "$(long 100 300)" --idempotent

for ((pass = 1; pass <= ROUNDS; pass++)); do
  for n in 1 2 3; do
    mark_fault sigterm "$n"
    FAULT_AVOID=$n
    stop_broker "b$n"
    check "pass $pass: node $n exits 0 on SIGTERM" test $? -eq 0
    restart_node "$n" || { fail "node $n did not restart"; finish; }
    FAULT_AVOID=""
    check "pass $pass: every replica is in sync again after node $n restarted" wait_isr 30 "$FAULT_RF"
  done
done
sleep 1
stop_workload
expect_safe --idempotent
check "the writers had producer ids" grep -q '"type":"pid"' "$W/writes.jsonl"
stop_cluster
finish
