// Names on /metrics (rules/metric_names.h): the `unit:` mapping, the
// naming problems Prometheus' lint finds, and the `vigil check` warning
// with the unit that fixes it.
#include "rules/metric_names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rules/lint.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using loader_test::Load;
using ::testing::ElementsAre;

TEST(MetricNamesTest, AUnitGivesTheBaseUnitNameAndScale) {
  struct Case {
    const char* metric;
    MetricUnit unit;
    const char* name;
    double scale;
  };
  for (const Case& c : {
           Case{"latency_p99_ms", MetricUnit::kMilliseconds, "vigil_metric_latency_p99_seconds",
                0.001},
           Case{"latency_ms_p99", MetricUnit::kMilliseconds, "vigil_metric_latency_p99_seconds",
                0.001},
           Case{"duration", MetricUnit::kMilliseconds, "vigil_metric_duration_seconds", 0.001},
           Case{"session_length_s", MetricUnit::kSeconds, "vigil_metric_session_length_seconds", 1},
           Case{"wait_seconds", MetricUnit::kSeconds, "vigil_metric_wait_seconds", 1},
           Case{"payload_b", MetricUnit::kBytes, "vigil_metric_payload_bytes", 1},
           Case{"error_ratio", MetricUnit::kRatio, "vigil_metric_error_ratio", 1},
           Case{"error_rate", MetricUnit::kRatio, "vigil_metric_error_rate_ratio", 1},
           Case{"latency_p99_ms", MetricUnit::kNone, "vigil_metric_latency_p99_ms", 1},
       }) {
    const ExportedName e = ExportName(c.metric, c.unit);
    EXPECT_EQ(e.name, c.name) << c.metric;
    EXPECT_EQ(e.scale, c.scale) << c.metric;
  }
  EXPECT_EQ(ParseMetricUnit("milliseconds"), MetricUnit::kMilliseconds);
  EXPECT_EQ(ParseMetricUnit("ms"), std::nullopt);
}

TEST(MetricNamesTest, TheProblemsPrometheusLintFinds) {
  EXPECT_TRUE(PrometheusNameProblems("vigil_metric_latency_p99_seconds").empty());
  EXPECT_TRUE(PrometheusNameProblems("vigil_metric_slo_chat_burn_rate_5m").empty());
  EXPECT_THAT(PrometheusNameProblems("vigil_metric_latency_p99_ms"),
              ElementsAre("abbreviated unit 'ms'"));
  EXPECT_THAT(PrometheusNameProblems("vigil_metric_feedback_count"),
              ElementsAre("'_count' is reserved for histograms and summaries"));
  EXPECT_THAT(PrometheusNameProblems("vigil_metric_queue_kb_total"),
              ElementsAre("abbreviated unit 'kb'", "'_total' is reserved for counters"));
  EXPECT_THAT(PrometheusNameProblems("vigil_metric_wait_minutes"),
              ElementsAre("use the base unit 'seconds', not 'minutes'"));
  EXPECT_THAT(PrometheusNameProblems("vigil_metric_latency_bucket"),
              ElementsAre("'_bucket' is reserved for histograms"));
}

std::vector<std::string> Warnings(std::string_view yaml) {
  RuleLoadResult r = Load(yaml);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  std::vector<std::string> out;
  if (r.rules == nullptr) return out;
  for (const Diagnostic& d : LintRules(*r.rules)) out.push_back(d.ToString());
  return out;
}

TEST(MetricNamesTest, CheckWarnsWithTheUnitThatFixesTheName) {
  EXPECT_THAT(
      Warnings(R"yaml(metrics:
  - metric: latency_p99_ms
    export: true
    window: tumbling 1m
    value: quantile(0.99, latency_ms)
  - metric: latency_p95_ms
    export: true
    unit: milliseconds
    window: tumbling 1m
    value: quantile(0.95, latency_ms)
  - metric: feedback_count
    export: true
    window: tumbling 1m
    value: count()
)yaml"),
      ElementsAre("r.yaml:2:13: warning: metric 'latency_p99_ms' is exported as "
                  "vigil_metric_latency_p99_ms, against Prometheus naming (promtool check "
                  "metrics): abbreviated unit 'ms'; add 'unit: milliseconds' to export it as "
                  "vigil_metric_latency_p99_seconds",
                  "r.yaml:11:13: warning: metric 'feedback_count' is exported as "
                  "vigil_metric_feedback_count, against Prometheus naming (promtool check "
                  "metrics): '_count' is reserved for histograms and summaries; rename the "
                  "metric"));
}

TEST(MetricNamesTest, AnUnknownUnitIsAnError) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: latency
    unit: ms
    window: tumbling 1m
    value: avg(latency_ms)
)yaml"),
              ElementsAre("r.yaml:3:11: unit 'ms' is not one of milliseconds, seconds, bytes, "
                          "ratio (the unit of the metric's values, exported in its base unit)"));
}

// Two metrics under one name on /metrics would overwrite each other's
// series there: an error at the second, naming the first.
TEST(MetricNamesTest, TwoMetricsUnderOneNameOnMetricsAreAnError) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: lat_ms
    unit: milliseconds
    window: tumbling 1m
    value: max(latency_ms)
  - metric: lat_seconds
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:6:13: metric 'lat_seconds' is vigil_metric_lat_seconds on "
                          "/metrics, as metric 'lat_ms' (r.yaml:2) is: each would overwrite the "
                          "other's series there; rename one"));
}

TEST(MetricNamesTest, ARuleMetricCannotTakeTheWindowEndGaugesName) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: window_end_timestamp_seconds
    window: tumbling 1m
    value: count()
  - metric: window_end_timestamp
    unit: seconds
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:2:13: metric 'window_end_timestamp_seconds' is "
                          "vigil_metric_window_end_timestamp_seconds on /metrics, the name of "
                          "vigil's own gauge of every metric's latest window end; rename it",
                          "r.yaml:5:13: metric 'window_end_timestamp' is "
                          "vigil_metric_window_end_timestamp_seconds on /metrics, the name of "
                          "vigil's own gauge of every metric's latest window end; rename it"));
}

}  // namespace
}  // namespace vigil
