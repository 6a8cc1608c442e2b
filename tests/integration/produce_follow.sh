#!/usr/bin/env bash
# kproduce --follow as a log shipper, used as a user would: a quoted glob over
# a log directory while the "application" (this script, through an open file
# descriptor, like a real logger) writes; rotation by a real `mv` (with late
# writes into the renamed file) and by copytruncate (cp + truncate); a new file
# the glob picks up; kproduce killed with -9 and restarted with --state during
# a burst; a graceful restart; the broker restarted meanwhile. A checker counts
# lost and duplicated lines: none lost anywhere, none duplicated except what a
# kill -9 had in flight (the state is replaced after every ack). Its negative control (a restart without --state on
# another topic) must show duplicates, proving the checker can fail.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/line_check.sh"
T=$TEST_TMP
L=$T/logs
mkdir -p "$L"

start_broker b
export KREEK_BROKERS=$b_ADDR
timeout 10 ktopic create logs -p 3 >/dev/null

: >"$T/written"
# write PREFIX FROM TO: lines PREFIX-N to the application's fd 3, and to the record.
write() {
  seq -f "$1-%g" "$2" "$3" | tee -a "$T/written" >&3
}
received() { timeout 30 kconsume -t "${1:-logs}" --format '%v\n' 2>/dev/null; }
# wait_count N [TOPIC]: until the topic holds at least N records (60 s at most);
# wait_unique N: at least N different lines (every written line is unique).
wait_count() {
  local i n
  for ((i = 0; i < 600; i++)); do
    n=$(received "${2:-logs}" | ${UNIQ:-cat} | wc -l)
    [ "$n" -ge "$1" ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $1 records in ${2:-logs} (have $n)" >&2
  return 1
}
wait_unique() { UNIQ="sort -u" wait_count "$@"; }
FOLLOW=(-t logs --follow "$L/*.log" --state "$T/state.json" --state-interval-ms 100
  --poll-interval-ms 200 --rotate-wait-ms 500 --source-headers)
start_shipper() {
  kproduce "${FOLLOW[@]}" -v 2>>"$T/k.err" &
  kpid=$!
  _started_pids+=("$kpid")
}

# Lines written before kproduce starts are shipped too (--read-from beginning).
exec 3>>"$L/app.log"
write a 1 2000
start_shipper
write a 2001 4000
check "lines already there and appended are shipped" wait_unique 4000
check "the state file names app.log" grep -q '"path":"'"$L"'/app.log"' "$T/state.json"
check "records carry file and host headers" \
  grep -qx "file=$L/app.log,host=$(hostname)" <(timeout 10 kconsume -t logs -n 1 --format '%h\n')

# Rotation by rename: the application writes a few more lines into the renamed
# file before it reopens app.log; app.log.1 no longer matches the glob.
mv "$L/app.log" "$L/app.log.1"
write a 4001 4500
exec 3>>"$L/app.log"
write a 4501 6000
# A new file the glob picks up, from its beginning.
seq -f 'other-%g' 1 500 | tee -a "$T/written" >"$L/other.log"
check "after mv rotation: late lines of the old file and the new file's lines arrive" wait_unique 6500

# copytruncate: copy, then truncate in place; the application's O_APPEND fd
# goes on writing at the new end.
cp "$L/app.log" "$L/app.log.2"
truncate -s 0 "$L/app.log"
write c 1 100
check "after copytruncate the file is read again from its start" wait_unique 6600
check "kproduce said it saw the truncation" grep -q "app.log: truncated" "$T/k.err"

# kill -9 during a burst, then a restart from the state file.
write k 1 100000 &
wpid=$!
sleep 0.3
kill -9 "$kpid"
wait "$kpid" 2>/dev/null
wait "$wpid"
start_shipper
check "after kill -9 and a restart every line arrives" wait_unique 106600

# A graceful restart (SIGTERM: flush, wait for acks, save) repeats nothing.
write g 1 1000
kill -TERM "$kpid"
wait "$kpid"
check "kproduce --follow exits 0 on SIGTERM" test $? -eq 0
write g 1001 2000
start_shipper
check "after a graceful restart every line arrives" wait_unique 108600

# The broker restarts while lines keep coming: the idempotent producer resends
# what was in flight without storing it twice.
write b 1 20000 &
wpid=$!
check "broker stops cleanly" stop_broker b
wait "$wpid"
write b 20001 30000
restart_broker b
check "after a broker restart every line arrives" wait_unique 138600
kill -TERM "$kpid"
wait "$kpid"
check "kproduce exits 0 after the broker outage" test $? -eq 0

received >"$T/received"
echo -n "all lines: "
line_check "$T/written" "$T/received"
for p in a other c k g b; do echo -n "  $p-*: "; line_check "$T/written" "$T/received" "^$p-" | sed 's/^/  /'; done
check "no line lost" test "$LC_LOST" -eq 0
echo -n "kill -9 burst: "
line_check "$T/written" "$T/received" '^k-'
# What can be in flight: 5 batches outstanding (idempotence caps it) plus an open
# batch per partition, of --batch-bytes (256 KiB) each, in records no smaller
# than this one's JSON.
rec='{"value":"k-1","headers":{"file":"'$L'/app.log","host":"'$(hostname)'"}},'
bound=$(((5 + 3) * 262144 / ${#rec}))
check "duplicates after kill -9 are at most what was in flight: $LC_DUP <= $bound" test "$LC_DUP" -le "$bound"
line_check "$T/written" "$T/received" '^[^k]' >/dev/null
check "no duplicates outside the kill -9 burst (rotation, truncation, graceful and broker restarts)" \
  test "$LC_DUP" -eq 0

# Negative control: the same follower without --state, restarted, on another topic.
exec 3>>"$L/app.log"
kproduce -t control --follow "$L/app.log" 2>>"$T/c.err" &
cpid=$!
_started_pids+=("$cpid")
n=$(wc -l <"$L/app.log")
check "control: first run ships the file" wait_count "$n" control
kill -9 "$cpid"
wait "$cpid" 2>/dev/null
kproduce -t control --follow "$L/app.log" 2>>"$T/c.err" &
cpid=$!
_started_pids+=("$cpid")
check "control: the restarted run reads the file again" wait_count $((2 * n)) control
kill -TERM "$cpid"
wait "$cpid"
received control >"$T/control"
echo -n "control: "
line_check "$L/app.log" "$T/control"
check "the checker sees the duplicates of a restart without --state" test "$LC_DUP" -gt 0
finish
