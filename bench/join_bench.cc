// Interval joins: per-event cost and state per open turn of the reference
// `rated_turns` join (turns joined with ratings by turn_id), against a
// plain hash map that inserts and erases the same keys (the floor for any
// keyed state with expiry) in the same run.
//
// Arguments: turns per second of event time and the join's bound in
// seconds. The benchmark runs three bounds' worth of event time, one
// second at a time: each second brings that many turns, a rating for every
// fifth turn 30 s after it, and a Close at the second's end, as a job with
// the watermark one second behind would. State grows for one bound, then
// stays flat: every turn older than the bound is dropped.
//
// Counters: events/s (items_per_second), heap bytes per open turn at the
// end of the first bound (heap_B_per_turn, from mallinfo2), the heap at the
// end against the heap after the first bound (heap_growth: 1.0 is flat),
// and the heap left once the watermark passes everything (heap_left_MiB).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/strings.h"
#include "operators/dataflow/join_operator.h"
#include "rules/rule_set.h"

namespace vigil {
namespace {

std::string Rules(int64_t bound_s) {
  return StrCat(R"yaml(
joins:
  - join: rated_turns
    left: {where: type == "message"}
    right: {where: type == "feedback"}
    on: turn_id
    within: )yaml",
                bound_s, R"yaml(s after
    emit:
      intent: left.intent
      topic: left.topic
      variant: left.variant
      slow: left.latency_ms > 5000
      rating: right.rating
      comment: right.comment
)yaml");
}

size_t HeapBytes() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// Turn ids as the generator writes them: a 16-hex-digit session id, "-N".
std::string TurnId(int64_t i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx-%d",
                static_cast<unsigned long long>((i / 4 + 1) * 0x9E3779B97F4A7C15ULL),
                static_cast<int>(i % 4));
  return buf;
}

struct Feed {
  Event turn, rating;
  int turn_id = 0;
};

Feed MakeFeed(const RuleSet& rules) {
  const FieldTable& f = rules.fields;
  Feed feed;
  feed.turn.slots.resize(static_cast<size_t>(f.size()));
  feed.rating.slots.resize(static_cast<size_t>(f.size()));
  auto set = [&](Event& ev, const char* path, Value v) { ev.slots[*f.Find(path)] = v; };
  set(feed.turn, "type", Value::String("message"));
  set(feed.turn, "intent", Value::String("product_question"));
  set(feed.turn, "topic", Value::String("shipping"));
  set(feed.turn, "variant", Value::String("control"));
  set(feed.turn, "latency_ms", Value::Number(812));
  set(feed.rating, "type", Value::String("feedback"));
  set(feed.rating, "rating", Value::Number(1));
  set(feed.rating, "comment", Value::String("helpful, thanks"));
  feed.turn_id = *f.Find("turn_id");
  return feed;
}

void BM_RatedTurnsJoin(benchmark::State& state) {
  const int64_t rate = state.range(0);
  const int64_t bound_s = state.range(1);
  RuleLoadResult r = LoadRuleSources({{"b.yaml", Rules(bound_s)}});
  const StreamDef& def = r.rules->streams[0];
  Feed feed = MakeFeed(*r.rules);
  const int64_t seconds = 3 * bound_s;
  std::vector<std::string> ids(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = TurnId(static_cast<int64_t>(i));
  double per_turn = 0, growth = 0, left = 0;
  uint64_t records = 0;
  for (auto _ : state) {
    JoinOperator op(def);
    const size_t before = HeapBytes();
    size_t after_bound = 0;
    for (int64_t s = 0; s < seconds; ++s) {
      for (int64_t k = 0; k < rate; ++k) {
        const int64_t i = s * rate + k;
        feed.turn.ts = s * 1000 + k * 1000 / rate;
        feed.turn.slots[feed.turn_id] = Value::String(ids[i]);
        op.Add(feed.turn);
        const int64_t rated = i - 30 * rate;  // the turn 30 s ago
        if (rated >= 0 && rated % 5 == 0) {
          feed.rating.ts = feed.turn.ts;
          feed.rating.slots[feed.turn_id] = Value::String(ids[rated]);
          op.Add(feed.rating);
        }
      }
      op.Close((s + 1) * 1000 - 1000, [&](const Event&) { ++records; });
      if (s == bound_s + 1) {
        after_bound = HeapBytes() - before;
        per_turn = static_cast<double>(after_bound) / static_cast<double>(op.open_sessions());
      }
    }
    growth = static_cast<double>(HeapBytes() - before) / static_cast<double>(after_bound);
    op.Close(kMaxTime, [&](const Event&) { ++records; });
    left = static_cast<double>(HeapBytes() - before) / (1 << 20);
  }
  const double events = static_cast<double>(rate * seconds + rate * (seconds - 30) / 5);
  state.SetItemsProcessed(static_cast<int64_t>(events) * state.iterations());
  state.counters["heap_B_per_turn"] = per_turn;
  state.counters["heap_growth"] = growth;
  state.counters["heap_left_MiB"] = left;
  state.counters["records"] =
      static_cast<double>(records) / static_cast<double>(state.iterations());
}
BENCHMARK(BM_RatedTurnsJoin)
    ->Args({1000, 600})
    ->Args({10000, 60})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// The floor: the same keys inserted into and erased from a hash map, a
// bound later, with the same events.
void BM_HashMapFloor(benchmark::State& state) {
  const int64_t rate = state.range(0);
  const int64_t bound_s = state.range(1);
  const int64_t seconds = 3 * bound_s;
  std::vector<std::string> ids(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = TurnId(static_cast<int64_t>(i));
  uint64_t hits = 0;
  for (auto _ : state) {
    absl::flat_hash_map<std::string, int64_t> map;
    for (int64_t s = 0; s < seconds; ++s) {
      for (int64_t k = 0; k < rate; ++k) {
        const int64_t i = s * rate + k;
        map.emplace(ids[i], s);
        const int64_t rated = i - 30 * rate;
        if (rated >= 0 && rated % 5 == 0) hits += map.contains(ids[rated]) ? 1 : 0;
        const int64_t old = i - bound_s * rate;
        if (old >= 0) map.erase(ids[old]);
      }
    }
    benchmark::DoNotOptimize(map);
  }
  benchmark::DoNotOptimize(hits);
  const double events = static_cast<double>(rate * seconds + rate * (seconds - 30) / 5);
  state.SetItemsProcessed(static_cast<int64_t>(events) * state.iterations());
}
BENCHMARK(BM_HashMapFloor)
    ->Args({1000, 600})
    ->Args({10000, 60})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

}  // namespace
}  // namespace vigil
