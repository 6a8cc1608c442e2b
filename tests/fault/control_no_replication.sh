#!/usr/bin/env bash
# control_no_replication.sh: a negative control for the RF 3 scenarios while the broker has no
# replication. kzk-lite accepts an RF 3 topic (created there directly, past the broker's
# refusal), so the metadata shows three in-sync replicas while no broker copies a byte. Killing
# partition 0's leader under acks=all load then hands it to a replica with an empty log: the
# checker must report acknowledged writes lost, the replicas diverging below the high
# watermark, and offsets holding two values. Once the broker accepts RF > 1 this control has
# nothing to show (r1..r7 are then the real tests) and it skips.
source "$(dirname "$0")/lib/fault.sh" "$@"

fault_cluster
if timeout 20 ktopic -b "$b1_ADDR" create rf-probe -p 1 -r 3 >/dev/null 2>&1; then
  skip "this build accepts replication_factor 3: the r1..r7 scenarios test it for real"
fi
KREEK_FAULT_VIA_COORDINATOR=1 fault_topic norepl 3 min.insync.replicas=2
start_workload --writers 6
wait_until 10 eval '[ "$(acks_on 0)" -gt 50 ]'
L=$(leader_of 0)
kill9_broker "b$L"
mark_fault kill9 "$L" 0
FAULT_AVOID=$L
check "another 'replica' leads partition 0 after node $L died" \
  wait_until 10 eval '[ "$(leader_of 0)" -ge 0 ] && [ "$(leader_of 0)" != "$L" ]'
a0=$(acks_on 0)
check "it acknowledges acks=all writes" wait_until 10 eval '[ "$(acks_on 0)" -gt "$((a0 + 50))" ]'
restart_node "$L" || { fail "node $L did not restart"; finish; }
FAULT_AVOID=""
sleep 1
stop_workload
json=$(FAULT_HEAL_SECONDS=0 final_check)
rc=$?
echo "negative control (no replication): $json" >&2
check "the checker fails the run (exit $rc)" test "$rc" -eq 1
for figure in lost replica_divergence inconsistent_offsets; do
  check "it reports $figure ($(jq ".$figure" <<<"$json"))" test "$(jq ".$figure" <<<"$json")" -gt 0
done
stop_cluster
finish
