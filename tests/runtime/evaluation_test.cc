#include "runtime/evaluation.h"

#include <gtest/gtest.h>

#include <tuple>

#include "base/strings.h"
#include "runtime/prometheus_text.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

// Every window and alert a sink is handed, in order.
class RecordingSink : public Sink {
 public:
  explicit RecordingSink(std::vector<std::string>* log) : log_(log) {}
  void OnWindow(const WindowResult& r) override {
    log_->push_back(StrCat("window ", r.def->name, "{", StrJoin(r.labels, ","), "} ",
                           FormatTimestamp(r.end), " ", r.value, r.partial ? " partial" : ""));
  }
  void OnAlert(const AlertNotice& n) override {
    log_->push_back(StrCat("alert ", n.def->name, " ", TransitionName(n.transition), " ",
                           FormatTimestamp(n.at)));
  }

 private:
  std::vector<std::string>* log_;
};

constexpr TimeMs kT = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

// An Evaluation whose one sink logs what it gets, with the metrics and
// counters it writes to.
struct Evaluated {
  explicit Evaluated(const RuleSet& rules) : metrics(rules) {
    sinks.push_back(std::make_unique<RecordingSink>(&log));
  }
  auto parts() { return std::tie(metrics, log, counters, eval); }
  JobMetrics metrics;
  std::vector<std::string> log;
  std::vector<std::unique_ptr<Sink>> sinks;
  JobCounters counters;
  Evaluation eval{{&metrics, &sinks, nullptr, &counters}};
};

