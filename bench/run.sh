#!/usr/bin/env bash
# bench/run.sh: what `make bench` runs. Measures kreek (produce, consume, latency at 10k-200k
# rec/s with --linger-ms 0 and 1, durable
# appends, start-up with many segments, compaction, a 3-broker cluster, replication: acks,
# latency, follower catch-up and failover) and Redis Streams and the raw disk beside it, all in
# this one run on this machine, and prints one table. A part that fails prints
# "FAILED: reason" and the rest goes on; the script exits 0 whenever the measurements ran.
#
# Env: KREEK_BIN (build dir), BENCH_RECORDS (default 2000000), BENCH_LAT_SECONDS (5),
#      BENCH_FSYNC_SECONDS (5), BENCH_FANOUT (concurrent readers in part B, 8),
#      BENCH_SKIP (letters of parts to skip, e.g. "DF"), BENCH_CLUSTER_PARTITIONS (part H, 1000),
#      BENCH_METADATA_REQUESTS (part H, 200), BENCH_CLUSTER_PASSES (part I produces the
#      records this many times over, 5), BENCH_REPL_RECORDS (part J's records per produce,
#      500000), BENCH_FAILOVERS (part J's leader kills, 5), BENCH_FOLLOW_RECORDS (part K's
#      log file, 1000000), BENCH_GROUP_RECORDS (part M's records, 500000),
#      BENCH_TLS_RECORDS (part T's records, 300000).
set -uo pipefail
export LC_ALL=C
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../tests/lib/common.sh
source "$HERE/../tests/lib/common.sh"

# common.sh's cleanup, timed: removing 10,000 segments can take a while on a busy disk.
bench_cleanup() {
  local t0=$EPOCHREALTIME
  cleanup
  echo "bench: cleanup took $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s" >&2
}
trap bench_cleanup EXIT

N=${BENCH_RECORDS:-2000000}
REC_BYTES=100
LAT_RATE=10000
LAT_SECONDS=${BENCH_LAT_SECONDS:-5}
FSYNC_SECONDS=${BENCH_FSYNC_SECONDS:-5}
SKIP=${BENCH_SKIP:-}
T_START=$EPOCHREALTIME
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

say() { echo "bench: $*" >&2; }
calc() { awk "BEGIN { printf \"%.${2:-1}f\", $1 }"; }  # calc EXPR [DECIMALS]
secs_since() { calc "$EPOCHREALTIME - $1" 3; }
human() { awk -v n="$1" 'BEGIN { if (n >= 1e6) printf "%.2fM", n / 1e6; else if (n >= 1e3) printf "%.1fk", n / 1e3; else printf "%.0f", n }'; }

# The table: rows collected as the parts run, printed at the end.
ROWS=()
row() { ROWS+=("$(printf '%-46s %12s  %-9s %-16s %s' "$1" "$2" "$3" "${4:-}" "${5:-}")"); }
section() { ROWS+=("" "$1"); }
failed_row() { ROWS+=("  FAILED: $1"); say "FAILED: $1"; }
# target VALUE OP LIMIT -> "PASS (>= 500k)" / "MISS (>= 500k)"
target() {
  local ok
  ok=$(awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { ok = (op == ">=" && v >= l) || (op == "<" && v < l); print ok ? 1 : 0 }')
  if [ "$ok" = 1 ]; then echo "PASS ($2 $4)"; else echo "MISS ($2 $4)"; fi
}

# Helpers: from the build (bench/CMakeLists.txt) or compiled here if the build lacks them.
helper() {
  local name=$1
  if [ -x "$KREEK_BIN/bench/$name" ]; then
    echo "$KREEK_BIN/bench/$name"
    return 0
  fi
  mkdir -p "$TEST_TMP/helpers"
  if [ ! -x "$TEST_TMP/helpers/$name" ]; then
    g++ -O2 -std=c++20 -o "$TEST_TMP/helpers/$name" "$HERE/$name.cpp" >&2 || return 1
  fi
  echo "$TEST_TMP/helpers/$name"
}

# CPU seconds (user+sys) a process has used so far.
CLK_TCK=$(getconf CLK_TCK)
cpu_of() { awk -v t="$CLK_TCK" '{ printf "%.2f", ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# The CPU split of a timed run: "client X s, broker Y s of Z s wall".
cpu_note() { echo "CPU: client $(awk '{ printf "%.2f", $1 + $2 }' "$1") s, kbroker $(calc "$3 - $2" 2) s, of ${4}s wall"; }

describe() { rpc "$1" "{\"op\":\"describe_topic\",\"topic\":\"$2\"}"; }
# sum of a partition field (log_end, size, segments) over a topic's partitions
topic_sum() { describe "$1" "$2" | jq -r "[.partitions[].$3] | add // 0" 2>/dev/null; }

# The broker for parts A, B, C and E: started once; a failed start is not retried.
KA_STATE=""
ka_up() {
  [ "$KA_STATE" = up ] && return 0
  [ "$KA_STATE" = failed ] && { PART_ERR="kbroker did not start (earlier part)"; return 1; }
  KA_STATE=failed
  command -v kbroker >/dev/null || { PART_ERR="kbroker not built in $KREEK_BIN"; return 1; }
  if ! start_broker ka; then
    PART_ERR="kbroker did not start: $(tail -n 1 "$ka_LOG")"
    return 1
  fi
  KA_STATE=up
}

# Runs a part function; its failure becomes a FAILED row and the run goes on.
run_part() {
  local letter=$1 title=$2 fn=$3
  section "$letter. $title"
  if [[ $SKIP == *"$letter"* ]]; then
    ROWS+=("  (skipped: BENCH_SKIP=$SKIP)")
    return 0
  fi
  say "part $letter: $title"
  PART_ERR=""
  local t0=$EPOCHREALTIME
  if ! "$fn"; then failed_row "${PART_ERR:-part $letter failed}"; fi
  say "part $letter took $(secs_since "$t0") s"
}

# --- shared state between parts ---
DATA=$TEST_TMP/records.txt
A_OK=0 A_RPS="" A_MBPS="" A_LOG_BYTES=0 A_SECS="" A_LOG_MBPS=""
B_OK=0 B_RPS="" B_LOG_MBPS=""
D_PRODUCE="" D_CONSUME=""

gen_data() {
  # 100-byte records: a 10-digit sequence number, a space, 89 filler bytes (plus '\n').
  awk -v n="$N" 'BEGIN { pad = sprintf("%89s", ""); gsub(/ /, "x", pad); for (i = 0; i < n; i++) printf "%010d %s\n", i, pad }' >"$DATA"
}

part_a() {
  [ -s "$DATA" ] || { PART_ERR="no input data"; return 1; }
  ka_up || return 1
  local t0 rc el
  local TIMEFORMAT='%U %S' bcpu0
  bcpu0=$(cpu_of "$ka_PID")
  t0=$EPOCHREALTIME
  { time timeout 300 kproduce -b "$ka_ADDR" -t bench-produce "$DATA" 2>"$TEST_TMP/a.err"; } 2>"$TEST_TMP/a.time"
  rc=$?
  el=$(secs_since "$t0")
  local cpu
  cpu=$(cpu_note "$TEST_TMP/a.time" "$bcpu0" "$(cpu_of "$ka_PID")" "$el")
  if [ "$rc" != 0 ]; then
    PART_ERR="kproduce exited $rc: $(tail -n 1 "$TEST_TMP/a.err")"
    return 1
  fi
  local n_log flush_m flush_ms flush
  n_log=$(topic_sum "$ka_ADDR" bench-produce log_end)
  A_LOG_BYTES=$(find "$ka_DIR" -path '*bench-produce-*' -name '*.log' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  read -r flush_m flush_ms < <(describe "$ka_ADDR" bench-produce | jq -r '[.config["flush.messages"], .config["flush.ms"]] | map(tostring) | join(" ")' 2>/dev/null)
  case "${flush_m:-?}" in
    -1 | 9223372036854775807 | null | "") flush="flush: OS (default)" ;;
    *) flush="flush.messages=$flush_m" ;;
  esac
  A_SECS=$el
  A_RPS=$(calc "$N / $el" 0)
  A_MBPS=$(calc "$N * $REC_BYTES / 1e6 / $el" 1)
  A_LOG_MBPS=$(calc "$A_LOG_BYTES / 1e6 / $el" 1)
  A_OK=1
  local parts
  parts=$(describe "$ka_ADDR" bench-produce | jq '.partitions | length' 2>/dev/null)
  row "kproduce, 1 process -> 1 broker" "$(human "$A_RPS")" "rec/s" "$(target "$A_RPS" ">=" 500000 500k)" "$flush, acks=1, $parts partition(s), ${el}s"
  row "  payload" "$A_MBPS" "MB/s" "" "$(human "$N") x ${REC_BYTES} B"
  row "  log bytes appended (JSON batches)" "$A_LOG_MBPS" "MB/s" "" "$(calc "$A_LOG_BYTES / 1e6" 1) MB on disk"
  row "  where the time went" "" "" "" "$cpu"
  [ "$n_log" = "$N" ] || row "  WARNING: log_end sum" "$n_log" "records" "" "expected $N"
  row "  broker peak RSS" "$(awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$ka_PID/status" 2>/dev/null)" "MB" "" "VmHWM after produce"
}

part_b() {
  [ "$A_OK" = 1 ] || { PART_ERR="needs part A's log"; return 1; }
  local t0 rc el count
  local TIMEFORMAT='%U %S' bcpu0
  bcpu0=$(cpu_of "$ka_PID")
  t0=$EPOCHREALTIME
  { time timeout 300 kconsume -b "$ka_ADDR" -t bench-produce >/dev/null 2>"$TEST_TMP/b.err"; } 2>"$TEST_TMP/b.time"
  rc=$?
  el=$(secs_since "$t0")
  local cpu
  cpu=$(cpu_note "$TEST_TMP/b.time" "$bcpu0" "$(cpu_of "$ka_PID")" "$el")
  [ "$rc" = 0 ] || { PART_ERR="kconsume exited $rc: $(tail -n 1 "$TEST_TMP/b.err")"; return 1; }
  B_RPS=$(calc "$N / $el" 0)
  B_LOG_MBPS=$(calc "$A_LOG_BYTES / 1e6 / $el" 1)
  B_OK=1
  row "kconsume > /dev/null, whole topic" "$(human "$B_RPS")" "rec/s" "$(target "$B_RPS" ">=" 1000000 1M)" "${el}s, page cache warm"
  row "  payload" "$(calc "$N * $REC_BYTES / 1e6 / $el" 1)" "MB/s" ""
  row "  log bytes read (JSON batches)" "$B_LOG_MBPS" "MB/s" ""
  row "  where the time went" "" "" "" "$cpu"
  # Correctness of what was timed: a second pass counted by wc (not timed into the figure).
  count=$(timeout 300 kconsume -b "$ka_ADDR" -t bench-produce 2>/dev/null | wc -l)
  [ "$count" = "$N" ] || row "  WARNING: kconsume | wc -l" "$count" "records" "" "expected $N"
  # Many readers of one partition: the broker sends from the page cache with
  # sendfile, so its CPU per reader should stay flat as readers are added.
  local readers=${BENCH_FANOUT:-8} i pids=() c0 c1 per
  c0=$(cpu_of "$ka_PID")
  t0=$EPOCHREALTIME
  for ((i = 0; i < readers; i++)); do
    timeout 300 kconsume -b "$ka_ADDR" -t bench-produce >/dev/null 2>>"$TEST_TMP/b.fan.err" &
    pids+=($!)
  done
  rc=0
  for i in "${pids[@]}"; do wait "$i" || rc=$?; done
  el=$(secs_since "$t0")
  c1=$(cpu_of "$ka_PID")
  [ "$rc" = 0 ] || { row "  WARNING: a concurrent kconsume failed" "$rc" "exit" "" "$(tail -n 1 "$TEST_TMP/b.fan.err")"; return 0; }
  per=$(calc "($c1 - $c0) / $readers" 3)
  row "$readers concurrent kconsume, same partition" "$(human "$(calc "$N * $readers / $el" 0)")" "rec/s" "" "all readers together, ${el}s; clients share the 2 cores"
  row "  kbroker CPU per reader" "$per" "s" "" "for $(human "$N") records each (sendfile from page cache)"
}

