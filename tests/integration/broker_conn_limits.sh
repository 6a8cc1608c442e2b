#!/usr/bin/env bash
# Per-client limits at the broker's edge: beyond --max-connections a client
# gets one UNAVAILABLE line and a clean close (no hang, no reset), the others
# keep being served, and a freed place can be taken again.
source "$(dirname "$0")/../lib/common.sh"

start_broker b --max-connections 3

out=$(python3 - "$b_PORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s
def ask(s):
    s.sendall(b'{"id":1,"op":"metadata"}\n')
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            return "eof"
        buf += chunk
    return "ok" if b'"ok":true' in buf else buf.decode()
held = [conn() for _ in range(3)]
print("held", *[ask(s) for s in held])
extra = conn()
data = b""
try:
    while True:
        chunk = extra.recv(65536)
        if not chunk:
            break
        data += chunk
    print("extra", data.decode().strip())
except Exception as e:
    print("extra error", type(e).__name__)
print("still", ask(held[0]))
held[1].close()
for _ in range(100):
    s = conn()
    r = ask(s)
    if r == "ok":
        break
    s.close()
    time.sleep(0.02)
print("again", r)
PY
)
echo "$out" >&2
check "connections within the limit are served" grep -qx 'held ok ok ok' <<<"$out"
check "the one over the limit gets one UNAVAILABLE line, then EOF" grep -qxF \
  'extra {"id":null,"ok":false,"error":{"code":"UNAVAILABLE","message":"too many connections (3); try again later"}}' <<<"$out"
check "the others keep being served" grep -qx 'still ok' <<<"$out"
check "a freed place is taken again" grep -qx 'again ok' <<<"$out"
check "the refusal is logged" grep -q 'warn refuse connection from .*too many connections (3)' "$b_LOG"

finish
