#!/usr/bin/env bash
# kconsume output formats and start positions, kproduce input modes, and ktopic,
# against a real broker: --format directives and escapes, --json round trip of
# bytes that are not UTF-8, -K keys on Kafka's murmur2 partitions, -H headers,
# --from @ms / duration / offset, -p, ktopic create/describe/alter/delete codes.
source "$(dirname "$0")/../lib/common.sh"

start_broker b
export KREEK_BROKERS=$b_ADDR
T=$TEST_TMP

# --format: every directive, the escapes, and no newline added.
check "create fmt" timeout 10 ktopic create fmt -p 1
printf 'k1=v1\n' | timeout 10 kproduce -t fmt -K = -H a=1 -H b=2
out=$(timeout 10 kconsume -t fmt --format '%t|%p|%o|%k|%v|%h|%%\t\\\n')
check "--format renders every directive (got: $out)" test "$out" = $'fmt|0|0|k1|v1|a=1,b=2|%\t\\'
timeout 10 kconsume -t fmt --format '%v' >"$T/nonl"
check "--format adds no newline" test "$(od -An -c "$T/nonl" | tr -d ' ')" = "v1"
ts=$(timeout 10 kconsume -t fmt --format '%T')
now=$(($(date +%s%N) / 1000000))
check "%T is a unix-ms timestamp near now ($ts)" test $((now - ts)) -ge 0 -a $((now - ts)) -lt 60000
timeout 10 kconsume -t fmt --format '%q' 2>"$T/badfmt"
check "an unknown directive is a usage error (exit 64)" test $? -eq 64
check "the usage error says try --help" grep -q "try 'kconsume --help'" "$T/badfmt"

# --json round trip with bytes that are not UTF-8, null keys and headers.
printf 'plain\n\xff\xfe\x00binary\nkey\tvalue\n' >"$T/bin.txt"
check "produce binary lines" timeout 10 kproduce -t bin "$T/bin.txt"
timeout 10 kconsume -t bin --json >"$T/bin.json"
check "non-UTF-8 values travel as value64" grep -q '"value64":' "$T/bin.json"
check "envelopes have the canonical key order" \
  grep -q '^{"topic":"bin","partition":0,"offset":0,"timestamp":[0-9]*,"key":null,"value":"plain","headers":{}}$' "$T/bin.json"
timeout 10 kproduce -t bin-copy --json <"$T/bin.json"
timeout 10 kconsume -t bin-copy >"$T/bin.out"
check "kconsume --json | kproduce --json copies bytes exactly" cmp -s "$T/bin.txt" "$T/bin.out"
timeout 10 kconsume -t bin-copy --json --format '%v' 2>/dev/null
check "--json with --format is a usage error" test $? -eq 64

# -K keys land where Kafka's murmur2 partitioner puts them.
check "create keyed with 6 partitions" timeout 10 ktopic create keyed -p 6
for i in $(seq 1 300); do echo "user-$((i % 37)):event $i"; done >"$T/keyed.txt"
check "produce keyed" timeout 10 kproduce -t keyed -K : "$T/keyed.txt"
timeout 10 kconsume -t keyed --format '%p %k\n' | sort -u >"$T/placement"
check "300 keyed records come back" test "$(timeout 10 kconsume -t keyed | wc -l)" -eq 300
check "each key lives on exactly one partition" \
  test "$(awk '{print $2}' "$T/placement" | sort | uniq -d | wc -l)" -eq 0
if command -v python3 >/dev/null; then
  # Kafka's Utils.murmur2 + toPositive, independently of the C++ code.
  python3 - "$T/placement" <<'PY' >"$T/murmur.err"
import sys
def murmur2(data):
    m, r = 0x5bd1e995, 24
    h = (0x9747b28c ^ len(data)) & 0xffffffff
    n = len(data) // 4
    for i in range(n):
        k = int.from_bytes(data[4*i:4*i+4], 'little')
        k = (k * m) & 0xffffffff; k ^= k >> r; k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff; h ^= k
    rest = len(data) % 4; tail = data[4*n:]
    if rest == 3: h ^= tail[2] << 16
    if rest >= 2: h ^= tail[1] << 8
    if rest >= 1:
        h ^= tail[0]; h = (h * m) & 0xffffffff
    h ^= h >> 13; h = (h * m) & 0xffffffff; h ^= h >> 15
    return h
