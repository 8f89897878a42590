// How alerts are shown (rules/alert_display.h): the threshold found in an
// expression, the format of values (from the summary, else the unit), and
// the formatted text, which matches what the summary template prints.
#include "rules/alert_display.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Load;

constexpr char kMetrics[] = R"(
metrics:
  - metric: latency_p99_ms
    window: tumbling 1m
    unit: milliseconds
    value: quantile(0.99, latency_ms)
  - metric: error_rate
    window: tumbling 5m
    value: ratio(error_service != null)
  - metric: cache_ratio
    window: tumbling 5m
    unit: ratio
    value: ratio(cache_hit)
  - metric: wait_s
    window: tumbling 5m
    unit: seconds
    value: avg(latency_ms)
  - metric: payload
    window: tumbling 5m
    unit: bytes
    value: sum(latency_ms)
  - metric: turns
    window: tumbling 5m
    value: count()
)";

std::unique_ptr<RuleSet> Rules(const std::string& alerts) {
  RuleLoadResult r = Load(std::string(kMetrics) + "alerts:\n" + alerts);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  return std::move(r.rules);
}

TEST(AlertDisplayTest, TheThresholdIsTheFirstComparisonOfAMetricWithANumber) {
  struct Case {
    const char* expr;
    const char* metric;  // nullptr: no threshold
    const char* op;
    double value;
  };
  for (const Case& c : {
           Case{"latency_p99_ms > 10000", "latency_p99_ms", ">", 10000},
           Case{"error_rate >= 0.05 and turns > 100", "error_rate", ">=", 0.05},
           Case{"turns > 100 and error_rate >= 0.05", "turns", ">", 100},
           Case{"0.5 > cache_ratio", "cache_ratio", "<", 0.5},
           Case{"-1 <= turns", "turns", ">=", -1},
           Case{"turns == 1", "turns", "==", 1},
           Case{"zscore(error_rate, 1h) > 3 and error_rate > 0.05", "error_rate", ">", 0.05},
           Case{"(error_rate > 0.1 or turns < 3)", "error_rate", ">", 0.1},
           Case{"error_rate * 100 > 5", nullptr, "", 0},
           Case{"declining(turns, 3)", nullptr, "", 0},
           Case{"error_rate > cache_ratio", nullptr, "", 0},
       }) {
    std::unique_ptr<RuleSet> rules =
        Rules(std::string("  - alert: A\n    severity: P2\n    expr: ") + c.expr + "\n");
    ASSERT_NE(rules, nullptr) << c.expr;
    std::optional<AlertThreshold> t = FindThreshold(*rules, rules->alerts[0]);
    if (c.metric == nullptr) {
      EXPECT_FALSE(t.has_value()) << c.expr;
      continue;
    }
    ASSERT_TRUE(t.has_value()) << c.expr;
    EXPECT_EQ(rules->metrics[t->metric].name, c.metric) << c.expr;
    EXPECT_EQ(t->op, c.op) << c.expr;
    EXPECT_EQ(t->value, c.value) << c.expr;
  }
}

TEST(AlertDisplayTest, AlertsShowValuesAsTheirSummaryElseAsTheUnit) {
  std::unique_ptr<RuleSet> rules = Rules(R"(
  - alert: Errors
    severity: P1
    expr: error_rate > 0.05
    annotations:
      summary: "{{ $value | humanizePercentage }} failing"
  - alert: Slow
    severity: P1
    expr: latency_p99_ms > 10000
    annotations:
      summary: "p99 {{ $value }} ms"
  - alert: Waits
    severity: P2
    expr: turns > 3 and wait_s > 1
    annotations:
      summary: "waiting {{ humanizeDuration $value }}"
  - alert: Cache
    severity: P3
    expr: cache_ratio < 0.5
  - alert: Trend
    severity: P4
    expr: declining(error_rate, 3)
)");
  ASSERT_NE(rules, nullptr);
  const DisplayFormats f = DisplayFormats::Of(*rules);
  auto metric = [&](const char* name) { return f.metric[*rules->FindMetric(name)]; };
  EXPECT_EQ(metric("latency_p99_ms"), ValueFormat::kMilliseconds);  // unit
  EXPECT_EQ(metric("error_rate"), ValueFormat::kPercent);           // no unit: its alert's summary
  EXPECT_EQ(metric("cache_ratio"), ValueFormat::kPercent);
  EXPECT_EQ(metric("wait_s"), ValueFormat::kSeconds);
  EXPECT_EQ(metric("payload"), ValueFormat::kBytes);
  // turns is the $value of Waits, whose summary formats a duration: the
  // summary speaks of the alert, a metric with no unit keeps it too.
  EXPECT_EQ(metric("turns"), ValueFormat::kSeconds);
  ASSERT_EQ(f.alert.size(), 5u);
  EXPECT_EQ(f.alert[0], ValueFormat::kPercent);
  EXPECT_EQ(f.alert[1], ValueFormat::kMilliseconds);  // summary prints it raw: the unit
  EXPECT_EQ(f.alert[2], ValueFormat::kSeconds);
  EXPECT_EQ(f.alert[3], ValueFormat::kPercent);
  EXPECT_EQ(f.alert[4], ValueFormat::kNumber);  // declining(): a condition, no metric value
  EXPECT_EQ(ValueMetric(rules->alerts[4]), -1);
  EXPECT_EQ(ValueMetric(rules->alerts[0]), *rules->FindMetric("error_rate"));
}

TEST(AlertDisplayTest, FormattedValuesMatchTheTemplateFunctions) {
  EXPECT_EQ(FormatValue(0.0712, ValueFormat::kPercent), "7.12%");
  EXPECT_EQ(FormatValue(0.05, ValueFormat::kPercent), "5%");
  EXPECT_EQ(FormatValue(2500, ValueFormat::kMilliseconds), "2.5s");
  EXPECT_EQ(FormatValue(250, ValueFormat::kMilliseconds), "250ms");
  EXPECT_EQ(FormatValue(90, ValueFormat::kSeconds), "1m 30s");
  EXPECT_EQ(FormatValue(93784, ValueFormat::kSeconds), "1d 2h 3m 4s");
  EXPECT_EQ(FormatValue(1536, ValueFormat::kBytes), "1.5kiB");
  EXPECT_EQ(FormatValue(12, ValueFormat::kNumber), "12");
  EXPECT_EQ(FormatValue(-3, ValueFormat::kNumber), "-3");
  EXPECT_EQ(FormatValue(0.123456, ValueFormat::kNumber), "0.1235");
  EXPECT_EQ(FormatValue(NAN, ValueFormat::kNumber), "NaN");
  EXPECT_EQ(FormatValue(-INFINITY, ValueFormat::kNumber), "-Inf");
  EXPECT_EQ(FormatValue(NAN, ValueFormat::kPercent), "NaN%");
  EXPECT_EQ(ValueFormatName(ValueFormat::kMilliseconds), "milliseconds");
}

}  // namespace
}  // namespace vigil
