#!/usr/bin/env bash
# cron-export.sh: export only what is new on each run with --checkpoint, as a
# cron job would (*/5 * * * * kconsume -t logs --checkpoint FILE >>export).
# Three runs: everything so far, then only the new records, then nothing.
set -euo pipefail
export KREEK_BROKERS=${KREEK_BROKERS:-127.0.0.1:9092}

topic=example-export-$$
work=$(mktemp -d)
trap 'ktopic delete "$topic" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

ktopic create "$topic" -p 2
export_new() { kconsume -t "$topic" --checkpoint "$work/logs.ckpt" >>"$work/export.txt"; }

printf 'a\nb\nc\n' | kproduce -t "$topic"
export_new
[ "$(wc -l <"$work/export.txt")" -eq 3 ] || { echo "first run: expected 3 lines" >&2; exit 1; }

printf 'd\ne\n' | kproduce -t "$topic"
export_new
[ "$(wc -l <"$work/export.txt")" -eq 5 ] || { echo "second run: expected 2 new lines" >&2; exit 1; }

export_new
[ "$(wc -l <"$work/export.txt")" -eq 5 ] || { echo "third run: expected nothing new" >&2; exit 1; }

# Partitions interleave, so compare as sets; the checkpoint holds the next
# offset to read per partition, which together cover all five records.
[ "$(sort "$work/export.txt" | tr -d '\n')" = abcde ] || { echo "export differs" >&2; exit 1; }
jq -e --arg t "$topic" '.topic == $t and ([.offsets[]] | add) == 5' "$work/logs.ckpt" >/dev/null
echo "cron-export: 3 runs exported $(wc -l <"$work/export.txt") records once each; checkpoint $(jq -c .offsets "$work/logs.ckpt")"
