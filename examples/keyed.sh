#!/usr/bin/env bash
# keyed.sh: keyed records with -K (split each line at the first ':') and
# --format output. Records with the same key land on the same partition, so
# each key's records stay in order however many partitions the topic has.
set -euo pipefail
export KREEK_BROKERS=${KREEK_BROKERS:-127.0.0.1:9092}

topic=example-keyed-$$
work=$(mktemp -d)
trap 'ktopic delete "$topic" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

ktopic create "$topic" -p 3

printf '%s\n' alice:login dave:login 'alice:view /cart' carol:login alice:logout \
  | kproduce -t "$topic" -K :

# partition <TAB> offset <TAB> key <TAB> value
kconsume -t "$topic" --format '%p\t%o\t%k\t%v\n' >"$work/out.tsv"
cat "$work/out.tsv"

[ "$(wc -l <"$work/out.tsv")" -eq 5 ] || { echo "expected 5 records" >&2; exit 1; }
# Every key on exactly one partition.
if cut -f1,3 "$work/out.tsv" | sort -u | cut -f2 | sort | uniq -d | grep -q .; then
  echo "a key was spread over partitions" >&2
  exit 1
fi
# alice's records in the order they were produced.
[ "$(awk -F'\t' '$3 == "alice" { print $4 }' "$work/out.tsv" | paste -sd,)" = "login,view /cart,logout" ] \
  || { echo "alice's records out of order" >&2; exit 1; }
# Kafka's default partitioner puts these keys on partitions 0, 1 and 2 of a
# three-partition topic; kreek uses the same murmur2, so they land there too.
[ "$(cut -f1,3 "$work/out.tsv" | sort -u | tr '\t\n' '= ')" = "0=alice 1=dave 2=carol " ] \
  || { echo "keys are not where Kafka's partitioner puts them" >&2; exit 1; }
echo "keyed: 3 keys, each on its Kafka partition, in order"
