#!/usr/bin/env bash
# Workers benchmark: one event file (the reference rules' generator with
# incidents, default 4M events), measured in the same run, alternating:
#   parse_only            the simdjson parse-only baseline (one thread)
#   vigil --workers 1     the reference rules on one thread
#   vigil --workers 2     ... on two
#   parse_only x2         two parse-only processes at once: what this
#                         machine gives two busy threads right now (its
#                         cores are virtual and shared, so this moves)
# For each: events per wall-second, per CPU-second (user + system) and peak
# RSS, as medians of REPEAT runs (default 5); then the ratios the engine
# issue asks for: wall-clock speedup of N=2 over N=1, CPU per event of N=2
# against N=1, peak memory of N=2 against N=1, and N=1's CPU per event
# against parse-only, and the N=2 speedup against the x2 baseline's
# (2 x parse wall / parse x2 wall): the share of the machine's parallel
# capacity of the moment that the workers use.
#
# Usage: bench/workers.sh [EVENTS]   (needs a build with -DVIGIL_BENCH=ON in build/)
source "$(dirname "$0")/common.sh"
events=${1:-4000000}
repeat=${REPEAT:-5}
bench_setup

file="$dir/events.ndjson"
bench_events "$file" "$events" --incident latency_spike@20m+8m --incident bedrock_open@40m+5m \
  --incident escalation_surge@55m+10m

for i in $(seq "$repeat"); do
  measure parse "$parse_only" "$file"
  measure w1 "$vigil" run --workers 1 --input "$file" --no-console --no-progress --http off
  measure w2 "$vigil" run --workers 2 --input "$file" --no-console --no-progress --http off
  measure parse2 bash -c '"$0" "$1" & "$0" "$1"; wait' "$parse_only" "$file"
  echo "workers.sh: run $i of $repeat" >&2
done

printf '%-14s %12s %12s %12s %12s %10s\n' run wall_s cpu_s events/wall-s events/cpu-s peak_MiB
for name in parse parse2 w1 w2; do
  wall=$(median "$dir/times-$name" 1)
  cpu=$(median "$dir/times-$name" 2)
  rss=$(median "$dir/times-$name" 3)
  printf '%-14s %12s %12s %12.0f %12.0f %10.1f\n' "$name" "$wall" "$cpu" \
    "$(awk -v n="$events" -v t="$wall" 'BEGIN {print n / t}')" \
    "$(awk -v n="$events" -v t="$cpu" 'BEGIN {print n / t}')" \
    "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
  eval "${name}_wall=$wall ${name}_cpu=$cpu ${name}_rss=$rss"
done
awk -v w1="$w1_wall" -v w2="$w2_wall" -v c1="$w1_cpu" -v c2="$w2_cpu" -v r1="$w1_rss" \
  -v r2="$w2_rss" -v p="$parse_cpu" -v pw="$parse_wall" -v p2="$parse2_wall" 'BEGIN {
  printf "N=2 wall-clock speedup over N=1:       %.2fx (target >= 1.7)\n", w1 / w2
  printf "N=2 CPU per event against N=1:         %.2fx (target <= 1.15)\n", c2 / c1
  printf "N=2 peak memory against N=1:           %.2fx (target <= 1.5)\n", r2 / r1
  printf "N=1 CPU per event against parse-only:  %.2fx (goal <= 2.5)\n", c1 / p
  printf "two parse-only processes at once:       %.2fx one (the machine, now)\n", 2 * pw / p2
  printf "N=2 speedup against that:               %.2f\n", (w1 / w2) / (2 * pw / p2)
}'
for name in parse parse2 w1 w2; do
  printf '%s runs (wall cpu rss_kb): %s\n' "$name" "$(tr '\n' ';' < "$dir/times-$name")"
done
