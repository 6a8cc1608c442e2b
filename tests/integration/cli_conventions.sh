#!/usr/bin/env bash
# The tools behave as users of Kafka, kcat and coreutils expect: common flags
# before or after a ktopic command, start positions outside the log fail
# loudly (exit 65, the valid range named) unless --reset says where to go,
# usage names the tool rather than argv[0]'s path, describe's text and --json
# agree, and the usual Unix edges (bad flags, no broker, a closed pipe,
# SIGTERM, '-' for stdin, --version) end the way a serious tool's do.
source "$(dirname "$0")/../lib/common.sh"

start_broker b --segment-bytes 4096 --retention-check-interval-ms 100
T=$TEST_TMP
A=$b_ADDR

# --- common flags before and after the ktopic command ----------------------
# No KREEK_BROKERS here, so only -b can find the broker.
check "ktopic -b H:P create" timeout 10 ktopic -b "$A" create logs -p 2
check "ktopic -b H:P list" grep -qx logs <(timeout 10 ktopic -b "$A" list)
check "ktopic list -b H:P" grep -qx logs <(timeout 10 ktopic list -b "$A")
check "ktopic list --brokers=H:P" grep -qx logs <(timeout 10 ktopic list --brokers="$A")
check "ktopic describe NAME -b H:P" grep -q '^topic logs ' <(timeout 10 ktopic describe logs -b "$A")
check "ktopic describe -b H:P NAME" grep -q '^topic logs ' <(timeout 10 ktopic describe -b "$A" logs)
check "ktopic alter NAME -c K=V -b H:P -v" timeout 10 ktopic alter logs -c retention.ms=3600000 -b "$A" -v
check "ktopic create NAME -b H:P -p N" timeout 10 ktopic create other -b "$A" -p 3
check "ktopic delete NAME -q -b H:P" timeout 10 ktopic delete other -q -b "$A"
timeout 10 ktopic list -b 2>"$T/nob.err"
check "-b without a value after the command is a usage error (exit 64)" test $? -eq 64
check "ktopic describe --help mentions the common options" \
  grep -q -- '-b/--brokers' <(timeout 10 ktopic describe --help)

export KREEK_BROKERS=$A

# --- start positions outside the log ---------------------------------------
seq 1 120 | timeout 10 kproduce -t logs -p 0
seq 1 30 | timeout 10 kproduce -t logs -p 1
timeout 10 kconsume -t logs -p 0 --from 500 >"$T/oor.out" 2>"$T/oor.err"
check "--from past the log end is exit 65" test $? -eq 65
check "and prints no records" test ! -s "$T/oor.out"
check "one line names the range and the way on ($(cat "$T/oor.err"))" test "$(cat "$T/oor.err")" = \
  "kconsume: error: logs/0: offset 500 is out of range [0, 120]; use --reset earliest|latest (OFFSET_OUT_OF_RANGE)"
timeout 10 kconsume -t logs --from 500 2>"$T/oor2.err" >/dev/null
check "several partitions: exit 65" test $? -eq 65
check "several partitions: one line, first partition named, the rest counted ($(cat "$T/oor2.err"))" \
  test "$(wc -l <"$T/oor2.err")" -eq 1 -a -n "$(grep -F 'logs/0: offset 500 is out of range [0, 120] (and 1 more partition)' "$T/oor2.err")"
timeout 10 kconsume -t logs --from 100 2>"$T/oor3.err" >/dev/null
check "an offset valid in one partition and not the other still fails (exit 65)" test $? -eq 65
check "naming the partition it is not valid in ($(cat "$T/oor3.err"))" \
  grep -qF 'logs/1: offset 100 is out of range [0, 30];' "$T/oor3.err"
timeout 10 kconsume -t logs -f --from 500 -p 0 >/dev/null 2>&1
check "-f with --from past the end fails at once too (exit 65, not a wait)" test $? -eq 65
check "--from at the log end is valid and prints nothing" test -z "$(timeout 10 kconsume -t logs -p 0 --from 120)"
out=$(timeout 10 kconsume -t logs -p 0 --from 500 --reset latest 2>"$T/latest.err")
check "--reset latest: exit 0, nothing printed" test $? -eq 0 -a -z "$out"
check "--reset latest says where it went ($(cat "$T/latest.err"))" \
  grep -qx 'kconsume: warning: logs/0: offset 500 is out of range \[0, 120\], reset to 120' "$T/latest.err"
