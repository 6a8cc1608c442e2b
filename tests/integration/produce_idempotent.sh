#!/usr/bin/env bash
# Idempotent produce: the same request (same pid and seq) sent twice is stored
# once and answered the second time with the original offsets and
# "duplicate":true; a gap is OUT_OF_ORDER_SEQUENCE; the dedupe survives broker
# restarts (producer state from the snapshot, or from the log after a kill -9);
# plain (v1) batches still read; and kproduce, whose first produce answer a
# proxy drops, resends the batch and still stores each record once (while
# --no-idempotence, the control, stores it twice).
source "$(dirname "$0")/../lib/common.sh"
T=$TEST_TMP

start_broker b
export KREEK_BROKERS=$b_ADDR

# field NAME: the integer member NAME of the JSON line on stdin.
field() { grep -o "\"$1\":-\?[0-9]*" | head -n 1 | cut -d: -f2; }
produce_line() {  # produce_line ID SEQ VALUE...
  local id=$1 seq=$2 recs="" v
  shift 2
  for v in "$@"; do recs+="${recs:+,}{\"value\":\"$v\"}"; done
  printf '{"op":"produce","id":%s,"topic":"idem","partition":0,"pid":%s,"pepoch":0,"seq":%s,"records":[%s]}' \
    "$id" "$pid" "$seq" "$recs"
}
count() { timeout 10 kconsume -t "$1" | wc -l; }

check "create topic" timeout 10 ktopic create idem -p 1
pid=$(rpc "$b_ADDR" '{"op":"init_producer_id","id":1}' | field producer_id)
check "init_producer_id gives a producer id ($pid)" test -n "$pid"
pid2=$(rpc "$b_ADDR" '{"op":"init_producer_id","id":1}' | field producer_id)
check "a second init_producer_id gives another id ($pid2)" test -n "$pid2" -a "$pid2" != "$pid"

# The same request twice on one connection.
out=$(rpc "$b_ADDR" "$(produce_line 1 0 a b)" "$(produce_line 2 0 a b)")
first=$(sed -n 1p <<<"$out")
second=$(sed -n 2p <<<"$out")
check "first answer is a plain success at 0..1: $first" \
  grep -q '"ok":true,"partition":0,"base":0,"last":1,"ts":' <<<"$first"
check "the resent batch is a duplicate with the original offsets: $second" \
  grep -q '"ok":true,"partition":0,"base":0,"last":1,"duplicate":true}' <<<"$second"
check "only one copy is stored" test "$(count idem)" -eq 2

out=$(rpc "$b_ADDR" "$(produce_line 3 2 c)")
check "the next sequence is appended at 2: $out" grep -q '"base":2,"last":2,' <<<"$out"
out=$(rpc "$b_ADDR" "$(produce_line 4 9 x)")
check "a gap is OUT_OF_ORDER_SEQUENCE: $out" grep -q '"code":"OUT_OF_ORDER_SEQUENCE"' <<<"$out"
out=$(rpc "$b_ADDR" '{"op":"produce","id":5,"topic":"idem","seq":3,"records":[{"value":"y"}]}')
check "seq without pid is INVALID_REQUEST: $out" grep -q '"code":"INVALID_REQUEST"' <<<"$out"
check "nothing more was stored" test "$(count idem)" -eq 3
seg="$b_DIR/idem-0/00000000000000000000.log"
check "idempotent batches are version 2 lines" grep -q '^{"v":2,"base":0,"n":2,"epoch":[0-9]*,"ts":[0-9]*,"pid":'"$pid"',"pepoch":0,"seq":0,"crc":' "$seg"

# A plain batch (no pid) is still written as version 1.
out=$(rpc "$b_ADDR" '{"op":"produce","id":6,"topic":"idem","partition":0,"records":[{"value":"plain"}]}')
check "a batch without pid is appended: $out" grep -q '"base":3,"last":3,' <<<"$out"
check "and stored as a version 1 line" grep -q '^{"v":1,"base":3,"n":1,' "$seg"

# Clean restart: the state comes back from the producer snapshot.
check "clean shutdown" stop_broker b
check "shutdown wrote the producer snapshot" test -s "$b_DIR/idem-0/producer-snapshot"
restart_broker b
out=$(rpc "$b_ADDR" "$(produce_line 7 2 c)")
check "after a restart the resent batch is still a duplicate: $out" \
  grep -q '"base":2,"last":2,"duplicate":true}' <<<"$out"
out=$(rpc "$b_ADDR" "$(produce_line 8 3 d)")
check "and the next sequence is appended: $out" grep -q '"base":4,"last":4,"ts"' <<<"$out"

