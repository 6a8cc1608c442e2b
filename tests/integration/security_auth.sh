#!/usr/bin/env bash
# security_auth.sh: --auth-token-file. A standalone broker with a token serves
# clients that send it (flag or $KREEK_AUTH_TOKEN_FILE) and refuses the rest
# with one UNAUTHORIZED line, a closed connection and exit 77; a token file
# others can read is refused at start; a --read-only-token-file token reads
# (kconsume, ktopic list, group views) and is refused every write with exit
# 77; a kzk-lite with a token admits only brokers that have it (a wrong one
# stops the broker with exit 77), and a 2-broker cluster with a token
# replicates (followers fetch with it).
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"
T=$TEST_TMP

printf 's3cret-%s\n' "$RANDOM$RANDOM" >"$T/token"
chmod 600 "$T/token"
printf 'wrong\n' >"$T/wrong"
chmod 600 "$T/wrong"
cp "$T/token" "$T/open"
chmod 644 "$T/open"

# --- a standalone broker -------------------------------------------------------
check "kbroker refuses a token file others can read (exit 78)" \
  eval 'timeout 10 kbroker --listen 127.0.0.1:0 --data-dir "$T/refused" --auth-token-file "$T/open" 2>"$T/refused.err"; [ $? -eq 78 ]'
check "... saying so in one line" grep -q 'readable or writable by group or others (mode 0644); chmod 600 it' "$T/refused.err"

start_broker b --auth-token-file "$T/token" || exit 1
export KREEK_BROKERS=$b_ADDR

check "kproduce with --auth-token-file works" \
  eval 'seq 1 5 | timeout 10 kproduce -t t --auth-token-file "$T/token"'
check "kconsume with \$KREEK_AUTH_TOKEN_FILE reads them back" \
  eval '[ "$(KREEK_AUTH_TOKEN_FILE=$T/token timeout 10 kconsume -t t | wc -l)" -eq 5 ]'
check "ktopic with the token lists the topic" \
  eval 'timeout 10 ktopic list --auth-token-file "$T/token" | grep -qx t'

timeout 10 ktopic list 2>"$T/none.err"
check "ktopic without a token exits 77" test $? -eq 77
check "... with one clear line" eval '[ "$(wc -l <"$T/none.err")" -eq 1 ] && grep -q "authentication required.*(UNAUTHORIZED)" "$T/none.err"'
seq 1 3 | timeout 10 kproduce -t t --auth-token-file "$T/wrong" 2>"$T/wrong.err"
check "kproduce with a wrong token exits 77" test $? -eq 77
check "... saying the broker refused the token" \
  eval '[ "$(wc -l <"$T/wrong.err")" -eq 1 ] && grep -q "refused the auth token: wrong auth token" "$T/wrong.err"'
KREEK_AUTH_TOKEN_FILE=$T/wrong timeout 10 kconsume -t t >/dev/null 2>&1
check "kconsume with a wrong token from the environment exits 77" test $? -eq 77
timeout 10 ktopic list --auth-token-file "$T/open" 2>"$T/open.err"
check "a client refuses a token file others can read" test $? -eq 64
check "the token is never echoed in errors" eval '! grep -q s3cret "$T"/*.err "$b_LOG"'

# Raw protocol: the first line decides; the connection closes after the refusal.
out=$(printf '%s\n' '{"id":1,"op":"metadata"}' '{"id":2,"op":"metadata"}' | timeout 5 nc "${b_ADDR%:*}" "${b_ADDR##*:}")
check "a request before the hello gets UNAUTHORIZED with its id" \
  eval 'echo "$out" | jq -e "select(.id == 1) | .error.code == \"UNAUTHORIZED\"" >/dev/null'
