#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rules/rule_set.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using loader_test::Joined;
using loader_test::kP99Metric;
using loader_test::Load;
using loader_test::WithP99;

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const std::string kReference = std::string(VIGIL_SOURCE_DIR) + "/deploy/rules/chatbot.yaml";

// --- The reference rule file ---------------------------------------------------

TEST(RuleLoaderTest, ReferenceFileLoads) {
  RuleLoadResult r = LoadRuleFiles({kReference});
  ASSERT_TRUE(r.ok()) << [&] {
    std::string s;
    for (const Diagnostic& d : r.errors) s += d.ToString() + "\n";
    return s;
  }();
  EXPECT_TRUE(r.errors.empty());
  EXPECT_TRUE(r.warnings.empty());
  const RuleSet& rules = *r.rules;
  // Every metric and alert the file declares is loaded.
  std::ifstream in(kReference);
  size_t declared_metrics = 0, declared_alerts = 0;
  int first_metric_line = 0, line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.starts_with("  - metric:") && first_metric_line == 0) first_metric_line = line_no;
    declared_metrics += line.starts_with("  - metric:");
    declared_alerts += line.starts_with("  - alert:");
  }
  EXPECT_GE(declared_metrics, 23u);
  EXPECT_GE(declared_alerts, 11u);
  EXPECT_EQ(rules.metrics.size(), declared_metrics);
  EXPECT_EQ(rules.alerts.size(), declared_alerts);
  EXPECT_EQ(rules.files, std::vector<std::string>{kReference});
  EXPECT_EQ(rules.metrics[0].name, "latency_p50_ms");
  EXPECT_EQ(rules.metrics[0].pos.line, first_metric_line);
  EXPECT_EQ(rules.metrics[0].pos.col, 13);

  int by_severity[5] = {};
  for (const AlertDef& a : rules.alerts) ++by_severity[static_cast<int>(a.severity)];
  EXPECT_EQ(by_severity[1], 4);
  EXPECT_EQ(by_severity[2], 6);
  EXPECT_EQ(by_severity[3], 4);
  EXPECT_EQ(by_severity[4], 3);
  // Session streams: per chat session and per user's run of visits; then
  // the joins of turns with their ratings, clicks and escalations.
  ASSERT_EQ(rules.streams.size(), 5u);
  EXPECT_EQ(rules.streams[0].name, "sessions");
  EXPECT_EQ(rules.streams[1].name, "visitors");
  EXPECT_EQ(rules.streams[2].name, "rated_turns");
  EXPECT_EQ(rules.streams[2].kind, StreamKind::kJoin);
  EXPECT_EQ(rules.streams[3].name, "recommendation_clicks");
  EXPECT_EQ(rules.streams[4].name, "escalated_turns");
  EXPECT_EQ(rules.metrics[*rules.FindMetric("faq_negative_feedback")].from, 2);
  EXPECT_EQ(rules.metrics[*rules.FindMetric("resolution_rate")].from, 0);
  EXPECT_EQ(rules.metrics[*rules.FindMetric("return_visit_rate")].from, 1);

  std::optional<int> error_rate = rules.FindMetric("error_rate");
  ASSERT_TRUE(error_rate);
  EXPECT_EQ(rules.metrics[*error_rate].window.ToString(), "sliding 5m every 1m");
  std::optional<int> deps = rules.FindMetric("dependency_errors");
  ASSERT_TRUE(deps);
  EXPECT_EQ(rules.metrics[*deps].by, std::vector<std::string>{"error_service"});
  EXPECT_FALSE(rules.FindMetric("latency_p98_ms"));

  // Field types inferred over the whole file.
  auto expected = [&](std::string_view path) {
    std::optional<int> slot = rules.fields.Find(path);
    EXPECT_TRUE(slot) << path;
    return slot ? rules.fields.expected(*slot) : Type::kNull;
  };
  EXPECT_EQ(expected("type"), Type::kString);
  EXPECT_EQ(expected("latency_ms"), Type::kNumber);
  EXPECT_EQ(expected("llm_timeout"), Type::kBool);
  EXPECT_EQ(expected("error_service"), Type::kString);
  EXPECT_EQ(expected("rating"), Type::kNumber);
  EXPECT_EQ(expected("session_id"), Type::kAny);

  const AlertDef& p99 = rules.alerts[0];
  EXPECT_EQ(p99.name, "LatencyP99Critical");
  EXPECT_EQ(p99.severity, Severity::kP1);
  EXPECT_EQ(p99.for_duration, 300'000);
  EXPECT_EQ(p99.metrics, std::vector<int>{*rules.FindMetric("latency_p99_ms")});
  ASSERT_EQ(p99.annotations.size(), 2u);
  EXPECT_EQ(p99.annotations[0].first, "summary");
  EXPECT_EQ(p99.annotations[1].first, "runbook_url");
  EXPECT_EQ(p99.annotations[0].second.Render(12034.4, {}),
            "p99 latency 12034 ms above 10 s for 5 minutes");
  EXPECT_EQ(p99.annotations[1].second.Render(0, {}), "https://runbooks.example/chatbot/latency");
  const Value above[] = {Value::Number(10001)};
  const Value at[] = {Value::Number(10000)};
  EXPECT_TRUE(p99.expr.EvalBool(above));
  EXPECT_FALSE(p99.expr.EvalBool(at));
  for (const AlertDef& a : rules.alerts) {
    if (a.name == "LatencyP95High") {
      EXPECT_EQ(a.severity, Severity::kP2);
      EXPECT_EQ(a.for_duration, 600'000);
    }
  }
}

TEST(RuleLoaderTest, MissingFile) {
  RuleLoadResult r = LoadRuleFiles({"/nonexistent/rules.yaml"});
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(),
            "/nonexistent/rules.yaml: cannot read the rule file: No such file or directory");
}

