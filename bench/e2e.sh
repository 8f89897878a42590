#!/usr/bin/env bash
# End-to-end benchmark: generates an event file with `vigil gen`, then in the
# same run measures (1) the parse-only baseline over the file and (2) `vigil
# run` with the reference rules over it, reporting events/s per core, the
# ratio of the two and peak RSS. Repeats for each size given (default 10M and
# 20M events) so that memory can be compared across input sizes.
#
# Usage: bench/e2e.sh [EVENTS...]     (needs a build with -DVIGIL_BENCH=ON in build/)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000000 20000000)
vigil=build/vigil
parse_only=build/parse_only
[ -x "$parse_only" ] || { echo "build with: cmake -S . -B build -DVIGIL_BENCH=ON && cmake --build build" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

peak_rss_kb() { grep -E 'Maximum resident set size' "$1" | awk '{print $NF}'; }
elapsed_s() { awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$1"; }
cpu_s() { awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$1"; }

printf '%-10s %14s %14s %8s %12s %12s\n' events parse_only/s vigil/s ratio vigil_cpu_s peak_rss_MiB
for n in "${sizes[@]}"; do
  file="$dir/events-$n.ndjson"
  # 1000 events/s of event time with the seed's incidents spread over the span.
  "$vigil" gen --seed 42 --rate 1000 --count "$n" \
    --incident latency_spike@1h+8m --incident bedrock_open@2h+5m \
    --incident escalation_surge@3h+10m --out "$file"
  /usr/bin/time -v "$parse_only" "$file" > "$dir/p.json" 2> "$dir/p.time"
  /usr/bin/time -v "$vigil" run --input "$file" --no-console --no-progress --http off \
    > /dev/null 2> "$dir/v.time"
  p_rate=$(sed -E 's/.*"events_per_second":([0-9.]+).*/\1/' "$dir/p.json")
  v_cpu=$(cpu_s "$dir/v.time")
  v_rate=$(awk -v n="$n" -v c="$v_cpu" 'BEGIN {printf "%.0f", n / c}')
  ratio=$(awk -v a="$v_rate" -v b="$p_rate" 'BEGIN {printf "%.2f", a / b}')
  rss=$(awk -v k="$(peak_rss_kb "$dir/v.time")" 'BEGIN {printf "%.1f", k / 1024}')
  printf '%-10s %14.0f %14s %8s %12s %12s\n' "$n" "$p_rate" "$v_rate" "$ratio" "$v_cpu" "$rss"
  rm -f "$file"
done
