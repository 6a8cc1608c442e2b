#!/usr/bin/env bash
# The cron export examples (README, examples/cron-export.sh) do not pass -q:
# cron mails stderr, and -q would hide the warning --reset earliest gives about
# a gap, which the README tells the reader to watch for.
source "$(dirname "$0")/../lib/common.sh"

lines=$(grep -hE '^#.*\*/5 .*kconsume' "$KREEK_SRC/README.md" "$KREEK_SRC/examples/cron-export.sh")
check "the README and the example show a cron line" test -n "$lines"
if grep -qE -- ' (-q|--quiet)( |$)' <<<"$lines"; then
  fail "a cron example passes -q: $lines"
else
  pass
fi
check "the example script's export does not pass -q" \
  grep -qE '^export_new\(\) \{ kconsume -t ' "$KREEK_SRC/examples/cron-export.sh"

finish