part_c() {
  local probe
  probe=$(helper latency_probe) || { PART_ERR="cannot build latency_probe"; return 1; }
  ka_up || return 1
  ktopic -b "$ka_ADDR" create bench-latency -p 1 >/dev/null 2>"$TEST_TMP/c.err" || {
    PART_ERR="ktopic create bench-latency: $(tail -n 1 "$TEST_TMP/c.err")"
    return 1
  }
  local warm=$((LAT_RATE)) count=$((LAT_RATE * LAT_SECONDS)) send_s=$((LAT_SECONDS + 2))
  mkfifo "$TEST_TMP/lat.fifo"
  kconsume -b "$ka_ADDR" -t bench-latency -f --format '%v\n' >"$TEST_TMP/lat.fifo" 2>"$TEST_TMP/c.cons.err" &
  local cpid=$!
  _started_pids+=("$cpid")
  timeout $((send_s + 20)) "$probe" recv --warmup "$warm" --count "$count" <"$TEST_TMP/lat.fifo" >"$TEST_TMP/lat.out" &
  local rpid=$!
  sleep 0.5
  "$probe" send --rate "$LAT_RATE" --seconds "$send_s" 2>"$TEST_TMP/c.send.err" |
    timeout $((send_s + 20)) kproduce -b "$ka_ADDR" -t bench-latency --linger-ms 1 2>"$TEST_TMP/c.prod.err"
  local prc=$?
  wait "$rpid"
  local rrc=$?
  kill -TERM "$cpid" 2>/dev/null
  wait "$cpid" 2>/dev/null
  local res
  res=$(cat "$TEST_TMP/lat.out")
  say "latency: $res; $(cat "$TEST_TMP/c.send.err")"
  if [ "$rrc" != 0 ] || [ -z "$res" ]; then
    PART_ERR="latency probe got too few records (recv exit $rrc, kproduce exit $prc: $(tail -n 1 "$TEST_TMP/c.prod.err") $(tail -n 1 "$TEST_TMP/c.cons.err")) $res"
    return 1
  fi
  local p50 p99 p999 max lost
  p50=$(sed -E 's/.*p50_ms=([0-9.]+).*/\1/' <<<"$res")
  p99=$(sed -E 's/.*p99_ms=([0-9.]+).*/\1/' <<<"$res")
  p999=$(sed -E 's/.*p999_ms=([0-9.]+).*/\1/' <<<"$res")
  max=$(sed -E 's/.*max_ms=([0-9.]+).*/\1/' <<<"$res")
  lost=$(sed -E 's/.*lost=([0-9]+).*/\1/' <<<"$res")
  local how="kproduce --linger-ms 1 | kconsume -f (CLI pipes)"
  row "latency p50 at $(human $LAT_RATE) rec/s" "$p50" "ms" "" "$how"
  row "latency p99" "$p99" "ms" "$(target "$p99" "<" 5 "5 ms")" "$(human "$count") records after $(human "$warm") warm-up"
  row "latency p99.9 / max" "$p999 / $max" "ms" "" "send time = scheduled time (no coordinated omission)"
  [ "$lost" = 0 ] || row "  WARNING: records missing in sequence" "$lost" "records" ""
  # The probe's own floor: the same pacer and reader joined by a plain pipe.
  local floor
  floor=$("$probe" send --rate "$LAT_RATE" --seconds 3 2>/dev/null | "$probe" recv --warmup 5000 --count 20000)
  row "  probe floor (pacer | reader, no kreek) p50/p99" "$(sed -E 's/.*p50_ms=([0-9.]+).*p99_ms=([0-9.]+).*/\1 \/ \2/' <<<"$floor")" "ms" "" "timer + pipe wake-ups"
}

# L: produce-to-consume latency at the rates a busy application log reaches, with
# and without the producer's linger: one fresh topic per run, the probe's
# pacer | kproduce --linger-ms L ... kconsume -f | the probe's reader.
part_l() {
  local probe rate linger
  probe=$(helper latency_probe) || { PART_ERR="cannot build latency_probe"; return 1; }
  ka_up || return 1
  # The pacer alone: it must keep its schedule at the highest rate, or the
  # figures below measure the probe.
  local alone
  alone=$("$probe" send --rate 500000 --seconds 2 2>&1 >/dev/null)
  row "pacer alone at 500k rec/s (into /dev/null)" "$(sed -E 's/.* in ([0-9.]+) s.*/\1/' <<<"$alone")" "s" \
    "$(target "$(sed -E 's/.* in ([0-9.]+) s.*/\1/' <<<"$alone")" "<" 2.5 "2.5 s")" "scheduled 2 s; $(sed -E 's/.*writes, //' <<<"$alone")"
  for rate in 10000 100000 200000; do
    for linger in 0 1; do
      local topic="bench-lat-$rate-$linger" secs=$LAT_SECONDS
      local warm=$rate count=$((rate * secs)) send_s=$((secs + 2))
      ktopic -b "$ka_ADDR" create "$topic" -p 1 >/dev/null 2>"$TEST_TMP/l.err" || {
        failed_row "ktopic create $topic: $(tail -n 1 "$TEST_TMP/l.err")"
        continue
      }
      rm -f "$TEST_TMP/l.fifo"
      mkfifo "$TEST_TMP/l.fifo"
      kconsume -b "$ka_ADDR" -t "$topic" -f --format '%v\n' >"$TEST_TMP/l.fifo" 2>"$TEST_TMP/l.cons.err" &
      local cpid=$!
      _started_pids+=("$cpid")
      timeout $((send_s + 30)) "$probe" recv --warmup "$warm" --count "$count" <"$TEST_TMP/l.fifo" >"$TEST_TMP/l.out" &
      local rpid=$!
      sleep 0.5
      "$probe" send --rate "$rate" --seconds "$send_s" 2>"$TEST_TMP/l.send.err" |
        timeout $((send_s + 30)) kproduce -b "$ka_ADDR" -t "$topic" --linger-ms "$linger" 2>"$TEST_TMP/l.prod.err"
      wait "$rpid"
      local rrc=$?
      kill -TERM "$cpid" 2>/dev/null
      wait "$cpid" 2>/dev/null
      local res
      res=$(cat "$TEST_TMP/l.out")
      say "latency $rate rec/s linger $linger: $res; $(cat "$TEST_TMP/l.send.err")"
      if [ "$rrc" != 0 ] || [ -z "$res" ]; then
        row "p50 / p99 at $(human "$rate") rec/s, --linger-ms $linger" "-" "ms" "" \
          "too few records: ${res:-none} $(tail -n 1 "$TEST_TMP/l.prod.err")"
        continue
      fi
      row "p50 / p99 at $(human "$rate") rec/s, --linger-ms $linger" \
        "$(sed -E 's/.*p50_ms=([0-9.]+).*p99_ms=([0-9.]+).*/\1 \/ \2/' <<<"$res")" "ms" "" \
        "$(human "$count") records; max $(sed -E 's/.*max_ms=([0-9.]+).*/\1/' <<<"$res") ms; lost $(sed -E 's/.*lost=([0-9]+).*/\1/' <<<"$res")"
    done
  done
}

free_port() {
  local p i
  for ((i = 0; i < 50; i++)); do
    p=$((20000 + RANDOM % 30000))
    ss -Htln "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return 0; }
  done
  return 1
}

