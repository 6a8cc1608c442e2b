#!/usr/bin/env bash
# group_basic.sh: three `kconsume -g` members on a 6-partition topic of a
# 3-broker cluster get disjoint partitions covering all six; every record
# produced before and during the run is printed by exactly one member; the
# group's lag reaches 0 once they have caught up; a member reading two topics
# gets both; SIGTERM commits, leaves and exits 0, and the others take over.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"
source "$KREEK_SRC/tests/lib/group.sh"

for tool in jq nc timeout; do check "$tool is installed" command -v "$tool" >/dev/null; done
[ "$FAILURES" -eq 0 ] || finish
start_group_cluster || { fail "the cluster did not start"; finish; }
T=$TEST_TMP

check "create a 6-partition topic, replication factor 3" timeout 10 ktopic create logs -p 6 -r 3
check "2,000 records before the members start" produce_seq logs 1 2000

for m in m1 m2 m3; do start_member "$m" workers logs -f --commit-interval-ms 500; done
check "three members: Stable, six partitions, disjoint" wait_until 30 group_stable workers 3 6
d=$(describe_json workers)
check "each member holds two partitions ($(echo "$d" | jq -c '[.members[] | [.assignment[]?.partitions[]]]'))" \
  test "$(echo "$d" | jq -c '[.members[] | [.assignment[]?.partitions[]] | length] | sort')" = "[2,2,2]"
check "ktopic group list names the group with 3 members" \
  eval 'timeout 10 ktopic group list | grep -Eq "^workers +Stable +3$"'

check "3,000 more while they run" produce_seq logs 2001 5000
check "the lag reaches 0" wait_until 30 eval '[ "$(group_lag workers)" = 0 ]'
printed=$(cat "$T"/m?.out | awk '{ print $3 }' | sort -u | wc -l)
check "every one of the 5,000 records was printed ($printed distinct)" test "$printed" -eq 5000
dups=$(dup_lines "$T"/m?.out | wc -l)
check "none printed twice ($dups duplicates)" test "$dups" -eq 0
text=$(timeout 10 ktopic group describe workers)
check "describe shows committed, end and lag per partition" \
  eval 'echo "$text" | grep -Eq "^logs +0 +[0-9]+ +[0-9]+ +0 +"'
check "describe's total lag line says 0" eval 'echo "$text" | grep -qx "total lag 0"'
check "a rebalance is noticed on stderr at -v" grep -q "generation" "$T/m1.err"

# SIGTERM: commit, leave, exit 0; the two others take its partitions at once.
kill -TERM "$m3_PID"
wait "$m3_PID"
check "a member stopped by SIGTERM exits 0" test $? -eq 0
check "its partitions go to the two others" wait_until 10 group_stable workers 2 6
check "1,000 more after it left" produce_seq logs 5001 6000
check "the lag reaches 0 again" wait_until 30 eval '[ "$(group_lag workers)" = 0 ]'
printed=$(cat "$T"/m?.out | awk '{ print $3 }' | sort -u | wc -l)
check "all 6,000 printed" test "$printed" -eq 6000
dups=$(dup_lines "$T"/m?.out | wc -l)
check "still none printed twice after a clean leave ($dups)" test "$dups" -eq 0

# Two topics in one group.
check "a second topic" timeout 10 ktopic create audit -p 2 -r 3
check "with 100 records" produce_seq audit 1 100
start_member both readers logs,audit
wait "$both_PID"
check "a bounded member of two topics exits 0" test $? -eq 0
check "and prints both topics (6,100 records)" test "$(wc -l <"$T/both.out")" -eq 6100
check "--commit=off commits nothing" eval 'timeout 30 kconsume -g peek -t audit --commit=off >/dev/null &&
  ! timeout 10 ktopic group describe peek 2>/dev/null'

for m in m1 m2; do kill -TERM "${m}_PID" 2>/dev/null; done
stop_cluster
finish
