#!/usr/bin/env bash
# control_truncated_tail.sh: the checker against today's build, before replication exists.
# Positive control: an RF 1 topic under acks=1 load whose partition leader is killed with kill -9
# and restarted loses nothing (the page cache keeps every write) and the checker passes.
# Negative control: the same, but the tail of the killed broker's segment file is cut off before
# the restart, so acknowledged records are gone; the checker must see it (lost > 0, and the
# offsets the new writes take again are inconsistent) and fail. Either control failing means
# the checker cannot be trusted.
source "$(dirname "$0")/lib/fault.sh" "$@"

fault_cluster
CUT=$(long 20 200)      # batch lines cut off the segment's tail
RUN_S=$(long 2 20)      # seconds of load before and after the kill

# kill_leader_of_0 [truncate-lines]: kill -9 partition 0's leader, optionally cut the last
# lines of its newest segment, restart it, and wait until it leads partition 0 again.
kill_leader_of_0() {
  local cut=${1:-0} L dir seg lines
  L=$(leader_of 0)
  kill9_broker "b$L"
  mark_fault kill9 "$L" 0
  if [ "$cut" -gt 0 ]; then
    dir=b${L}_DIR
    seg=$(ls "${!dir}/$FAULT_TOPIC-0/"*.log | tail -1)
    lines=$(wc -l <"$seg")
    head -n $((lines > cut ? lines - cut : 0)) "$seg" >"$seg.cut" && mv "$seg.cut" "$seg"
    say "cut $cut of $lines batch lines off $(basename "$seg") of node $L"
  fi
  sleep 0.5
  restart_node "$L" || { fail "node $L did not restart"; finish; }
  mark_fault restart "$L" 0 false
  check "node $L leads partition 0 again" wait_until 15 eval '[ "$(leader_of 0)" = "$L" ]'
}

# --- positive control: kill -9 and restart, nothing cut ---------------------------------
fault_topic clean 1
new_run clean
start_workload --acks 1 --writers 6
sleep "$RUN_S"
kill_leader_of_0
sleep "$RUN_S"
stop_workload
json=$(final_check)
check "positive control: the checker passes a kill -9 that loses nothing: $json" \
  test "$(jq -r .valid <<<"$json")" = true
check "positive control: writes were acknowledged on partition 0 after the restart" \
  test "$(jq -s '[.[] | select(.type == "ok" and .partition == 0)] | length' "$W/writes.jsonl")" -gt 0

# --- negative control: the segment's tail is cut while the broker is down ---------------
fault_topic truncated 1
new_run truncated
start_workload --acks 1 --writers 6
wait_until 20 eval '[ "$(acks_on 0)" -gt $((CUT * 3)) ]'
kill_leader_of_0 "$CUT"
sleep "$RUN_S"
stop_workload
json=$(final_check)
rc=$?
echo "negative control: $json" >&2
check "negative control: the checker fails the run (exit $rc)" test "$rc" -eq 1
check "negative control: it reports acknowledged records lost ($(jq .lost <<<"$json"), $CUT batches cut)" \
  test "$(jq .lost <<<"$json")" -gt 0
check "negative control: at most the cut batches are lost" test "$(jq .lost <<<"$json")" -le "$CUT"
check "negative control: reused offsets are inconsistent ($(jq .inconsistent_offsets <<<"$json"))" \
  test "$(jq .inconsistent_offsets <<<"$json")" -gt 0
check "negative control: readers saw records the final log lacks ($(jq .phantom <<<"$json"))" \
  test "$(jq .phantom <<<"$json")" -gt 0

stop_cluster
finish
