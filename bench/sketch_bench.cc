// Kernel benchmarks of the window sketches: the per-event costs (DDSketch
// Add, DistinctSketch Add) and the per-pane costs (Merge, Quantile, Estimate)
// that bound how many events and panes a core can handle.
//
//   cmake -S . -B build -DVIGIL_BENCH=ON && cmake --build build --target sketch_bench
//   ./build/sketch_bench --benchmark_min_time=0.2
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <vector>

#include "base/hash.h"
#include "benchmark/benchmark.h"
#include "windows/ddsketch.h"
#include "windows/distinct_sketch.h"

namespace vigil {
namespace {

uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

double Uniform(uint64_t* state) {
  return (static_cast<double>(SplitMix(state) >> 11) + 0.5) * 0x1.0p-53;
}

// Chatbot turn latencies in ms: log-normal around 700 ms.
std::vector<double> LatenciesMs(size_t n, uint64_t seed) {
  std::vector<double> values(n);
  for (double& v : values) {
    const double r = std::sqrt(-2.0 * std::log(Uniform(&seed)));
    v = std::exp(std::log(700.0) + 0.6 * r * std::cos(2.0 * std::numbers::pi * Uniform(&seed)));
  }
  return values;
}

// A power-of-two batch cycled through, small enough to stay in L1/L2, so the
// benchmarks measure the sketch rather than the memory system.
constexpr size_t kBatch = 1 << 14;

void BM_LogMappingCubic(benchmark::State& state) {
  const std::vector<double> values = LatenciesMs(kBatch, 1);
  const internal::LogMapping mapping(DDSketch::kDefaultRelativeAccuracy);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(mapping.Index(values[i++ & (kBatch - 1)]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LogMappingCubic);

// The alternative LogMapping's comment compares against.
void BM_LogMappingStdLog(benchmark::State& state) {
  const std::vector<double> values = LatenciesMs(kBatch, 1);
  const double gamma =
      (1 + DDSketch::kDefaultRelativeAccuracy) / (1 - DDSketch::kDefaultRelativeAccuracy);
  const double inverse_log_gamma = 1.0 / std::log(gamma);
  size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        static_cast<int32_t>(std::ceil(std::log(values[i++ & (kBatch - 1)]) * inverse_log_gamma)));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LogMappingStdLog);

void BM_DDSketchAdd(benchmark::State& state) {
  const std::vector<double> values = LatenciesMs(kBatch, 2);
  DDSketch sketch;
  size_t i = 0;
  for (auto _ : state) sketch.Add(values[i++ & (kBatch - 1)]);
  benchmark::DoNotOptimize(sketch.count());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DDSketchAdd);

// Two panes of ~600 buckets each (log-uniform over a 390x range at 0.5%).
void BM_DDSketchMerge(benchmark::State& state) {
  uint64_t seed = 3;
  DDSketch a;
  DDSketch b;
  for (int i = 0; i < 100'000; ++i) {
    a.Add(std::exp2(8.6 * Uniform(&seed)));
    b.Add(std::exp2(8.6 * Uniform(&seed)));
  }
  for (auto _ : state) {
    a.Merge(b);
    benchmark::DoNotOptimize(a.count());
  }
  state.counters["buckets"] = b.positive_span();
}
BENCHMARK(BM_DDSketchMerge);

void BM_DDSketchQuantile(benchmark::State& state) {
  DDSketch sketch;
  for (double v : LatenciesMs(1'000'000, 4)) sketch.Add(v);
  double q = 0.5;
  for (auto _ : state) {
    benchmark::DoNotOptimize(sketch.Quantile(q));
    q = q == 0.5 ? 0.99 : 0.5;
  }
  state.counters["buckets"] = sketch.positive_span();
}
BENCHMARK(BM_DDSketchQuantile);

// Exact mode: each iteration fills a cleared sketch with 1000 distinct hashes.
void BM_DistinctAddExact(benchmark::State& state) {
  std::vector<uint64_t> hashes(1000);
  for (size_t i = 0; i < hashes.size(); ++i) hashes[i] = HashInt64(static_cast<int64_t>(i));
  DistinctSketch sketch;
  for (auto _ : state) {
    sketch.Clear();
    for (uint64_t h : hashes) sketch.Add(h);
    benchmark::DoNotOptimize(sketch.exact());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(hashes.size()));
}
BENCHMARK(BM_DistinctAddExact);

void BM_DistinctAddHll(benchmark::State& state) {
  std::vector<uint64_t> hashes(kBatch);
  for (size_t i = 0; i < hashes.size(); ++i) hashes[i] = HashInt64(static_cast<int64_t>(i));
  DistinctSketch sketch;
  for (uint64_t h : hashes) sketch.Add(h);
  // Mixing in the round keeps the registers changing after the first pass.
  uint64_t round = 0;
  for (auto _ : state) {
    sketch.Add(hashes[round & (kBatch - 1)] ^ (round >> 14));
    ++round;
  }
  benchmark::DoNotOptimize(sketch.exact());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DistinctAddHll);

DistinctSketch SketchOfRange(int64_t lo, int64_t hi) {
  DistinctSketch sketch;
  for (int64_t i = lo; i < hi; ++i) sketch.Add(HashInt64(i));
  return sketch;
}

// Two exact panes of 500 hashes, 250 shared; the time includes copying the
// target so that every iteration merges into the same state.
void BM_DistinctMergeExact(benchmark::State& state) {
  const DistinctSketch a = SketchOfRange(0, 500);
  const DistinctSketch b = SketchOfRange(250, 750);
  for (auto _ : state) {
    DistinctSketch target = a;
    target.Merge(b);
    benchmark::DoNotOptimize(target.exact());
  }
}
BENCHMARK(BM_DistinctMergeExact);

void BM_DistinctMergeHll(benchmark::State& state) {
  DistinctSketch a = SketchOfRange(0, 100'000);
  const DistinctSketch b = SketchOfRange(50'000, 150'000);
  for (auto _ : state) {
    a.Merge(b);
    benchmark::DoNotOptimize(a.exact());
  }
}
BENCHMARK(BM_DistinctMergeHll);

void BM_DistinctEstimateHll(benchmark::State& state) {
  const DistinctSketch sketch = SketchOfRange(0, 100'000);
  for (auto _ : state) benchmark::DoNotOptimize(sketch.Estimate());
}
BENCHMARK(BM_DistinctEstimateHll);

void BM_HashBytes(benchmark::State& state) {
  const std::string key = "session-7f3a9c21-user-000123";
  for (auto _ : state) {
    benchmark::DoNotOptimize(key.data());
    benchmark::DoNotOptimize(HashBytes(key));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(key.size()));
}
BENCHMARK(BM_HashBytes);

}  // namespace
}  // namespace vigil
