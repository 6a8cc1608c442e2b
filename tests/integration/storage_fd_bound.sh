#!/usr/bin/env bash
# The descriptor bound: a broker under `ulimit -n 256` holding far more
# segments than that (one partition, 4 KiB segments) appends them all and
# serves reads from every one of them, before and after a restart, while
# --max-open-segments keeps the descriptors its closed segments hold open
# (reopened on demand) under the limit.
source "$(dirname "$0")/../lib/common.sh"

LIMIT=256
BOUND=${FD_BOUND:-32}
RECORDS=30000

# The broker inherits the limit from a subshell; the test itself is not limited.
start_limited() {
  local name=$1
  shift
  (ulimit -n "$LIMIT" && start_broker "$name" "$@" && echo "$b_PID $b_PORT" >"$TEST_TMP/$name.started"
   wait) &
  _started_pids+=("$!")
  for _ in $(seq 1 2000); do
    [ -s "$TEST_TMP/$name.started" ] && break
    sleep 0.01
  done
  read -r b_PID b_PORT <"$TEST_TMP/$name.started" || return 1
  rm -f "$TEST_TMP/$name.started"
  _started_pids+=("$b_PID")
  b_ADDR=127.0.0.1:$b_PORT
}

fds_of() { find "/proc/$1/fd" -mindepth 1 2>/dev/null | wc -l; }

start_limited b --max-open-segments "$BOUND" --segment-bytes 4096
check "broker started under ulimit -n $LIMIT" test -n "${b_PID:-}"
check "the broker runs with the limit" \
  test "$(awk '/Max open files/ { print $4 }' "/proc/$b_PID/limits")" = "$LIMIT"

seq -f 'record %06g padded out to about eighty bytes xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' 0 $((RECORDS - 1)) \
  >"$TEST_TMP/in.txt"
timeout 60 kproduce -b "$b_ADDR" -t many --batch-bytes 2000 "$TEST_TMP/in.txt"
check "kproduce acknowledged every record" test $? = 0
segs=$(find "$TEST_TMP/b/data/many-0" -name '*.log' | wc -l)
check "far more segments ($segs) than the descriptor limit ($LIMIT)" test "$segs" -gt $((LIMIT * 2))

# Every record back, in order, from every segment.
check_all() {
  timeout 60 kconsume -b "$b_ADDR" -t many >"$TEST_TMP/out.txt" 2>"$TEST_TMP/out.err"
  check "kconsume read every record $1: $(tail -n 1 "$TEST_TMP/out.err")" cmp -s "$TEST_TMP/in.txt" "$TEST_TMP/out.txt"
  local fds
  fds=$(fds_of "$b_PID")
  check "broker holds $fds descriptors $1 (bound $BOUND, limit $LIMIT)" test "$fds" -lt $((BOUND + 40))
}
check_all "after appending"

# Reads that jump between far-apart segments, each reopening a closed file.
ok=1
for off in 29999 5 15000 120 27777 3 22222 9999 1 29000; do
  line=$(timeout 10 kconsume -b "$b_ADDR" -t many --from "$off" -c 1)
  [ "$line" = "$(sed -n "$((off + 1))p" "$TEST_TMP/in.txt")" ] || { ok=0; echo "offset $off: got '$line'" >&2; }
done
check "single reads at scattered offsets get the right record" test "$ok" = 1

kill -TERM "$b_PID"
for _ in $(seq 1 1000); do kill -0 "$b_PID" 2>/dev/null || break; sleep 0.01; done
wait 2>/dev/null
check "clean shutdown" bash -c "! kill -0 $b_PID 2>/dev/null"
start_limited b --max-open-segments "$BOUND" --segment-bytes 4096
check "restarted under ulimit -n $LIMIT" test -n "${b_PID:-}"
check_all "after a restart"
kill -TERM "$b_PID"
for _ in $(seq 1 1000); do kill -0 "$b_PID" 2>/dev/null || break; sleep 0.01; done
wait 2>/dev/null
finish
