#!/usr/bin/env bash
# docs_manpages.sh: the man pages render cleanly, and --help, the man pages and
# the shell completions describe the same flags (one source of truth):
#   - every page passes `mandoc -T lint -W warning` and `man -l` with no output
#     on stderr; tool pages have the standard sections
#   - every long flag in `<tool> --help` is in the tool's man page and in each
#     completion file; every flag in the page's OPTIONS is in --help
#   - --version prints "<tool> (kreek) 0.1.0", as the pages say
# Env: KREEK_BIN (binaries, default ./build), KREEK_SRC (repo root).
# shellcheck disable=SC2015,SC2016 # pass never fails; the bash -c script is quoted on purpose
set -uo pipefail
KREEK_SRC=${KREEK_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
KREEK_BIN=${KREEK_BIN:-./build}
MAN=$KREEK_SRC/man
COMP=$KREEK_SRC/completions
TOOLS=(kbroker ktopic kproduce kconsume kzk-lite)
KTOPIC_COMMANDS=(create list describe alter delete cluster reassign partition-for metrics group)
KTOPIC_GROUP_COMMANDS=(list describe reset delete)

FAILURES=0
PASSES=0
fail() { echo "FAIL: $*" >&2; FAILURES=$((FAILURES + 1)); }
pass() { PASSES=$((PASSES + 1)); }
finish() {
  echo "$(basename "$0" .sh): $PASSES passed, $FAILURES failed"
  [ "$FAILURES" -eq 0 ]
  exit $?
}

for tool in mandoc man timeout; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done
[ "$FAILURES" -eq 0 ] || finish

# --- every page renders without a warning --------------------------------
pages=("$MAN"/man1/kbroker.1 "$MAN"/man1/ktopic.1 "$MAN"/man1/kproduce.1 "$MAN"/man1/kconsume.1
  "$MAN"/man1/kzk-lite.1
  "$MAN"/man5/kreek-format.5 "$MAN"/man7/kreek-protocol.7)
for page in "${pages[@]}"; do
  [ -f "$page" ] || { fail "missing man page $page"; continue; }
  name=${page#"$MAN"/}
  out=$(mandoc -T lint -W warning "$page" 2>&1)
  if [ -z "$out" ]; then pass; else fail "mandoc lint $name:"$'\n'"$out"; fi
  out=$(MANWIDTH=80 MANPAGER=cat timeout 20 man -l "$page" 2>&1 >/dev/null)
  if [ -z "$out" ]; then pass; else fail "man -l $name warns:"$'\n'"$out"; fi
done
for page in "$MAN"/man*/*; do
  case " ${pages[*]} " in *" $page "*) ;; *) fail "page $page is not checked by this test" ;; esac
done

# Roff source to plain text good enough for finding flags: \- is -, \e is \.
unroff() { sed -e 's/\\-/-/g' -e 's/\\e/\\/g' -e 's/\\&//g' -e 's/\\f[BIRP]//g' "$1"; }
# The flags named in the OPTIONS section's item tags (the line after .TP).
options_flags() {
  unroff "$1" | awk '/^\.SH /{ in_opts = ($0 ~ /^\.SH OPTIONS/) } in_opts && tag { print; tag = 0 } in_opts && /^\.TP/ { tag = 1 }' |
    grep -oE -- '(^|[ "])--?[A-Za-z][A-Za-z0-9-]*' | sed 's/^[ "]//' | sort -u
}
long_flags() { grep -oE -- '(^|[^A-Za-z0-9-])--[a-z][a-z0-9-]*' | sed 's/^[^-]//' | sort -u; }
# has_word FILE WORD: WORD appears, not as part of a longer flag.
has_word() { grep -qE -- "(^|[^A-Za-z0-9-])$2([^A-Za-z0-9-]|\$)" "$1"; }

for tool in "${TOOLS[@]}"; do
  page=$MAN/man1/$tool.1
  bin=$KREEK_BIN/$tool
  if [ ! -x "$bin" ]; then
    fail "binary $bin does not exist (build first)"
    continue
  fi
  [ -f "$page" ] || continue

  for section in NAME SYNOPSIS DESCRIPTION OPTIONS '"EXIT STATUS"|EXIT STATUS' ENVIRONMENT EXAMPLES '"SEE ALSO"|SEE ALSO'; do
    if grep -qE "^\.SH ($section)\$" "$page"; then pass; else fail "$tool.1 has no $section section"; fi
  done

  help=$(timeout 5 "$bin" --help 2>&1)
  rc=$?
  [ "$rc" -eq 0 ] && pass || fail "$tool --help exited $rc"
  if [ "$tool" = ktopic ]; then
    for sub in "${KTOPIC_COMMANDS[@]}"; do
      sub_help=$(timeout 5 "$bin" "$sub" --help 2>&1)
      rc=$?
      [ "$rc" -eq 0 ] && pass || fail "ktopic $sub --help exited $rc"
      help+=$'\n'$sub_help
    done
    for sub in "${KTOPIC_GROUP_COMMANDS[@]}"; do
      sub_help=$(timeout 5 "$bin" group "$sub" --help 2>&1)
      rc=$?
      [ "$rc" -eq 0 ] && pass || fail "ktopic group $sub --help exited $rc"
      help+=$'\n'$sub_help
    done
  fi
  version=$(timeout 5 "$bin" --version 2>&1)
  [ "$version" = "$tool (kreek) 0.1.0" ] && pass || fail "$tool --version printed '$version'"

  page_text=$(mktemp)
  unroff "$page" >"$page_text"
  help_file=$(mktemp)
  printf '%s\n' "$help" >"$help_file"

  # --help -> man page and completions
  while read -r flag; do
    [ -n "$flag" ] || continue
    has_word "$page_text" "$flag" && pass || fail "$tool --help has $flag but $tool.1 does not"
    has_word "$COMP/kreek.bash" "$flag" && pass || fail "$tool --help has $flag but completions/kreek.bash does not"
    has_word "$COMP/_kreek" "$flag" && pass || fail "$tool --help has $flag but completions/_kreek does not"
    grep -qE -- "-l ${flag#--}( |\$)" "$COMP/kreek.fish" && pass || fail "$tool --help has $flag but completions/kreek.fish does not"
  done < <(long_flags <"$help_file")

  # man page OPTIONS -> --help
  while read -r flag; do
    [ -n "$flag" ] || continue
    has_word "$help_file" "$flag" && pass || fail "$tool.1 OPTIONS has $flag but $tool --help does not"
  done < <(options_flags "$page")
  rm -f "$page_text" "$help_file"
done

# --- the completion files parse ------------------------------------------
bash -n "$COMP/kreek.bash" && pass || fail "completions/kreek.bash does not parse"
if command -v zsh >/dev/null; then zsh -n "$COMP/_kreek" && pass || fail "completions/_kreek does not parse"; fi
if command -v fish >/dev/null; then fish -n "$COMP/kreek.fish" && pass || fail "completions/kreek.fish does not parse"; fi
head -n 1 "$COMP/_kreek" | grep -qx '#compdef kbroker ktopic kproduce kconsume kzk-lite' && pass ||
  fail "completions/_kreek does not start with its #compdef line"

# The bash completion answers without a broker (topic lookups time out quietly).
reply=$(PATH="$KREEK_BIN:$PATH" KREEK_BROKERS=127.0.0.1:1 timeout 10 bash -c '
  source "$1"
  c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _kreek; echo "${COMPREPLY[*]}"; }
  c ktopic ""; c kproduce --ac; c kconsume --from ""; c ktopic describe ""
' _ "$COMP/kreek.bash" 2>&1)
expected=$'create list describe alter delete cluster reassign partition-for metrics group\n--acks\nbeginning end'
[ "$reply" = "$expected" ] && pass || fail "bash completion replies:"$'\n'"$reply"

finish
