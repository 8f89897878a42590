// Inhibition (`inhibited_by:`) and silences in the alert operator: which
// notices go to receivers, at exact event times, whatever the order of the
// rules.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "operators/sink/output_sinks.h"
#include "rules/silence.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr TimeMs kMin = 60'000;

const std::string kMetrics = R"(
metrics:
  - metric: breaker
    where: type == "breaker"
    by: [service]
    window: tumbling 1m
    value: count()
  - metric: failures
    where: type == "failure"
    by: [service]
    window: tumbling 1m
    value: count()
)";

const std::string kFailing = R"(
  - alert: Failing
    severity: P1
    expr: failures > 0
    inhibited_by: [{alert: BreakerOpen, equal: [service]}]
)";

const std::string kBreakerOpen = R"(
  - alert: BreakerOpen
    severity: P1
    expr: breaker > 0
)";

// "<minutes> <state> <alert>{service}" plus what held it back, for each
// notice, in order.
std::vector<std::string> Notices(const std::string& alerts) {
  OperatorHarness h(kMetrics + "alerts:" + alerts);
  if (h.rules == nullptr) return {};
  auto both = [&](TimeMs minute, const std::string& service) {
    h.AddTyped(minute * kMin + 1000, "breaker", StrCat("\"service\":\"", service, "\""));
    h.AddTyped(minute * kMin + 2000, "failure", StrCat("\"service\":\"", service, "\""));
  };
  // Service a: the breaker opens in minutes 0-1, failures go on in minute 2.
  both(0, "a");
  both(1, "a");
  h.AddTyped(2 * kMin + 2000, "failure", "\"service\":\"a\"");
  // Service b: failures in minute 0 without its breaker open (not inhibited
  // by a's), then breaker and failures in minutes 10, breaker alone in 11.
  h.AddTyped(2000, "failure", "\"service\":\"b\"");
  both(10, "b");
  h.AddTyped(11 * kMin + 1000, "breaker", "\"service\":\"b\"");
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(15 * kMin, &results, &notices);
  std::vector<std::string> out;
  for (const AlertNotice& n : notices) {
    std::string line = StrCat(n.at / kMin, "m ", TransitionName(n.transition), " ", n.def->name,
                              "{", n.labels.at("service"), "}");
    if (!n.notify) line += " held back";
    if (!n.inhibited_by.empty()) StrAppend(&line, " by ", n.inhibited_by);
    if (n.released) line += " released";
    out.push_back(line);
  }
  std::sort(out.begin(), out.end());  // within a minute, the rule order decides
  return out;
}

TEST(InhibitionTest, HeldBackWhileTheInhibitorFiresAndReleasedWhenItStops) {
  // Sorted as text: "11m" comes before "1m".
  EXPECT_EQ(Notices(kFailing + kBreakerOpen),
            (std::vector<std::string>{
                "11m firing BreakerOpen{b}",
                // b, minute 10: both fire, Failing{b} is held back; it resolves at
                // 12m while the breaker still fires: never notified.
                "11m firing Failing{b} held back by BreakerOpen",
                "12m resolved Failing{b} held back",
                "13m resolved BreakerOpen{b}",
                "1m firing BreakerOpen{a}",
                // a: both fire at 1m, Failing{a} held back by a's breaker.
                "1m firing Failing{a} held back by BreakerOpen",
                // b: Failing fires at 1m (b's breaker is closed), resolves at 2m.
                "1m firing Failing{b}",
                "2m resolved Failing{b}",
                // a's breaker closes at 3m while failures go on: Failing{a}
                // is notified then, and its resolution at 4m too.
                "3m firing Failing{a} released",
                "3m resolved BreakerOpen{a}",
                "4m resolved Failing{a}",
            }));
}

TEST(InhibitionTest, TheOrderOfTheRulesDoesNotMatter) {
  EXPECT_EQ(Notices(kBreakerOpen + kFailing), Notices(kFailing + kBreakerOpen));
}

// Two alerts of one name (a page over a warning of one condition): either
// inhibits, in any order of the rules, and an equal label one of them
// carries is enough.
TEST(InhibitionTest, EveryAlertOfTheNameInhibits) {
  const std::string never = R"(
  - alert: BreakerOpen
    severity: P1
    expr: breaker > 100
)";
  std::string warning = kBreakerOpen;
  warning.replace(warning.find("P1"), 2, "P2");
  const std::vector<std::string> want = Notices(kFailing + kBreakerOpen);
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(Notices(kFailing + never + warning), want);
  EXPECT_EQ(Notices(kFailing + warning + never), want);
  std::string labelled = never;
  labelled += "    labels: {team: core}\n";
  EXPECT_EQ(Notices(kFailing + labelled + warning), want);
}

