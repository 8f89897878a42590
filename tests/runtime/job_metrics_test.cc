#include "runtime/job_metrics.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rules/rule_set.h"
#include "runtime/prometheus_text.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

std::unique_ptr<RuleSet> Rules() {
  RuleLoadResult loaded = LoadRuleSources({{"rules.yaml", R"(
metrics:
  - metric: messages
    window: tumbling 1m
    value: count()
)"}});
  EXPECT_TRUE(loaded.ok());
  return std::move(loaded.rules);
}

// The value of one sample line of the exposition, e.g.
// `vigil_dead_letter_total{reason="late"}`; -1 when it is not there.
double Sample(const JobMetrics& m, const std::string& series) {
  const std::string text = PrometheusText(m.registry()->Collect());
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

// /metrics shows the job's one counter set: whatever the counters say,
// including totals restored from a checkpoint, and never goes backwards.
TEST(JobMetricsTest, CountersShowTheJobCounters) {
  std::unique_ptr<RuleSet> rules = Rules();
  JobMetrics m(*rules);
  EXPECT_EQ(Sample(m, "vigil_events_processed_total"), 0);

  JobCounters c;  // as restored: totals of the runs before
  c.records = 1000;
  c.processed = 990;
  c.windows = 12;
  c.DeadLetter(DeadReason::kLate);
  c.DeadLetter(DeadReason::kMalformedJson);
  m.SetCounters(c);
  EXPECT_EQ(Sample(m, "vigil_events_in_total"), 1000);
  EXPECT_EQ(Sample(m, "vigil_events_processed_total"), 990);
  EXPECT_EQ(Sample(m, "vigil_window_results_total"), 12);
  EXPECT_EQ(Sample(m, "vigil_late_events_total"), 1);
  EXPECT_EQ(Sample(m, "vigil_dead_letter_total{reason=\"late\"}"), 1);
  EXPECT_EQ(Sample(m, "vigil_dead_letter_total{reason=\"malformed_json\"}"), 1);
  EXPECT_EQ(Sample(m, "vigil_dead_letter_total{reason=\"bad_ts\"}"), 0);

  c.records += 24;
  c.processed += 23;
  c.DeadLetter(DeadReason::kLate);
  m.SetCounters(c);
  m.SetCounters(c);  // twice: no double counting
  EXPECT_EQ(Sample(m, "vigil_events_in_total"), 1024);
  EXPECT_EQ(Sample(m, "vigil_events_processed_total"), 1013);
  EXPECT_EQ(Sample(m, "vigil_late_events_total"), 2);
  EXPECT_EQ(Sample(m, "vigil_dead_letter_total{reason=\"late\"}"), 2);

  m.SetCounters(JobCounters{});  // a counter never goes backwards
  EXPECT_EQ(Sample(m, "vigil_events_in_total"), 1024);
}

// No timestamp of 1970: a metric's window end appears with its first
// window; the watermark lag is never negative, even with event time ahead
// of the clock (the demo's accelerated generator).
TEST(JobMetricsTest, NoZeroTimestampsAndNoNegativeLag) {
  std::unique_ptr<RuleSet> rules = Rules();
  JobMetrics m(*rules);
  const std::string end = "vigil_metric_window_end_timestamp_seconds{metric=\"messages\"}";
  EXPECT_EQ(Sample(m, end), -1);
  m.SetWatermark(kMinTime, 1'767'225'630'000);  // nothing read yet
  EXPECT_EQ(Sample(m, "vigil_watermark_timestamp_seconds"), -1);
  EXPECT_EQ(Sample(m, "vigil_watermark_lag_seconds"), -1);
  WindowResult r;
  r.metric = 0;
  r.def = rules->metrics.data();
  r.end = 1'767'225'660'000;  // 2026-01-01T00:01:00Z
  r.value = 3;
  m.SetWindows({r});
  EXPECT_EQ(Sample(m, end), 1'767'225'660);
  EXPECT_EQ(Sample(m, "vigil_metric_messages"), 3);

  m.SetWatermark(1'767'225'600'000, 1'767'225'630'000);  // 30 s behind
  EXPECT_EQ(Sample(m, "vigil_watermark_lag_seconds"), 30);
  m.SetWatermark(1'767'229'200'000, 1'767'225'630'000);  // an hour ahead
  EXPECT_EQ(Sample(m, "vigil_watermark_lag_seconds"), 0);
  EXPECT_EQ(Sample(m, "vigil_watermark_timestamp_seconds"), 1'767'229'200);
}

// `unit: milliseconds`: the metric is on /metrics under its base-unit name,
// in seconds; its window end keeps the rule's name.
TEST(JobMetricsTest, AMetricWithAUnitIsExportedInTheBaseUnit) {
  RuleLoadResult loaded = LoadRuleSources({{"rules.yaml", R"(
metrics:
  - metric: latency_p99_ms
    unit: milliseconds
    window: tumbling 1m
    value: quantile(0.99, latency_ms)
)"}});
  ASSERT_TRUE(loaded.ok());
  JobMetrics m(*loaded.rules);
  WindowResult r;
  r.metric = 0;
  r.def = loaded.rules->metrics.data();
  r.end = 1'767'225'660'000;
  r.value = 12'500;
  m.SetWindows({r});
  EXPECT_EQ(Sample(m, "vigil_metric_latency_p99_seconds"), 12.5);
  EXPECT_EQ(Sample(m, "vigil_metric_latency_p99_ms"), -1);
  EXPECT_EQ(Sample(m, "vigil_metric_window_end_timestamp_seconds{metric=\"latency_p99_ms\"}"),
            1'767'225'660);
}

// Each metric shows the series of its latest complete window: a group with
// no event in it is removed (its last count is not the current one), and a
// partial window changes nothing.
TEST(JobMetricsTest, ASeriesWithoutAResultInTheLatestWindowIsRemoved) {
  RuleLoadResult loaded = LoadRuleSources({{"rules.yaml", R"(
metrics:
  - metric: turns
    window: tumbling 1m
    by: [intent]
    value: count()
)"}});
  ASSERT_TRUE(loaded.ok());
  JobMetrics m(*loaded.rules);
  auto result = [&](TimeMs end, const std::string& intent, double value, bool partial = false) {
    WindowResult r;
    r.metric = 0;
    r.def = loaded.rules->metrics.data();
    r.end = end;
    r.labels = {intent};
    r.value = value;
    r.partial = partial;
    return r;
  };
  const std::string end = "vigil_metric_window_end_timestamp_seconds{metric=\"turns\"}";
  const std::string shop = "vigil_metric_turns{intent=\"shop\"}";
  const std::string faq = "vigil_metric_turns{intent=\"faq\"}";
  m.SetWindows({result(60'000, "shop", 1), result(60'000, "faq", 4)});
  EXPECT_EQ(Sample(m, shop), 1);
  EXPECT_EQ(Sample(m, faq), 4);
  EXPECT_EQ(Sample(m, end), 60);

  m.SetWindows({result(120'000, "faq", 2)});  // no shop turn in the second minute
  EXPECT_EQ(Sample(m, shop), -1);
  EXPECT_EQ(Sample(m, faq), 2);
  EXPECT_EQ(Sample(m, end), 120);

  // Several windows in one close: only the latest counts.
  m.SetWindows({result(180'000, "shop", 7), result(240'000, "faq", 3)});
  EXPECT_EQ(Sample(m, shop), -1);
  EXPECT_EQ(Sample(m, faq), 3);
  EXPECT_EQ(Sample(m, end), 240);

  m.SetWindows({result(300'000, "shop", 9, /*partial=*/true)});
  EXPECT_EQ(Sample(m, shop), -1);
  EXPECT_EQ(Sample(m, faq), 3);
  EXPECT_EQ(Sample(m, end), 240);
}

// An experiment's outputs are current together: a window with events of
// the experiment that has no comparison (its control arm lost its units)
// removes the older comparison's series of every experiment_* metric; an
// experiment without events in the window keeps its last values.
TEST(JobMetricsTest, AnExperimentsOutputsAreCurrentTogether) {
  RuleLoadResult loaded = LoadRuleSources({{"rules.yaml", loader_test::TwoExperiments()}});
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].ToString();
  const RuleSet& rules = *loaded.rules;
  JobMetrics m(rules);
  auto result = [&](const char* metric, TimeMs end, std::vector<std::string> labels, double value) {
    WindowResult r;
    r.metric = *rules.FindMetric(metric);
    r.def = &rules.metrics[r.metric];
    r.end = end;
    r.labels = std::move(labels);
    r.value = value;
    return r;
  };
  constexpr TimeMs kHour = 3'600'000;
  const std::string e1_units = "vigil_metric_experiment_units{arm=\"c\",experiment=\"e1\"}";
  const std::string e1_value =
      "vigil_metric_experiment_value{arm=\"c\",experiment=\"e1\",metric=\"good\"}";
  const std::string e2_value =
      "vigil_metric_experiment_value{arm=\"c\",experiment=\"e2\",metric=\"good\"}";
  m.SetWindows({result("experiment_units", kHour, {"e1", "c"}, 2),
                result("experiment_value", kHour, {"e1", "good", "c"}, 0.5),
                result("experiment_units", kHour, {"e2", "c"}, 3),
                result("experiment_value", kHour, {"e2", "good", "c"}, 0.25)});
  EXPECT_EQ(Sample(m, e1_value), 0.5);
  EXPECT_EQ(Sample(m, e2_value), 0.25);
  // The second hour: e1's control units crossed over (no comparison), e2
  // had no event.
  m.SetWindows({result("experiment_units", 2 * kHour, {"e1", "c"}, 0)});
  EXPECT_EQ(Sample(m, e1_units), 0);
  EXPECT_EQ(Sample(m, e1_value), -1);
  EXPECT_EQ(Sample(m, e2_value), 0.25);
  EXPECT_EQ(Sample(m, "vigil_metric_experiment_units{arm=\"c\",experiment=\"e2\"}"), 3);
}

}  // namespace
}  // namespace vigil
