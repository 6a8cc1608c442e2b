#!/usr/bin/env bash
# bench/soak.sh: what `make soak` runs. A bounded load run: paced producers and a following
# consumer run against one broker while it is restarted (SIGTERM and kill -9, alternating)
# mid-produce; the broker's RSS and open fds are sampled. At the end every acknowledged record
# must be in the log exactly once, in order per partition, byte for byte, and the live
# consumer must have seen every record exactly once. Exits 1 on any lost, corrupted,
# reordered or duplicated record.
#
# Env: SOAK_SECONDS (300), SOAK_RATE records/s (10000), SOAK_PARTITIONS (4),
#      SOAK_CHUNK records per kproduce call (2500), SOAK_RESTARTS (4), SOAK_SAMPLE_S (5).
set -uo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tests/lib/common.sh
source "$HERE/../tests/lib/common.sh"

SECONDS_TOTAL=${SOAK_SECONDS:-300}
RATE=${SOAK_RATE:-10000}
P=${SOAK_PARTITIONS:-4}
CHUNK=${SOAK_CHUNK:-2500}
RESTARTS=${SOAK_RESTARTS:-4}
SAMPLE_S=${SOAK_SAMPLE_S:-5}
TOPIC=soak
W=$TEST_TMP/soak
mkdir -p "$W"
say() { echo "soak: $(date +%T) $*" >&2; }

