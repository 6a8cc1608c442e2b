#!/usr/bin/env bash
# group_reset.sh: bounded group reads and offset administration on a 3-broker
# cluster. `kconsume -g` without -f reads to the end as it was when assigned,
# commits, leaves and exits 0; run again it prints only what is new; two
# bounded members split the new records. `ktopic group reset` prints a plan and
# changes nothing without --execute; applied, it commits exactly what it
# printed; it is refused while a member is live. Delete, usage errors.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"
source "$KREEK_SRC/tests/lib/group.sh"

for tool in jq nc timeout; do check "$tool is installed" command -v "$tool" >/dev/null; done
[ "$FAILURES" -eq 0 ] || finish
start_group_cluster || { fail "the cluster did not start"; finish; }
T=$TEST_TMP
committed() { describe_json "$1" | jq -c '[.partitions[] | .committed]'; }

check "create a 6-partition topic" timeout 10 ktopic create logs -p 6 -r 3
check "600 records" produce_seq logs 1 600

# --- bounded reads --------------------------------------------------------------
timeout 60 kconsume -g batch -t logs >"$T/first.out" 2>"$T/first.err"
check "a bounded group read exits 0 ($(head -c 300 "$T/first.err"))" test $? -eq 0
check "and prints all 600" test "$(sort -u "$T/first.out" | wc -l)" -eq 600
check "its member left: the group is Empty, lag 0" \
  eval 'd=$(describe_json batch); [ "$(echo "$d" | jq -r .state)" = Empty ] && [ "$(echo "$d" | jq .lag)" = 0 ]'
timeout 60 kconsume -g batch -t logs >"$T/second.out"
check "run again, it exits 0 and prints nothing new" test $? -eq 0 -a ! -s "$T/second.out"
check "300 more" produce_seq logs 601 900
timeout 60 kconsume -g batch -t logs --format '%t/%p %o %v\n' >"$T/a.out" &
a=$!
timeout 60 kconsume -g batch -t logs --format '%t/%p %o %v\n' >"$T/b.out" &
b=$!
wait "$a"
ra=$?
wait "$b"
rb=$?
check "two bounded members both exit 0 ($ra, $rb)" test "$ra" -eq 0 -a "$rb" -eq 0
check "together they print the 300 new records" test "$(cat "$T/a.out" "$T/b.out" | awk '{ print $3 }' | sort -u | wc -l)" -eq 300
check "each at most once" test "$(dup_lines "$T/a.out" "$T/b.out" | wc -l)" -eq 0
check "-c stops, commits and leaves: exit 0" eval 'produce_seq logs 901 960 && timeout 30 kconsume -g batch -t logs -c 10 | wc -l | grep -qx 10'
check "the rest (50) comes next time" test "$(timeout 30 kconsume -g batch -t logs | wc -l)" -eq 50

# --- reset ---------------------------------------------------------------------------
before=$(committed batch)
timeout 10 ktopic group reset batch --to-earliest >"$T/plan.txt"
check "a dry run exits 0" test $? -eq 0
check "and says it changed nothing" grep -q "dry run: nothing was changed" "$T/plan.txt"
check "the plan has a row per partition with NEW 0" \
  test "$(awk '$1 == "logs" && $4 == 0' "$T/plan.txt" | wc -l)" -eq 6
check "the dry run changed nothing" test "$(committed batch)" = "$before"
timeout 10 ktopic group reset batch --to-offset 5 --topic logs:0,3 --json >"$T/plan.json"
check "--json plan for partitions 0 and 3 only" \
  test "$(jq -c '[.offsets[] | [.partition, .new]]' "$T/plan.json")" = "[[0,5],[3,5]]"
check "an applied reset exits 0" eval 'timeout 10 ktopic group reset batch --to-offset 5 --topic logs:0,3 --execute >"$T/applied.txt"'
check "and printed what it committed (partitions 0 and 3 to 5)" \
  test "$(awk '$1 == "logs" { printf "%s:%s ", $2, $4 }' "$T/applied.txt")" = "0:5 3:5 "
after=$(committed batch)
check "and did what it printed ($before -> $after)" \
  test "$(echo "$after" | jq -c '[.[0], .[3]]')" = "[5,5]" -a "$(echo "$after" | jq -c '[.[1], .[2], .[4], .[5]]')" = "$(echo "$before" | jq -c '[.[1], .[2], .[4], .[5]]')"
expect=$(describe_json batch | jq '[.partitions[] | .end - .committed] | add')
check "the group re-reads from there ($expect records)" test "$(timeout 30 kconsume -g batch -t logs | wc -l)" -eq "$expect"
check "--shift-by -2 moves every partition back 2" eval 'timeout 10 ktopic group reset batch --shift-by -2 --execute --topic logs >/dev/null'
check "lag is then 12" test "$(group_lag batch)" = 12
timeout 10 ktopic group reset batch --to-time 1h --topic logs >"$T/time.txt"
check "--to-time takes kconsume --from's syntax (1h ago: the log start)" \
  test "$(awk '$1 == "logs" && $4 == 0' "$T/time.txt" | wc -l)" -eq 6
check "--to-latest then leaves nothing to read" \
  eval 'timeout 10 ktopic group reset batch --to-latest --execute >/dev/null && [ "$(group_lag batch)" = 0 ]'

# --- refused while a member is live -------------------------------------------------
start_member live batch logs -f
check "a live member joins" wait_until 30 group_stable batch 1 6
before=$(committed batch)
timeout 10 ktopic group reset batch --to-earliest >"$T/live.plan" 2>&1
check "a dry run still prints its plan and says why --execute would be refused" grep -q "live member" "$T/live.plan"
timeout 10 ktopic group reset batch --to-earliest --execute 2>"$T/refused.err" >/dev/null
rc=$?
check "an applied reset is refused: exit 75 ($(cat "$T/refused.err"))" test "$rc" -eq 75
check "naming GROUP_NOT_EMPTY" grep -q "GROUP_NOT_EMPTY" "$T/refused.err"
check "and nothing changed" test "$(committed batch)" = "$before"
timeout 10 ktopic group delete batch 2>/dev/null
check "delete is refused while it has members (75)" test $? -eq 75
kill -TERM "$live_PID"
wait "$live_PID"
check "the live member exits 0 on SIGTERM" test $? -eq 0

# --- delete and errors ---------------------------------------------------------------
check "delete of an empty group" timeout 10 ktopic group delete batch
timeout 10 ktopic group describe batch 2>/dev/null >/dev/null
check "a deleted group is not found (66)" test $? -eq 66
timeout 10 kconsume -g g -t logs --checkpoint "$T/cp" 2>"$T/usage.err" >/dev/null
check "--checkpoint with -g is a usage error (64)" test $? -eq 64
timeout 10 kconsume -t logs --commit off 2>/dev/null >/dev/null
check "group flags without -g are a usage error (64)" test $? -eq 64
timeout 10 kconsume -t logs,audit 2>/dev/null >/dev/null
check "several topics without -g are a usage error (64)" test $? -eq 64
timeout 10 kconsume -g g -t logs --assignor nope 2>/dev/null >/dev/null
check "an unknown assignor is a usage error (64)" test $? -eq 64
timeout 10 ktopic group reset g --to-earliest --to-latest 2>/dev/null
check "two reset targets are a usage error (64)" test $? -eq 64

stop_cluster
finish
