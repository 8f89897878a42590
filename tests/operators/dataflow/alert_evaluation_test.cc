// When an alert is evaluated: at the window ends of the first metric its
// expression names, with the latest windows of the others.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr TimeMs kMin = 60'000;

// Two metrics over the same messages, a 1-minute and a 5-minute window.
const std::string kMetrics = R"(
metrics:
  - metric: q
    where: type == "message"
    window: tumbling 1m
    value: max(latency_ms)
  - metric: p5
    where: type == "message"
    window: tumbling 5m
    value: max(latency_ms)
alerts:
)";

// The transitions up to `frontier`, as "minute state alert(value
// resolved_value)".
std::vector<std::string> TransitionsUpTo(OperatorHarness& h, TimeMs frontier) {
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(frontier, &results, &notices);
  std::vector<std::string> out;
  for (const AlertNotice& n : notices) {
    out.push_back(StrCat(n.at / kMin, " ", TransitionName(n.transition), " ", n.def->name, "(",
                         n.value, n.resolved_value ? StrCat(" ", *n.resolved_value) : std::string(),
                         ")"));
  }
  return out;
}

// A message every 30 s: 2000 ms up to minute 20, then 100 ms up to minute
// 30; the transitions up to minute 30.
std::vector<std::string> Transitions(const std::string& alerts) {
  OperatorHarness h(kMetrics + alerts);
  if (h.rules == nullptr) return {};
  for (TimeMs t = 0; t < 30 * kMin; t += 30'000) {
    h.Add(t, StrCat("\"latency_ms\":", t < 20 * kMin ? 2000 : 100));
  }
  return TransitionsUpTo(h, 30 * kMin);
}

TEST(AlertEvaluationTest, ALongerFirstWindowIsTheEvaluationInterval) {
  // Evaluated at 5, 10, 15, 20 and 25 only: the window of 20-25 is the
  // first false one. It does not resolve at 21, where q fell but p5's
  // window still says 2000.
  EXPECT_EQ(Transitions(R"(
  - alert: PQ
    severity: P2
    expr: p5 > 1000 and q > 1000
    for: 10m
)"),
            (std::vector<std::string>{"5 pending PQ(2000)", "10 firing PQ(2000)",
                                      "25 resolved PQ(2000 100)"}));
}

TEST(AlertEvaluationTest, AShorterFirstWindowReadsTheOthersLatestWindow) {
  // Evaluated every minute; p5 has no window before 5, then its window of
  // 0-5 holds until 10. Pending at 5 (held 1m), firing at 7 (held 3m),
  // resolved at 21, the first minute of 100 ms.
  EXPECT_EQ(Transitions(R"(
  - alert: QP
    severity: P2
    expr: q > 1000 and p5 > 1000
    for: 3m
)"),
            (std::vector<std::string>{"5 pending QP(2000)", "7 firing QP(2000)",
                                      "21 resolved QP(2000 100)"}));
}

// One message a minute (at :30) with these latencies, none where the value
// is negative; the transitions up to the end of the last minute.
std::vector<std::string> MinuteTransitions(const std::string& alerts,
                                           const std::vector<int>& minutes) {
  OperatorHarness h(kMetrics + alerts);
  if (h.rules == nullptr) return {};
  const TimeMs n = static_cast<TimeMs>(minutes.size());
  for (TimeMs i = 0; i < n; ++i) {
    const int ms = minutes[static_cast<size_t>(i)];
    if (ms >= 0) h.Add(i * kMin + 30'000, StrCat("\"latency_ms\":", ms));
  }
  return TransitionsUpTo(h, n * kMin);
}

TEST(AlertEvaluationTest, KeepFiringForWithResolveCountsFromTheLastMinuteResolveDidNotHold) {
  // 2000, then 700 (between the thresholds) to minute 5, then 100: resolve
  // holds from the window ending at 6; two minutes of it end at 7.
  EXPECT_EQ(MinuteTransitions(R"(
  - alert: KH
    severity: P2
    expr: q > 1000
    resolve: q < 500
    keep_firing_for: 2m
)",
                              {2000, 700, 700, 700, 700, 100, 100, 100, 100, 100}),
            (std::vector<std::string>{"1 firing KH(2000)", "7 resolved KH(2000 100)"}));
}

TEST(AlertEvaluationTest, AMinuteWithoutDataResolvesWithoutAResolvedValue) {
  // A group that stops reporting resolves, with resolve: too; nothing
  // resolved it with a value.
  EXPECT_EQ(MinuteTransitions(R"(
  - alert: H
    severity: P3
    expr: q > 1000
    resolve: q < 500
)",
                              {2000, 2000, 2000, -1, 2000, 700, 100}),
            (std::vector<std::string>{"1 firing H(2000)", "4 resolved H(2000)", "5 firing H(2000)",
                                      "7 resolved H(2000 100)"}));
  // A keep_firing_for longer than the gap rides it out: at 4 resolve:
  // has not held since 3, one minute ago.
  EXPECT_EQ(MinuteTransitions(R"(
  - alert: H
    severity: P3
    expr: q > 1000
    resolve: q < 500
    keep_firing_for: 2m
)",
                              {2000, 2000, 2000, -1, 2000, 700, 100, 100}),
            (std::vector<std::string>{"1 firing H(2000)", "8 resolved H(2000 100)"}));
}

