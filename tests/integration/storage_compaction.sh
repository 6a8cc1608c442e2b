#!/usr/bin/env bash
# Log compaction end to end: keyed records and a tombstone through the real
# kproduce, the broker's cleaner compacting closed segments in the background,
# kconsume showing the newest value per key at its original offset (also from
# an offset that was compacted away), the result kept across a restart,
# tombstones removed after delete.retention.ms, and keyless records refused.
source "$(dirname "$0")/../lib/common.sh"

start_broker b --compaction-check-interval-ms 100 --retention-check-interval-ms 100
export KREEK_BROKERS=$b_ADDR
T=$TEST_TMP

# same WANT GOT "what": a pass if the files match, else a failure with the diff.
same() {
  if cmp -s "$1" "$2"; then pass; else fail "$3"; diff "$1" "$2" >&2; fi
}

# segment.ms rolls the active segment soon after the last append (the
# retention check rolls idle segments), so every record ends up compactable.
check "create a compacted topic" timeout 10 ktopic create users -p 1 -c cleanup.policy=compact \
  -c segment.ms=300 -c segment.bytes=4096 -c min.cleanable.dirty.ratio=0.01
for round in 1 2 3; do
  for u in 1 2 3 4 5; do echo "user-$u:v$round"; done
done >"$T/in.txt"
check "produce 15 keyed records" timeout 10 kproduce -t users -K : "$T/in.txt"
printf '{"key":"user-3","value":null}\n' >"$T/tomb.json"
check "produce a tombstone" timeout 10 kproduce -t users --json "$T/tomb.json"

# (If the segment rolled before the tombstone came, an earlier compaction
# covered [0, 15); the one that matters covers everything.)
check "the broker reports a compaction" wait_for_line "$b_LOG" 'info compacted users/0 offsets \[0, 16\): [0-9]+ -> 5 records' 20
cat >"$T/want.txt" <<'WANT'
10 user-1 v3
11 user-2 v3
13 user-4 v3
14 user-5 v3
15 user-3 
WANT
timeout 10 kconsume -t users --format '%o %k %v\n' >"$T/got.txt"
same "$T/want.txt" "$T/got.txt" "kconsume shows the newest value per key at its original offset"
timeout 10 kconsume -t users --from 3 --format '%o\n' >"$T/from3.txt"
check "reading from a compacted-away offset starts at the next record" \
  test "$(tr '\n' ' ' <"$T/from3.txt")" = "10 11 13 14 15 "
timeout 10 kconsume -t users -q --checkpoint "$T/ckpt" --format '%o\n' >/dev/null
check "a consumer's next position is the last offset returned + 1 ($(cat "$T/ckpt"))" grep -q '"0":16' "$T/ckpt"
check "no cleaned or swap files are left behind" \
  test -z "$(find "$b_DIR" -name '*.cleaned' -o -name '*.swap' -o -name '*.replaced')"
check "list_offsets earliest is still 0" rpc "$b_ADDR" '{"op":"list_offsets","id":1,"topic":"users","at":"earliest"}' |
  grep -q '"offset":0'

printf 'user-1:v4\n' | timeout 10 kproduce -t users -K :
check "the new value supersedes offset 10 in the next compaction" \
  wait_for_line "$b_LOG" 'info compacted users/0 offsets \[0, 17\): 6 -> 5 records' 20
check "the cleaner checkpoint records how far users-0 was compacted" \
  wait_for_line "$b_DIR/cleaner-offset-checkpoint" '"users-0":17' 10
check "stop the broker" stop_broker b
check "restart the broker" restart_broker b
timeout 10 kconsume -t users --format '%o %k %v\n' >"$T/got2.txt"
{ sed 1d "$T/want.txt"; echo "16 user-1 v4"; } >"$T/want2.txt"
same "$T/want2.txt" "$T/got2.txt" "a restart keeps the compacted log and appends after it"

# Compaction turned off again: the gaps it left are still not damage, also
# after a restart (the cleaner checkpoint remembers the log was compacted).
check "alter users to cleanup.policy=delete" timeout 10 ktopic alter users -c cleanup.policy=delete
check "stop the broker after the alter" stop_broker b
check "restart it" restart_broker b
timeout 10 kconsume -t users --format '%o %k %v\n' >"$T/got3.txt" 2>"$T/got3.err"
rc=$?
check "a once-compacted log reads whole under delete (exit $rc: $(head -c 200 "$T/got3.err"))" test "$rc" -eq 0
same "$T/want2.txt" "$T/got3.txt" "the records after the policy change"
check "alter users back to compact" timeout 10 ktopic alter users -c cleanup.policy=compact

# delete.retention.ms=0: the tombstone survives the first compaction and goes
# with the next one (an expired tombstone makes the log due by itself).
check "create a topic whose tombstones expire at once" timeout 10 ktopic create gone -p 1 \
  -c cleanup.policy=compact -c segment.ms=300 -c delete.retention.ms=0
printf '{"key":"a","value":"1"}\n{"key":"b","value":"1"}\n{"key":"a","value":null}\n' >"$T/gone.json"
check "produce records and a tombstone" timeout 10 kproduce -t gone --json "$T/gone.json"
check "the tombstone is removed by a later compaction" \
  wait_for_line "$b_LOG" 'info compacted gone/0 .* 1 tombstone\(s\) removed' 20
# Offset 2 (the tombstone) is a gap at the end of the closed segments: kconsume
# must step over it to the log end and exit, not wait there.
out=$(timeout 10 kconsume -t gone --format '%o %k %v\n')
rc=$?
check "only the live key is left (got: $out)" test "$out" = "1 b 1"
check "kconsume reads past a gap at the end and exits 0 (got $rc)" test "$rc" -eq 0

# Keyless records have no place in a compacted topic.
echo "no key here" | timeout 10 kproduce -t users 2>"$T/keyless.err"
rc=$?
check "keyless produce to a compacted topic fails with exit 65 (got $rc)" test "$rc" -eq 65
check "the error names INVALID_RECORD and says why ($(cat "$T/keyless.err"))" \
  grep -q 'compacted topic "users" cannot accept a record without a key.*INVALID_RECORD' "$T/keyless.err"
check "a delete-policy topic still takes keyless records" sh -c "echo plain | timeout 10 kproduce -t plain"

check "SIGTERM stops the broker cleanly" stop_broker b
finish
