// PaneStore views: shorter windows served from the panes of the longest,
// checked against one store per window size on random streams, across a
// checkpoint, and that non-invertible aggregates get no views.
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "base/codec.h"
#include "gtest/gtest.h"
#include "windows/pane_store.h"

namespace vigil {
namespace {

constexpr DurationMs kMinute = 60'000;

// (size, group, end) -> (count, ratio) of every window fired.
using Windows = std::map<std::tuple<DurationMs, std::string, TimeMs>, std::pair<double, double>>;

void CloseInto(PaneStore& store, TimeMs frontier, Windows* out) {
  store.CloseUpTo(frontier, [&](const WindowView& w) {
    const DurationMs size = w.end - w.start;
    auto key = std::make_tuple(size, std::string(w.group), w.end);
    EXPECT_FALSE(out->contains(key)) << "emitted twice: " << size << " " << w.end;
    (*out)[key] = {*w.acc[0].Result(size), *w.acc[1].Result(size)};
  });
}

AccSet Proto() { return {Accumulator(AggKind::kCount), Accumulator(AggKind::kRatio)}; }

void Add(PaneStore& store, const std::string& group, TimeMs t, bool bad) {
  AccSet* p = store.Pane(group, t);
  ASSERT_NE(p, nullptr);
  (*p)[0].AddPredicate(true);
  (*p)[1].AddPredicate(bad);
}

TEST(PaneStoreViewsTest, ViewsGiveTheWindowsOfSeparateStores) {
  const std::vector<DurationMs> sizes = {60 * kMinute, 5 * kMinute, 30 * kMinute, 15 * kMinute};
  for (int seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    auto shared =
        std::make_unique<PaneStore>(WindowSpec::Sliding(sizes[0], 5 * kMinute), Proto(),
                                    std::vector<DurationMs>(sizes.begin() + 1, sizes.end()));
    std::vector<std::unique_ptr<PaneStore>> alone;
    for (DurationMs s : sizes) {
      alone.push_back(std::make_unique<PaneStore>(
          s == 5 * kMinute ? WindowSpec::Tumbling(s) : WindowSpec::Sliding(s, 5 * kMinute),
          Proto()));
    }
    Windows got, want;
    TimeMs t = 0;
    for (int i = 0; i < 3000; ++i) {
      // Bursts and gaps longer than the longest window, out of order within
      // a minute, two groups.
      t += std::uniform_int_distribution<int>(0, 9)(rng) == 0 ? 75 * kMinute : 20'000;
      const TimeMs ts = t - std::uniform_int_distribution<TimeMs>(0, kMinute)(rng);
      const std::string group = rng() % 3 == 0 ? "b" : "a";
      const bool bad = rng() % 7 == 0;
      Add(*shared, group, ts, bad);
      for (auto& s : alone) Add(*s, group, ts, bad);
      if (i % 37 == 0) {
        const TimeMs frontier = t - kMinute;
        CloseInto(*shared, frontier, &got);
        for (auto& s : alone) CloseInto(*s, frontier, &want);
      }
      if (i == 1500) {
        // Through a checkpoint.
        Encoder enc;
        shared->Encode(&enc);
        const std::string bytes = enc.Release();
        auto restored =
            std::make_unique<PaneStore>(WindowSpec::Sliding(sizes[0], 5 * kMinute), Proto(),
                                        std::vector<DurationMs>(sizes.begin() + 1, sizes.end()));
        Decoder dec(bytes);
        ASSERT_TRUE(restored->Decode(&dec));
        Encoder again;
        restored->Encode(&again);
        ASSERT_EQ(again.Release(), bytes);
        shared = std::move(restored);
      }
    }
    CloseInto(*shared, kMaxTime, &got);
    for (auto& s : alone) CloseInto(*s, kMaxTime, &want);
    ASSERT_GT(want.size(), 100u);
    ASSERT_EQ(got.size(), want.size()) << "seed " << seed;
    for (const auto& [key, value] : want) {
      auto it = got.find(key);
      ASSERT_NE(it, got.end()) << "seed " << seed << ": missing " << std::get<0>(key) << " "
                               << std::get<2>(key);
      EXPECT_EQ(it->second.first, value.first);
      EXPECT_NEAR(it->second.second, value.second, 1e-12);
    }
  }
}

TEST(PaneStoreViewsTest, NonInvertibleAggregatesGetNoViews) {
  PaneStore store(WindowSpec::Sliding(60 * kMinute, 5 * kMinute), {Accumulator(AggKind::kMax)},
                  {5 * kMinute});
  store.Pane("a", 0)->at(0).AddNumber(1);
  std::vector<DurationMs> sizes;
  store.CloseUpTo(kMaxTime, [&](const WindowView& w) { sizes.push_back(w.end - w.start); });
  for (DurationMs s : sizes) EXPECT_EQ(s, 60 * kMinute);
  EXPECT_EQ(sizes.size(), 12u);
}

}  // namespace
}  // namespace vigil
