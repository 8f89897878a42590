# Shared by the benchmark scripts (sourced): the build's binaries, a
# temporary directory removed on exit, one generated event file, and the
# timing helpers.
#
#   source "$(dirname "$0")/common.sh"
#   bench_setup                    # cd to the repository; $vigil, $parse_only, $dir
#   bench_events "$dir/e.ndjson" 2000000 --incident latency_spike@20m+8m
#   measure w1 "$vigil" run ...    # appends "wall cpu rss_kb" to $dir/times-w1
#   median "$dir/times-w1" 2       # the median CPU seconds
set -euo pipefail

bench_setup() {
  cd "$(dirname "$0")/.."
  vigil=build/vigil
  parse_only=build/parse_only
  [ -x "$parse_only" ] || {
    echo "build with: cmake -S . -B build -DVIGIL_BENCH=ON && cmake --build build" >&2
    exit 2
  }
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
}

# bench_events FILE COUNT [GEN FLAGS...]: the reference generator at
# 1,000 events/s (seed 42).
bench_events() {
  local file=$1 count=$2
  shift 2
  "$vigil" gen --seed 42 --rate 1000 --count "$count" "$@" --out "$file"
}

# measure NAME CMD...: wall and CPU (user + system) seconds and peak RSS (KiB)
# of one run of CMD, appended to $dir/times-NAME.
measure() {
  local name=$1
  shift
  /usr/bin/time -f '%e %U %S %M' -o "$dir/t" "$@" > /dev/null 2> /dev/null
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$dir/t" >> "$dir/times-$name"
}

# median FILE COLUMN
median() {
  sort -n -k"$2","$2" "$1" | awk -v c="$2" '{v[NR] = $c} END {print v[int((NR + 1) / 2)]}'
}
