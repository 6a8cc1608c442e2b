#!/usr/bin/env bash
# kproduce and kconsume under the conditions they meet in use: a slow pipe
# (tail -F style) delivered line by line within the linger time, acks=0, an
# oversized record among good ones, a broker that restarts or dies mid-run,
# several inputs, SIGINT on a follower (checkpoint written, exit 0), a follower
# behind `head`, and OFFSET_OUT_OF_RANGE with and without --reset.
source "$(dirname "$0")/../lib/common.sh"

start_broker b --segment-bytes 4096 --retention-check-interval-ms 100
export KREEK_BROKERS=$b_ADDR
T=$TEST_TMP

# wait_count TOPIC N: polls until the topic holds N records (bounded).
wait_count() {
  local i
  for ((i = 0; i < 500; i++)); do
    [ "$(timeout 10 kconsume -t "$1" | wc -l)" -ge "$2" ] && return 0
    sleep 0.01
  done
  return 1
}

# A slow pipe: each line reaches a follower while kproduce is still running
# (the pipe stays open 1.2 s), not when the pipe closes.
echo start | timeout 10 kproduce -t slow
timeout 30 kconsume -t slow -f >"$T/slow.out" &
fpid=$!
_started_pids+=("$fpid")
wait_for_line "$T/slow.out" '^start$' 10
(for i in 1 2 3; do echo "slow-$i"; sleep 0.4; done) | timeout 20 kproduce -t slow --linger-ms 5 &
ppid=$!
_started_pids+=("$ppid")
wait_for_line "$T/slow.out" '^slow-1$' 10
check "the first piped line is delivered while the pipe is still open" kill -0 "$ppid"
wait "$ppid"
check "kproduce on a pipe exits 0" test $? -eq 0
wait_for_line "$T/slow.out" '^slow-3$' 10
kill "$fpid" 2>/dev/null
wait "$fpid" 2>/dev/null
check "all piped lines arrive in order" test "$(tr '\n' ' ' <"$T/slow.out")" = "start slow-1 slow-2 slow-3 "

# acks=0 still delivers (nothing to wait for).
seq 1 10000 | timeout 20 kproduce -t fire --acks 0
check "acks=0 exits 0" test $? -eq 0
check "acks=0 records arrive" wait_count fire 10000

# One record over max.message.bytes fails alone; the rest go through.
{
  echo small-1
  head -c 1100000 /dev/zero | tr '\0' x
  echo
  echo small-2
} >"$T/big.txt"
timeout 20 kproduce -t big "$T/big.txt" 2>"$T/big.err"
check "an oversized record makes kproduce exit 65" test $? -eq 65
check "the error counts the unacknowledged record ($(cat "$T/big.err"))" \
  grep -q "^kproduce: error: 1 of 3 records not acknowledged: .*(MESSAGE_TOO_LARGE)$" "$T/big.err"
check "the other records are delivered" test "$(timeout 10 kconsume -t big | tr '\n' ' ')" = "small-1 small-2 "

# Several inputs, '-' for stdin, a fixed partition.
check "create multi" timeout 10 ktopic create multi -p 3
printf 'a\nb' >"$T/f1"
printf 'c\n' >"$T/f2"
echo stdin-line | timeout 10 kproduce -t multi -p 1 "$T/f1" - "$T/f2"
check "files and stdin in order, final line without newline kept" \
  test "$(timeout 10 kconsume -t multi -p 1 | tr '\n' ' ')" = "a b stdin-line c "
timeout 10 kproduce -t multi "$T/no-such-file" 2>"$T/nofile"
check "a missing input file is exit 66" test $? -eq 66
check "and names the file" grep -q "open $T/no-such-file: No such file or directory" "$T/nofile"

# A broker restart in the middle of a run: retries deliver everything.
(seq 1 50000; sleep 1; seq 50001 100000) | timeout 60 kproduce -t restart &
ppid=$!
_started_pids+=("$ppid")
sleep 0.5
stop_broker b
restart_broker b
wait "$ppid"
check "kproduce survives a broker restart (exit 0)" test $? -eq 0
check "every record arrives at least once" \
  test "$(timeout 30 kconsume -t restart | sort -u | wc -l)" -eq 100000

# Restarts while batches are in flight: with --max-in-flight 1 every record still
# arrives, and the first copy of each comes in input order (retries may add
# duplicates, never reorder).
ktopic create ordered -p 1 >/dev/null
(for chunk in $(seq 0 59); do seq $((chunk * 500 + 1)) $((chunk * 500 + 500)); sleep 0.05; done) |
  timeout 60 kproduce -t ordered --max-in-flight 1 --linger-ms 1 2>"$T/ordered.err" &
