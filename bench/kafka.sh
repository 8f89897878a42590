#!/usr/bin/env bash
# Kafka consume benchmark: fills a topic of the development broker with
# `vigil gen --to kafka://…` (lz4, keyed by session_id), then in the same run
# measures (1) `kcat -C -e -o beginning` consume-only of the topic, the
# transport baseline, and (2) `vigil run --input kafka://… --exit-at-end`
# with the reference rules over the same topic. Reports events per
# CPU-second (user + system: per core) of both and their ratio, plus
# vigil's wall time (which includes ~3 s of consumer-group join).
#
# The development broker keeps at most ~5 MB per partition, so the topic has
# 32 partitions and EVENTS (default 1,000,000) must fit in them; the script
# checks that every event is still on the broker before measuring.
#
# Each measurement is repeated (REPEAT, default 3) and the fastest kept.
#
# Usage: bench/kafka.sh [EVENTS]      (needs build/vigil)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
. bench/kafka_topic.sh "$n"
best() { awk -v a="$1" -v b="$2" 'BEGIN {print (a == "" || b < a) ? b : a}'; }

k_cpu="" v_cpu="" v_wall=""
for i in $(seq "${REPEAT:-3}"); do
  /usr/bin/time -v kcat -b "$addr" -C -t bench -e -o beginning -q > /dev/null 2> "$dir/k.time"
  k_cpu=$(best "$k_cpu" "$(cpu_s "$dir/k.time")")
  start=$(date +%s.%N)
  /usr/bin/time -v "$vigil" run --input "kafka://$addr/bench" --group "bench-$i" --exit-at-end \
    --no-console --no-progress --http off > /dev/null 2> "$dir/v.time"
  end=$(date +%s.%N)
  v_cpu=$(best "$v_cpu" "$(cpu_s "$dir/v.time")")
  v_wall=$(best "$v_wall" "$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')")
done
awk -v n="$n" -v k="$k_cpu" -v v="$v_cpu" -v w="$v_wall" 'BEGIN {
  printf "%-10s %16s %16s %8s %12s\n", "events", "kcat_consume/s", "vigil/s", "ratio", "vigil_wall_s"
  printf "%-10d %16.0f %16.0f %8.2f %12.2f\n", n, n / k, n / v, (n / v) / (n / k), w
}'
