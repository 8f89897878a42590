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
  EXPECT_EQ(dropped[0].value, 13);  // what it fired with
  EXPECT_FALSE(dropped[0].resolved_value.has_value()) << *dropped[0].resolved_value;
  old_gen.reset();  // the old rules go away, as in the job

  next.Add(62'000, "\"x\":2");
  // The pane kept the event at 61 s (n = 2, s = 3), and Busy, unchanged,
  // is still firing: no second page.
  EXPECT_EQ(Close(next, 120'000), (std::vector<std::string>{"n@120=2", "s@120=3"}));
  EXPECT_EQ(Close(next, 180'000), (std::vector<std::string>{"Busy resolved @180"}));
}

// A restart from a checkpoint under edited rules: the same as the reload
// above. Big changed: its firing group resolves, with the labels and the
// annotations it was sent with; Busy, unchanged, keeps firing.
TEST(ReloadTest, ARestoreUnderChangedRulesResolvesWhatIsGone) {
  const std::string rules = RulesWithThreshold("10") +
                            "    labels: {team: chat}\n"
                            "    annotations: {summary: 'sum {{ $value }}'}\n";
  OperatorHarness before(rules);
  before.Add(1000, "\"x\":6");
  before.Add(2000, "\"x\":7");
  EXPECT_EQ(Close(before, 60'000),
            (std::vector<std::string>{"n@60=2", "s@60=13", "Busy firing @60", "Big firing @60"}));
  const std::string flow_state = before.alerts->EncodeState();

  // The same rules: nothing to resolve.
  OperatorHarness same(rules);
  ASSERT_TRUE(same.alerts->DecodeState(flow_state));
  EXPECT_TRUE(same.alerts->TakeRestoredResolutions().empty());

  auto after = std::make_unique<OperatorHarness>(RulesWithThreshold("100"));
  ASSERT_TRUE(after->alerts->DecodeState(flow_state));
  std::vector<AlertNotice> resolved = after->alerts->TakeRestoredResolutions();
  ASSERT_EQ(resolved.size(), 1u);
  const AlertNotice& n = resolved[0];
  EXPECT_EQ(n.def->name, "Big");
  EXPECT_EQ(n.def->severity, Severity::kP3);
  EXPECT_EQ(n.def->expr_source, "s > 10");
  EXPECT_EQ(n.transition, Transition::kResolved);
  EXPECT_EQ(n.at, 60'000);
  EXPECT_EQ(n.value, 13);
  EXPECT_FALSE(n.resolved_value.has_value()) << *n.resolved_value;
  EXPECT_EQ(n.fired_at, 60'000);
  EXPECT_TRUE(n.notify);
  EXPECT_EQ(n.window, "tumbling 1m");
  EXPECT_EQ(n.labels, (Labels{{"alertname", "Big"}, {"severity", "P3"}, {"team", "chat"}}));
  EXPECT_EQ(n.annotations,
            (std::vector<std::pair<std::string, std::string>>{{"summary", "sum 13"}}));
  EXPECT_TRUE(after->alerts->TakeRestoredResolutions().empty());  // once

  // Busy kept its state: no second page, and it resolves when it stops.
  EXPECT_EQ(Close(*after, 120'000), (std::vector<std::string>{"Busy resolved @120"}));
}

// A reload that changes n's window starts n over, with only the events
// after the reload: its windows that could hold earlier ones (here the one
// from 0 s, after an event at 61 s was read) change no alert, through a
// checkpoint too; the first window to start after 61 s is complete.
TEST(ReloadTest, AMetricStartedOverIsPartialUntilItsWindowsStartAfterTheReload) {
  auto old_gen = std::make_unique<OperatorHarness>(RulesWithThreshold("10"));
  old_gen->Add(1000, "\"x\":1");
  old_gen->Add(2000, "\"x\":1");
  old_gen->Add(61'000, "\"x\":1");
  EXPECT_EQ(Close(*old_gen, 60'000),
            (std::vector<std::string>{"n@60=2", "s@60=2", "Busy firing @60"}));

  std::string rules = RulesWithThreshold("10");
  rules.replace(rules.find("tumbling 1m"), 11, "tumbling 2m");
  OperatorHarness next(rules);
  std::vector<int> restarted;
  next.flow->AdoptState(*old_gen->flow, &restarted);
  // n, and s, which shared its operator (filter, window, grouping) with n.
  EXPECT_EQ(restarted, (std::vector<int>{0, 1}));
  std::vector<AlertNotice> dropped;
  next.alerts->AdoptState(*old_gen->alerts, &dropped);
  ASSERT_EQ(dropped.size(), 1u);  // Busy reads n, whose meaning changed
  EXPECT_EQ(dropped[0].def->name, "Busy");
  for (int m : restarted) next.alerts->RestartedAt(m, 61'000);
  old_gen.reset();
  EXPECT_FALSE(next.alerts->Covers(0, 0));
  EXPECT_TRUE(next.alerts->Covers(0, 120'000));
  EXPECT_FALSE(next.alerts->Covers(1, 60'000));
  EXPECT_TRUE(next.alerts->Covers(1, 120'000));

  next.Add(62'000, "\"x\":1");
  next.Add(63'000, "\"x\":1");
  // n's window [0 s, 120 s) holds 2 of its 3 events (and s's [60 s, 120 s)
  // 2 of 3): Busy does not fire.
  EXPECT_EQ(Close(next, 120'000), (std::vector<std::string>{"n@120=2", "s@120=2"}));

  OperatorHarness restored(rules);
  ASSERT_TRUE(restored.alerts->DecodeState(next.alerts->EncodeState()));
  EXPECT_FALSE(restored.alerts->Covers(0, 0));
  EXPECT_TRUE(restored.alerts->Covers(0, 120'000));
  EXPECT_FALSE(restored.alerts->Covers(1, 60'000));
  restored.Add(121'000, "\"x\":1");
  restored.Add(122'000, "\"x\":1");
  EXPECT_EQ(Close(restored, 240'000),
            (std::vector<std::string>{"s@180=2", "n@240=2", "Busy firing @240"}));
}

// A pending alert whose `for:` a reload changes ends its pending spell with
// an inactive transition (never notified) before the changed alert's own.
TEST(ReloadTest, AChangedPendingAlertGoesInactiveBeforePendingAgain) {
  auto rules = [](const std::string& for_duration) {
    return "metrics:\n  - metric: n\n    window: tumbling 1m\n    value: count()\n"
           "alerts:\n  - alert: Busy\n    severity: P2\n    expr: n > 1\n    for: " +
           for_duration + "\n";
  };
  auto old_gen = std::make_unique<OperatorHarness>(rules("2m"));
  old_gen->Add(1000, "\"x\":1");
  old_gen->Add(2000, "\"x\":1");
  EXPECT_EQ(Close(*old_gen, 60'000), (std::vector<std::string>{"n@60=2", "Busy pending @60"}));

  OperatorHarness next(rules("3m"));
  next.flow->AdoptState(*old_gen->flow);
  std::vector<AlertNotice> dropped;
  next.alerts->AdoptState(*old_gen->alerts, &dropped);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].def->name, "Busy");
  EXPECT_EQ(dropped[0].transition, Transition::kInactive);
  EXPECT_EQ(dropped[0].at, 60'000);
  EXPECT_FALSE(dropped[0].notify);
  old_gen.reset();

  next.Add(61'000, "\"x\":1");
  next.Add(62'000, "\"x\":1");
  EXPECT_EQ(Close(next, 120'000), (std::vector<std::string>{"n@120=2", "Busy pending @120"}));
}

}  // namespace
}  // namespace vigil
