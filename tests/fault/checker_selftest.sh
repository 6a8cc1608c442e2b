#!/usr/bin/env bash
# checker_selftest.sh: the fault checker on synthetic runs (checker_test.py): a clean run passes,
# and each anomaly (lost, duplicate, reordered, inconsistent offset, replica divergence below
# the high watermark, phantom read, failed-but-present, unexpected value) is counted under its
# own figure and fails the run. Needs no broker.
cd "$(dirname "$0")" || exit 1
exec python3 -B -m unittest -v checker_test 2>&1
