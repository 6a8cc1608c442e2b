#!/usr/bin/env bash
# kproduce --follow as a log shipper, used as a user would: a quoted glob over
# a log directory while the "application" (this script, through an open file
# descriptor, like a real logger) writes; rotation by a real `mv` (with late
# writes into the renamed file) and by copytruncate (cp + truncate); a new file
# the glob picks up; kproduce killed with -9 and restarted with --state during
# a burst, and again while the broker is stopped (SIGSTOP) with batches sent
# and unacknowledged; a graceful restart; the broker restarted meanwhile. A
# checker counts lost and duplicated lines: none lost, none duplicated, also
# after kill -9 (the journal STATE.inflight lets the restart resend what was
# in flight with the same producer id and sequence numbers). Its negative
# controls must show duplicates, proving the checker can fail: a restart
# without --state on another topic, and a kill -9 with batches in flight
# restarted from a state without producer fields (as an older kproduce wrote).
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

# kill -9 with batches certainly in flight: the broker is stopped, so nothing
# is acknowledged; once the journal shows a batch sent, kproduce is killed and
# the broker continues and stores what it had received. The restart resends
# those batches and the broker recognises them.
# kill9_in_flight PREFIX: that, for lines PREFIX-1..500.
# wait_for CMD SECONDS: until CMD succeeds.
wait_for() {
  local i
  for ((i = 0; i < $2 * 20; i++)); do
    "$1" && return 0
    sleep 0.05
  done
  echo "timed out waiting for $1" >&2
  return 1
}
journal_has_batch() { grep -q '^{"b"' "$T/state.json.inflight" 2>/dev/null; }
journal_settled() { ! journal_has_batch; }
kill9_in_flight() {
  wait_for journal_settled 30 || return 1
  kill -STOP "$b_PID"
  write "$1" 1 500
  wait_for journal_has_batch 30 || { kill -CONT "$b_PID"; return 1; }
  kill -9 "$kpid"
  wait "$kpid" 2>/dev/null
  kill -CONT "$b_PID"
}
check "kill -9 with batches sent and not acknowledged" kill9_in_flight s
start_shipper
check "after that restart every line arrives" wait_unique 107100
check "the restart resent what was in flight with the old producer id" grep -q "resuming producer id" "$T/k.err"

# A graceful restart (SIGTERM: flush, wait for acks, save) repeats nothing.
write g 1 1000
kill -TERM "$kpid"
wait "$kpid"
check "kproduce --follow exits 0 on SIGTERM" test $? -eq 0
write g 1001 2000
start_shipper
check "after a graceful restart every line arrives" wait_unique 109100

# The broker restarts while lines keep coming: the idempotent producer resends
# what was in flight without storing it twice.
write b 1 20000 &
wpid=$!
check "broker stops cleanly" stop_broker b
wait "$wpid"
write b 20001 30000
restart_broker b
check "after a broker restart every line arrives" wait_unique 139100
kill -TERM "$kpid"
wait "$kpid"
check "kproduce exits 0 after the broker outage" test $? -eq 0

received >"$T/received"
echo -n "all lines: "
line_check "$T/written" "$T/received"
for p in a other c k s g b; do echo -n "  $p-*: "; line_check "$T/written" "$T/received" "^$p-" | sed 's/^/  /'; done
check "no line lost" test "$LC_LOST" -eq 0
grep -E "resuming producer id|already had|new producer id" "$T/k.err" | sed 's/^/kproduce said: /'
echo -n "kill -9 burst: "
line_check "$T/written" "$T/received" '^k-'
check "no duplicates after kill -9 during a burst (the journal)" test "$LC_DUP" -eq 0
echo -n "kill -9 with batches in flight: "
line_check "$T/written" "$T/received" '^s-'
check "no duplicates after kill -9 with batches in flight (the journal)" test "$LC_DUP" -eq 0
line_check "$T/written" "$T/received" >/dev/null
check "no duplicates anywhere (rotation, truncation, kill -9, graceful and broker restarts)" test "$LC_DUP" -eq 0

# Negative control of the journal: the same kill -9 with batches in flight,
# restarted from a state without producer fields (an older kproduce's): the
# restart gets a new producer id, says so with -v, and what was in flight is
# stored twice.
start_shipper
exec 3>>"$L/app.log"
write n 0 0
check "control: the shipper runs again" wait_unique 139101
check "control: kill -9 with batches sent and not acknowledged" kill9_in_flight n
sed -i -E 's/"pid":[0-9]+,"pepoch":[0-9]+,//' "$T/state.json" "$T/state.json.live"
start_shipper
check "control: after the restart every line arrives" wait_unique 139601
check "control: -v says the journal is not used" grep -q "a new producer id" "$T/k.err"
kill -TERM "$kpid"
wait "$kpid"
received >"$T/received"
echo -n "control, kill -9 without the journal: "
line_check "$T/written" "$T/received" '^n-'
check "the checker sees the duplicates of a kill -9 without the journal" test "$LC_DUP" -gt 0
check "nothing lost there either" test "$LC_LOST" -eq 0

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
