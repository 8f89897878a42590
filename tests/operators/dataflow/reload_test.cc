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

// An alert is the same alert when its conditions mean the same, however
// written: a restart under `(s >  10.0)` keeps Big firing, without a
// resolution or a second page. Its labels are part of what it is: under
// other labels the page sent with team=chat is resolved with them, and
// the alert with team=web is evaluated afresh. A checkpoint of an earlier
// version (conditions as written, no labels in the key) restores too.
TEST(ReloadTest, AnAlertWrittenAnotherWayKeepsItsStateOneWithOtherLabelsIsResolved) {
  const std::string labels = "    labels: {team: chat}\n";
  OperatorHarness before(RulesWithThreshold("10") + labels);
  before.Add(1000, "\"x\":6");
  before.Add(2000, "\"x\":7");
  EXPECT_EQ(Close(before, 60'000),
            (std::vector<std::string>{"n@60=2", "s@60=13", "Busy firing @60", "Big firing @60"}));
  const std::string state = before.alerts->EncodeState();

  std::string rewritten = RulesWithThreshold("10") + labels;
  rewritten.replace(rewritten.find("s > 10"), 6, "(s >  10.0)");
  OperatorHarness same(rewritten);
  ASSERT_TRUE(same.alerts->DecodeState(state));
  EXPECT_TRUE(same.alerts->TakeRestoredResolutions().empty());
  same.Add(61'000, "\"x\":20");
  same.Add(62'000, "\"x\":20");
  EXPECT_EQ(Close(same, 120'000), (std::vector<std::string>{"n@120=2", "s@120=40"}));

  // A label with the value "" is no label: the page is the same.
  OperatorHarness blank_label(RulesWithThreshold("10") + "    labels: {team: chat, owner: \"\"}\n");
  ASSERT_TRUE(blank_label.alerts->DecodeState(state));
  EXPECT_TRUE(blank_label.alerts->TakeRestoredResolutions().empty());
  blank_label.Add(61'000, "\"x\":20");
  blank_label.Add(62'000, "\"x\":20");
  EXPECT_EQ(Close(blank_label, 120'000), (std::vector<std::string>{"n@120=2", "s@120=40"}));

  // The keys of the version before ("2|"; here the same text otherwise).
  std::string previous = state;
  for (const std::string name : {"Big", "Busy"}) {
    const std::string now = StrCat("3|", name, "|");
    const size_t at = previous.find(now);
    ASSERT_NE(at, std::string::npos) << name;
    previous.replace(at, now.size(), StrCat("2|", name, "|"));
  }
  OperatorHarness upgraded_from_previous(RulesWithThreshold("10") + labels);
  ASSERT_TRUE(upgraded_from_previous.alerts->DecodeState(previous));
  EXPECT_TRUE(upgraded_from_previous.alerts->TakeRestoredResolutions().empty());
  upgraded_from_previous.Add(61'000, "\"x\":20");
  upgraded_from_previous.Add(62'000, "\"x\":20");
  EXPECT_EQ(Close(upgraded_from_previous, 120'000),
            (std::vector<std::string>{"n@120=2", "s@120=40"}));

  OperatorHarness relabelled(RulesWithThreshold("10") + "    labels: {team: web}\n");
  ASSERT_TRUE(relabelled.alerts->DecodeState(state));
  std::vector<AlertNotice> resolved = relabelled.alerts->TakeRestoredResolutions();
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].def->name, "Big");
  EXPECT_EQ(resolved[0].labels,
            (Labels{{"alertname", "Big"}, {"severity", "P3"}, {"team", "chat"}}));
  relabelled.Add(61'000, "\"x\":20");
  relabelled.Add(62'000, "\"x\":20");
  EXPECT_EQ(Close(relabelled, 120'000),
            (std::vector<std::string>{"n@120=2", "s@120=40", "Big firing @120"}));

  // Keys as earlier versions wrote them: the alerts without fingerprints.
  OperatorHarness legacy(RulesWithThreshold("10") + labels);
  for (AlertDef& a : legacy.rules->alerts) a.fingerprint.clear();
  legacy.Add(1000, "\"x\":6");
  legacy.Add(2000, "\"x\":7");
  Close(legacy, 60'000);
  OperatorHarness upgraded(RulesWithThreshold("10") + labels);
  ASSERT_TRUE(upgraded.alerts->DecodeState(legacy.alerts->EncodeState()));
  EXPECT_TRUE(upgraded.alerts->TakeRestoredResolutions().empty());
  upgraded.Add(61'000, "\"x\":20");
  EXPECT_EQ(Close(upgraded, 120'000),
            (std::vector<std::string>{"n@120=1", "s@120=20", "Busy resolved @120"}));
}

// A `where:` written another way (spacing) means the same: a reload or a
// restart keeps the metric's panes, as its alerts keep their state. A
// checkpoint keyed by the `where:` as written (before 2026-12-07) restores
// under that same text.
TEST(ReloadTest, AWhereWrittenAnotherWayKeepsItsPanes) {
  const std::string rules = R"(
metrics:
  - metric: big
    where: x > 2
    window: tumbling 1m
    value: count()
)";
  std::string respaced = rules;
  respaced.replace(respaced.find("x > 2"), 5, "x>2");
  OperatorHarness before(rules);
  before.Add(1000, "\"x\":3");
  before.Add(2000, "\"x\":5");
  before.Add(3000, "\"x\":1");
  before.Add(61'000, "\"x\":4");
  EXPECT_EQ(Close(before, 60'000), (std::vector<std::string>{"big@60=2"}));
  const auto state = before.flow->EncodeState();

  OperatorHarness reloaded(respaced);
  std::vector<int> restarted;
  EXPECT_EQ(reloaded.flow->AdoptState(*before.flow, &restarted), 1u);
  EXPECT_TRUE(restarted.empty());
  reloaded.Add(62'000, "\"x\":9");
  EXPECT_EQ(Close(reloaded, 120'000), (std::vector<std::string>{"big@120=2"}));

  // The key as earlier versions wrote it: the `where:` as written.
  std::vector<std::pair<std::string, std::string>> older;
  for (auto [key, bytes] : state) {
    if (key.starts_with("(x > 2)|")) key.replace(0, 7, "x > 2");
    // Without the shapes record, only the key as written can match.
    if (key != Dataflow::kMetricShapesKey) older.emplace_back(key, bytes);
  }
  ASSERT_NE(older, state);
  // A restart under the respaced rules; one under the same rules from a
  // checkpoint of an earlier version.
  using Saved = std::vector<std::pair<std::string, std::string>>;
  using Case = std::pair<const Saved*, std::string>;
  for (const auto& [saved, text] : {Case(&state, respaced), Case(&older, rules)}) {
    OperatorHarness restored(text);
    std::vector<int> none;
    EXPECT_EQ(restored.flow->DecodeState(*saved, &none), 1);
    EXPECT_TRUE(none.empty());
    restored.Add(62'000, "\"x\":9");
    EXPECT_EQ(Close(restored, 120'000), (std::vector<std::string>{"big@120=2"}));
  }

  // Another metric with the `where:` written the other way holds the
  // same panes under the same key; each restores its own.
  const std::string both = rules +
                           "  - metric: big_sum\n    where: x>2\n    window: tumbling 1m\n"
                           "    value: count()\n";
  OperatorHarness two(both);
  two.Add(1000, "\"x\":3");
  two.Add(61'000, "\"x\":4");
  EXPECT_EQ(Close(two, 60'000), (std::vector<std::string>{"big@60=1", "big_sum@60=1"}));
  OperatorHarness two_restored(both);
  EXPECT_EQ(two_restored.flow->DecodeState(two.flow->EncodeState()), 2);
  two_restored.Add(62'000, "\"x\":9");
  EXPECT_EQ(Close(two_restored, 120'000), (std::vector<std::string>{"big@120=2", "big_sum@120=2"}));
}

// A reload that changes n's window starts n over, with only the events
// after the reload: its windows that could hold earlier ones (here the one
// from 0 s, after an event at 61 s was read) change no alert, through a
// checkpoint too; the first window to start after 61 s is complete. s,
// which shared n's panes, keeps its sums in them.
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
  EXPECT_EQ(restarted, (std::vector<int>{0}));
  std::vector<AlertNotice> dropped;
  next.alerts->AdoptState(*old_gen->alerts, &dropped);
  ASSERT_EQ(dropped.size(), 1u);  // Busy reads n, whose meaning changed
  EXPECT_EQ(dropped[0].def->name, "Busy");
  for (int m : restarted) next.alerts->RestartedAt(m, 61'000);
  old_gen.reset();
  EXPECT_FALSE(next.alerts->Covers(0, 0));
  EXPECT_TRUE(next.alerts->Covers(0, 120'000));
  EXPECT_TRUE(next.alerts->Covers(1, 60'000));

  next.Add(62'000, "\"x\":1");
  next.Add(63'000, "\"x\":1");
  // n's window [0 s, 120 s) holds 2 of its 3 events: Busy does not fire.
  // s's [60 s, 120 s) holds all 3.
  EXPECT_EQ(Close(next, 120'000), (std::vector<std::string>{"n@120=2", "s@120=3"}));

  OperatorHarness restored(rules);
  ASSERT_TRUE(restored.alerts->DecodeState(next.alerts->EncodeState()));
  EXPECT_FALSE(restored.alerts->Covers(0, 0));
  EXPECT_TRUE(restored.alerts->Covers(0, 120'000));
  restored.Add(121'000, "\"x\":1");
  restored.Add(122'000, "\"x\":1");
  EXPECT_EQ(Close(restored, 240'000),
            (std::vector<std::string>{"s@180=2", "n@240=2", "Busy firing @240"}));
}

// Latency metrics over one operator's panes: count, average and p95 over
// a sliding window. A reload adds a p99 (the sketch the p95 reads), a max
// and a sum next to them and drops the average: every metric both rules
// have continues with the events read before the reload; only the max and
// the sum, whose aggregates are new, start over.
TEST(ReloadTest, AMetricAddedNextToOthersLeavesTheirPanesAsTheyAre) {
  const std::string head = R"(
metrics:
  - metric: n
    window: sliding 2m every 1m
    value: count()
  - metric: p95
    window: sliding 2m every 1m
    value: quantile(0.95, x)
)";
  const std::string before = head + R"(  - metric: mean
    window: sliding 2m every 1m
    value: avg(x)
)";
  const std::string after = head + R"(  - metric: p99
    window: sliding 2m every 1m
    value: quantile(0.99, x)
  - metric: top
    window: sliding 2m every 1m
    value: max(x)
  - metric: total
    window: sliding 2m every 1m
    value: sum(x)
)";
  OperatorHarness single(after);
  auto old_gen = std::make_unique<OperatorHarness>(before);
  for (int i = 0; i < 100; ++i) {
    single.Add(i * 1000, StrCat("\"x\":", i));
    old_gen->Add(i * 1000, StrCat("\"x\":", i));
  }
  const std::vector<std::string> first = Close(*old_gen, 60'000);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0], "n@60=60");
  EXPECT_EQ(first[2], "mean@60=29.5");
  OperatorHarness next(after);
  std::vector<int> restarted;
  EXPECT_EQ(next.flow->AdoptState(*old_gen->flow, &restarted), 1u);
  EXPECT_EQ(restarted, (std::vector<int>{3, 4}));  // top and total
  old_gen.reset();
  for (int i = 100; i < 200; ++i) {
    single.Add(i * 1000, StrCat("\"x\":", i));
    next.Add(i * 1000, StrCat("\"x\":", i));
  }
  // n, p95 and the new p99 over all 200 events, as one run on the new
  // rules (less the window that closed before the reload).
  std::vector<std::string> want, kept, started_over;
  for (const std::string& l : Close(single, kMaxTime)) {
    if (l.find("@60=") == std::string::npos && !l.starts_with("top@") && !l.starts_with("total@")) {
      want.push_back(l);
    }
  }
  for (const std::string& l : Close(next, kMaxTime)) {
    (l.starts_with("top@") || l.starts_with("total@") ? started_over : kept).push_back(l);
  }
  EXPECT_EQ(kept, want);
  EXPECT_EQ(kept.size(), 12u);  // windows ending at 120, 180, 240 and 300 s
  // top and total hold the events from 100 s on only.
  EXPECT_EQ(started_over, (std::vector<std::string>{
                              "top@120=119", "total@120=2190", "top@180=179", "total@180=11160",
                              "top@240=199", "total@240=12760", "top@300=199", "total@300=3790"}));
}

// A restore from a checkpoint under the edited rules does what the reload
// does; a checkpoint without the aggregates' list (older versions) starts
// every metric over whose operator's state key changed.
TEST(ReloadTest, ARestoreUnderEditedRulesKeepsTheAggregatesBothHave) {
  const std::string before = R"(
metrics:
  - metric: n
    window: tumbling 1m
    value: count()
)";
  const std::string after = before + R"(  - metric: total
    window: tumbling 1m
    value: sum(x)
)";
  OperatorHarness old_gen(before);
  for (int i = 0; i < 90; ++i) old_gen.Add(i * 1000, StrCat("\"x\":", i));
  EXPECT_EQ(Close(old_gen, 60'000), (std::vector<std::string>{"n@60=60"}));
  std::vector<std::pair<std::string, std::string>> saved = old_gen.flow->EncodeState();

  OperatorHarness restored(after);
  std::vector<int> restarted;
  EXPECT_EQ(restored.flow->DecodeState(saved, &restarted), 1);
  EXPECT_EQ(restarted, (std::vector<int>{1}));  // total
  for (int i = 90; i < 120; ++i) restored.Add(i * 1000, StrCat("\"x\":", i));
  // n has all 60 events of [60 s, 120 s); total the 30 after the checkpoint.
  EXPECT_EQ(Close(restored, 120'000), (std::vector<std::string>{"n@120=60", "total@120=3135"}));

  std::erase_if(saved, [](const auto& s) { return s.first == Dataflow::kMetricShapesKey; });
  OperatorHarness older(after);
  restarted.clear();
  EXPECT_EQ(older.flow->DecodeState(saved, &restarted), 0);
  EXPECT_EQ(restarted, (std::vector<int>{0, 1}));
}

// On a sliding window, adding the first aggregate that cannot be
// subtracted (a quantile next to counts) changes how the windows slide:
// the panes start over, for every metric over them.
TEST(ReloadTest, AQuantileNextToOnlyCountsStartsTheSlidingPanesOver) {
  const std::string before = R"(
metrics:
  - metric: n
    window: sliding 2m every 1m
    value: count()
)";
  OperatorHarness old_gen(before);
  old_gen.Add(1000, "\"x\":1");
  OperatorHarness next(before + R"(  - metric: p95
    window: sliding 2m every 1m
    value: quantile(0.95, x)
)");
  std::vector<int> restarted;
  EXPECT_EQ(next.flow->AdoptState(*old_gen.flow, &restarted), 0u);
  EXPECT_EQ(restarted, (std::vector<int>{0, 1}));
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
