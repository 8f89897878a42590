#!/usr/bin/env bash
# SLO benchmark: what an SLO costs, in one run, alternating, one worker, on
# one generated event file (default 2M events). Two comparisons:
#
# Alone, where one metric's cost is well above the runs' noise:
#   parse_only   the simdjson parse-only baseline
#   one          a rule file of one metric (the share of turns over 5 s,
#                sliding 1h every 5m)
#   two          the same and a second metric, the share over 2 s sliding
#                30d every 5m (the window of an SLO; a metric of the same
#                filter and window as another would share its operator and
#                cost almost nothing): the cost of one extra metric is
#                two - one
#   slo          the one metric and one SLO with the Workbook's three
#                burn-rate pairs (latency-sla of deploy/rules/slos.yaml):
#                nine metrics over one shared pane store; its cost is slo - one
# In the reference run:
#   base         the reference rules (deploy/rules/chatbot.yaml)
#   base+slos    the same and the six SLOs of deploy/rules/slos.yaml
# For each: events per wall-second and per CPU-second and peak RSS, medians
# of REPEAT runs (default 5); then the ratios.
#
# A run's cost has a fixed part besides its cost per event: at the end of
# the file the watermark jumps to +inf and closes every window still open
# (30 days of 5-minute ends for a 30-day window). So the small runs are
# measured over the whole file and over its first half, and the cost per
# event is the difference over the events between. With valgrind
# installed, the same comparison also counts instructions (callgrind, over
# the first 250 k and 500 k events): a count that does not swing with the
# machine.
#
# Usage: bench/slos.sh [EVENTS]   (needs a build with -DVIGIL_BENCH=ON in build/)
source "$(dirname "$0")/common.sh"
events=${1:-2000000}
repeat=${REPEAT:-5}
bench_setup

file="$dir/events.ndjson"
bench_events "$file" "$events" --incident latency_spike@20m+8m --incident bedrock_open@40m+5m
half="$dir/half.ndjson"
head -n $((events / 2)) "$file" > "$half"

base=deploy/rules/chatbot.yaml
metric() {  # a metric named $1: the share of turns at or over $2 ms, sliding $3 every 5m
  printf '  - metric: %s\n    export: true\n    where: type == "message"\n' "$1"
  printf '    window: sliding %s every 5m\n    value: ratio(latency_ms >= %s)\n' "$3" "$2"
}
{ echo "metrics:"; metric slow_share_5s 5000 1h; } > "$dir/one.yaml"
{ echo "metrics:"; metric slow_share_5s 5000 1h; metric slow_share_2s 2000 30d; } > "$dir/two.yaml"
{ cat "$dir/one.yaml"; awk '/^  - slo: latency-p95/ {exit} {print}' deploy/rules/slos.yaml; } \
  > "$dir/slo.yaml"
for f in one two slo; do "$vigil" check "$dir/$f.yaml" > /dev/null; done
"$vigil" check "$base" deploy/rules/slos.yaml > /dev/null

run=(run --workers 1 --input "$file" --no-console --no-progress --http off)
run_half=(run --workers 1 --input "$half" --no-console --no-progress --http off)
names="parse one two slo base slos"
# The small runs take well under a second: each measure of them is the
# total of INNER (default 10) back-to-back runs, so that time's 10 ms
# resolution is far below the differences measured; the figures printed
# are per run.
inner=${INNER:-10}
loop=(bash -c 'for _ in $(seq "$0"); do "$@"; done' "$inner")  # INNER runs of "$@"
for i in $(seq "$repeat"); do
  measure parse "${loop[@]}" "$parse_only" "$file"
  for f in one two slo; do
    measure "$f" "${loop[@]}" "$vigil" "${run[@]}" --rules "$dir/$f.yaml"
    measure "$f-half" "${loop[@]}" "$vigil" "${run_half[@]}" --rules "$dir/$f.yaml"
  done
  measure base "$vigil" "${run[@]}" --rules "$base"
  measure slos "$vigil" "${run[@]}" --rules "$base" --rules deploy/rules/slos.yaml
  echo "slos.sh: run $i of $repeat" >&2
done

printf '%-10s %10s %10s %14s %14s %10s\n' run wall_s cpu_s events/wall-s events/cpu-s peak_MiB
for name in $names; do
  wall=$(median "$dir/times-$name" 1)
  cpu=$(median "$dir/times-$name" 2)
  case $name in parse | one | two | slo)
    wall=$(awk -v t="$wall" -v n="$inner" 'BEGIN {printf "%.3f", t / n}')
    cpu=$(awk -v t="$cpu" -v n="$inner" 'BEGIN {printf "%.3f", t / n}') ;;
  esac
  rss=$(median "$dir/times-$name" 3)
  printf '%-10s %10s %10s %14.0f %14.0f %10.1f\n' "$name" "$wall" "$cpu" \
    "$(awk -v n="$events" -v t="$wall" 'BEGIN {print n / t}')" \
    "$(awk -v n="$events" -v t="$cpu" 'BEGIN {print n / t}')" \
    "$(awk -v k="$rss" 'BEGIN {print k / 1024}')"
  eval "${name}_cpu=$cpu"
done
for f in one two slo; do  # CPU seconds per run over the second half of the file
  eval "${f}_marginal=$(awk -v a="$(median "$dir/times-$f" 2)" \
    -v b="$(median "$dir/times-$f-half" 2)" -v n="$inner" 'BEGIN {printf "%.4f", (a - b) / n}')"
done
awk -v p="$parse_cpu" -v o="$one_cpu" -v t="$two_cpu" -v s="$slo_cpu" -v b="$base_cpu" \
  -v s6="$slos_cpu" -v om="$one_marginal" -v tm="$two_marginal" -v sm="$slo_marginal" 'BEGIN {
  printf "one metric, CPU per event against parse-only:       %.2fx\n", o / p
  printf "one extra metric adds (two against one):            %.3fx\n", t / o
  printf "one SLO adds (slo against one):                     %.3fx\n", s / o
  printf "what one SLO adds / what one metric adds:           %.2f\n", (s - o) / (t - o)
  printf "the same per event (second half of the file):       %.2f\n", (sm - om) / (tm - om)
  printf "reference rules, CPU per event against parse-only:  %.2fx\n", b / p
  printf "reference rules with the six SLOs against without:  %.3fx\n", s6 / b
}'
if command -v valgrind > /dev/null; then
  head -n 250000 "$file" > "$dir/i1.ndjson"
  head -n 500000 "$file" > "$dir/i2.ndjson"
  for f in one two slo; do
    for i in 1 2; do
      VIGIL_ALLOCATOR=default valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$vigil" run --workers 1 --input "$dir/i$i.ndjson" --no-console --no-progress \
        --http off --rules "$dir/$f.yaml" 2>&1 > /dev/null |
        awk '/Collected :/ {print $NF}' > "$dir/ir-$f-$i"
    done
    eval "${f}_ir=$(($(cat "$dir/ir-$f-2") - $(cat "$dir/ir-$f-1")))"
  done
  awk -v o="$one_ir" -v t="$two_ir" -v s="$slo_ir" 'BEGIN {
    printf "instructions per event (events 250k to 500k): one %.0f, two %.0f, slo %.0f\n",
      o / 250000, t / 250000, s / 250000
    printf "what one SLO adds / what one metric adds, in instructions: %.2f\n", (s - o) / (t - o)
  }'
fi
for name in $names; do
  printf '%s runs (wall cpu rss_kb): %s\n' "$name" "$(tr '\n' ';' < "$dir/times-$name")"
done
