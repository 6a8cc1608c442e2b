#!/usr/bin/env bash
# kproduce --receipts: one JSON line per input record once acknowledged, in
# input order, whose partition and offset kconsume confirms hold that very
# line; "-" is stdout (input still comes from stdin); a refused record gets an
# error receipt in its place. Also the small --follow behaviours: a partial
# line is held until its newline or until --partial-wait-ms, --follow
# receipts name file, line and position, --read-from end with --state, and
# the flag checks.
source "$(dirname "$0")/../lib/common.sh"
T=$TEST_TMP
start_broker b
export KREEK_BROKERS=$b_ADDR
timeout 10 ktopic create r -p 3 >/dev/null

# Keyed lines spread over 3 partitions, so acks come back out of input order.
for i in $(seq 1 3000); do echo "k$((i % 7)):v$i"; done >"$T/in.txt"
timeout 30 kproduce -t r -K : --receipts "$T/rc" "$T/in.txt" 2>"$T/p.err"
check "kproduce with --receipts exits 0" test $? -eq 0
check "one receipt per input line" test "$(wc -l <"$T/rc")" -eq 3000
check "receipts come in input order" \
  test "$(jq -r .line "$T/rc" | tr '\n' ' ')" = "$(seq 1 3000 | tr '\n' ' ')"
check "receipts name the input file" test "$(jq -r .file "$T/rc" | sort -u)" = "$T/in.txt"
check "receipts carry the topic and a timestamp" \
  test "$(jq -r '[.topic, (.timestamp > 0)] | @tsv' "$T/rc" | sort -u)" = "$(printf 'r\ttrue')"
# Every receipt's partition/offset holds that input line: compare with kconsume.
timeout 30 kconsume -t r --format '%p %o %v\n' | sort >"$T/consumed"
jq -r '"\(.partition) \(.offset) v\(.line)"' "$T/rc" | sort >"$T/claimed"
check "each receipt's partition and offset hold its line (kconsume agrees)" cmp -s "$T/consumed" "$T/claimed"
check "the records went to more than one partition" test "$(cut -d' ' -f1 "$T/consumed" | sort -u | wc -l)" -gt 1

# --receipts -: stdout carries receipts only; input from stdin as usual.
out=$(seq 1 5 | timeout 10 kproduce -t r2 --receipts - 2>"$T/p2.err")
check "--receipts - prints one receipt per stdin line on stdout" test "$(wc -l <<<"$out")" -eq 5
check "stdin receipts have no file name: $(head -n 1 <<<"$out")" \
  test "$(jq -r 'has("file")' <<<"$out" | sort -u)" = false
check "stdin receipts are numbered from 1" test "$(jq -r .line <<<"$out" | tr '\n' ' ')" = "1 2 3 4 5 "
check "one batch of keyless records: consecutive offsets" \
  test "$(jq -r .offset <<<"$out" | tr '\n' ' ')" = "0 1 2 3 4 "

