#include <string>
#include <vector>

#include "base/codec.h"
#include "base/time.h"
#include "gtest/gtest.h"
#include "tests/windows/pane_store_harness.h"
#include "windows/pane_store.h"

namespace vigil {
namespace {

using namespace pane_store_test;  // NOLINT: the helpers of these tests

// Encoding, decoding and merging stores, fixed and calendar windows.

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

}  // namespace
}  // namespace vigil
