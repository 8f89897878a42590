// History functions in alerts, end to end: events become 1-minute windows
// with hand-picked values, and each function must fire and resolve at exact
// window ends.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr TimeMs kMin = 60'000;

// The metric and alert operators over hand-written events, recording alert
// transitions as "Alert transition @end [group]".
class HistoryPipeline {
 public:
  explicit HistoryPipeline(const std::string& yaml) : h_(yaml) {}

  void Add(TimeMs ts, const std::string& fields) { h_.Add(ts, fields); }
  // One event per minute from minute 0, with x = values[i].
  void AddSeries(const std::vector<double>& values) {
    for (size_t i = 0; i < values.size(); ++i) {
      Add(static_cast<TimeMs>(i) * kMin + 1000, StrCat("\"x\":", values[i]));
    }
  }

  void Close(TimeMs frontier) {
    std::vector<WindowResult> results;
    std::vector<AlertNotice> notices;
    h_.Close(frontier, &results, &notices);
    for (const auto& n : notices) {
      values_.push_back(n.value);
      transitions_.push_back(StrCat(n.def->name, " ", TransitionName(n.transition), " @",
                                    n.at / 1000, "s", n.group.empty() ? "" : " " + n.group));
    }
  }

  std::vector<std::string> transitions_;
  std::vector<double> values_;  // each transition's $value

 private:
  OperatorHarness h_;
};

constexpr const char* kMetric = R"(
metrics:
  - metric: v
    window: tumbling 1m
    value: max(x)
alerts:
)";

std::string WithAlert(const std::string& name, const std::string& expr) {
  return StrCat(kMetric, "  - alert: ", name, "\n    severity: P4\n    expr: ", expr, "\n");
}

using Transitions = std::vector<std::string>;

TEST(HistoryAlertTest, DecliningFiresAtTheFourthWindowEndAndNotBefore) {
  HistoryPipeline p(WithAlert("Falling", "declining(v, 3)"));
  p.AddSeries({10, 9, 8, 7, 8});
  p.Close(3 * kMin);
  EXPECT_TRUE(p.transitions_.empty());
  p.Close(4 * kMin);
  EXPECT_EQ(p.transitions_, (Transitions{"Falling firing @240s"}));
  p.Close(kMaxTime);
  EXPECT_EQ(p.transitions_, (Transitions{"Falling firing @240s", "Falling resolved @300s"}));
  // $value is v's window: 7 when it fired; the resolution reports its last
  // firing value and resolved_value the 8 that ended the fall.
  EXPECT_EQ(p.values_, (std::vector<double>{7, 7}));
}

TEST(HistoryAlertTest, ValueIsTheFirstNumberTheExpressionNamesAfterAnyCondition) {
  // declining(v, 1) comes first but is a condition: $value is the average.
  // It fires at 2m with (30 + 20) / 2, still holds at 3m with (20 + 15) / 2
  // and resolves at 4m (40 is no fall); a resolution reports its last firing
  // value.
  HistoryPipeline p(WithAlert("FallingAvg", "declining(v, 1) and avg_over(v, 2m) > 1"));
  p.AddSeries({30, 20, 15, 40});
  p.Close(kMaxTime);
  EXPECT_EQ(p.transitions_, (Transitions{"FallingAvg firing @120s", "FallingAvg resolved @240s"}));
  EXPECT_EQ(p.values_, (std::vector<double>{25, 17.5}));
}

TEST(HistoryAlertTest, ValueReadsOnlyTheExpressionAndSkipsAConditionWithoutData) {
  HistoryPipeline p(R"(
metrics:
  - metric: a
    window: tumbling 1m
    value: max(x)
  - metric: b
    window: tumbling 1m
    value: max(y)
alerts:
  - alert: EitherFalls
    severity: P4
    expr: declining(a, 1) or declining(b, 1)
  - alert: BFalls
    severity: P4
    expr: declining(b, 1)
    resolve: a > 50
)");
  // a has no window in the first two minutes; b falls from 10 to 9. Then a
  // appears at 100 while b rises, and BFalls resolves (a > 50) at 3m.
  p.Add(1000, R"("y":10)");
  p.Add(kMin + 1000, R"("y":9)");
  p.Add(2 * kMin + 1000, R"("y":12,"x":100)");
  p.Close(3 * kMin);
  EXPECT_EQ(p.transitions_, (Transitions{"EitherFalls firing @120s", "BFalls firing @120s",
                                         "EitherFalls resolved @180s", "BFalls resolved @180s"}));
  // b's 9 each time, never resolve's a; a resolution reports its firing's.
  EXPECT_EQ(p.values_, (std::vector<double>{9, 9, 9, 9}));
}

TEST(HistoryAlertTest, AvgOverCoversTheWindowsEndingInTheSpan) {
  // At 3m the last 3 windows average 20 (not above); at 4m, 30; at 6m, 16.67.
  HistoryPipeline p(WithAlert("HighAvg", "avg_over(v, 3m) > 20"));
  p.AddSeries({10, 20, 30, 40, 5, 5});
  p.Close(kMaxTime);
  EXPECT_EQ(p.transitions_, (Transitions{"HighAvg firing @240s", "HighAvg resolved @360s"}));
}

