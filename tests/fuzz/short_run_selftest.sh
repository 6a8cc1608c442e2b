#!/usr/bin/env bash
# Checks the short fuzz run's driver (short_run_main.cpp) on a target with
# planted bugs: each kind of failure must fail the run, name the input file,
# and that file must hold the input that did it; a clean target must pass;
# the same seed must find the same input.
#   short_run_selftest.sh PATH/TO/short_run_selftest
set -uo pipefail
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/corpus"
printf '{"id":1}' >"$work/corpus/seed"
fail=0

run() {  # run BUG [args]: runs the target, output in $work/out
  local bug=$1
  shift
  (cd "$work" && SHORT_RUN_BUG=$bug FUZZ_SHORT_SECONDS=20 FUZZ_SHORT_SEED=7 "$bin" "$@" corpus) >"$work/out" 2>&1
}

for bug in abort throw segv hang; do
  run "$bug" -timeout=1
  rc=$?
  file=$(grep -o 'input written to .*' "$work/out" | sed 's/^input written to //')
  if [ "$rc" -eq 0 ] || [ -z "$file" ] || [ ! -f "$file" ]; then
    echo "FAIL $bug: exit $rc, no input file named: $(cat "$work/out")"
    fail=1
  elif ! head -c 8 "$file" | grep -q '^{"id":-1'; then
    echo "FAIL $bug: $file does not hold the failing input: $(head -c 100 "$file")"
    fail=1
  else
    echo "ok $bug: exit $rc, $(grep -o 'fuzz short run: [^;]*' "$work/out")"
  fi
  # Replaying the written file alone fails the same way.
  if [ "$bug" = abort ]; then
    (cd "$work" && SHORT_RUN_BUG=abort "$bin" "$file") >/dev/null 2>&1 && { echo "FAIL replay of $file passed"; fail=1; }
    first=$(grep -o 'mutated input [0-9]*' "$work/out")
    run abort
    again=$(grep -o 'mutated input [0-9]*' "$work/out")
    [ -n "$first" ] && [ "$first" = "$again" ] || { echo "FAIL seed 7 found '$first' then '$again'"; fail=1; }
  fi
done

# No bug: passes and reports its inputs and seed.
(cd "$work" && FUZZ_SHORT_SECONDS=1 FUZZ_SHORT_SEED=7 "$bin" corpus) >"$work/out" 2>&1
if [ $? -ne 0 ] || ! grep -q 'inputs.*seed 7' "$work/out"; then
  echo "FAIL clean run: $(cat "$work/out")"
  fail=1
else
  echo "ok clean: $(cat "$work/out")"
fi
exit $fail