bad = 0
for line in open(sys.argv[1]):
    p, key = line.split()
    want = (murmur2(key.encode()) & 0x7fffffff) % 6
    if int(p) != want:
        print(f"key {key}: partition {p}, Kafka would pick {want}"); bad += 1
sys.exit(1 if bad else 0)
PY
  check "keys land on Kafka's murmur2 partitions ($(head -c 200 "$T/murmur.err"))" test $? -eq 0
fi
timeout 10 kconsume -t keyed -p 2 --format '%p\n' | sort -u >"$T/p2"
check "-p reads only that partition" test "$(cat "$T/p2")" = 2
timeout 10 kconsume -t keyed -p 6 2>/dev/null
check "-p past the partition count is exit 66" test $? -eq 66

# Keyless records spread over partitions in sticky batches.
check "create spread" timeout 10 ktopic create spread -p 3
for i in 1 2 3 4 5 6; do seq 1 10 | timeout 10 kproduce -t spread; done
used=$(timeout 10 kconsume -t spread --format '%p\n' | sort -u | wc -l)
check "keyless records from several runs use more than one partition ($used)" test "$used" -gt 1

# Start positions.
seq 1 5 | timeout 10 kproduce -t pos
sleep 0.05
mark=$(($(date +%s%N) / 1000000))
sleep 0.05
seq 6 8 | timeout 10 kproduce -t pos
check "--from @ms starts at the first record appended after it" \
  test "$(timeout 10 kconsume -t pos --from "@$mark" | tr '\n' ' ')" = "6 7 8 "
check "--from 1h includes everything recent" test "$(timeout 10 kconsume -t pos --from 1h | wc -l)" -eq 8
check "--from 3 starts at offset 3" test "$(timeout 10 kconsume -t pos --from 3 | tr '\n' ' ')" = "4 5 6 7 8 "
check "--from end prints nothing" test -z "$(timeout 10 kconsume -t pos --from end)"
check "-n 100 is clamped to the log start" test "$(timeout 10 kconsume -t pos -n 100 | wc -l)" -eq 8
check "-c 3 stops after three" test "$(timeout 10 kconsume -t pos -c 3 | tr '\n' ' ')" = "1 2 3 "
timeout 10 kconsume -t pos --from tomorrow 2>/dev/null
check "a bad --from is a usage error" test $? -eq 64

# ktopic.
check "ktopic create" timeout 10 ktopic create admin -p 2 -c retention.ms=60000
timeout 10 ktopic create admin 2>"$T/exists"
check "creating it again is TOPIC_EXISTS, exit 73" test $? -eq 73
check "TOPIC_EXISTS is named on stderr" grep -q "(TOPIC_EXISTS)" "$T/exists"
check "ktopic list prints bare names" grep -qx admin <(timeout 10 ktopic list)
timeout 10 ktopic describe admin >"$T/describe"
check "describe shows a row per partition" test "$(grep -c '^[0-9]' "$T/describe")" -eq 2
check "describe shows the override" grep -q "retention.ms=60000" "$T/describe"
check "describe --json is JSON with partitions" \
  grep -q '"partitions":\[' <(timeout 10 ktopic describe admin --json)
check "alter sets an override" timeout 10 ktopic alter admin -c segment.ms=1000
check "the override shows" grep -qx "  segment.ms=1000  (override)" <(timeout 10 ktopic describe admin)
check "alter KEY= removes it" timeout 10 ktopic alter admin -c segment.ms=
check "the override is gone" test -z "$(timeout 10 ktopic describe admin | grep -e segment.ms=1000 -e 'segment.ms=.*override')"
check "delete" timeout 10 ktopic delete admin
timeout 10 ktopic describe admin 2>/dev/null
check "describe of a deleted topic is exit 66" test $? -eq 66
timeout 10 ktopic 2>/dev/null
check "ktopic without a command is exit 64" test $? -eq 64
check "--version" test "$(timeout 10 ktopic --version)" = "ktopic (kreek) 0.1.0"
finish