# kill -9: the batch at 4 is after the snapshot and is found by the log scan.
kill9_broker b
restart_broker b
out=$(rpc "$b_ADDR" "$(produce_line 9 3 d)")
check "after kill -9 the batch after the snapshot is a duplicate: $out" \
  grep -q '"base":4,"last":4,"duplicate":true}' <<<"$out"
# No snapshot at all: the whole log is read.
kill9_broker b
rm -f "$b_DIR/idem-0/producer-snapshot"
restart_broker b
out=$(rpc "$b_ADDR" "$(produce_line 10 0 a b)")
check "without a snapshot the log is scanned: $out" grep -q '"base":0,"last":1,"duplicate":true}' <<<"$out"
check "every value once, plain and idempotent batches alike" \
  test "$(timeout 10 kconsume -t idem | tr '\n' ' ')" = "a b c plain d "

# Version 1 data written without idempotence reads back after a restart.
seq 1 5 | timeout 10 kproduce -t plain --no-idempotence
check "--no-idempotence writes only version 1 lines" \
  test "$(grep -c '^{"v":1,' "$b_DIR"/plain-*/00000000000000000000.log | awk -F: '{s+=$NF} END {print s+0}')" -ge 1
check "and no version 2 line" sh -c "! grep -q '^{\"v\":2,' $b_DIR/plain-*/*.log"
check "clean shutdown (2)" stop_broker b
check "a log of plain batches gets an empty producer snapshot" grep -q '"producers":\[\]' "$b_DIR/plain-0/producer-snapshot"
restart_broker b
check "old version 1 data still reads" test "$(count plain)" -eq 5
seq 1 3 | timeout 10 kproduce -t byclient
check "kproduce is idempotent by default (version 2 lines)" sh -c "grep -q '\"pid\":' $b_DIR/byclient-*/*.log"

# kproduce through a proxy that drops the first produce answer and closes the
# connection: the batch was stored, kproduce resends it.
if command -v python3 >/dev/null; then
  cat >"$T/proxy.py" <<'PY'
import socket, sys, threading, os
target_file, port_file = sys.argv[1], sys.argv[2]
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0)); srv.listen(16)
open(port_file + ".tmp", "w").write(str(srv.getsockname()[1])); os.rename(port_file + ".tmp", port_file)
dropped = threading.Event()
def pump(src, dst, answers):
    buf = b""
    try:
        while True:
            data = src.recv(65536)
            if not data: break
            if not answers:
                dst.sendall(data); continue
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if b'"base":' in line and not dropped.is_set():
                    dropped.set()  # the answer is lost with the connection
                    raise ConnectionError
                dst.sendall(line + b"\n")
    except OSError:
        pass
    for s in (src, dst):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
while True:
    c, _ = srv.accept()
    host, port = open(target_file).read().strip().rsplit(":", 1)
    b = socket.create_connection((host, int(port)))
    threading.Thread(target=pump, args=(c, b, False), daemon=True).start()
    threading.Thread(target=pump, args=(b, c, True), daemon=True).start()
PY
  # run_through_proxy TOPIC [kproduce flags]: a fresh proxy + broker advertising it.
  run_through_proxy() {
    local topic=$1
    shift
    rm -f "$T/proxy.port"
    python3 "$T/proxy.py" "$T/target" "$T/proxy.port" &
    _started_pids+=("$!")
    local proxy_pid=$! i
    for ((i = 0; i < 500; i++)); do [ -s "$T/proxy.port" ] && break; sleep 0.01; done
    local paddr="127.0.0.1:$(cat "$T/proxy.port")"
    stop_broker b
    b_FLAGS="--advertise $paddr"
    restart_broker b
    echo "$b_ADDR" >"$T/target"
    seq 1 10 | timeout 60 kproduce -b "$paddr" -t "$topic" --linger-ms 100 "$@"
    local rc=$?
    kill "$proxy_pid" 2>/dev/null
    wait "$proxy_pid" 2>/dev/null
    stop_broker b  # and back to advertising itself, for kconsume
    b_FLAGS=""
    restart_broker b
    return $rc
  }
  check "kproduce succeeds although its first answer was lost" run_through_proxy resent
  check "each record is stored once: $(count resent) records" test "$(count resent)" -eq 10
  check "control: --no-idempotence succeeds too" run_through_proxy resent_plain --no-idempotence
  check "control: without idempotence the resent batch is stored twice ($(count resent_plain))" \
    test "$(count resent_plain)" -eq 20
fi

check "SIGTERM exits 0" stop_broker b
finish
