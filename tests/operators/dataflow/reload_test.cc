// State carried across a rule reload by the metric and alert operators.
#include <gtest/gtest.h>

#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr char kRules[] = R"(
metrics:
  - metric: n
    window: tumbling 1m
    value: count()
  - metric: s
    window: tumbling 1m
    value: sum(x)
alerts:
  - alert: Busy
    severity: P2
    expr: n > 1
  - alert: Big
    severity: P3
    expr: s > THRESHOLD
)";

std::string RulesWithThreshold(const std::string& threshold) {
  std::string text = kRules;
  return text.replace(text.find("THRESHOLD"), 9, threshold);
}

// Closes windows; "metric@end=value" for results, "Alert state @end" for
// transitions.
std::vector<std::string> Close(OperatorHarness& h, TimeMs frontier) {
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(frontier, &results, &notices);
  std::vector<std::string> out;
  for (const auto& r : results) out.push_back(StrCat(r.def->name, "@", r.end / 1000, "=", r.value));
  for (const auto& n : notices) {
    out.push_back(StrCat(n.def->name, " ", TransitionName(n.transition), " @", n.at / 1000));
  }
  return out;
}

TEST(ReloadTest, UnchangedStateCarriesOverChangedAlertIsResolved) {
  auto old_gen = std::make_unique<OperatorHarness>(RulesWithThreshold("10"));
  old_gen->Add(1000, "\"x\":6");
  old_gen->Add(2000, "\"x\":7");
  old_gen->Add(61'000, "\"x\":1");
  EXPECT_EQ(Close(*old_gen, 60'000),
            (std::vector<std::string>{"n@60=2", "s@60=13", "Busy firing @60", "Big firing @60"}));

  // Reload with Big's threshold changed; the event at 61 s is in an open
  // pane of the old operators.
  OperatorHarness next(RulesWithThreshold("100"));
  next.flow->AdoptState(*old_gen->flow);
  std::vector<AlertNotice> dropped;
  next.alerts->AdoptState(*old_gen->alerts, &dropped);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].def->name, "Big");
  EXPECT_EQ(dropped[0].transition, Transition::kResolved);
  EXPECT_EQ(dropped[0].at, 60'000);
  old_gen.reset();  // the old rules go away, as in the job

  next.Add(62'000, "\"x\":2");
  // The pane kept the event at 61 s (n = 2, s = 3), and Busy, unchanged,
  // is still firing: no second page.
  EXPECT_EQ(Close(next, 120'000), (std::vector<std::string>{"n@120=2", "s@120=3"}));
  EXPECT_EQ(Close(next, 180'000), (std::vector<std::string>{"Busy resolved @180"}));
}

}  // namespace
}  // namespace vigil