// --- A good file --------------------------------------------------------------------

TEST(RuleLoaderTest, GroupedMetricExposesLabelsToAlerts) {
  RuleLoadResult r = Load(R"yaml(metrics:
  - metric: escalation_share_by_intent
    help: Share of turns escalating, per intent
    where: type == "message"
    window: tumbling 5m
    by: [intent, meta.region]
    value: ratio(escalated)
alerts:
  - alert: EscalationByIntent
    severity: p2
    expr: escalation_share_by_intent > 0.2
    resolve: escalation_share_by_intent < 0.1
    for: 10m
    keep_firing_for: 2m
    labels:
      team: support
    annotations:
      summary: "{{ $labels.intent }}/{{ $labels.meta_region }}: {{ $value | humanizePercentage }} escalating ({{ $labels.team }}, {{ $labels.severity }})"
      plain: no template here
)yaml");
  ASSERT_TRUE(r.ok()) << Joined([&] {
    std::vector<std::string> v;
    for (const Diagnostic& d : r.errors) v.push_back(d.ToString());
    return v;
  }());
  const RuleSet& rules = *r.rules;
  ASSERT_EQ(rules.metrics.size(), 1u);
  const MetricDef& m = rules.metrics[0];
  EXPECT_EQ(m.help, "Share of turns escalating, per intent");
  EXPECT_EQ(m.by, (std::vector<std::string>{"intent", "meta_region"}));
  ASSERT_EQ(m.by_slots.size(), 2u);
  EXPECT_EQ(rules.fields.path(m.by_slots[0]), "intent");
  EXPECT_EQ(rules.fields.path(m.by_slots[1]), "meta.region");
  EXPECT_EQ(m.window.ToString(), "tumbling 5m");
  EXPECT_TRUE(m.has_where);
  EXPECT_EQ(m.where_source, "type == \"message\"");
  ASSERT_EQ(m.aggregates.size(), 1u);
  EXPECT_EQ(m.aggregates[0].kind, AggKind::kRatio);
  EXPECT_EQ(m.pos.file, "r.yaml");
  EXPECT_EQ(m.pos.line, 2);
  EXPECT_EQ(m.pos.col, 13);

  ASSERT_EQ(rules.alerts.size(), 1u);
  const AlertDef& a = rules.alerts[0];
  EXPECT_EQ(a.name, "EscalationByIntent");
  EXPECT_EQ(a.pos.line, 9);
  EXPECT_EQ(a.pos.col, 12);
  EXPECT_EQ(a.severity, Severity::kP2);
  EXPECT_EQ(SeverityName(a.severity), "P2");
  EXPECT_EQ(a.for_duration, 600'000);
  EXPECT_EQ(a.keep_firing_for, 120'000);
  EXPECT_TRUE(a.has_resolve);
  EXPECT_EQ(a.group_labels, (std::vector<std::string>{"intent", "meta_region"}));
  EXPECT_EQ(a.labels, (Labels{{"team", "support"}}));
  const Value high[] = {Value::Number(0.25)};
  const Value low[] = {Value::Number(0.05)};
  EXPECT_TRUE(a.expr.EvalBool(high));
  EXPECT_FALSE(a.resolve.EvalBool(high));
  EXPECT_TRUE(a.resolve.EvalBool(low));
  ASSERT_EQ(a.annotations.size(), 2u);
  EXPECT_EQ(a.annotations[0].first, "summary");
  EXPECT_EQ(
      a.annotations[0].second.Render(
          0.25,
          {{"intent", "faq"}, {"meta_region", "eu"}, {"team", "support"}, {"severity", "P2"}}),
      "faq/eu: 25% escalating (support, P2)");
  EXPECT_EQ(a.annotations[1].first, "plain");
  EXPECT_EQ(a.annotations[1].second.Render(0, {}), "no template here");
}

TEST(RuleLoaderTest, AlertMayUseMetricsFromAnotherFileAndEmptyFilesAreFine) {
  RuleLoadResult r = LoadRuleSources({{"b.yaml", R"yaml(alerts:
  - alert: SlowTurns
    severity: P3
    expr: latency_p99_ms > 5000 and latency_p99_ms < 1e9
)yaml"},
                                      {"a.yaml", std::string(kP99Metric)},
                                      {"empty.yaml", ""},
                                      {"comments.yaml", "# nothing yet\n"}});
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  EXPECT_EQ(r.rules->metrics.size(), 1u);
  ASSERT_EQ(r.rules->alerts.size(), 1u);
  EXPECT_EQ(r.rules->alerts[0].pos.file, "b.yaml");
  EXPECT_EQ(r.rules->alerts[0].metrics, std::vector<int>{0});
}

// --- Diagnostics -----------------------------------------------------------------------

TEST(RuleLoaderDiagnosticsTest, YamlSyntaxError) {
  std::vector<std::string> errors = Errors(R"yaml(metrics:
  - metric: a
    window: [tumbling 1m
    value: count()
)yaml");
  // The flow sequence is still open when the next key starts; the error
  // points at the '[' (tests/rules/yaml_errors_test.cc has every kind).
  ASSERT_EQ(errors.size(), 1u) << Joined(errors);
  EXPECT_THAT(errors[0], StartsWith("r.yaml:3:13: this '[' is never closed"));

  std::vector<std::string> tab = Errors("metrics:\n  - metric: a\n\twindow: tumbling 1m\n");
  ASSERT_EQ(tab.size(), 1u) << Joined(tab);
  EXPECT_THAT(tab[0], StartsWith("r.yaml:3:1: "));
  EXPECT_THAT(tab[0], HasSubstr("tab"));

  std::vector<std::string> indent = Errors("metrics:\n  - metric: a\n   window: tumbling 1m\n");
  ASSERT_EQ(indent.size(), 1u) << Joined(indent);
  EXPECT_THAT(indent[0], StartsWith("r.yaml:3:4: this line is indented less than the keys"));

  // A syntax error in one file does not hide the errors of another.
  RuleLoadResult two = LoadRuleSources(
      {{"bad.yaml", "metrics: [\n"}, {"r.yaml", "metrics:\n  - metric: m\n    value: count()\n"}});
  ASSERT_EQ(two.errors.size(), 2u);
  EXPECT_THAT(two.errors[0].ToString(), StartsWith("bad.yaml:"));
  EXPECT_EQ(two.errors[1].ToString(), "r.yaml:2:5: a metric needs a 'window' field");
}

TEST(RuleLoaderDiagnosticsTest, UnknownKeysSuggestTheClosest) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    wher: type == "message"
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:3:5: unknown field 'wher' in metric; did you mean 'where'?"));
  EXPECT_THAT(Errors(R"yaml(metrcs:
  - metric: m
)yaml"),
              ElementsAre("r.yaml:1:1: unknown field 'metrcs' in a rule file; did you mean "
                          "'metrics'?"));
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: latency_p99_ms > 1
    zzzzzzz: 1
)yaml")),
              ElementsAre("r.yaml:10:5: unknown field 'zzzzzzz' in alert; allowed: alert, "
                          "severity, expr, resolve, for, labels, annotations, keep_firing_for, "
                          "inhibited_by"));
}

