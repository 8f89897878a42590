// Session streams: per-event cost and memory per open session, with
// millions of keys, against a plain hash map of the same keys (the floor
// for any keyed state) measured in the same run.
//
// With a second argument of 1 the stream is also hinted each event
// SessionOperator::kPrefetchDistance events ahead, as the job does; with 2
// it notes each key's partition, as a Kafka scale-out instance does.
//
// Counters: events/s (items_per_second), heap bytes per open session
// (heap_B_per_session, from mallinfo2), and the heap still held once every
// session has closed (heap_left_MiB: key index, records, cell pools and the
// close heap are all released; what is left is malloc's own bookkeeping).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/strings.h"
#include "operators/dataflow/key_origins.h"
#include "operators/dataflow/session_operator.h"
#include "rules/rule_set.h"

namespace vigil {
namespace {

constexpr char kRules[] = R"yaml(
streams:
  - stream: sessions
    key: session_id
    window: session 30m
    emit:
      turns: count(type == "message")
      escalated: any(type == "escalation")
      recommended: any(intent == "recommendation")
      converted: any(type == "add_to_cart")
      first_intent: first(intent)
)yaml";

// Heap in use: small chunks plus the large ones malloc maps on its own.
size_t HeapBytes() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// Session ids as the generator writes them: 16 hex digits.
std::vector<std::string> Keys(int64_t n) {
  std::vector<std::string> keys;
  keys.reserve(static_cast<size_t>(n));
  char buf[17];
  for (int64_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf, "%016llx",
                  static_cast<unsigned long long>((i + 1) * 0x9E3779B97F4A7C15ULL));
    keys.emplace_back(buf);
  }
  return keys;
}

void BM_SessionStream(benchmark::State& state) {
  const int64_t n = state.range(0);
  const bool hinted = state.range(1) == 1;
  // Mode 2: unhinted, and the partition of each key's latest event noted
  // as a Kafka scale-out instance does (KeyOrigins, so that a partition's
  // keys can be handed over with it in a rebalance).
  const bool origins_noted = state.range(1) == 2;
  const int64_t ahead = static_cast<int64_t>(SessionOperator::kPrefetchDistance);
  RuleLoadResult r = LoadRuleSources({{"b.yaml", kRules}});
  const StreamDef& def = r.rules->streams[0];
  const FieldTable& f = r.rules->fields;
  const std::vector<std::string> keys = Keys(n);
  Event ev;
  ev.slots.resize(static_cast<size_t>(f.size()));
  const int type = *f.Find("type"), session = *f.Find("session_id"), intent = *f.Find("intent");
  ev.slots[type] = Value::String("message");
  ev.slots[intent] = Value::String("faq");
  Event hint = ev;
  double per_session = 0, left = 0;
  for (auto _ : state) {
    SessionOperator op(def);
    KeyOrigins origins;
    const size_t before = HeapBytes();
    // Two turns per session, a second apart, all sessions open at once.
    for (int turn = 0; turn < 2; ++turn) {
      for (int64_t i = 0; i < n; ++i) {
        ev.ts = i + turn * 1000;
        if (hinted && i + ahead < n) {
          hint.ts = ev.ts + ahead;
          hint.slots[session] = Value::String(keys[static_cast<size_t>(i + ahead)]);
          op.Prefetch(hint);
        }
        ev.slots[session] = Value::String(keys[static_cast<size_t>(i)]);
        op.Add(ev);
        if (origins_noted) origins.Note(keys[static_cast<size_t>(i)], static_cast<int>(i % 4), op);
      }
    }
    state.PauseTiming();
    per_session = static_cast<double>(HeapBytes() - before) / static_cast<double>(n);
    state.ResumeTiming();
    uint64_t records = 0;
    op.Close(kMaxTime - 31 * 60'000, [&](const Event&) { ++records; });
    state.PauseTiming();
    if (records != static_cast<uint64_t>(n)) state.SkipWithError("lost sessions");
    left = static_cast<double>(HeapBytes() - before) / (1 << 20);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * n * 2);
  state.counters["heap_B_per_session"] = per_session;
  state.counters["heap_left_MiB"] = left;
}
BENCHMARK(BM_SessionStream)
    ->ArgsProduct({{1 << 20, 4 << 20}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// The floor: the same keys into a flat hash map of a counter.
void BM_HashMapBaseline(benchmark::State& state) {
  const int64_t n = state.range(0);
  const std::vector<std::string> keys = Keys(n);
  double per_key = 0;
  for (auto _ : state) {
    absl::flat_hash_map<std::string, uint64_t, StringHash, StringEq> map;
    const size_t before = HeapBytes();
    for (int turn = 0; turn < 2; ++turn) {
      for (int64_t i = 0; i < n; ++i) ++map[std::string_view(keys[static_cast<size_t>(i)])];
    }
    state.PauseTiming();
    per_key = static_cast<double>(HeapBytes() - before) / static_cast<double>(n);
    state.ResumeTiming();
    benchmark::DoNotOptimize(map.size());
  }
  state.SetItemsProcessed(state.iterations() * n * 2);
  state.counters["heap_B_per_key"] = per_key;
}
BENCHMARK(BM_HashMapBaseline)
    ->Arg(1 << 20)
    ->Arg(4 << 20)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace vigil
