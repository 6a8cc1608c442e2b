#!/usr/bin/env bash
# security_tls.sh: --tls-cert/--tls-key/--tls-ca, with a CA and certificates
# this test makes with openssl(1). A standalone TLS broker serves tools given
# the CA (flag or $KREEK_TLS_CA_FILE); a socat tap between them sees no record
# in clear text (and does see one in front of a plain broker: the negative
# control). Plain clients, clients trusting another CA, and brokers whose
# certificate names another address or has expired fail in one line with exit
# 77; a TLS client in front of a plain broker fails with 69. The metrics
# endpoint serves HTTPS. A kzk-lite and 3 brokers with every listener and link
# in TLS replicate.
source "$(dirname "$0")/../lib/common.sh"
source "$KREEK_SRC/tests/lib/cluster.sh"
T=$TEST_TMP

for tool in openssl jq socat curl timeout; do
  check "$tool is installed" command -v "$tool" >/dev/null
done
[ "$FAILURES" -eq 0 ] || finish

# --- certificates ----------------------------------------------------------------
newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
mkdir -p "$T/ca"
: >"$T/ca/index.txt"
echo 1000 >"$T/ca/serial"
openssl req -x509 "${newkey[@]}" -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 -subj "/CN=kreek test ca" 2>/dev/null
openssl req -x509 "${newkey[@]}" -keyout "$T/other.key" -out "$T/other-ca.pem" -days 2 -subj "/CN=another ca" 2>/dev/null
openssl req "${newkey[@]}" -keyout "$T/server.key" -out "$T/server.csr" -subj "/CN=kreek broker" 2>/dev/null
chmod 600 "$T/server.key"
# `openssl ca` rather than `x509 -req`: it can date a certificate in the past.
cat >"$T/ca.cnf" <<EOF
[ ca ]
default_ca = test
[ test ]
dir = $T/ca
database = $T/ca/index.txt
new_certs_dir = $T/ca
serial = $T/ca/serial
default_md = sha256
policy = any
unique_subject = no
x509_extensions = local
[ any ]
commonName = supplied
[ local ]
basicConstraints = critical,CA:FALSE
subjectAltName = IP:127.0.0.1
[ elsewhere ]
basicConstraints = critical,CA:FALSE
subjectAltName = IP:127.0.0.2
EOF
sign() {  # sign OUT [openssl ca flags...]
  local out=$1
  shift
  openssl ca -batch -notext -config "$T/ca.cnf" -cert "$T/ca.pem" -keyfile "$T/ca.key" \
    -in "$T/server.csr" -out "$T/$out" "$@" 2>"$T/sign.err"
}
check "a server certificate for 127.0.0.1" sign server.pem -days 2
check "one for 127.0.0.2 only" sign elsewhere.pem -days 2 -extensions elsewhere
check "an expired one" sign expired.pem -startdate 20200101000000Z -enddate 20200102000000Z
[ "$FAILURES" -eq 0 ] || { cat "$T/sign.err" >&2; finish; }
TLS=(--tls-cert "$T/server.pem" --tls-key "$T/server.key")

# --- start-up refusals ---------------------------------------------------------------
cp "$T/server.key" "$T/open.key"
chmod 644 "$T/open.key"
check "kbroker refuses a key file others can read (exit 78)" \
  eval 'timeout 10 kbroker --listen 127.0.0.1:0 --data-dir "$T/refused" --tls-cert "$T/server.pem" --tls-key "$T/open.key" 2>"$T/refused.err"; [ $? -eq 78 ]'
check "... saying so in one line" grep -q 'tls key file .*open.key: readable or writable by group or others (mode 0644); chmod 600 it' "$T/refused.err"
check "kbroker wants --tls-key with --tls-cert (exit 64)" \
  eval 'timeout 10 kbroker --listen 127.0.0.1:0 --data-dir "$T/refused" --tls-cert "$T/server.pem" 2>/dev/null; [ $? -eq 64 ]'
check "kzk-lite refuses a certificate file that is not one (exit 78)" \
  eval 'timeout 10 kzk-lite --listen 127.0.0.1:0 --data-dir "$T/refused-z" --tls-cert "$T/server.key" --tls-key "$T/server.key" 2>"$T/refused-z.err"; [ $? -eq 78 ]'
check "... naming the file" grep -q "tls certificate file $T/server.key: " "$T/refused-z.err"

# --- a standalone TLS broker ------------------------------------------------------------
start_broker b "${TLS[@]}" --metrics-listen 127.0.0.1:0 || finish
export KREEK_BROKERS=$b_ADDR
wait_for_line "$b_LOG" 'metrics on https://' || finish
maddr=$(grep -Eo 'metrics on https://[0-9.:]+' "$b_LOG" | head -n 1 | sed 's|.*https://||')
check "the metrics endpoint serves HTTPS with the broker's certificate" \
  eval 'curl -s --cacert "$T/ca.pem" "https://$maddr/health" | grep -qx ok'
