#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "tests/windows/pane_store_harness.h"
#include "windows/pane_store.h"

namespace vigil {
namespace {

using namespace pane_store_test;  // NOLINT: the helpers of these tests

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
