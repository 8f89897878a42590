// Throughput of the synthetic traffic generator, which feeds every other
// benchmark: events/s and bytes/s of EventGenerator::Next appending to a
// buffer that is flushed (cleared) every 1 MiB, as a writer thread would.
//
//   ./generator_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <string>

#include "operators/generator/generator.h"

namespace vigil {
namespace {

constexpr size_t kFlushBytes = 1 << 20;

void RunGenerator(benchmark::State& state, const GeneratorOptions& options) {
  EventGenerator gen(options);
  std::string buffer;
  buffer.reserve(kFlushBytes + 4096);
  int64_t bytes = 0;
  for (auto _ : state) {
    gen.Next(&buffer);
    if (buffer.size() >= kFlushBytes) {
      benchmark::DoNotOptimize(buffer.data());
      bytes += static_cast<int64_t>(buffer.size());
      buffer.clear();
    }
  }
  bytes += static_cast<int64_t>(buffer.size());
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(bytes);
  state.counters["bytes/event"] =
      static_cast<double>(bytes) / static_cast<double>(state.iterations());
}

void BM_GeneratorRfc3339(benchmark::State& state) { RunGenerator(state, GeneratorOptions{}); }
BENCHMARK(BM_GeneratorRfc3339);

void BM_GeneratorEpochMillis(benchmark::State& state) {
  GeneratorOptions options;
  options.epoch_millis = true;
  RunGenerator(state, options);
}
BENCHMARK(BM_GeneratorEpochMillis);

// Every incident active at once: the per-event cost of checking incident
// windows and drawing their effects.
void BM_GeneratorAllIncidents(benchmark::State& state) {
  GeneratorOptions options;
  for (const char* spec : {"latency_spike@0+1d", "escalation_surge@0+1d", "bedrock_open@0+1d",
                           "guardrail_storm@0+1d", "cache_miss_storm@0+1d", "error_burst@0+1d"}) {
    options.incidents.push_back(*ParseIncident(spec));
  }
  RunGenerator(state, options);
}
BENCHMARK(BM_GeneratorAllIncidents);

// A high event rate: the session pool is at its largest (65,536 sessions),
// so a turn's session is rarely in cache.
void BM_GeneratorLargePool(benchmark::State& state) {
  GeneratorOptions options;
  options.rate = 1e6;
  RunGenerator(state, options);
}
BENCHMARK(BM_GeneratorLargePool);

}  // namespace
}  // namespace vigil
