#!/usr/bin/env bash
# The completions offer the values of the config keys that have a fixed set:
# `ktopic alter T -c cleanup.policy=<TAB>` gives delete, compact and
# compact,delete; unclean.leader.election.enable= gives true and false.
source "$(dirname "$0")/../lib/common.sh"
COMP=$KREEK_SRC/completions

# readline splits "cleanup.policy=co" into cleanup.policy, =, co.
reply=$(PATH="$KREEK_BIN:$PATH" KREEK_BROKERS=127.0.0.1:1 timeout 10 bash -c '
  source "$1"
  c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _kreek; echo "${COMPREPLY[*]}"; }
  c ktopic alter t -c cleanup.policy =
  c ktopic alter t -c cleanup.policy = ""
  c ktopic create t --config cleanup.policy = co
  c ktopic alter t -c unclean.leader.election.enable = ""
  c ktopic alter t -c retention.ms = ""
' _ "$COMP/kreek.bash" 2>&1)
expected=$'delete compact compact,delete\ndelete compact compact,delete\ncompact compact,delete\ntrue false'
check "bash completes config values:"$'\n'"$reply" test "$reply" = "$expected"

if command -v fish >/dev/null; then
  reply=$(fish -c "source $COMP/kreek.fish; complete -C 'ktopic alter t -c cleanup.policy='" | cut -f1 | sort | tr '\n' ' ')
  check "fish completes cleanup.policy values: $reply" \
    test "$reply" = "cleanup.policy=compact cleanup.policy=compact,delete cleanup.policy=delete "
fi
check "the zsh completion knows the values" grep -q 'compadd -- delete compact compact,delete' "$COMP/_kreek"
check "the fish completion knows the values" grep -q 'compact compact,delete' "$COMP/kreek.fish"

finish
