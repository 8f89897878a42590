#!/usr/bin/env bash
# Restart benchmark: what a kill -9 costs a Kafka job with the shipped
# defaults (no -X session settings, no --idle-timeout). Fills a 32-partition
# topic of the development broker with N events, runs `vigil run` over it
# with checkpoints every CKPT (default 1s: the topic is read in a few
# seconds, less than the default 10 s interval), kills it with SIGKILL at
# several points, restarts it each time, and reports from the restarted job's
# /api/status:
#   - seconds from the kill to the restart's first closed window (the
#     restarted process starts right away; most of the wait is the group
#     handing the partitions back: the dead member's session timeout where
#     the broker does not honour static membership, as the development
#     broker does not);
#   - events read again: those the killed job had read past its last
#     checkpoint;
#   - that no event was late or dead-lettered, and that the windows equal an
#     uninterrupted run's (the script fails otherwise).
# Each kill lands at a different point of the checkpoint interval; RUNS
# restarts are measured (default 3).
#
# Usage: [CKPT=1s] bench/restart.sh [EVENTS] [RUNS]   (needs build/vigil; EVENTS default 1,000,000)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
runs=${2:-3}
ckpt=${CKPT:-1s}
. bench/kafka_topic.sh "$n"

status() { curl -s "http://$1/api/status" 2>/dev/null || true; }
field() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" <<<"$1" | head -1; }
now() { date +%s.%N; }
gone() { while kill -0 "$1" 2>/dev/null; do sleep 0.02; done; }  # jobs run in subshells
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$vigil" run --input "kafka://$addr/bench" --group clean --exit-at-end \
  --results "$dir/clean.ndjson" --no-console --no-progress --http off > /dev/null 2>&1

job() {  # job LOG PORT
  "$vigil" run --input "kafka://$addr/bench" --group restart --checkpoint-dir "$dir/ckpt" \
    --checkpoint-interval "$ckpt" --results "$dir/results.ndjson" --no-console --no-progress \
    --http "127.0.0.1:$2" \
    > /dev/null 2> "$1" &
  echo $!
}

printf '%-4s %12s %14s %16s %12s\n' run killed_at first_window_s events_reread reread_share
p=$(port)
pid=$(job "$dir/run0.log" "$p")
for r in $(seq "$runs"); do
  # Kill once the job has read a further share of the topic.
  target=$(( n * r / (runs + 2) ))
  while :; do
    s=$(status "127.0.0.1:$p"); rec=$(field "$s" records)
    [ -n "$rec" ] && [ "$rec" -ge "$target" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$dir/run$((r-1)).log" >&2; exit 1; }
    sleep 0.05
  done
  read_at_kill=$(field "$(status "127.0.0.1:$p")" records)
  kill -9 "$pid"; gone "$pid"
  t0=$(now)
  p=$(port)
  pid=$(job "$dir/run$r.log" "$p")
  restored=""; windows=""
  while :; do
    s=$(status "127.0.0.1:$p")
    if [ -z "$restored" ]; then
      restored=$(field "$s" records); windows=$(field "$s" windows)
    elif [ "$(field "$s" windows)" -gt "$windows" ]; then
      break
    fi
    sleep 0.02
  done
  t1=$(now)
  reread=$(( read_at_kill - restored ))
  printf '%-4s %12s %14.2f %16s %11.1f%%\n' "$r" "$read_at_kill" "$(echo "$t1 - $t0" | bc)" \
    "$reread" "$(echo "100 * $reread / $n" | bc -l)"
done
# The last restart reads to the end; stop it once every partition is idle
# and its last windows are out, then compare.
while :; do
  s=$(status "127.0.0.1:$p"); rec=$(field "$s" records)
  [ "$rec" -ge "$n" ] && break
  sleep 0.2
done
kill "$pid"; gone "$pid"
"$vigil" run --input "kafka://$addr/bench" --group restart --checkpoint-dir "$dir/ckpt" \
  --exit-at-end --results "$dir/results.ndjson" --no-console --no-progress --http off \
  > /dev/null 2> "$dir/final.log"
grep -q " 0 dead-lettered (0 late)" "$dir/final.log" ||
  { echo "events were dead-lettered or late:" >&2; cat "$dir/final.log" >&2; exit 1; }
cmp -s "$dir/results.ndjson" "$dir/clean.ndjson" ||
  { echo "the restarted job's windows differ from an uninterrupted run's" >&2; exit 1; }
echo "windows equal to an uninterrupted run's; 0 late, 0 dead-lettered"
