#!/usr/bin/env bash
# Experiment and calendar-window benchmark: what the reference prompt
# experiment (deploy/rules/experiment.yaml) and the calendar weeks of the
# reference rules cost, over one generated event file (default 2M events,
# arm B regressed for part of it), in the same run, alternating, one worker:
#   parse_only   the simdjson parse-only baseline
#   tumbling     the reference rules with their calendar weeks made
#                `tumbling 1w` (same size, fixed boundaries)
#   reference    the reference rules (calendar weeks)
#   experiment   the reference rules and the reference experiment
# For each: events per wall-second and per CPU-second and peak RSS, medians
# of REPEAT runs (default 5); then the ratios of CPU per event.
#
# Usage: bench/experiments.sh [EVENTS]   (needs a build with -DVIGIL_BENCH=ON in build/)
source "$(dirname "$0")/common.sh"
events=${1:-2000000}
repeat=${REPEAT:-5}
bench_setup

file="$dir/events.ndjson"
bench_events "$file" "$events" --incident prompt_regression@10m+20m

reference="deploy/rules/chatbot.yaml"
tumbling="$dir/tumbling-weeks.yaml"
sed 's/window: calendar week/window: tumbling 1w/' "$reference" > "$tumbling"
"$vigil" check "$tumbling" > /dev/null
"$vigil" check "$reference" deploy/rules/experiment.yaml > /dev/null

run=(run --workers 1 --input "$file" --no-console --no-progress --http off)
for i in $(seq "$repeat"); do
  measure parse "$parse_only" "$file"
  measure tumbling "$vigil" "${run[@]}" --rules "$tumbling"
  measure reference "$vigil" "${run[@]}" --rules "$reference"
  measure experiment "$vigil" "${run[@]}" --rules "$reference" --rules deploy/rules/experiment.yaml
  echo "experiments.sh: run $i of $repeat" >&2
done

printf '%-11s %10s %10s %14s %14s %10s\n' run wall_s cpu_s events/wall-s events/cpu-s peak_MiB
for name in parse tumbling reference experiment; do
  wall=$(median "$dir/times-$name" 1)
  cpu=$(median "$dir/times-$name" 2)
  rss=$(median "$dir/times-$name" 3)
  printf '%-11s %10s %10s %14.0f %14.0f %10.1f\n' "$name" "$wall" "$cpu" \
    "$(awk -v n="$events" -v t="$wall" 'BEGIN {print n / t}')" \
    "$(awk -v n="$events" -v t="$cpu" 'BEGIN {print n / t}')" \
    "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
  eval "${name}_cpu=$cpu ${name}_rss=$rss"
done
awk -v p="$parse_cpu" -v t="$tumbling_cpu" -v r="$reference_cpu" -v e="$experiment_cpu" \
  -v rr="$reference_rss" -v re="$experiment_rss" 'BEGIN {
  printf "CPU per event, calendar weeks against tumbling 1w:        %.2fx\n", r / t
  printf "CPU per event, with the experiment against without:      %.2fx\n", e / r
  printf "peak memory, with the experiment against without:        %.2fx\n", re / rr
  printf "CPU per event, reference rules against parse-only:       %.2fx\n", r / p
}'
for name in parse tumbling reference experiment; do
  printf '%s runs (wall cpu rss_kb): %s\n' "$name" "$(tr '\n' ';' < "$dir/times-$name")"
done
