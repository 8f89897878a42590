#!/usr/bin/env bash
# Checks the lock annotations: builds every target (the binary, the
# libraries and the tests) with clang and -Wthread-safety as errors
# (-DVIGIL_THREAD_SAFETY=ON) in build-clang/; the normal build/ is untouched.
# Exits non-zero when a guarded member is used without its lock, a function
# that needs a lock is called without it, or a lock is not released.
#
#   scripts/thread-safety.sh [CMAKE ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in clang++ cmake ninja; do
  if ! command -v "$tool" >/dev/null; then
    echo "thread-safety: $tool is missing: run scripts/setup.sh" >&2
    exit 2
  fi
done

cmake -S . -B build-clang -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DVIGIL_THREAD_SAFETY=ON "$@" \
  >/dev/null
cmake --build build-clang -j"$(nproc)"
