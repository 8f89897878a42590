# Sourced by the Kafka benchmarks (bench/kafka.sh, bench/scale_out.sh):
# starts `vigil dev-broker` with a 32-partition topic `bench` (and any extra
# `--topic` flags given), fills it with N generated events (lz4, keyed by
# session_id), checks the broker still holds every one, and stops the
# broker and removes the scratch directory on exit.
#
# Sets: vigil, dir (scratch), addr (bootstrap), cpu_s FILE (user + system
# seconds from a `/usr/bin/time -v` report).
#
# The vigil binary is $VIGIL, build/vigil by default.
#
# Usage: . bench/kafka_topic.sh N [--topic NAME:PARTITIONS]...
vigil=${VIGIL:-build/vigil}
dir=$(mktemp -d)
trap 'kill $broker_pid 2>/dev/null || true; rm -rf "$dir"' EXIT
_events=$1
shift
"$vigil" dev-broker --topic bench:32 "$@" --address-file "$dir/addr" >/dev/null 2>&1 &
broker_pid=$!
for _ in $(seq 100); do [ -s "$dir/addr" ] && break; sleep 0.05; done
addr=$(cat "$dir/addr")
"$vigil" gen --seed 42 --rate 1000 --count "$_events" --incident latency_spike@1h+8m \
  --to "kafka://$addr/bench" 2>/dev/null
_have=$(kcat -b "$addr" -C -t bench -e -o beginning -q -f 'x\n' | wc -l)
[ "$_have" -eq "$_events" ] ||
  { echo "the broker kept $_have of $_events events: use fewer" >&2; exit 1; }
cpu_s() { awk -F': ' '/User time/ {u=$2} /System time/ {s=$2} END {print u+s}' "$1"; }
