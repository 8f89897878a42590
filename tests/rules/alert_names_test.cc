// Alerts may share a name, as a warning and a page of one condition do in
// Prometheus, but not every label: a receiver tells pages apart by their
// labels, so the resolution of one would close the other's page.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using ::testing::ElementsAre;

constexpr char kMetric[] = R"yaml(metrics:
  - metric: errors
    window: tumbling 1m
    by: [service]
    value: count()
alerts:
)yaml";

std::string Alert(const std::string& severity, const std::string& more = "") {
  return "  - alert: Errors\n    severity: " + severity + "\n    expr: errors > 10\n" + more;
}

TEST(AlertNamesTest, TheSameNameWithTheSameLabelsIsAnError) {
  EXPECT_THAT(Errors(kMetric + Alert("P2") + Alert("P2")),
              ElementsAre("r.yaml:10:12: alert 'Errors' is already defined at r.yaml:7:12 with "
                          "the same severity and labels; a receiver cannot tell their pages "
                          "apart: rename one or give it another label"));
  EXPECT_THAT(Errors(kMetric + Alert("P2", "    labels: {team: a}\n") +
                     Alert("P2", "    labels: {team: a}\n")),
              ElementsAre(::testing::StartsWith("r.yaml:11:12: alert 'Errors' is already")));
}

TEST(AlertNamesTest, AnotherSeverityOrLabelTellsThemApart) {
  for (const std::string& alerts :
       {Alert("P3") + Alert("P1"),
        Alert("P2", "    labels: {team: a}\n") + Alert("P2", "    labels: {team: b}\n")}) {
    RuleLoadResult r = LoadRuleSources({{"r.yaml", kMetric + alerts}});
    ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
    EXPECT_EQ(r.rules->alerts.size(), 2u);
  }
}

}  // namespace
}  // namespace vigil
