# Counts lost and duplicated lines between what was written and what arrived
# (bash; source it). Used by the --follow tests to prove delivery, and by their
# negative control to prove the check can fail.
#
#   line_check WRITTEN RECEIVED [PATTERN]
# Prints "written=W received=R lost=L duplicated=D" for the lines matching the
# extended regex PATTERN (default: every line) and sets LC_LOST and LC_DUP.
# A line written twice counts as two expected copies.
line_check() {
  local written=$1 received=$2 pattern=${3:-.} out
  out=$(awk -v pat="$pattern" '
    FNR == 1 { f++ }
    $0 !~ pat { next }
    f == 1 { want[$0]++; w++; next }
    { got[$0]++; r++ }
    END {
      for (k in want) if (got[k] < want[k]) lost += want[k] - got[k]
      for (k in got) if (got[k] > want[k]) dup += got[k] - (k in want ? want[k] : 0)
      printf "written=%d received=%d lost=%d duplicated=%d\n", w, r, lost, dup
    }' "$written" "$received")
  echo "$out"
  LC_LOST=$(sed -E 's/.*lost=([0-9]+).*/\1/' <<<"$out")
  LC_DUP=$(sed -E 's/.*duplicated=([0-9]+).*/\1/' <<<"$out")
}
