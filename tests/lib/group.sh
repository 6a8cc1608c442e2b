# Helpers for the group_*.sh integration tests (bash; source after common.sh
# and cluster.sh): a 3-broker cluster with a small offsets topic, consumer
# group members in the background, and questions about the group.
#
#   start_group_cluster          # z + b1 b2 b3, offsets topic of 4 partitions, RF 3
#   start_member NAME GROUP TOPICS [kconsume flags...]
#                                # kconsume -g in the background: NAME_PID, output
#                                # "topic/partition offset value" lines in $T/NAME.out,
#                                # stderr (-v) in $T/NAME.err
#   describe_json GROUP          # ktopic group describe --json (asked of every broker in turn)
#   group_stable GROUP N P       # Stable, N members, P partitions assigned, disjoint
#   group_lag GROUP              # total lag, or "" when unknown
#   dup_lines FILES...           # "topic/partition offset" pairs printed more than once
#   produce_seq TOPIC FROM TO    # values rFROM..rTO into TOPIC, keyed kN so they spread over the partitions

GROUP_SESSION_MS=${GROUP_SESSION_MS:-2000}

start_group_cluster() {
  start_kzk z --session-timeout-ms "$SESSION_MS" --heartbeat-interval-ms "$HEARTBEAT_MS" || return 1
  local n
  for n in 1 2 3; do
    start_broker "b$n" --coordinator "$z_ADDR" --node-id "$n" \
      --offsets-topic-partitions 4 --offsets-topic-replication-factor 3 || return 1
  done
  ALL_BROKERS="$b1_ADDR,$b2_ADDR,$b3_ADDR"
  export KREEK_BROKERS=$ALL_BROKERS
}

start_member() {
  local name=$1 group=$2 topics=$3
  shift 3
  kconsume -g "$group" -t "$topics" --session-timeout-ms "$GROUP_SESSION_MS" --format '%t/%p %o %v\n' -v "$@" \
    >"$T/$name.out" 2>"$T/$name.err" &
  local pid=$!
  _started_pids+=("$pid")
  printf -v "${name}_PID" %s "$pid"
}

describe_json() {
  local addr out
  for addr in ${ALL_BROKERS//,/ }; do
    out=$(timeout 10 ktopic -b "$addr" group describe "$1" --json 2>/dev/null) && { echo "$out"; return 0; }
  done
  return 1
}

group_stable() {
  local d
  d=$(describe_json "$1") || return 1
  echo "$d" | jq -e --argjson n "$2" --argjson p "$3" '
    .state == "Stable" and (.members | length) == $n and
    ([.members[].assignment[]? | .topic as $t | .partitions[] | "\($t)/\(.)"] as $a
      | ($a | length) == $p and ($a | unique | length) == $p)' >/dev/null
}

group_lag() { describe_json "$1" | jq -r '.lag // empty'; }

dup_lines() { cat "$@" | awk '{ print $1, $2 }' | sort | uniq -d; }

produce_seq() {
  seq "$2" "$3" | awk '{ print "k" $1 " r" $1 }' | timeout 30 kproduce -t "$1" -K ' ' -b "$ALL_BROKERS"
}