check "... and nothing more: the connection is closed" test "$(echo "$out" | wc -l)" -eq 1
tok=$(cat "$T/token")
out=$(printf '%s\n' "{\"id\":1,\"op\":\"hello\",\"token\":\"$tok\"}" '{"id":2,"op":"metadata"}' | timeout 5 nc -N "${b_ADDR%:*}" "${b_ADDR##*:}")
check "a hello with the token, then requests are served" \
  eval 'echo "$out" | jq -se ".[0].ok and .[1].ok and (.[1].topics | length) == 1" >/dev/null'
check "refusals are logged without the token" grep -q 'refused connection from 127.0.0.1:[0-9]*: no hello with a token first' "$b_LOG"
stop_broker b
check "kbroker exits 0 on SIGTERM" test $? -eq 0
unset KREEK_BROKERS

# --- a read-only token ------------------------------------------------------------
printf 'reader-%s\n' "$RANDOM$RANDOM" >"$T/reader"
chmod 600 "$T/reader"
check "--read-only-token-file without --auth-token-file is a usage error (exit 64)" \
  eval 'timeout 10 kbroker --listen 127.0.0.1:0 --data-dir "$T/ro-alone" --read-only-token-file "$T/reader" 2>"$T/ro-alone.err"; [ $? -eq 64 ]'
check "... saying why in one line" \
  eval '[ "$(wc -l <"$T/ro-alone.err")" -eq 1 ] && grep -q "read-only-token-file needs --auth-token-file" "$T/ro-alone.err"'
check "a read-only token equal to the full one is refused (exit 78)" \
  eval 'timeout 10 kbroker --listen 127.0.0.1:0 --data-dir "$T/ro-same" --auth-token-file "$T/token" --read-only-token-file "$T/token" 2>"$T/ro-same.err"; [ $? -eq 78 ]'
check "... and neither token is printed" eval '! grep -q "s3cret\|reader-" "$T/ro-alone.err" "$T/ro-same.err"'

start_broker ro --auth-token-file "$T/token" --read-only-token-file "$T/reader" || exit 1
export KREEK_BROKERS=$ro_ADDR
check "the full token writes 5 records" eval 'seq 1 5 | timeout 10 kproduce -t logs --auth-token-file "$T/token"'
check "kconsume with the read-only token reads them" \
  eval '[ "$(timeout 10 kconsume -t logs --auth-token-file "$T/reader" | wc -l)" -eq 5 ]'
check "ktopic list and describe work with it" \
  eval 'timeout 10 ktopic list --auth-token-file "$T/reader" | grep -qx logs && timeout 10 ktopic describe logs --auth-token-file "$T/reader" >/dev/null'
seq 1 3 | timeout 10 kproduce -t logs --auth-token-file "$T/reader" 2>"$T/ro-produce.err"
check "kproduce with the read-only token exits 77" test $? -eq 77
check "... with one line saying the token is read-only" \
  eval '[ "$(wc -l <"$T/ro-produce.err")" -eq 1 ] && grep -q "needs the full auth token: this connection.s token is read-only" "$T/ro-produce.err"'
timeout 10 ktopic create other --auth-token-file "$T/reader" 2>/dev/null
check "ktopic create with it exits 77" test $? -eq 77
timeout 10 ktopic delete logs --auth-token-file "$T/reader" 2>/dev/null
check "ktopic delete with it exits 77" test $? -eq 77
timeout 10 kconsume -t logs -g readers --auth-token-file "$T/reader" >/dev/null 2>"$T/ro-group.err"
check "a consumer group with it exits 77 (joining and committing write)" test $? -eq 77
check "... saying the join needs the full token" grep -q '"join_group" needs the full auth token' "$T/ro-group.err"
check "with the full token the group reads all 5" \
  eval '[ "$(timeout 20 kconsume -t logs -g readers --auth-token-file "$T/token" | wc -l)" -eq 5 ]'
check "ktopic group list and describe work with the read-only token" \
  eval 'timeout 10 ktopic group list --auth-token-file "$T/reader" | grep -q "^readers " &&
        timeout 10 ktopic group describe readers --auth-token-file "$T/reader" | grep -q "total lag 0"'
