#!/usr/bin/env bash
# security_file_modes.sh: what kbroker and kzk-lite create is private (files
# 0600, directories 0700) whatever the caller's umask, unless --umask says
# otherwise; listening beyond loopback without a token is warned about.
source "$(dirname "$0")/../lib/common.sh"
T=$TEST_TMP
umask 022  # a typical login umask: kreek must not inherit it

# open_entries DIR: entries under DIR (DIR included) with any group/other bit.
open_entries() { find "$1" -perm /077 | wc -l; }

start_broker b || exit 1
check "a produce creates a topic" eval 'seq 1 10 | timeout 10 kproduce -b "$b_ADDR" -t t'
check "the data dir is 0700" test "$(stat -c %a "$b_DIR")" = 700
check "the partition dir is 0700" test "$(stat -c %a "$b_DIR/t-0")" = 700
check "the segment is 0600" test "$(stat -c %a "$b_DIR"/t-0/*.log)" = 600
stop_broker b
check "kbroker exits 0 on SIGTERM" test $? -eq 0
check "nothing under the data dir is open to group or others (checkpoints, metadata log)" \
  test "$(open_entries "$b_DIR")" -eq 0
find "$b_DIR" -perm /077 -exec stat -c '%a %n' {} + >&2

start_broker w --umask 022 || exit 1
check "with --umask 022 a produce creates a topic" eval 'seq 1 10 | timeout 10 kproduce -b "$w_ADDR" -t t'
check "with --umask 022 the partition dir is 0755" test "$(stat -c %a "$w_DIR/t-0")" = 755
check "with --umask 022 the segment is 0644" test "$(stat -c %a "$w_DIR"/t-0/*.log)" = 644
stop_broker w
timeout 10 kbroker --umask 9 --data-dir "$T/x" 2>/dev/null
check "kbroker --umask refuses a mode that is not octal (exit 64)" test $? -eq 64

start_kzk z || exit 1
stop_broker z
check "kzk-lite's metadata dir and files are private" \
  eval '[ "$(stat -c %a "$z_DIR")" = 700 ] && [ "$(open_entries "$z_DIR")" -eq 0 ]'

# Beyond loopback with no token: a warning (the bind address is any, port 0).
kbroker --listen 0.0.0.0:0 --data-dir "$T/any" 2>"$T/any.log" &
any=$!
_started_pids+=("$any")
check "listening on 0.0.0.0 without a token is warned about" \
  wait_for_line "$T/any.log" 'warn listening on 0\.0\.0\.0:0 without --auth-token-file'
kill -TERM "$any"
wait "$any"
printf 'tok\n' >"$T/token"
chmod 600 "$T/token"
kbroker --listen 0.0.0.0:0 --data-dir "$T/any2" --auth-token-file "$T/token" 2>"$T/any2.log" &
any2=$!
_started_pids+=("$any2")
wait_for_line "$T/any2.log" 'info listening on' >/dev/null
check "... and not with one" eval '! grep -q "without --auth-token-file" "$T/any2.log"'
kill -TERM "$any2"
wait "$any2"
finish