# Processes inside the loops below record their pids here, so the exit trap can end them.
soak_cleanup() {
  local f
  touch "$W/stop" "$W/stop-consumer"
  for f in "$W"/*.pid; do
    [ -e "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
  done
  cleanup
}
trap soak_cleanup EXIT

# The value of record SEQ of partition P: "P:SEQ:" then a digit pattern derived from both,
# 100 bytes in all, so a record moved, cut or altered is caught by comparing bytes.
# shellcheck disable=SC2016
AWK_VALUE='function value(p, s,   pre, h, pad) {
  pre = p ":" s ":"; h = sprintf("%07d", (s * 7919 + p * 104729) % 1000003); pad = ""
  while (length(pad) < 100 - length(pre)) pad = pad h
  return pre substr(pad, 1, 100 - length(pre)) }'

start_broker b1 || { say "kbroker did not start"; exit 1; }
echo "$b1_PID" >"$W/broker.pid.cur"
ktopic -b "$b1_ADDR" create "$TOPIC" -p "$P" >/dev/null || { say "ktopic create failed"; exit 1; }
echo 0 >"$W/epoch"
: >"$W/ledger"

# Producer: one kproduce per chunk, partitions in turn, paced to RATE. Each chunk's line in
# the ledger: partition first last exit-status disturbed (a restart overlapped it).
producer() {
  local -a next
  local p n=0 start rc e0 e1 t0 due
  for ((p = 0; p < P; p++)); do next[p]=0; done
  t0=$EPOCHREALTIME
  while [ ! -e "$W/stop" ]; do
    p=$((n % P))
    start=${next[p]}
    e0=$(cat "$W/epoch")
    touch "$W/inflight"
    awk -v p="$p" -v s="$start" -v n="$CHUNK" "$AWK_VALUE"' BEGIN { for (i = s; i < s + n; i++) print value(p, i) }' |
      timeout 60 kproduce -b "$b1_ADDR" -t "$TOPIC" -p "$p" --acks 1 2>>"$W/producer.err"
    rc=$?
    rm -f "$W/inflight"
    e1=$(cat "$W/epoch")
    echo "$p $start $((start + CHUNK - 1)) $rc $([ "$e0" = "$e1" ] && [ "$rc" = 0 ] && echo 0 || echo 1)" >>"$W/ledger"
    next[p]=$((start + CHUNK))
    n=$((n + 1))
    [ "$rc" = 0 ] || sleep 0.2
    # pace: chunk n is due at t0 + n * CHUNK / RATE
    due=$(awk -v t0="$t0" -v n="$n" -v c="$CHUNK" -v r="$RATE" -v now="$EPOCHREALTIME" 'BEGIN { d = t0 + n * c / r - now; printf "%.3f", (d > 0 ? d : 0) }')
    sleep "$due"
  done
}

# Consumer: kconsume -f with a checkpoint, restarted whenever it exits (as it does when the
# broker goes away); the checkpoint makes each run start where the previous one stopped.
consumer() {
  while [ ! -e "$W/stop-consumer" ]; do
    kconsume -b "$b1_ADDR" -t "$TOPIC" -f --format '%p %o %v\n' --checkpoint "$W/checkpoint.json" \
      >>"$W/live.out" 2>>"$W/consumer.err" &
    echo $! >"$W/kconsume.pid"
    wait $!
    echo "$?" >>"$W/consumer.exits"
    rm -f "$W/kconsume.pid"
    [ -e "$W/stop-consumer" ] || sleep 0.2
  done
}

sampler() {
  local t0=$EPOCHREALTIME pid
  while [ ! -e "$W/stop" ]; do
    pid=$(cat "$W/broker.pid.cur" 2>/dev/null)
    printf '%6.0f %8s %8s %6s %10s\n' "$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" "${pid:-?}" \
      "$(awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status" 2>/dev/null || echo -)" \
      "$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)" "$(wc -l <"$W/ledger")" >>"$W/rss"
    sleep "$SAMPLE_S"
  done
}

producer &
_started_pids+=($!)
PRODUCER=$!
consumer &
_started_pids+=($!)
CONSUMER=$!
sampler &
_started_pids+=($!)
SAMPLER=$!

# Restarts at even intervals, alternating SIGTERM and kill -9, each while a kproduce is in flight.
T0=$EPOCHREALTIME
interval=$(awk -v s="$SECONDS_TOTAL" -v r="$RESTARTS" 'BEGIN { printf "%.2f", s / (r + 1) }')
say "running ${SECONDS_TOTAL}s: $P partitions, ~$RATE rec/s in chunks of $CHUNK, $RESTARTS restarts"
restarts_done=0 term_bad=0
for ((r = 1; r <= RESTARTS; r++)); do
  sleep "$(awk -v t0="$T0" -v now="$EPOCHREALTIME" -v at="$(awk -v i="$interval" -v r="$r" 'BEGIN { print i * r }')" 'BEGIN { d = t0 + at - now; printf "%.3f", (d > 0 ? d : 0) }')"
  for ((i = 0; i < 200; i++)); do [ -e "$W/inflight" ] && break; sleep 0.01; done
  sleep 0.005
  echo $((r * 2 - 1)) >"$W/epoch"
  if ((r % 2 == 1)); then
    stop_broker b1
    rc=$?
    say "restart $r: SIGTERM (broker exit $rc)"
    [ "$rc" = 0 ] || term_bad=$((term_bad + 1))
  else
    kill9_broker b1
    say "restart $r: kill -9"
  fi
  if ! restart_broker b1; then
    say "broker did not come back after restart $r:"
    tail -n 20 "$b1_LOG" >&2
    exit 1
  fi
  echo "$b1_PID" >"$W/broker.pid.cur"
  echo $((r * 2)) >"$W/epoch"
  restarts_done=$r
done
sleep "$(awk -v t0="$T0" -v now="$EPOCHREALTIME" -v s="$SECONDS_TOTAL" 'BEGIN { d = t0 + s - now; printf "%.3f", (d > 0 ? d : 0) }')"

say "stopping producer"
touch "$W/stop"
wait "$PRODUCER" 2>/dev/null
wait "$SAMPLER" 2>/dev/null
total=$(rpc "$b1_ADDR" "{\"op\":\"describe_topic\",\"topic\":\"$TOPIC\"}" | jq -r '[.partitions[].log_end] | add')
say "log holds $total records; waiting for the live consumer to catch up"
for ((i = 0; i < 600; i++)); do
  [ "$(wc -l <"$W/live.out")" -ge "${total:-0}" ] && break
  sleep 0.1
done
touch "$W/stop-consumer"
[ -e "$W/kconsume.pid" ] && kill -TERM "$(cat "$W/kconsume.pid")" 2>/dev/null
wait "$CONSUMER" 2>/dev/null

say "reading the whole topic back"
timeout 300 kconsume -b "$b1_ADDR" -t "$TOPIC" --format '%p %o %v\n' >"$W/final.out" 2>"$W/final.err"
final_rc=$?

# Verify the log against the ledger.
verdict=$(awk -v P="$P" "$AWK_VALUE"'
  FNR == NR { p = $1; i = nc[p]++; cs[p, i] = $2; ce[p, i] = $3; rc[p, i] = $4; dist[p, i] = $5
              if (!(p in last) || $3 > last[p]) last[p] = $3
              if ($4 == 0) acked += $3 - $2 + 1; else failed_chunks++
              next }
  function chunk(p, s,   lo, hi, mid) {
    lo = 0; hi = nc[p] - 1
    while (lo <= hi) { mid = int((lo + hi) / 2)
      if (s < cs[p, mid]) hi = mid - 1; else if (s > ce[p, mid]) lo = mid + 1; else return mid }
    return -1 }
  function gap(p, from, to,   g, c) {
    for (g = from; g <= to; g++) { c = chunk(p, g)
      if (c < 0 || rc[p, c] == 0) { lost++; if (lost <= 5) print "LOST partition " p " seq " g > "/dev/stderr" }
      else unacked_missing++ } }
  {
    part = $1; off = $2; v = $3; records++
    if (!(part in nexto)) nexto[part] = 0
    if (off != nexto[part]) { offerr++; if (offerr <= 5) print "OFFSET partition " part " got " off " want " nexto[part] > "/dev/stderr" }
    nexto[part] = off + 1
    n = split(v, f, ":")
    if (n != 3 || f[1] != part || v != value(part, f[2] + 0)) { corrupt++; if (corrupt <= 5) print "CORRUPT partition " part " offset " off ": " substr(v, 1, 40) > "/dev/stderr"; next }
    s = f[2] + 0; c = chunk(part, s)
    if (c < 0) { unexpected++; next }
    if ((part in maxs) && s <= maxs[part]) {
      if (dist[part, c] && ((part, s) in seen)) dups++
      else { order++; if (order <= 5) print "ORDER partition " part " offset " off " seq " s " after " maxs[part] > "/dev/stderr" }
      next }
    gap(part, (part in maxs) ? maxs[part] + 1 : 0, s - 1)
    maxs[part] = s
    if (dist[part, c]) seen[part, s] = 1
  }
  END {
    for (p in last) gap(p, (p in maxs) ? maxs[p] + 1 : 0, last[p])
    printf "records=%d acked=%d lost=%d corrupt=%d out_of_order=%d offset_errors=%d unexpected=%d retry_duplicates=%d unacked_missing=%d failed_chunks=%d\n",
      records, acked, lost, corrupt, order, offerr, unexpected, dups, unacked_missing, failed_chunks
  }' "$W/ledger" "$W/final.out")

# The live consumer must have seen exactly what the log holds, each record once, in order.
sort -s -n -k1,1 "$W/final.out" >"$W/final.sorted"
sort -s -n -k1,1 "$W/live.out" >"$W/live.sorted"
live_ok=1
if ! cmp -s "$W/final.sorted" "$W/live.sorted"; then
  live_ok=0
  live_diag=$(awk '{ k = $1 " " $2; if (k in seen) d++; seen[k] = 1; n++ } END { printf "live lines=%d duplicates=%d", n, d }' "$W/live.out")
  live_diff=$(diff "$W/final.sorted" "$W/live.sorted" | head -n 6 | cut -c1-60)
fi

echo
echo "kreek soak  $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "${SECONDS_TOTAL}s, $P partitions, ~$RATE rec/s target in chunks of $CHUNK; $restarts_done broker restarts (odd: SIGTERM, even: kill -9)"
echo
echo "broker memory (sampled every ${SAMPLE_S}s):"
printf '%6s %8s %8s %6s %10s\n' "t(s)" "pid" "RSS(MB)" "fds" "chunks"
cat "$W/rss"
awk '$3 != "-" { if (min == "" || $3 < min) min = $3; if ($3 > max) max = $3; last = $3 } END { printf "RSS min %.1f MB, max %.1f MB, last %.1f MB\n", min, max, last }' "$W/rss"
echo
echo "log check:       $verdict"
echo "final read:      kconsume exit $final_rc, $(wc -l <"$W/final.out") records"
echo "live consumer:   $(wc -l <"$W/live.out") records, runs: $(wc -l <"$W/consumer.exits" 2>/dev/null || echo 0) (exit codes: $(sort "$W/consumer.exits" 2>/dev/null | uniq -c | awk '{ printf "%s x%s ", $2, $1 }'))"
[ "$live_ok" = 1 ] && echo "                 identical to the log: every record exactly once, in order" ||
  { echo "                 DIFFERS from the log: $live_diag"; echo "$live_diff" | sed 's/^/                 /'; }
echo "producer:        $(grep -c . "$W/ledger") chunks, failed (not acknowledged): $(awk '$4 != 0' "$W/ledger" | wc -l); achieved $(awk -v n="$(wc -l <"$W/final.out")" -v s="$SECONDS_TOTAL" 'BEGIN { printf "%.0f", n / s }') rec/s"
[ "$term_bad" = 0 ] || echo "WARNING: kbroker exited non-zero on SIGTERM $term_bad time(s)"

bad=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); if (kv[1] ~ /^(lost|corrupt|out_of_order|offset_errors|unexpected)$/) s += kv[2] } } END { print s + 0 }' <<<"$verdict")
if [ "$bad" != 0 ] || [ "$live_ok" != 1 ] || [ "$final_rc" != 0 ] || [ -z "$verdict" ]; then
  echo "soak: FAIL"
  exit 1
fi
echo "soak: PASS"
exit 0
