#!/usr/bin/env bash
# kproduce and kconsume -f across a 30 s broker outage, the README's first
# pipeline (tail -F | kproduce) as a FIFO that keeps getting lines: kproduce
# stops reading while it cannot deliver (the writer blocks) and loses nothing;
# followers, one started during the outage and one on a topic created only
# after it, wait and resume with no gap and no repeat; each says once that it
# waits and once that it recovered. Meanwhile, on a second broker, an expired
# --timeout makes kproduce exit 75 at once. One outage serves every case, so
# the script takes about 45 s.
source "$(dirname "$0")/../lib/common.sh"

start_broker b
start_broker d
T=$TEST_TMP
export KREEK_BROKERS=$b_ADDR
OUTAGE=${OUTAGE_SECONDS:-30}

timeout 10 ktopic create logs -p 1 >/dev/null

# The writer: a line every 20 ms into the FIFO (through tee, so $T/sent holds
# exactly what went into the pipe, in order); on $T/burst it writes 300,000
# lines at once (about 4 MB, far more than a pipe and kproduce's read buffer
# hold), then touches $T/burst-done; $T/stop ends it.
mkfifo "$T/fifo"
(
  i=0
  while [ ! -e "$T/stop" ]; do
    i=$((i + 1))
    echo "line-$i"
    if [ -e "$T/burst" ] && [ ! -e "$T/burst-done" ]; then
      seq -f "burst-%g" 1 300000
      touch "$T/burst-done"
    fi
    sleep 0.02
  done
) | tee "$T/sent" >"$T/fifo" &
_started_pids+=($!)

kproduce -t logs <"$T/fifo" 2>"$T/p.err" &
ppid=$!
_started_pids+=("$ppid")
kconsume -t logs -f >"$T/c1.out" 2>"$T/c1.err" &
c1=$!
_started_pids+=("$c1")
kconsume -t later -f >"$T/c2.out" 2>"$T/c2.err" &
c2=$!
_started_pids+=("$c2")
wait_for_line "$T/c1.out" '^line-20$' 10
wait_for_line "$T/c2.err" 'waiting for topic "later" to be created' 10
check "kconsume -f on a missing topic says it waits, once" \
  test "$(cat "$T/c2.err")" = 'kconsume: waiting for topic "later" to be created'
check "and did not create it" test ! -d "$b_DIR/later-0"

stop_broker b
outage_start=$(date +%s)
touch "$T/burst"

# Without -f, nothing waits: no broker is exit 69, as before.
timeout 10 kconsume -t logs >/dev/null 2>"$T/nof.err"
rc=$?
check "kconsume without -f and no broker exits 69 (got $rc: $(cat "$T/nof.err"))" test "$rc" -eq 69
# A follower started during the outage waits for the broker to come.
kconsume -t logs -f >"$T/c3.out" 2>"$T/c3.err" &
c3=$!
_started_pids+=("$c3")

# Meanwhile on broker d: --timeout runs out, kproduce exits 75 at once.
(i=0; while :; do i=$((i + 1)); echo "t-$i"; sleep 0.02; done) |
  kproduce -b "$d_ADDR" -t tmo --timeout 2000 2>"$T/tmo.err" &
tpid=$!
_started_pids+=("$tpid")
for _ in $(seq 1 500); do
  [ "$(timeout 10 kconsume -b "$d_ADDR" -t tmo 2>/dev/null | wc -l)" -ge 20 ] && break
  sleep 0.02
done
kill9_broker d
t0=$(date +%s%N)
wait "$tpid"
rc=$?
elapsed_ms=$((($(date +%s%N) - t0) / 1000000))
check "an expired --timeout exits 75 (got $rc)" test "$rc" -eq 75
check_bound "within the timeout plus 1.5 s, not at EOF (${elapsed_ms} ms)" test "$elapsed_ms" -lt 3500
check "saying how many records were not acknowledged ($(tail -n 1 "$T/tmo.err"))" \
  grep -Eq "^kproduce: error: [0-9]+ of [0-9]+ records not acknowledged: delivery timeout of 2000 ms expired: .* \(TIMEOUT\)$" "$T/tmo.err"

sleep 5
check "while the broker is down kproduce stops reading: the burst is not taken" test ! -e "$T/burst-done"
check "kproduce is still running" kill -0 "$ppid"
check "kconsume -f is still running" kill -0 "$c1"
check "a follower started during the outage is still running" kill -0 "$c3"
sleep $((OUTAGE - ($(date +%s) - outage_start)))
restart_broker b

# Everything written during the outage goes through; then the writer stops.
wait_for_line "$T/p.err" '^kproduce: delivering again$' 20
for _ in $(seq 1 1000); do [ -e "$T/burst-done" ] && break; sleep 0.02; done
check "after the restart the burst is read" test -e "$T/burst-done"
touch "$T/stop"
wait "$ppid"
rc=$?
check "kproduce exits 0 after the outage (got $rc: $(cat "$T/p.err"))" test "$rc" -eq 0
sent=$(wc -l <"$T/sent")
for f in c1 c3; do
  for _ in $(seq 1 1500); do
    [ "$(wc -l <"$T/$f.out")" -ge "$sent" ] && break
    sleep 0.02
  done
done
check "every one of $sent lines reached kconsume -f exactly once, in order" cmp -s "$T/sent" "$T/c1.out"
check "and the follower started during the outage has them all too" cmp -s "$T/sent" "$T/c3.out"

timeout 10 ktopic create later -p 1 >/dev/null
printf 'late-1\nlate-2\n' | timeout 10 kproduce -t later
wait_for_line "$T/c2.out" '^late-2$' 10
check "the follower of a missing topic reads it once it exists" \
  test "$(tr '\n' ' ' <"$T/c2.out")" = "late-1 late-2 "
check "and says so once" grep -q '^kconsume: topic "later" has appeared; following it$' "$T/c2.err"

for pid in "$c1" "$c2" "$c3"; do kill -INT "$pid"; done
for pid in "$c1" "$c2" "$c3"; do
  wait "$pid"
  check "SIGINT ends a follower with exit 0" test $? -eq 0
done

port=$b_PORT
check "kproduce said once that it waits ($(cat "$T/p.err"))" test "$(cat "$T/p.err")" = \
  "kproduce: waiting for broker 127.0.0.1:$port (Connection refused)
kproduce: delivering again"
check "kconsume -f said once that it waits ($(cat "$T/c1.err"))" test "$(cat "$T/c1.err")" = \
  "kconsume: waiting for broker 127.0.0.1:$port (Connection refused)
kconsume: reading again"
check "so did the follower started during the outage ($(cat "$T/c3.err"))" test "$(cat "$T/c3.err")" = \
  "kconsume: waiting for broker 127.0.0.1:$port (Connection refused)
kconsume: reading again"
finish