check "... and answers plain HTTP with a 400 saying so" \
  eval '[ "$(curl -s -o "$T/h" -w "%{http_code}" "http://$maddr/health")" = 400 ] && grep -q "requires https" "$T/h"'

seq 1 20000 | sed 's/$/ some padding to make the records a little longer than a number/' >"$T/recs"
check "kproduce with --tls-ca writes 20000 records" timeout 20 kproduce -t t --tls-ca "$T/ca.pem" "$T/recs"
check "kconsume with \$KREEK_TLS_CA_FILE reads them back (file ranges go out through TLS)" \
  eval 'KREEK_TLS_CA_FILE=$T/ca.pem timeout 20 kconsume -t t >"$T/back" && cmp -s "$T/recs" "$T/back"'
check "ktopic with --tls-ca lists the topic" eval 'timeout 10 ktopic list --tls-ca "$T/ca.pem" | grep -qx t'

timeout 10 ktopic list 2>"$T/plain.err"
check "a plain ktopic on the TLS broker exits 77" test $? -eq 77
check "... with one clear line" \
  eval '[ "$(wc -l <"$T/plain.err")" -eq 1 ] && grep -q "this server requires TLS: connect with --tls-ca FILE (UNAUTHORIZED)" "$T/plain.err"'
check "the broker logs the plain-text client" grep -q "close connection from 127.0.0.1:[0-9]*: plain text on a tls listener" "$b_LOG"
out=$(printf '{"id":1,"op":"metadata"}\n' | timeout 5 nc "${b_ADDR%:*}" "${b_ADDR##*:}")
check "a raw plain-text request gets the refusal line, not an answer" \
  eval 'echo "$out" | jq -e ".error.code == \"UNAUTHORIZED\" and (.error.message | test(\"requires TLS\"))" >/dev/null'

seq 1 3 | timeout 10 kproduce -t t --tls-ca "$T/other-ca.pem" 2>"$T/other.err"
check "kproduce trusting another CA exits 77" test $? -eq 77
check "... saying the certificate did not verify" \
  eval '[ "$(wc -l <"$T/other.err")" -eq 1 ] && grep -q "tls handshake with $b_ADDR: certificate verify failed: unable to get local issuer certificate" "$T/other.err"'
check "the broker logs the failed handshake" wait_for_line "$b_LOG" "warn tls handshake with 127.0.0.1:[0-9]+: " 5

# A client that gives up mid-handshake may reset the connection (one refusing
# the certificate closes with the rest of the broker's flight unread), so the
# broker finds an error on the socket before it reads a byte: logged as well.
reset_mid_handshake() {  # prints the client's port
  python3 - "$b_PORT" <<'PY'
import socket, ssl, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).wrap_bio(inc, out, server_hostname="127.0.0.1")
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
s.sendall(out.read())
s.recv(1)  # the broker's flight has come; the rest of it stays unread
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
print(s.getsockname()[1])
s.close()
PY
}
logged_reset() {  # a few tries: the broker logs one failed handshake a second
  local i port
  for i in 1 2 3 4 5; do
    port=$(reset_mid_handshake) || return 1
    wait_for_line "$b_LOG" "warn tls handshake with 127.0.0.1:$port: Connection reset by peer" 1 2>/dev/null && return 0
  done
  return 1
}
check "... and a client that resets the connection mid-handshake" logged_reset
timeout 10 ktopic list --tls-ca "$T/nope.pem" 2>"$T/nope.err"
check "a missing CA file stops a tool with exit 66" test $? -eq 66
check "... naming it" grep -q "open tls ca file $T/nope.pem: No such file or directory" "$T/nope.err"

# The tap: socat relays one connection and logs what crosses it. Through the
# TLS broker the topic names must not show; in front of a plain broker they
# do, which proves the grep would catch them.
tap() {  # tap NAME TARGET_ADDR: sets NAME_TAP (its address) and NAME_TAPLOG
  local name=$1 target=$2 log="$T/$1.tap"
  : >"$log"
  socat -d -d -v TCP-LISTEN:0,bind=127.0.0.1,reuseaddr "TCP:$target" 2>"$log" &
  _started_pids+=($!)
  wait_for_line "$log" 'listening on .*:[0-9]+' || return 1
  printf -v "${name}_TAP" %s "127.0.0.1:$(grep -Eo 'listening on .*:[0-9]+' "$log" | head -n 1 | sed 's/.*://')"
  printf -v "${name}_TAPLOG" %s "$log"
}
timeout 10 ktopic create secret-topic-name -p 1 --tls-ca "$T/ca.pem" >/dev/null
tap enc "$b_ADDR" || finish
check "ktopic through the tap sees the topic over TLS" \
  eval 'timeout 10 ktopic list -b "$enc_TAP" --tls-ca "$T/ca.pem" | grep -qx secret-topic-name'