REDIS_PORT="" REDIS_PID=""
start_redis() {
  local try
  mkdir -p "$TEST_TMP/redis"
  for try in 1 2 3 4 5; do
    REDIS_PORT=$(free_port) || return 1
    : >"$TEST_TMP/redis/log"
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$TEST_TMP/redis" --appendonly yes \
      --appendfsync everysec --save '' --daemonize no --logfile "$TEST_TMP/redis/log" &
    REDIS_PID=$!
    _started_pids+=("$REDIS_PID")
    if wait_for_line "$TEST_TMP/redis/log" 'Ready to accept connections' 10 2>/dev/null &&
      [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; then
      return 0
    fi
    kill -9 "$REDIS_PID" 2>/dev/null
    wait "$REDIS_PID" 2>/dev/null
  done
  return 1
}

part_d() {
  command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null || {
    PART_ERR="redis-server/redis-benchmark not installed (make bench-deps)"
    return 1
  }
  local walk
  walk=$(helper redis_walk) || { PART_ERR="cannot build redis_walk"; return 1; }
  start_redis || { PART_ERR="redis-server did not start: $(tail -n 2 "$TEST_TMP/redis/log")"; return 1; }
  local val out rps xlen t0 el
  val=$(printf "%0${REC_BYTES}d" 0 | tr 0 x)
  t0=$EPOCHREALTIME
  out=$(timeout 300 redis-benchmark -p "$REDIS_PORT" -c 1 -P 64 -n "$N" XADD bench '*' v "$val" 2>&1)
  el=$(secs_since "$t0")
  rps=$(grep -Eo 'throughput summary: [0-9.]+' <<<"$out" | awk '{ printf "%.0f", $3 }')
  [ -z "$rps" ] && rps=$(grep -Eo '[0-9.]+ requests per second' <<<"$out" | tail -n 1 | awk '{ printf "%.0f", $1 }')
  xlen=$(redis-cli -p "$REDIS_PORT" XLEN bench)
  if [ -z "$rps" ]; then
    PART_ERR="cannot parse redis-benchmark output: $(tail -n 2 <<<"$out")"
    return 1
  fi
  D_PRODUCE=$rps
  row "redis XADD, redis-benchmark -c 1 -P 64" "$(human "$rps")" "rec/s" "" "redis: appendfsync everysec, ${REC_BYTES} B value, XLEN $xlen, ${el}s"
  local wout
  wout=$(timeout 120 "$walk" "$REDIS_PORT" bench --count 100)
  D_CONSUME=$(sed -nE 's/.*records_per_s=([0-9.]+).*/\1/p' <<<"$wout" | awk '{ printf "%.0f", $1 }')
  if [ -n "$D_CONSUME" ]; then
    row "redis XRANGE walk, 100 per call" "$(human "$D_CONSUME")" "rec/s" "" "whole stream once, exclusive start ids (bench/redis_walk)"
  else
    row "redis XRANGE walk" "FAILED" "" "" "$wout"
  fi
  [ "$A_OK" = 1 ] && row "ratio kreek/redis produce" "$(calc "$A_RPS / $D_PRODUCE" 2)" "x" ""
  [ "$B_OK" = 1 ] && [ -n "$D_CONSUME" ] && row "ratio kreek/redis consume" "$(calc "$B_RPS / $D_CONSUME" 2)" "x" ""
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1
  wait "$REDIS_PID" 2>/dev/null
  return 0
}

part_e() {
  local fsl
  fsl=$(helper fsync_loop) || { PART_ERR="cannot build fsync_loop"; return 1; }
  # 1. raw sequential write of the same size as A's log
  if [ "$A_OK" = 1 ]; then
    local mb out secs bytes dd_mbps dd_nosync
    mb=$(((A_LOG_BYTES + 1048575) / 1048576))
    out=$(dd if=/dev/zero of="$TEST_TMP/dd.bin" bs=1M count="$mb" conv=fdatasync 2>&1 | tail -n 1)
    bytes=$(awk '{ print $1 }' <<<"$out")
    secs=$(awk -F', ' '{ split($(NF-1), a, " "); print a[1] }' <<<"$out")
    dd_mbps=$(calc "$bytes / 1e6 / $secs" 1)
    rm -f "$TEST_TMP/dd.bin"
    out=$(dd if=/dev/zero of="$TEST_TMP/dd.bin" bs=1M count="$mb" 2>&1 | tail -n 1)
    dd_nosync=$(calc "$(awk '{ print $1 }' <<<"$out") / 1e6 / $(awk -F', ' '{ split($(NF-1), a, " "); print a[1] }' <<<"$out")" 1)
    rm -f "$TEST_TMP/dd.bin"
    row "dd write ${mb} MiB, conv=fdatasync" "$dd_mbps" "MB/s" "" "same size as A's log"
    row "dd write ${mb} MiB, no sync (page cache)" "$dd_nosync" "MB/s" ""
    row "ratio kreek append / dd fdatasync" "$(calc "$A_LOG_MBPS / $dd_mbps" 2)" "x" "" "kreek (OS flush) does not fsync; dd does"
    row "ratio kreek append / dd page cache" "$(calc "$A_LOG_MBPS / $dd_nosync" 2)" "x" "" "like for like: neither syncs"
    # 2. raw read of A's segments, page cache warm (nothing dropped) as it was for B
    local t0 el cat_mbps
    t0=$EPOCHREALTIME
    find "$ka_DIR" -path '*bench-produce-*' -name '*.log' -print0 | xargs -0 cat >/dev/null
    el=$(secs_since "$t0")
    cat_mbps=$(calc "$A_LOG_BYTES / 1e6 / $el" 1)
    row "cat segments > /dev/null" "$cat_mbps" "MB/s" "" "page cache warm (nothing dropped), as for B"
    [ "$B_OK" = 1 ] && row "ratio kconsume / cat (log bytes)" "$(calc "$B_LOG_MBPS / $cat_mbps" 2)" "x" ""
  else
    ROWS+=("  (dd and cat comparisons need part A)")
  fi
  # 3. durable appends: flush.messages=1 topic vs a write+fdatasync loop
  ka_up || return 1
  [ -s "$DATA" ] || { PART_ERR="no input data"; return 1; }
  ktopic -b "$ka_ADDR" create bench-fsync -p 1 --config flush.messages=1 >/dev/null 2>"$TEST_TMP/e.err" || {
    PART_ERR="ktopic create bench-fsync --config flush.messages=1: $(tail -n 1 "$TEST_TMP/e.err")"
    return 1
  }
  local t0 el rc n batches seg_bytes
  t0=$EPOCHREALTIME
  # Bounded in time: SIGTERM after FSYNC_SECONDS lets kproduce finish what is in flight.
  timeout -k 10 "$FSYNC_SECONDS" kproduce -b "$ka_ADDR" -t bench-fsync --acks 1 "$DATA" 2>"$TEST_TMP/e.prod.err"
  rc=$?
  el=$(secs_since "$t0")
  n=$(topic_sum "$ka_ADDR" bench-fsync log_end)
  batches=$(find "$ka_DIR" -path '*bench-fsync-*' -name '*.log' -print0 | xargs -0 cat | wc -l)
  seg_bytes=$(find "$ka_DIR" -path '*bench-fsync-*' -name '*.log' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
  if [ -z "$n" ] || [ "$n" = 0 ] || [ "$batches" = 0 ]; then
    PART_ERR="flush.messages=1 produce wrote nothing (kproduce exit $rc: $(tail -n 1 "$TEST_TMP/e.prod.err"))"
    return 1
  fi
  local k_rps per_batch batch_bytes
  k_rps=$(calc "$n / $el" 0)
  per_batch=$(calc "$n / $batches" 0)
  batch_bytes=$(calc "$seg_bytes / $batches" 0)
  row "kproduce, flush.messages=1, acks=1" "$(human "$k_rps")" "rec/s" "" "$(human "$n") records, ${el}s, $batches batches (fsyncs), ~$per_batch rec/batch"
  local loop_batch loop_rec lb lr
  loop_batch=$("$fsl" "$TEST_TMP/fsync.dat" --write-bytes "$batch_bytes" --record-bytes "$(calc "$batch_bytes / $per_batch" 0)" --seconds "$FSYNC_SECONDS")
  loop_rec=$("$fsl" "$TEST_TMP/fsync.dat" --write-bytes "$REC_BYTES" --record-bytes "$REC_BYTES" --seconds "$FSYNC_SECONDS")
  rm -f "$TEST_TMP/fsync.dat"
  lb=$(sed -nE 's/.*records_per_s=([0-9.]+).*/\1/p' <<<"$loop_batch")
  lr=$(sed -nE 's/.*writes_per_s=([0-9.]+).*/\1/p' <<<"$loop_rec")
  row "fsync_loop, write($batch_bytes B)+fdatasync" "$(human "$lb")" "rec/s" "" "same batch size as kreek's ($per_batch rec); $(sed -nE 's/.*writes_per_s=([0-9.]+).*/\1/p' <<<"$loop_batch") fsyncs/s"
  row "fsync_loop, write(100 B)+fdatasync" "$(human "$lr")" "rec/s" "" "one fsync per record"
  row "ratio kreek fsync-always / fsync_loop batch" "$(calc "$k_rps / $lb" 2)" "x" ""
}

# Restarts broker kf, waiting up to two minutes (start-up with 10,000 segments can take
# longer than a test's 20 s), and sets RESTART_SECS to the time until it listens.
RESTART_SECS=""
restart_timed() {
  local t0=$EPOCHREALTIME
  BROKER_START_SECONDS=120 restart_broker kf || return 1
  RESTART_SECS=$(secs_since "$t0")
}

# stop_timed NAME SECS: SIGTERM, then kill -9 if it is still running after SECS; sets
# STOP_SECS and STOP_RC (124 when it had to be killed).
STOP_SECS="" STOP_RC=""
stop_timed() {
  local pid_var="${1}_PID" t0=$EPOCHREALTIME i
  local pid=${!pid_var}
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < $2 * 20; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    STOP_RC=124
  else
    wait "$pid"
    STOP_RC=$?
  fi
  STOP_SECS=$(secs_since "$t0")
}

part_f() {
  local topics=10 parts=100 seg=1024 want=${BENCH_SCALE_SEGMENTS:-10000} f0=$EPOCHREALTIME
  # Stay under the open-files limit (kbroker holds three descriptors per partition plus up to
  # --max-open-segments for closed segments): never start a round that would take it past 85%
  # of ulimit -n, or the run measures EMFILE instead.
  local fdlim fds=0 fd_gain=0
  fdlim=$(ulimit -n)
  command -v kbroker >/dev/null || { PART_ERR="kbroker not built in $KREEK_BIN"; return 1; }
  start_broker kf || { PART_ERR="kbroker did not start: $(tail -n 1 "$kf_LOG")"; return 1; }
  local t
  for ((t = 0; t < topics; t++)); do
    ktopic -b "$kf_ADDR" create "scale-$t" -p "$parts" --config "segment.bytes=$seg" >/dev/null 2>"$TEST_TMP/f.err" || {
      PART_ERR="ktopic create scale-$t -p $parts --config segment.bytes=$seg: $(tail -n 1 "$TEST_TMP/f.err")"
      return 1
    }
  done
  # Keyed records spread over every partition in ~1 KB batches, so each batch rolls a
  # segment; rounds until the target, never starting a round that would overshoot the cap.
  local round segs=0 per_topic=500 produce_err="" fd_capped=0
  for ((round = 0; round < 16 && segs < want; round++)); do
    if ((fds + fd_gain > fdlim * 85 / 100)); then
      fd_capped=1
      say "stopping at $segs segments: kbroker holds $fds fds, ulimit -n $fdlim"
      break
    fi
    local fds_before=$fds
    for ((t = 0; t < topics; t++)); do
      awk -v n=$per_topic -v r=$round -v t=$t 'BEGIN { pad = sprintf("%80s", ""); gsub(/ /, "y", pad); for (i = 0; i < n; i++) printf "k%d-%d|%08d%s\n", i, t, r * n + i, pad }' |
        timeout 120 kproduce -b "$kf_ADDR" -t "scale-$t" -K '|' --batch-bytes 1000 --linger-ms 1 2>"$TEST_TMP/f.err" || {
        produce_err="kproduce into scale-$t failed: $(tail -n 1 "$TEST_TMP/f.err")"
        break 2
      }
    done
    segs=$(find "$kf_DIR" -name '*.log' | wc -l)
    fds=$(find "/proc/$kf_PID/fd" -mindepth 1 2>/dev/null | wc -l)
    fd_gain=$((fds - fds_before))
    say "scale round $round: $segs segments, kbroker holds $fds fds (part F at $(secs_since "$f0") s)"
  done
  segs=$(find "$kf_DIR" -name '*.log' | wc -l)
  if [ -n "$produce_err" ]; then
    say "$produce_err"
    row "  WARNING: produce stopped at $segs segments" "" "" "" "${produce_err:0:160}"
    kill -0 "$kf_PID" 2>/dev/null || { PART_ERR="kbroker died: $(tail -n 1 "$kf_LOG")"; return 1; }
  fi
  local records_before records_after
  records_before=$(for ((t = 0; t < topics; t++)); do topic_sum "$kf_ADDR" "scale-$t" log_end; done | awk '{ s += $1 } END { print s }')
  local fds_before
  fds_before=$(find "/proc/$kf_PID/fd" -mindepth 1 2>/dev/null | wc -l)
  say "produced $records_before records in $segs segments (part F at $(secs_since "$f0") s); stopping"
  stop_timed kf 120
  local el_stop=$STOP_SECS src=$STOP_RC
  say "stopped in $el_stop s, exit $src (part F at $(secs_since "$f0") s)"
  local clean unclean
  restart_timed || { PART_ERR="restart after SIGTERM failed: $(tail -n 2 "$kf_LOG" | cut -c1-300)"; return 1; }
  clean=$RESTART_SECS
  records_after=$(for ((t = 0; t < topics; t++)); do topic_sum "$kf_ADDR" "scale-$t" log_end; done | awk '{ s += $1 } END { print s }')
  kill9_broker kf
  restart_timed || { PART_ERR="restart after kill -9 failed: $(tail -n 2 "$kf_LOG" | cut -c1-300)"; return 1; }
  unclean=$RESTART_SECS
  local fds rss
  fds=$(find "/proc/$kf_PID/fd" -mindepth 1 2>/dev/null | wc -l)
  rss=$(awk '/VmRSS/ { printf "%.0f", $2 / 1024 }' "/proc/$kf_PID/status" 2>/dev/null)
  local note="$((topics * parts)) partitions, $segs segments, segment.bytes=$seg"
  [ "$fd_capped" = 1 ] && note="$note (stopped short of $want: open-files limit)"
  row "restart to 'listening on', after SIGTERM" "$clean" "s" "" "$note"
  row "restart to 'listening on', after kill -9" "$unclean" "s" "" "recovery of unflushed tails"
  local stop_note="exit $src"
  [ "$src" = 124 ] && stop_note="did not exit within 120 s: killed"
  row "  shutdown on SIGTERM" "$el_stop" "s" "" "$stop_note; $(human "$records_before") records"
  row "  broker open fds: before stop / after restart" "$fds_before / $fds" "fds" "" "ulimit -n $fdlim"
  row "  broker RSS after restart" "$rss" "MB" ""
  [ "$records_before" = "$records_after" ] || row "  WARNING: records after restart" "$records_after" "" "" "before: $records_before"
  kill9_broker kf  # measured above; a second slow shutdown would only cost time
  return 0
}

# G: log compaction. Keyed records in runs of 100 per key over 1000 keys, so
# almost every record is superseded; the figure is the cleaner's own worker
# time from its log line (scan + rewrite), not the produce.
part_g() {
  [ -s "$DATA" ] || { PART_ERR="no input data"; return 1; }
  local n=$((N / 4)) keyed="$TEST_TMP/keyed.txt"
  awk -v n="$n" 'BEGIN { pad = sprintf("%80s", ""); gsub(/ /, "x", pad); for (i = 0; i < n; i++) printf "key-%04d:%s\n", int(i / 100) % 1000, pad }' >"$keyed"
  start_broker kc --compaction-check-interval-ms 200 --retention-check-interval-ms 100 || {
    PART_ERR="kbroker did not start: $(tail -n 1 "$kc_LOG")"
    return 1
  }
  ktopic -b "$kc_ADDR" create bench-compact -p 1 -c cleanup.policy=compact -c segment.ms=1000 \
    -c min.cleanable.dirty.ratio=0.01 >/dev/null 2>"$TEST_TMP/g.err" || {
    PART_ERR="ktopic create bench-compact: $(tail -n 1 "$TEST_TMP/g.err")"
    stop_broker kc
    return 1
  }
  kproduce -b "$kc_ADDR" -t bench-compact -K : "$keyed" 2>"$TEST_TMP/g.prod.err" || {
    PART_ERR="kproduce: $(tail -n 1 "$TEST_TMP/g.prod.err")"
    stop_broker kc
    return 1
  }
  if ! wait_for_line "$kc_LOG" "compacted bench-compact/0 offsets \\[0, $n\\)" 120; then
    PART_ERR="no compaction of all $n records within 120 s"
    stop_broker kc
    return 1
  fi
  local line before after bb ba ms
  line=$(grep -E "compacted bench-compact/0 offsets \\[0, $n\\)" "$kc_LOG" | tail -n 1)
  before=$(sed -nE 's/.*: ([0-9]+) -> ([0-9]+) records.*/\1/p' <<<"$line")
  after=$(sed -nE 's/.*: ([0-9]+) -> ([0-9]+) records.*/\2/p' <<<"$line")
  bb=$(sed -nE 's/.*records, ([0-9.]+ [KM]?i?B) -> ([0-9.]+ [KM]?i?B),.*/\1/p' <<<"$line")
  ba=$(sed -nE 's/.*records, ([0-9.]+ [KM]?i?B) -> ([0-9.]+ [KM]?i?B),.*/\2/p' <<<"$line")
  ms=$(sed -nE 's/.* ([0-9]+) ms$/\1/p' <<<"$line")
  [ -n "$ms" ] && [ "$ms" -gt 0 ] || ms=1
  row "compaction, $(human "$before") keyed records" "$(human "$(calc "$before * 1000 / $ms" 0)")" "rec/s" "" "$before -> $after records, $bb -> $ba, ${ms} ms worker time"
  stop_broker kc || say "warning: kbroker exited $? on SIGTERM"
}

# --- H and I: a cluster (kzk-lite + 3 brokers) ---

# cluster_up PREFIX [kzk-lite flags...]: kzk-lite PREFIXz and brokers PREFIX1..3 (node ids
# 1..3) joined to it (each waits until its broker is registered and live); sets CLUSTER_BOOT
# to the three broker addresses.
CLUSTER_BOOT=""
cluster_up() {
  local p=$1 i n
  shift
  command -v kzk-lite >/dev/null || { PART_ERR="kzk-lite not built in $KREEK_BIN"; return 1; }
  start_kzk "${p}z" "$@" || { n="${p}z_LOG"; PART_ERR="kzk-lite did not start: $(tail -n 1 "${!n}")"; return 1; }
  n="${p}z_ADDR"
  local zaddr=${!n} baddrs=()
  for i in 1 2 3; do
    # shellcheck disable=SC2086 # CLUSTER_BROKER_FLAGS: extra kbroker flags, split on spaces
    start_broker "$p$i" --coordinator "$zaddr" --node-id "$i" ${CLUSTER_BROKER_FLAGS:-} || {
      n="$p${i}_LOG"
      PART_ERR="kbroker $p$i did not join the cluster: $(tail -n 1 "${!n}")"
      return 1
    }
    n="$p${i}_ADDR"
    baddrs+=("${!n}")
  done
  CLUSTER_BOOT=$(IFS=,; echo "${baddrs[*]}")
}

cluster_down() {
  local p=$1 i
  for i in 1 2 3; do kill9_broker "$p$i"; done  # nothing measured on shutdown
  kill9_broker "${p}z"
}

# describe_cluster at ADDR as "live-count leaderless-count leader_of,leader_of,..."
cluster_health() {
  rpc "$1" '{"op":"describe_cluster"}' |
    jq -r '"\([.brokers[] | select(.state == "live")] | length) \(.leaderless_partitions // 0) \([.brokers[].leader_of] | map(tostring) | join(","))"' 2>/dev/null
}

# CPU seconds (user+sys) used so far by all the given processes together.
cpu_of_all() {
  local pid s=0
  for pid in "$@"; do s=$(calc "$s + $(cpu_of "$pid")" 2); done
  echo "$s"
}

# H: what a client pays to refresh metadata once a cluster holds many partitions, and
# what creating them through the coordinator costs.
part_h() {
  local timer parts=${BENCH_CLUSTER_PARTITIONS:-1000} reqs=${BENCH_METADATA_REQUESTS:-200}
  timer=$(helper rpc_timer) || { PART_ERR="cannot build rpc_timer"; return 1; }
  cluster_up h || return 1
  local t0 rc el_create el_healthy="" health live=0 leaderless=1 spread="" have=0 fenced
  t0=$EPOCHREALTIME
  timeout 300 ktopic -b "$CLUSTER_BOOT" create bench-meta -p "$parts" >/dev/null 2>"$TEST_TMP/h.err"
  rc=$?
  el_create=$(secs_since "$t0")
  # The create answers once one broker has the topic (or gives up waiting; the coordinator
  # may still finish it); the cluster is whole again when all three brokers are live, the
  # topic has every partition and every partition has a leader.
  local deadline
  deadline=$(calc "$EPOCHREALTIME + 120" 3)
  while [ "$(calc "$EPOCHREALTIME < $deadline" 0)" = 1 ]; do
    health=$(cluster_health "$h1_ADDR")
    read -r live leaderless spread <<<"$health"
    have=$(rpc "$h1_ADDR" '{"op":"metadata","topics":["bench-meta"]}' | jq '[.topics[].partitions[]?] | length' 2>/dev/null)
    [ "${live:-0}" = 3 ] && [ "${leaderless:-1}" = 0 ] && [ "${have:-0}" = "$parts" ] && {
      el_healthy=$(secs_since "$t0")
      break
    }
    sleep 0.05
  done
  fenced=$(grep -c 'missed its session' "$hz_LOG")
  if [ "$rc" = 0 ]; then
    row "create topic, $parts partitions over 3 brokers" "$el_create" "s" "" "ktopic create via kzk-lite, until it answers"
  else
    row "  WARNING: ktopic create failed after" "$el_create" "s" "" "exit $rc: $(tail -n 1 "$TEST_TMP/h.err" | cut -c1-100)"
  fi
  [ "$fenced" = 0 ] || row "  WARNING: broker sessions lost meanwhile" "$fenced" "fencings" "" "kzk-lite: 'missed its session of 3000 ms' while brokers created partitions"
  if [ -z "$el_healthy" ]; then
    PART_ERR="120 s after ktopic create -p $parts: ${have:-?} partitions known, ${leaderless:-?} leaderless, ${live:-?} of 3 brokers live"
    cluster_down h
    return 1
  fi
  row "  until every partition has a leader" "$el_healthy" "s" "" "from the create; leaders per broker: $spread"
  # What each broker holds for the topic: partition directories on disk and open fds.
  local b d pid dirs=() fds=()
  for b in 1 2 3; do
    d="h${b}_DIR" pid="h${b}_PID"
    dirs+=("$(find "${!d}" -maxdepth 1 -type d -name 'bench-meta-*' | wc -l)")
    fds+=("$(find "/proc/${!pid}/fd" -mindepth 1 2>/dev/null | wc -l)")
  done
  row "  partition logs on disk, all 3 brokers" "$((dirs[0] + dirs[1] + dirs[2]))" "dirs" "" "per broker: $(IFS=,; echo "${dirs[*]}"), open fds $(IFS=,; echo "${fds[*]}"); replication factor 1"
  # Timed from a client on a broker other than the one the create went through.
  local out c0 c1 p50 p99 bytes n_parts per
  c0=$(cpu_of "$h2_PID")
  out=$(timeout 120 "$timer" "$h2_ADDR" '{"op":"metadata"}' --count "$reqs" --warmup 20 2>"$TEST_TMP/h.timer.err")
  c1=$(cpu_of "$h2_PID")
  say "metadata: $out"
  p50=$(sed -nE 's/.*p50_ms=([0-9.]+).*/\1/p' <<<"$out")
  [ -n "$p50" ] || { PART_ERR="rpc_timer metadata: $(tail -n 1 "$TEST_TMP/h.timer.err") $out"; cluster_down h; return 1; }
  p99=$(sed -nE 's/.*p99_ms=([0-9.]+).*/\1/p' <<<"$out")
  bytes=$(sed -nE 's/.*bytes=([0-9]+).*/\1/p' <<<"$out")
  n_parts=$(rpc "$h2_ADDR" '{"op":"metadata"}' | jq '[.topics[].partitions[]] | length' 2>/dev/null)
  per=$(calc "($c1 - $c0) * 1000 / ($reqs + 20)" 2)
  row "metadata (all topics) p50 / p99" "$p50 / $p99" "ms" "" "$reqs requests after 20 warm-up, one connection, one in flight"
  row "  response size" "$(calc "$bytes / 1000" 1)" "kB" "" "${n_parts:-?} partitions, 3 brokers, one JSON line"
  row "  kbroker CPU per metadata request" "$per" "ms" "" "CPU time of the answering broker / requests"
  out=$(timeout 120 "$timer" "$h2_ADDR" '{"op":"metadata"}' --count "$reqs" --warmup 20 --reconnect 2>>"$TEST_TMP/h.timer.err")
  say "metadata, new connection each: $out"
  p50=$(sed -nE 's/.*p50_ms=([0-9.]+).*/\1/p' <<<"$out")
  p99=$(sed -nE 's/.*p99_ms=([0-9.]+).*/\1/p' <<<"$out")
  [ -n "$p50" ] && row "  with a new connection each, p50 / p99" "$p50 / $p99" "ms" "" "connect + request, as a short-lived CLI does"
  cluster_down h
  # The same on one standalone broker (its coordinator embedded), to tell the cluster's
  # share from the cost of the partitions themselves.
  start_broker hs || { PART_ERR="kbroker did not start: $(tail -n 1 "$hs_LOG")"; return 1; }
  t0=$EPOCHREALTIME
  timeout 300 ktopic -b "$hs_ADDR" create bench-meta -p "$parts" >/dev/null 2>"$TEST_TMP/h.err"
  rc=$?
  el_create=$(secs_since "$t0")
  if [ "$rc" = 0 ]; then
    row "  same create on 1 standalone broker" "$el_create" "s" "" "kbroker CPU $(cpu_of "$hs_PID") s since start"
    out=$(timeout 120 "$timer" "$hs_ADDR" '{"op":"metadata"}' --count "$reqs" --warmup 20 2>>"$TEST_TMP/h.timer.err")
    p50=$(sed -nE 's/.*p50_ms=([0-9.]+).*/\1/p' <<<"$out")
    p99=$(sed -nE 's/.*p99_ms=([0-9.]+).*/\1/p' <<<"$out")
    bytes=$(sed -nE 's/.*bytes=([0-9]+).*/\1/p' <<<"$out")
    [ -n "$p50" ] && row "  metadata on 1 standalone broker, p50 / p99" "$p50 / $p99" "ms" "" "$(calc "${bytes:-0} / 1000" 1) kB"
  else
    row "  WARNING: standalone ktopic create failed after" "$el_create" "s" "" "exit $rc: $(tail -n 1 "$TEST_TMP/h.err" | cut -c1-100)"
  fi
  kill9_broker hs
  rm -rf "$hs_DIR"
  return 0
}

# Part I's input: the data file named I_PASSES times on one kproduce command line, so the run
# lasts a few seconds without a bigger file on disk.
I_PASSES=${BENCH_CLUSTER_PASSES:-5}
I_N=$((N * I_PASSES))

# topic_sum_all ADDRS TOPIC: records in a topic over all the given brokers (each broker's
# describe_topic gives log_end only for the partitions it holds, null for the rest).
topic_sum_all() {
  local a
  for a in ${1//,/ }; do describe "$a" "$2"; done | jq -s '[.[].partitions[].log_end] | add // 0' 2>/dev/null
}

# timed_produce ADDRS TOPIC BROKER-PID...: one kproduce of part I's input; sets TP_SECS,
# TP_RPS, TP_MBPS, TP_CPU (client and brokers' CPU seconds) or PART_ERR.
TP_SECS="" TP_RPS="" TP_MBPS="" TP_CPU=""
timed_produce() {
  local addrs=$1 topic=$2 t0 rc el bcpu0 bcpu1 n_log files=() i
  shift 2
  for ((i = 0; i < I_PASSES; i++)); do files+=("$DATA"); done
  local TIMEFORMAT='%U %S'
  bcpu0=$(cpu_of_all "$@")
  t0=$EPOCHREALTIME
  { time timeout 300 kproduce -b "$addrs" -t "$topic" "${files[@]}" 2>"$TEST_TMP/i.err"; } 2>"$TEST_TMP/i.time"
  rc=$?
  el=$(secs_since "$t0")
  bcpu1=$(cpu_of_all "$@")
  [ "$rc" = 0 ] || { PART_ERR="kproduce -t $topic exited $rc: $(tail -n 1 "$TEST_TMP/i.err")"; return 1; }
  n_log=$(topic_sum_all "$addrs" "$topic")
  [ "$n_log" = "$I_N" ] || { PART_ERR="$topic holds ${n_log:-?} records after kproduce, expected $I_N"; return 1; }
  TP_SECS=$el
  TP_RPS=$(calc "$I_N / $el" 0)
  TP_MBPS=$(calc "$I_N * $REC_BYTES / 1e6 / $el" 1)
  TP_CPU="CPU: client $(awk '{ printf "%.2f", $1 + $2 }' "$TEST_TMP/i.time") s, brokers $(calc "$bcpu1 - $bcpu0" 2) s, of ${el}s wall"
}

# I: the same produce to 6 partitions on one standalone broker and over a fresh cluster of 3.
part_i() {
  [ -s "$DATA" ] || { PART_ERR="no input data"; return 1; }
  local parts=6 s_rps s_mbps c_rps spread zc0
  command -v kbroker >/dev/null || { PART_ERR="kbroker not built in $KREEK_BIN"; return 1; }
  start_broker is || { PART_ERR="kbroker did not start: $(tail -n 1 "$is_LOG")"; return 1; }
  ktopic -b "$is_ADDR" create bench-six -p $parts >/dev/null 2>"$TEST_TMP/i.err" || {
    PART_ERR="ktopic create bench-six -p $parts (standalone): $(tail -n 1 "$TEST_TMP/i.err")"
    return 1
  }
  timed_produce "$is_ADDR" bench-six "$is_PID" || return 1
  s_rps=$TP_RPS s_mbps=$TP_MBPS
  row "kproduce -> 1 standalone broker, $parts partitions" "$(human "$s_rps")" "rec/s" "" "$(human "$I_N") x ${REC_BYTES} B keyless (data file x $I_PASSES), ${TP_SECS}s"
  row "  payload" "$s_mbps" "MB/s" ""
  row "  where the time went" "" "" "" "$TP_CPU"
  kill9_broker is
  rm -rf "$is_DIR"  # its logs are not read again; the disk space is
  cluster_up i || return 1
  ktopic -b "$CLUSTER_BOOT" create bench-six -p $parts >/dev/null 2>"$TEST_TMP/i.err" || {
    PART_ERR="ktopic create bench-six -p $parts (cluster): $(tail -n 1 "$TEST_TMP/i.err")"
    cluster_down i
    return 1
  }
  spread=$(cluster_health "$i1_ADDR" | awk '{ print $3 }')
  zc0=$(cpu_of "$iz_PID")
  timed_produce "$CLUSTER_BOOT" bench-six "$i1_PID" "$i2_PID" "$i3_PID" || { cluster_down i; return 1; }
  c_rps=$TP_RPS
  row "kproduce -> 3 brokers + kzk-lite, $parts partitions" "$(human "$c_rps")" "rec/s" "" "same records, ${TP_SECS}s; leaders per broker: $spread"
  row "  payload" "$TP_MBPS" "MB/s" ""
  row "  where the time went" "" "" "" "$TP_CPU, kzk-lite $(calc "$(cpu_of "$iz_PID") - $zc0" 2) s"
  row "ratio cluster / standalone" "$(calc "$c_rps / $s_rps" 2)" "x" "" "all processes share this machine's $(nproc) cores"
  cluster_down i
  return 0
}

# --- J: replication (3 brokers + kzk-lite, replication factor 3) ---
J_N=${BENCH_REPL_RECORDS:-500000}
J_FAILOVERS=${BENCH_FAILOVERS:-5}
# The coordinator's session and heartbeat, as tests/lib/cluster.sh sets them: a killed
# leader is noticed only when its session runs out, so the failover time follows the first.
J_SESSION_MS=${SESSION_MS:-1500}
J_HEARTBEAT_MS=${HEARTBEAT_MS:-250}
J_LAT_RATE=2000
J_DATA=$TEST_TMP/repl-records.txt
J_PROBE="python3 $HERE/repl_probe.py"

# j_addr NODE / j_pid NODE: broker jNODE's address and pid.
j_addr() { local v="j${1}_ADDR"; echo "${!v}"; }
j_pid() { local v="j${1}_PID"; echo "${!v}"; }
# j_live: the addresses of the brokers whose process runs and is not stopped, comma-separated.
J_STOPPED=""
j_live() {
  local n out=()
  for n in 1 2 3; do
    [ "$n" = "$J_STOPPED" ] && continue
    kill -0 "$(j_pid "$n")" 2>/dev/null && out+=("$(j_addr "$n")")
  done
  (IFS=,; echo "${out[*]}")
}
# j_meta TOPIC: metadata of TOPIC from the first live broker that answers.
j_meta() {
  local a out
  for a in $(j_live | tr , ' '); do
    out=$(rpc "$a" "{\"op\":\"metadata\",\"topics\":[\"$1\"]}")
    [ -n "$out" ] && { echo "$out"; return 0; }
  done
  return 1
}
# j_isr_full TOPIC...: every partition of every TOPIC has every replica in sync and a leader.
j_isr_full() {
  local t
  for t in "$@"; do
    j_meta "$t" | jq -e '.topics[0].partitions | length > 0 and all((.isr | length) == (.replicas | length) and .leader >= 0)' >/dev/null 2>&1 || return 1
  done
}
# j_wait SECONDS CMD...: polls CMD every 50 ms; sets J_WAITED (seconds) when it succeeds.
J_WAITED=""
j_wait() {
  local secs=$1 t0=$EPOCHREALTIME
  shift
  while [ "$(calc "$EPOCHREALTIME - $t0 < $secs" 0)" = 1 ]; do
    "$@" && { J_WAITED=$(secs_since "$t0"); return 0; }
    sleep 0.05
  done
  return 1
}
# j_leader TOPIC P: the node leading TOPIC/P.
j_leader() { j_meta "$1" | jq -r ".topics[0].partitions[$2].leader" 2>/dev/null; }
# j_lag LEADER-NODE TOPIC P NODE: NODE's lag behind the leader (records), from the leader's
# describe_topic "followers"; empty when the leader does not list it.
j_lag() {
  describe "$(j_addr "$1")" "$2" | jq -r --argjson p "$3" --argjson n "$4" \
    '.partitions[$p].followers[]? | select(.node == $n) | .lag' 2>/dev/null
}
# j_create TOPIC PARTITIONS [RF]: replication factor RF (3) and then min.insync.replicas 2.
j_create() {
  local args=(-p "$2" -r "${3:-3}")
  [ "${3:-3}" -ge 2 ] && args+=(-c min.insync.replicas=2)
  timeout 60 ktopic -b "$(j_live)" create "$1" "${args[@]}" >/dev/null 2>"$TEST_TMP/j.err" || {
    PART_ERR="ktopic create $1 ${args[*]}: $(tail -n 1 "$TEST_TMP/j.err")"
    return 1
  }
  j_wait 30 j_isr_full "$1" || { PART_ERR="$1: not every replica in sync 30 s after create: $(j_meta "$1" | jq -c '[.topics[0].partitions[] | {p: .partition, l: .leader, isr}]' 2>/dev/null)"; return 1; }
}
# j_log_tail: the last broker and coordinator log lines that say something about replication,
# for a FAILED row's reader.
j_log_tail() {
  local n f
  for n in 1 2 3 z; do
    f="j${n}_LOG"
    grep -E 'warn|error|isr|fenc|epoch|truncat' "${!f}" 2>/dev/null | tail -n 2 | sed "s/^/j$n: /" >&2
  done
}

# J1: acks=1 vs acks=all, same records, each into its own fresh topic; RF 1 beside them.
J_RPS_1="" J_RPS_RF1=""
j_throughput() {
  local acks t t0 t_end el rc n_log rps mbps out rf
  # rf1: the same produce into a topic without replicas, on the same cluster, as the baseline.
  for acks in rf1 1 all; do
    t=bench-repl-acks$acks rf=3
    [ "$acks" = rf1 ] && { acks=1 rf=1; }
    j_create "$t" 3 "$rf" || return 1
    local TIMEFORMAT='%U %S' bcpu0 bcpu1
    bcpu0=$(cpu_of_all "$j1_PID" "$j2_PID" "$j3_PID")
    # The poller for "followers caught up" starts now and waits for the end time in a file.
    rm -f "$TEST_TMP/j.end"
    local cu=""
    if [ "$rf" = 3 ]; then
      $J_PROBE caughtup "$(j_live)" "$t" --partitions 3 --start-file "$TEST_TMP/j.end" >"$TEST_TMP/j.cu.out" 2>"$TEST_TMP/j.cu.err" &
      cu=$!
      _started_pids+=("$cu")
    fi
    t0=$EPOCHREALTIME
    { time timeout 300 kproduce -b "$CLUSTER_BOOT" -t "$t" --acks "$acks" "$J_DATA" 2>"$TEST_TMP/j.prod.err"; } 2>"$TEST_TMP/j.time"
    rc=$?
    t_end=$EPOCHREALTIME
    echo "$t_end" >"$TEST_TMP/j.end"
    el=$(secs_since "$t0")
    bcpu1=$(cpu_of_all "$j1_PID" "$j2_PID" "$j3_PID")
    [ "$rc" = 0 ] || { PART_ERR="kproduce --acks $acks exited $rc after ${el}s: $(tail -n 1 "$TEST_TMP/j.prod.err")"; j_log_tail; [ -n "$cu" ] && kill "$cu"; return 1; }
    n_log=$(topic_sum_all "$(j_live)" "$t")
    [ "$n_log" = "$J_N" ] || row "  WARNING: $t log_end sum" "$n_log" "records" "" "expected $J_N"
    rps=$(calc "$J_N / $el" 0)
    mbps=$(calc "$J_N * $REC_BYTES / 1e6 / $el" 1)
    if [ "$rf" = 1 ]; then
      row "kproduce --acks 1, RF 1 (baseline), 3 partitions" "$(human "$rps")" "rec/s" "" "$(human "$J_N") x ${REC_BYTES} B, ${el}s, same cluster, no followers"
    else
      row "kproduce --acks $acks, RF 3, 3 partitions" "$(human "$rps")" "rec/s" "" "$(human "$J_N") x ${REC_BYTES} B, ${el}s, min.insync.replicas=2"
    fi
    row "  payload" "$mbps" "MB/s" ""
    row "  where the time went" "" "" "" "CPU: client $(awk '{ printf "%.2f", $1 + $2 }' "$TEST_TMP/j.time") s, brokers $(calc "$bcpu1 - $bcpu0" 2) s, of ${el}s wall"
    # The followers finish copying before the next run starts, so the runs do not overlap.
    if [ -z "$cu" ]; then
      :
    elif wait "$cu" && out=$(cat "$TEST_TMP/j.cu.out") && [ -n "$out" ]; then
      [ "$acks" = 1 ] && row "  followers caught up after the produce ended" "$(sed -nE 's/^s=([0-9.]+).*/\1/p' <<<"$out")" "s" "" "every follower lag 0 on every leader (describe_topic polled)"
    else
      row "  WARNING: followers not caught up" "" "" "" "after kproduce --acks $acks: $(tail -n 1 "$TEST_TMP/j.cu.err")"
    fi
    [ "$rf" = 1 ] && J_RPS_RF1=$rps
    [ "$rf" = 3 ] && [ "$acks" = 1 ] && J_RPS_1=$rps
  done
  row "ratio acks=all / acks=1" "$(calc "$rps / $J_RPS_1" 2)" "x" "" "Kafka 2014 (3 replicas): 421,823 / 786,980 rec/s = 0.54"
  row "ratio RF 3 acks=1 / RF 1" "$(calc "$J_RPS_1 / $J_RPS_RF1" 2)" "x" "" "followers share the leaders' $(nproc) cores here (Kafka's run: one machine each)"
}

# J2: produce-to-consume latency through the cluster (part C's pipes) and the produce round
# trip alone (one request in flight), acks=1 vs acks=all, one partition each.
j_latency() {
  local probe acks t count warm send_s cpid rpid prc rrc res
  probe=$(helper latency_probe) || { PART_ERR="cannot build latency_probe"; return 1; }
  warm=$J_LAT_RATE count=$((J_LAT_RATE * LAT_SECONDS)) send_s=$((LAT_SECONDS + 2))
  for acks in 1 all; do
    t=bench-repl-lat$acks
    j_create "$t" 1 || return 1
    rm -f "$TEST_TMP/jlat.fifo"
    mkfifo "$TEST_TMP/jlat.fifo"
    kconsume -b "$CLUSTER_BOOT" -t "$t" -f --format '%v\n' >"$TEST_TMP/jlat.fifo" 2>"$TEST_TMP/j.cons.err" &
    cpid=$!
    _started_pids+=("$cpid")
    timeout $((send_s + 20)) "$probe" recv --warmup "$warm" --count "$count" <"$TEST_TMP/jlat.fifo" >"$TEST_TMP/jlat.out" &
    rpid=$!
    sleep 0.5
    "$probe" send --rate "$J_LAT_RATE" --seconds "$send_s" 2>/dev/null |
      timeout $((send_s + 20)) kproduce -b "$CLUSTER_BOOT" -t "$t" --acks "$acks" --linger-ms 1 2>"$TEST_TMP/j.prod.err"
    prc=$?
    wait "$rpid"
    rrc=$?
    kill -TERM "$cpid" 2>/dev/null
    wait "$cpid" 2>/dev/null
    res=$(cat "$TEST_TMP/jlat.out")
    say "replication latency acks=$acks: $res"
    if [ "$rrc" != 0 ] || [ -z "$res" ]; then
      row "produce-to-consume, acks=$acks" "FAILED" "" "" "recv exit $rrc, kproduce exit $prc: $(tail -n 1 "$TEST_TMP/j.prod.err") $(tail -n 1 "$TEST_TMP/j.cons.err") $res"
      j_log_tail
    else
      row "produce-to-consume p50 / p99, acks=$acks" "$(sed -E 's/.*p50_ms=([0-9.]+).*p99_ms=([0-9.]+).*/\1 \/ \2/' <<<"$res")" "ms" "" "$(human "$J_LAT_RATE") rec/s, 1 partition RF 3, max $(sed -E 's/.*max_ms=([0-9.]+).*/\1/' <<<"$res") ms, lost $(sed -E 's/.*lost=([0-9]+).*/\1/' <<<"$res")"
    fi
  done
  ROWS+=("  (a consumer sees a record only below the high watermark, so with acks=1 too it waits for the followers)")
  for acks in 1 all; do
    res=$(timeout 120 $J_PROBE rtt "$CLUSTER_BOOT" bench-repl-lat$acks 0 "$acks" --count 2000 --warmup 200 --rate 500 2>"$TEST_TMP/j.rtt.err")
    say "produce round trip acks=$acks: $res $(cat "$TEST_TMP/j.rtt.err")"
    if [ -z "$res" ]; then
      row "produce round trip, acks=$acks" "FAILED" "" "" "$(tail -n 1 "$TEST_TMP/j.rtt.err")"
    else
      row "produce round trip p50 / p99, acks=$acks" "$(sed -E 's/.*p50_ms=([0-9.]+).*p99_ms=([0-9.]+).*/\1 \/ \2/' <<<"$res")" "ms" "" "1 record per request, one in flight, 500 req/s (bench/repl_probe.py), max $(sed -E 's/.*max_ms=([0-9.]+).*/\1/' <<<"$res"), errors $(sed -E 's/.*errors=([0-9]+).*/\1/' <<<"$res")"
    fi
  done
}

# J3: a stopped follower catches up: SIGSTOP it, append J_DATA with acks=1 to a partition it
# follows, SIGCONT, time until the leader sees its log end equal its own; beside it, a copy of
# the leader's partition directory with cp + sync.
j_catchup() {
  local t=bench-catchup l f before after bytes t0 t_first="" el lag0 rc
  j_create "$t" 1 || return 1
  l=$(j_leader "$t" 0)
  f=$(j_meta "$t" | jq -r ".topics[0].partitions[0].replicas[] | select(. != $l)" | head -n 1)
  [ -n "$f" ] || { PART_ERR="$t/0: no follower in the metadata"; return 1; }
  before=$(describe "$(j_addr "$l")" "$t" | jq '.partitions[0].size' 2>/dev/null)
  local fence0 t_stop stopped fenced
  fence0=$(grep -c 'missed its session' "$jz_LOG")
  t_stop=$EPOCHREALTIME
  kill -STOP "$(j_pid "$f")"
  J_STOPPED=$f
  local live
  live=$(j_live)
  timeout 300 kproduce -b "$live" -t "$t" -p 0 --acks 1 "$J_DATA" 2>"$TEST_TMP/j.prod.err"
  rc=$?
  after=$(describe "$(j_addr "$l")" "$t" | jq '.partitions[0].size' 2>/dev/null)
  # The poller reads the follower's lag, sends the SIGCONT itself and starts its clock then.
  local out
  stopped=$(calc "$EPOCHREALTIME - $t_stop" 1)  # plus the poller's start-up
  out=$($J_PROBE caughtup "$(j_addr "$l")" "$t" --node "$f" --cont "$(j_pid "$f")" 2>"$TEST_TMP/j.cu.err")
  kill -CONT "$(j_pid "$f")"  # in case the poller could not
  J_STOPPED=""
  fenced=$(($(grep -c 'missed its session' "$jz_LOG") - fence0))
  [ "$rc" = 0 ] || { PART_ERR="kproduce --acks 1 with node $f stopped exited $rc: $(tail -n 1 "$TEST_TMP/j.prod.err")"; j_log_tail; return 1; }
  bytes=$((after - before))
  el=$(sed -nE 's/^s=([0-9.]+).*/\1/p' <<<"$out")
  t_first=$(sed -nE 's/.*first_s=([0-9.]+).*/\1/p' <<<"$out")
  lag0=$(sed -nE 's/.*lag0=([0-9-]+|None).*/\1/p' <<<"$out")
  say "catch-up: $out"
  if [ -z "$el" ]; then
    PART_ERR="node $f not caught up on $t/0 after SIGCONT: $(tail -n 1 "$TEST_TMP/j.cu.err")"
    j_log_tail
    return 1
  fi
  local mbps
  mbps=$(calc "$bytes / 1e6 / $el" 1)
  row "follower catch-up after SIGSTOP/SIGCONT" "$mbps" "MB/s" "" "node $f: $(calc "$bytes / 1e6" 1) MB ($(human "$J_N") records, acks=1) behind, lag $lag0 -> 0 in ${el}s after SIGCONT"
  local why="stopped ${stopped}s, not fenced (session $J_SESSION_MS ms)"
  [ "$fenced" -gt 0 ] && why="stopped ${stopped}s > session $J_SESSION_MS ms: fenced meanwhile"
  row "  until its lag first shrank" "${t_first:-?}" "s" "" "$why"
  # The same bytes copied by the file system: the leader's whole partition directory.
  local src dst dbytes
  src="j${l}_DIR"
  src="${!src}/$t-0"
  dst="$TEST_TMP/catchup-copy"
  dbytes=$(du -sb "$src" | awk '{ print $1 }')
  sync
  t0=$EPOCHREALTIME
  cp -r "$src" "$dst" && sync
  el=$(secs_since "$t0")
  local cp_mbps
  cp_mbps=$(calc "$dbytes / 1e6 / $el" 1)
  row "cp -r of the leader's partition dir + sync" "$cp_mbps" "MB/s" "" "$(calc "$dbytes / 1e6" 1) MB, ${el}s, page cache warm; the follower does not fsync, cp is followed by sync"
  row "ratio catch-up / cp" "$(calc "$mbps / $cp_mbps" 2)" "x" ""
  rm -rf "$dst"
}

# J4: kill -9 of a partition's leader, until an acks=all produce to that partition succeeds
# through another broker; then the broker is restarted and rejoins every ISR before the next.
j_failover() {
  local t=bench-failover i p l out ms mss=() rejoin=() topics
  j_create "$t" 3 || return 1
  topics=$(rpc "$(j_live | cut -d, -f1)" '{"op":"metadata"}' | jq -r '[.topics[].topic] | join(" ")')
  for ((i = 0; i < J_FAILOVERS; i++)); do
    p=$((i % 3))
    l=$(j_leader "$t" "$p")
    [ "$l" -ge 1 ] 2>/dev/null || { PART_ERR="kill $((i + 1)): $t/$p has no leader ($l)"; return 1; }
    local t_kill=$EPOCHREALTIME
    kill -9 "$(j_pid "$l")"
    wait "$(j_pid "$l")" 2>/dev/null
    out=$($J_PROBE failover "$(j_live)" "$t" "$p" --since "$t_kill" --exclude "$l" --deadline 60 2>"$TEST_TMP/j.fo.err")
    say "failover $((i + 1)): node $l led $t/$p: $out $(cat "$TEST_TMP/j.fo.err")"
    ms=$(sed -nE 's/^ms=([0-9]+).*/\1/p' <<<"$out")
    [ -n "$ms" ] || { PART_ERR="kill $((i + 1)) of node $l ($t/$p): $(tail -n 1 "$TEST_TMP/j.fo.err")"; j_log_tail; restart_broker "j$l"; return 1; }
    mss+=("$ms")
    restart_broker "j$l" || { PART_ERR="node $l did not restart: $(tail -n 1 "$(eval echo "\$j${l}_LOG")")"; return 1; }
    # shellcheck disable=SC2086
    j_wait 120 j_isr_full $topics || { PART_ERR="node $l not back in every ISR 120 s after its restart"; j_log_tail; return 1; }
    rejoin+=("$J_WAITED")
  done
  local sorted p50 max
  sorted=$(printf '%s\n' "${mss[@]}" | sort -n)
  p50=$(awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }' <<<"$sorted")
  max=$(tail -n 1 <<<"$sorted")
  row "failover after kill -9 of a leader, p50" "$p50" "ms" "" "kill to first acks=all produce ok via another broker, $J_FAILOVERS kills"
  row "  max" "$max" "ms" "" "all: $(IFS=' '; echo "${mss[*]}") ms; session timeout $J_SESSION_MS ms, heartbeat $J_HEARTBEAT_MS ms"
  row "  restarted broker back in every ISR, p50" "$(printf '%s\n' "${rejoin[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')" "s" "" "from its listening line; $(wc -w <<<"$topics") topics' ISRs"
}

part_j() {
  [ -s "$DATA" ] || { PART_ERR="no input data"; return 1; }
  command -v python3 >/dev/null || { PART_ERR="python3 not installed"; return 1; }
  head -n "$J_N" "$DATA" >"$J_DATA"
  J_N=$(wc -l <"$J_DATA")
  command -v kbroker >/dev/null || { PART_ERR="kbroker not built in $KREEK_BIN"; return 1; }
  cluster_up j --session-timeout-ms "$J_SESSION_MS" --heartbeat-interval-ms "$J_HEARTBEAT_MS" || return 1
  local sub fence0
  for sub in j_throughput j_latency j_catchup j_failover; do
    PART_ERR=""
    fence0=$(grep -c 'missed its session' "$jz_LOG")
    say "part J: $sub"
    "$sub" || failed_row "$sub: ${PART_ERR:-failed}"
    local fenced=$(($(grep -c 'missed its session' "$jz_LOG") - fence0))
    [ "$sub" = j_throughput ] || [ "$sub" = j_latency ] && [ "$fenced" -gt 0 ] &&
      row "  WARNING: broker sessions lost meanwhile" "$fenced" "fencings" "" "kzk-lite 'missed its session of $J_SESSION_MS ms' under load"
    J_STOPPED=""
    local n
    for n in 1 2 3; do
      kill -CONT "$(j_pid "$n")" 2>/dev/null
      kill -0 "$(j_pid "$n")" 2>/dev/null || {
        failed_row "node $n died during $sub: $(tail -n 2 "$(eval echo "\$j${n}_LOG")" | tr '\n' ' ' | cut -c1-200)"
        restart_broker "j$n" || { cluster_down j; return 0; }
      }
    done
  done
  # What the brokers and kzk-lite complained about meanwhile (kills and stops included).
  local f warns=() top
  for n in 1 2 3 z; do
    f="j${n}_LOG"
    warns+=("$(grep -cE ' (warn|error) ' "${!f}")")
    grep -E ' (warn|error) ' "${!f}" | sed -E 's/^[^ ]+ //; s/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -n 3 | sed "s/^/bench: j$n log: /" >&2
  done
  top=$(cat "$j1_LOG" "$j2_LOG" "$j3_LOG" | grep -E ' (warn|error) ' | sed -E 's/^[^ ]+ //; s/[0-9]+/N/g' | sort | uniq -c | sort -rn | head -n 1 | sed -E 's/^ +//')
  row "  warn/error log lines: node 1, 2, 3, kzk-lite" "$(IFS=,; echo "${warns[*]}")" "lines" "" "most: ${top:0:120}"
  cluster_down j
  return 0
}

# K: shipping a log file: kproduce --follow against tail -F | kproduce, the same file (the first
# K_N lines of the bench data) into fresh topics of one broker, timed from start until the
# topic's log end holds every line (both run until stopped, like the real shippers).
K_N=${BENCH_FOLLOW_RECORDS:-1000000}
# k_wait TOPIC T0 PID: prints the seconds from T0 until TOPIC holds K_N records (PID: the
# shipper; giving up if it exits first or after 300 s).
k_wait() {
  local topic=$1 t0=$2 pid=$3 n=0 i
  for ((i = 0; i < 6000; i++)); do
    n=$(topic_sum "$kk_ADDR" "$topic" log_end)
    [ "${n:-0}" -ge "$K_N" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  [ "${n:-0}" -ge "$K_N" ] || { echo "$topic holds ${n:-0} of $K_N records: $(tail -n 1 "$TEST_TMP/k.err")" >&2; return 1; }
  secs_since "$t0"
}

part_k() {
  [ -s "$DATA" ] || { PART_ERR="no input data"; return 1; }
  command -v kbroker >/dev/null || { PART_ERR="kbroker not built in $KREEK_BIN"; return 1; }
  start_broker kk || { PART_ERR="kbroker did not start"; return 1; }
  K_FILE=$TEST_TMP/follow.log
  head -n "$K_N" "$DATA" >"$K_FILE"
  K_N=$(wc -l <"$K_FILE")
  local bytes el_f el_t rps_f rps_t
  bytes=$(stat -c %s "$K_FILE")
  # Two rounds, alternating, the faster of each counts: on a shared machine the
  # first run also warms the broker up.
  local round t0 kpid tpid el cpu_f="" cpu_t="" c
  el_f="" el_t=""
  for round in 1 2; do
    timeout 10 ktopic -b "$kk_ADDR" create "bench-k-follow$round" >/dev/null 2>&1
    timeout 10 ktopic -b "$kk_ADDR" create "bench-k-tail$round" >/dev/null 2>&1
    t0=$EPOCHREALTIME
    kproduce -b "$kk_ADDR" -t "bench-k-follow$round" --follow "$K_FILE" --state "$TEST_TMP/k$round.state" 2>>"$TEST_TMP/k.err" &
    kpid=$!
    _started_pids+=("$kpid")
    el=$(k_wait "bench-k-follow$round" "$t0" "$kpid" 2>"$TEST_TMP/k.why")
    c=$(cpu_of "$kpid")
    kill -TERM "$kpid" 2>/dev/null
    wait "$kpid" 2>/dev/null
    [ -n "$el" ] || { PART_ERR=$(cat "$TEST_TMP/k.why"); stop_broker kk; return 1; }
    [ -z "$el_f" ] || awk -v a="$el" -v b="$el_f" 'BEGIN { exit !(a < b) }' && cpu_f=$c
    el_f=$(awk -v a="$el" -v b="$el_f" 'BEGIN { print (b == "" || a < b) ? a : b }')
    rm -f "$TEST_TMP/k.fifo"
    mkfifo "$TEST_TMP/k.fifo"
    t0=$EPOCHREALTIME
    tail -F -n +1 "$K_FILE" >"$TEST_TMP/k.fifo" 2>/dev/null &
    tpid=$!
    _started_pids+=("$tpid")
    kproduce -b "$kk_ADDR" -t "bench-k-tail$round" <"$TEST_TMP/k.fifo" 2>>"$TEST_TMP/k.err" &
    kpid=$!
    _started_pids+=("$kpid")
    el=$(k_wait "bench-k-tail$round" "$t0" "$kpid" 2>"$TEST_TMP/k.why")
    c=$(calc "$(cpu_of "$tpid") + $(cpu_of "$kpid")" 2)
    kill -TERM "$tpid" 2>/dev/null
    wait "$tpid" 2>/dev/null
    wait "$kpid" 2>/dev/null
    [ -n "$el" ] || { PART_ERR=$(cat "$TEST_TMP/k.why"); stop_broker kk; return 1; }
    [ -z "$el_t" ] || awk -v a="$el" -v b="$el_t" 'BEGIN { exit !(a < b) }' && cpu_t=$c
    el_t=$(awk -v a="$el" -v b="$el_t" 'BEGIN { print (b == "" || a < b) ? a : b }')
  done
  stop_broker kk
  rps_f=$(calc "$K_N / $el_f" 0)
  rps_t=$(calc "$K_N / $el_t" 0)
  row "kproduce --follow FILE --state S" "$(human "$rps_f")" "rec/s" "" "$(human "$K_N") lines of ${REC_BYTES} B, file written before start, ${el_f}s"
  row "  payload" "$(calc "$bytes / 1e6 / $el_f" 1)" "MB/s" ""
  row "tail -F -n +1 FILE | kproduce" "$(human "$rps_t")" "rec/s" "" "same file, ${el_t}s (best of 2 rounds each)"
  row "  payload" "$(calc "$bytes / 1e6 / $el_t" 1)" "MB/s" ""
  row "ratio --follow / tail -F | kproduce" "$(calc "$rps_f / $rps_t" 2)" "x" "" "--follow reads and sends in one thread and tracks acks per line; tail reads in a second process"
  row "  client CPU: --follow / tail + kproduce" "$cpu_f / $cpu_t" "s" "" "user+sys of the shipping processes in the faster round (robust on a busy machine)"
}

# --- M: consumer groups (3 brokers + kzk-lite) ---
M_N=${BENCH_GROUP_RECORDS:-500000}
[ "$M_N" -le "$N" ] || M_N=$N
# Members started together land in one generation (Kafka's group.initial.rebalance.delay.ms).
M_DELAY_MS=300
M_DATA=$TEST_TMP/group-records.txt
# m_until SECONDS CMD...: polls CMD every 50 ms until it succeeds; 1 on timeout.
m_until() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 20; i++)); do
    "$@" && return 0
    sleep 0.05
  done
  return 1
}

# m_stable GROUP N: the group is Stable with N members and all 6 partitions assigned.
m_stable() {
  timeout 10 ktopic -b "$CLUSTER_BOOT" group describe "$1" --json 2>/dev/null | jq -e --argjson n "$2" '
    .state == "Stable" and (.members | length) == $n and
    ([.members[].assignment[]? | .partitions[]] | length) == 6 and
    all(.members[]; ([.assignment[]? | .partitions[]] | length) > 0)' >/dev/null
}

# Bounded reads of the whole topic by 1, 2 and 3 members of a new group at once: the rate
# is over the time until every record was printed; the exit (commit, leave, and the
# rebalances the leaves cause among the others) is reported beside it.
m_lines() { cat "$TEST_TMP"/m$1.*.out 2>/dev/null | wc -l; }
m_throughput() {
  local m i t0 el done_el total pids
  for m in 1 2 3; do
    pids=()
    t0=$EPOCHREALTIME
    for ((i = 1; i <= m; i++)); do
      timeout 300 kconsume -b "$CLUSTER_BOOT" -g "bench-g$m" -t bench-group >"$TEST_TMP/m$m.$i.out" 2>"$TEST_TMP/m$m.$i.err" &
      pids+=($!)
    done
    done_el=""
    while [ -z "$done_el" ] && kill -0 "${pids[@]}" 2>/dev/null; do
      [ "$(m_lines "$m")" -ge "$M_N" ] && done_el=$(secs_since "$t0")
      sleep 0.02
    done
    for i in "${pids[@]}"; do wait "$i" || { PART_ERR="kconsume -g with $m members: $(cat "$TEST_TMP"/m$m.*.err | tail -n 1)"; return 1; }; done
    el=$(secs_since "$t0")
    [ -n "$done_el" ] || done_el=$el
    total=$(m_lines "$m")
    rm -f "$TEST_TMP"/m$m.*.out
    [ "$total" -ge "$M_N" ] || { PART_ERR="$m members printed $total of $M_N records"; return 1; }
    row "kconsume -g, $m member(s) at once" "$(human "$(calc "$total / $done_el" 0)")" "rec/s" "" "$(human "$total") records printed in ${done_el}s (join incl., ${M_DELAY_MS} ms group delay); all exited 0 after ${el}s"
  done
}

# From a member's start to every member consuming again (Stable, each with partitions).
m_rebalance() {
  local assignor=$1 group="bench-rb-$1" t0 ms pids=() i
  for i in 1 2; do
    kconsume -b "$CLUSTER_BOOT" -g "$group" -t bench-group -f --assignor "$assignor" >/dev/null 2>>"$TEST_TMP/m-rb.err" &
    pids+=($!)
    _started_pids+=($!)
  done
  if ! m_until 60 m_stable "$group" 2; then PART_ERR="two $assignor members never settled"; kill "${pids[@]}"; return 1; fi
  t0=$(date +%s%N)
  kconsume -b "$CLUSTER_BOOT" -g "$group" -t bench-group -f --assignor "$assignor" >/dev/null 2>>"$TEST_TMP/m-rb.err" &
  pids+=($!)
  _started_pids+=($!)
  if ! m_until 60 m_stable "$group" 3; then PART_ERR="three $assignor members never settled"; kill "${pids[@]}"; return 1; fi
  ms=$((($(date +%s%N) - t0) / 1000000))
  row "rebalance: a 3rd member joins ($assignor)" "$ms" "ms" "" "start of kconsume to all 3 consuming (polled every 50 ms)"
  kill -TERM "${pids[@]}" 2>/dev/null
  wait "${pids[@]}" 2>/dev/null
  return 0
}

part_m() {
  [ -s "$DATA" ] || { PART_ERR="no input data"; return 1; }
  head -n "$M_N" "$DATA" >"$M_DATA"
  M_N=$(wc -l <"$M_DATA")
  CLUSTER_BROKER_FLAGS="--group-initial-rebalance-delay-ms $M_DELAY_MS" cluster_up m || return 1
  if ! ktopic -b "$CLUSTER_BOOT" create bench-group -p 6 >/dev/null 2>"$TEST_TMP/m.err" ||
    ! timeout 300 kproduce -b "$CLUSTER_BOOT" -t bench-group "$M_DATA" 2>"$TEST_TMP/m.err"; then
    PART_ERR="setup: $(tail -n 1 "$TEST_TMP/m.err")"
    cluster_down m
    return 1
  fi
  local sub
  for sub in m_throughput "m_rebalance cooperative-sticky" "m_rebalance range"; do
    PART_ERR=""
    say "part M: $sub"
    $sub || failed_row "$sub: ${PART_ERR:-failed}"
  done
  cluster_down m
  return 0
}

# --- run ---
for tool in kbroker kproduce kconsume ktopic; do
  command -v "$tool" >/dev/null || say "warning: $tool not found in $KREEK_BIN"
done
say "generating $(human "$N") records of $REC_BYTES bytes"
gen_data

# --- T: what TLS costs (bench/tls_throughput.sh: a plain and a TLS broker, same records) ---
part_t() {
  command -v openssl >/dev/null || { PART_ERR="openssl is not installed"; return 1; }
  local out line
  out=$(KREEK_BIN=$KREEK_BIN BENCH_RECORDS=${BENCH_TLS_RECORDS:-300000} bash "$KREEK_SRC/bench/tls_throughput.sh" 2>"$TEST_TMP/t.err") ||
    { PART_ERR="tls_throughput.sh failed: $(tail -n 1 "$TEST_TMP/t.err")"; return 1; }
  while IFS= read -r line; do ROWS+=("$line"); done <<<"$out"
}

run_part A "produce throughput (${REC_BYTES}-byte records, one standalone broker, default settings)" part_a
run_part B "consume throughput (same records)" part_b
run_part C "produce-to-consume latency at $(human $LAT_RATE) rec/s" part_c
run_part L "produce-to-consume latency at 10k, 100k and 200k rec/s, kproduce --linger-ms 0 and 1" part_l
run_part D "Redis Streams beside them (redis-server $(redis-server --version 2>/dev/null | grep -Eo 'v=[0-9.]+' | cut -c3-))" part_d
run_part E "storage: raw disk vs kreek" part_e
[ "$KA_STATE" = up ] && { stop_broker ka || say "warning: kbroker exited $? on SIGTERM"; }
run_part F "start-up with many partitions and segments" part_f
run_part G "log compaction (cleanup.policy=compact)" part_g
run_part H "cluster metadata: ${BENCH_CLUSTER_PARTITIONS:-1000} partitions over 3 brokers + kzk-lite" part_h
run_part I "cluster produce: 6 partitions, 3 brokers vs 1 standalone (${REC_BYTES}-byte keyless records)" part_i
run_part J "replication: 3 brokers + kzk-lite, replication factor 3, min.insync.replicas 2" part_j
run_part K "log shipping: kproduce --follow vs tail -F | kproduce ($(human "$K_N") lines)" part_k
run_part T "TLS: produce and consume, plain vs --tls-cert ($(human "${BENCH_TLS_RECORDS:-300000}") records)" part_t
run_part M "consumer groups: 6 partitions on 3 brokers, $(human "$M_N") records" part_m

echo
echo "kreek benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git -C "$HERE/.." rev-parse --short HEAD 2>/dev/null || echo '?')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo), $(uname -r), data on $(findmnt -n -o SOURCE,FSTYPE --target "$TEST_TMP" | tr -s ' ')"
echo "load average: $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end (other work on this machine skews every figure)"
echo "units: MB = 10^6 bytes; rec = one ${REC_BYTES}-byte record; every figure below was measured in this run"
printf '%-46s %12s  %-9s %-16s %s\n' "measure" "value" "unit" "target" "notes"
printf '%s\n' "${ROWS[@]}"
echo
echo "bench: total $(secs_since "$T_START") s"
exit 0
