#!/usr/bin/env bash
# End-to-end benchmark: generates an event file with `vigil gen`, then in the
# same run measures (1) the parse-only baseline over the file and (2) `vigil
# run` with the reference rules over it, reporting events per CPU-second
# (user + system, i.e. per core) of both, their ratio and vigil's peak RSS. Repeats for each size given (default 10M and
# 20M events) so that memory can be compared across input sizes.
#
# Each measurement is repeated (REPEAT, default 3) and the fastest kept, for
# both sides alike: these machines are shared and noisy.
#
# vigil runs with one worker (WORKERS=N for more; bench/workers.sh compares).
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
cpu_s() { awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$1"; }

printf '%-10s %14s %14s %8s %12s %12s\n' events parse_only/s vigil/s ratio vigil_cpu_s peak_rss_MiB
for n in "${sizes[@]}"; do
  file="$dir/events-$n.ndjson"
  # 1000 events/s of event time with the seed's incidents spread over the span.
  "$vigil" gen --seed 42 --rate 1000 --count "$n" \
    --incident latency_spike@1h+8m --incident bedrock_open@2h+5m \
    --incident escalation_surge@3h+10m --out "$file"
  p_rate=0 v_cpu=
  for _ in $(seq "${REPEAT:-3}"); do
    /usr/bin/time -v "$parse_only" "$file" > /dev/null 2> "$dir/p.time"
    r=$(awk -v n="$n" -v c="$(cpu_s "$dir/p.time")" 'BEGIN {printf "%.0f", n / c}')
    p_rate=$(awk -v a="$p_rate" -v b="$r" 'BEGIN {print (b > a ? b : a)}')
    /usr/bin/time -v "$vigil" run --workers "${WORKERS:-1}" --input "$file" --no-console \
      --no-progress --http off \
      > /dev/null 2> "$dir/v.time"
    c=$(cpu_s "$dir/v.time")
    if [ -z "$v_cpu" ] || awk -v a="$c" -v b="$v_cpu" 'BEGIN {exit !(a < b)}'; then
      v_cpu=$c
      cp "$dir/v.time" "$dir/v.best"
    fi
  done
  v_rate=$(awk -v n="$n" -v c="$v_cpu" 'BEGIN {printf "%.0f", n / c}')
  ratio=$(awk -v a="$v_rate" -v b="$p_rate" 'BEGIN {printf "%.2f", a / b}')
  rss=$(awk -v k="$(peak_rss_kb "$dir/v.best")" 'BEGIN {printf "%.1f", k / 1024}')
  printf '%-10s %14.0f %14s %8s %12s %12s\n' "$n" "$p_rate" "$v_rate" "$ratio" "$v_cpu" "$rss"
  rm -f "$file"
done
