#!/usr/bin/env bash
# Configures and builds vigil in build/ (Release with debug info, warnings as errors).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh build
cmake -S . -B build -G Ninja -DVIGIL_WERROR=ON "$@" >/dev/null
cmake --build build -j"$(nproc)"
