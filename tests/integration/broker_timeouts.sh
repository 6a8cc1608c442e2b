#!/usr/bin/env bash
# --idle-timeout-ms and --line-timeout-ms against a real broker: a silent
# connection and one whose request line never ends (slowloris) are closed
# about when the flags say, while a client that keeps talking stays open.
source "$(dirname "$0")/../lib/common.sh"

start_broker b --idle-timeout-ms 1000 --line-timeout-ms 1000

out=$(python3 "$KREEK_SRC/tests/lib/abuse.py" timeouts "$b_PORT")
echo "$out" >&2
val() { awk -v k="$1" '$1 == k { print $2 }' <<<"$out"; }
in_range() { awk -v v="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(v >= lo && v <= hi) }'; }
check "an idle connection is closed after about 1 s ($(val idle_closed_s) s)" in_range "$(val idle_closed_s)" 0.9 2.5
check "an unfinished line is closed after about 1 s ($(val slow_closed_s) s)" in_range "$(val slow_closed_s)" 0.9 2.5
check "a client that keeps talking stays open past both" test "$(val busy_ok)" = 1
check "the idle close is logged" grep -q 'close connection from .*: idle for 1000 ms' "$b_LOG"
check "the slowloris close is logged" grep -q 'close connection from .*: request line unfinished after 1000 ms' "$b_LOG"

finish
