#!/usr/bin/env bash
# kconsume's progress line: shown on a terminal's stderr while an export goes
# to a pipe or file, erased at the end, and never shown to scripts (stderr not
# a terminal), with -q, with -f, or when the records themselves go to the terminal.
# script(1) gives the command a pseudo-terminal; a reader that sleeps before it
# drains the pipe makes the export last long enough for a redraw.
source "$(dirname "$0")/../lib/common.sh"

start_broker b
export KREEK_BROKERS=$b_ADDR
T=$TEST_TMP
seq -f '%0100g' 1 20000 | kproduce -t prog
check "20,000 records produced" test "$(kconsume -t prog | wc -l)" -eq 20000

# on_tty CMD OUT: runs CMD with stdin/stdout/stderr on a pseudo-terminal, the
# terminal's bytes into OUT.
on_tty() {
  timeout 30 script -qec "$1" /dev/null </dev/null >"$2"
}

on_tty "kconsume -t prog | (sleep 1; wc -l >$T/count)" "$T/tty"
check "the export is complete ($(cat "$T/count"))" test "$(cat "$T/count")" -eq 20000
check "a progress line shows count, total and share" \
  grep -aqE 'prog: [0-9.k]+ of 20.0k records \([0-9]+%\), [0-9.kM]+/s' "$T/tty"
check "and is erased at the end" test "$(tail -c 4 "$T/tty" | od -An -c | tr -d ' ')" = '\r033[K'

on_tty "kconsume -q -t prog | (sleep 1; wc -l >/dev/null)" "$T/quiet"
check "-q shows no progress" test ! -s "$T/quiet"

on_tty "kconsume -t prog -c 3" "$T/records"
check "records on the terminal come without a progress line" \
  test "$(tr -d '\r' <"$T/records")" = "$(seq -f '%0100g' 1 3)"

kconsume -t prog 2>"$T/stderr" | (sleep 1; wc -l >/dev/null)
check "stderr not a terminal: nothing on it" test ! -s "$T/stderr"

on_tty "kconsume -f -t prog | (sleep 1; head -n 20000 >/dev/null)" "$T/follow"
check "-f shows no progress" test ! -s "$T/follow"

finish
