#!/usr/bin/env bash
# docs_examples.sh: runs every examples/*.sh against a broker this test starts,
# so the examples the README and man pages point to keep working.
# Env: KREEK_BIN (binaries, default $KREEK_SRC/build), KREEK_SRC (repo root); see tests/lib/common.sh.
source "$(dirname "$0")/../lib/common.sh"

for tool in kbroker ktopic kproduce kconsume; do
  check "binary $KREEK_BIN/$tool exists" test -x "$KREEK_BIN/$tool"
done
for tool in jq nc timeout; do
  check "$tool is installed" command -v "$tool" >/dev/null
done
[ "$FAILURES" -eq 0 ] || finish

shopt -s nullglob
examples=("$KREEK_SRC"/examples/*.sh)
check "examples/ holds at least two scripts" test "${#examples[@]}" -ge 2

if ! start_broker b; then
  fail "kbroker did not start"
  finish
fi
export KREEK_BROKERS=$b_ADDR

for ex in "${examples[@]}"; do
  name=$(basename "$ex")
  check "$name is executable" test -x "$ex"
  out="$TEST_TMP/${name%.sh}.out"
  timeout 60 bash "$ex" >"$out" 2>&1
  rc=$?
  if [ "$rc" -eq 0 ]; then
    pass
  else
    fail "examples/$name exited $rc"
    sed 's/^/  | /' "$out" >&2
  fi
done

# The examples clean up after themselves: no example topic is left behind.
left=$(timeout 10 ktopic list | grep '^example-' || true)
check "examples deleted their topics (left: ${left//$'\n'/ })" test -z "$left"

stop_broker b
check "kbroker exits 0 on SIGTERM" test $? -eq 0
finish
