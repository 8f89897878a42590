// `slos:` in rule files: what one SLO compiles to, and every mistake with
// its position.
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rules/rule_set.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using loader_test::Load;

using ::testing::ElementsAre;

constexpr std::string_view kChat = R"yaml(slos:
  - slo: chat-latency
    objective: 99%
    window: 30d
    good: latency_ms < 5000
    valid: type == "message"
    by: [intent]
    alerting: {page: P1, ticket: P3}
    labels: {team: chatbot}
    annotations: {runbook_url: https://runbooks.example/slo/chat-latency}
)yaml";

TEST(SloLoaderTest, AnSloCompilesToSharedMetricsAndTwoAlerts) {
  RuleLoadResult r = Load(kChat);
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  const RuleSet& rules = *r.rules;
  ASSERT_EQ(rules.slos.size(), 1u);
  const SloDef& slo = rules.slos[0];
  EXPECT_EQ(slo.name, "chat-latency");
  EXPECT_DOUBLE_EQ(slo.objective, 0.99);
  EXPECT_EQ(slo.pane, 300'000);
  EXPECT_EQ(slo.by, std::vector<std::string>{"intent"});
  std::vector<std::string> names;
  for (const MetricDef& m : rules.metrics) {
    names.push_back(m.name + " " + m.window.ToString());
    EXPECT_EQ(m.pane_group, "slo:chat-latency");
    EXPECT_EQ(m.by, std::vector<std::string>{"intent"});
    EXPECT_TRUE(m.exported);
  }
  EXPECT_THAT(names,
              ElementsAre("slo_chat_latency_sli sliding 4w2d every 5m",
                          "slo_chat_latency_error_budget_remaining sliding 4w2d every 5m",
                          "slo_chat_latency_burn_rate_1d sliding 1d every 5m",
                          "slo_chat_latency_burn_rate_1h sliding 1h every 5m",
                          "slo_chat_latency_burn_rate_5m tumbling 5m",
                          "slo_chat_latency_burn_rate_6h sliding 6h every 5m",
                          "slo_chat_latency_burn_rate_30m sliding 30m every 5m",
                          "slo_chat_latency_burn_rate_3d sliding 3d every 5m",
                          "slo_chat_latency_budget_exhaustion_seconds sliding 4w2d every 5m"));
  ASSERT_EQ(rules.alerts.size(), 2u);
  const AlertDef& page = rules.alerts[0];
  EXPECT_EQ(page.name, "ChatLatencyFastBurn");
  EXPECT_EQ(page.severity, Severity::kP1);
  EXPECT_EQ(page.expr_source,
            "(slo_chat_latency_burn_rate_1h > 14.4 and slo_chat_latency_burn_rate_5m > 14.4) or "
            "(slo_chat_latency_burn_rate_6h > 6 and slo_chat_latency_burn_rate_30m > 6)");
  const AlertDef& ticket = rules.alerts[1];
  EXPECT_EQ(ticket.name, "ChatLatencySlowBurn");
  EXPECT_EQ(ticket.severity, Severity::kP3);
  EXPECT_EQ(ticket.expr_source,
            "(slo_chat_latency_burn_rate_3d > 1 and slo_chat_latency_burn_rate_6h > 1)");
  // The SLO's labels and annotations, and a summary when none is given.
  std::vector<std::string> labels;
  for (const auto& [k, v] : ticket.labels) labels.push_back(std::string(k).append("=").append(v));
  EXPECT_THAT(labels, ElementsAre("burn=ticket", "slo=chat-latency", "team=chatbot"));
  ASSERT_EQ(ticket.annotations.size(), 2u);
  EXPECT_EQ(ticket.annotations[0].first, "runbook_url");
  EXPECT_EQ(ticket.annotations[1].first, "summary");
  EXPECT_EQ(ticket.annotations[1].second.Render(2.04, {}),
            "SLO chat-latency: the error budget burns 2.0 times too fast (objective 99% over 30d)");
}

TEST(SloLoaderTest, BurnRatesAreConfigurable) {
  RuleLoadResult r = Load(R"yaml(slos:
  - slo: errors
    objective: 0.995
    good: error_service == null
    burn_rates:
      - {long: 2h, short: 10m, factor: 10, alert: page}
    alerting: {page: P2}
)yaml");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  ASSERT_EQ(r.rules->alerts.size(), 1u);
  EXPECT_EQ(r.rules->alerts[0].name, "ErrorsFastBurn");
  EXPECT_EQ(r.rules->alerts[0].severity, Severity::kP2);
  EXPECT_EQ(r.rules->alerts[0].expr_source,
            "(slo_errors_burn_rate_2h > 10 and slo_errors_burn_rate_10m > 10)");
  EXPECT_EQ(r.rules->slos[0].pane, 600'000);
}

TEST(SloLoaderTest, MistakesAreReportedWhereTheyAre) {
  EXPECT_THAT(Errors(R"yaml(slos:
  - slo: a
    objective: 100%
    good: latency_ms < 5000
)yaml"),
              ElementsAre("r.yaml:3:16: 'objective' must be a share of good events above 0 and "
                          "below 100%, e.g. 99.5% or 0.995"));
  // The budget is kept to 12 decimals: a finer objective would round it,
  // to 0 (no burn rate, no alert) or to twice what it is.
  for (const char* fine : {"99.99999999999999%", "0.9999999999995", "99.12345678901234%"}) {
    EXPECT_THAT(Errors(StrCat("slos:\n  - slo: a\n    objective: ", fine,
                              "\n    good: latency_ms < 5000\n")),
                ElementsAre("r.yaml:3:16: 'objective' may have at most 12 decimals as a share "
                            "(10 as a percentage, e.g. 99.9999999999%): the error budget, 100% "
                            "less the objective, is kept to 12 decimals, and this one's would "
                            "round"))
        << fine;
  }
  // The labels and grouping its two alerts share: each mistake once, where
  // it is written; what is wrong in the metrics and alerts it builds, at
  // its name.
  EXPECT_THAT(Errors("slos:\n  - slo: a\n    objective: 99%\n    good: latency_ms < 5000\n"
                     "    by: [intent, slo]\n    labels: {team: x, burn: y, \"a b\": z}\n"),
              ElementsAre("r.yaml:5:18: 'slo' is a label vigil sets on an SLO's alerts; group by "
                          "another field",
                          "r.yaml:6:23: label 'burn' is set by vigil on an SLO's alerts and "
                          "cannot be overridden",
                          "r.yaml:6:32: bad label name 'a b'"));
  EXPECT_THAT(Errors("metrics:\n  - metric: slo_a_sli\n    window: tumbling 1m\n"
                     "    value: count()\n    export: true\n"
                     "slos:\n  - slo: a\n    objective: 99%\n    good: latency_ms < 5000\n"),
              ElementsAre("r.yaml:7:10: metric 'slo_a_sli' is already defined at r.yaml:2:13"));
  // A severity for a kind of alert the table has no pair of.
  EXPECT_THAT(Errors("slos:\n  - slo: a\n    objective: 99%\n    good: latency_ms < 5000\n"
                     "    burn_rates: [{long: 1h, short: 5m, factor: 14.4, alert: page}]\n"
                     "    alerting: {page: P2, ticket: P4}\n"),
              ElementsAre("r.yaml:6:34: alerting: ticket names a severity, but burn_rates: has "
                          "no ticket pair (alert: ticket), so no such alert would exist; add one "
                          "or remove ticket:"));
  for (const char* ok : {"99.9999999999%", "0.999999999999", "0.5", "1%", "99.95%"}) {
    RuleLoadResult r =
        Load(StrCat("slos:\n  - slo: a\n    objective: ", ok, "\n    good: latency_ms < 5000\n"));
    EXPECT_TRUE(r.ok()) << ok << ": " << (r.errors.empty() ? "" : r.errors[0].ToString());
  }
  EXPECT_THAT(Errors(R"yaml(slos:
  - slo: a
    objective: 99%
    good: latency_ms < 5000 and
)yaml"),
              ElementsAre(::testing::StartsWith("r.yaml:4:")));
  EXPECT_THAT(Errors(R"yaml(slos:
  - slo: a
    objective: 99%
)yaml"),
              ElementsAre("r.yaml:2:5: an SLO needs 'good': the condition an event meets when it "
                          "is good"));
  EXPECT_THAT(Errors(R"yaml(slos:
  - slo: a
    objective: 99%
    good: latency_ms < 5000
    burn_rates:
      - {long: 5m, short: 1h, factor: 200, alert: pager}
)yaml"),
              ElementsAre("r.yaml:6:39: a burn rate of 200 needs more than all events to be bad "
                          "with objective 99%, and a pair fires only above its factor; it can "
                          "never fire (at most 100)",
                          "r.yaml:6:51: 'alert' must be page or ticket",
                          "r.yaml:6:27: the short window must be shorter than the long one"));
  // Every event bad burns at exactly 1 / budget, which is no burn above it.
  EXPECT_THAT(Errors(R"yaml(slos:
  - slo: a
    objective: 90%
    good: latency_ms < 5000
    burn_rates:
      - {long: 1h, short: 5m, factor: 10, alert: page}
      - {long: 6h, short: 30m, factor: 9.99, alert: page}
)yaml"),
              ElementsAre("r.yaml:6:39: a burn rate of 10 needs every event to be bad with "
                          "objective 90%, and a pair fires only above its factor; it can never "
                          "fire (at most 10)"));
  EXPECT_THAT(Errors(R"yaml(slos:
  - slo: a
    objective: 99%
    window: 30d
    good: latency_ms < 5000
    burn_rates:
      - {long: 1h, short: 1m, factor: 14.4, alert: page}
)yaml"),
              ElementsAre("r.yaml:4:13: the SLO's windows (30d, a day for the daily budget, "
                          "and the burn-rate windows) share panes of 1m (the longest duration "
                          "that divides them all), and 30d is 43200 of them (at most 10000): "
                          "make the window at most 6d, or make every window a multiple of a "
                          "longer duration (e.g. whole hours)"));
  // A window shorter than a day: the daily budget's window is the longest,
  // and the error is still at the SLO's window (not at 1:1, about a window
  // the file does not have).
  EXPECT_THAT(Errors(R"yaml(slos:
  - slo: a
    objective: 99%
    window: 1ms
    good: latency_ms < 5000
)yaml"),
              ElementsAre(::testing::StartsWith(
                  "r.yaml:4:13: the SLO's windows (1ms, a day for the daily budget, and the "
                  "burn-rate windows) share panes of 1ms")));
  EXPECT_THAT(Errors(R"yaml(slos:
  - slo: 9lives
    objective: 99%
    good: latency_ms < 5000
)yaml"),
              ElementsAre("r.yaml:2:10: SLO name '9lives' must start with a letter and hold "
                          "letters, digits, '-' and '_'"));
  EXPECT_THAT(Errors(R"yaml(slos:
  - slo: a
    objective: 99%
    good: latency_ms < 5000
    alerting: {page: P0}
)yaml"),
              ElementsAre("r.yaml:5:22: severity 'P0' must be one of P1, P2, P3, P4"));
}

}  // namespace
}  // namespace vigil
