#!/usr/bin/env bash
# Edges a new user met: a --checkpoint into a directory that does not exist
# fails at once (exit 73) without printing records it could not remember.
source "$(dirname "$0")/../lib/common.sh"

start_broker b
T=$TEST_TMP
export KREEK_BROKERS=$b_ADDR

check "create topic" timeout 10 ktopic create logs -p 1
printf 'a\nb\n' | timeout 10 kproduce -t logs
check "produce two records" test $? -eq 0

# --- --checkpoint into a missing directory ---------------------------------
timeout 10 kconsume -t logs --checkpoint "$T/missing/cp.json" >"$T/cp.out" 2>"$T/cp.err"
check "a checkpoint in a missing directory is exit 73" test $? -eq 73
check "and nothing is printed" test ! -s "$T/cp.out"
check "one line names the directory" \
  test "$(cat "$T/cp.err")" = "kconsume: error: cannot write checkpoint $T/missing/cp.json: directory $T/missing does not exist"
mkdir "$T/missing"
timeout 10 kconsume -t logs --checkpoint "$T/missing/cp.json" >"$T/cp2.out"
check "once the directory exists the export works" test "$(cat "$T/cp2.out")" = "$(printf 'a\nb')"
check "and the checkpoint is written" grep -q '"0":2' "$T/missing/cp.json"

finish
