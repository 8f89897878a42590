#include "rules/lint.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "base/strings.h"

namespace vigil {
namespace {

std::vector<std::string> Lint(const std::string& yaml) {
  RuleLoadResult r = LoadRuleSources({{"r.yaml", yaml}});
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  std::vector<std::string> out;
  if (!r.ok()) return out;
  for (const Diagnostic& d : LintRules(*r.rules)) {
    EXPECT_TRUE(d.warning);
    out.push_back(d.ToString());
  }
  return out;
}

TEST(LintTest, UnusedMetricUnlessExported) {
  EXPECT_EQ(Lint("metrics:\n"
                 "  - metric: a\n"
                 "    window: tumbling 1m\n"
                 "    value: count()\n"
                 "  - metric: c\n"  // (b would be an abbreviated unit on /metrics)
                 "    export: true\n"
                 "    window: tumbling 1m\n"
                 "    value: count()\n"),
            (std::vector<std::string>{
                "r.yaml:2:13: warning: metric 'a' is not used by any alert; add 'export: true' "
                "if it is meant for dashboards or the results feed"}));
}

TEST(LintTest, StreamNoMetricReads) {
  EXPECT_EQ(Lint("streams:\n"
                 "  - stream: used\n"
                 "    key: session_id\n"
                 "    window: session 30m\n"
                 "    emit: {n: count()}\n"
                 "  - stream: idle\n"
                 "    key: user_id\n"
                 "    window: session 7d\n"
                 "    emit: {n: count()}\n"
                 "metrics:\n"
                 "  - metric: a\n"
                 "    export: true\n"
                 "    from: used\n"
                 "    window: tumbling 1h\n"
                 "    value: avg(n)\n"),
            (std::vector<std::string>{
                "r.yaml:6:13: warning: stream 'idle' is not read by any metric or output (from: "
                "idle); it keeps sessions for nothing"}));
}

// A silence no alert could match (a misspelt alert name or value) mutes
// nothing; one matching a grouping label's value may match, and is fine.
TEST(LintTest, ASilenceThatMatchesNoAlert) {
  const std::string rules =
      "metrics:\n"
      "  - {metric: n, by: [intent], window: tumbling 1m, value: count()}\n"
      "alerts:\n"
      "  - {alert: Busy, severity: P3, expr: n > 5, labels: {team: chat}}\n"
      "silences:\n";
  auto silence = [](const std::string& matchers) {
    return StrCat("  - silence: s\n    matchers: ", matchers,
                  "\n    starts_at: 2026-03-01T02:00:00Z\n    ends_at: 2026-03-01T04:00:00Z\n");
  };
  const std::vector<std::string> none = {
      "r.yaml:6:14: warning: silence 's' matches no alert of these rules (by name, severity, "
      "static and grouping labels); check its matchers for a misspelt name or value"};
  EXPECT_EQ(Lint(rules + silence("['alertname=\"Bussy\"']")), none);
  EXPECT_EQ(Lint(rules + silence("['alertname=\"Busy\"', 'severity=\"P1\"']")), none);
  EXPECT_EQ(Lint(rules + silence("['team=\"search\"']")), none);
  EXPECT_TRUE(Lint(rules + silence("['alertname=\"Busy\"', 'intent=\"faq\"']")).empty());
  EXPECT_TRUE(Lint(rules + silence("['severity=~\"P3|P4\"', 'team=\"chat\"']")).empty());
}

// Alert labels are sent as written: a template in one is a mistake.
TEST(LintTest, ATemplateInAnAlertLabel) {
  EXPECT_EQ(Lint("metrics:\n"
                 "  - {metric: n, window: tumbling 1m, value: count()}\n"
                 "alerts:\n"
                 "  - alert: Busy\n"
                 "    severity: P3\n"
                 "    expr: n > 5\n"
                 "    labels: {level: '{{ $value }}'}\n"),
            (std::vector<std::string>{
                "r.yaml:4:12: warning: alert 'Busy': label 'level' holds a template ({{ $value "
                "}}), but labels are sent as written; put it in an annotation, or group the "
                "metric by the field (by:) to get a label per value"}));
}

TEST(LintTest, ForShorterThanOneEvaluation) {
  const std::string metrics =
      "metrics:\n"
      "  - metric: e\n"
      "    window: tumbling 5m\n"
      "    value: count()\n"
      "alerts:\n"
      "  - alert: A\n"
      "    severity: P2\n"
      "    expr: e > 1\n";
  // The warning points at the for: value.
  EXPECT_EQ(Lint(metrics + "    for: 2m\n"),
            (std::vector<std::string>{
                "r.yaml:9:10: warning: alert 'A' has for: 2m, shorter than its 5m evaluation "
                "interval (the window of 'e'): its first true evaluation already holds it, so it "
                "fires at once and is never pending; use for: 0 or for: 10m (two evaluations)"}));
  EXPECT_TRUE(Lint(metrics + "    for: 5m\n").empty());  // one evaluation, by intent
  EXPECT_TRUE(Lint(metrics + "    for: 15m\n").empty());
  EXPECT_TRUE(Lint(metrics).empty());  // for: 0 fires at once by intent
}

TEST(LintTest, ForThatIsNoMultipleOfTheSlide) {
  const std::string metrics =
      "metrics:\n"
      "  - metric: e\n"
      "    window: sliding 10m every 1m\n"
      "    value: count()\n"
      "alerts:\n"
      "  - alert: A\n"
      "    severity: P2\n"
      "    expr: e > 1\n";
  EXPECT_EQ(Lint(metrics + "    for: 150s\n"),
            (std::vector<std::string>{
                "r.yaml:9:10: warning: alert 'A' has for: 2m30s, not a multiple of its 1m "
                "evaluation interval (the slide of 'e'): it fires after 3 consecutive true "
                "evaluations (3m); write for: 3m"}));
  // Shorter than the window is fine now: held time counts evaluations.
  EXPECT_TRUE(Lint(metrics + "    for: 5m\n").empty());
}

TEST(LintTest, ForInCalendarDaysIsDays) {
  const std::string metrics =
      "metrics:\n"
      "  - metric: turns\n"
      "    window: calendar day\n"
      "    timezone: Europe/Berlin\n"
      "    value: count()\n"
      "alerts:\n"
      "  - alert: A\n"
      "    severity: P3\n"
      "    expr: turns > 1\n";
  // Two days are two evaluations of the 25-hour longest day, as documented.
  EXPECT_TRUE(Lint(metrics + "    for: 2d\n").empty());
  // 25 days are 24 of them (24 × 25 h = 25 d): said so.
  EXPECT_EQ(Lint(metrics + "    for: 25d\n"),
            (std::vector<std::string>{
                "r.yaml:10:10: warning: alert 'A' has for: 25d: calendar days count as their "
                "longest, 1d1h, so it fires after 24 windows, not 25; write for: 25d1h for 25"}));
  // Not whole days: as for any window.
  EXPECT_EQ(Lint(metrics + "    for: 36h\n").size(), 1u);
}

TEST(LintTest, RatioThresholdOutsideZeroOne) {
  const std::string metrics =
      "metrics:\n"
      "  - metric: error_rate\n"
      "    window: tumbling 1m\n"
      "    value: ratio(failed)\n"
      "  - metric: n\n"
      "    window: tumbling 1m\n"
      "    value: count()\n"
      "alerts:\n"
      "  - alert: Errors\n"
      "    severity: P1\n";
  EXPECT_EQ(Lint(metrics + "    expr: error_rate > 5 and n > 100\n"),
            (std::vector<std::string>{
                "r.yaml:11:24: warning: alert 'Errors' compares ratio metric 'error_rate' "
                "(always between 0 and 1) with 5; did you mean 0.05?"}));
  // The warning points at the number, in `resolve:` too, quoted or not.
  EXPECT_EQ(
      Lint(metrics + "    expr: error_rate > 0.05 and n > 0\n    resolve: \"-1 < error_rate\"\n"),
      (std::vector<std::string>{
          // -1 < error_rate holds wherever error_rate has a value.
          "r.yaml:12:15: warning: alert 'Errors': resolve: holds where expr: holds too "
          "(error_rate = 1, n = 0.05), so a firing alert resolves there and, its condition still "
          "holding, fires again at the next evaluation: a page on every round; resolve: should "
          "hold only once the condition has cleared, e.g. the opposite of expr: with a "
          "margin",
          "r.yaml:12:15: warning: alert 'Errors' compares ratio metric 'error_rate' "
          "(always between 0 and 1) with -1"}));
  // A count compared with 100 is fine; so is a ratio with 0.05.
  EXPECT_TRUE(Lint(metrics + "    expr: error_rate > 0.05 and n > 100\n").empty());
}

// A resolve: that overlaps expr: makes a firing alert resolve and fire again
// on every round while the value sits in the overlap.
TEST(LintTest, AResolveThatHoldsWhereExprHoldsFlaps) {
  const std::string alert =
      "metrics:\n"
      "  - metric: p99\n"
      "    window: tumbling 1m\n"
      "    value: quantile(0.99, latency_ms)\n"
      "    export: true\n"
      "  - metric: error_rate\n"
      "    window: tumbling 1m\n"
      "    value: ratio(failed)\n"
      "    export: true\n"
      "  - metric: n\n"
      "    window: tumbling 1m\n"
      "    value: count()\n"
      "    export: true\n"
      "alerts:\n"
      "  - alert: Slow\n"
      "    severity: P1\n";
  const std::string flaps =
      "warning: alert 'Slow': resolve: holds where expr: holds too (%s), so a firing alert "
      "resolves there and, its condition still holding, fires again at the next evaluation: a "
      "page on every round; resolve: should hold only once the condition has cleared, e.g. the "
      "opposite of expr: with a margin";
  auto warning = [&](const std::string& at, const std::string& witness) {
    std::string w = flaps;
    w.replace(w.find("%s"), 2, witness);
    return std::vector<std::string>{at + w};
  };
  // The comparison turned the wrong way: 5000 < p99 < 8000 both fires and
  // resolves.
  EXPECT_EQ(Lint(alert + "    expr: p99 > 5000\n"
                         "    resolve: p99 < 8000\n"),
            warning("r.yaml:18:14: ", "p99 = 6500"));
  // On the boundary: >= and <= share 5000 itself.
  EXPECT_EQ(Lint(alert + "    expr: p99 >= 5000\n"
                         "    resolve: p99 <= 5000\n"),
            warning("r.yaml:18:14: ", "p99 = 5000"));
  // Over two metrics, with the other one's value shown.
  EXPECT_EQ(Lint(alert + "    expr: p99 > 5000 and n > 100\n"
                         "    resolve: n < 200\n"),
            warning("r.yaml:18:14: ", "p99 = 10001, n = 150"));
  // Hysteresis as meant, and its edge cases: no warning.
  for (const char* ok : {"    expr: p99 > 10000\n    resolve: p99 < 8000\n",
                         "    expr: p99 > 5000\n    resolve: p99 <= 5000\n",
                         "    expr: p99 > 5000 and n > 100\n"
                         "    resolve: p99 < 4000 or n < 50\n",
                         "    expr: error_rate > 0.05\n    resolve: error_rate < 0.02\n",
                         // A ratio is never above 1: the overlap cannot happen.
                         "    expr: error_rate > 0.05\n    resolve: error_rate > 1\n"}) {
    EXPECT_TRUE(Lint(alert + ok).empty()) << ok;
  }
}

TEST(LintTest, AnSlosBudgetExhaustionIsSecondsNotARatio) {
  // Its other metrics (sli, remaining) are ratios; exhaustion is seconds.
  EXPECT_TRUE(Lint("slos:\n"
                   "  - slo: api\n"
                   "    objective: 99%\n"
                   "    good: latency_ms < 5000\n"
                   "alerts:\n"
                   "  - alert: Exhaust\n"
                   "    severity: P3\n"
                   "    expr: slo_api_budget_exhaustion_seconds <= 700\n")
                  .empty());
}

TEST(LintTest, AnSloNameThatReadsAsAUnitIsOneWarningAskingForAnotherName) {
  // slo_s_sli has "_s_" in it, which promtool reads as seconds; no unit:
  // fixes an SLO's metrics.
  EXPECT_EQ(Lint("slos:\n"
                 "  - slo: s\n"
                 "    objective: 99%\n"
                 "    good: latency_ms < 5000\n"),
            (std::vector<std::string>{
                "r.yaml:2:10: warning: SLO 's' names its metrics on /metrics like "
                "vigil_metric_slo_s_sli, against Prometheus naming (promtool check metrics): "
                "abbreviated unit 's'; rename the SLO"}));
}

TEST(LintTest, AGroupedWindowOfManyPanesTimesItsLimit) {
  const std::string metric =
      "metrics:\n"
      "  - metric: per_session\n"
      "    by: [session_id]\n"
      "    value: count()\n"
      "    export: true\n";
  // 10,000 panes of 1ms times 10,000 groups.
  EXPECT_EQ(Lint(metric + "    window: sliding 10s every 1ms\n"),
            (std::vector<std::string>{
                "r.yaml:2:13: warning: metric 'per_session' may hold 100000000 panes at once "
                "(10000 groups, its limit:, times 10000 panes of 1ms per window): gigabytes when "
                "its groups are many; set a lower limit: or a longer slide"}));
  // A lower limit, a longer slide, or no grouping keeps it small.
  EXPECT_TRUE(Lint(metric + "    window: sliding 10s every 1ms\n    limit: 100\n").empty());
  EXPECT_TRUE(Lint(metric + "    window: sliding 1d every 1m\n").empty());
}

TEST(LintTest, DefaultBurnRatesThatCannotFireAtTheObjective) {
  // Budget 0.1: every event bad burns at 10, so the 14.4 pair never
  // fires (the 6 and 1 pairs can); at 99% (at most 100) all three can.
  const std::string slo = "slos:\n  - slo: api\n    good: latency_ms < 5000\n    objective: ";
  EXPECT_EQ(Lint(slo + "90%\n"),
            (std::vector<std::string>{
                "r.yaml:2:10: warning: SLO 'api': with objective 90% a burn rate is at most 10, "
                "so the default page pair (1h/5m above 14.4) can never fire; set burn_rates: for "
                "this objective"}));
  EXPECT_TRUE(Lint(slo + "99%\n").empty());
}

// Over a 1-day SLO the default ticket pair reads 3 days (written out, that
// is an error); its 1h and 6h page pairs fit.
TEST(LintTest, DefaultBurnRatesLongerThanTheSlosWindow) {
  EXPECT_EQ(Lint("slos:\n  - slo: api\n    good: latency_ms < 5000\n    objective: 99%\n"
                 "    window: 1d\n"),
            (std::vector<std::string>{
                "r.yaml:2:10: warning: SLO 'api': the default ticket pair (3d/6h above 1) reads a "
                "window longer than the SLO's (1d), and its factor is meant for a 30-day budget; "
                "set burn_rates: for this window"}));
}

TEST(LintTest, ReferenceRulesAreClean) {
  std::ifstream in(std::string(VIGIL_SOURCE_DIR) + "/deploy/rules/chatbot.yaml");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_TRUE(Lint(ss.str()).empty());
}

}  // namespace
}  // namespace vigil
