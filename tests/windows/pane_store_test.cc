#include "windows/pane_store.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/codec.h"
#include "gtest/gtest.h"
#include "tests/windows/pane_store_harness.h"

namespace vigil {
namespace {

using namespace pane_store_test;  // NOLINT: the helpers of these tests

// Windows, groups and limits of one store.

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

// A value of 2^62 or more overflows a sum's exact range; subtracting its
// pane when it leaves a sliding window must still leave exactly the sum of
// the panes that remain (the plain floating-point sum would cancel to 0).
// The same for a shorter window served as a view of a longer one.
TEST(PaneStoreTest, AnOverflowedSumLeavesTheSlidingWindowWithItsPane) {
  const AccSet proto = {Accumulator(AggKind::kSum), Accumulator(AggKind::kAvg)};
  PaneStore alone(WindowSpec::Sliding(2 * kMinute, kMinute), proto);
  PaneStore shared(WindowSpec::Sliding(3 * kMinute, kMinute), proto, {2 * kMinute});
  const std::vector<double> values = {5e18, 1, 2, 3, 4, 5};  // one a minute from 0
  for (PaneStore* store : {&alone, &shared}) {
    for (size_t i = 0; i < values.size(); ++i) {
      AccSet* pane = store->Pane("g", static_cast<TimeMs>(i) * kMinute);
      ASSERT_NE(pane, nullptr);
      for (Accumulator& a : *pane) a.AddNumber(values[i]);
    }
  }
  // (size, end) -> sum, for the windows without the large value.
  std::map<std::pair<DurationMs, TimeMs>, double> got;
  for (PaneStore* store : {&alone, &shared}) {
    store->CloseUpTo(kMaxTime, [&](const WindowView& w) {
      if (w.start <= 0) return;
      const DurationMs size = w.end - w.start;
      const double sum = *w.acc[0].Result(size);
      got[std::make_pair(size, w.end)] = sum;
      const TimeMs events = (std::min<TimeMs>(w.end, 6 * kMinute) - w.start) / kMinute;
      EXPECT_EQ(*w.acc[1].Result(size), sum / static_cast<double>(events)) << w.end;
    });
  }
  const std::map<std::pair<DurationMs, TimeMs>, double> want = {
      {{2 * kMinute, 3 * kMinute}, 3}, {{2 * kMinute, 4 * kMinute}, 5},
      {{2 * kMinute, 5 * kMinute}, 7}, {{2 * kMinute, 6 * kMinute}, 9},
      {{2 * kMinute, 7 * kMinute}, 5}, {{3 * kMinute, 4 * kMinute}, 6},
      {{3 * kMinute, 5 * kMinute}, 9}, {{3 * kMinute, 6 * kMinute}, 12},
      {{3 * kMinute, 7 * kMinute}, 9}, {{3 * kMinute, 8 * kMinute}, 5}};
  EXPECT_EQ(got, want);
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
  bool Exhausted(TimeMs, TimeMs) const override { return exhausted; }
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

// A group counts against the limit while a window of it is open at the
// event: its last window ends after the event's frontier and its first
// pane starts at or before the event. Groups whose windows are all due
// count no more, though they stay until the next close.
TEST(PaneStoreTest, GroupsWhoseWindowsAreDueDoNotCount) {
  PaneStore hourly(WindowSpec::Tumbling(kHour), CountProto());
  hourly.SetGroupLimit(2);
  ASSERT_NE(hourly.Pane("a", 10 * kMinute, 9 * kMinute), nullptr);
  ASSERT_NE(hourly.Pane("b", 20 * kMinute, 19 * kMinute), nullptr);
  // An unknown frontier counts every group held; so does one before 01:00.
  EXPECT_EQ(hourly.Pane("c", kHour + 10 * kMinute), nullptr);
  EXPECT_EQ(hourly.Pane("c", kHour + 10 * kMinute, kHour - 1), nullptr);
  EXPECT_EQ(hourly.LiveGroups(kHour - 1, kHour + 10 * kMinute), 2u);
  // At 01:00 the first hour is due: a and b no longer count.
  EXPECT_EQ(hourly.LiveGroups(kHour, kHour + 10 * kMinute), 0u);
  ASSERT_NE(hourly.Pane("c", kHour + 10 * kMinute, kHour), nullptr);
  ASSERT_NE(hourly.Pane("d", kHour + 20 * kMinute, kHour + 15 * kMinute), nullptr);
  EXPECT_EQ(hourly.Pane("e", kHour + 30 * kMinute, kHour + 25 * kMinute), nullptr);
  EXPECT_EQ(hourly.group_count(), 4u);  // a and b until the close
  // A live group takes events whatever the count. A due one comes back as
  // a new group would, before the close lets it go as after: c and d fill
  // the limit, so which events drop does not depend on where closes fall.
  EXPECT_NE(hourly.Pane("c", kHour + 40 * kMinute, kHour + 35 * kMinute), nullptr);
  EXPECT_EQ(hourly.Pane("a", kHour + 40 * kMinute, kHour + 35 * kMinute), nullptr);
  EXPECT_EQ(hourly.LiveGroups(kHour + 35 * kMinute, kHour + 40 * kMinute), 2u);
  std::vector<Fired> fired = Close(hourly, kHour);
  ASSERT_EQ(fired.size(), 2u);  // a and b's first hour
  EXPECT_EQ(hourly.group_count(), 2u);
  EXPECT_EQ(hourly.Pane("a", kHour + 40 * kMinute, kHour + 35 * kMinute), nullptr);
  Close(hourly, kMaxTime);
  EXPECT_EQ(hourly.LiveGroups(kMinTime, kMaxTime), 0u);

  // A group whose first pane starts after the event is live at it too (an
  // event out of order): the event's group, once added, would go on into
  // that group's windows unchecked.
  PaneStore ahead(WindowSpec::Tumbling(kMinute), CountProto());
  ahead.SetGroupLimit(1);
  ASSERT_NE(ahead.Pane("late", 10 * kMinute, 4 * kMinute), nullptr);
  EXPECT_EQ(ahead.LiveGroups(4 * kMinute, 5 * kMinute), 1u);
  EXPECT_EQ(ahead.Pane("early", 5 * kMinute, 4 * kMinute), nullptr);
  EXPECT_EQ(ahead.Pane("third", 10 * kMinute, 4 * kMinute), nullptr);
  // Once its window is due, it no longer counts.
  EXPECT_EQ(ahead.LiveGroups(11 * kMinute, 12 * kMinute), 0u);

  // Sliding: a pane's last window ends a window size after it starts.
  PaneStore sliding(WindowSpec::Sliding(2 * kMinute, kMinute), CountProto());
  sliding.SetGroupLimit(1);
  ASSERT_NE(sliding.Pane("a", 0, kMinTime), nullptr);
  EXPECT_EQ(sliding.Pane("b", 90 * kSecond, kMinute), nullptr);
  EXPECT_NE(sliding.Pane("b", 150 * kSecond, 2 * kMinute), nullptr);

  // A decoded store counts its groups as the one encoded.
  Encoder enc;
  hourly.Pane("x", 3 * kHour, 3 * kHour - 1);
  hourly.Pane("y", 2 * kHour, 2 * kHour - 1);
  hourly.Encode(&enc);
  PaneStore decoded(WindowSpec::Tumbling(kHour), CountProto());
  Decoder dec(enc.data());
  ASSERT_TRUE(decoded.Decode(&dec));
  for (TimeMs f : {kMinTime, 2 * kHour, 3 * kHour, 4 * kHour}) {
    EXPECT_EQ(decoded.LiveGroups(f, 3 * kHour), hourly.LiveGroups(f, 3 * kHour)) << f;
  }
  EXPECT_EQ(decoded.LiveGroups(2 * kHour + 30 * kMinute, 3 * kHour), 2u);
  EXPECT_EQ(decoded.LiveGroups(3 * kHour, 3 * kHour), 1u);  // x: y is due
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

TEST(PaneStoreTest, OnlySlidingGroupsHoldAQueue) {
  // A window of one pane slides over nothing: its groups hold no queue, so
  // the same pane costs a tumbling store less than a sliding one.
  PaneStore tumbling(WindowSpec::Tumbling(kMinute), CountProto());
  PaneStore sliding(WindowSpec::Sliding(5 * kMinute, kMinute), CountProto());
  Add(tumbling, "a", 0);
  Add(sliding, "a", 0);
  EXPECT_LT(tumbling.memory_bytes(), sliding.memory_bytes());

  // A checkpoint whose group has queued panes (a sliding store's, its
  // first window fired) is no tumbling store's: it does not restore.
  Add(sliding, "a", kMinute);
  ASSERT_EQ(Close(sliding, kMinute).size(), 1u);
  Encoder enc;
  sliding.Encode(&enc);
  const std::string bytes = enc.Release();
  Decoder again(bytes);
  PaneStore restored(WindowSpec::Sliding(5 * kMinute, kMinute), CountProto());
  ASSERT_TRUE(restored.Decode(&again));
  EXPECT_EQ(restored.pane_count(), 2u);
  Decoder dec(bytes);
  EXPECT_FALSE(tumbling.Decode(&dec));
}

}  // namespace
}  // namespace vigil