// Per group g: turns (count) and the average latency, which a minute of
// turns without latency_ms leaves without a window.
const std::string kGroupMetrics = R"(
metrics:
  - {metric: turns, window: tumbling 1m, by: [g], value: count()}
  - {metric: avg_lat, window: tumbling 1m, by: [g], value: avg(latency_ms)}
alerts:
  - {alert: Busy, severity: P3, expr: turns > 0, for: 2m}
)";

// Turns of group p at these seconds (with latency 100 ms where `with_latency`),
// then one of group q at minute 9 (Busy pending for q at 10); the
// transitions up to minute 10.
std::vector<std::string> GroupTransitions(const std::string& alerts,
                                          const std::vector<std::pair<int, bool>>& turns) {
  OperatorHarness h(kGroupMetrics + alerts);
  if (h.rules == nullptr) return {};
  for (const auto& [second, with_latency] : turns) {
    h.Add(second * 1000, with_latency ? R"("g":"p","latency_ms":100)" : R"("g":"p")");
  }
  h.Add(9 * kMin, R"("g":"q","latency_ms":100)");
  return TransitionsUpTo(h, 10 * kMin);
}

TEST(AlertEvaluationTest, AMetricWithoutAWindowLeavesTheOtherAlertsOfTheGroupAlone) {
  // From minute 2 on, p's turns carry no latency: avg_lat closes no window
  // for p. Each window end is evaluated once: Busy fires once it has held
  // for 2m (the windows 2-3 and 3-4), NoLatency pages once, and both
  // resolve at 6, the first minute without turns. Going inactive for want
  // of data (at 2), Busy shows the value it had, not a made-up 0.
  EXPECT_EQ(
      GroupTransitions(R"(
  - {alert: NoLatency, severity: P4, expr: turns > 0 and avg_lat == null}
)",
                       {{10, true}, {130, false}, {190, false}, {250, false}}),
      (std::vector<std::string>{"1 pending Busy(1)", "2 inactive Busy(1)", "3 pending Busy(1)",
                                "3 firing NoLatency(1)", "4 firing Busy(1)", "6 resolved Busy(1)",
                                "6 resolved NoLatency(1)", "10 pending Busy(1)"}));
}

// On calendar days `for:` counts 25 hours per true day (the longest day),
// so for: 50h (and 49h30m, which vigil check rounds to two evaluations)
// fires at the second true day, for: 51h at the third; the held time
// starts at the first true day's midnight.
TEST(AlertEvaluationTest, ForOnCalendarDaysCountsEachDayAsItsLongest) {
  constexpr TimeMs kHour = 60 * kMin, kDay = 24 * kHour;
  OperatorHarness h(R"(
metrics:
  - metric: d
    where: type == "message"
    window: calendar day
    value: count()
alerts:
  - alert: F49h30
    severity: P4
    expr: d > 10
    for: 49h30m
  - alert: F50h
    severity: P4
    expr: d > 10
    for: 50h
  - alert: F51h
    severity: P4
    expr: d > 10
    for: 51h
)");
  ASSERT_NE(h.rules, nullptr);
  const TimeMs monday = *ParseRfc3339("2026-01-05T00:00:00Z");
  for (TimeMs t = monday + 30 * kMin; t < monday + 4 * kDay; t += kHour) h.Add(t);
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(monday + 4 * kDay, &results, &notices);
  std::vector<std::string> got;
  for (const AlertNotice& n : notices) {
    got.push_back(StrCat((n.at - monday) / kDay, " ", TransitionName(n.transition), " ",
                         n.def->name, " since ", (n.active_since - monday) / kHour));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"1 pending F49h30 since 0", "1 pending F50h since 0",
                                           "1 pending F51h since 0", "2 firing F49h30 since 0",
                                           "2 firing F50h since 0", "3 firing F51h since 0"}));
}

TEST(AlertEvaluationTest, AnEndIsNeverEvaluatedAfterALaterOne) {
  // p reports at minute 0 and again at minute 4; avg_lat has no window for
  // p at 5, and none was needed at 3 or 4. Nothing goes back to minute 3.
  EXPECT_EQ(
      GroupTransitions(R"(
  - {alert: NoLatency, severity: P4, expr: turns > 0 and avg_lat == null, for: 3m}
)",
                       {{10, true}, {250, false}}),
      (std::vector<std::string>{"1 pending Busy(1)", "2 inactive Busy(1)", "5 pending Busy(1)",
                                "5 pending NoLatency(1)", "6 inactive Busy(1)",
                                "6 inactive NoLatency(1)", "10 pending Busy(1)"}));
}

}  // namespace
}  // namespace vigil
