#!/usr/bin/env bash
# Scale-out benchmark: what splitting a job over instances and a merge stage
# costs. Fills a 32-partition topic of the development broker with `vigil
# gen --to kafka://…`, then in the same run measures, in CPU-seconds (user +
# system) with the reference rules:
#   (1) one `vigil run --exit-at-end` over the topic (the baseline);
#   (2) two `vigil run --partials` instances sharing the topic in a consumer
#       group, each ending at the end of its partitions (summed);
#   (3) `vigil run --merge --exit-at-end` over the partials they published.
# Reports events per CPU-second of each and (2)+(3) against (1), plus the
# partials messages per million events. The results of (3) are compared
# with (1), apart from `return_visit_rate` (the user-keyed stream; README:
# Scale-out), and the script fails if they differ.
#
# Usage: bench/scale_out.sh [EVENTS]      (needs build/vigil; EVENTS default 1,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
. bench/kafka_topic.sh "$n" --topic partials:4
group=" -X session.timeout.ms=6000 -X heartbeat.interval.ms=500"

/usr/bin/time -v "$vigil" run --input "kafka://$addr/bench" --group single --exit-at-end \
  --results "$dir/single.ndjson" --no-console --no-progress --http off $group \
  > /dev/null 2> "$dir/single.time"

pids=()
for id in a b; do
  /usr/bin/time -v "$vigil" run --input "kafka://$addr/bench" --group pair --exit-at-end \
    --partials "kafka://$addr/partials" --instance-id "$id" --checkpoint-interval 1s \
    --no-console --no-progress --http off $group > /dev/null 2> "$dir/$id.time" &
  pids+=($!)
done
wait "${pids[@]}"
/usr/bin/time -v "$vigil" run --merge "kafka://$addr/partials" --exit-at-end \
  --results "$dir/merged.ndjson" --no-console --no-progress --http off $group \
  > /dev/null 2> "$dir/merge.time"

records() { grep -o 'vigil: [0-9]* records' "$1" | grep -o '[0-9]*' | head -1; }
[ "$(($(records "$dir/a.time") + $(records "$dir/b.time")))" -eq "$n" ] ||
  { echo "the instances read $(records "$dir/a.time") + $(records "$dir/b.time") of $n" >&2; exit 1; }
same() { grep -v '"metric":"return_visit_rate"' "$1" | sort; }
cmp -s <(same "$dir/single.ndjson") <(same "$dir/merged.ndjson") ||
  { echo "the merge's windows differ from one instance's" >&2; exit 1; }

awk -v n="$n" -v s="$(cpu_s "$dir/single.time")" -v a="$(cpu_s "$dir/a.time")" \
    -v b="$(cpu_s "$dir/b.time")" -v m="$(cpu_s "$dir/merge.time")" \
    -v msgs="$(records "$dir/merge.time")" 'BEGIN {
  printf "%-10s %14s %18s %14s %22s %16s\n", "events", "single/cpu-s", "instances/cpu-s",
         "merge_cpu_s", "(inst+merge)/single", "partials_msgs"
  printf "%-10d %14.0f %18.0f %14.2f %22.2f %16d\n", n, n / s, n / (a + b), m, (a + b + m) / s, msgs
}'
