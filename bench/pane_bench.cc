// Pane aggregation kernels: one update per event into its pane, and window
// fires for a tumbling window, a sliding window over invertible aggregates
// (subtract on evict) and a sliding window over sketches (two-stacks).
#include <benchmark/benchmark.h>

#include <cmath>

#include "windows/pane_store.h"

namespace vigil {
namespace {

// Deterministic log-normal-ish latencies without <random>.
double Latency(uint64_t i) {
  uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ULL;
  x ^= x >> 31;
  const double u = static_cast<double>(x >> 11) / 9007199254740992.0;
  return 700.0 * std::exp(1.2 * (u - 0.5));
}

void BM_PaneAddQuantile(benchmark::State& state) {
  PaneStore store(WindowSpec::Tumbling(60'000), {Accumulator(AggKind::kQuantile, 0.99)});
  uint64_t i = 0;
  for (auto _ : state) {
    // 1000 events per second of event time, one group.
    store.Pane("", static_cast<TimeMs>(i))->at(0).AddNumber(Latency(i));
    ++i;
    if ((i & 0xFFFF) == 0)
      store.CloseUpTo(static_cast<TimeMs>(i) - 60'000, [](const WindowView&) {});
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PaneAddQuantile);

void BM_PaneAddCountByGroup(benchmark::State& state) {
  PaneStore store(WindowSpec::Tumbling(60'000), {Accumulator(AggKind::kCount)});
  const char* groups[] = {"faq", "order_tracking", "product_question", "recommendation"};
  uint64_t i = 0;
  for (auto _ : state) {
    store.Pane(groups[i & 3], static_cast<TimeMs>(i))->at(0).AddPredicate(true);
    ++i;
    if ((i & 0xFFFF) == 0)
      store.CloseUpTo(static_cast<TimeMs>(i) - 60'000, [](const WindowView&) {});
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PaneAddCountByGroup);

// Fires of a long window with a short slide: state.range(0) panes per window.
void SlidingFires(benchmark::State& state, AggKind kind) {
  const int64_t panes = state.range(0);
  const DurationMs slide = 10'000;
  PaneStore store(WindowSpec::Sliding(panes * slide, slide), {Accumulator(kind, 0.99)});
  TimeMs t = 0;
  // Warm up: a full window of panes, ten events each.
  for (; t < panes * slide; t += 1000) store.Pane("", t)->at(0).AddNumber(Latency(t));
  store.CloseUpTo(t, [](const WindowView&) {});
  size_t fired = 0;
  for (auto _ : state) {
    for (TimeMs end = t + slide; t < end; t += 1000) {
      Accumulator& a = store.Pane("", t)->at(0);
      if (kind == AggKind::kCount) {
        a.AddPredicate(true);
      } else {
        a.AddNumber(Latency(t));
      }
    }
    store.CloseUpTo(t, [&fired](const WindowView&) { ++fired; });
  }
  state.SetItemsProcessed(static_cast<int64_t>(fired));
}
void BM_SlidingFireCount(benchmark::State& s) { SlidingFires(s, AggKind::kCount); }
void BM_SlidingFireQuantile(benchmark::State& s) { SlidingFires(s, AggKind::kQuantile); }
BENCHMARK(BM_SlidingFireCount)->Arg(6)->Arg(360)->Arg(8640);
BENCHMARK(BM_SlidingFireQuantile)->Arg(6)->Arg(360)->Arg(8640);

}  // namespace
}  // namespace vigil
