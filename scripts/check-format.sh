#!/usr/bin/env bash
# Checks that every tracked .cc and .h file is formatted by the .clang-format
# at the root (clang-format --dry-run -Werror); prints what differs and exits
# 1 otherwise. scripts/test.sh runs it first. To fix a file:
#   clang-format -i FILE
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang-format >/dev/null; then
  echo "check-format: clang-format is missing: run scripts/setup.sh" >&2
  exit 2
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  mapfile -d '' files < <(git ls-files -z '*.cc' '*.h')
else  # an exported tree
  mapfile -d '' files < <(find base bench operators rules runtime tests windows \
    \( -name node_modules -prune \) -o \( -name '*.cc' -o -name '*.h' \) -print0)
fi
if ! clang-format --dry-run -Werror "${files[@]}"; then
  echo "check-format: files above differ from $(clang-format --version | sed 's/ *(.*//');" \
    "run clang-format -i on them" >&2
  exit 1
fi
