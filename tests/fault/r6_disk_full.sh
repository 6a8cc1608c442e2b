#!/usr/bin/env bash
# r6_disk_full.sh: broker 3's data directory on a small tmpfs (root only) that fills up under
# load. The broker must not crash, must acknowledge nothing it did not write, and must take
# writes again once space returns (the tmpfs is grown); then every safety figure must be 0.
# At RF 3 (min.insync.replicas 2, acks=all) broker 3 is one replica of every partition; while
# this build refuses RF > 1 the test runs at RF 1 with acks=1, where broker 3 is the only replica
# of the partition it leads.
# Short: a 1 MiB tmpfs; long (KREEK_SOAK=1 or --long): 8 MiB, several fill/free cycles.
source "$(dirname "$0")/lib/fault.sh" "$@"

[ "$(id -u)" = 0 ] || skip "a tmpfs data directory needs root (mount); run as root"
MNT=""
r6_cleanup() {
  local pid
  for pid in "${_started_pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  [ -n "$MNT" ] && umount -l "$MNT" 2>/dev/null
  cleanup
}
trap r6_cleanup EXIT

fault_cluster
# Move broker 3's data directory onto a tmpfs of SIZE.
SIZE=$(long 1m 8m)
stop_broker b3 || { fail "stop broker 3"; finish; }
MNT=$b3_DIR
mv "$MNT" "$MNT.orig" && mkdir "$MNT" || { fail "set $MNT aside"; finish; }
mount -t tmpfs -o "size=$SIZE" kreek-fault "$MNT" || skip "mount -t tmpfs fails here (no CAP_SYS_ADMIN?)"
cp -a "$MNT.orig/." "$MNT/" && rm -rf "$MNT.orig"
restart_broker b3 || { fail "broker 3 did not start on its tmpfs"; finish; }
check "broker 3 is live again on the tmpfs" wait_until 10 eval '[ "$(broker_state "$b1_ADDR" 3)" = live ]'

FAULT_FALLBACK_RF=1 fault_topic r6 3 min.insync.replicas=2
ACKS=all
[ "$FAULT_RF" = 1 ] && ACKS=1
# The partition broker 3 leads: at RF 1 the only one whose writes land on the tmpfs.
P3=$(partitions_json | jq '[.[] | select(.leader == 3) | .partition][0]')
say "broker 3 leads partition $P3; tmpfs $SIZE at $MNT; RF $FAULT_RF, acks=$ACKS"
start_workload --writers 3 --rate "$(long 200 300)" --pad-bytes 1500 --acks "$ACKS" --retry-seconds 3

avail_kb() { df -k --output=avail "$MNT" | tail -1 | tr -d ' '; }
CYCLES=$(long 1 3)
for ((c = 1; c <= CYCLES; c++)); do
  check "cycle $c: broker 3's tmpfs fills up ($(avail_kb) KiB free)" wait_until 60 eval '[ "$(avail_kb)" -lt 64 ]'
  mark_fault disk-full 3 "$P3" false
  sleep 2
  check "cycle $c: broker 3 did not crash on a full disk" kill -0 "$b3_PID"
  errs=$(jq -r 'select(.type == "attempt") | .code' "$W/writes.jsonl" | sort | uniq -c | tr -s ' \n' ' ')
  say "cycle $c: refusals so far: ${errs:-none}"
  # Space returns: the tmpfs grows by 64 MiB.
  cur=$(df -k --output=size "$MNT" | tail -1 | tr -d ' ')
  mount -o "remount,size=$((cur + 65536))k" "$MNT" || { fail "grow the tmpfs"; break; }
  mark_fault space-returns 3 "$P3"
  a0=$(acks_on "$P3")
  check "cycle $c: writes to partition $P3 are acknowledged again once space returns" \
    wait_until 20 eval '[ "$(acks_on "$P3")" -gt "$((a0 + 20))" ]'
  if [ "$c" -lt "$CYCLES" ]; then
    # Fill again: shrink back to just above what is used now (tmpfs cannot shrink below it).
    used=$(df -k --output=used "$MNT" | tail -1 | tr -d ' ')
    mount -o "remount,size=$((used + 512))k" "$MNT" || { fail "shrink the tmpfs"; break; }
  fi
done
kill -0 "$b3_PID" || { fail "broker 3 is gone; its log: $(tail -3 "$b3_LOG" | tr '\n' '|')"; restart_broker b3; }
sleep 1
stop_workload
expect_safe
say "broker 3 logged: $(grep -ciE 'no space|ENOSPC|IO_ERROR' "$b3_LOG") lines about the full disk; last: $(grep -iE 'space|write' "$b3_LOG" | tail -1)"
stop_cluster
finish
