#!/usr/bin/env bash
# r5_unclean_negative.sh: NEGATIVE CONTROL. min.insync.replicas 1 and
# unclean.leader.election.enable=true, Kafka's 2013 failure: both followers of partition 0 are
# paused (SIGSTOP) until the ISR is the leader alone, which goes on acknowledging acks=all
# writes; then that lone in-sync leader is killed (kill -9), the followers wake, and an
# out-of-sync one is elected. The writes only the dead leader held are gone: the test passes
# only if the checker reports them lost (and fails the run). If it does not, the checker (or the
# fault) cannot be trusted and every other fault test's pass means nothing.
# Short: 1 round; long (KREEK_SOAK=1 or --long): 3.
source "$(dirname "$0")/lib/fault.sh" "$@"

fault_cluster
fault_topic r5 3 min.insync.replicas=1 unclean.leader.election.enable=true
ROUNDS=$(long 1 3)
start_workload --writers 6 --rate "$(long 100 300)"

pid_of() { local v="b${1}_PID"; echo "${!v}"; }
for ((r = 1; r <= ROUNDS; r++)); do
  wait_isr 30 3 || say "round $r: not every replica is in sync: $(partitions_json)"
  L=$(leader_of 0)
  followers=$(partitions_json | jq -r '.[] | select(.partition == 0) | (.leader as $l | .replicas[] | select(. != $l))')
  for f in $followers; do kill -STOP "$(pid_of "$f")"; done
  FAULT_AVOID=$(echo $followers)
  mark_fault "sigstop-followers" "$L" 0 false
  check "round $r: partition 0's ISR shrinks to its leader $L ($(isr_of 0))" \
    wait_until 15 eval '[ "$(isr_of 0)" = "[$L]" ]'
  a0=$(acks_on 0)
  check "round $r: the lone leader acknowledges acks=all writes" wait_until 10 eval '[ "$(acks_on 0)" -gt "$((a0 + 20))" ]'
  kill9_broker "b$L"
  mark_fault kill9 "$L" 0
  for f in $followers; do kill -CONT "$(pid_of "$f")"; done
  FAULT_AVOID=$L
  check "round $r: an out-of-sync replica is elected (unclean) for partition 0" \
    wait_until 15 eval '[ "$(leader_of 0)" -ge 0 ] && [ "$(leader_of 0)" != "$L" ]'
  sleep 1
  restart_node "$L" || { fail "node $L did not restart"; finish; }
  FAULT_AVOID=""
  mark_fault restart "$L" 0 false
done
sleep 1
stop_workload
json=$(final_check)
rc=$?
echo "negative control: $json" >&2
check "negative control: the checker fails the run (exit $rc)" test "$rc" -eq 1
check "negative control: it reports acknowledged writes lost ($(jq .lost <<<"$json"))" test "$(jq .lost <<<"$json")" -gt 0
stop_cluster
finish
