// A metric's `by:` labels: a field path becomes a label with dots as
// underscores, and two paths that would give one label are an error (the
// results would carry the label twice, and series could not be told apart).
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using ::testing::ElementsAre;

std::string MetricBy(const std::string& by) {
  return "metrics:\n  - metric: m\n    window: tumbling 1m\n    by: " + by +
         "\n    value: count()\n";
}

TEST(GroupLabelsTest, PathsAreLabelsWithUnderscores) {
  const RuleLoadResult r = loader_test::Load(MetricBy("[meta.region, intent]"));
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r.rules->metrics[0].by, ElementsAre("meta_region", "intent"));
}

TEST(GroupLabelsTest, TwoPathsOfOneLabelAreAnError) {
  EXPECT_THAT(loader_test::Errors(MetricBy("[meta.region, meta_region]")),
              ElementsAre("r.yaml:4:23: 'meta_region' and 'meta.region' would both be the "
                          "label 'meta_region' (dots become underscores): group by one of them"));
  EXPECT_THAT(loader_test::Errors(MetricBy("[intent, intent]")),
              ElementsAre("r.yaml:4:18: 'intent' is already in 'by'"));
}

TEST(GroupLabelsTest, AnAlertOverTheSameLabelsInAnotherOrderSaysSo) {
  EXPECT_THAT(
      loader_test::Errors("metrics:\n"
                          "  - {metric: a, window: tumbling 1m, by: [g, h], value: count()}\n"
                          "  - {metric: b, window: tumbling 1m, by: [h, g], value: count()}\n"
                          "alerts:\n"
                          "  - {alert: A, severity: P3, expr: a > 1 and b > 1}\n"),
      ElementsAre("r.yaml:5:36: metrics 'a' (by [g, h]) and 'b' (by [h, g]) group by the same "
                  "labels in another order; list them in one order in both (a group is its "
                  "labels' values in order)"));
}

}  // namespace
}  // namespace vigil