TEST(HistoryAlertTest, StddevOverIsThePopulationDeviation) {
  // (10, 20): 5 > 4 at 2m; (20, 21): 0.5 at 3m.
  HistoryPipeline p(WithAlert("Noisy", "stddev_over(v, 2m) > 4"));
  p.AddSeries({10, 20, 21});
  p.Close(kMaxTime);
  EXPECT_EQ(p.transitions_, (Transitions{"Noisy firing @120s", "Noisy resolved @180s"}));
}

TEST(HistoryAlertTest, ZscoreFiresOnASpikeAndNeedsDeviation) {
  // Flat 10s have no deviation, so no z-score. At 5m: mean 14, deviation 8,
  // z = (30 - 14) / 8 = 2. At 6m over (1m, 6m]: 10 10 10 30 10, z = -0.5.
  HistoryPipeline p(WithAlert("Spike", "zscore(v, 5m) > 1.5"));
  p.AddSeries({10, 10, 10, 10, 30, 10});
  p.Close(kMaxTime);
  EXPECT_EQ(p.transitions_, (Transitions{"Spike firing @300s", "Spike resolved @360s"}));
}

TEST(HistoryAlertTest, OffsetAndGrowthCompareWithTheWindowDBefore) {
  HistoryPipeline p(
      StrCat(WithAlert("Growing", "growth(v, 2m) > 0.5"),
             "  - alert: WasHigh\n    severity: P4\n    expr: offset(v, 2m) >= 16\n"));
  // growth at 3m: 16/10 - 1 = 0.6; at 4m: 20/10 - 1 = 1; at 5m: 21/16 - 1.
  // offset(v, 2m) is 16 at 5m, 20 at 6m, 21 at 7m, 1 at 8m.
  p.AddSeries({10, 10, 16, 20, 21, 1, 1, 1});
  p.Close(kMaxTime);
  EXPECT_EQ(p.transitions_, (Transitions{"Growing firing @180s", "Growing resolved @300s",
                                         "WasHigh firing @300s", "WasHigh resolved @480s"}));
}

TEST(HistoryAlertTest, AbsentFiresPerGroupAfterTheGapAndResolvesWhenDataReturns) {
  HistoryPipeline p(R"(
metrics:
  - metric: n
    window: tumbling 1m
    by: [service]
    value: count()
alerts:
  - alert: Silent
    severity: P2
    expr: absent(n, 3m)
)");
  // a reports every minute; b in minutes 0-1 (last window ends at 2m) and
  // again in minute 6 (window ending at 7m).
  for (int m = 0; m < 8; ++m) {
    p.Add(m * kMin + 1000, R"("service":"a")");
    if (m < 2 || m == 6) p.Add(m * kMin + 2000, R"("service":"b")");
  }
  p.Close(kMaxTime);
  // (1m, 4m] still holds b's 2m window; (2m, 5m] does not.
  EXPECT_EQ(p.transitions_, (Transitions{"Silent firing @300s b", "Silent resolved @420s b"}));
  // $value is b's last window kept: its count 1 at 5m (the 2m window is
  // the oldest of the 3 minutes absent() keeps); at 6m none is left, and the
  // resolution reports that last firing evaluation's 0.
  EXPECT_EQ(p.values_, (std::vector<double>{1, 0}));
}

TEST(HistoryAlertTest, AbsentFiresWhenAllTrafficStops) {
  HistoryPipeline p(R"(
metrics:
  - metric: n
    window: tumbling 1m
    value: count()
alerts:
  - alert: NoTraffic
    severity: P1
    expr: absent(n, 3m)
)");
  p.Add(1000, R"("k":1)");
  p.Add(61'000, R"("k":1)");
  // No events; the frontier keeps moving, as a live watermark does.
  p.Close(4 * kMin);
  EXPECT_TRUE(p.transitions_.empty());
  p.Close(7 * kMin + 30'000);
  EXPECT_EQ(p.transitions_, (Transitions{"NoTraffic firing @300s"}));
  p.Add(7 * kMin + 40'000, R"("k":1)");
  p.Close(kMaxTime);
  EXPECT_EQ(p.transitions_, (Transitions{"NoTraffic firing @300s", "NoTraffic resolved @480s"}));
}

TEST(HistoryAlertTest, HistoryAndCurrentValuesMixInOneCondition) {
  // Above 10 and above its 3-minute mean from 3m (20 > 11.67) to 5m (40 >
  // 30); at 6m 12 is above 10 but below the mean (27.33).
  HistoryPipeline p(WithAlert("Rising", "v > 10 and v > avg_over(v, 3m)"));
  p.AddSeries({5, 10, 20, 30, 40, 12});
  p.Close(kMaxTime);
  EXPECT_EQ(p.transitions_, (Transitions{"Rising firing @180s", "Rising resolved @360s"}));
}

}  // namespace
}  // namespace vigil
