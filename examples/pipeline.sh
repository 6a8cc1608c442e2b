#!/usr/bin/env bash
# pipeline.sh: produce the lines of a file to a new topic and read them back.
# What goes in comes out in order and byte for byte, including an empty line
# and a line that is not UTF-8. Uses the broker in $KREEK_BROKERS.
set -euo pipefail
export KREEK_BROKERS=${KREEK_BROKERS:-127.0.0.1:9092}

topic=example-pipeline-$$
work=$(mktemp -d)
trap 'ktopic delete "$topic" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

# One partition, so the whole topic is in one order.
ktopic create "$topic" -p 1

{
  seq 1 1000 | sed 's/^/line /'
  printf '\n'               # an empty line is a record with an empty value
  printf 'caf\xe9 latin-1\n' # not UTF-8: travels as value64, comes back as the same bytes
} >"$work/in.txt"

kproduce -t "$topic" "$work/in.txt"
kconsume -t "$topic" >"$work/out.txt"

cmp "$work/in.txt" "$work/out.txt"
echo "pipeline: $(wc -l <"$work/out.txt") lines in and out of $topic"
