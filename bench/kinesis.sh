#!/usr/bin/env bash
# Kinesis benchmark: starts kinesalite (tests/servers, see
# scripts/test-servers.sh) on a free loopback port, creates a 4-shard
# stream, fills it with `vigil gen --to kinesis://…` (partition key
# session_id), then in the same run measures, in events per CPU-second of
# the vigil process (user + system), best of REPEAT (default 3):
#   drain  `vigil run --exit-at-end` with a rule file of no metrics: the same
#          client code doing GetRecords and the JSON parse only (the
#          transport limit of this client);
#   vigil  the same with the reference rules.
# kinesalite's own CPU (a Node.js process) is not counted on either side.
#
# Usage: bench/kinesis.sh [EVENTS]    (default 200000; needs build/vigil)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200000}
vigil=build/vigil
scripts/test-servers.sh
dir=$(mktemp -d)
trap 'kill $server_pid 2>/dev/null || true; rm -rf "$dir"' EXIT

port=$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
tests/servers/node_modules/.bin/kinesalite --port "$port" --createStreamMs 0 --shardLimit 100 \
  >"$dir/kinesalite.log" 2>&1 &
server_pid=$!
endpoint="http://127.0.0.1:$port"
call() {  # kinesalite checks only that a SigV4 header is well formed
  curl -s "$endpoint" -H "X-Amz-Target: Kinesis_20131202.$1" \
    -H 'Content-Type: application/x-amz-json-1.1' -H 'X-Amz-Date: 20260101T000000Z' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host;x-amz-date, Signature=0' \
    -d "$2"
}
for _ in $(seq 100); do call ListStreams '{}' >/dev/null 2>&1 && break; sleep 0.1; done
call CreateStream '{"StreamName":"bench","ShardCount":4}' >/dev/null
for _ in $(seq 100); do
  call DescribeStreamSummary '{"StreamName":"bench"}' | grep -q ACTIVE && break; sleep 0.1
done
url="kinesis://bench?endpoint=$endpoint&region=us-east-1"
"$vigil" gen --seed 42 --rate 1000 --count "$n" --incident latency_spike@1h+8m --to "$url" 2>/dev/null
printf 'metrics: []\nalerts: []\n' > "$dir/none.yaml"

cpu_s() { awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$1"; }
best() { awk -v a="$1" -v b="$2" 'BEGIN {print (a == "" || b < a) ? b : a}'; }
d_cpu="" v_cpu=""
for _ in $(seq "${REPEAT:-3}"); do
  /usr/bin/time -v "$vigil" run --input "$url" --exit-at-end --rules "$dir/none.yaml" \
    --no-console --no-progress --http off > /dev/null 2> "$dir/d.time"
  grep -q "$n records" "$dir/d.time" || { cat "$dir/d.time" >&2; exit 1; }
  d_cpu=$(best "$d_cpu" "$(cpu_s "$dir/d.time")")
  /usr/bin/time -v "$vigil" run --input "$url" --exit-at-end \
    --no-console --no-progress --http off > /dev/null 2> "$dir/v.time"
  v_cpu=$(best "$v_cpu" "$(cpu_s "$dir/v.time")")
done
awk -v n="$n" -v d="$d_cpu" -v v="$v_cpu" 'BEGIN {
  printf "%-10s %16s %16s %8s\n", "events", "drain/s", "vigil/s", "ratio"
  printf "%-10d %16.0f %16.0f %8.2f\n", n, n / d, n / v, (n / v) / (n / d)
}'
