# Cluster helpers for the cluster_*.sh integration tests (bash; source it after
# common.sh): a kzk-lite with a short session plus brokers that join it, and
# the metadata questions the tests ask (who leads what, which state a broker is in).
#
#   start_cluster             # z (kzk-lite), b1 b2 b3 (node ids 1 2 3)
#   stop_cluster              # SIGTERM b1 b2 b3, then z; checks each exits 0
#   leaders ADDR TOPIC        # "[1,2,3,1,2,3]": partition i's leader, as ADDR sees it
#   broker_state ADDR NODE    # live, fenced, ... (describe_cluster), or "absent"
#   wait_until SECONDS CMD... # polls CMD every 50 ms until it succeeds; 1 on timeout
#   murmur2_mismatches N      # reads "PARTITION KEY" lines; prints how many are not
#                             # on Kafka's murmur2 partition of an N-partition topic

SESSION_MS=${SESSION_MS:-1500}
HEARTBEAT_MS=${HEARTBEAT_MS:-250}

start_cluster() {
  start_kzk z --session-timeout-ms "$SESSION_MS" --heartbeat-interval-ms "$HEARTBEAT_MS" || return 1
  local n
  for n in 1 2 3; do
    start_broker "b$n" --coordinator "$z_ADDR" --node-id "$n" || return 1
  done
}

stop_cluster() {
  local n
  for n in 1 2 3; do
    stop_broker "b$n"
    check "broker $n exits 0 on SIGTERM" test $? -eq 0
  done
  stop_broker z
  check "kzk-lite exits 0 on SIGTERM" test $? -eq 0
}

leaders() {
  rpc "$1" '{"op":"metadata","id":1}' |
    jq -c --arg t "$2" '[.topics[] | select(.topic == $t) | .partitions[] | .leader]'
}

broker_state() {
  local s
  s=$(rpc "$1" '{"op":"describe_cluster","id":1}' | jq -r --argjson n "$2" '[.brokers[] | select(.node == $n) | .state][0] // "absent"')
  echo "${s:-absent}"
}

wait_until() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 20; i++)); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}

# Kafka's default partitioner: murmur2 (seed 0x9747b28c) of the key's UTF-8
# bytes, & 0x7fffffff, mod the partition count. Written out here so that the
# test does not check kreek's partitioner against itself.
murmur2_mismatches() {
  python3 -c '
import sys
def murmur2(data):
    m, r, M = 0x5bd1e995, 24, 0xffffffff
    n = len(data)
    h = (0x9747b28c ^ n) & M
    for i in range(0, n - n % 4, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & M; k ^= k >> r; k = (k * m) & M
        h = (h * m) & M; h ^= k
    tail = n % 4
    if tail >= 3: h ^= data[n - n % 4 + 2] << 16
    if tail >= 2: h ^= data[n - n % 4 + 1] << 8
    if tail >= 1:
        h ^= data[n - n % 4]; h = (h * m) & M
    h ^= h >> 13; h = (h * m) & M; h ^= h >> 15
    return h
parts = int(sys.argv[1])
bad = 0
for line in sys.stdin:
    p, _, key = line.rstrip("\n").partition(" ")
    if (murmur2(key.encode()) & 0x7fffffff) % parts != int(p):
        bad += 1
print(bad)
' "$1"
}

# begin_cluster_test [TOOL...]: the tools a cluster test needs (jq, nc,
# timeout and any named), then start_cluster; ends the test at once if either
# is missing. Sets T to the test's temp dir.
begin_cluster_test() {
  local tool
  for tool in jq nc timeout "$@"; do
    check "$tool is installed" command -v "$tool" >/dev/null
  done
  [ "$FAILURES" -eq 0 ] || finish
  start_cluster || { fail "the cluster did not start"; finish; }
  T=$TEST_TMP
}

# ms_since NANOS: milliseconds since a `date +%s%N` reading.
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