TEST(RuleLoaderDiagnosticsTest, MissingWindow) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    value: count()
)yaml"),
              ElementsAre("r.yaml:2:5: a metric needs a 'window' field"));
}

TEST(RuleLoaderDiagnosticsTest, BadWindows) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    window: tumbling 5x
    value: count()
  - metric: n
    window: sliding 1m every 5m
    value: count()
  - metric: o
    window: hopping 5m
    value: count()
)yaml"),
              ElementsAre("r.yaml:3:13: bad duration '5x' (expected e.g. 30s, 5m, 1h, 1d)",
                          "r.yaml:6:13: slide 5m is longer than the window 1m",
                          "r.yaml:9:13: bad window 'hopping 5m' (expected 'tumbling <size>', "
                          "'sliding <size> every <slide>' or 'calendar day|week|month')"));
}

TEST(RuleLoaderDiagnosticsTest, CalendarWindowErrors) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: a
    window: tumbling 1d
    timezone: Europe/Berlin
    value: count()
  - metric: b
    window: calendar day
    timezone: Europe/Berln
    value: count()
  - metric: c
    window: sliding calendar week every 1d
    value: count()
  - metric: d
    window: calendar week
    value: count()
alerts:
  - alert: Up
    severity: P4
    expr: growth(d, 1w) > 0.1
)yaml"),
              ElementsAre("r.yaml:4:15: a time zone applies to calendar windows only, not to "
                          "'tumbling 1d'",
                          "r.yaml:8:15: unknown time zone 'Europe/Berln' (an IANA name such as "
                          "Europe/Berlin or America/New_York, from the system's tzdata)",
                          "r.yaml:11:13: window 'sliding calendar week every 1d': calendar "
                          "windows are tumbling (days, weeks and months have no fixed size to "
                          "slide over); use 'calendar week', or a fixed-size 'sliding 30d every "
                          "1d'",
                          "r.yaml:19:21: 'growth' compares with the window that ended exactly 1w "
                          "earlier, which the calendar windows of 'd' do not have (days, weeks "
                          "and months vary in length); use declining(), avg_over() or zscore()"));
  // A calendar window in a zone loads, and its zone is part of it.
  RuleLoadResult r = Load(R"yaml(metrics:
  - metric: m
    window: calendar month
    timezone: America/New_York
    value: count()
)yaml");
  ASSERT_TRUE(r.ok()) << Joined(Errors(""));
  EXPECT_EQ(r.rules->metrics[0].window.ToString(), "calendar month in America/New_York");
}

