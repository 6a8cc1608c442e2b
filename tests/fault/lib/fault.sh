# Shared by the tests/fault/*.sh scenarios (bash; source it first): the short/long switch, the
# skip rule, the fault topic, the workload in the background, fault marks and the final check.
#
#   source "$(dirname "$0")/lib/fault.sh" "$@"   # also sources common.sh and cluster.sh
#   fault_cluster [--netns]                  # kzk-lite + b1 b2 b3 (in namespaces with --netns)
#   fault_topic TOPIC RF [KEY=VALUE...]      # 3 partitions; exit 77 if RF > 1 is refused
#   new_run NAME                             # W: a fresh log directory for the next workload
#   start_workload [workload.py run flags]   # writers + readers logging into $W
#   mark_fault WHAT NODE [PARTITION]         # a line in $W/faults.jsonl (failover is timed from it)
#   stop_workload; final_check [checker flags]  # final read, checker JSON line on stdout
# Short runs take seconds; KREEK_SOAK=1 or --long picks the long version: long N_SHORT N_LONG.
# Tests skip with exit 77 (CMake SKIP_RETURN_CODE), printing why on one line.

source "$(dirname "${BASH_SOURCE[0]}")/../../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"

FAULT_SRC=$KREEK_SRC/tests/fault
# A test stopped by a signal (a timeout, Ctrl-C) still ends its cluster, namespaces and mounts.
trap 'exit 143' TERM
trap 'exit 130' INT

# wait_until SECONDS CMD...: cluster.sh's, but bounded by the clock rather than a count of
# tries: here one try asks brokers over the network and may itself take a while.
wait_until() {
  local end=$(($(date +%s%N) / 1000000 + $1 * 1000))
  shift
  while :; do
    "$@" && return 0
    [ "$(date +%s%3N)" -ge "$end" ] && return 1
    sleep 0.05
  done
}
LONG=0
[ "${KREEK_SOAK:-0}" = 1 ] && LONG=1
for _arg in "$@"; do [ "$_arg" = --long ] && LONG=1; done
long() { if [ "$LONG" = 1 ]; then echo "$2"; else echo "$1"; fi; }

skip() {
  echo "SKIP: $(basename "$0" .sh): $*"
  exit 77
}
say() { echo "$(basename "$0" .sh): $(date +%T) $*" >&2; }
now_ms() { date +%s%3N; }

fault_tools() {
  local tool
  for tool in jq nc timeout python3 "$@"; do
    command -v "$tool" >/dev/null || skip "$tool is not installed"
  done
}

FAULT_NETNS=0
fault_cluster() {
  fault_tools
  if [ "${1:-}" = --netns ]; then
    source "$FAULT_SRC/lib/netns.sh"
    netns_usable || skip "$NETNS_WHY"
    FAULT_NETNS=1
    start_netns_cluster || { fail "the cluster did not start in network namespaces"; finish; }
  else
    start_cluster || { fail "the cluster did not start"; finish; }
  fi
  new_run main
}

# new_run NAME: a fresh log directory W for the next workload (several runs in one test).
new_run() {
  W=$TEST_TMP/run-$1
  mkdir -p "$W"
  : >"$W/faults.jsonl"
}

# restart_node N: broker N again, same port and data dir, wherever it ran.
restart_node() {
  if [ "$FAULT_NETNS" = 1 ]; then netns_restart_broker "b$1"; else restart_broker "b$1"; fi
}

# any_broker: the address of a broker that answers at once, skipping the node ids in
# FAULT_AVOID (a stopped or cut-off broker would hang or answer from a stale view).
FAULT_AVOID=""
quick_rpc() { printf '%s\n' "$2" | timeout 2 nc -N "${1%:*}" "${1##*:}" 2>/dev/null; }
any_broker() {
  local n a
  for n in 1 2 3; do
    [[ " $FAULT_AVOID " == *" $n "* ]] && continue
    a=b${n}_ADDR
    if quick_rpc "${!a}" '{"op":"hello"}' | grep -q '"ok":true'; then
      echo "${!a}"
      return 0
    fi
  done
  return 1
}
bootstrap() { echo "$b1_ADDR,$b2_ADDR,$b3_ADDR"; }