// Results reach the sinks by window end, metric and group, each window
// before the alerts it causes; the counters count both.
TEST(EvaluationTest, WindowsReachTheSinksInOrderAndBeforeTheirAlerts) {
  OperatorHarness h(R"(
metrics:
  - metric: msgs
    where: type == "message"
    by: [intent]
    window: tumbling 1m
    value: count()
  - metric: all
    window: tumbling 1m
    value: count()
alerts:
  - alert: Busy
    severity: P3
    expr: msgs > 1
)");
  ASSERT_NE(h.rules, nullptr);
  Evaluated e(*h.rules);
  auto [metrics, log, counters, eval] = e.parts();

  h.Add(kT + 10'000, "\"intent\":\"faq\"");
  h.Add(kT + 20'000, "\"intent\":\"cart\"");
  h.Add(kT + 30'000, "\"intent\":\"faq\"");
  h.Add(kT + 70'000, "\"intent\":\"faq\"");
  EXPECT_TRUE(eval.Close(*h.flow, *h.alerts, kT + 60'000));
  EXPECT_EQ(log, (std::vector<std::string>{
                     "window msgs{cart} 2026-01-01T00:01:00.000Z 1",
                     "window msgs{faq} 2026-01-01T00:01:00.000Z 2",
                     "window all{} 2026-01-01T00:01:00.000Z 3",
                     "alert Busy firing 2026-01-01T00:01:00.000Z",
                 }));
  EXPECT_EQ(counters.windows, 3u);
  EXPECT_EQ(counters.firing_transitions, 1u);

  log.clear();
  EXPECT_TRUE(eval.Close(*h.flow, *h.alerts, kT + 120'000));
  EXPECT_EQ(log, (std::vector<std::string>{
                     "window msgs{faq} 2026-01-01T00:02:00.000Z 1",
                     "window all{} 2026-01-01T00:02:00.000Z 1",
                     "alert Busy resolved 2026-01-01T00:02:00.000Z",
                 }));
  EXPECT_EQ(counters.windows, 5u);
  EXPECT_EQ(counters.firing_transitions, 1u);

  log.clear();
  EXPECT_FALSE(eval.Close(*h.flow, *h.alerts, kT + 180'000));  // nothing left
  EXPECT_TRUE(log.empty());
}

// A firing alert's value is that of its latest evaluation: a close that
// evaluates complete windows says so even when no alert changes state, so
// that /api/alerts is published again with the new value.
TEST(EvaluationTest, AnEvaluationWithoutTransitionsStillAsksToPublishTheAlerts) {
  OperatorHarness h(R"(
metrics:
  - metric: n
    window: tumbling 1m
    value: count()
alerts:
  - alert: Busy
    severity: P3
    expr: n > 1
)");
  ASSERT_NE(h.rules, nullptr);
  Evaluated e(*h.rules);
  auto [metrics, log, counters, eval] = e.parts();
  for (TimeMs t : {10'000, 20'000, 30'000, 70'000, 80'000, 130'000}) h.Add(kT + t, "");
  EXPECT_TRUE(eval.Close(*h.flow, *h.alerts, kT + 60'000));
  ASSERT_EQ(h.alerts->ActiveAlerts().size(), 1u);
  EXPECT_EQ(h.alerts->Describe(h.alerts->ActiveAlerts()[0]).value, 3);
  log.clear();
  EXPECT_TRUE(eval.Close(*h.flow, *h.alerts, kT + 120'000));
  EXPECT_EQ(log, (std::vector<std::string>{"window n{} 2026-01-01T00:02:00.000Z 2"}));
  EXPECT_TRUE(eval.notices().empty());
  ASSERT_EQ(h.alerts->ActiveAlerts().size(), 1u);
  const AlertNotice now = h.alerts->Describe(h.alerts->ActiveAlerts()[0]);
  EXPECT_EQ(now.value, 2);
  EXPECT_EQ(now.at, kT + 120'000);
  // Only a partial window: nothing was evaluated.
  log.clear();
  EXPECT_FALSE(eval.Close(*h.flow, *h.alerts, kMaxTime, InputEnd{kT + 140'000}));
  EXPECT_EQ(log, (std::vector<std::string>{"window n{} 2026-01-01T00:03:00.000Z 1 partial"}));
}

// An inhibited alert released when its inhibitor resolves is sent then,
// but it fired once: the summary's count and vigil_alert_transitions_total
// count one firing, not two.
TEST(EvaluationTest, AReleaseIsSentButNotCountedAsASecondFiring) {
  OperatorHarness h(R"(
metrics:
  - metric: n
    window: tumbling 1m
    value: count()
alerts:
  - alert: Flood
    severity: P1
    expr: n > 2
  - alert: Busy
    severity: P3
    expr: n > 1
    inhibited_by: [Flood]
)");
  ASSERT_NE(h.rules, nullptr);
  Evaluated e(*h.rules);
  auto [metrics, log, counters, eval] = e.parts();
  for (TimeMs t : {10'000, 20'000, 30'000, 70'000, 80'000, 130'000}) h.Add(kT + t, "");
  EXPECT_TRUE(eval.Close(*h.flow, *h.alerts, kT + 60'000));
  EXPECT_TRUE(eval.Close(*h.flow, *h.alerts, kT + 120'000));
  EXPECT_EQ(log, (std::vector<std::string>{
                     "window n{} 2026-01-01T00:01:00.000Z 3",
                     "alert Flood firing 2026-01-01T00:01:00.000Z",
                     "alert Busy firing 2026-01-01T00:01:00.000Z",
                     "window n{} 2026-01-01T00:02:00.000Z 2",
                     "alert Flood resolved 2026-01-01T00:02:00.000Z",
                     "alert Busy firing 2026-01-01T00:02:00.000Z",
                 }));
  EXPECT_EQ(counters.firing_transitions, 2u);
  const std::string text = PrometheusText(metrics.registry()->Collect());
  EXPECT_NE(text.find("vigil_alert_transitions_total{severity=\"P3\",state=\"firing\"} 1\n"),
            std::string::npos)
      << text;
}

// A window the ended input does not cover reaches the sinks marked
// partial, and neither /metrics nor an alert sees it: once the input ended
// at 00:02:10, the minute and the hour it only began.
TEST(EvaluationTest, PartialWindowsAreMarkedAndNeverAlert) {
  OperatorHarness h(R"(
metrics:
  - metric: msgs
    where: type == "message"
    window: tumbling 1m
    value: count()
  - metric: hourly
    window: tumbling 1h
    value: count()
alerts:
  - alert: Busy
    severity: P3
    expr: msgs > 1
  - alert: BusyHour
    severity: P3
    expr: hourly > 0
)");
  ASSERT_NE(h.rules, nullptr);
  Evaluated e(*h.rules);
  auto [metrics, log, counters, eval] = e.parts();
  for (TimeMs at : {10'000, 20'000, 70'000, 80'000, 130'000}) h.Add(kT + at, "");

  // Before the end, nothing is partial.
  EXPECT_TRUE(eval.Close(*h.flow, *h.alerts, kT + 120'000, InputEnd{}));
  EXPECT_EQ(log, (std::vector<std::string>{
                     "window msgs{} 2026-01-01T00:01:00.000Z 2",
                     "window msgs{} 2026-01-01T00:02:00.000Z 2",
                     "alert Busy firing 2026-01-01T00:01:00.000Z",
                 }));
  // An init-capture: clang 14 cannot capture a structured binding.
  const auto window_end = [&m = metrics] {
    const std::string text = PrometheusText(m.registry()->Collect());
    const size_t at = text.find("vigil_metric_window_end_timestamp_seconds{metric=\"msgs\"}");
    return at == std::string::npos ? std::string() : text.substr(at, text.find('\n', at) - at);
  };
  EXPECT_EQ(window_end(), "vigil_metric_window_end_timestamp_seconds{metric=\"msgs\"} 1767225720");

  // The input ends at 00:02:10: the minute to 00:03 and the hour are only
  // begun. Busy neither resolves on the short minute nor does BusyHour fire.
  log.clear();
  EXPECT_FALSE(eval.Close(*h.flow, *h.alerts, kMaxTime, InputEnd{kT + 130'000}));
  EXPECT_EQ(log, (std::vector<std::string>{
                     "window msgs{} 2026-01-01T00:03:00.000Z 1 partial",
                     "window hourly{} 2026-01-01T01:00:00.000Z 5 partial",
                 }));
  EXPECT_EQ(counters.windows, 4u);  // partial ones count as closed
  EXPECT_EQ(window_end(), "vigil_metric_window_end_timestamp_seconds{metric=\"msgs\"} 1767225720");
  ASSERT_EQ(h.alerts->ActiveAlerts().size(), 1u);
  EXPECT_EQ(h.alerts->ActiveAlerts()[0].def->name, "Busy");
}

// The same input with --close-partial-windows: every window counts.
TEST(EvaluationTest, ClosingPartialWindowsTreatsThemAsComplete) {
  OperatorHarness h(R"(
metrics:
  - metric: hourly
    window: tumbling 1h
    value: count()
alerts:
  - alert: BusyHour
    severity: P3
    expr: hourly > 0
)");
  ASSERT_NE(h.rules, nullptr);
  Evaluated e(*h.rules);
  auto [metrics, log, counters, eval] = e.parts();
  h.Add(kT + 10'000, "");
  EXPECT_TRUE(eval.Close(*h.flow, *h.alerts, kMaxTime, InputEnd{}));
  EXPECT_EQ(log, (std::vector<std::string>{
                     "window hourly{} 2026-01-01T01:00:00.000Z 1",
                     "alert BusyHour firing 2026-01-01T01:00:00.000Z",
                 }));
}

TEST(EvaluationTest, InputEndCovers) {
  const InputEnd ended{5000};
  EXPECT_TRUE(ended.Covers(5001));  // [.., 5001) holds the last event, at 5000
  EXPECT_FALSE(ended.Covers(5002));
  EXPECT_TRUE(InputEnd{}.Covers(kMaxTime));  // not ended
}

}  // namespace
}  // namespace vigil