TEST(InhibitionTest, WithoutEqualAnyFiringGroupOfTheInhibitorHoldsBack) {
  std::string any = kFailing;
  any.replace(any.find("[{alert: BreakerOpen, equal: [service]}]"),
              std::string("[{alert: BreakerOpen, equal: [service]}]").size(), "[BreakerOpen]");
  const std::vector<std::string> got = Notices(any + kBreakerOpen);
  // Failing{b} at 1m is held back by a's open breaker now.
  EXPECT_NE(std::find(got.begin(), got.end(), "1m firing Failing{b} held back by BreakerOpen"),
            got.end())
      << StrJoin(got, "\n");
}

// An alert sent before its inhibitor starts firing is not taken back: it
// stays sent (the status says what inhibits it now), and its resolution
// goes out to the receivers that got the page.
TEST(InhibitionTest, AnAlertSentBeforeItsInhibitorFiredStaysSent) {
  OperatorHarness h(kMetrics + "alerts:" + kFailing + kBreakerOpen);
  ASSERT_NE(h.rules, nullptr);
  for (TimeMs minute = 0; minute < 4; ++minute) {
    h.AddTyped(minute * kMin + 2000, "failure", "\"service\":\"c\"");
  }
  h.AddTyped(2 * kMin + 1000, "breaker", "\"service\":\"c\"");
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(3 * kMin, &results, &notices);
  ASSERT_FALSE(notices.empty());
  EXPECT_EQ(notices.front().def->name, "Failing");
  EXPECT_EQ(notices.front().at, kMin);
  EXPECT_TRUE(notices.front().notify);
  bool described = false;
  for (const AlertOperator::Active& a : h.alerts->ActiveAlerts()) {
    if (a.def->name != "Failing") continue;
    const AlertNotice n = h.alerts->Describe(a);
    EXPECT_EQ(n.inhibited_by, "BreakerOpen");  // BreakerOpen fired at 3m
    EXPECT_TRUE(n.notify);
    // As /api/alerts shows it.
    std::string json;
    AppendAlertJson(n, &json);
    EXPECT_NE(json.find(R"("notify":true,"inhibited_by":"BreakerOpen")"), std::string::npos)
        << json;
    described = true;
  }
  EXPECT_TRUE(described);
  notices.clear();
  h.Close(6 * kMin, &results, &notices);
  bool resolved = false;
  for (const AlertNotice& n : notices) {
    if (n.def->name != "Failing") continue;
    EXPECT_EQ(n.transition, Transition::kResolved);
    EXPECT_EQ(n.at, 5 * kMin);
    EXPECT_TRUE(n.notify);
    resolved = true;
  }
  EXPECT_TRUE(resolved);
}

// Service a's breaker opens and it fails in the first minute, closed:
// both fire, Failing held back by BreakerOpen.
void BothFireInTheFirstMinute(OperatorHarness& h) {
  h.AddTyped(1000, "breaker", "\"service\":\"a\"");
  h.AddTyped(2000, "failure", "\"service\":\"a\"");
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(kMin, &results, &notices);
}

TEST(InhibitionTest, TheStatusShowsTheInhibitor) {
  OperatorHarness h(kMetrics + "alerts:" + kFailing + kBreakerOpen);
  ASSERT_NE(h.rules, nullptr);
  BothFireInTheFirstMinute(h);
  int seen = 0;
  for (const AlertOperator::Active& a : h.alerts->ActiveAlerts()) {
    const AlertNotice n = h.alerts->Describe(a);
    if (a.def->name == "Failing") {
      EXPECT_EQ(n.inhibited_by, "BreakerOpen");
      EXPECT_FALSE(n.notify);
      ++seen;
    } else {
      EXPECT_TRUE(n.inhibited_by.empty());
      EXPECT_TRUE(n.notify);
      ++seen;
    }
  }
  EXPECT_EQ(seen, 2);
}

const std::string kFailingAlone = R"(
  - alert: Failing
    severity: P1
    expr: failures > 0
)";

