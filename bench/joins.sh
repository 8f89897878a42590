#!/usr/bin/env bash
# Joins benchmark: the reference rules with their three joins (rated_turns,
# recommendation_clicks, escalated_turns) and the two record outputs,
# against the same rules without them, over one generated event file
# (default 2M events), in the same run, alternating, one worker:
#   parse_only     the simdjson parse-only baseline
#   without        the reference rules with the joins, the metrics and the
#                  alert reading them and the outputs cut out
#   with           the reference rules
#   with+records   the reference rules writing the outputs (--record-dir)
# For each: events per wall-second and per CPU-second and peak RSS, medians
# of REPEAT runs (default 5); then the cost of the joins as the ratio of
# CPU per event with them to without them.
#
# Usage: bench/joins.sh [EVENTS]   (needs a build with -DVIGIL_BENCH=ON in build/)
source "$(dirname "$0")/common.sh"
events=${1:-2000000}
repeat=${REPEAT:-5}
bench_setup

file="$dir/events.ndjson"
bench_events "$file" "$events" --incident latency_spike@20m+8m --incident bedrock_open@40m+5m

# The reference rules without the joins: drop the joins: and outputs:
# sections, every metric `from:` a join, and the alert on such a metric.
with="deploy/rules/chatbot.yaml"
without="$dir/without-joins.yaml"
awk '
  function flush() { if (item != "" && !drop) printf "%s", item; item = ""; drop = 0 }
  /^[a-z_]+:/ { flush(); section = $1; skip = (section == "joins:" || section == "outputs:") }
  skip { next }
  /^  - / { flush(); item = $0 "\n"; next }
  item != "" {
    item = item $0 "\n"
    if ($0 ~ /from: (rated_turns|recommendation_clicks|escalated_turns)/) drop = 1
    if ($0 ~ /expr: faq_negative_feedback/) drop = 1
    next
  }
  { print }
  END { flush() }
' "$with" > "$without"
"$vigil" check "$without" > /dev/null

run=(run --workers 1 --input "$file" --no-console --no-progress --http off)
for i in $(seq "$repeat"); do
  measure parse "$parse_only" "$file"
  measure without "$vigil" "${run[@]}" --rules "$without"
  measure with "$vigil" "${run[@]}" --rules "$with"
  rm -rf "$dir/record-out"
  measure records "$vigil" "${run[@]}" --rules "$with" --record-dir "$dir/record-out"
  echo "joins.sh: run $i of $repeat" >&2
done

printf '%-10s %10s %10s %14s %14s %10s\n' run wall_s cpu_s events/wall-s events/cpu-s peak_MiB
for name in parse without with records; do
  wall=$(median "$dir/times-$name" 1)
  cpu=$(median "$dir/times-$name" 2)
  rss=$(median "$dir/times-$name" 3)
  printf '%-10s %10s %10s %14.0f %14.0f %10.1f\n' "$name" "$wall" "$cpu" \
    "$(awk -v n="$events" -v t="$wall" 'BEGIN {print n / t}')" \
    "$(awk -v n="$events" -v t="$cpu" 'BEGIN {print n / t}')" \
    "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
  eval "${name}_cpu=$cpu ${name}_rss=$rss"
done
awk -v p="$parse_cpu" -v a="$without_cpu" -v b="$with_cpu" -v c="$records_cpu" \
  -v ra="$without_rss" -v rb="$with_rss" 'BEGIN {
  printf "CPU per event, with joins against without:      %.2fx\n", b / a
  printf "CPU per event, with joins and records against without: %.2fx\n", c / a
  printf "peak memory, with joins against without:        %.2fx\n", rb / ra
  printf "CPU per event without joins against parse-only: %.2fx\n", a / p
}'
for name in parse without with records; do
  printf '%s runs (wall cpu rss_kb): %s\n' "$name" "$(tr '\n' ';' < "$dir/times-$name")"
done
