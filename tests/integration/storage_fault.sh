#!/usr/bin/env bash
# Fault test for crash recovery: damage segment files at seeded random positions
# (truncate, flip a byte, zero a page), restart the broker, and check that every
# batch before the damage is served byte-for-byte and nothing after it is.
# Runs both ways the damage can meet the broker: after a kill -9 (damage past
# the recovery point, truncated at start-up) and after a clean shutdown (damage
# below the recovery point, refused at read time with CORRUPT_RECORD).
source "$(dirname "$0")/../lib/common.sh"

SEEDS=${FAULT_SEEDS:-8}
# "crash": damage past the recovery point, found and cut at start-up.
# "clean": damage below it, which reads must refuse (kreek-format(5), RECOVERY).
# Both run in make test; FAULT_SEEDS=100 for a longer search.
MODES=${FAULT_MODES:-crash clean}

# fetch_all ADDR TOPIC OUT: every batch line of partition 0 into OUT; prints the
# error code that ended the read ("" when it reached the log end).
fetch_all() {
  local addr=$1 topic=$2 out=$3 offset=0 resp hdr code end
  : >"$out"
  for _ in $(seq 1 1000); do
    resp="$TEST_TMP/resp"
    rpc "$addr" "{\"op\":\"fetch\",\"topic\":\"$topic\",\"partition\":0,\"offset\":$offset,\"max_bytes\":1048576}" >"$resp"
    hdr=$(head -n 1 "$resp")
    code=$(jq -r '.error.code // .parts[0].error.code // ""' <<<"$hdr")
    if [ -n "$code" ]; then
      echo "$code"
      return
    fi
    if [ "$(jq -r '.parts[0].bytes' <<<"$hdr")" = 0 ]; then
      echo ""
      return
    fi
    tail -n +2 "$resp" >>"$out"
    end=$(tail -n 1 "$resp" | jq '.base + .n')
    offset=$end
  done
  echo "TOO_MANY_FETCHES"
}

start_broker b --segment-bytes 65536
# 400 batches of 1-8 records each, values of varied length, over several segments.
awk 'BEGIN {
  srand(7)
  for (i = 0; i < 400; i++) {
    n = int(rand() * 8) + 1; recs = ""
    for (j = 0; j < n; j++) {
      pad = ""; len = int(rand() * 300); for (k = 0; k < len; k++) pad = pad "x"
      recs = recs (j ? "," : "") "{\"key\":\"k" int(rand() * 50) "\",\"value\":\"batch " i " record " j " " pad "\"}"
    }
    print "{\"op\":\"produce\",\"topic\":\"f\",\"partition\":0,\"records\":[" recs "]}"
  }
}' >"$TEST_TMP/produce.jsonl"
timeout 30 nc -N 127.0.0.1 "$b_PORT" <"$TEST_TMP/produce.jsonl" >"$TEST_TMP/acks.jsonl"
check "all 400 produce requests acknowledged" \
  test "$(jq -r 'select(.ok == true) | .ok' "$TEST_TMP/acks.jsonl" | wc -l)" = 400

fetch_all "$b_ADDR" f "$TEST_TMP/golden" >/dev/null
check "golden copy holds 400 batches" test "$(wc -l <"$TEST_TMP/golden")" = 400

