#!/usr/bin/env bash
# Sets up, checks the formatting, builds and runs every test (unit,
# integration and end-to-end).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/check-format.sh  # seconds, before a build of minutes
scripts/build.sh
scripts/test-servers.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
