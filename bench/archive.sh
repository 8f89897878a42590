#!/usr/bin/env bash
# Archive benchmark: what keeping every accepted event in the raw-event
# archive costs the job, as zstd NDJSON and as Parquet, in a directory and
# in an S3 bucket (s3rver on loopback), and how small each is. Over one
# generated event file (default 4M events), alternating, one worker, the
# reference rules:
#   none          no archive (the baseline of the same run)
#   ndjson        --archive DIR (zstd NDJSON batches, the default)
#   parquet       --archive DIR --archive-format parquet
#   s3_ndjson     --archive s3://… (s3rver: a Node.js server on this machine,
#                 so its CPU competes with the job's)
# For each: wall and CPU seconds (medians of REPEAT runs, default 3), CPU
# per event against `none`, and the archive's bytes per event and its
# compression ratio against the raw NDJSON file.
#
# Usage: bench/archive.sh [EVENTS]   (needs a build with -DVIGIL_BENCH=ON in build/)
source "$(dirname "$0")/common.sh"
events=${1:-4000000}
repeat=${REPEAT:-3}
bench_setup

file="$dir/events.ndjson"
bench_events "$file" "$events" --incident latency_spike@10m+10m
raw=$(stat -c %s "$file")

s3rver=tests/servers/node_modules/.bin/s3rver
port=$((20000 + RANDOM % 20000))
mkdir -p "$dir/s3"
"$s3rver" --directory "$dir/s3" --address 127.0.0.1 --port "$port" --silent \
  --configure-bucket archive > /dev/null 2>&1 &
s3pid=$!
trap 'kill $s3pid 2> /dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.1
done
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER

# archived_bytes NAME DIR: the compressed bytes of the batches its manifest
# lists, appended to $dir/bytes-NAME.
archived_bytes() {
  grep -o '"size":[0-9]*' "$2/events/MANIFEST" | awk -F: '{s += $2} END {print s}' \
    >> "$dir/bytes-$1"
}

run=(run --workers 1 --input "$file" --no-console --no-progress --http off)
for i in $(seq "$repeat"); do
  measure none "$vigil" "${run[@]}"
  rm -rf "$dir/a"
  measure ndjson "$vigil" "${run[@]}" --archive "$dir/a"
  archived_bytes ndjson "$dir/a"
  rm -rf "$dir/a"
  measure parquet "$vigil" "${run[@]}" --archive "$dir/a" --archive-format parquet
  archived_bytes parquet "$dir/a"
  rm -rf "$dir/a"
  measure s3_ndjson "$vigil" "${run[@]}" \
    --archive "s3://archive/run$i?endpoint=http://127.0.0.1:$port"
  echo "archive.sh: run $i of $repeat" >&2
done

printf '%-10s %8s %8s %14s %10s %12s %10s\n' run wall_s cpu_s events/cpu-s cpu/none bytes/event vs_raw
none_cpu=$(median "$dir/times-none" 2)
for name in none ndjson parquet s3_ndjson; do
  wall=$(median "$dir/times-$name" 1)
  cpu=$(median "$dir/times-$name" 2)
  per=- ratio=-
  if [ -s "$dir/bytes-$name" ]; then
    bytes=$(median "$dir/bytes-$name" 1)
    per=$(awk -v b="$bytes" -v n="$events" 'BEGIN {printf "%.1f", b / n}')
    ratio=$(awk -v b="$bytes" -v r="$raw" 'BEGIN {printf "%.3f", b / r}')
  fi
  printf '%-10s %8s %8s %14.0f %9.2fx %12s %10s\n' "$name" "$wall" "$cpu" \
    "$(awk -v n="$events" -v t="$cpu" 'BEGIN {print n / t}')" \
    "$(awk -v c="$cpu" -v b="$none_cpu" 'BEGIN {print c / b}')" "$per" "$ratio"
done
printf 'raw NDJSON: %s bytes, %.1f bytes/event\n' "$raw" \
  "$(awk -v r="$raw" -v n="$events" 'BEGIN {print r / n}')"
for name in none ndjson parquet s3_ndjson; do
  printf '%s runs (wall cpu rss_kb): %s\n' "$name" "$(tr '\n' ';' < "$dir/times-$name")"
done
