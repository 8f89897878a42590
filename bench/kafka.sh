#!/usr/bin/env bash
# Kafka consume benchmark: fills a topic of the development broker with
# `vigil gen --to kafka://…` (lz4, keyed by session_id), then in the same run
# measures, in turn:
#   (1) kcat: `kcat -C -e -o beginning`, consume only (kept for reference:
#       its cost swings with timing, see bench/README.md);
#   (2) poll-only: bench/kafka_poll_only, a consumer with vigil's own
#       librdkafka settings, group join and allocator set-up that only
#       counts messages: the transport baseline;
#   (3) vigil: `vigil run --input kafka://… --exit-at-end --workers 1` with
#       the reference rules;
#   (4) vigil2: the same with --workers 2.
# Reports events per CPU-second (user + system: per core) of each, vigil's
# ratio to poll-only and to kcat, the spread of the poll-only runs, wall
# times (which include ~3 s of consumer-group join for (2) to (4)), and the
# wall-clock rate of vigil2 against poll-only's.
#
# The development broker keeps at most ~5 MB per partition, so the topic has
# 32 partitions and EVENTS (default 1,000,000) must fit in them; the script
# checks that every event is still on the broker before measuring.
#
# The three are timed in turn REPEAT times (default 5); the table gives the
# median (the lower middle one for an even REPEAT) and the best run of each.
# Ratios are of medians, of bests, and the median of the per-repetition
# ratios. Every run is printed to stderr as it ends.
#
# Binaries: $VIGIL (default build/vigil); $POLL_ONLY (default
# build/kafka_poll_only, built with -DVIGIL_BENCH=ON). Without the latter the
# script compiles bench/kafka_poll_only.cc into its scratch directory (g++,
# librdkafka-dev), so only vigil itself needs to be built.
#
# Usage: bench/kafka.sh [EVENTS]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
. bench/kafka_topic.sh "$n"

poll_only=${POLL_ONLY:-build/kafka_poll_only}
if [ ! -x "$poll_only" ]; then
  poll_only=$dir/kafka_poll_only
  g++ -O2 -std=c++20 bench/kafka_poll_only.cc -lrdkafka -o "$poll_only"
fi

# timed NAME CMD...: runs CMD under /usr/bin/time, appends "NAME CPU-s wall-s"
# to the runs file.
timed() {
  local name=$1
  shift
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -v "$@" > "$dir/$name.out" 2> "$dir/$name.time"
  end=$(date +%s.%N)
  echo "$name $(cpu_s "$dir/$name.time") $(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')" \
    >> "$dir/runs"
}

: > "$dir/runs"
reps=${REPEAT:-5}
for i in $(seq "$reps"); do
  timed kcat kcat -b "$addr" -C -t bench -e -o beginning -q
  timed poll_only "$poll_only" "$addr" bench "bench-poll-$i"
  got=$(sed -n 's/.*"messages":\([0-9]*\).*/\1/p' "$dir/poll_only.out")
  [ "$got" = "$n" ] || { echo "kafka_poll_only read $got of $n messages" >&2; exit 1; }
  timed vigil "$vigil" run --input "kafka://$addr/bench" --group "bench-$i" --exit-at-end \
    --no-console --no-progress --http off --workers 1
  timed vigil2 "$vigil" run --input "kafka://$addr/bench" --group "bench-w2-$i" --exit-at-end \
    --no-console --no-progress --http off --workers 2
  tail -4 "$dir/runs" |
    awk -v i="$i" '{printf "run %s: %-9s %.2f CPU-s %.2f s wall\n", i, $1, $2, $3}' >&2
done
awk -v n="$n" -v reps="$reps" '
  function sort(a, k,   i, j, t) {  # insertion sort of a[1..k]
    for (i = 2; i <= k; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  }
  { r[$1]++; cpu[$1, r[$1]] = $2; wall[$1, r[$1]] = $3 }
  END {
    split("kcat poll_only vigil vigil2", names, " ")
    for (s = 1; s <= 4; s++) {
      k = names[s]
      for (i = 1; i <= reps; i++) { c[i] = cpu[k, i]; w[i] = wall[k, i] }
      sort(c, reps); sort(w, reps)
      med[k] = c[int((reps + 1) / 2)]; best[k] = c[1]; worst[k] = c[reps]
      medwall[k] = w[int((reps + 1) / 2)]
    }
    for (i = 1; i <= reps; i++) {
      rp[i] = cpu["poll_only", i] / cpu["vigil", i]
      rk[i] = cpu["kcat", i] / cpu["vigil", i]
    }
    sort(rp, reps); sort(rk, reps)
    printf "%d events, %d runs of each; events per CPU-second (user + system)\n\n", n, reps
    printf "%-10s %12s %12s %10s %10s %10s %12s\n", "side", "median/s", "best/s", "med_cpu_s", "min_cpu_s", "max_cpu_s", "med_wall_s"
    for (s = 1; s <= 4; s++) {
      k = names[s]
      printf "%-10s %12.0f %12.0f %10.2f %10.2f %10.2f %12.2f\n", k, n / med[k], n / best[k], med[k], best[k], worst[k], medwall[k]
    }
    printf "\n%-18s %8s %8s %16s\n", "ratio", "medians", "bests", "per-run median"
    printf "%-18s %8.2f %8.2f %16.2f  (runs %.2f..%.2f)\n", "vigil / poll_only", med["poll_only"] / med["vigil"], best["poll_only"] / best["vigil"], rp[int((reps + 1) / 2)], rp[1], rp[reps]
    printf "%-18s %8.2f %8.2f\n", "vigil2 / poll_only", med["poll_only"] / med["vigil2"], best["poll_only"] / best["vigil2"]
    printf "%-18s %8.2f %8.2f %16.2f  (runs %.2f..%.2f)\n", "vigil / kcat", med["kcat"] / med["vigil"], best["kcat"] / best["vigil"], rk[int((reps + 1) / 2)], rk[1], rk[reps]
    printf "\nwall-clock rate (median walls, group join included): vigil2 / poll_only %.2f, vigil2 / vigil %.2f\n", medwall["poll_only"] / medwall["vigil2"], medwall["vigil"] / medwall["vigil2"]
    printf "\npoll-only spread: %.2f..%.2f CPU-s (max / min %.2f); kcat: %.2f..%.2f (%.2f)\n", best["poll_only"], worst["poll_only"], worst["poll_only"] / best["poll_only"], best["kcat"], worst["kcat"], worst["kcat"] / best["kcat"]
  }' "$dir/runs"
