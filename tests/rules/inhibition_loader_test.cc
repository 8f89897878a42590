// Loading `inhibited_by:` (rules/inhibition_loader.cc): names resolved to
// every alert of the name, in any order of the rules; the mistakes a rule
// author sees; and rings: alerts that inhibit each other, directly or round
// a ring, are all held back while they fire together, so nobody is paged.
// That is an error when the rules load, once per ring.
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using loader_test::Joined;
using loader_test::Load;
using loader_test::WithP99;
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

TEST(InhibitionLoaderTest, InhibitedByResolvesAlertsOfAnyOrder) {
  RuleLoadResult r = Load(WithP99(R"yaml(alerts:
  - alert: Slow
    severity: P2
    expr: latency_p99_ms > 3000
    labels: {service: chat}
    inhibited_by: [Down, {alert: Broken, equal: [service]}]
  - alert: Down
    severity: P1
    expr: latency_p99_ms > 60000
  - alert: Broken
    severity: P1
    expr: latency_p99_ms > 30000
    labels: {service: chat}
)yaml"));
  ASSERT_TRUE(r.ok()) << Joined([&] {
    std::vector<std::string> v;
    for (const Diagnostic& d : r.errors) v.push_back(d.ToString());
    return v;
  }());
  const AlertDef& slow = r.rules->alerts[0];
  ASSERT_EQ(slow.inhibited_by.size(), 2u);
  EXPECT_EQ(slow.inhibited_by[0].alert, "Down");
  EXPECT_EQ(slow.inhibited_by[0].sources, std::vector<int>{1});
  EXPECT_TRUE(slow.inhibited_by[0].equal.empty());
  EXPECT_EQ(slow.inhibited_by[1].sources, std::vector<int>{2});
  EXPECT_EQ(slow.inhibited_by[1].equal, std::vector<std::string>{"service"});
}

// Alerts sharing a name all inhibit; an equal label is fine when one of
// them carries it.
TEST(InhibitionLoaderTest, InhibitedByNamesEveryAlertOfTheName) {
  RuleLoadResult r = Load(WithP99(R"yaml(alerts:
  - alert: Down
    severity: P1
    expr: latency_p99_ms > 60000
  - alert: Slow
    severity: P3
    expr: latency_p99_ms > 3000
    labels: {team: chat}
    inhibited_by: [{alert: Down, equal: [team]}]
  - alert: Down
    severity: P2
    expr: latency_p99_ms > 30000
    labels: {team: chat}
)yaml"));
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  EXPECT_EQ(r.rules->alerts[1].inhibited_by[0].sources, (std::vector<int>{0, 2}));
}

TEST(InhibitionLoaderTest, InhibitedByErrors) {
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: Slow
    severity: P2
    expr: latency_p99_ms > 3000
    inhibited_by: [Dwn, Slow, {alert: Down, equal: [intent]}, {alrt: Down}]
  - alert: Down
    severity: P1
    expr: latency_p99_ms > 60000
    labels: {intent: all}
)yaml")),
              // One mistake, one error: not also "needs an 'alert' field".
              ElementsAre("r.yaml:10:64: unknown field 'alrt' in an inhibited_by entry; did you "
                          "mean 'alert'?",
                          "r.yaml:10:20: inhibited_by names unknown alert 'Dwn'; did you mean "
                          "'Down'?",
                          "r.yaml:10:25: alert 'Slow' cannot inhibit itself",
                          "r.yaml:10:39: inhibited_by Down: equal label 'intent' is not carried "
                          "by both alerts (Slow: none; Down: intent)"));
}

}  // namespace
}  // namespace vigil
