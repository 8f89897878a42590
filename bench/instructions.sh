#!/usr/bin/env bash
# Instruction counts: the same event file (default 200k events) through
#   parse_only                     the simdjson parse-only baseline
#   vigil, one metric              reading, the checks, field extraction
#                                  and one counting metric
#   vigil, the reference rules     deploy/rules/chatbot.yaml, the built-in
#                                  rules (session streams, joins, metrics)
#   vigil, all reference files     chatbot, events, experiment and slos
# each run once, one worker, under valgrind's callgrind (Debian package
# `valgrind`), which counts the instructions the program executes. The
# count does not move with the machine's load, its CPU frequency or its
# neighbours, so a change's effect shows in one run where CPU seconds
# (bench/e2e.sh, bench/workers.sh) swing by ±25% here; what it does not
# see is what memory costs (cache and TLB misses, page faults), so read it
# next to those. Prints the counts, instructions per event, and each
# against parse-only.
#
# Usage: bench/instructions.sh [EVENTS]   (needs a build with -DVIGIL_BENCH=ON in build/)
source "$(dirname "$0")/common.sh"
events=${1:-200000}
command -v valgrind > /dev/null || {
  echo "instructions.sh: needs valgrind (apt-get install valgrind)" >&2
  exit 2
}
bench_setup

file="$dir/events.ndjson"
bench_events "$file" "$events" --incident latency_spike@20m+8m --incident bedrock_open@40m+5m \
  --incident escalation_surge@55m+10m
cat > "$dir/one.yaml" << 'EOF'
metrics:
  - metric: messages_per_minute
    where: type == "message"
    window: tumbling 1m
    value: count()
EOF

# count NAME CMD...: the instructions CMD executes, appended as "NAME COUNT".
count() {
  local name=$1
  shift
  # The allocator setting keeps vigil from re-executing itself, which
  # callgrind would not follow.
  VIGIL_ALLOCATOR=default valgrind --tool=callgrind --callgrind-out-file="$dir/cg.$name" \
    "$@" > /dev/null 2> "$dir/log.$name" || {
    cat "$dir/log.$name" >&2
    exit 1
  }
  echo "$name $(sed -n 's/^summary: //p' "$dir/cg.$name")" >> "$dir/counts"
  echo "instructions.sh: $name done" >&2
}

run=("$vigil" run --workers 1 --input "$file" --no-console --no-progress --http off)
count parse-only "$parse_only" "$file"
count one-metric "${run[@]}" --rules "$dir/one.yaml"
count reference "${run[@]}"
count all-four "${run[@]}" --rules deploy/rules/chatbot.yaml --rules deploy/rules/events.yaml \
  --rules deploy/rules/experiment.yaml --rules deploy/rules/slos.yaml

awk -v n="$events" '
  NR == 1 { base = $2 }
  { printf "%-12s %15.0f instructions %8.0f per event %6.2fx parse-only\n", $1, $2, $2 / n, $2 / base }
' "$dir/counts"
