#!/usr/bin/env bash
# group_basic.sh: three `kconsume -g` members on a 6-partition topic of a
# 3-broker cluster get disjoint partitions covering all six; every record
# produced before and during the run is printed by exactly one member; the
# group's lag reaches 0 once they have caught up; a member reading two topics
# gets both; SIGTERM commits, leaves and exits 0, and the others take over.
# The eager range assignor shares as well, with nothing printed twice; a
# member with another assignor is refused (78); a static member restarted
# with its --instance-id takes its place without a rebalance, and the member
# it replaced is fenced (78).
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

for m in m1 m2; do
  pid_var="${m}_PID"
  kill -TERM "${!pid_var}" 2>/dev/null
done

# Eager (range): every member gives everything up at each rebalance.
for m in e1 e2 e3; do start_member "$m" eager logs -f --assignor range --commit-interval-ms 500; done
check "three range members share the six partitions" wait_until 30 group_stable eager 3 6
check "range gives each a contiguous pair" \
  test "$(describe_json eager | jq -c '[.members[] | [.assignment[]?.partitions[]] | sort] | sort')" = "[[0,1],[2,3],[4,5]]"
check "1,000 more" produce_seq logs 6001 7000
check "the eager group catches up" wait_until 30 eval '[ "$(group_lag eager)" = 0 ]'
check "and printed all 7,000 once ($(dup_lines "$T"/e?.out | wc -l) twice)" \
  test "$(cat "$T"/e?.out | awk '{ print $3 }' | sort -u | wc -l)" -eq 7000 -a "$(dup_lines "$T"/e?.out | wc -l)" -eq 0
timeout 20 kconsume -g eager -t logs --assignor roundrobin >/dev/null 2>"$T/mismatch.err"
rc=$?
check "a member with another assignor is refused: exit 78 ($(cat "$T/mismatch.err"))" test "$rc" -eq 78
for m in e1 e2 e3; do
  pid_var="${m}_PID"
  kill -TERM "${!pid_var}" 2>/dev/null
done

# Static membership.
start_member s1 static logs -f --instance-id w1
start_member s2 static logs -f --instance-id w2
check "two static members" wait_until 30 group_stable static 2 6
gen=$(describe_json static | jq .generation)
kill -9 "$s1_PID"
start_member s1b static logs -f --instance-id w1
check "a static member restarted within its session takes its place" \
  wait_until 10 eval 'grep -q "assigned" "$T/s1b.err"'
check "without a rebalance (generation $gen)" test "$(describe_json static | jq .generation)" = "$gen"
start_member s2b static logs -f --instance-id w2
wait "$s2_PID"
check "the member a newer one with its instance id replaced exits 78" test $? -eq 78
check "naming FENCED_INSTANCE_ID" grep -q FENCED_INSTANCE_ID "$T/s2.err"
for m in s1b s2b; do
  pid_var="${m}_PID"
  kill -TERM "${!pid_var}" 2>/dev/null
done
stop_cluster
finish
