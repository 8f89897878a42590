#!/usr/bin/env bash
# Fuzzes the input parsers with libFuzzer: the event parser, the NDJSON line
# reader, the rule-expression parser, and the archive's Parquet writer and
# reader (tests/fuzz/*_fuzz.cc).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]    # default: 60 s each, every target
#
# Builds the targets with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# in build-fuzz/ (the normal build/ is not touched), then runs each for
# SECONDS, seeded from tests/fuzz/corpus/TARGET/; what it learns is kept in
# build-fuzz/corpus/TARGET/ and reused by the next run. Exits 1 when a target
# crashes, trips a sanitizer or breaks one of its checks; the input is saved as
# build-fuzz/crash-TARGET-* and the report is in build-fuzz/TARGET.log.
# Reproduce with: build-fuzz/TARGET_fuzz build-fuzz/crash-TARGET-...
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ $seconds =~ ^[0-9]+$ ]] || ((seconds < 1)); then
  echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
  exit 2
fi
shift || true
all=(event_parser line_source expr_parser parquet_writer)
targets=("$@")
if ((${#targets[@]} == 0)); then targets=("${all[@]}"); fi
for t in "${targets[@]}"; do
  if [[ " ${all[*]} " != *" $t "* ]]; then
    echo "fuzz: unknown target '$t' (targets: ${all[*]})" >&2
    exit 2
  fi
done

for tool in clang++ cmake ninja; do
  if ! command -v "$tool" >/dev/null; then
    echo "fuzz: $tool is missing: run scripts/setup.sh" >&2
    exit 2
  fi
done

cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DVIGIL_FUZZ=ON \
  -DVIGIL_TESTS=OFF >/dev/null
ninja -C build-fuzz -j2 "${targets[@]/%/_fuzz}" >&2

declare -A dict=([event_parser]=tests/fuzz/json.dict [line_source]=tests/fuzz/json.dict
  [expr_parser]=tests/fuzz/expr.dict [parquet_writer]=tests/fuzz/json.dict)
status=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  log="build-fuzz/$t.log"
  echo "fuzz: $t for ${seconds}s" >&2
  if UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 build-fuzz/"${t}_fuzz" \
      -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
      -dict="${dict[$t]}" -artifact_prefix="build-fuzz/crash-$t-" -print_final_stats=1 \
      "build-fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    grep -E '^stat::number_of_executed_units|^#[0-9]+ *DONE' "$log" | sed "s/^/fuzz: $t: /" >&2 || true
  else
    status=1
    echo "fuzz: $t FAILED; report in $log:" >&2
    grep -v -E '^#[0-9]+ +(NEW|REDUCE|pulse)' "$log" | tail -40 >&2
  fi
done
exit $status
