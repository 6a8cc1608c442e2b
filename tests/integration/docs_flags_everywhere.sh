#!/usr/bin/env bash
# Every flag a tool's --help shows — long and short, the tool's own and each
# ktopic command's (the commands are read from `ktopic --help`, so a new one
# is checked without editing this test) — appears in the tool's man page and
# in the bash, zsh and fish completions; every ktopic command is named in
# ktopic(1) and offered by each completion. Fails with one list of
# everything missing, by file.
# Env: KREEK_BIN (binaries, default ./build), KREEK_SRC (repo root).
set -uo pipefail
KREEK_SRC=${KREEK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
KREEK_BIN=${KREEK_BIN:-./build}
MAN=$KREEK_SRC/man/man1
COMP=$KREEK_SRC/completions
TOOLS=(kbroker ktopic kproduce kconsume kzk-lite)

missing=()
checked=0
# The option column of CLI11's help: "  -c,--config TEXT ..." -> -c --config.
help_flags() { grep -E '^  -' | awk '{ print $1 }' | tr ',' '\n' | grep -E '^--?[A-Za-z]' | sort -u; }
# The command names under "Commands:".
help_commands() { awk '/^Commands:/ { on = 1; next } /^[^ ]/ { on = 0 } on && /^  [a-z]/ { print $1 }'; }
unroff() { sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/\\&//g' -e 's/\\f[BIRP]//g' "$1"; }
# has FILE WORD: WORD occurs, not inside a longer flag or word.
has() { grep -qE -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|\$)" "$1"; }
note() { missing+=("$1"); }

for tool in "${TOOLS[@]}"; do
  bin=$KREEK_BIN/$tool
  [ -x "$bin" ] || { note "$tool: binary $bin missing (build first)"; continue; }
  page_text=$(mktemp)
  unroff "$MAN/$tool.1" >"$page_text" 2>/dev/null || note "$tool: no man page $MAN/$tool.1"
  help=$(timeout 5 "$bin" --help 2>&1)
  commands=$(help_commands <<<"$help")
  for cmd in $commands; do
    help+=$'\n'$(timeout 5 "$bin" "$cmd" --help 2>&1)
    checked=$((checked + 1))
    has "$page_text" "$cmd" || note "$tool.1: command $cmd"
    has "$COMP/kreek.bash" "$cmd" || note "completions/kreek.bash: $tool command $cmd"
    has "$COMP/_kreek" "$cmd" || note "completions/_kreek: $tool command $cmd"
    has "$COMP/kreek.fish" "$cmd" || note "completions/kreek.fish: $tool command $cmd"
  done
  for flag in $(help_flags <<<"$help"); do
    checked=$((checked + 1))
    has "$page_text" "$flag" || note "$tool.1: $flag"
    has "$COMP/kreek.bash" "$flag" || note "completions/kreek.bash: $tool $flag"
    has "$COMP/_kreek" "$flag" || note "completions/_kreek: $tool $flag"
    if [[ $flag == --* ]]; then
      grep -qE -- "-l ${flag#--}( |\$)" "$COMP/kreek.fish" || note "completions/kreek.fish: $tool $flag"
    else
      grep -qE -- "-s ${flag#-}( |\$)" "$COMP/kreek.fish" || note "completions/kreek.fish: $tool $flag"
    fi
  done
  rm -f "$page_text"
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "FAIL: flags or commands in --help but not everywhere (${#missing[@]} missing of $checked checked):" >&2
  printf '  %s\n' "${missing[@]}" | sort >&2
  echo "docs_flags_everywhere: 0 passed, ${#missing[@]} failed"
  exit 1
fi
echo "docs_flags_everywhere: $checked passed, 0 failed"