# A refused record (bad --json line) gets an error receipt in its place.
printf '%s\n' '{"value":"one"}' 'not json' '{"value":"three"}' >"$T/j.txt"
timeout 10 kproduce -t r3 --json --receipts "$T/rj" "$T/j.txt" 2>"$T/p3.err"
check "a refused record makes kproduce exit 65" test $? -eq 65
check "receipts: ok, error, ok, in input order" \
  test "$(jq -r '"\(.line):\(.error.code // "ok")"' "$T/rj" | tr '\n' ' ')" = "1:ok 2:CORRUPT_RECORD 3:ok "

# Flag checks.
timeout 10 kproduce -t r --acks 0 --receipts - </dev/null 2>"$T/e1"
check "--receipts with --acks 0 is a usage error" test $? -eq 64
timeout 10 kproduce -t r --state "$T/s.json" </dev/null 2>"$T/e2"
check "--state without --follow is a usage error" test $? -eq 64
timeout 10 kproduce -t r --follow 2>"$T/e3"
check "--follow without a FILE is a usage error" test $? -eq 64
timeout 10 kproduce -t r --follow "$T/x.log" --read-from middle 2>"$T/e4"
check "a bad --read-from is a usage error" test $? -eq 64
echo '{"version":1,"topic":"other","files":[]}' >"$T/other.json"
timeout 10 kproduce -t r --follow "$T/x.log" --state "$T/other.json" 2>"$T/e5"
rc=$?
check "a state file of another topic is refused: $(head -n 1 "$T/e5")" test $rc -eq 64
timeout 10 kproduce -t r --follow "$T/x.log" --state "$T/no/such/dir/s.json" 2>"$T/e6"
rc=$?
check "a state file that cannot be written is refused before reading: $(cat "$T/e6")" test $rc -eq 73

# --follow: receipts with file, line and position; partial lines.
: >"$T/f.log"
kproduce -t f --follow "$T/f.log" --receipts "$T/fr" --partial-wait-ms 700 2>"$T/f.err" &
fpid=$!
_started_pids+=("$fpid")
printf 'one\ntwo\n' >>"$T/f.log"
wait_for_line "$T/fr" '"line":2' 10
check "follow receipts name the file, line and byte position after the line" \
  test "$(jq -r '"\(.file) \(.line) \(.pos)"' "$T/fr" | tr '\n' ' ')" = "$T/f.log 1 4 $T/f.log 2 8 "
printf 'hel' >>"$T/f.log"
sleep 0.2
printf 'lo\n' >>"$T/f.log"
wait_for_line "$T/fr" '"line":3' 10
check "a line written in two pieces is one record" \
  test "$(timeout 10 kconsume -t f --format '%v\n' | tail -n 1)" = hello
printf 'no newline' >>"$T/f.log"
t0=$EPOCHREALTIME
wait_for_line "$T/fr" '"line":4' 10
held=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
check "a partial line is sent as is after --partial-wait-ms (held ${held} ms)" test "$held" -ge 500
check "and its record is the partial line" \
  test "$(timeout 10 kconsume -t f --format '%v\n' | tail -n 1)" = "no newline"
kill -TERM "$fpid"
wait "$fpid"
check "kproduce --follow exits 0 on SIGTERM" test $? -eq 0

# --read-from end: what a file held at start is skipped (line numbers still
# count it); --state then remembers the file, so a restart resumes instead.
seq -f 'old-%g' 1 50 >"$T/e.log"
kproduce -t e --follow "$T/e.log" --read-from end --state "$T/e.state" --receipts "$T/er" 2>"$T/e.err" &
epid=$!
_started_pids+=("$epid")
# No readiness line: the state file, saved at start, says where it begins.
check "the state records the start at the end (byte 341, line 50)" wait_for_line "$T/e.state" '"pos":341,"line":50' 10
printf 'new-1\nnew-2\n' >>"$T/e.log"
wait_for_line "$T/er" '"line":52' 10
check "--read-from end ships only lines written after start" \
  test "$(timeout 10 kconsume -t e --format '%v\n' | tr '\n' ' ')" = "new-1 new-2 "
check "and numbers them after the skipped ones" test "$(jq -r .line "$T/er" | tr '\n' ' ')" = "51 52 "
kill -TERM "$epid"
wait "$epid"
printf 'new-3\n' >>"$T/e.log"
kproduce -t e --follow "$T/e.log" --read-from end --state "$T/e.state" --receipts "$T/er2" 2>>"$T/e.err" &
epid=$!
_started_pids+=("$epid")
wait_for_line "$T/er2" '"line":53' 10
check "a restart with --state resumes after the last shipped line, --read-from end or not" \
  test "$(timeout 10 kconsume -t e --format '%v\n' | tr '\n' ' ')" = "new-1 new-2 new-3 "
kill -TERM "$epid"
wait "$epid"
finish
