#!/usr/bin/env bash
# bench/latency_probe's pacer keeps its schedule: 500k rec/s for one second
# into a pipe takes about a second (it once wrote one line per syscall and
# took twice the schedule at 100k rec/s), every record is there in order,
# each stamped with its scheduled time (start + i / rate), not the write's.
source "$(dirname "$0")/../lib/common.sh"

probe=$KREEK_BIN/bench/latency_probe
if [ ! -x "$probe" ]; then
  probe=$TEST_TMP/latency_probe
  g++ -O2 -std=c++20 -o "$probe" "$KREEK_SRC/bench/latency_probe.cpp" || { fail "cannot build latency_probe"; finish; }
fi

t0=$EPOCHREALTIME
"$probe" send --rate 500000 --seconds 1 2>"$TEST_TMP/send.err" | cat >"$TEST_TMP/lines"
took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')
# Generous for a busy 2-core machine; the old sender needed several seconds.
check "500k records scheduled over 1 s took $took s (< 1.8 s)" awk -v t="$took" 'BEGIN { exit !(t < 1.8) }'
check "the sender reports its records" grep -q 'latency_probe send: 500000 records' "$TEST_TMP/send.err"
out=$(awk '
  NR == 1 { start = $1 }
  { if ($2 != NR - 1) bad_seq++
    # The stamp is the schedule: start + seq * 2000 ns (500k rec/s), within rounding.
    want = start + $2 * 2000; d = $1 - want; if (d < -1 || d > 1) bad_stamp++
    if (length($0) != 99) bad_len++ }
  END { printf "n=%d bad_seq=%d bad_stamp=%d bad_len=%d\n", NR, bad_seq, bad_stamp, bad_len }' "$TEST_TMP/lines")
check "every record in order, stamped with its scheduled time, 100 bytes ($out)" \
  [ "$out" = "n=500000 bad_seq=0 bad_stamp=0 bad_len=0" ]

# The reader measures the pacer's own floor through a pipe.
res=$("$probe" send --rate 100000 --seconds 2 2>/dev/null | "$probe" recv --warmup 10000 --count 150000)
check "recv reads 150000 records with none lost ($res)" grep -qE '^n=150000 .* lost=0 bad=0$' <<<"$res"

finish
