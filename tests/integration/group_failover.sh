#!/usr/bin/env bash
# group_failover.sh: a consumer group survives the death of a member and of
# its coordinator's broker. kill -9 of one of three members: its partitions
# move to the others within the session timeout + 1 s, and the only records
# printed twice are on its partitions at or after its last commit. kill -9 of
# the broker that coordinates the group: the group goes on with another
# coordinator and its committed offsets (nothing re-read, nothing lost).
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"
source "$KREEK_SRC/tests/lib/group.sh"

for tool in jq nc timeout; do check "$tool is installed" command -v "$tool" >/dev/null; done
[ "$FAILURES" -eq 0 ] || finish
start_group_cluster || { fail "the cluster did not start"; finish; }
T=$TEST_TMP

check "create a 6-partition topic, replication factor 3" timeout 10 ktopic create logs -p 6 -r 3
check "1,000 records first" produce_seq logs 1 1000
for m in m1 m2 m3; do start_member "$m" fo logs -f --commit-interval-ms 1000; done
check "three members share the six partitions" wait_until 30 group_stable fo 3 6
check "they catch up" wait_until 30 eval '[ "$(group_lag fo)" = 0 ]'

# A steady trickle while members die, so some records are printed but not yet committed.
touch "$T/producing"
echo 1001 >"$T/produced.next"
(
  i=1001
  while [ -e "$T/producing" ]; do
    seq "$i" $((i + 49)) | awk '{ print "k" $1 " r" $1 }' | timeout 10 kproduce -t logs -K ' ' -b "$ALL_BROKERS" 2>/dev/null &&
      i=$((i + 50))
    echo "$i" >"$T/produced.next"
    sleep 0.05
  done
) &
producer=$!
sleep 1.5

# --- kill -9 of a member ------------------------------------------------------
victim_id=$(describe_json fo | jq -r '.members[0].member_id')
victim=""
for m in m1 m2 m3; do grep -q "$victim_id" "$T/$m.err" 2>/dev/null && victim=$m; done
[ -n "$victim" ] || victim=m3
victim_pid_var="${victim}_PID"
kill -9 "${!victim_pid_var}"
t0=$(date +%s%N)
# What it had committed when it died: nobody else commits its partitions until they move.
describe_json fo | jq -r --arg id "$victim_id" '
  (.members[] | select(.member_id == $id) | [.assignment[]? | .topic as $t | .partitions[] | "\($t)/\(.)"]) as $mine
  | .partitions[] | select(("\(.topic)/\(.partition)") as $k | $mine | index($k)) | "\(.topic)/\(.partition) \(.committed // 0)"' >"$T/victim.committed"
check "the victim ($victim) held partitions: $(tr '\n' ' ' <"$T/victim.committed")" test -s "$T/victim.committed"
wait_until 20 group_stable fo 2 6
moved_ms=$(ms_since "$t0")
echo "group_failover: the victim's partitions moved in $moved_ms ms" >&2
check_bound "its partitions moved to the two others in ${moved_ms} ms (session ${GROUP_SESSION_MS} ms + 1 s)" \
  test "$moved_ms" -le $((GROUP_SESSION_MS + 1000))

# --- kill -9 of the coordinator's broker ---------------------------------------------
before=$(describe_json fo | jq -c '[.partitions[] | .committed]')
coord=$(describe_json fo | jq -r '.coordinator')
check "the group has a coordinator ($coord)" test -n "$coord"
kill9_broker "b$coord"
case $coord in
  1) ALL_BROKERS="$b2_ADDR,$b3_ADDR" ;;
  2) ALL_BROKERS="$b1_ADDR,$b3_ADDR" ;;
  *) ALL_BROKERS="$b1_ADDR,$b2_ADDR" ;;
esac
check "another broker coordinates the group" \
  wait_until 30 eval 'c=$(describe_json fo | jq -r .coordinator); [ -n "$c" ] && [ "$c" != "$coord" ]'
after=$(describe_json fo | jq -c '[.partitions[] | .committed]')
check "with the committed offsets it had ($before -> $after)" \
  eval 'jq -n --argjson a "$before" --argjson b "$after" "[range(\$a | length)] | all(\$b[.] >= \$a[.])" | grep -qx true'
sleep 1
rm -f "$T/producing"
wait "$producer"
last=$(($(cat "$T/produced.next") - 1))
check "the two members stay in the group" wait_until 20 group_stable fo 2 6
check "and catch up: lag 0" wait_until 60 eval '[ "$(group_lag fo)" = 0 ]'

printed=$(cat "$T"/m?.out | awk '{ print $3 }' | sort -u | wc -l)
check "no record lost: all $last printed ($printed distinct)" test "$printed" -eq "$last"
dup_lines "$T"/m?.out >"$T/dups"
echo "group_failover: $last records, $(wc -l <"$T/dups") printed twice, coordinator was node $coord" >&2
bad=$(awk 'NR == FNR { from[$1] = $2; next } !($1 in from) || $2 < from[$1]' "$T/victim.committed" "$T/dups" | wc -l)
check "records printed twice ($(wc -l <"$T/dups")) are all on the victim's partitions after its last commit ($bad are not)" \
  test "$bad" -eq 0

for m in m1 m2 m3; do
  pid_var="${m}_PID"
  [ "$m" = "$victim" ] && continue
  kill -TERM "${!pid_var}"
  wait "${!pid_var}"
  check "$m exits 0 on SIGTERM after the failovers" test $? -eq 0
done
for n in 1 2 3; do
  [ "$n" = "$coord" ] && continue
  stop_broker "b$n"
  check "broker $n exits 0 on SIGTERM" test $? -eq 0
done
stop_broker z
finish
