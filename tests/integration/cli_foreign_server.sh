#!/usr/bin/env bash
# A server that is not a kreek broker (an HTTP server on the port) is named as
# such, with the first bytes it sent, and the tools exit 76 (EX_PROTOCOL)
# instead of printing a JSON parser's message or retrying.
source "$(dirname "$0")/../lib/common.sh"
T=$TEST_TMP

# A tiny HTTP server: every connection gets a 400 and is closed.
python3 - "$T/port" <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.settimeout(0.1)
stop = os.path.join(os.path.dirname(sys.argv[1]), "stop")
# Ends by itself (asked to, or once cleanup removed the test's directory).
while os.path.isdir(os.path.dirname(stop)) and not os.path.exists(stop):
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    c.settimeout(5)
    try:
        c.recv(65536)
        c.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    except OSError:
        pass
    c.close()
PY
server=$!
for ((i = 0; i < 1000; i++)); do [ -s "$T/port" ] && break; sleep 0.01; done
A=127.0.0.1:$(cat "$T/port")
want="$A is not a kreek broker (it answered \"HTTP/1.1 400 Bad Request\")"

timeout 20 kconsume -b "$A" -t logs >"$T/c.out" 2>"$T/c.err"
check "kconsume against an HTTP server exits 76" test $? -eq 76
check "kconsume names the server and what it answered: $(cat "$T/c.err")" grep -qF "$want" "$T/c.err"
check "kconsume's message is one line" test "$(wc -l <"$T/c.err")" -eq 1

echo hi | timeout 20 kproduce -b "$A" -t logs >"$T/p.out" 2>"$T/p.err"
check "kproduce against an HTTP server exits 76" test $? -eq 76
check "kproduce names the server: $(cat "$T/p.err")" grep -qF "$want" "$T/p.err"

timeout 20 ktopic -b "$A" list >"$T/t.out" 2>"$T/t.err"
check "ktopic against an HTTP server exits 76" test $? -eq 76
check "ktopic names the server: $(cat "$T/t.err")" grep -qF "$want" "$T/t.err"

touch "$T/stop"
wait "$server"
finish
