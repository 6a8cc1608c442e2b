# Shared helpers for kreek's integration tests and benchmarks (bash; source it).
# Every broker a test starts listens on 127.0.0.1:0 with its own temp data dir;
# cleanup kills only the processes the test started and removes its temp files.
#
#   source "$KREEK_SRC/tests/lib/common.sh"
#   start_broker b1            # sets b1_PID, b1_PORT, b1_ADDR, b1_DIR, b1_LOG
#   start_broker b2 --flush-messages 1   # extra kbroker flags
#   restart_broker b1          # same dir and port
#   stop_broker b1             # SIGTERM; returns kbroker's exit status (0 expected)
#   kill9_broker b1
# start_broker waits BROKER_START_SECONDS (default 20) for the listening line,
# and gives up at once, showing the broker's log, if kbroker exits first.

set -uo pipefail

KREEK_SRC=${KREEK_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
KREEK_BIN=${KREEK_BIN:-$KREEK_SRC/build}
export PATH="$KREEK_BIN:$PATH"
unset KREEK_BROKERS

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kreek-test.XXXXXX")
_started_pids=()

cleanup() {
  local pid
  for pid in "${_started_pids[@]}"; do
    kill -9 "$pid" 2>/dev/null
  done
  wait 2>/dev/null
  rm -rf "$TEST_TMP"
}
trap cleanup EXIT

FAILURES=0
PASSES=0
fail() {
  echo "FAIL: $*" >&2
  FAILURES=$((FAILURES + 1))
}
pass() {
  PASSES=$((PASSES + 1))
}
# check "description" command...: runs the command, counts a pass or a failure.
check() {
  local what=$1
  shift
  if "$@"; then pass; else fail "$what"; fi
}
# check_bound WHAT CMD...: a check of time, memory or CPU. Under the
# sanitizers (make asan sets KREEK_SANITIZED) it is shown, not judged:
# shadow memory, a 256 MB quarantine of freed blocks and code several times
# slower move every such figure; what the test checks besides still counts.
check_bound() {
  if [ -n "${KREEK_SANITIZED:-}" ]; then
    echo "not judged under the sanitizers: $1" >&2
    return 0
  fi
  check "$@"
}
# Ends the script with the plain closing line; exit 1 on any failure.
finish() {
  echo "$(basename "$0" .sh): $PASSES passed, $FAILURES failed"
  # A failure on a machine we cannot log in to is explained by the logs of
  # the programs the test started.
  if [ "$FAILURES" -gt 0 ]; then
    local f
    for f in "$TEST_TMP"/*.log; do
      [ -s "$f" ] || continue
      echo "--- last lines of $(basename "$f"):" >&2
      tail -n 15 "$f" >&2
    done
  fi
  [ "$FAILURES" -eq 0 ]
  exit $?
}

# wait_for_line FILE REGEX [SECONDS]: polls until a line matches (no blind sleep).
wait_for_line() {
  local file=$1 re=$2 secs=${3:-10} i
  for ((i = 0; i < secs * 100; i++)); do
    grep -Eq "$re" "$file" 2>/dev/null && return 0
    sleep 0.01
  done
  echo "timed out waiting for /$re/ in $file" >&2
  return 1
}

# start_broker NAME [kbroker flags...]
start_broker() {
  local name=$1
  shift
  local dir log
  local port_var="${name}_PORT"
  dir="$TEST_TMP/$name"
  log="$TEST_TMP/$name.log"
  mkdir -p "$dir"
  local listen="127.0.0.1:${!port_var:-0}"
  : >"$log"
  kbroker --listen "$listen" --data-dir "$dir/data" "$@" 2>>"$log" &
  local pid=$!
  _started_pids+=("$pid")
  printf -v "${name}_PID" %s "$pid"
  printf -v "${name}_DIR" %s "$dir/data"
  printf -v "${name}_LOG" %s "$log"
  printf -v "${name}_FLAGS" %s "$*"
  _await_listening kbroker "$name" "$pid" "$log"
}

# _await_listening PROGRAM NAME PID LOG [IP]: waits for the "listening on IP:"
# line (IP defaults to 127.0.0.1) and sets NAME_PORT and NAME_ADDR; fails at
# once, showing the log, if PID exits.
_await_listening() {
  local program=$1 name=$2 pid=$3 log=$4 ip=${5:-127.0.0.1} port="" i
  for ((i = 0; i < ${BROKER_START_SECONDS:-20} * 100; i++)); do
    port=$(grep -Eo "info listening on ${ip//./\\.}:[0-9]+" "$log" | tail -n 1 | sed 's/.*://')
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.01
  done
  if [ -z "$port" ]; then
    echo "$program $name did not print its listening line:" >&2
    sed "s/^/  $name: /" "$log" >&2
    return 1
  fi
  printf -v "${name}_PORT" %s "$port"
  printf -v "${name}_ADDR" %s "$ip:$port"
}

# start_kzk NAME [kzk-lite flags...]: a coordinator on 127.0.0.1 with its own
# data dir; sets NAME_PID, NAME_PORT, NAME_ADDR, NAME_DIR, NAME_LOG, NAME_FLAGS.
# stop_broker, kill9_broker and restart_kzk work on it too.
start_kzk() {
  local name=$1
  shift
  local port_var="${name}_PORT"
  local dir="$TEST_TMP/$name" log="$TEST_TMP/$name.log"
  mkdir -p "$dir"
  : >"$log"
  kzk-lite --listen "127.0.0.1:${!port_var:-0}" --data-dir "$dir/meta" "$@" 2>>"$log" &
  local pid=$!
  _started_pids+=("$pid")
  printf -v "${name}_PID" %s "$pid"
  printf -v "${name}_DIR" %s "$dir/meta"
  printf -v "${name}_LOG" %s "$log"
  printf -v "${name}_FLAGS" %s "$*"
  _await_listening kzk-lite "$name" "$pid" "$log"
}

restart_kzk() {
  local name=$1
  local flags_var="${name}_FLAGS"
  # shellcheck disable=SC2086
  start_kzk "$name" ${!flags_var}
}

# restart_broker NAME: starts it again on the same port and data dir.
restart_broker() {
  local name=$1
  local flags_var="${name}_FLAGS"
  # shellcheck disable=SC2086
  start_broker "$name" ${!flags_var}
}

stop_broker() {
  local name=$1
  local pid_var="${name}_PID"
  local pid=${!pid_var}
  kill -TERM "$pid" 2>/dev/null
  wait "$pid"
}

kill9_broker() {
  local name=$1
  local pid_var="${name}_PID"
  kill -9 "${!pid_var}" 2>/dev/null
  wait "${!pid_var}" 2>/dev/null
  return 0
}

# expired_topic TOPIC: creates a one-partition topic whose closed segments
# retention deletes at once (the broker needs a short
# --retention-check-interval-ms), fills a few segments, and waits until the log
# start has moved past 0. Prints that log start; fails if it never moved.
# (Retention keeps running, so the log start may move on afterwards.)
expired_topic() {
  local topic=$1 i start=0
  timeout 10 ktopic create "$topic" -p 1 -c retention.ms=1 -c segment.bytes=4096 || return 1
  for i in 1 2 3 4; do
    head -c 3000 /dev/zero | tr '\0' r | fold -w 100 | timeout 10 kproduce -t "$topic" || return 1
  done
  for ((i = 0; i < 300; i++)); do
    start=$(timeout 10 ktopic describe "$topic" --json | grep -o '"log_start":[0-9]*' | cut -d: -f2)
    [ "${start:-0}" -gt 0 ] && break
    sleep 0.05
  done
  echo "${start:-0}"
  [ "${start:-0}" -gt 0 ]
}

# rpc ADDR 'json line'...: sends request lines, prints the response lines.
rpc() {
  local addr=$1
  shift
  printf '%s\n' "$@" | timeout 10 nc -N "${addr%:*}" "${addr##*:}"
}
