#!/usr/bin/env bash
# The data directory is kreek's only where kreek can prove it: kbroker refuses
# a non-empty directory without its marker (exit 74, one line, nothing
# touched), and in its own data directory start-up never removes what it did
# not create (name-<digits> directories, *.tmp files of other programs).
source "$(dirname "$0")/../lib/common.sh"

# A directory of someone's files, given as --data-dir by mistake.
home="$TEST_TMP/home"
mkdir -p "$home/photos-2023" "$home/build-1"
echo beach >"$home/photos-2023/beach.jpg"
echo notes >"$home/notes.txt"
(cd "$home" && find . | sort) >"$TEST_TMP/home.before"
timeout 10 kbroker --listen 127.0.0.1:0 --data-dir "$home" 2>"$TEST_TMP/refused.err"
rc=$?
check "kbroker refuses a non-empty directory without the marker with exit 74 (got $rc)" test "$rc" = 74
check "and says why in one line: $(cat "$TEST_TMP/refused.err")" \
  grep -q 'not a kreek data directory' "$TEST_TMP/refused.err"
check "with no other error line" test "$(grep -c ' error ' "$TEST_TMP/refused.err")" = 1
(cd "$home" && find . | sort) >"$TEST_TMP/home.after"
check "and leaves the directory exactly as it was" cmp -s "$TEST_TMP/home.before" "$TEST_TMP/home.after"

# kbroker's own data directory, with strangers put in while it was stopped.
start_broker b
check "broker started" test -n "${b_PID:-}"
timeout 10 ktopic -b "$b_ADDR" create photos -p 1 >/dev/null
check "topic photos created" test $? = 0
stop_broker b
check "clean shutdown" test $? = 0
check "meta.json carries a data dir id" grep -Eq '"id":"[0-9a-f]{32}"' "$b_DIR/meta.json"
mkdir -p "$b_DIR/photos-2023" "$b_DIR/build-1"
echo beach >"$b_DIR/photos-2023/beach.jpg"
echo draft >"$b_DIR/draft.tmp"
restart_broker b
check "broker restarted" test -n "${b_PID:-}"
check "photos-2023/ survived the start" test -f "$b_DIR/photos-2023/beach.jpg"
check "build-1/ survived the start" test -d "$b_DIR/build-1"
check "draft.tmp survived the start" test -f "$b_DIR/draft.tmp"
check "nothing was reported removed" bash -c "! grep -q removed '$b_LOG'"
check "the stranger is named once in the log" test "$(grep -c 'photos-2023' "$b_LOG")" = 1
stop_broker b
finish