check "--reset earliest reads the partition from its start" \
  test "$(timeout 10 kconsume -q -t logs -p 0 --from 500 --reset earliest | wc -l)" -eq 120
check "--reset latest with -f follows new records" bash -c "
  timeout 10 kconsume -q -t logs -p 0 --from 500 --reset latest -f -c 1 >'$T/fl.out' &
  sleep 0.5; echo fresh | kproduce -t logs -p 0; wait \$!; [ \"\$(cat '$T/fl.out')\" = fresh ]"
check "-n never goes out of range" test "$(timeout 10 kconsume -t logs -p 1 -n 1000 | wc -l)" -eq 30

# A checkpoint older than the log start: retention deleted records after the
# last export. Not skipped silently: exit 65 and the checkpoint left as it was,
# until --reset earliest says to go on from the oldest record still kept.
start=$(expired_topic retained)
check "retention moved the log start (${start:-0})" test "${start:-0}" -gt 0
echo '{"topic":"retained","offsets":{"0":0}}' >"$T/cp.json"
timeout 10 kconsume -t retained --checkpoint "$T/cp.json" >"$T/cp.out" 2>"$T/cp.err"
check "a checkpoint below the log start is exit 65" test $? -eq 65
check "naming the range ($(cat "$T/cp.err"))" \
  grep -Eq '^kconsume: error: retained/0: offset 0 is out of range \[[1-9][0-9]*, [0-9]+\]; use --reset' "$T/cp.err"
check "the checkpoint is left as it was" test "$(cat "$T/cp.json")" = '{"topic":"retained","offsets":{"0":0}}'
timeout 10 kconsume -t retained --checkpoint "$T/cp.json" --reset earliest >"$T/cp.out" 2>"$T/cp.err"
# (retention.ms=1 may have expired even the last record: the active segment
# of a quiet partition expires too, so what follows may be nothing.)
check "--reset earliest goes on from the log start (exit $?)" test $? -eq 0
check "and the checkpoint moves past the gap ($(cat "$T/cp.json"))" \
  test "$(jq '.offsets["0"]' "$T/cp.json")" -ge "$start"
check "and warns about the gap ($(cat "$T/cp.err"))" grep -q 'retained/0: offset 0 is out of range .*, reset to' "$T/cp.err"
check "and the checkpoint moved past what was printed" grep -Eq '"0":[1-9][0-9]*' "$T/cp.json"

# --- usage names the tool, not argv[0]'s path ------------------------------
for tool in kbroker ktopic kproduce kconsume; do
  check "$tool --help via ./$tool says 'Usage: $tool'" \
    grep -q "^Usage: $tool " <(cd "$KREEK_BIN" && timeout 5 "./$tool" --help)
  check "$tool --help via its full path says 'Usage: $tool'" \
    grep -q "^Usage: $tool " <(timeout 5 "$KREEK_BIN/$tool" --help)
  err=$(cd "$KREEK_BIN" && timeout 5 "./$tool" --no-such-flag 2>&1 >/dev/null)
  rc=$?
  check "$tool: a bad flag is exit 64 ($rc)" test "$rc" -eq 64
  check "$tool: the bad flag is named in two lines on stderr ($err)" \
    test "$err" = "$tool: error: the following argument was not expected: --no-such-flag"$'\n'"try '$tool --help'"
  check "$tool --version" test "$(timeout 5 "$KREEK_BIN/$tool" --version)" = "$tool (kreek) 0.1.0"
done
check "ktopic describe --help says 'Usage: ktopic describe'" \
  grep -q '^Usage: ktopic describe ' <(cd "$KREEK_BIN" && timeout 5 ./ktopic describe --help)

# --- describe: text and --json agree ---------------------------------------
timeout 10 ktopic describe logs >"$T/d.txt"
timeout 10 ktopic describe logs --json >"$T/d.json"
check "unset flush.messages shows Kafka's Long.MAX_VALUE" grep -qx '  flush.messages=9223372036854775807' "$T/d.txt"
check "the override is marked" grep -qx '  retention.ms=3600000  (override)' "$T/d.txt"
jq -r '.config | to_entries[] | "  \(.key)=\(.value)"' "$T/d.json" | sort >"$T/d.json.cfg"
sed -n '/^config:$/,$p' "$T/d.txt" | tail -n +2 | sed 's/  (override)$//' | sort >"$T/d.txt.cfg"
check "every config value of --json is in the text, and no other" cmp -s "$T/d.json.cfg" "$T/d.txt.cfg"
check "the table has the high watermark --json has" \
  test "$(awk '$1 == "0" { print $8 }' "$T/d.txt")" = "$(jq '.partitions[0].hw' "$T/d.json")"

# --- the Unix edges --------------------------------------------------------
err=$(KREEK_BROKERS=127.0.0.1:1 timeout 10 kconsume -t logs 2>&1 >/dev/null)
check "no broker: kconsume exit 69 with one line ($err)" test $? -eq 69 -a "$(wc -l <<<"$err")" -eq 1
err=$(echo x | KREEK_BROKERS=127.0.0.1:1 timeout 10 kproduce -t logs 2>&1 >/dev/null)
check "no broker: kproduce exit 69 with one line ($err)" test $? -eq 69 -a "$(wc -l <<<"$err")" -eq 1
err=$(KREEK_BROKERS=127.0.0.1:1 timeout 10 ktopic list 2>&1 >/dev/null)
check "no broker: ktopic exit 69 with one line ($err)" test $? -eq 69 -a "$(wc -l <<<"$err")" -eq 1
timeout 10 kconsume -t logs 2>"$T/head.err" | head -n 1 >/dev/null
check "kconsume | head -n 1 exits 0 (${PIPESTATUS[0]})" test "${PIPESTATUS[0]}" -eq 0
check "and says nothing" test ! -s "$T/head.err"
timeout 20 kconsume -t logs -f >/dev/null 2>"$T/term.err" &
cpid=$!
_started_pids+=("$cpid")
sleep 0.3
kill -TERM "$cpid"
wait "$cpid"
rc=$?
check "SIGTERM ends kconsume -f with exit 0 ($rc)" test "$rc" -eq 0 -a ! -s "$T/term.err"
# A broker that accepts but never answers (stopped): Ctrl-C ends ktopic as a
# shell expects, 130 and no error line, not a TIMEOUT.
kill -STOP "$b_PID"
timeout 20 ktopic list 2>"$T/int.err" &
kpid=$!
sleep 0.5
kill -INT "$kpid"
wait "$kpid"
rc=$?
check "SIGINT ends a waiting ktopic with exit 130 ($rc)" test "$rc" -eq 130
check "and no error line ($(cat "$T/int.err"))" test ! -s "$T/int.err"
# kproduce too, while nothing has been sent yet (not after its 30 s timeout).
echo x | timeout 20 kproduce -t logs 2>"$T/pint.err" &
kpid=$!
sleep 0.5
kill -INT "$(pgrep -P "$kpid" -x kproduce || echo "$kpid")"
wait "$kpid"
rc=$?
kill -CONT "$b_PID"
check "SIGINT ends kproduce waiting for a broker with exit 130 ($rc: $(cat "$T/pint.err"))" test "$rc" -eq 130
printf 'a\nb\n' >"$T/in.txt"
echo mid | timeout 10 kproduce -t dash "$T/in.txt" - "$T/in.txt"
check "kproduce FILE - FILE reads stdin in its place" \
  test "$(timeout 10 kconsume -t dash | tr '\n' ' ')" = "a b mid a b "
timeout 10 kproduce -t dash -p -1 </dev/null 2>/dev/null
check "a negative --partition is a usage error (exit 64)" test $? -eq 64
for cmd in "kconsume -t bad/name" "kproduce -t bad/name" "ktopic describe bad/name" "ktopic create .."; do
  err=$(KREEK_BROKERS=127.0.0.1:1 timeout 10 $cmd 2>&1 </dev/null >/dev/null)
  rc=$?
  check "$cmd: a bad topic name is a usage error with no broker asked (exit $rc: $err)" \
    test "$rc" -eq 64 -a -n "$(grep 'invalid topic name' <<<"$err")"
done
timeout 10 ktopic describe 2>"$T/sub.err"
check "a usage error in a command points at that command's help" \
  test "$(cat "$T/sub.err")" = "ktopic: error: name is required"$'\n'"try 'ktopic describe --help'"
timeout 10 ktopic -b "$A" 2>"$T/nocmd.err"
check "ktopic without a command lists the commands" \
  grep -qx 'ktopic: error: a command is required: create list describe delete alter cluster reassign partition-for metrics group' "$T/nocmd.err"
check "ktopic --help calls them commands" grep -q '^Usage: ktopic \[OPTIONS\] COMMAND' <(timeout 5 ktopic --help)
timeout 10 ktopic lsit 2>"$T/cmd.err"
check "an unknown ktopic command is named (exit $?)" grep -qx 'ktopic: error: unknown command "lsit"' "$T/cmd.err"
finish
