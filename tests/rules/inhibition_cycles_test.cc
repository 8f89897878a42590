// Alerts that inhibit each other, directly or round a ring, are all held
// back while they fire together: nobody is paged. That is an error when
// the rules load, once per ring.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using ::testing::ElementsAre;

std::string Rules(const std::string& alerts) {
  return "metrics:\n  - metric: n\n    window: tumbling 1m\n    value: count()\nalerts:\n" + alerts;
}

std::string Alert(const std::string& name, const std::string& inhibited_by) {
  return "  - alert: " + name + "\n    severity: P2\n    expr: n > 1\n" +
         (inhibited_by.empty() ? "" : "    inhibited_by: [" + inhibited_by + "]\n");
}

TEST(InhibitionCyclesTest, TwoAlertsInhibitingEachOtherAreAnError) {
  EXPECT_THAT(Errors(Rules(Alert("A", "B") + Alert("B", "A"))),
              ElementsAre("r.yaml:9:20: alerts inhibit each other (A by B by A): while they all "
                          "fire none is sent; drop one inhibition"));
}

TEST(InhibitionCyclesTest, ARingOfThreeIsReportedOnce) {
  EXPECT_THAT(Errors(Rules(Alert("A", "C") + Alert("B", "A") + Alert("C", "B") + Alert("D", "A"))),
              ElementsAre(::testing::HasSubstr("(A by C by B by A)")));
}

TEST(InhibitionCyclesTest, AChainIsNoRing) {
  RuleLoadResult r = LoadRuleSources(
      {{"r.yaml", Rules(Alert("A", "B") + Alert("B", "C") + Alert("C", "") + Alert("D", "A, B"))}});
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
}

}  // namespace
}  // namespace vigil
