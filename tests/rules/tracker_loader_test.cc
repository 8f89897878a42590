// `target:` on metrics and `trackers:`: what they compile to, and each
// mistake reported once at its position.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rules/rule_set.h"

namespace vigil {
namespace {

const char* const kGood = R"yaml(
metrics:
  - {metric: escalated, where: type == "x", window: calendar month, value: ratio(e), target: "< 5%"}
  - {metric: resolved, window: calendar month, timezone: Europe/Berlin, value: ratio(r), target: ">= 0.85"}
  - {metric: plain, window: tumbling 1m, value: count()}
trackers:
  - tracker: monthly
    help: The monthly table
    metrics: [escalated, {metric: resolved, title: Resolution Rate}]
)yaml";

TEST(TrackerLoaderTest, TargetsAndATrackerCompile) {
  RuleLoadResult r = LoadRuleSources({{"t.yaml", kGood}});
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  const RuleSet& rules = *r.rules;
  ASSERT_TRUE(rules.metrics[0].target);
  EXPECT_EQ(rules.metrics[0].target->op, MetricDef::Target::Op::kLt);
  EXPECT_DOUBLE_EQ(rules.metrics[0].target->value, 0.05);
  EXPECT_TRUE(rules.metrics[0].target->Met(0.049));
  EXPECT_FALSE(rules.metrics[0].target->Met(0.05));
  EXPECT_EQ(rules.metrics[1].target->op, MetricDef::Target::Op::kGe);
  EXPECT_TRUE(rules.metrics[1].target->Met(0.85));
  EXPECT_FALSE(rules.metrics[2].target);
  ASSERT_EQ(rules.trackers.size(), 1u);
  const TrackerDef& t = rules.trackers[0];
  EXPECT_EQ(t.help, "The monthly table");
  ASSERT_EQ(t.columns.size(), 2u);
  EXPECT_EQ(t.columns[0].metric, 0);
  EXPECT_EQ(t.columns[0].title, "Escalated");
  EXPECT_EQ(t.columns[1].title, "Resolution Rate");
}

TEST(TrackerLoaderTest, EachMistakeIsReportedOnceAtItsPosition) {
  const std::string metrics =
      "metrics:\n"
      "  - {metric: m, window: calendar month, value: ratio(e)}\n"
      "  - {metric: daily, window: calendar day, value: ratio(e)}\n"
      "  - {metric: grouped, window: calendar month, by: [intent], value: ratio(e)}\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"metrics:\n  - {metric: m, window: tumbling 1m, value: count(), target: about 5}\n",
       "t.yaml:2:62: target 'about 5' is not a comparison with a number, e.g. \"< 0.05\", \">= "
       "85%\""},
      {metrics + "trackers:\n  - {tracker: t, metrics: [mm]}\n",
       "t.yaml:6:28: unknown metric 'mm'; did you mean 'm'?"},
      {metrics + "trackers:\n  - {tracker: t, metrics: [daily]}\n",
       "t.yaml:6:28: metric 'daily' has window calendar day; a tracker's rows are months: give it "
       "'window: calendar month'"},
      {metrics + "trackers:\n  - {tracker: t, metrics: [grouped]}\n",
       "t.yaml:6:28: metric 'grouped' groups by [intent]; a tracker's cell is one value a month"},
      {metrics + "trackers:\n  - {tracker: t}\n",
       "t.yaml:6:5: a tracker needs 'metrics': the list of its columns"},
      {metrics + "trackers:\n  - {tracker: t, metrics: [{title: X}]}\n",
       "t.yaml:6:28: a tracker column needs a 'metric'"},
  };
  for (const auto& [yaml, error] : cases) {
    SCOPED_TRACE(yaml);
    RuleLoadResult r = LoadRuleSources({{"t.yaml", yaml}});
    ASSERT_EQ(r.errors.size(), 1u) << (r.errors.empty() ? "" : r.errors[0].ToString());
    EXPECT_EQ(r.errors[0].ToString(), error);
  }
}

}  // namespace
}  // namespace vigil
