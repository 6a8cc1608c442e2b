#!/usr/bin/env bash
# Edges a new user met: a --checkpoint into a directory that does not exist
# fails at once (exit 73) without printing records it could not remember;
# --null tells a null key from an empty one in --format's %k.
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

# --- --null: a null key and an empty key ------------------------------------
check "create topic keys" timeout 10 ktopic create keys -p 1
printf 'nokey\n' | timeout 10 kproduce -t keys
printf ':empty\n' | timeout 10 kproduce -t keys -K :
check "by default both keys print as nothing" \
  test "$(timeout 10 kconsume -t keys --format '[%k]%v\n')" = "$(printf '[]nokey\n[]empty')"
check "--null NULL names the null key only" \
  test "$(timeout 10 kconsume -t keys --format '[%k]%v\n' --null NULL)" = "$(printf '[NULL]nokey\n[]empty')"
timeout 10 kconsume -t keys --json --null NULL >/dev/null 2>&1
check "--null with --json is a usage error" test $? -eq 64

finish