# damage_once SEED MODE: copy the pristine dir, damage one segment, restart, compare.
damage_once() {
  local seed=$1 mode=$2 work="$TEST_TMP/work" segs seg kind pos size before
  rm -rf "$work"
  cp -a "$TEST_TMP/pristine-$mode" "$work"
  RANDOM=$seed
  mapfile -t segs < <(ls "$work"/f-0/*.log | sort)
  seg=${segs[$((RANDOM % ${#segs[@]}))]}
  size=$(stat -c %s "$seg")
  pos=$(((RANDOM * 32768 + RANDOM) % size))
  case $((RANDOM % 3)) in
    0) kind=truncate; truncate -s "$pos" "$seg" ;;
    1) kind=flip
       local byte
       byte=$(od -An -tu1 -j "$pos" -N1 "$seg" | tr -d ' ')
       printf "$(printf '\\%03o' $(((byte ^ (RANDOM % 255 + 1)) & 255)))" |
         dd of="$seg" bs=1 seek="$pos" conv=notrunc status=none ;;
    2) kind=zero-page
       dd if=/dev/zero of="$seg" bs=1 seek="$pos" count=4096 conv=notrunc status=none
       truncate -s "$size" "$seg" ;;
  esac
  # Expected: every golden line of earlier segments, plus this segment's lines
  # that end at or before the damage.
  : >"$TEST_TMP/expected"
  local s
  for s in "${segs[@]}"; do
    if [ "$s" = "$seg" ]; then
      LC_ALL=C awk -v pos="$pos" '{ end += length($0) + 1; if (end <= pos) print }' \
        "$TEST_TMP/pristine-$mode/f-0/$(basename "$s")" >>"$TEST_TMP/expected"
      break
    fi
    cat "$s" >>"$TEST_TMP/expected"
  done
  # Emptied here, not by the background job's redirection: that may run after
  # the wait below has already found the previous run's "listening on" line.
  : >"$TEST_TMP/fault.log"
  kbroker --listen 127.0.0.1:0 --data-dir "$work" 2>>"$TEST_TMP/fault.log" &
  local pid=$!
  _started_pids+=("$pid")
  if ! wait_for_line "$TEST_TMP/fault.log" 'listening on' 20; then
    fail "seed $seed ($mode, $kind at $pos of $(basename "$seg")): broker did not start"
    kill -9 "$pid" 2>/dev/null
    return
  fi
  local port code
  port=$(grep -Eo 'listening on 127\.0\.0\.1:[0-9]+' "$TEST_TMP/fault.log" | sed 's/.*://')
  code=$(fetch_all "127.0.0.1:$port" f "$TEST_TMP/served")
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null
  if ! cmp -s "$TEST_TMP/served" "$TEST_TMP/expected"; then
    fail "seed $seed ($mode, $kind at $pos of $(basename "$seg")): served $(wc -l <"$TEST_TMP/served") batches, expected $(wc -l <"$TEST_TMP/expected") (read ended with '${code}'; last answer: $(head -c 300 "$TEST_TMP/resp"))"
    sed 's/^/  broker: /' "$TEST_TMP/fault.log" | tail -n 15 >&2
  elif [ -n "$code" ] && [ "$code" != CORRUPT_RECORD ]; then
    fail "seed $seed ($mode, $kind): read ended with $code"
  else
    pass
  fi
}

# Pristine copies: one left by kill -9 (recovery point behind), one by SIGTERM.
kill9_broker b
cp -a "$b_DIR" "$TEST_TMP/pristine-crash"
restart_broker b
stop_broker b
check "clean shutdown exits 0" test $? = 0
cp -a "$b_DIR" "$TEST_TMP/pristine-clean"

for ((seed = 1; seed <= SEEDS; seed++)); do
  for mode in $MODES; do
    damage_once "$seed" "$mode"
  done
done

# kconsume over a flipped byte below the recovery point: everything before it
# on stdout, then one clear line naming the offset, exit 65 (EX_DATAERR), no retry loop.
if [[ " $MODES " == *" clean "* ]]; then
  work="$TEST_TMP/consume"
  cp -a "$TEST_TMP/pristine-clean" "$work"
  mapfile -t segs < <(ls "$work"/f-0/*.log | sort)
  seg=${segs[1]}
  # The 5th line's records: flip a byte in a value (its CRC no longer matches).
  pos=$(LC_ALL=C awk 'NR < 5 { p += length($0) + 1 } NR == 5 { print p + int(length($0) / 2); exit }' "$seg")
  bad=$(sed -n 5p "$seg" | jq '.base')
  printf 'Z' | dd of="$seg" bs=1 seek="$pos" conv=notrunc status=none
  kbroker --listen 127.0.0.1:0 --data-dir "$work" 2>"$TEST_TMP/consume.log" &
  pid=$!
  _started_pids+=("$pid")
  wait_for_line "$TEST_TMP/consume.log" 'listening on' 20
  port=$(grep -Eo 'listening on 127\.0\.0\.1:[0-9]+' "$TEST_TMP/consume.log" | sed 's/.*://')
  timeout 20 kconsume -b "127.0.0.1:$port" -t f --format '%o\n' >"$TEST_TMP/consume.out" 2>"$TEST_TMP/consume.err"
  rc=$?
  check "kconsume over a damaged batch exits 65 (got $rc)" test "$rc" = 65
  check "kconsume prints every record before the damaged batch at offset $bad" \
    test "$(tail -n 1 "$TEST_TMP/consume.out")" = $((bad - 1))
  check "kconsume reports one line naming CORRUPT_RECORD and offset $bad: $(cat "$TEST_TMP/consume.err")" \
    bash -c '[ "$(wc -l <"$1")" = 1 ] && grep -q CORRUPT_RECORD "$1" && grep -q "offset $2" "$1"' _ "$TEST_TMP/consume.err" "$bad"
  # A second consumer gets the same answer; the broker logged the damage once.
  timeout 20 kconsume -b "127.0.0.1:$port" -t f >/dev/null 2>&1
  check "a second kconsume also exits 65" test $? = 65
  check "the broker logs the damaged segment once" \
    test "$(grep -c "corrupt batch at offset $bad" "$TEST_TMP/consume.log")" = 1
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null
fi
finish
