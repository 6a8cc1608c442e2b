#!/usr/bin/env bash
# docs_protocol_session.sh: replays the EXAMPLE SESSION of kreek-protocol(7)
# against a fresh broker with `nc -N` and checks that every response matches
# the documented one. The session sits between the roff comments
# `.\" test-session-begin` and `.\" test-session-end`; lines starting with
# {"id": or {"v": are responses, every other line after the `$ nc` prompt is
# a request. Fields that vary from run to run (ts) are deleted before comparing.
# Env: KREEK_BIN (binaries, default $KREEK_SRC/build), KREEK_SRC (repo root); see tests/lib/common.sh.
source "$(dirname "$0")/../lib/common.sh"
export LC_ALL=C

page=$KREEK_SRC/man/man7/kreek-protocol.7
check "binary $KREEK_BIN/kbroker exists" test -x "$KREEK_BIN/kbroker"
for tool in jq nc timeout; do
  check "$tool is installed" command -v "$tool" >/dev/null
done
[ "$FAILURES" -eq 0 ] || finish

# The session as a reader sees it: roff escapes undone, macro lines dropped.
session=$(sed -n '/^\.\\" test-session-begin$/,/^\.\\" test-session-end$/p' "$page" |
  grep -v '^\.' | sed -e 's/\\-/-/g' -e 's/\\&//g' -e 's/\\e/\\/g')
requests=()
expected=()
prompt_seen=0
while IFS= read -r line; do
  if [[ $line == '$ nc '* ]]; then
    prompt_seen=1
  elif [[ $line == '{"id":'* || $line == '{"v":'* ]]; then
    expected+=("$line")
  elif [ -n "$line" ]; then
    requests+=("$line")
  fi
done <<<"$session"
check "the session starts with an nc prompt" test "$prompt_seen" -eq 1
check "the session has requests (found ${#requests[@]})" test "${#requests[@]}" -ge 5
check "the session has responses (found ${#expected[@]})" test "${#expected[@]}" -ge 5
for op in hello create_topic produce fetch list_offsets; do
  check "the session shows $op" grep -q "\"op\":\"$op\"" <<<"$session"
done
check "the session shows an error" grep -q '"ok":false' <<<"$session"

if ! start_broker b; then
  fail "kbroker did not start"
  finish
fi

out=$TEST_TMP/responses
printf '%s\n' "${requests[@]}" | timeout 10 nc -N 127.0.0.1 "$b_PORT" >"$out"
rc=$?
check "nc ends by itself once the broker has answered (exit $rc)" test "$rc" -eq 0

mapfile -t actual <"$out"
check "as many response lines as documented (${#actual[@]} vs ${#expected[@]})" \
  test "${#actual[@]}" -eq "${#expected[@]}"

# Compare line by line, ignoring member order and what the append time changes:
# ts, the batch crc that covers it, and a fetch's byte count (checked below
# against the batch lines that follow instead).
norm() { jq -cS 'del(.ts, .crc, .parts[]?.bytes)' 2>/dev/null <<<"$1" || printf 'not JSON: %s\n' "$1"; }
pending=0 # bytes of batch lines still owed by the last fetch header
for ((i = 0; i < ${#expected[@]}; i++)); do
  want=${expected[i]}
  got=${actual[i]-<missing>}
  if [ "$(norm "$want")" = "$(norm "$got")" ]; then
    pass
  else
    fail "response $((i + 1)) differs"$'\n'"  documented: $want"$'\n'"  broker:     $got"
  fi
  if [[ $want == '{"v":'* ]]; then
    pending=$((pending - ${#got} - 1))
  else
    check "response $((i + 1)) has id as its first member" \
      test "$(jq -r 'keys_unsorted[0]' 2>/dev/null <<<"$got")" = id
    check "fetch bytes owed before response $((i + 1)) were all sent (left $pending)" test "$pending" -eq 0
    pending=$(jq '[.parts[]?.bytes] | add // 0' 2>/dev/null <<<"$got" || echo 0)
  fi
done
check "the last fetch's bytes add up to its batch lines (left $pending)" test "$pending" -eq 0

stop_broker b
check "kbroker exits 0 on SIGTERM" test $? -eq 0
finish
