#!/usr/bin/env bash
# A bounded read prints every record of every partition, also when each
# partition holds more than one fetch's max_bytes: a part the broker left
# unread because max_bytes went to other parts is asked for again, never
# skipped as if compaction had emptied it. Alone and as a group member.
source "$(dirname "$0")/../lib/common.sh"
T=$TEST_TMP

start_broker b
export KREEK_BROKERS=$b_ADDR
timeout 10 ktopic create big -p 3 >/dev/null || fail "create big"
# 3 x 50,000 records of 100 bytes: about 6 MB per partition, over the
# consumer's 4 MiB per fetch.
line=$(printf '%090d' 0)
for p in 0 1 2; do
  seq -f "$p-%06g-$line" 1 50000 | timeout 30 kproduce -t big -p "$p" || fail "produce to big/$p"
done

want=$(printf '%s\n' "50000 0" "50000 1" "50000 2")
got=$(timeout 30 kconsume -t big --format '%p\n' | sort | uniq -c | awk '{ print $1, $2 }')
check "kconsume reads every partition to its end (got: $(echo $got))" test "$got" = "$want"
got=$(timeout 60 kconsume -g readers -t big --format '%p\n' | sort | uniq -c | awk '{ print $1, $2 }')
check "kconsume -g reads every partition to its end (got: $(echo $got))" test "$got" = "$want"
n=$(timeout 30 kconsume -t big | sort -u | wc -l)
check "no record printed twice or lost ($n distinct)" test "$n" -eq 150000
finish
