#!/usr/bin/env bash
# A moment without free descriptors must not take a partition offline: the
# flush that cannot open the partition directory (EMFILE) is tried again, the
# produce waiting on it is acknowledged once a descriptor is free, and the
# partition keeps taking produce. The broker's open-file limit is lowered
# from outside with prlimit(1) to its lowest free descriptor, so no new file
# can be opened, then put back.
source "$(dirname "$0")/../lib/common.sh"

if ! command -v prlimit >/dev/null; then
  echo "storage_fd_shortage: skipped (no prlimit)"
  exit 0
fi

# UBSan checks a dynamic type by reading memory through a pipe(2): in a
# broker with no descriptor free it reports a false "invalid vptr" and
# aborts. So this runs in the normal build only (exit 77: skipped).
if [ -n "${KREEK_SANITIZED:-}" ]; then
  echo "storage_fd_shortage: skipped under the sanitizers (they need descriptors of their own)"
  exit 77
fi

start_broker b
check "broker started" test -n "${b_PID:-}"
check "kbroker raised its soft open-file limit to the hard limit" \
  test "$(awk '/Max open files/ { print $4 }' "/proc/$b_PID/limits")" = \
       "$(awk '/Max open files/ { print $5 }' "/proc/$b_PID/limits")"

# One connection, opened while descriptors are plentiful, carries everything.
exec 3<>"/dev/tcp/127.0.0.1/$b_PORT"
reply() { local line; read -r -t 10 line <&3 && printf '%s\n' "$line"; }
printf '%s\n' '{"op":"create_topic","id":1,"topic":"greetings","partitions":1,"config":{"flush.messages":"1"}}' >&3
created=$(reply)
check "topic created: $created" grep -q '"ok":true' <<<"$created"

lowest_free_fd() {
  local n=0
  while [ -e "/proc/$1/fd/$n" ]; do n=$((n + 1)); done
  echo "$n"
}
hard=$(awk '/Max open files/ { print $5 }' "/proc/$b_PID/limits")
low=$(lowest_free_fd "$b_PID")
prlimit --pid "$b_PID" --nofile="$low:$hard"
check "no descriptor is free in the broker (limit $low)" \
  test "$(awk '/Max open files/ { print $4 }' "/proc/$b_PID/limits")" = "$low"

# The new segment's directory entry still needs its directory fsync, which
# needs a descriptor for the directory.
produce='{"op":"produce","id":2,"topic":"greetings","partition":0,"crc":3886947403,"records":[{"key":"greeting","value":"hello"},{"value":"world","headers":{"lang":"en"}}]}'
printf '%s\n' "$produce" >&3
check "the broker says the flush is put off" wait_for_line "$b_LOG" 'flush greetings/0 .*Too many open files' 10
early=""
read -r -t 0.3 early <&3
check "and sends no answer while it cannot flush (got: ${early:-nothing})" test -z "$early"
prlimit --pid "$b_PID" --nofile="$hard:$hard"
acked=$(reply)
check "the produce is acknowledged once descriptors are free again: $acked" \
  grep -q '"ok":true,"partition":0,"base":0' <<<"$acked"
printf '%s\n' "${produce/\"id\":2/\"id\":3}" >&3
again=$(reply)
check "the partition still takes produce: $again" grep -q '"ok":true,"partition":0,"base":2' <<<"$again"
check "nothing was taken offline" bash -c "! grep -q offline '$b_LOG'"
exec 3>&-

stop_broker b
check "clean shutdown" test $? = 0
restart_broker b
out=$(timeout 10 kconsume -b "$b_ADDR" -t greetings --format '%v\n' 2>&1)
check "all four records are there after a restart: $out" test "$(wc -l <<<"$out")" = 4
stop_broker b
finish
