#!/usr/bin/env bash
# The tools end to end against a real broker: 100,000 lines in and out byte for
# byte, nothing acknowledged lost to a restart or kill -9, `| head` ends quietly,
# -f sees new lines fast, --checkpoint exports only what is new, exit codes.
source "$(dirname "$0")/../lib/common.sh"

start_broker b
export KREEK_BROKERS=$b_ADDR
T=$TEST_TMP

# 100,000 lines of ~100 bytes, tabs, quotes, backslashes and UTF-8 included.
awk 'BEGIN { for (i = 1; i <= 100000; i++)
  printf "%07d \"q\" \\ tab\there é ü %s\n", i, substr("abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0123456789", 1, 70 + i % 7) }' >"$T/in.txt"
check "kproduce acknowledges 100,000 lines" timeout 60 kproduce -t lines "$T/in.txt"
timeout 60 kconsume -t lines >"$T/out.txt"
check "kconsume exits 0 at the end" test $? -eq 0
check "100,000 lines come back byte-identical and in order" cmp -s "$T/in.txt" "$T/out.txt"

# Restart, then kill -9: acknowledged records survive both.
stop_broker b
check "SIGTERM shuts the broker down with exit 0" test $? -eq 0
restart_broker b
timeout 60 kconsume -t lines >"$T/out2.txt"
check "nothing lost across a restart" cmp -s "$T/in.txt" "$T/out2.txt"
printf 'after-restart-%d\n' $(seq 1 1000) >"$T/more.txt"
check "produce after restart" timeout 30 kproduce -t lines "$T/more.txt"
kill9_broker b
restart_broker b
cat "$T/in.txt" "$T/more.txt" >"$T/all.txt"
timeout 60 kconsume -t lines >"$T/out3.txt"
check "nothing acknowledged lost to kill -9" cmp -s "$T/all.txt" "$T/out3.txt"

# | head -n 3 ends quietly.
timeout 30 kconsume -t lines 2>"$T/head.err" | head -n 3 >"$T/head.out"
rc=${PIPESTATUS[0]}
check "kconsume | head -n 3 exits 0 (got $rc)" test "$rc" -eq 0
check "kconsume | head -n 3 prints nothing on stderr" test ! -s "$T/head.err"
check "head got the first three lines" cmp -s "$T/head.out" <(head -n 3 "$T/in.txt")

# -f shows a line produced after it started within 100 ms: from the broker's
# append time (%T) to the moment the line is on kconsume's stdout.
echo warmup | kproduce -t follow
timeout 20 kconsume -t follow -f --from end --format '%T %v\n' >"$T/follow.out" 2>"$T/follow.err" &
fpid=$!
_started_pids+=("$fpid")
sleep 0.5 # let the follower reach the end and park its long poll
echo "fresh line" | kproduce -t follow --linger-ms 0 &
seen_ms=""
for ((i = 0; i < 10000; i++)); do
  if grep -q "fresh line" "$T/follow.out"; then
    seen_ms=$(($(date +%s%N) / 1000000))
    break
  fi
done
wait $! 2>/dev/null
kill "$fpid" 2>/dev/null
wait "$fpid" 2>/dev/null
check "kconsume -f shows a line produced after it started" grep -q "fresh line" "$T/follow.out"
append_ms=$(awk '/fresh line/ { print $1 }' "$T/follow.out")
latency=$((${seen_ms:-0} - ${append_ms:-0}))
echo "kconsume -f latency from append to stdout: ${latency} ms"
check_bound "kconsume -f latency under 100 ms (${latency} ms)" test "$latency" -ge 0 -a "$latency" -lt 100

# --checkpoint exports only what is new.
printf 'one\ntwo\n' | kproduce -t cron
timeout 30 kconsume -t cron --checkpoint "$T/cp.json" >"$T/cron1"
printf 'three\n' | kproduce -t cron
timeout 30 kconsume -t cron --checkpoint "$T/cp.json" >"$T/cron2"
timeout 30 kconsume -t cron --checkpoint "$T/cp.json" >"$T/cron3"
check "first export has the first two" test "$(cat "$T/cron1")" = $'one\ntwo'
check "second export has only the new record" test "$(cat "$T/cron2")" = three
check "third export is empty" test ! -s "$T/cron3"

# -n, --from, -c, --json round trip.
check "-n 2 prints the last two" test "$(timeout 30 kconsume -t lines -n 2 | wc -l)" -eq 2
check "--from 99999 -c 1 prints line 100,000" \
  test "$(timeout 30 kconsume -t lines --from 99999 -c 1)" = "$(sed -n 100000p "$T/in.txt")"
timeout 30 kconsume -t cron --json | kproduce -t cron-copy --json
check "--json output reads back with kproduce --json" \
  test "$(timeout 30 kconsume -t cron-copy)" = $'one\ntwo\nthree'

# Exit codes: no broker 69, bad flag 64, missing topic 66.
timeout 10 kconsume -b 127.0.0.1:1 -t x 2>"$T/e69"
check "no broker: exit 69" test $? -eq 69
check "no broker: one line on stderr" test "$(wc -l <"$T/e69")" -eq 1
timeout 10 kproduce --no-such-flag </dev/null 2>/dev/null
check "bad flag: exit 64" test $? -eq 64
timeout 10 kconsume -t does-not-exist 2>/dev/null
check "missing topic: exit 66" test $? -eq 66
finish