// Failing, held back by BreakerOpen in the first minute, goes out once
// what held it is gone: firing, released, notified, at its last evaluation.
void ExpectFailingReleasedAtItsLastEvaluation(const std::vector<AlertNotice>& released) {
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].def->name, "Failing");
  EXPECT_EQ(released[0].transition, Transition::kFiring);
  EXPECT_TRUE(released[0].released);
  EXPECT_TRUE(released[0].notify);
  EXPECT_EQ(released[0].at, kMin);
}

// A reload that removes the inhibitor lets the alert it held back go out
// at once, released at its last evaluation, rather than at the next window
// end (never, on an input gone quiet). Its state is kept: the inhibition
// is not what the alert is.
TEST(InhibitionTest, AReloadWithoutTheInhibitorReleasesWhatItHeldBack) {
  OperatorHarness h(kMetrics + "alerts:" + kFailing + kBreakerOpen);
  ASSERT_NE(h.rules, nullptr);
  BothFireInTheFirstMinute(h);
  RuleLoadResult reloaded = LoadRuleSources({{"test.yaml", kMetrics + "alerts:" + kFailingAlone}});
  ASSERT_TRUE(reloaded.rules);
  AlertOperator alerts(*reloaded.rules);
  std::vector<AlertNotice> dropped;
  alerts.AdoptState(*h.alerts, &dropped);
  ASSERT_EQ(dropped.size(), 1u);  // BreakerOpen, gone: resolved
  EXPECT_EQ(dropped[0].def->name, "BreakerOpen");
  ExpectFailingReleasedAtItsLastEvaluation(alerts.ReleaseUnheld());
  EXPECT_TRUE(alerts.ReleaseUnheld().empty());  // once
}

// A restart from a checkpoint under rules without the inhibitor does the
// same: the alert it held back is released at the restart, not at the next
// window end, where it might already have resolved (unpaged).
TEST(InhibitionTest, ARestoreWithoutTheInhibitorReleasesWhatItHeldBack) {
  OperatorHarness h(kMetrics + "alerts:" + kFailing + kBreakerOpen);
  ASSERT_NE(h.rules, nullptr);
  BothFireInTheFirstMinute(h);
  RuleLoadResult restarted = LoadRuleSources({{"test.yaml", kMetrics + "alerts:" + kFailingAlone}});
  ASSERT_TRUE(restarted.rules);
  AlertOperator alerts(*restarted.rules);
  ASSERT_TRUE(alerts.DecodeState(h.alerts->EncodeState()));
  ASSERT_EQ(alerts.TakeRestoredResolutions().size(), 1u);  // BreakerOpen
  ExpectFailingReleasedAtItsLastEvaluation(alerts.ReleaseUnheld());
}

// A reload or restart that changes the inhibitor (here its threshold)
// does not release what it held back: the changed inhibitor is evaluated
// afresh at the next window end, and holds the alert back again there if
// it fires, as the new rules would have from the start.
TEST(InhibitionTest, AChangedInhibitorKeepsWhatItHeldBackUntilItsFirstEvaluation) {
  OperatorHarness h(kMetrics + "alerts:" + kFailing + kBreakerOpen);
  ASSERT_NE(h.rules, nullptr);
  BothFireInTheFirstMinute(h);
  std::string changed = kBreakerOpen;
  changed.replace(changed.find("breaker > 0"), 11, "breaker > 0.5");
  OperatorHarness next(kMetrics + "alerts:" + kFailing + changed);
  ASSERT_NE(next.rules, nullptr);
  std::vector<AlertNotice> dropped;
  next.alerts->AdoptState(*h.alerts, &dropped);
  ASSERT_EQ(dropped.size(), 1u);  // the old BreakerOpen, resolved
  EXPECT_TRUE(next.alerts->ReleaseUnheld().empty());
  OperatorHarness restored(kMetrics + "alerts:" + kFailing + changed);
  ASSERT_TRUE(restored.alerts->DecodeState(h.alerts->EncodeState()));
  EXPECT_TRUE(restored.alerts->ReleaseUnheld().empty());
  // The next minute both fire again: Failing stays held back, unsent.
  next.AddTyped(kMin + 1000, "breaker", "\"service\":\"a\"");
  next.AddTyped(kMin + 2000, "failure", "\"service\":\"a\"");
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  next.Close(2 * kMin, &results, &notices);
  for (const AlertNotice& n : notices) {
    EXPECT_FALSE(n.def->name == "Failing" && n.notify) << TransitionName(n.transition);
  }
}

