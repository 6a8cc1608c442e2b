#!/usr/bin/env bash
# cluster_clients.sh: the tools against kzk-lite and three brokers: ktopic
# cluster (text and --json), ktopic create -r refused while replication is not
# built, ktopic describe complete across leaders, -b with a dead first broker,
# kproduce keyless riding out a kill -9 and restart of one broker (exit 0,
# nothing lost, duplicates counted), and kconsume -f across a kill -9 and
# restart of its only -b broker with no gap and no repeat.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"

for tool in jq timeout; do
  check "$tool is installed" command -v "$tool" >/dev/null
done
[ "$FAILURES" -eq 0 ] || finish

# Short sessions (cluster.sh's), so a killed broker's partitions lose their
# leader quickly; broker 2 names a rack, for the cluster view.
start_kzk z --session-timeout-ms "$SESSION_MS" --heartbeat-interval-ms "$HEARTBEAT_MS" || finish
start_broker b1 --coordinator "$z_ADDR" --node-id 1 || finish
start_broker b2 --coordinator "$z_ADDR" --node-id 2 --rack r2 || finish
start_broker b3 --coordinator "$z_ADDR" --node-id 3 || finish
ALL="$b1_ADDR,$b2_ADDR,$b3_ADDR"

# --- ktopic cluster ---------------------------------------------------------
text=$(timeout 10 ktopic -b "$b1_ADDR" cluster)
check "ktopic cluster exits 0" test $? -eq 0
check "ktopic cluster names the cluster ($text)" grep -Eq '^cluster [0-9a-f]+ ' <<<"$text"
check "ktopic cluster has a header" grep -Eq '^NODE +ADDRESS +RACK +STATE +LEADER-OF$' <<<"$text"
check "ktopic cluster lists three live brokers" test "$(grep -Ec '^[123] +127\.0\.0\.1:[0-9]+ +[-a-z0-9]+ +live +0$' <<<"$text")" = 3
check "ktopic cluster shows b2's rack" grep -Eq "^2 +$b2_ADDR +r2 +live" <<<"$text"
json=$(timeout 10 ktopic -b "$b2_ADDR" cluster --json)
check "ktopic cluster --json is one object with three brokers" test "$(jq -c '.brokers | length' <<<"$json")" = 3
check "ktopic cluster --json has the cluster id" test "$(jq -r '.cluster_id | length > 0' <<<"$json")" = true
check "ktopic cluster --json names the addresses" \
  test "$(jq -r '[.brokers[].addr] | sort | join(",")' <<<"$json")" = "$(tr , '\n' <<<"$ALL" | sort | paste -sd,)"

# --- ktopic create -r -------------------------------------------------------
err=$(timeout 10 ktopic -b "$b1_ADDR" create big -r 4 2>&1)
rc=$?
check "ktopic create -r 4 on three brokers exits 64 (got $rc)" test "$rc" -eq 64
check "ktopic create -r 4 says why ($err)" grep -q 'replication factor 4 is larger than the 3 live brokers.*(INVALID_REQUEST)' <<<"$err"
check "ktopic create -r 1 works" timeout 10 ktopic -b "$b1_ADDR" create t6 -p 6 --replication-factor 1
text=$(timeout 10 ktopic -b "$b1_ADDR" cluster)
check "each broker leads two of the six partitions" test "$(grep -Ec ' live +2$' <<<"$text")" = 3

# --- ktopic describe across leaders ---------------------------------------------
for p in 0 1 2 3 4 5; do
  seq 1 $((p + 1)) | timeout 20 kproduce -b "$b1_ADDR" -t t6 -p "$p" || fail "kproduce -p $p"
done
desc=$(timeout 10 ktopic -b "$b1_ADDR" describe t6 --json)
check "describe --json keeps its shape" test "$(jq -r '.topic + " " + (.partitions | length | tostring)' <<<"$desc")" = "t6 6"
check "describe --json has every partition's log end from its leader ($desc)" \
  test "$(jq -c '[.partitions[].log_end]' <<<"$desc")" = "[1,2,3,4,5,6]"
check "describe --json has sizes and segments for every partition" \
  test "$(jq '[.partitions[] | select(.size > 0 and .segments >= 1)] | length' <<<"$desc")" = 6
text=$(timeout 10 ktopic -b "$b2_ADDR" describe t6)
check "describe text has no '-' for a led partition ($text)" \
  test "$(awk '$1 ~ /^[0-9]+$/ && NF == 10 && $7 == $1 + 1 && $6 != "-"' <<<"$text" | wc -l)" = 6

