#!/usr/bin/env bash
# Sets up, checks the formatting, builds and runs every test (unit,
# integration and end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/check-format.sh  # seconds, before a build of minutes
scripts/build.sh
scripts/test-servers.sh
# Longest tests first: without timings of its own, CTest would start them
# in declaration order, and the longest ones come last.
costs=build/Testing/Temporary/CTestCostData.txt
if [ ! -s "$costs" ]; then
  mkdir -p "$(dirname "$costs")"
  cp tests/ctest-costs.txt "$costs"
fi
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