# fault_topic TOPIC RF [KEY=VALUE...]: 3 partitions, RF replicas, the given topic configs. When
# this build refuses replication_factor > 1 (no replication yet) the test ends with exit 77, or,
# with FAULT_FALLBACK_RF=1 set, goes on at RF 1 (FAULT_RF says which). KREEK_FAULT_RF=1 forces
# RF 1 and min.insync.replicas=1: a dry run of a scenario's plumbing on today's build.
fault_topic() {
  local topic=$1 rf=$2 out c
  shift 2
  local cfg=() raw=("${@/#min.insync.replicas=*/min.insync.replicas=1}")
  for c in "$@"; do
    if [ -n "${KREEK_FAULT_RF:-}" ] && [[ $c == min.insync.replicas=* ]]; then c=min.insync.replicas=1; fi
    cfg+=(-c "$c")
  done
  if [ -n "${KREEK_FAULT_RF:-}" ]; then
    say "dry run at RF $KREEK_FAULT_RF (KREEK_FAULT_RF): only the plumbing is tested"
    rf=$KREEK_FAULT_RF
  fi
  FAULT_TOPIC=$topic
  FAULT_RF=$rf
  if [ "${KREEK_FAULT_VIA_COORDINATOR:-}" = 1 ]; then
    # Straight to kzk-lite, past the broker's refusal of RF > 1: the topic then has RF 3 in the
    # metadata while no broker copies anything (control_no_replication.sh).
    local conf
    conf=$(printf '%s\n' "${raw[@]}" | jq -R 'select(length > 0) | split("=") | {(.[0]): (.[1:] | join("="))}' | jq -cs 'add // {}')
    out=$(rpc "$z_ADDR" "{\"op\":\"create_topic\",\"id\":1,\"topic\":\"$topic\",\"partitions\":3,\"replication_factor\":$rf,\"config\":$conf}")
    say "created $topic at the coordinator directly: $out"
    check "every partition of $topic has a leader and $rf in-sync replicas" wait_isr 20 "$rf"
    return
  fi
  out=$(timeout 20 ktopic -b "$b1_ADDR" create "$topic" -p 3 -r "$rf" "${cfg[@]}" 2>&1)
  if [ $? -ne 0 ]; then
    if [ "$rf" -gt 1 ] && grep -qi "replication factor.*\(does not offer\|not built\)" <<<"$out"; then
      if [ "${FAULT_FALLBACK_RF:-}" = 1 ]; then
        say "replication_factor > 1 refused by this build: going on at RF 1"
        fault_topic "$topic" 1 "${raw[@]}"
        return
      fi
      skip "replication_factor > 1 refused by this build, nothing to test yet ($out)"
    fi
    fail "create topic $topic with rf $rf: $out"
    finish
  fi
  check "every partition of $topic has a leader and $rf in-sync replicas" wait_isr 20 "$rf"
}

# partitions_json: the topic's partitions as one broker that answers sees them.
partitions_json() {
  local a
  a=$(any_broker) || return 1
  quick_rpc "$a" "{\"op\":\"metadata\",\"topics\":[\"$FAULT_TOPIC\"]}" |
    jq -c --arg t "$FAULT_TOPIC" '[.topics[] | select(.topic == $t) | .partitions[]]'
}
# leader_of P: partition P's leader node id (-1 while it has none).
leader_of() { partitions_json | jq -r --argjson p "$1" '.[] | select(.partition == $p) | .leader'; }
epoch_of() { partitions_json | jq -r --argjson p "$1" '.[] | select(.partition == $p) | .epoch'; }
isr_of() { partitions_json | jq -c --argjson p "$1" '.[] | select(.partition == $p) | .isr | sort'; }
# follower_of P: a replica of P that does not lead it.
follower_of() {
  partitions_json | jq -r --argjson p "$1" '.[] | select(.partition == $p) | (.leader as $l | [.replicas[] | select(. != $l)][0])'
}
# in_isr P N: node N is in partition P's ISR. acks_on P: acknowledged writes to P so far.
in_isr() { [ "$(partitions_json | jq --argjson p "$1" --argjson n "$2" 'any(.[]; .partition == $p and (.isr | index($n)) != null)')" = true ]; }
# (grep, not jq: the log is being appended to, and its last line may be half written)
acks_on() {
  local c
  c=$(grep -c "^{\"type\":\"ok\",.*\"partition\":$1," "$W/writes.jsonl" 2>/dev/null)
  echo "${c:-0}"
}
# wait_isr SECONDS N: every partition has a leader and at least N in-sync replicas.
wait_isr() {
  local secs=$1 n=$2
  wait_until "$secs" eval '[ "$(partitions_json | jq --argjson n "$n" "length > 0 and all(.leader >= 0 and (.isr | length) >= \$n)")" = true ]'
}