timeout 10 ktopic group reset readers --to-earliest --execute --auth-token-file "$T/reader" >/dev/null 2>&1
check "ktopic group reset --execute with it exits 77" test $? -eq 77
# (finding the group's coordinator made the internal __consumer_offsets, as for any client)
check "nothing was written or removed: still 5 records, and no topic \"other\"" \
  eval '[ "$(timeout 10 kconsume -t logs --auth-token-file "$T/token" | wc -l)" -eq 5 ] &&
        [ "$(timeout 10 ktopic list --auth-token-file "$T/token" | grep -v "^__")" = logs ]'
check "the read-only token is never echoed" eval '! grep -q "reader-" "$T"/ro-*.err "$ro_LOG"'
stop_broker ro
check "the broker with both tokens exits 0 on SIGTERM" test $? -eq 0
unset KREEK_BROKERS

# --- kzk-lite and a 2-broker cluster ---------------------------------------------
start_kzk z --auth-token-file "$T/token" --session-timeout-ms 1500 --heartbeat-interval-ms 250 || exit 1
check "kzk-lite refuses a hello without the token" \
  eval 'rpc "$z_ADDR" "{\"op\":\"hello\",\"id\":1}" | jq -e ".error.code == \"UNAUTHORIZED\"" >/dev/null'
check "kzk-lite answers a hello with the token" \
  eval 'rpc "$z_ADDR" "{\"op\":\"hello\",\"id\":1,\"token\":\"$tok\"}" | jq -e ".ok" >/dev/null'

timeout 20 kbroker --listen 127.0.0.1:0 --data-dir "$T/intruder" --coordinator "$z_ADDR" --node-id 9 \
  --auth-token-file "$T/wrong" 2>"$T/intruder.log"
check "a broker with a wrong token is refused by kzk-lite and exits 77" test $? -eq 77
check "... saying why" grep -q "refused this broker's auth token: wrong auth token" "$T/intruder.log"

start_broker b1 --coordinator "$z_ADDR" --node-id 1 --auth-token-file "$T/token" || exit 1
start_broker b2 --coordinator "$z_ADDR" --node-id 2 --auth-token-file "$T/token" || exit 1
export KREEK_AUTH_TOKEN_FILE=$T/token
check "a topic with replication factor 2" timeout 10 ktopic create r -p 2 -r 2 -b "$b1_ADDR"
isr() {
  printf '%s\n' "{\"id\":0,\"op\":\"hello\",\"token\":\"$tok\"}" '{"op":"metadata","id":1}' |
    timeout 10 nc -N "${b1_ADDR%:*}" "${b1_ADDR##*:}" | tail -n 1 |
    jq -c '[.topics[] | select(.topic == "r") | .partitions[] | (.isr | length)]'
}
check "both partitions have 2 in-sync replicas (followers fetch with the token)" \
  wait_until 10 eval '[ "$(isr)" = "[2,2]" ]'
seq 1 100 >"$T/recs"
check "100 records in through broker 2 with acks=all" timeout 20 kproduce -b "$b2_ADDR" -t r "$T/recs"
check "all 100 read back through broker 1" eval '[ "$(timeout 20 kconsume -b "$b1_ADDR" -t r | wc -l)" -eq 100 ]'
check "followers hold byte-equal copies" \
  wait_until 10 eval '[ "$(cat "$b1_DIR"/r-0/*.log | md5sum)" = "$(cat "$b2_DIR"/r-0/*.log | md5sum)" ]'
unset KREEK_AUTH_TOKEN_FILE
timeout 10 ktopic describe r -b "$b2_ADDR" 2>/dev/null
check "a client without the token is refused by a cluster broker too (exit 77)" test $? -eq 77
for n in 1 2; do
  stop_broker "b$n"
  check "broker $n exits 0 on SIGTERM" test $? -eq 0
done
stop_broker z
check "kzk-lite exits 0 on SIGTERM" test $? -eq 0
finish
