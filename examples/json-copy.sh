#!/usr/bin/env bash
# json-copy.sh: filter one topic into another through --json and jq.
# kconsume --json prints envelopes that kproduce --json reads back, so keys,
# headers and timestamps survive the copy.
set -euo pipefail
export KREEK_BROKERS=${KREEK_BROKERS:-127.0.0.1:9092}

src=example-json-src-$$
dst=example-json-dst-$$
work=$(mktemp -d)
trap 'ktopic delete "$src" >/dev/null 2>&1 || true; ktopic delete "$dst" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

ktopic create "$src" -p 1
ktopic create "$dst" -p 1

printf '%s\n' 'INFO started' 'ERROR disk full' 'INFO retrying' 'ERROR disk still full' \
  | kproduce -t "$src" -k web-1 -H host=web-1.example

kconsume -t "$src" --json | jq -c 'select(.value | startswith("ERROR"))' | kproduce -t "$dst" --json

kconsume -t "$dst" --json | jq -r '"\(.key) \(.headers.host) \(.value)"' >"$work/out.txt"
cat "$work/out.txt"
printf '%s\n' 'web-1 web-1.example ERROR disk full' 'web-1 web-1.example ERROR disk still full' \
  | cmp - "$work/out.txt"

# The copies keep the originals' timestamps.
kconsume -t "$src" --json | jq -c 'select(.value | startswith("ERROR")) | .timestamp' >"$work/src.ts"
kconsume -t "$dst" --json | jq -c '.timestamp' >"$work/dst.ts"
cmp "$work/src.ts" "$work/dst.ts"
echo "json-copy: 2 of 4 records copied with key, headers and timestamps"