TEST(RuleLoaderDiagnosticsTest, ValueErrors) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    window: tumbling 1m
    value: p99(latency_ms)
  - metric: n
    window: tumbling 1m
    value: quantile(1.5, latency_ms)
  - metric: o
    window: tumbling 1m
    value: latency_ms / count()
  - metric: p
    window: tumbling 1m
    value: 1 + 2
)yaml"),
              ElementsAre("r.yaml:4:12: unknown function 'p99'; did you mean quantile(0.99, x)?",
                          "r.yaml:7:21: the quantile must be a number in (0, 1], e.g. "
                          "quantile(0.99, latency_ms)",
                          "r.yaml:10:12: field 'latency_ms' must be inside an aggregate, e.g. "
                          "avg(latency_ms) or last(latency_ms)",
                          "r.yaml:13:12: a metric's value needs at least one aggregate, e.g. "
                          "count()"));
}

TEST(RuleLoaderDiagnosticsTest, UnknownMetricInAlert) {
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: latency_p99 > 10000
)yaml")),
              ElementsAre("r.yaml:9:11: unknown metric 'latency_p99'; did you mean "
                          "'latency_p99_ms'?"));
}

TEST(RuleLoaderDiagnosticsTest, BadSeverityAndDurations) {
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P5
    expr: latency_p99_ms > 10000
    for: 5x
    keep_firing_for: soon
)yaml")),
              ElementsAre("r.yaml:8:15: severity 'P5' must be one of P1, P2, P3, P4",
                          "r.yaml:10:10: bad duration '5x' for 'for' (e.g. 0, 30s, 5m, 1h)",
                          "r.yaml:11:22: bad duration 'soon' for 'keep_firing_for' (e.g. 0, "
                          "30s, 5m, 1h)"));
}