check "... and the tap never saw it in clear text" eval '! grep -q secret-topic-name "$enc_TAPLOG"'
start_broker p || finish
timeout 10 ktopic create secret-topic-name -p 1 -b "$p_ADDR" >/dev/null
tap clear "$p_ADDR" || finish
check "negative control: through a tap to a plain broker ..." \
  eval 'timeout 10 ktopic list -b "$clear_TAP" | grep -qx secret-topic-name'
check "... the tap does see the name" grep -q secret-topic-name "$clear_TAPLOG"

timeout 20 ktopic list -b "$p_ADDR" --tls-ca "$T/ca.pem" 2>"$T/toplain.err"
check "a TLS client in front of a plain broker exits 69" test $? -eq 69
check "... in one line naming the handshake" \
  eval '[ "$(wc -l <"$T/toplain.err")" -eq 1 ] && grep -q "tls handshake with $p_ADDR: " "$T/toplain.err"'
stop_broker p

start_broker w --tls-cert "$T/elsewhere.pem" --tls-key "$T/server.key" || finish
timeout 10 ktopic list -b "$w_ADDR" --tls-ca "$T/ca.pem" 2>"$T/w.err"
check "a certificate for another address fails with 77" test $? -eq 77
check "... saying so" grep -q "tls handshake with $w_ADDR: certificate verify failed: IP address mismatch" "$T/w.err"
stop_broker w
start_broker x --tls-cert "$T/expired.pem" --tls-key "$T/server.key" || finish
timeout 10 ktopic list -b "$x_ADDR" --tls-ca "$T/ca.pem" 2>"$T/x.err"
check "an expired certificate fails with 77" test $? -eq 77
check "... saying so" grep -q "tls handshake with $x_ADDR: certificate verify failed: certificate has expired" "$T/x.err"
stop_broker x
stop_broker b
check "the TLS broker exits 0 on SIGTERM" test $? -eq 0
unset KREEK_BROKERS

# --- kzk-lite and 3 brokers, every listener and link in TLS ------------------------------
start_kzk z "${TLS[@]}" --session-timeout-ms 1500 --heartbeat-interval-ms 250 || finish
out=$(printf '{"id":1,"op":"hello"}\n' | timeout 5 nc "${z_ADDR%:*}" "${z_ADDR##*:}")
check "kzk-lite refuses plain text too" eval 'echo "$out" | jq -e ".error.code == \"UNAUTHORIZED\"" >/dev/null'
timeout 20 kbroker --listen 127.0.0.1:0 --data-dir "$T/stranger" --coordinator "$z_ADDR" --node-id 9 \
  --tls-ca "$T/other-ca.pem" 2>"$T/stranger.log" &
stranger=$!
_started_pids+=("$stranger")
check "a broker trusting another CA cannot register: it logs why" \
  wait_for_line "$T/stranger.log" "tls handshake with $z_ADDR: certificate verify failed" 15
kill -TERM "$stranger" 2>/dev/null
wait "$stranger" 2>/dev/null
for n in 1 2 3; do
  start_broker "b$n" --coordinator "$z_ADDR" --node-id "$n" "${TLS[@]}" --tls-ca "$T/ca.pem" || finish
done
export KREEK_TLS_CA_FILE=$T/ca.pem
check "a topic with replication factor 3" timeout 10 ktopic create r -p 3 -r 3 -b "$b1_ADDR"
isr() {
  timeout 10 ktopic describe r -b "$b1_ADDR" --json | jq -sc '[.[] | .. | objects | select(has("isr")) | (.isr | length)]'
}
check "every partition has 3 in-sync replicas (followers fetch over TLS)" \
  wait_until 15 eval '[ "$(isr)" = "[3,3,3]" ]'
check "20000 records in through broker 2 with acks=all" timeout 30 kproduce -b "$b2_ADDR" -t r "$T/recs"
check "all of them read back through broker 3" \
  eval 'timeout 30 kconsume -b "$b3_ADDR" -t r | sort -n >"$T/r.back" && [ "$(wc -l <"$T/r.back")" -eq 20000 ]'
check "followers hold byte-equal copies" \
  wait_until 15 eval '[ "$(cat "$b1_DIR"/r-0/*.log | md5sum)" = "$(cat "$b2_DIR"/r-0/*.log | md5sum)" ] && [ "$(cat "$b1_DIR"/r-0/*.log | md5sum)" = "$(cat "$b3_DIR"/r-0/*.log | md5sum)" ]'
unset KREEK_TLS_CA_FILE
timeout 10 ktopic describe r -b "$b2_ADDR" 2>/dev/null
check "a plain client is refused by a cluster broker too (exit 77)" test $? -eq 77
stop_cluster
finish
