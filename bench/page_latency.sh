#!/usr/bin/env bash
# Page latency on a live run: `vigil gen --start now --speed 1` writes
# chatbot traffic into the development broker at real-time speed (no
# jitter, so event time is the producer's wall clock), and `vigil run`
# reads it with the reference rules plus one probe alert on 1-second
# windows that changes state about every other window (the count of the
# window's messages is odd), notifying a local webhook receiver
# (bench/page_receiver.js) of every firing and resolved transition.
#
# For each notification: arrival (receiver's wall clock) minus the event
# time of the window end it is about, minus the configured
# max_out_of_orderness: the time from the moment event time passed the
# window end (as the producer's clock saw it) plus the out-of-orderness
# wait, to the page. It includes the producer's batching and the broker
# hop, which the job cannot see, so it is an upper bound of the job's own
# delay. Reported as p50, p99 and max over the notifications, once with
# --workers 1 and once with --workers 2.
#
# WORKERS lists the worker counts to run (default "1 2").
# FETCH_WAIT_MS sets the consumer's fetch.wait.max.ms (librdkafka's default
# 500); on the development broker the delay follows it (bench/README.md).
#
# Usage: bench/page_latency.sh [SECONDS]   (per run; default 240; about one
# page per two seconds)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-240}
vigil=${VIGIL:-build/vigil}
ooo_ms=1000
dir=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$dir"' EXIT

"$vigil" dev-broker --topic pages:4 --address-file "$dir/addr" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -s "$dir/addr" ] && break; sleep 0.05; done
addr=$(cat "$dir/addr")
port=$((20000 + RANDOM % 20000))
node bench/page_receiver.js "$port" "$dir/pages" &
pids+=($!)

cat > "$dir/probe.yaml" <<'RULES'
metrics:
  - metric: page_probe
    help: Messages per second; the probe alert fires on odd counts
    where: type == "message"
    window: tumbling 1s
    value: count()
alerts:
  - alert: PageProbe
    severity: P4
    expr: page_probe % 2 == 1
RULES

run() {  # workers
  local workers=$1 group="pages-$1"
  : > "$dir/pages"
  cat > "$dir/job.yaml" <<JOB
source:
  kind: kafka
  kafka:
    brokers: [$addr]
    topics: [pages]
    group_id: $group
    start: latest
    properties: {fetch.wait.max.ms: "${FETCH_WAIT_MS:-500}"}
event_time: {max_out_of_orderness: ${ooo_ms}ms, idle_timeout: 1h}
rules: [$PWD/deploy/rules/chatbot.yaml, $dir/probe.yaml]
outputs: {console: {format: json, pending: false}}
notify:
  receivers:
    - {name: bench, kind: webhook, url: "http://127.0.0.1:$port/hook"}
  routes: {P1: [bench], P2: [bench], P3: [bench], P4: [bench]}
http: {listen: ""}
JOB
  "$vigil" run --config "$dir/job.yaml" --workers "$workers" --no-console --no-progress \
    2> "$dir/job-$workers.log" &
  local job=$!
  sleep 5  # the consumer joins its group before traffic starts
  timeout "$secs" "$vigil" gen --seed "$workers" --rate 1000 --jitter 0 --start now --speed 1 \
    --to "kafka://$addr/pages" 2>/dev/null || true
  sleep 3
  kill -TERM "$job"
  wait "$job" || true
  if grep -q malformed "$dir/pages"; then echo "the receiver got a malformed notification" >&2; fi
  awk -v ooo="$ooo_ms" '$2 != "malformed" { print $1 - $3 - ooo }' "$dir/pages" | sort -n |
    awk -v w="$workers" '
      { d[++n] = $1 }
      END {
        if (n == 0) { printf "workers %d: no pages\n", w; exit 1 }
        printf "workers %d: %d pages; ms after window end + out-of-orderness: p50 %d, p99 %d, min %d, max %d\n",
          w, n, d[int((n + 1) * 0.50)], d[int(n * 0.99) + (n * 0.99 > int(n * 0.99))], d[1], d[n]
      }'
  grep -i "error\|vigil:" "$dir/job-$workers.log" | head -5 >&2 || true
}
for w in ${WORKERS:-1 2}; do run "$w"; done
