#!/usr/bin/env bash
# Clients that pipeline requests and never read the answers: the broker holds
# at most --max-queued-bytes of answers for all of them together (three
# clients pipelining hellos with 1 MiB ids once grew it by 200 MB), stops
# reading them meanwhile, keeps serving a client that does read, and closes
# them after --send-timeout-ms.
source "$(dirname "$0")/../lib/common.sh"

bound=$((16 << 20))
start_broker b --max-queued-bytes "$bound" --send-timeout-ms 2000

out=$(python3 "$KREEK_SRC/tests/lib/abuse.py" nonreaders "$b_PORT" "$b_PID" --clients 3 --id-bytes $((1 << 20)) --seconds 5)
echo "$out" >&2
val() { awk -v k="$1" '$1 == k { print $2 }' <<<"$out"; }
growth=$(val rss_growth_kib)
# The bound, plus what the three connections hold that is not an answer: the
# request being read (1 MiB), its parsed form and allocator slack.
check_bound "memory grows by at most --max-queued-bytes plus 24 MiB (grew ${growth} KiB)" \
  test "${growth:-999999999}" -le $(((bound >> 10) + 24 * 1024))
check "the clients were not stopped by the client side (they sent more than the bound)" \
  test "$(val hog_sent_bytes)" -gt "$bound"
check "a client that reads is served meanwhile ($(val probe_answers) answers)" test "$(val probe_answers)" -gt 40
p99=$(val probe_p99_ms)
check_bound "its p99 stays under 750 ms (${p99} ms)" awk -v v="$p99" 'BEGIN { exit !(v < 750) }'
check "no probe errors" test -z "$(val probe_error)"
check "the pause is logged" grep -q 'warn stop reading connection .*responses queued for all clients exceed 16777216 bytes' "$b_LOG"
check "the non-readers are closed after --send-timeout-ms" grep -q 'close connection from .*: peer took no response bytes for 2000 ms' "$b_LOG"
check "the broker is still up" kill -0 "$b_PID"

finish
