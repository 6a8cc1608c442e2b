#!/usr/bin/env bash
# examples/systemd: kbroker and kzk-lite tell a service manager they are
# ready (sd_notify's READY=1 on $NOTIFY_SOCKET, an abstract "@name" or a
# path) only once they listen, and STOPPING=1 when they shut down; a python3
# socket stands in for systemd. The unit files pass `systemd-analyze verify`
# where it is installed, and carry the hardening they promise.
source "$(dirname "$0")/../lib/common.sh"

UNITS=$KREEK_SRC/examples/systemd

# listen_notify NAME SOCKET: a datagram socket like systemd's; each message
# received is appended to $TEST_TMP/NAME.msgs as one line ("\n" shown as "|").
listen_notify() {
  local name=$1 sock=$2
  python3 - "$sock" "$TEST_TMP/$name.msgs" <<'PY' &
import socket, sys
addr, out = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + addr[1:] if addr.startswith("@") else addr)
open(out, "a").write("bound\n")
while True:
    msg = s.recv(4096).decode()
    with open(out, "a") as f:
        f.write(msg.replace("\n", "|") + "\n")
PY
  _started_pids+=("$!")
  wait_for_line "$TEST_TMP/$name.msgs" '^bound$'
}

# --- kbroker, abstract socket -------------------------------------------------
abstract="@kreek-test-$$-$RANDOM"
listen_notify broker "$abstract" || fail "the stand-in for systemd did not bind"
log=$TEST_TMP/kbroker.log
NOTIFY_SOCKET=$abstract kbroker --listen 127.0.0.1:0 --data-dir "$TEST_TMP/data" 2>"$log" &
pid=$!
_started_pids+=("$pid")
if wait_for_line "$TEST_TMP/broker.msgs" '^READY=1' 20; then
  pass
  # The log line comes first, so by READY=1 the broker must have written it.
  check "kbroker is listening when it says READY=1" grep -q 'listening on 127.0.0.1:' "$log"
  addr=$(grep -Eo 'listening on 127\.0\.0\.1:[0-9]+' "$log" | sed 's/listening on //')
  check "READY=1 carries a STATUS naming the address" grep -qx "READY=1|STATUS=listening on $addr" "$TEST_TMP/broker.msgs"
  check "and the broker answers at once" timeout 10 ktopic -b "$addr" list
else
  fail "kbroker sent no READY=1 to $abstract:"$'\n'"$(cat "$log")"
fi
kill -TERM "$pid"
wait "$pid"
rc=$?
check "kbroker stops cleanly (exit $rc)" [ "$rc" = 0 ]
check "kbroker says STOPPING=1 on SIGTERM" wait_for_line "$TEST_TMP/broker.msgs" '^STOPPING=1$' 10
check "kbroker sent READY=1 once" [ "$(grep -c '^READY=1' "$TEST_TMP/broker.msgs")" = 1 ]

# --- kzk-lite, a socket path ----------------------------------------------------
path_sock=$TEST_TMP/notify.sock
listen_notify kzk "$path_sock" || fail "the stand-in for systemd did not bind $path_sock"
klog=$TEST_TMP/kzk.log
NOTIFY_SOCKET=$path_sock kzk-lite --listen 127.0.0.1:0 --data-dir "$TEST_TMP/meta" 2>"$klog" &
kpid=$!
_started_pids+=("$kpid")
if wait_for_line "$TEST_TMP/kzk.msgs" '^READY=1' 20; then
  pass
  check "kzk-lite is listening when it says READY=1" grep -q 'listening on 127.0.0.1:' "$klog"
else
  fail "kzk-lite sent no READY=1 to $path_sock:"$'\n'"$(cat "$klog")"
fi
kill -TERM "$kpid"
wait "$kpid"
check "kzk-lite says STOPPING=1 on SIGTERM" wait_for_line "$TEST_TMP/kzk.msgs" '^STOPPING=1$' 10

# --- a malformed NOTIFY_SOCKET is a warning, not a failure -------------------------
blog=$TEST_TMP/bad.log
NOTIFY_SOCKET=relative/path kbroker --listen 127.0.0.1:0 --data-dir "$TEST_TMP/data2" 2>"$blog" &
bpid=$!
_started_pids+=("$bpid")
_await_listening kbroker bad "$bpid" "$blog" && pass || fail "kbroker with a bad NOTIFY_SOCKET did not start"
check "a bad NOTIFY_SOCKET is reported" wait_for_line "$blog" 'NOTIFY_SOCKET relative/path: not an absolute path'
kill -TERM "$bpid"
wait "$bpid"

# --- the unit files ------------------------------------------------------------
for unit in kbroker kzk-lite; do
  file=$UNITS/$unit.service
  [ -f "$file" ] || { fail "missing $file"; continue; }
  for directive in Type=notify NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/kreek \
    PrivateTmp=yes ProtectHome=yes PrivateDevices=yes CapabilityBoundingSet= SystemCallFilter=@system-service \
    RestrictAddressFamilies= MemoryDenyWriteExecute=yes; do
    grep -q "^$directive" "$file" && pass || fail "$unit.service has no $directive"
  done
  grep -q "^ExecStart=/usr/local/bin/$unit " "$file" && pass || fail "$unit.service does not start $unit"
done
# The flags the units pass exist.
check "kbroker accepts the unit's flags" grep -q -- '--metrics-listen' <(kbroker --help)
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$TEST_TMP/units"
  for unit in kbroker kzk-lite; do
    sed "s|/usr/local/bin/$unit|$KREEK_BIN/$unit|" "$UNITS/$unit.service" >"$TEST_TMP/units/$unit.service"
  done
  # MANPATH: the Documentation= man pages are the repo's, not installed ones.
  out=$(cd "$TEST_TMP/units" && MANPATH=$KREEK_SRC/man systemd-analyze verify kbroker.service kzk-lite.service 2>&1)
  [ -z "$out" ] && pass || fail "systemd-analyze verify:"$'\n'"$out"
  # systemd's own score of the hardening (0 best, 10 worst), where it can judge a unit file alone.
  for unit in kbroker kzk-lite; do
    score=$(cd "$TEST_TMP/units" && timeout 30 systemd-analyze security --offline=yes "$unit.service" 2>/dev/null |
      sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
    if [ -n "$score" ]; then
      check "$unit.service's exposure level $score is below 2.5" awk -v s="$score" 'BEGIN { exit !(s < 2.5) }'
    fi
  done
else
  echo "systemd-analyze not installed: the unit files were not verified"
fi

finish
