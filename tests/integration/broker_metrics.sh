#!/usr/bin/env bash
# kbroker --metrics-listen as an operator uses it: curl /health (503 until the
# broker is registered, then 200) and /metrics (Prometheus text that a strict
# parser — and promtool, where installed — accepts, with counts that match
# the traffic sent); the HTTP server refuses what it does not speak; ktopic
# metrics shows the same numbers, as a listing and as JSON.
source "$(dirname "$0")/../lib/common.sh"

PROM_CHECK=$KREEK_SRC/tests/lib/prom_check.py
command -v curl >/dev/null || { echo "curl is not installed" >&2; exit 1; }

# metrics_addr LOG: the "metrics on http://HOST:PORT/metrics" line's address.
metrics_addr() { grep -Eo 'metrics on http://[0-9.]+:[0-9]+' "$1" | tail -n 1 | sed 's|.*http://||'; }

# --- not ready yet: the coordinator is nowhere, /health says 503 ------------
log_nr=$TEST_TMP/notready.log
kbroker --listen 127.0.0.1:0 --data-dir "$TEST_TMP/notready" --coordinator 127.0.0.1:1 \
  --metrics-listen 127.0.0.1:0 2>"$log_nr" &
nr_pid=$!
_started_pids+=("$nr_pid")
check "a broker prints its metrics address" wait_for_line "$log_nr" 'metrics on http://'
nr=$(metrics_addr "$log_nr")
code=$(curl -s -o "$TEST_TMP/h" -w '%{http_code}' "http://$nr/health")
check "/health is 503 before the broker is registered (got $code)" [ "$code" = 503 ]
check "/health says why" grep -qx starting "$TEST_TMP/h"
body=$(curl -sf "http://$nr/metrics")
check "/metrics answers before the broker is ready" grep -qx 'kreek_ready 0' <<<"$body"
# The client port is not logged before the broker is ready: the other socket it listens on.
nr_port=$(ss -Htlnp 2>/dev/null | grep "pid=$nr_pid," | awk '{ print $4 }' | sed 's/.*://' | grep -vx "${nr##*:}" | head -n 1)
if [ -n "$nr_port" ]; then
  check "the metrics op answers before the broker is ready too" \
    grep -q '"ready":false' <(rpc "127.0.0.1:$nr_port" '{"op":"metrics","id":1}')
else
  echo "ss cannot show the broker's sockets: the metrics op before readiness is not checked"
fi
kill "$nr_pid"
wait "$nr_pid" 2>/dev/null

# --- a standalone broker with traffic -----------------------------------------
start_broker b --metrics-listen 127.0.0.1:0
m=$(metrics_addr "$b_LOG")
export KREEK_BROKERS=$b_ADDR
code=$(curl -s -o "$TEST_TMP/h" -w '%{http_code}' "http://$m/health")
check "/health is 200 once it serves (got $code)" [ "$code" = 200 ]

timeout 10 ktopic create orders -p 3 || fail "create orders"
seq 1 500 | sed 's/^/k/; s/$/ v/' | timeout 20 kproduce -t orders -K ' ' || fail "produce 500 keyed records"
timeout 20 kconsume -t orders --from beginning -c 500 >/dev/null || fail "consume 500 records"
rpc "$b_ADDR" '{"id":1,"op":"no_such_op"}' >/dev/null

curl -sf -D "$TEST_TMP/headers" "http://$m/metrics" >"$TEST_TMP/metrics" || fail "curl /metrics"
check "/metrics is Prometheus text 0.0.4" grep -qi '^Content-Type: text/plain; version=0.0.4' "$TEST_TMP/headers"
check "/metrics closes the connection" grep -qi '^Connection: close' "$TEST_TMP/headers"
if samples=$(python3 "$PROM_CHECK" <"$TEST_TMP/metrics" 2>"$TEST_TMP/prom_errors"); then
  pass
else
  fail "the strict parser rejects /metrics:"$'\n'"$(cat "$TEST_TMP/prom_errors")"
  samples='{}'
fi
if command -v promtool >/dev/null; then
  # promtool's lint wants units and _total suffixes; its parse must pass.
  out=$(promtool check metrics <"$TEST_TMP/metrics" 2>&1)
  if grep -qiE 'error|parse' <<<"$out"; then fail "promtool check metrics:"$'\n'"$out"; else pass; fi
else
  echo "promtool not installed: checked with the strict parser only"
fi

value() { python3 -c 'import json,sys; print(int(json.loads(sys.argv[1]).get(sys.argv[2], -1)))' "$samples" "$1"; }
check "records in counts the 500 produced" [ "$(value 'kreek_topic_records_in_total{topic="orders"}')" = 500 ]
check "records out counts at least the 500 consumed" [ "$(value 'kreek_topic_records_out_total{topic="orders"}')" -ge 500 ]
check "bytes in is counted" [ "$(value 'kreek_topic_bytes_in_total{topic="orders"}')" -gt 500 ]
check "3 partitions of orders held" [ "$(value 'kreek_partitions{topic="orders"}')" = 3 ]
check "3 partitions of orders led" [ "$(value 'kreek_leader_partitions{topic="orders"}')" = 3 ]
check "segments are counted" [ "$(value 'kreek_log_segments{topic="orders"}')" -ge 3 ]
check "log size is counted" [ "$(value 'kreek_log_size_bytes{topic="orders"}')" -gt 500 ]
check "produce requests are counted" [ "$(value 'kreek_requests_total{op="produce"}')" -ge 1 ]
check "fetch latency has a histogram" [ "$(value 'kreek_request_duration_seconds_count{op="fetch"}')" -ge 1 ]
check "an unknown op counts as an error" \
  [ "$(value 'kreek_request_errors_total{code="INVALID_REQUEST",op="unknown"}')" -ge 1 ]
