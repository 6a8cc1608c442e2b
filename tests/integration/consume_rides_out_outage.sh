#!/usr/bin/env bash
# A bounded read (no -f) rides out a leader that goes away in the middle of
# it for as long as a failover takes (10 s), then goes on where it was: the
# broker stops while kconsume has read part of a topic, comes back 4 s
# later, and kconsume still prints every record once and exits 0. It used to
# give up after five retries (2.5 s), shorter than the coordinator's 3 s
# session alone. With no broker at all it still fails, after those 10 s.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"  # wait_until
T=$TEST_TMP

start_broker b
export KREEK_BROKERS=$b_ADDR
timeout 10 ktopic create big -p 1 >/dev/null || fail "create big"
# 400,000 records of 100 bytes: 40 MB, ten fetches of 4 MiB.
line=$(printf '%090d' 0)
seq -f "%06g-$line" 1 400000 | timeout 60 kproduce -t big || fail "produce to big"

# The reader takes 1,000 lines, then nothing until $T/go exists: kconsume
# blocks on its full pipe, in the middle of the topic. (read, not head:
# head would take a block from the pipe and drop what it does not print.)
(
  for _ in $(seq 1000); do IFS= read -r l && printf '%s\n' "$l"; done
  while [ ! -e "$T/go" ]; do sleep 0.02; done
  cat
) >"$T/out" < <(kconsume -t big 2>"$T/err"; echo "exit $?" >"$T/rc") &
reader=$!
_started_pids+=("$reader")
wait_until 10 eval '[ "$(wc -l <"$T/out")" -ge 1000 ]' || { fail "the reader got no records"; finish; }

stop_broker b
touch "$T/go"  # kconsume drains its fetch, then finds no broker
sleep 4
restart_broker b
wait_until 60 test -s "$T/rc" || { fail "kconsume did not finish"; finish; }
wait "$reader"
check "kconsume exits 0 across the 4 s outage ($(cat "$T/rc"); $(head -c 300 "$T/err"))" \
  test "$(cat "$T/rc")" = "exit 0"
n=$(sort -u "$T/out" | wc -l)
check "every record printed once ($n distinct of $(wc -l <"$T/out"))" \
  eval '[ "$n" -eq 400000 ] && [ "$(wc -l <"$T/out")" -eq 400000 ]'

# Negative control: a broker that stays away ends the read, 69, after the ride-out.
start=$(date +%s%N)
(
  for _ in $(seq 1000); do IFS= read -r l; done
  while [ ! -e "$T/go2" ]; do sleep 0.02; done
  cat >/dev/null
) >/dev/null < <(kconsume -t big 2>"$T/err2"; echo "exit $?" >"$T/rc2") &
reader=$!
_started_pids+=("$reader")
sleep 1
stop_broker b
start=$(date +%s%N)
touch "$T/go2"
wait_until 30 test -s "$T/rc2" || { fail "kconsume did not give up"; finish; }
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
check "a broker that stays away is exit 69 ($(cat "$T/rc2"): $(head -c 200 "$T/err2"))" \
  test "$(cat "$T/rc2")" = "exit 69"
check "after riding it out for 10 s (${elapsed_ms} ms)" test "$elapsed_ms" -ge 9000
finish
