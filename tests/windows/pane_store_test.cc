#include "windows/pane_store.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/codec.h"
#include "base/hash.h"
#include "base/time.h"
#include "gtest/gtest.h"

namespace vigil {
namespace {

constexpr DurationMs kSecond = 1000;
constexpr DurationMs kMinute = 60 * kSecond;

// One emitted window, copied out of the WindowView (which only lives for the
// duration of the callback).
struct Fired {
  std::string group;
  TimeMs start;
  TimeMs end;
  AccSet acc;
};

// Fires windows up to `frontier` and returns them sorted by (group, end),
// after checking that each group's windows came out in order of end.
std::vector<Fired> Close(PaneStore& store, TimeMs frontier) {
  std::vector<Fired> out;
  std::map<std::string, TimeMs> last_end;
  store.CloseUpTo(frontier, [&](const WindowView& w) {
    const std::string group(w.group);
    auto it = last_end.find(group);
    EXPECT_TRUE(it == last_end.end() || it->second < w.end)
        << "group " << group << " emitted end " << w.end << " out of order";
    last_end[group] = w.end;
    out.push_back(Fired{group, w.start, w.end, w.acc});
  });
  std::sort(out.begin(), out.end(), [](const Fired& a, const Fired& b) {
    return std::tie(a.group, a.end) < std::tie(b.group, b.end);
  });
  return out;
}

// Folds one event into an accumulator set the way the metric operator does;
// predicates are "value is even".
void Feed(AccSet* set, TimeMs t, int value) {
  for (Accumulator& acc : *set) {
    switch (acc.kind()) {
      case AggKind::kCount:
      case AggKind::kRatio:
      case AggKind::kRate:
        acc.AddPredicate(value % 2 == 0);
        break;
      case AggKind::kLast:
        acc.AddLast(value, t);
        break;
      case AggKind::kDistinct:
        acc.AddHash(HashInt64(value));
        break;
      default:
        acc.AddNumber(value);
    }
  }
}

void Add(PaneStore& store, std::string_view group, TimeMs t, int value = 2) {
  Feed(store.Pane(group, t), t, value);
}

std::string EncodeStore(const PaneStore& store) {
  Encoder enc;
  store.Encode(&enc);
  return enc.Release();
}

AccSet CountProto() { return {Accumulator(AggKind::kCount)}; }

double CountOf(const Fired& f) { return *f.acc.at(0).Result(0); }

TEST(PaneStoreTest, TumblingWindowBoundaries) {
  PaneStore store(WindowSpec::Tumbling(kMinute), CountProto());
  Add(store, "faq", 0);
  Add(store, "faq", 59'999);  // the last millisecond of [0, 60000)
  Add(store, "faq", 60'000);  // the first of [60000, 120000)
  EXPECT_EQ(store.group_count(), 1u);
  EXPECT_EQ(store.pane_count(), 2u);

  EXPECT_TRUE(Close(store, 59'999).empty());
  std::vector<Fired> fired = Close(store, 60'000);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].group, "faq");
  EXPECT_EQ(fired[0].start, 0);
  EXPECT_EQ(fired[0].end, 60'000);
  EXPECT_EQ(CountOf(fired[0]), 2.0);

  EXPECT_TRUE(Close(store, 60'000).empty());
  EXPECT_TRUE(Close(store, 119'999).empty());
  EXPECT_EQ(store.pane_count(), 1u);
  fired = Close(store, 120'000);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].start, 60'000);
  EXPECT_EQ(fired[0].end, 120'000);
  EXPECT_EQ(CountOf(fired[0]), 1.0);
  EXPECT_EQ(store.group_count(), 0u);
  EXPECT_EQ(store.pane_count(), 0u);
  EXPECT_TRUE(Close(store, kMaxTime).empty());
}

TEST(PaneStoreTest, PanesOpenedOutOfOrderInOneGroupKeepTheirCounts) {
  // A group's open panes sit side by side in the group: a pane opened
  // before the ones it holds moves them, and the pane cache in front of the
  // group map must not hand out where they were.
  PaneStore store(WindowSpec::Tumbling(kMinute), CountProto());
  const TimeMs order[] = {3 * kMinute, 3 * kMinute + 1, kMinute, 3 * kMinute + 2, 2 * kMinute,
                          kMinute + 1, 3 * kMinute + 3, 0,       2 * kMinute + 1, 3 * kMinute + 4};
  for (TimeMs t : order) {
    Add(store, "faq", t);
    Add(store, "chitchat", t);
  }
  EXPECT_EQ(store.pane_count(), 8u);
  std::vector<Fired> fired = Close(store, 4 * kMinute);
  ASSERT_EQ(fired.size(), 8u);
  const double counts[] = {1, 2, 2, 5};  // [0,1m) [1m,2m) [2m,3m) [3m,4m)
  for (size_t i = 0; i < fired.size(); ++i) {
    EXPECT_EQ(fired[i].start, static_cast<TimeMs>(i % 4) * kMinute) << i;
    EXPECT_EQ(CountOf(fired[i]), counts[i % 4]) << fired[i].group << " " << fired[i].start;
  }
  // And through a checkpoint, opened out of order again.
  for (TimeMs t : order) Add(store, "faq", 10 * kMinute + t);
  Encoder enc;
  store.Encode(&enc);
  const std::string bytes = enc.Release();
  PaneStore restored(WindowSpec::Tumbling(kMinute), CountProto());
  Decoder dec(bytes);
  ASSERT_TRUE(restored.Decode(&dec));
  fired = Close(restored, kMaxTime);
  ASSERT_EQ(fired.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(CountOf(fired[i]), counts[i]) << i;
}

TEST(PaneStoreTest, NegativeTimesAlignDown) {
  PaneStore store(WindowSpec::Tumbling(kMinute), CountProto());
  Add(store, "a", -1);
  Add(store, "a", -60'000);
  Add(store, "a", -60'001);
  std::vector<Fired> fired = Close(store, -60'000);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].start, -120'000);
  EXPECT_EQ(fired[0].end, -60'000);
  EXPECT_EQ(CountOf(fired[0]), 1.0);
  fired = Close(store, -1);
  EXPECT_TRUE(fired.empty());
  fired = Close(store, 0);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].start, -60'000);
  EXPECT_EQ(fired[0].end, 0);
  EXPECT_EQ(CountOf(fired[0]), 2.0);
}

TEST(PaneStoreTest, GroupsAreIndependent) {
  PaneStore store(WindowSpec::Tumbling(kMinute), CountProto());
  Add(store, "a", 10'000);
  Add(store, "b", 70'000);
  Add(store, "a", 20'000);
  Add(store, "", 30'000);  // the empty group key is a group like any other
  Add(store, "b", 80'000, 3);
  EXPECT_EQ(store.group_count(), 3u);

  std::vector<Fired> fired = Close(store, 60'000);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].group, "");
  EXPECT_EQ(CountOf(fired[0]), 1.0);
  EXPECT_EQ(fired[1].group, "a");
  EXPECT_EQ(CountOf(fired[1]), 2.0);
  // Only "b" has anything left.
  EXPECT_EQ(store.group_count(), 1u);

  fired = Close(store, 120'000);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].group, "b");
  EXPECT_EQ(fired[0].start, 60'000);
  EXPECT_EQ(CountOf(fired[0]), 1.0);  // 3 is odd: a miss, but the window has data
  EXPECT_EQ(store.group_count(), 0u);
}

TEST(PaneStoreTest, PanePointerIsStableAcrossGroupSwitches) {
  PaneStore store(WindowSpec::Tumbling(kMinute), CountProto());
  AccSet* a = store.Pane("a", 1'000);
  AccSet* b = store.Pane("b", 1'000);
  EXPECT_NE(a, b);
  EXPECT_EQ(store.Pane("a", 59'000), a);
  EXPECT_EQ(store.Pane("b", 2'000), b);
  EXPECT_NE(store.Pane("a", 60'000), a);
  EXPECT_EQ(store.Pane("a", 3'000), a);
}

TEST(PaneStoreTest, NothingIsEmittedTwice) {
  PaneStore store(WindowSpec::Sliding(3 * kMinute, kMinute), CountProto());
  for (TimeMs t = 0; t < 10 * kMinute; t += 7'000) Add(store, "g", t);
  std::set<TimeMs> ends;
  for (TimeMs f = 0; f <= 20 * kMinute; f += 13'000) {
    for (int repeat = 0; repeat < 2; ++repeat) {
      for (const Fired& w : Close(store, f)) {
        EXPECT_LE(w.end, f);
        EXPECT_TRUE(ends.insert(w.end).second) << "window ending " << w.end << " fired twice";
      }
    }
  }
  // Ends 1m .. 12m: from the first window holding t = 0 to the last holding
  // t = 9m58s.
  EXPECT_EQ(ends.size(), 12u);
  EXPECT_EQ(*ends.begin(), kMinute);
  EXPECT_EQ(*ends.rbegin(), 12 * kMinute);
  EXPECT_TRUE(Close(store, kMaxTime).empty());
}

TEST(PaneStoreTest, SlidingEventLandsInEveryCoveringWindow) {
  PaneStore store(WindowSpec::Sliding(5 * kMinute, kMinute), CountProto());
  Add(store, "g", 90'000);
  EXPECT_TRUE(Close(store, 119'999).empty());
  std::vector<Fired> fired = Close(store, 120'000);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].start, -180'000);
  EXPECT_EQ(fired[0].end, 120'000);

  fired = Close(store, kMaxTime);
  ASSERT_EQ(fired.size(), 4u);
  for (size_t i = 0; i < fired.size(); ++i) {
    EXPECT_EQ(fired[i].end, static_cast<TimeMs>(i + 3) * kMinute);
    EXPECT_EQ(fired[i].start, fired[i].end - 5 * kMinute);
    EXPECT_EQ(CountOf(fired[i]), 1.0);
  }
  EXPECT_EQ(store.group_count(), 0u);
}

TEST(PaneStoreTest, SlidingWindowsMergeTheirPanes) {
  // Panes of 1m, windows of 5m every 2m: ends are even minutes.
  PaneStore store(WindowSpec::Sliding(5 * kMinute, 2 * kMinute),
                  {Accumulator(AggKind::kSum), Accumulator(AggKind::kMax)});
  Add(store, "g", 30'000, 1);     // pane 0
  Add(store, "g", 150'000, 10);   // pane 2m
  Add(store, "g", 290'000, 100);  // pane 4m
  std::vector<Fired> fired = Close(store, kMaxTime);
  // [-3m,2m) {1}; [-1m,4m) {1,10}; [1m,6m) {10,100}; [3m,8m) {100}; [5m,10m) none.
  ASSERT_EQ(fired.size(), 4u);
  const std::vector<std::tuple<TimeMs, double, double>> expected = {
      {2 * kMinute, 1, 1}, {4 * kMinute, 11, 10}, {6 * kMinute, 110, 100}, {8 * kMinute, 100, 100}};
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& [end, sum, max] = expected[i];
    EXPECT_EQ(fired[i].end, end);
    EXPECT_EQ(fired[i].start, end - 5 * kMinute);
    EXPECT_EQ(fired[i].acc[0].Result(0), sum) << end;
    EXPECT_EQ(fired[i].acc[1].Result(0), max) << end;
  }
}

// Events at or after the frontier may arrive out of order. A close that fires
// nothing must not move the group past windows that such an event opens.
TEST(PaneStoreTest, EarlierPaneAfterAnIdleCloseKeepsItsWindows) {
  for (const AccSet& proto :
       {CountProto(), AccSet{Accumulator(AggKind::kCount), Accumulator(AggKind::kMax)}}) {
    PaneStore store(WindowSpec::Sliding(5 * kMinute, kMinute), proto);
    Add(store, "a", 4 * kMinute);
    EXPECT_TRUE(Close(store, kMinute).empty());  // the first window ends at 5m
    Add(store, "a", 2 * kMinute);                // not late: after the frontier
    std::vector<std::pair<TimeMs, double>> got;
    for (const Fired& w : Close(store, kMaxTime)) got.emplace_back(w.end, CountOf(w));
    const std::vector<std::pair<TimeMs, double>> want = {
        {3 * kMinute, 1}, {4 * kMinute, 1}, {5 * kMinute, 2}, {6 * kMinute, 2},
        {7 * kMinute, 2}, {8 * kMinute, 1}, {9 * kMinute, 1}};
    EXPECT_EQ(got, want);
  }
}

TEST(PaneStoreTest, GapsSkipEmptyWindows) {
  for (const AccSet& proto : {CountProto(), AccSet{Accumulator(AggKind::kMax)}}) {
    PaneStore store(WindowSpec::Sliding(5 * kMinute, kMinute), proto);
    Add(store, "g", 0);
    Add(store, "g", 20 * kMinute + 1);
    std::vector<TimeMs> ends;
    for (const Fired& w : Close(store, 19 * kMinute)) ends.push_back(w.end);
    // The first event's windows have all fired; nothing is held for the gap.
    EXPECT_EQ(ends, (std::vector<TimeMs>{1 * kMinute, 2 * kMinute, 3 * kMinute, 4 * kMinute,
                                         5 * kMinute}));
    EXPECT_EQ(store.pane_count(), 1u);
    ends.clear();
    for (const Fired& w : Close(store, kMaxTime)) ends.push_back(w.end);
    EXPECT_EQ(ends, (std::vector<TimeMs>{21 * kMinute, 22 * kMinute, 23 * kMinute, 24 * kMinute,
                                         25 * kMinute}));
    EXPECT_EQ(store.group_count(), 0u);
  }
}

TEST(PaneStoreTest, IdleGroupsAreDropped) {
  PaneStore tumbling(WindowSpec::Tumbling(kMinute), CountProto());
  Add(tumbling, "old", 0);
  Add(tumbling, "new", 5 * kMinute);
  Close(tumbling, kMinute);
  EXPECT_EQ(tumbling.group_count(), 1u);

  PaneStore sliding(WindowSpec::Sliding(5 * kMinute, kMinute), CountProto());
  Add(sliding, "old", 0);
  Add(sliding, "new", 10 * kMinute);
  EXPECT_EQ(sliding.group_count(), 2u);
  Close(sliding, 3 * kMinute);
  EXPECT_EQ(sliding.group_count(), 2u);  // "old" is still in windows ending 4m, 5m
  // Once the frontier is a slide past its last window, "old" holds nothing.
  Close(sliding, 6 * kMinute);
  EXPECT_EQ(sliding.group_count(), 1u);
  EXPECT_EQ(sliding.pane_count(), 1u);
  // A dropped group comes back as a new one.
  Add(sliding, "old", 7 * kMinute);
  EXPECT_EQ(sliding.group_count(), 2u);
  std::vector<Fired> fired = Close(sliding, 8 * kMinute);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].group, "old");
  EXPECT_EQ(fired[0].end, 8 * kMinute);
  Close(sliding, kMaxTime);
  EXPECT_EQ(sliding.group_count(), 0u);
  EXPECT_EQ(sliding.pane_count(), 0u);
}

struct FakeBudget : GroupBudget {
  bool exhausted = false;
  bool Exhausted() const override { return exhausted; }
};

TEST(PaneStoreTest, GroupLimitRefusesNewGroupsOnly) {
  PaneStore store(WindowSpec::Sliding(2 * kMinute, kMinute), CountProto());
  store.SetGroupLimit(2);
  Add(store, "a", 0);
  Add(store, "b", 0);
  EXPECT_EQ(store.Pane("c", 0), nullptr);
  // Held groups take events in any pane, new or cached.
  Add(store, "a", 30 * kSecond);
  Add(store, "b", kMinute);
  EXPECT_EQ(store.Pane("c", kMinute), nullptr);
  EXPECT_EQ(store.group_count(), 2u);
  std::vector<Fired> fired = Close(store, kMaxTime);
  ASSERT_EQ(fired.size(), 5u);  // a: [-1m,1m), [0,2m); b: those and [1m,3m)
  EXPECT_EQ(fired[0].group, "a");
  EXPECT_EQ(CountOf(fired[0]), 2);
  EXPECT_EQ(CountOf(fired[3]), 2);  // b over [0, 2m)
  EXPECT_EQ(store.group_count(), 0u);
  // Once the groups are gone, new ones fit again.
  EXPECT_NE(store.Pane("c", 5 * kMinute), nullptr);

  // A shared budget, when spent, stops new groups of every store sharing it.
  FakeBudget budget;
  PaneStore shared(WindowSpec::Tumbling(kMinute), CountProto());
  shared.SetGroupLimit(SIZE_MAX, &budget);
  Add(shared, "a", 0);
  budget.exhausted = true;
  EXPECT_EQ(shared.Pane("b", 0), nullptr);
  Add(shared, "a", 1);
  EXPECT_EQ(shared.group_count(), 1u);
  // The merge stage keeps whatever its instances publish.
  AccSet partial = CountProto();
  Feed(&partial, 0, 2);
  EXPECT_TRUE(shared.MergePane("b", 0, partial));
  EXPECT_EQ(shared.group_count(), 2u);
}

TEST(PaneStoreTest, MemoryFollowsGroupsAndPanes) {
  PaneStore store(WindowSpec::Sliding(5 * kMinute, kMinute),
                  {Accumulator(AggKind::kQuantile, 0.99)});
  EXPECT_EQ(store.memory_bytes(), 0u);
  Add(store, "a", 0, 100);
  const size_t one = store.memory_bytes();
  EXPECT_GT(one, sizeof(Accumulator));
  for (int m = 1; m < 5; ++m) Add(store, "a", m * kMinute, 100);
  // Four more panes of the same content: four times one pane's share.
  const size_t five = store.memory_bytes();
  const size_t per_pane = (five - one) / 4;
  EXPECT_EQ(five - one, 4 * per_pane);
  EXPECT_GT(per_pane, sizeof(Accumulator));
  EXPECT_GT(one, per_pane);  // the group's bookkeeping on top
  Close(store, kMaxTime);
  EXPECT_EQ(store.memory_bytes(), 0u);
}

TEST(PaneStoreTest, EncodeDecodeMidStreamContinuesIdentically) {
  for (const AccSet& proto :
       {AccSet{Accumulator(AggKind::kCount), Accumulator(AggKind::kSum)},
        AccSet{Accumulator(AggKind::kMax), Accumulator(AggKind::kQuantile, 0.5),
               Accumulator(AggKind::kLast), Accumulator(AggKind::kDistinct)}}) {
    const WindowSpec spec = WindowSpec::Sliding(5 * kMinute, kMinute);
    PaneStore original(spec, proto);
    for (int i = 0; i < 40; ++i) Add(original, i % 3 ? "a" : "b", i * 10'000, i);
    Close(original, 4 * kMinute);

    const std::string bytes = EncodeStore(original);
    PaneStore restored(spec, proto);
    Add(restored, "stale", 0);  // Decode replaces whatever was there
    Decoder dec(bytes);
    ASSERT_TRUE(restored.Decode(&dec));
    EXPECT_TRUE(dec.empty());
    EXPECT_EQ(restored.group_count(), original.group_count());
    EXPECT_EQ(restored.pane_count(), original.pane_count());
    EXPECT_EQ(EncodeStore(restored), bytes);

    // The restored store remembers how far it has fired.
    EXPECT_TRUE(Close(restored, 4 * kMinute).empty());
    for (PaneStore* store : {&original, &restored}) {
      for (int i = 40; i < 80; ++i) Add(*store, i % 2 ? "a" : "c", i * 10'000, i);
    }
    for (TimeMs f : {5 * kMinute, 9 * kMinute + 1, kMaxTime}) {
      std::vector<Fired> a = Close(original, f);
      std::vector<Fired> b = Close(restored, f);
      ASSERT_EQ(a.size(), b.size()) << f;
      EXPECT_FALSE(a.empty());
      for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].group, b[i].group);
        EXPECT_EQ(a[i].end, b[i].end);
        EXPECT_EQ(a[i].acc, b[i].acc) << a[i].group << " " << a[i].end;
      }
    }
    EXPECT_EQ(restored.group_count(), 0u);
  }
}

// Calendar months in Europe/Berlin: two instances' panes merged give one
// store's windows, and a store restored from its encoding mid-month
// continues identically; the windows are the real months (March 2026 ends
// in summer time).
TEST(PaneStoreTest, CalendarPanesMergeAndRestoreLikeFixedOnes) {
  const WindowSpec month = *WindowSpec::Parse("calendar month")->InTimeZone("Europe/Berlin");
  const TimeMs feb = *ParseRfc3339("2026-02-01T00:00:00+01:00");
  const TimeMs mar = *ParseRfc3339("2026-03-01T00:00:00+01:00");
  const TimeMs apr = *ParseRfc3339("2026-04-01T00:00:00+02:00");
  PaneStore whole(month, CountProto()), a(month, CountProto()), b(month, CountProto());
  std::vector<TimeMs> times;
  for (TimeMs t = feb - 3'600'000; t < apr + 3'600'000; t += 7 * 3'600'000) times.push_back(t);
  for (size_t i = 0; i < times.size(); ++i) {
    Add(whole, "g", times[i]);
    Add(i % 2 ? a : b, "g", times[i]);
  }
  PaneStore merged(month, CountProto());
  for (PaneStore* part : {&a, &b}) {
    part->Drain([&](std::string_view group, TimeMs start, const AccSet& acc) {
      EXPECT_TRUE(merged.MergePane(group, start, acc));
    });
  }
  const std::string before = EncodeStore(whole);
  PaneStore restored(month, CountProto());
  Decoder dec(before);
  ASSERT_TRUE(restored.Decode(&dec));
  for (PaneStore* store : {&whole, &merged, &restored}) {
    std::vector<Fired> fired = Close(*store, apr);
    ASSERT_EQ(fired.size(), 3u);  // January's last hour, February, March
    EXPECT_EQ(fired[1].start, feb);
    EXPECT_EQ(fired[1].end, mar);
    EXPECT_EQ(fired[2].start, mar);
    EXPECT_EQ(fired[2].end, apr);
    // Events every 7 hours: those in [start, end).
    int feb_events = 0, mar_events = 0;
    for (TimeMs t : times) {
      feb_events += t >= feb && t < mar;
      mar_events += t >= mar && t < apr;
    }
    EXPECT_EQ(CountOf(fired[1]), feb_events);
    EXPECT_EQ(CountOf(fired[2]), mar_events);
    EXPECT_EQ(CountOf(fired[0]), 1.0);  // the event at January's last hour
  }
}

// Events going back and forth over a day's boundary each land in their own
// day (a store remembers the last calendar pane it found).
TEST(PaneStoreTest, CalendarPaneOfEachEventAcrossABoundaryBackAndForth) {
  const WindowSpec day = *WindowSpec::Parse("calendar day");
  const TimeMs d1 = *ParseRfc3339("2026-03-28T00:00:00Z");
  const TimeMs d2 = d1 + 24 * 3'600'000;
  PaneStore store(day, CountProto());
  for (TimeMs t : {d2 - 1, d2, d1 + 12 * 3'600'000, d2 + 1, d1, d2 - 1, d2 + 5}) {
    Add(store, "g", t);
  }
  std::vector<Fired> fired = Close(store, d2 + 24 * 3'600'000);
  ASSERT_EQ(fired.size(), 2u);
  EXPECT_EQ(fired[0].start, d1);
  EXPECT_EQ(CountOf(fired[0]), 4.0);
  EXPECT_EQ(fired[1].start, d2);
  EXPECT_EQ(CountOf(fired[1]), 3.0);
}

TEST(PaneStoreTest, DecodeRejectsTruncatedInput) {
  PaneStore store(WindowSpec::Sliding(5 * kMinute, kMinute),
                  {Accumulator(AggKind::kCount), Accumulator(AggKind::kQuantile, 0.9)});
  for (int i = 0; i < 20; ++i) Add(store, i % 2 ? "a" : "b", i * 20'000, i);
  Close(store, 3 * kMinute);
  const std::string bytes = EncodeStore(store);
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    PaneStore target(store.spec(),
                     {Accumulator(AggKind::kCount), Accumulator(AggKind::kQuantile, 0.9)});
    Decoder dec(std::string_view(bytes).substr(0, cut));
    EXPECT_FALSE(target.Decode(&dec)) << "cut at " << cut;
  }
  // State encoded for other aggregates is refused.
  PaneStore other(store.spec(), {Accumulator(AggKind::kSum), Accumulator(AggKind::kMax)});
  Decoder dec(bytes);
  EXPECT_FALSE(other.Decode(&dec));
}

// Randomized comparison against a brute-force reference, which folds every
// raw event into every window containing it.
struct Event {
  std::string group;
  TimeMs t;
  int value;
};

class Reference {
 public:
  Reference(WindowSpec spec, AccSet prototype) : spec_(spec), prototype_(std::move(prototype)) {}

  void Add(const Event& e) {
    for (TimeMs end = spec_.FirstEndAfter(e.t); end - spec_.size() <= e.t; end += spec_.slide()) {
      auto it = windows_.find({e.group, end});
      if (it == windows_.end())
        it = windows_.emplace(std::make_pair(e.group, end), prototype_).first;
      Feed(&it->second, e.t, e.value);
    }
  }

  // Every window with end <= frontier, sorted by (group, end), removed from
  // the reference. The caller never adds an event before the frontier, so
  // these windows are complete.
  std::vector<Fired> Close(TimeMs frontier) {
    std::vector<Fired> out;
    for (auto it = windows_.begin(); it != windows_.end();) {
      if (it->first.second <= frontier) {
        out.push_back(Fired{it->first.first, it->first.second - spec_.size(), it->first.second,
                            std::move(it->second)});
        it = windows_.erase(it);
      } else {
        ++it;
      }
    }
    std::sort(out.begin(), out.end(), [](const Fired& a, const Fired& b) {
      return std::tie(a.group, a.end) < std::tie(b.group, b.end);
    });
    return out;
  }

 private:
  WindowSpec spec_;
  AccSet prototype_;
  std::map<std::pair<std::string, TimeMs>, AccSet> windows_;
};

void ExpectSameWindows(const std::vector<Fired>& got, const std::vector<Fired>& want,
                       TimeMs frontier) {
  auto list = [](const std::vector<Fired>& v) {
    std::string s;
    for (const Fired& f : v) s += StrCat(" ", f.group, "@", f.end);
    return s;
  };
  ASSERT_EQ(got.size(), want.size())
      << "frontier " << frontier << "\n got:" << list(got) << "\nwant:" << list(want);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].group, want[i].group) << "frontier " << frontier;
    ASSERT_EQ(got[i].end, want[i].end) << "frontier " << frontier << " group " << got[i].group;
    ASSERT_EQ(got[i].start, want[i].start);
    ASSERT_EQ(got[i].acc.size(), want[i].acc.size());
    for (size_t k = 0; k < got[i].acc.size(); ++k) {
      ASSERT_EQ(got[i].acc[k], want[i].acc[k])
          << AggKindName(want[i].acc[k].kind()) << " group " << got[i].group << " window ["
          << got[i].start << ", " << got[i].end << ")";
      ASSERT_EQ(got[i].acc[k].Result(60'000), want[i].acc[k].Result(60'000));
    }
  }
}

// A pane's last window ends at AlignDown(pane + size, slide) at the latest
// (an end equal to pane + size still contains the pane's first millisecond).
TimeMs LastEnd(const WindowSpec& spec, TimeMs t) {
  return AlignDown(spec.PaneStart(t) + spec.size(), spec.slide());
}

void RunRandomized(const WindowSpec& spec, const AccSet& proto, uint64_t seed) {
  SCOPED_TRACE(spec.ToString());
  std::mt19937_64 rng(seed);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const std::vector<std::string> groups = {"a", "b", "c", "d", ""};

  PaneStore uninterrupted(spec, proto);
  auto checkpointed = std::make_unique<PaneStore>(spec, proto);
  Reference reference(spec, proto);
  std::map<std::string, TimeMs> last_end;  // per group, the latest end of any window

  // Start before the epoch so that negative times are exercised.
  TimeMs frontier = -7 * kMinute + 123;
  size_t events = 0;
  size_t fired = 0;
  while (events < 3000) {
    const int n = static_cast<int>(uniform(0, 15));
    for (int i = 0; i < n; ++i) {
      Event e{groups[uniform(0, static_cast<int64_t>(groups.size()) - 1)],
              frontier + uniform(0, 6 * kMinute - 1), static_cast<int>(uniform(-50, 50))};
      // Pull some events onto the edges of a pane, where off-by-ones live.
      const int edge = static_cast<int>(uniform(0, 9));
      if (edge == 0) e.t = std::max(frontier, spec.PaneStart(e.t));
      if (edge == 1) e.t = std::max(frontier, spec.PaneStart(e.t) - 1);
      Feed(uninterrupted.Pane(e.group, e.t), e.t, e.value);
      Feed(checkpointed->Pane(e.group, e.t), e.t, e.value);
      reference.Add(e);
      auto [it, inserted] = last_end.emplace(e.group, LastEnd(spec, e.t));
      if (!inserted) it->second = std::max(it->second, LastEnd(spec, e.t));
      ++events;
    }

    const int step = static_cast<int>(uniform(0, 19));
    if (step == 0) {
      // Repeat the same frontier.
    } else if (step == 1) {
      frontier += uniform(10 * kMinute, 40 * kMinute);  // a quiet spell
    } else {
      frontier += uniform(0, 2 * spec.slide());
    }

    if (uniform(0, 19) == 0) {
      const std::string bytes = EncodeStore(*checkpointed);
      ASSERT_EQ(bytes, EncodeStore(uninterrupted));
      checkpointed = std::make_unique<PaneStore>(spec, proto);
      Decoder dec(bytes);
      ASSERT_TRUE(checkpointed->Decode(&dec));
      ASSERT_TRUE(dec.empty());
    }

    const std::vector<Fired> want = reference.Close(frontier);
    ExpectSameWindows(Close(uninterrupted, frontier), want, frontier);
    ExpectSameWindows(Close(*checkpointed, frontier), want, frontier);
    if (testing::Test::HasFatalFailure()) return;
    fired += want.size();

    // A group is kept while some pane of it can still be in a window that
    // has not fired; a sliding store releases a pane on the first slide
    // boundary after its last window, so it may keep it one slide longer.
    const TimeMs boundary = AlignDown(frontier, spec.slide());
    size_t live = 0;
    size_t live_or_lagging = 0;
    for (const auto& [group, end] : last_end) {
      live += end > boundary ? 1 : 0;
      live_or_lagging += end + spec.slide() > boundary ? 1 : 0;
    }
    EXPECT_GE(uninterrupted.group_count(), live) << "frontier " << frontier;
    EXPECT_LE(uninterrupted.group_count(), spec.panes_per_window() == 1 ? live : live_or_lagging);
    EXPECT_EQ(checkpointed->group_count(), uninterrupted.group_count());
  }

  const std::vector<Fired> want = reference.Close(kMaxTime);
  ExpectSameWindows(Close(uninterrupted, kMaxTime), want, kMaxTime);
  ExpectSameWindows(Close(*checkpointed, kMaxTime), want, kMaxTime);
  EXPECT_EQ(uninterrupted.group_count(), 0u);
  EXPECT_EQ(uninterrupted.pane_count(), 0u);
  EXPECT_EQ(checkpointed->group_count(), 0u);
  // Sanity: the run produced plenty of windows to compare.
  EXPECT_GT(fired + want.size(), 500u);
}

const WindowSpec kSpecs[] = {
    WindowSpec::Tumbling(kMinute),
    WindowSpec::Sliding(5 * kMinute, kMinute),
    WindowSpec::Sliding(5 * kMinute, 2 * kMinute),  // slide does not divide size
    WindowSpec::Sliding(90 * kSecond, kMinute),     // panes of 30 s
    WindowSpec::Sliding(2 * kMinute, 2 * kMinute),  // one pane per window
};

TEST(PaneStoreRandomizedTest, InvertibleAggregatesMatchBruteForce) {
  const AccSet proto = {Accumulator(AggKind::kCount), Accumulator(AggKind::kSum),
                        Accumulator(AggKind::kAvg), Accumulator(AggKind::kRatio),
                        Accumulator(AggKind::kRate)};
  uint64_t seed = 1;
  for (const WindowSpec& spec : kSpecs) RunRandomized(spec, proto, seed++);
}

TEST(PaneStoreRandomizedTest, NonInvertibleAggregatesMatchBruteForce) {
  const AccSet proto = {Accumulator(AggKind::kMax), Accumulator(AggKind::kQuantile, 0.9),
                        Accumulator(AggKind::kMin), Accumulator(AggKind::kLast),
                        Accumulator(AggKind::kDistinct)};
  uint64_t seed = 100;
  for (const WindowSpec& spec : kSpecs) RunRandomized(spec, proto, seed++);
}

TEST(PaneStoreRandomizedTest, MixedAggregatesMatchBruteForce) {
  // One non-invertible aggregate puts the whole set in the two-stacks queue.
  const AccSet proto = {Accumulator(AggKind::kCount), Accumulator(AggKind::kSum),
                        Accumulator(AggKind::kQuantile, 0.5)};
  uint64_t seed = 200;
  for (const WindowSpec& spec : kSpecs) RunRandomized(spec, proto, seed++);
}

}  // namespace
}  // namespace vigil