// A silence of `matchers` over [from, to).
SilenceDef Silence(const std::vector<std::string>& matchers, TimeMs from, TimeMs to) {
  SilenceDef s;
  std::string error;
  for (const std::string& m : matchers) s.matchers.push_back(*ParseLabelMatcher(m, &error));
  s.starts_at = from;
  s.ends_at = to;
  return s;
}

// "<minutes> <state> Failing{service}" plus what held it back, for each
// notice, with the silences of `book` and one failure at each (minute,
// service).
std::vector<std::string> SilencedNotices(SilenceBook& book,
                                         const std::vector<std::pair<TimeMs, std::string>>& at,
                                         const InputEnd& input = {}) {
  OperatorHarness h(kMetrics + "alerts:" + kBreakerOpen + kFailingAlone);
  if (h.rules == nullptr) return {};
  AlertOperator alerts(*h.rules, &book);
  for (const auto& [minute, service] : at) {
    h.AddTyped(minute * kMin + 2000, "failure", StrCat("\"service\":\"", service, "\""));
  }
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  const TimeMs frontier = input.last == kMaxTime ? 15 * kMin : kMaxTime;
  h.flow->Close(frontier, &results);
  alerts.Advance(frontier, results, &notices, input);
  std::vector<std::string> got;
  for (const AlertNotice& n : notices) {
    got.push_back(StrCat(n.at / kMin, "m ", TransitionName(n.transition), " ", n.def->name, "{",
                         n.labels.at("service"), "}", n.notify ? "" : " held back",
                         n.silenced_by.empty() ? "" : " by " + n.silenced_by,
                         n.released ? " released" : ""));
  }
  return got;
}

// A silence over [2m, 5m) on Failing{a}: it fires at 3m held back, and is
// notified at 5m, when the silence has ended and it still fires; a second
// run that resolves inside the silence is never notified.
TEST(SilenceTest, HeldBackInsideTheSilenceAndReleasedWhenItEnds) {
  SilenceBook book;
  const std::vector<std::string> matchers = {"alertname=\"Failing\"", "service=\"a\""};
  const std::string id = book.Add(Silence(matchers, 2 * kMin, 5 * kMin));
  const std::string second = book.Add(Silence(matchers, 10 * kMin, 20 * kMin));
  EXPECT_EQ(SilencedNotices(book, {{2, "a"}, {3, "a"}, {4, "a"}, {5, "a"}, {11, "a"}, {2, "b"}}),
            (std::vector<std::string>{
                "3m firing Failing{a} held back by " + id,
                "3m firing Failing{b}",  // not matched
                "4m resolved Failing{b}",
                // At 5m the silence [2m, 5m) is over: sent now.
                "5m firing Failing{a} released",
                "7m resolved Failing{a}",
                "12m firing Failing{a} held back by " + second,
                "13m resolved Failing{a} held back",
            }));
}

// A bounded input that ends inside a silence: the window end after it is
// only partly covered, so the alert is not released there, though the
// silence is over by then.
TEST(SilenceTest, NothingIsReleasedPastTheEndOfTheInput) {
  SilenceBook book;
  const std::string id = book.Add(Silence({"alertname=\"Failing\""}, 2 * kMin, 5 * kMin));
  EXPECT_EQ(SilencedNotices(book, {{2, "a"}, {3, "a"}, {4, "a"}}, InputEnd{4 * kMin + 2000}),
            (std::vector<std::string>{"3m firing Failing{a} held back by " + id}));
  // With the input going on to the 5m end, the release is sent there.
  EXPECT_EQ(SilencedNotices(book, {{2, "a"}, {3, "a"}, {4, "a"}}, InputEnd{5 * kMin - 1}),
            (std::vector<std::string>{"3m firing Failing{a} held back by " + id,
                                      "5m firing Failing{a} released"}));
}

// An alert whose firing was sent before a silence began gets its
// resolution sent inside it: the receiver that was paged learns that it
// is over. Firing inside the silence, it would not have been paged.
TEST(SilenceTest, AResolutionOfAPageSentBeforeTheSilenceIsSent) {
  SilenceBook book;
  const std::string id = book.Add(Silence({"alertname=\"Failing\""}, 3 * kMin + 30'000, 10 * kMin));
  EXPECT_EQ(SilencedNotices(book, {{2, "a"}, {5, "a"}}),
            (std::vector<std::string>{
                "3m firing Failing{a}",
                "4m resolved Failing{a}",  // inside the silence, after a sent page
                "6m firing Failing{a} held back by " + id,
                "7m resolved Failing{a} held back",
            }));
}

}  // namespace
}  // namespace vigil