# --- kproduce keyless while a broker is killed and restarted --------------------
# The generator writes 1..3000 in three thirds; the test kills b3 after the
# first and restarts it after the second.
gen() {
  local i
  for ((i = 1; i <= 3000; i++)); do
    echo "$i"
    if ((i % 100 == 0)); then sleep 0.02; fi
    if ((i == 1000)); then
      touch "$TEST_TMP/third1"
      while [ ! -e "$TEST_TMP/go2" ]; do sleep 0.01; done
    fi
    if ((i == 2000)); then
      touch "$TEST_TMP/third2"
      while [ ! -e "$TEST_TMP/go3" ]; do sleep 0.01; done
    fi
  done
}
timeout 10 ktopic -b "$b1_ADDR" create keyless -p 6 || fail "create keyless"
before=$(timeout 10 ktopic -b "$b1_ADDR" describe keyless --json)
b3_parts=$(jq -c '[.partitions[] | select(.leader == 3) | .partition]' <<<"$before")
gen | timeout 90 kproduce -b "$ALL" -t keyless --linger-ms 2 2>"$TEST_TMP/produce.err" &
producer=$!
wait_until 30 test -e "$TEST_TMP/third1" || fail "the generator never wrote its first third"
# Acknowledged so far on b1's and b2's partitions: the total must grow while b3 is down.
survivors_end() {
  timeout 10 ktopic -q -b "$b1_ADDR" describe keyless --json |
    jq "[.partitions[] | select(.leader == 1 or .leader == 2) | .log_end] | add"
}
wait_until 20 test "$(survivors_end)" -gt 0 || fail "no record reached b1 or b2"
kill9_broker b3
at_kill=$(survivors_end)
touch "$TEST_TMP/go2"
wait_until 30 test -e "$TEST_TMP/third2" || fail "the generator never wrote its second third"
# Partitions b3 led stay out of reach until it is back; the others take the
# second third (a batch or so may still have gone to b3's partitions).
check "records reach b1's and b2's partitions while b3 is down" \
  wait_until 30 test "$(survivors_end)" -ge $((at_kill + 800))
check "kproduce is still running while b3 is down" kill -0 "$producer"
# -b with a dead first broker: the second one answers for the cluster.
check "ktopic -b DEAD,LIVE cluster works" timeout 10 ktopic -b "$b3_ADDR,$b1_ADDR" cluster >/dev/null
check "ktopic -b DEAD,LIVE cluster shows b3 not live or leaderless partitions" \
  wait_until 20 bash -c "timeout 10 ktopic -b '$b3_ADDR,$b1_ADDR' cluster | grep -Eq '^3 .* fenced|^leaderless partitions: 2'"
restart_broker b3 || finish
touch "$TEST_TMP/go3"
wait "$producer"
rc=$?
check "kproduce across b3's kill -9 and restart exits 0 (got $rc: $(tr '\n' ' ' <"$TEST_TMP/produce.err"))" test "$rc" -eq 0
timeout 30 kconsume -b "$ALL" -t keyless >"$TEST_TMP/keyless.out" || fail "kconsume keyless"
lost=$(comm -23 <(seq 1 3000 | sort) <(sort -u "$TEST_TMP/keyless.out") | wc -l)
dups=$(($(wc -l <"$TEST_TMP/keyless.out") - $(sort -u "$TEST_TMP/keyless.out" | wc -l)))
echo "kproduce across a broker kill -9: 3000 records, $lost lost, $dups duplicated" >&2
check "no record lost ($lost)" test "$lost" -eq 0
check "b3's partitions hold records again after its restart" \
  test "$(timeout 10 ktopic -b "$b3_ADDR" describe keyless --json |
    jq "[.partitions[] | select(.partition as \$p | $b3_parts | index(\$p)) | .log_end] | add")" -gt 0

# --- kconsume -f across a kill -9 and restart of its only -b broker ------------
# Reads t6 (21 records) and follows; b1 is killed (the bootstrap broker and
# leader of two partitions), records go to every partition meanwhile, b1 comes
# back. Every partition's offsets must come out exactly once, in order.
timeout 10 ktopic -b "$b1_ADDR" create follow -p 6 || fail "create follow"
for p in 0 1 2 3 4 5; do
  seq 1 5 | timeout 20 kproduce -b "$ALL" -t follow -p "$p" || fail "kproduce follow -p $p"
done
timeout 120 kconsume -b "$b1_ADDR" -t follow -f --format '%p %o %v\n' \
  >"$TEST_TMP/follow.out" 2>"$TEST_TMP/follow.err" &
follower=$!
lines() { test "$(wc -l <"$TEST_TMP/follow.out")" -ge "$1"; }
check "the follower reads the first 30 records" wait_until 20 lines 30
kill9_broker b1
# Once b1's session has run out its partitions have no leader; the follower
# must go on reading the others meanwhile.
check "b1's partitions lose their leader" wait_until 20 bash -c \
  "timeout 10 ktopic -b '$b2_ADDR' cluster | grep -q '^leaderless partitions: [1-9]'"
# Keyed by partition number: one producer per partition, each waits for its
# leader; b2's and b3's partitions get theirs while b1 is down.
for p in 0 1 2 3 4 5; do
  seq 6 10 | timeout 60 kproduce -b "$b1_ADDR,$b2_ADDR" -t follow -p "$p" 2>>"$TEST_TMP/follow-produce.err" &
  eval "fp$p=\$!"
done
check "the follower keeps reading b2's and b3's partitions while b1 is down" wait_until 30 lines 50
restart_broker b1 || finish
for p in 0 1 2 3 4 5; do
  pid_var="fp$p"
  wait "${!pid_var}" || fail "kproduce follow -p $p after b1's restart"
done
check "the follower reads all 60 records after b1's restart" wait_until 30 lines 60
kill -TERM "$follower" 2>/dev/null
wait "$follower"
check "the follower exits 0 on SIGTERM" test $? -eq 0
ordered=$(for p in 0 1 2 3 4 5; do
  awk -v p="$p" '$1 == p { print $2 }' "$TEST_TMP/follow.out" | paste -sd, | sed "s/^/$p:/"
done)
expected=$(for p in 0 1 2 3 4 5; do printf '%s:0,1,2,3,4,5,6,7,8,9\n' "$p"; done)
check "every partition's offsets exactly once and in order, no gap, no repeat ($ordered)" \
  test "$ordered" = "$expected"

finish