TEST(RuleLoaderTest, RunbookIsAnAliasOfRunbookUrl) {
  RuleLoadResult r = Load(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: latency_p99_ms > 10000
    annotations:
      runbook: https://runbooks.example/a
)yaml"));
  ASSERT_TRUE(r.ok()) << Joined([&] {
    std::vector<std::string> e;
    for (const Diagnostic& d : r.errors) e.push_back(d.ToString());
    return e;
  }());
  ASSERT_EQ(r.rules->alerts[0].annotations.size(), 1u);
  EXPECT_EQ(r.rules->alerts[0].annotations[0].first, "runbook_url");
  EXPECT_EQ(r.rules->alerts[0].annotations[0].second.Render(0, {}), "https://runbooks.example/a");

  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: latency_p99_ms > 10000
    annotations:
      runbook_url: https://runbooks.example/a
      runbook: https://runbooks.example/b
)yaml")),
              ElementsAre("r.yaml:12:7: 'runbook' is an alias of 'runbook_url'; give only one "
                          "of them"));
}

TEST(RuleLoaderDiagnosticsTest, TemplateWithUnknownLabel) {
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: latency_p99_ms > 10000
    annotations:
      summary: "p99 {{ $labels.intent }} high"
      other: {{ $value | humanise }}
)yaml")),
              ElementsAre("r.yaml:11:24: label 'intent' is not among this alert's labels "
                          "(alertname, severity)",
                          "r.yaml:12:14: an annotation must be a string; YAML reads an "
                          "unquoted '{{ ... }}' as a mapping: put the template in quotes"));
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: latency_p99_ms > 10000
    annotations:
      summary: p99 {{ $value | humanise }}
)yaml")),
              ElementsAre("r.yaml:11:32: unknown function 'humanise'; did you mean "
                          "'humanize'?"));
}

TEST(RuleLoaderDiagnosticsTest, DuplicateMetricNamesTheFirstDefinition) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    window: tumbling 1m
    value: count()
  - metric: m
    window: tumbling 5m
    value: count()
)yaml"),
              ElementsAre("r.yaml:5:13: metric 'm' is already defined at r.yaml:2:13"));

  RuleLoadResult across =
      LoadRuleSources({{"a.yaml", std::string(kP99Metric)}, {"b.yaml", std::string(kP99Metric)}});
  ASSERT_EQ(across.errors.size(), 1u);
  EXPECT_EQ(across.errors[0].ToString(),
            "b.yaml:2:13: metric 'latency_p99_ms' is already defined at a.yaml:2:13");
}

TEST(RuleLoaderDiagnosticsTest, AlertOverMetricsGroupedDifferently) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: a
    window: tumbling 1m
    by: [intent]
    value: count()
  - metric: b
    window: tumbling 1m
    value: count()
alerts:
  - alert: X
    severity: P1
    expr: a > 1 and b > 1
)yaml"),
              ElementsAre("r.yaml:12:11: metrics 'a' (by [intent]) and 'b' (by []) group "
                          "differently; an alert compares one group's values"));
}