# start_workload [flags]: writers and readers against the topic until stop_workload.
start_workload() {
  python3 "$FAULT_SRC/workload.py" --bootstrap "$(bootstrap)" --topic "$FAULT_TOPIC" \
    run --out "$W" --duration 0 --stop-file "$W/stop" --coordinator "$z_ADDR" "$@" \
    2>"$W/workload.err" &
  WORKLOAD_PID=$!
  _started_pids+=("$WORKLOAD_PID")
  wait_until 10 eval '[ "$(acks_so_far)" -gt 0 ]' ||
    say "no write acknowledged yet after 10 s"
}
stop_workload() {
  touch "$W/stop"
  wait "$WORKLOAD_PID"
  check "the workload ended cleanly ($(tail -1 "$W/workload.err"))" test $? -eq 0
}
acks_so_far() {
  local c
  c=$(grep -c '"type":"ok"' "$W/writes.jsonl" 2>/dev/null)
  echo "${c:-0}"
}

# mark_fault WHAT NODE [PARTITION [FAILOVER]]: failover is timed from a mark whose FAILOVER is
# true (the default) to the acknowledgement of the first write sent after it to PARTITION (to
# each partition, taking the slowest, if none); so mark a fault once it has been done.
mark_fault() {
  local p=${3:-null} f=${4:-true}
  echo "{\"type\":\"fault\",\"what\":\"$1\",\"node\":$2,\"partition\":$p,\"failover\":$f,\"t\":$(now_ms)}" >>"$W/faults.jsonl"
  say "$1 node $2${3:+ (partition $3)}"
}

# final_check [checker flags]: waits for the cluster to heal (every replica back in sync), reads
# every partition through its leader, runs the checker over everything and every broker's data
# dir. Prints the checker's JSON line on stdout (also in $W/result.json); returns its status.
final_check() {
  wait_isr "${FAULT_HEAL_SECONDS:-30}" "$FAULT_RF" || say "not every replica is back in sync: $(partitions_json)"
  python3 "$FAULT_SRC/workload.py" --bootstrap "$(bootstrap)" --topic "$FAULT_TOPIC" \
    final-read --retry-seconds 30 --out-file "$W/final.jsonl" 2>>"$W/workload.err"
  local rc
  python3 "$FAULT_SRC/checker.py" --dir "$W" --topic "$FAULT_TOPIC" \
    --replica "b1=$b1_DIR" --replica "b2=$b2_DIR" --replica "b3=$b3_DIR" "$@" >"$W/result.json"
  rc=$?
  cat "$W/result.json"
  say "checker: $(jq -c '{acked,lost,duplicates,reordered,inconsistent_offsets,replica_divergence,phantom,max_unavailable_ms,failover_ms}' "$W/result.json")"
  return $rc
}

# wait_for_leader P ROUND: partition P has a leader (fails the run, returning 1, if none in 15 s).
wait_for_leader() {
  wait_until 15 eval "[ \"\$(leader_of $1)\" -ge 0 ]" && return 0
  fail "partition $1 has no leader before $2"
  return 1
}
# expect_new_leader P NODE WHAT SECONDS: with RF > 1, a replica other than NODE leads P in time.
expect_new_leader() {
  [ "$FAULT_RF" -gt 1 ] || return 0
  check "$3: another replica leads partition $1" \
    wait_until "$4" eval "[ \"\$(leader_of $1)\" -ge 0 ] && [ \"\$(leader_of $1)\" != $2 ]"
}
# expect_no_acks_from NODE T0 T1 WHAT: with RF > 1, node NODE acknowledged no write sent to it
# from T0 to T1 (ms) — it was paused or cut off and could not reach min.insync.replicas.
expect_no_acks_from() {
  [ "$FAULT_RF" -gt 1 ] || return 0
  local addr_var=b${1}_ADDR n
  n=$(jq -s --arg a "${!addr_var}" --argjson t0 "$2" --argjson t1 "$3" \
    '[.[] | select(.type == "ok" and .addr == $a and .sent >= $t0 and .sent < $t1)] | length' "$W/writes.jsonl")
  check "$4: node $1 acknowledged none of the writes sent to it meanwhile ($n)" test "$n" -eq 0
}
# end_safe_run: stop the workload, require every safety figure 0, stop the cluster, report.
end_safe_run() {
  sleep 1
  stop_workload
  expect_safe
  stop_cluster
  finish
}

# expect_safe: final_check must pass, with writes acknowledged at all.
expect_safe() {
  local json
  json=$(final_check "$@")
  check "the checker finds every safety figure 0: $json" test "$(jq -r .valid <<<"$json")" = true
  check "writes were acknowledged ($(jq .acked <<<"$json"))" test "$(jq .acked <<<"$json")" -gt 0
}
