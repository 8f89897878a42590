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
# The two are timed in turn REPEAT times (default 5); the table gives the
# median and the best run of each, and the ratio of medians and of bests.
# Every run is printed to stderr as it ends.
#
# Usage: bench/kafka.sh [EVENTS]      (needs build/vigil)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
. bench/kafka_topic.sh "$n"

: > "$dir/runs"
for i in $(seq "${REPEAT:-5}"); do
  /usr/bin/time -v kcat -b "$addr" -C -t bench -e -o beginning -q > /dev/null 2> "$dir/k.time"
  echo "kcat $(cpu_s "$dir/k.time") 0" >> "$dir/runs"
  start=$(date +%s.%N)
  /usr/bin/time -v "$vigil" run --input "kafka://$addr/bench" --group "bench-$i" --exit-at-end \
    --no-console --no-progress --http off > /dev/null 2> "$dir/v.time"
  end=$(date +%s.%N)
  echo "vigil $(cpu_s "$dir/v.time") $(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')" \
    >> "$dir/runs"
  tail -2 "$dir/runs" | awk '{printf "run %s: %s %.2f CPU-s\n", "'"$i"'", $1, $2}' >&2
done
sort -k1,1 -k2,2n "$dir/runs" | awk -v n="$n" '
  { c[$1]++; cpu[$1, c[$1]] = $2; if ($1 == "vigil" && (wall == "" || $3 < wall)) wall = $3 }
  END {
    for (k in c) { med[k] = cpu[k, int((c[k] + 1) / 2)]; best[k] = cpu[k, 1] }
    printf "%-10s %-7s %16s %16s %8s %12s\n", "events", "stat", "kcat_consume/s", "vigil/s", "ratio", "vigil_wall_s"
    printf "%-10d %-7s %16.0f %16.0f %8.2f %12.2f\n", n, "median", n / med["kcat"], n / med["vigil"], med["kcat"] / med["vigil"], wall
    printf "%-10d %-7s %16.0f %16.0f %8.2f %12s\n", n, "best", n / best["kcat"], n / best["vigil"], best["kcat"] / best["vigil"], ""
  }'
