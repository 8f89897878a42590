// LatestWindows (runtime/latest_windows.h): the complete windows of each
// metric's latest end, through checkpoints and reloads.
#include "runtime/latest_windows.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "base/strings.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

constexpr TimeMs kT = 1767225600000;  // 2026-01-01T00:00:00Z

constexpr char kRules[] = R"(metrics:
  - metric: turns
    window: tumbling 1m
    by: [intent]
    value: count()
  - metric: hourly
    window: tumbling 1h
    value: count()
)";

std::unique_ptr<RuleSet> Rules(const std::string& yaml) {
  RuleLoadResult r = loader_test::Load(yaml);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  return std::move(r.rules);
}

WindowResult Result(const RuleSet& rules, const std::string& metric, std::string label, TimeMs end,
                    double value, bool partial = false) {
  WindowResult r;
  r.metric = *rules.FindMetric(metric);
  r.def = &rules.metrics[r.metric];
  if (!label.empty()) {
    r.group = label;
    r.labels = {std::move(label)};
  }
  r.end = end;
  r.start = end - (metric == "hourly" ? 3'600'000 : 60'000);
  r.value = value;
  r.partial = partial;
  return r;
}

// "metric{labels} end value" for each kept result.
std::vector<std::string> Shown(const LatestWindows& latest) {
  std::vector<std::string> out;
  for (const WindowResult& r : latest.All()) {
    out.push_back(StrCat(r.def->name, "{", StrJoin(r.labels, ","), "} ", (r.end - kT) / 60'000,
                         "m ", r.value));
  }
  return out;
}

TEST(LatestWindowsTest, EachMetricKeepsItsLatestCompleteWindow) {
  std::unique_ptr<RuleSet> rules = Rules(kRules);
  LatestWindows latest;
  latest.Update({Result(*rules, "turns", "faq", kT + 60'000, 2),
                 Result(*rules, "turns", "cart", kT + 60'000, 1),
                 Result(*rules, "turns", "faq", kT + 120'000, 3)});
  EXPECT_EQ(Shown(latest), (std::vector<std::string>{"turns{faq} 2m 3"}));
  // A close without the metric keeps it; a partial window never shows.
  latest.Update({Result(*rules, "hourly", "", kT + 3'600'000, 40),
                 Result(*rules, "turns", "faq", kT + 180'000, 9, /*partial=*/true)});
  EXPECT_EQ(Shown(latest), (std::vector<std::string>{"turns{faq} 2m 3", "hourly{} 60m 40"}));
  latest.Update({Result(*rules, "turns", "cart", kT + 240'000, 5)});
  EXPECT_EQ(Shown(latest), (std::vector<std::string>{"turns{cart} 4m 5", "hourly{} 60m 40"}));
}

// An experiment's outputs are kept together (SeriesScope): a window of
// the experiment without a comparison drops the older comparison; another
// experiment's stay.
TEST(LatestWindowsTest, AnExperimentsOutputsAreKeptTogether) {
  std::unique_ptr<RuleSet> rules = Rules(loader_test::TwoExperiments());
  auto result = [&](const char* metric, TimeMs end, std::vector<std::string> labels, double value) {
    WindowResult r;
    r.metric = *rules->FindMetric(metric);
    r.def = &rules->metrics[r.metric];
    r.end = end;
    r.labels = std::move(labels);
    r.group = StrJoin(r.labels, ",");
    r.value = value;
    return r;
  };
  LatestWindows latest;
  latest.Update({result("experiment_units", kT + 60'000, {"e1", "c"}, 2),
                 result("experiment_value", kT + 60'000, {"e1", "good", "c"}, 0.5),
                 result("experiment_value", kT + 60'000, {"e2", "good", "c"}, 0.25)});
  latest.Update({result("experiment_units", kT + 120'000, {"e1", "c"}, 0)});
  EXPECT_EQ(Shown(latest), (std::vector<std::string>{"experiment_units{e1,c} 2m 0",
                                                     "experiment_value{e2,good,c} 1m 0.25"}));
}

TEST(LatestWindowsTest, ACheckpointKeepsThemForTheMetricsDefinedAlike) {
  std::unique_ptr<RuleSet> rules = Rules(kRules);
  LatestWindows latest;
  latest.Update({Result(*rules, "turns", "faq", kT + 60'000, 2),
                 Result(*rules, "turns", "a\"b\n", kT + 60'000, 0.1 + 0.2),
                 Result(*rules, "hourly", "", kT + 3'600'000, 40)});
  const std::string bytes = latest.Encode();

  LatestWindows same;
  ASSERT_TRUE(same.Decode(bytes, *rules));
  EXPECT_EQ(Shown(same), Shown(latest));
  EXPECT_EQ(same.All()[1].value, 0.1 + 0.2);
  EXPECT_EQ(same.All()[1].start, kT);

  // `hourly` redefined and `turns` moved to another index: only turns
  // comes back, pointing at the new rules.
  std::unique_ptr<RuleSet> changed = Rules(R"(metrics:
  - metric: hourly
    window: tumbling 1h
    value: sum(latency_ms)
  - metric: turns
    window: tumbling 1m
    by: [intent]
    value: count()
)");
  LatestWindows restored;
  ASSERT_TRUE(restored.Decode(bytes, *changed));
  EXPECT_EQ(Shown(restored),
            (std::vector<std::string>{"turns{faq} 1m 2", "turns{a\"b\n} 1m 0.30000000000000004"}));
  for (const WindowResult& r : restored.All()) {
    EXPECT_EQ(r.metric, 1);
    EXPECT_EQ(r.def, &changed->metrics[1]);
  }

  LatestWindows bad;
  EXPECT_FALSE(bad.Decode(bytes.substr(0, bytes.size() - 3), *rules));
  EXPECT_FALSE(bad.Decode("", *rules));
  EXPECT_FALSE(bad.Decode(bytes + "x", *rules));
}

TEST(LatestWindowsTest, AReloadKeepsTheMetricsDefinedAlike) {
  std::unique_ptr<RuleSet> rules = Rules(kRules);
  LatestWindows latest;
  latest.Update({Result(*rules, "turns", "faq", kT + 60'000, 2),
                 Result(*rules, "hourly", "", kT + 3'600'000, 40)});
  std::unique_ptr<RuleSet> reloaded = Rules(R"(metrics:
  - metric: new_one
    window: tumbling 5m
    value: count()
  - metric: hourly
    window: tumbling 1h
    value: count()
)");
  latest.Rebind(*reloaded);
  rules.reset();  // the old rules go after the rebind, as in a reload
  ASSERT_EQ(latest.All().size(), 1u);
  EXPECT_EQ(latest.All()[0].metric, 1);
  EXPECT_EQ(latest.All()[0].def, &reloaded->metrics[1]);
  EXPECT_EQ(Shown(latest), (std::vector<std::string>{"hourly{} 60m 40"}));
}

}  // namespace
}  // namespace vigil
