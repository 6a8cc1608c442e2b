#!/usr/bin/env bash
# One connection's pipelined requests must not starve another's: 60 pipelined
# describes of a 2,000-partition topic once delayed another client's hello by
# 1.2 s; the broker now serves each connection a bounded turn and builds a
# big describe in slices, so the hello is answered between two slices.
source "$(dirname "$0")/../lib/common.sh"

start_broker b

out=$(python3 "$KREEK_SRC/tests/lib/abuse.py" fairness "$b_PORT" wide --describes 60 --partitions 2000)
echo "$out" >&2
val() { awk -v k="$1" '$1 == k { print $2 }' <<<"$out"; }
check "the topic was created" test -z "$(val create_error)"
check "the hello is answered" test "$(val hello_ok)" = 1
hello=$(val hello_ms)
one=$(val describe_ms)
# Less than one describe (${one} ms) and far from all 60: a big describe is
# built a slice per loop turn, and the hello is served between slices.
check "the hello waits less than one describe (${hello} ms; one describe ${one} ms)" \
  awk -v h="$hello" -v d="$one" 'BEGIN { exit !(h < 100 + d) }'

finish
