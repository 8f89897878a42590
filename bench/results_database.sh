#!/usr/bin/env bash
# Results-database benchmark: what writing every closed window and alert
# transition to PostgreSQL (`--results postgresql://…`) costs the job, and
# how many rows a second its writer commits. A private PostgreSQL server
# (Debian's, in the temporary directory, fsync off as in the tests) serves
# the runs; over one generated event file (default 4M events), alternating,
# one worker:
#   file        the reference rules, window results to an NDJSON file
#   database    the same, and to PostgreSQL (fresh tables each run)
#   again       the same into the tables the last run filled (each row
#               written again: a replay or a restart)
#   many_file   a rule file with a row per session and minute (hundreds of
#   many_db     thousands of rows), to the file, and to the file and PostgreSQL
# For each: wall and CPU seconds, medians of REPEAT runs (default 3); the
# CPU ratios against the file runs; and the writer's rows per second of
# writing (the job's closing line: rows, transactions, seconds writing).
#
# Usage: bench/results_database.sh [EVENTS]   (needs a build with -DVIGIL_BENCH=ON in build/)
source "$(dirname "$0")/common.sh"
events=${1:-4000000}
repeat=${REPEAT:-3}
bench_setup

# The server, as the postgres user when run as root (PostgreSQL refuses root).
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"
port=$((20000 + RANDOM % 20000))
as "$bin/initdb" -D "$dir/pg" -U vigil -A trust --no-sync -E UTF8 > /dev/null
as "$bin/pg_ctl" -D "$dir/pg" -w -l "$dir/pg.log" \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" \
  start > /dev/null
trap 'as "$bin/pg_ctl" -D "$dir/pg" -m immediate stop > /dev/null 2>&1; rm -rf "$dir"' EXIT
psql -X -q -h 127.0.0.1 -p "$port" -U vigil -d postgres -c "CREATE DATABASE bench"
url="postgresql://vigil@127.0.0.1:$port/bench"
drop() {
  psql -X -q -h 127.0.0.1 -p "$port" -U vigil -d bench \
    -c "DROP TABLE IF EXISTS vigil_windows, vigil_alerts" 2> /dev/null
}

file="$dir/events.ndjson"
bench_events "$file" "$events" --incident latency_spike@10m+10m
many="$dir/many.yaml"
cat > "$many" << 'RULES'
metrics:
  - metric: session_messages
    export: true
    help: Turns per session and minute (a row per session and minute)
    where: type == "message"
    window: tumbling 1m
    by: [session_id]
    value: count()
RULES
"$vigil" check "$many" > /dev/null

# timed NAME CMD...: as measure, and the job's stderr kept in $dir/log-NAME.
timed() {
  local name=$1
  shift
  # A results file left by the run before costs the next one its truncation.
  rm -f "$dir/r.ndjson"
  /usr/bin/time -f '%e %U %S %M' -o "$dir/t" "$@" > /dev/null 2> "$dir/log-$name"
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$dir/t" >> "$dir/times-$name"
  # "... 3170 windows and 9 alert transitions in 2 transactions, 0.21 s writing"
  sed -n 's/.*results database .*: \([0-9]*\) windows and \([0-9]*\) alert transitions in \([0-9]*\) transactions, \([0-9.]*\) s writing.*/\1 \2 \3 \4/p' \
    "$dir/log-$name" >> "$dir/writer-$name" || true
}

run=(run --workers 1 --input "$file" --no-console --no-progress --http off)
for i in $(seq "$repeat"); do
  timed file "$vigil" "${run[@]}" --results "$dir/r.ndjson"
  drop
  timed database "$vigil" "${run[@]}" --results "$dir/r.ndjson" --results "$url"
  timed again "$vigil" "${run[@]}" --results "$dir/r.ndjson" --results "$url"
  timed many_file "$vigil" "${run[@]}" --rules "$many" --results "$dir/r.ndjson"
  drop
  timed many_db "$vigil" "${run[@]}" --rules "$many" --results "$dir/r.ndjson" --results "$url"
  echo "results_database.sh: run $i of $repeat" >&2
done

printf '%-10s %8s %8s %14s %10s %8s %12s\n' run wall_s cpu_s events/cpu-s rows writing_s rows/s
for name in file database again many_file many_db; do
  wall=$(median "$dir/times-$name" 1)
  cpu=$(median "$dir/times-$name" 2)
  rows=- writing=- rate=-
  if [ -s "$dir/writer-$name" ]; then
    rows=$(awk '{print $1 + $2}' "$dir/writer-$name" | sort -n | tail -1)
    writing=$(median "$dir/writer-$name" 4)
    rate=$(awk -v r="$rows" -v s="$writing" 'BEGIN {printf "%.0f", (s > 0 ? r / s : 0)}')
  fi
  printf '%-10s %8s %8s %14.0f %10s %8s %12s\n' "$name" "$wall" "$cpu" \
    "$(awk -v n="$events" -v t="$cpu" 'BEGIN {print n / t}')" "$rows" "$writing" "$rate"
  eval "${name}_cpu=$cpu ${name}_wall=$wall"
done
awk -v f="$file_cpu" -v d="$database_cpu" -v a="$again_cpu" -v mf="$many_file_cpu" \
  -v md="$many_db_cpu" -v fw="$file_wall" -v dw="$database_wall" -v mfw="$many_file_wall" \
  -v mdw="$many_db_wall" 'BEGIN {
  printf "CPU per event, reference rules, with the database against the file only:  %.2fx\n", d / f
  printf "CPU per event, the same rows written again:                               %.2fx\n", a / f
  printf "CPU per event, a row per session and minute, database against file only: %.2fx\n", md / mf
  printf "wall time, reference rules / many rows, database against file only:     %.2fx / %.2fx\n", dw / fw, mdw / mfw
}'
for name in file database again many_file many_db; do
  printf '%s runs (wall cpu rss_kb): %s\n' "$name" "$(tr '\n' ';' < "$dir/times-$name")"
done