TEST(RuleLoaderDiagnosticsTest, ResolveExpression) {
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: latency_p99_ms > 10000
    resolve: latency_p99_ms <
)yaml")),
              ElementsAre("r.yaml:10:30: expected an expression"));
  EXPECT_THAT(Errors(WithP99(R"yaml(  - metric: by_intent
    window: tumbling 1m
    by: intent
    value: count()
alerts:
  - alert: A
    severity: P1
    expr: latency_p99_ms > 10000
    resolve: by_intent < 1
)yaml")),
              ElementsAre("r.yaml:13:11: metrics 'latency_p99_ms' (by []) and 'by_intent' (by "
                          "[intent]) group differently; an alert compares one group's values"));
}

TEST(RuleLoaderDiagnosticsTest, AllErrorsOfAFileAreReported) {
  std::vector<std::string> errors = Errors(R"yaml(metrics:
  - metric: m
    wher: type == "message"
    window: tumbling 1m
    value: count()
  - metric: n
    window: tumbling 5x
    value: count()
  - metric: o
    window: tumbling 1m
    value: p99(latency_ms)
alerts:
  - alert: A
    severity: P5
    expr: m > 1
  - alert: B
    severity: P1
    expr: m >
  - alert: C
    severity: P1
    expr: m > 1
    annotations:
      summary: "{{ $labels.intent }}"
)yaml");
  EXPECT_THAT(errors,
              ElementsAre("r.yaml:3:5: unknown field 'wher' in metric; did you mean 'where'?",
                          "r.yaml:7:13: bad duration '5x' (expected e.g. 30s, 5m, 1h, 1d)",
                          "r.yaml:11:12: unknown function 'p99'; did you mean quantile(0.99, x)?",
                          "r.yaml:14:15: severity 'P5' must be one of P1, P2, P3, P4",
                          "r.yaml:18:14: expected an expression",
                          "r.yaml:23:20: label 'intent' is not among this alert's labels "
                          "(alertname, severity)"));
}

TEST(RuleLoaderDiagnosticsTest, StructuralErrors) {
  EXPECT_THAT(Errors("- metric: m\n"),
              ElementsAre("r.yaml:1:1: a rule file is a mapping with 'metrics' and 'alerts'"));
  EXPECT_THAT(Errors("metrics: 5\n"), ElementsAre("r.yaml:1:10: 'metrics' must be a list"));
  EXPECT_THAT(Errors("metrics:\n  - just a string\n"),
              ElementsAre("r.yaml:2:5: each entry of 'metrics' must be a mapping with 'metric', "
                          "'window' and 'value'"));
  EXPECT_THAT(Errors("streams:\n  - stream: sessions\n"),
              ElementsAre("r.yaml:2:5: a stream needs a 'key' field",
                          "r.yaml:2:5: a stream needs a 'window' field"));
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: 9lives
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:2:13: metric name '9lives' must be letters, digits and '_' "
                          "(not starting with a digit)"));
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: "and"
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:2:13: metric name 'and' is a word of the expression language "
                          "(true, false, null, and, or, not, in): no expression could name it"));
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    window: tumbling 1m
    by: [1 + 2]
    value: count()
)yaml"),
              ElementsAre("r.yaml:4:10: '1 + 2' is not a field path (e.g. intent, meta.region)"));
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: latency_p99_ms > 1
    labels:
      severity: P3
      bad-name: x
)yaml")),
              ElementsAre("r.yaml:11:7: label 'severity' is set by vigil and cannot be overridden",
                          "r.yaml:12:7: bad label name 'bad-name'"));
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    expr: latency_p99_ms > 1
)yaml")),
              ElementsAre("r.yaml:7:5: an alert needs a 'severity' field"));
}

TEST(RuleLoaderDiagnosticsTest, DiagnosticToString) {
  Diagnostic d{{"f.yaml", 3, 7}, "something odd", true};
  EXPECT_EQ(d.ToString(), "f.yaml:3:7: warning: something odd");
  d.warning = false;
  EXPECT_EQ(d.ToString(), "f.yaml:3:7: something odd");
  d.pos.line = 0;
  EXPECT_EQ(d.ToString(), "f.yaml: something odd");
}

}  // namespace
}  // namespace vigil
