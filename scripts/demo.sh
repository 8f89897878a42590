#!/usr/bin/env bash
# Sets up, builds and runs the demo stream job end to end over Kafka:
#   vigil dev-broker          an in-memory Kafka-protocol broker (development only)
#   vigil gen --to kafka://…  chatbot events at 60x speed with scheduled incidents,
#                             keyed by session_id, into topic "events" (4 partitions)
#   vigil run --input kafka://…
#                             the reference rules; alerts on the console,
#                             Prometheus metrics on http://127.0.0.1:9464/metrics
# Extra arguments go to `vigil run`. Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh >&2

dir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

build/vigil dev-broker --topic events:4 --address-file "$dir/broker" >/dev/null 2>"$dir/broker.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$dir/broker" ] && break; sleep 0.05; done
[ -s "$dir/broker" ] || { cat "$dir/broker.log" >&2; exit 1; }
broker=$(cat "$dir/broker")
echo "demo: dev broker on $broker (in memory); generator -> kafka://$broker/events -> vigil run" >&2

build/vigil gen --to "kafka://$broker/events" --start now --speed 60 --rate 500 \
  --incident latency_spike@3m+8m --incident bedrock_open@15m+4m \
  --incident escalation_surge@25m+6m --incident cache_miss_storm@35m+12m \
  --incident guardrail_storm@50m+6m 2>"$dir/gen.log" &
pids+=($!)

# The generator's event time runs 60x the clock: trust it however far ahead.
build/vigil run --input "kafka://$broker/events" --group vigil-demo --max-future 0 "$@"
