#!/usr/bin/env bash
# kbroker refuses values outside a flag's documented range instead of quietly
# using another one: --retention-check-interval-ms above 30000 is exit 64 with
# the range named, and --help shows that range.
source "$(dirname "$0")/../lib/common.sh"
T=$TEST_TMP

timeout 10 kbroker --listen 127.0.0.1:0 --data-dir "$T/d" --retention-check-interval-ms 60000 \
  >"$T/out" 2>"$T/err"
check "--retention-check-interval-ms 60000 is a usage error (exit 64)" test $? -eq 64
check "the message names the flag and the limit" \
  grep -q -- '--retention-check-interval-ms.*30000' "$T/err"
timeout 10 kbroker --help | grep -A1 -- '--retention-check-interval-ms' >"$T/help"
check "--help shows the range" grep -q '1 to 30000' "$T/help"
check "--help does not offer a range it refuses" bash -c '! grep -q 9223372036854775807 "$1"' _ "$T/help"

finish
