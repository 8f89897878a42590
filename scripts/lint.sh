#!/usr/bin/env bash
# Runs clang-tidy with the checks of .clang-tidy over vigil's sources (the
# libraries, the binary and the tests) and the headers they include, with
# the compile flags of build/compile_commands.json. Exits 1 on any finding.
#
#   scripts/lint.sh [FILE...]    # default: every source file the build compiles
#
# A whole run takes a while (about 20 minutes on 2 cores), so it is not part
# of scripts/test.sh; name files to check only those. BUILD=DIR uses another
# build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${BUILD:-build}

for tool in clang-tidy cmake; do
  if ! command -v "$tool" >/dev/null; then
    echo "lint: $tool is missing: run scripts/setup.sh" >&2
    exit 2
  fi
done
# Configuring is enough: the compile commands exist before anything is built.
if [ ! -f "$build/compile_commands.json" ]; then
  cmake -S . -B "$build" -G Ninja -DVIGIL_WERROR=ON >/dev/null
fi

folders="^$root/(base|runtime|operators|rules|windows|tests|bench)/"
files=()
if (($#)); then
  for f in "$@"; do files+=("$(realpath "$f")"); done
else
  mapfile -t files < <(sed -n 's/^ *"file": *"\(.*\)",\{0,1\}$/\1/p' "$build/compile_commands.json" |
    grep -E "$folders" | sort -u)
fi
echo "lint: clang-tidy on ${#files[@]} files" >&2

# The compile commands as clang reads them: without GCC's precompiled
# headers of the tests (clang cannot load them; the headers they hold are
# included by the files anyway) and GCC-only warning options.
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
sed -e 's| -Winvalid-pch -include [^ ]*/cmake_pch\.hxx||' -e 's| -Wno-stringop-overflow||' \
  "$build/compile_commands.json" >"$db/compile_commands.json"

# One clang-tidy per file, as many at once as there are cores; a file's
# findings are printed together.
tidy() {
  local out
  if out=$(clang-tidy -p "$LINT_BUILD" --quiet -header-filter="$LINT_HEADERS" "$1" 2>&1); then
    return 0
  fi
  printf '%s\n' "$out" | grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$' >&2
  return 1
}
export -f tidy
export LINT_BUILD=$db LINT_HEADERS=$folders
if ! printf '%s\0' "${files[@]}" | xargs -0 -n 1 -P "$(nproc)" bash -c 'tidy "$1"' _; then
  echo "lint: clang-tidy found problems (above)" >&2
  exit 1
fi
echo "lint: clean" >&2