check "nothing is under-replicated" [ "$(value 'kreek_under_replicated_partitions{}')" = 0 ]
check "the broker is ready" [ "$(value 'kreek_ready{}')" = 1 ]
for family in kreek_connections kreek_fetch_waiters kreek_flush_duration_seconds kreek_isr_shrinks_total \
  kreek_isr_expands_total kreek_leader_changes_total kreek_follower_lag_records; do
  check "/metrics has $family" grep -q "^# TYPE $family " "$TEST_TMP/metrics"
done

# --- the HTTP server is strict -------------------------------------------------
http_out=$(python3 - "${m##*:}" <<'PY'
import socket, sys
port = int(sys.argv[1])
def ask(raw):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(raw)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status = head.split(b"\r\n")[0].decode()
    return status, head.decode(), body
cases = [
    ("no Host", b"GET /metrics HTTP/1.1\r\n\r\n"),
    ("POST", b"POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"),
    ("a body", b"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"),
    ("chunked", b"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
    ("HTTP/2.0", b"GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n"),
    ("space before colon", b"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n"),
    ("folded header", b"GET /metrics HTTP/1.1\r\nHost: x\r\n  folded\r\n\r\n"),
    ("two Hosts", b"GET /metrics HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"),
    ("long target", b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("many headers", b"GET /metrics HTTP/1.1\r\nHost: x\r\n" + b"X-A: 1\r\n" * 200 + b"\r\n"),
    ("unknown path", b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"),
    ("garbage", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n"),
    ("HTTP/1.0", b"GET /health HTTP/1.0\r\n\r\n"),
    ("query string", b"GET /health?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"),
]
for name, raw in cases:
    print(name + ": " + ask(raw)[0])
status, head, body = ask(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
length = [l for l in head.split("\r\n") if l.lower().startswith("content-length:")]
print("HEAD: %s body=%d length>0=%s" % (status, len(body), bool(length) and int(length[0].split(":")[1]) > 0))
PY
)
expect_status() { grep -qxF "$1: $2" <<<"$http_out" && pass || fail "HTTP $1: expected '$2', got: $(grep "^$1:" <<<"$http_out")"; }
expect_status "no Host" "HTTP/1.1 400 Bad Request"
expect_status "POST" "HTTP/1.1 405 Method Not Allowed"
expect_status "a body" "HTTP/1.1 400 Bad Request"
expect_status "chunked" "HTTP/1.1 400 Bad Request"
expect_status "HTTP/2.0" "HTTP/1.1 505 HTTP Version Not Supported"
expect_status "space before colon" "HTTP/1.1 400 Bad Request"
expect_status "folded header" "HTTP/1.1 400 Bad Request"
expect_status "two Hosts" "HTTP/1.1 400 Bad Request"
expect_status "long target" "HTTP/1.1 414 URI Too Long"
expect_status "many headers" "HTTP/1.1 431 Request Header Fields Too Large"
expect_status "unknown path" "HTTP/1.1 404 Not Found"
expect_status "garbage" "HTTP/1.1 400 Bad Request"
expect_status "HTTP/1.0" "HTTP/1.1 200 OK"
expect_status "query string" "HTTP/1.1 200 OK"
expect_status "HEAD" "HTTP/1.1 200 OK body=0 length>0=True"
check "the broker still serves after the bad requests" [ "$(timeout 10 ktopic list)" = orders ]

# --- ktopic metrics: the same numbers through the protocol ------------------
listing=$(timeout 10 ktopic metrics)
check "ktopic metrics lists records in" grep -qE '^kreek_topic_records_in_total\{topic=orders\} 500$' <<<"$listing"
check "ktopic metrics shows latency quantiles" grep -qE '^kreek_request_duration_seconds\{op=produce\} count=[0-9]+ p50=' <<<"$listing"
json=$(timeout 10 ktopic metrics --broker "$b_ADDR" --json)
check "ktopic metrics --json is the metrics op's answer" python3 -c '
import json, sys
a = json.loads(sys.argv[1])
fams = {f["name"]: f for f in a["metrics"]}
s = [x for x in fams["kreek_topic_records_in_total"]["samples"] if x["labels"] == {"topic": "orders"}]
assert a["ready"] is True and s[0]["value"] == 500, a
h = fams["kreek_request_duration_seconds"]["samples"][0]
assert h["buckets"][-1]["le"] == "+Inf" and h["buckets"][-1]["count"] == h["count"]
' "$json"
check "ktopic metrics --broker takes a node id" grep -q '"ready":true' <(timeout 10 ktopic metrics --broker 0 --json)
timeout 10 ktopic metrics --broker 7 >/dev/null 2>&1
rc=$?
check "ktopic metrics --broker with an unknown node id fails with 66 (got $rc)" [ "$rc" = 66 ]

# --- the metrics port in use: the broker does not start -----------------------
timeout 10 kbroker --listen 127.0.0.1:0 --data-dir "$TEST_TMP/busy" --metrics-listen "$m" 2>"$TEST_TMP/busy.log"
rc=$?
check "a metrics address in use exits 69 (got $rc)" [ "$rc" = 69 ]
check "and says so" grep -q "metrics endpoint: bind $m" "$TEST_TMP/busy.log"

stop_broker b
rc=$?
check "a broker with a metrics endpoint shuts down cleanly (exit $rc)" [ "$rc" = 0 ]

finish