ppid=$!
_started_pids+=("$ppid")
for _ in 1 2; do
  sleep 0.6
  stop_broker b
  restart_broker b
done
wait "$ppid"
rc=$?
check "kproduce --max-in-flight 1 survives two restarts (exit $rc: $(tail -n 1 "$T/ordered.err"))" test "$rc" -eq 0
timeout 30 kconsume -t ordered | awk '!seen[$0]++' >"$T/ordered.out"
check "first copies of 30,000 records in input order across restarts" \
  cmp -s "$T/ordered.out" <(seq 1 30000)

# A broker that dies for good: once --timeout runs out kproduce says how many
# were lost and exits 75 without reading the rest of its input.
(seq 1 20000; sleep 1; seq 20001 40000) | timeout 60 kproduce -t dies --timeout 2000 2>"$T/dies.err" &
ppid=$!
_started_pids+=("$ppid")
sleep 0.5
kill9_broker b
wait "$ppid"
rc=$?
check "kproduce exits 75 when the broker is gone past --timeout (got $rc)" test "$rc" -eq 75
check "and says how many records were not acknowledged ($(cat "$T/dies.err"))" \
  grep -Eq "^kproduce: error: [0-9]+ of [0-9]+ records not acknowledged: delivery timeout of 2000 ms expired: cannot connect to .* \(TIMEOUT\)$" "$T/dies.err"
restart_broker b

# SIGINT on a follower: exit 0, output flushed, checkpoint written.
printf 'one\ntwo\n' | timeout 10 kproduce -t follow
# No timeout(1) wrapper here: SIGINT must reach kconsume itself, not timeout.
kconsume -t follow -f --checkpoint "$T/cp.json" >"$T/follow.out" 2>"$T/follow.err" &
cpid=$!
_started_pids+=("$cpid")
wait_for_line "$T/follow.out" '^two$' 10
kill -INT "$cpid"
wait "$cpid"
rc=$?
check "SIGINT ends kconsume -f with exit 0 (got $rc: $(cat "$T/follow.err"))" test "$rc" -eq 0
check "the checkpoint holds the next offset ($(cat "$T/cp.json" 2>&1))" grep -q '"offsets":{"0":2}' "$T/cp.json"
echo three | timeout 10 kproduce -t follow
check "the next run resumes from the checkpoint" \
  test "$(timeout 10 kconsume -t follow --checkpoint "$T/cp.json")" = three

# A follower behind head: ends quietly when head has its line.
timeout 20 kconsume -t follow -f 2>"$T/fhead.err" | head -n 1 >"$T/fhead.out"
check "kconsume -f | head -n 1 exits 0 ($((PIPESTATUS[0])))" test "${PIPESTATUS[0]}" -eq 0
check "and prints nothing on stderr" test ! -s "$T/fhead.err"

# Retention moves the log start: asking for offset 0 is out of range. (Retention
# keeps running meanwhile, so the exact log start is not pinned down.)
start=$(expired_topic retained)
check "retention moved the log start (${start:-0})" test "${start:-0}" -gt 0
timeout 10 kconsume -t retained --from 0 >/dev/null 2>"$T/oor.err"
check "an out-of-range start is exit 65" test $? -eq 65
check "the message gives the valid range ($(cat "$T/oor.err"))" \
  grep -Eq "^kconsume: error: retained/0: offset 0 is out of range \[[1-9][0-9]*, [0-9]+\]; use --reset earliest\|latest \(OFFSET_OUT_OF_RANGE\)$" "$T/oor.err"
# (retention.ms=1 expires even the quiet active segment, as Kafka does, so
# what is left to read after the reset may be nothing.)
timeout 10 kconsume -t retained --from 0 --reset earliest >/dev/null 2>"$T/reset.err"
check "--reset earliest jumps to the log start and reads on (exit $?)" test $? -eq 0
check "and says so on stderr ($(cat "$T/reset.err"))" grep -Eq "retained/0: offset 0 is out of range \[[1-9][0-9]*, [0-9]+\], reset to [1-9][0-9]*$" "$T/reset.err"
check "-q silences the reset notice" \
  test -z "$(timeout 10 kconsume -q -t retained --from 0 --reset earliest 2>&1 >/dev/null)"
finish
