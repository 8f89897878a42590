// Metric and alert operators together, on small hand-computed inputs.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr TimeMs kMin = 60'000;

class Pipeline {
 public:
  explicit Pipeline(const std::string& yaml) : h_(yaml) {}

  void Add(TimeMs ts, const std::string& fields = "") { h_.Add(ts, fields); }

  void Close(TimeMs frontier) {
    std::vector<WindowResult> results;
    std::vector<AlertNotice> notices;
    h_.Close(frontier, &results, &notices);
    for (const auto& r : results) {
      windows_.push_back(StrCat(r.def->name, "[", r.start / 1000, "s,", r.end / 1000, "s)",
                                r.group.empty() ? "" : "{" + r.group + "}", "=", r.value));
    }
    for (const auto& n : notices) {
      std::string ann;
      for (const auto& [k, v] : n.annotations) StrAppend(&ann, " ", k, ":", v);
      transitions_.push_back(StrCat(n.def->name, " ", TransitionName(n.transition), " @",
                                    n.at / 1000, "s", n.group.empty() ? "" : " " + n.group, ann));
    }
  }

  std::vector<std::string> windows_;
  std::vector<std::string> transitions_;

 private:
  OperatorHarness h_;
};

TEST(PipelineTest, TumblingValuesPerGroup) {
  Pipeline p(R"(
metrics:
  - metric: n
    where: latency_ms > 100
    window: tumbling 1m
    by: intent
    value: count()
  - metric: avg_ms
    window: tumbling 1m
    value: avg(latency_ms)
)");
  p.Add(0, R"("intent":"faq","latency_ms":200)");
  p.Add(59'999, R"("intent":"faq","latency_ms":50)");
  p.Add(30'000, R"("intent":"chitchat","latency_ms":300)");
  p.Add(60'000, R"("intent":"faq","latency_ms":400)");
  p.Close(59'999);
  EXPECT_TRUE(p.windows_.empty());
  p.Close(60'000);
  EXPECT_EQ(p.windows_, (std::vector<std::string>{"n[0s,60s){chitchat}=1", "n[0s,60s){faq}=1",
                                                  "avg_ms[0s,60s)=183.33333333333334"}));
  p.windows_.clear();
  p.Close(kMaxTime);
  EXPECT_EQ(p.windows_, (std::vector<std::string>{"n[60s,120s){faq}=1", "avg_ms[60s,120s)=400"}));
}

// Label values holding the group key's separator or escape character still
// give their own labels and series: ("a\x1fb") is not ("a", "b").
TEST(PipelineTest, LabelValuesHoldingTheGroupSeparatorKeepTheirLabels) {
  OperatorHarness h(R"(
metrics:
  - {metric: one, window: tumbling 1m, by: [k], value: count()}
  - {metric: two, window: tumbling 1m, by: [k, j], value: count()}
)");
  h.Add(1000, R"("k":"a\u001fb")");
  h.Add(2000, R"("k":"a","j":"b")");
  h.Add(3000, R"("k":"a\u001fb","j":"")");
  h.Add(4000, R"("k":"a\u001e","j":"\u001fb")");
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(kMaxTime, &results, &notices);
  std::vector<std::string> got;
  for (const WindowResult& r : results) {
    std::string labels;
    for (const std::string& l : r.labels) StrAppend(&labels, "[", l, "]");
    got.push_back(StrCat(r.def->name, " ", labels, " ", r.value));
  }
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got,
            (std::vector<std::string>{"one [a\x1e] 1", "one [a\037b] 2", "one [a] 1",
                                      "two [a\x1e][\037b] 1", "two [a\037b][] 2", "two [a][b] 1"}));
}

TEST(PipelineTest, OneLabelOfAGroupKeyIsReadWithoutSplittingTheRest) {
  const std::vector<std::vector<std::string>> cases = {
      {"A", "u1"},    {"a\037b", ""}, {"a\x1e", "\037b"}, {"", "x"}, {"\x1e\x1e", "\x1f\x1e\x1f"},
      {"a", "b", "c"}};
  std::string scratch;
  for (const std::vector<std::string>& labels : cases) {
    const std::string key = JoinGroupLabels(labels);
    for (size_t i = 0; i < labels.size(); ++i) {
      EXPECT_EQ(GroupLabel(key, i, &scratch), labels[i]) << i << " of " << StrJoin(labels, "|");
    }
    EXPECT_EQ(GroupLabel(key, labels.size(), &scratch), "");  // past the last
  }
  // Without an escape the label is a view of the key itself.
  const std::string key = JoinGroupLabels({"A", "u1"});
  EXPECT_EQ(GroupLabel(key, 1, &scratch).data(), key.data() + 2);
}

// Dataflow::Close gives one close's results by window end, then metric,
// then group, however the operators hold them.
TEST(PipelineTest, CloseOrdersByEndThenMetricThenGroup) {
  Pipeline p(R"(
metrics:
  - metric: b_by_intent
    window: tumbling 1m
    by: intent
    value: count()
  - metric: a_total
    window: tumbling 1m
    value: count()
)");
  p.Add(70'000, R"("intent":"zeta")");
  p.Add(10'000, R"("intent":"zeta")");
  p.Add(20'000, R"("intent":"alpha")");
  p.Add(80'000, R"("intent":"alpha")");
  p.Close(kMaxTime);
  EXPECT_EQ(p.windows_,
            (std::vector<std::string>{"b_by_intent[0s,60s){alpha}=1", "b_by_intent[0s,60s){zeta}=1",
                                      "a_total[0s,60s)=2", "b_by_intent[60s,120s){alpha}=1",
                                      "b_by_intent[60s,120s){zeta}=1", "a_total[60s,120s)=2"}));
}

TEST(PipelineTest, SlidingWindowValueAtEachSlide) {
  Pipeline p(R"(
metrics:
  - metric: s
    window: sliding 3m every 1m
    value: sum(latency_ms)
)");
  p.Add(10'000, R"("latency_ms":1)");
  p.Add(70'000, R"("latency_ms":10)");
  p.Add(250'000, R"("latency_ms":100)");
  p.Close(kMaxTime);
  EXPECT_EQ(p.windows_, (std::vector<std::string>{
                            "s[-120s,60s)=1", "s[-60s,120s)=11", "s[0s,180s)=11", "s[60s,240s)=10",
                            "s[120s,300s)=100", "s[180s,360s)=100", "s[240s,420s)=100"}));
}

TEST(PipelineTest, ValueArithmeticOverAggregates) {
  Pipeline p(R"(
metrics:
  - metric: per_session
    window: tumbling 1m
    value: count(ok) / distinct(session_id)
)");
  p.Add(1000, R"("ok":true,"session_id":"a")");
  p.Add(2000, R"("ok":true,"session_id":"a")");
  p.Add(3000, R"("ok":false,"session_id":"b")");
  p.Add(4000, R"("ok":true,"session_id":"c")");
  p.Close(kMaxTime);
  EXPECT_EQ(p.windows_, (std::vector<std::string>{"per_session[0s,60s)=1"}));
}

TEST(PipelineTest, AWindowWhoseEventsHoldNoValueSumsToZeroAndHasNoAverage) {
  Pipeline p(R"(
metrics:
  - metric: a_count
    window: tumbling 1m
    value: count()
  - metric: b_sum
    window: tumbling 1m
    value: sum(x)
  - metric: c_distinct
    window: tumbling 1m
    value: distinct(x)
  - metric: d_avg
    window: tumbling 1m
    value: avg(x)
  - metric: e_max
    window: tumbling 1m
    value: max(x)
  - metric: f_last
    window: tumbling 1m
    value: last(x)
  - metric: g_p50
    window: tumbling 1m
    value: quantile(0.5, x)
)");
  // Minute 0: x missing and null; minute 1: one value.
  p.Add(1000, R"("y":1)");
  p.Add(2000, R"("x":null)");
  p.Add(61'000, R"("x":3)");
  p.Close(kMaxTime);
  EXPECT_EQ(p.windows_, (std::vector<std::string>{"a_count[0s,60s)=2", "b_sum[0s,60s)=0",
                                                  "c_distinct[0s,60s)=0", "a_count[60s,120s)=1",
                                                  "b_sum[60s,120s)=3", "c_distinct[60s,120s)=1",
                                                  "d_avg[60s,120s)=3", "e_max[60s,120s)=3",
                                                  "f_last[60s,120s)=3", "g_p50[60s,120s)=3"}));
}

TEST(PipelineTest, AlertFiresOnFifthConsecutiveWindowAndResolves) {
  Pipeline p(R"(
metrics:
  - metric: p99
    window: tumbling 1m
    value: quantile(0.99, latency_ms)
alerts:
  - alert: Slow
    severity: P1
    expr: p99 > 10000
    for: 5m
    annotations:
      summary: "p99 {{ $value }}"
)");
  // Minutes 0-1 fast, 2-7 slow (6 minutes), 8-9 fast.
  for (int m = 0; m < 10; ++m) {
    const double ms = (m >= 2 && m <= 7) ? 12000 : 500;
    for (int s = 0; s < 60; s += 10) p.Add(m * kMin + s * 1000, StrCat("\"latency_ms\":", ms));
  }
  p.Close(kMaxTime);
  // DDSketch answers within 1%: 12000 reads as a value within [11880, 12120].
  ASSERT_EQ(p.transitions_.size(), 3u);
  EXPECT_EQ(p.transitions_[0].substr(0, 20), "Slow pending @180s s");
  EXPECT_EQ(p.transitions_[1].substr(0, 19), "Slow firing @420s s");
  EXPECT_EQ(p.transitions_[2].substr(0, 21), "Slow resolved @540s s");
}

TEST(PipelineTest, AlertsPerGroupCarryTheirLabels) {
  Pipeline p(R"(
metrics:
  - metric: errors
    window: tumbling 1m
    by: [service]
    value: ratio(failed)
alerts:
  - alert: Failing
    severity: P2
    expr: errors > 0.5
    annotations:
      summary: "{{ $labels.service }} failing"
)");
  p.Add(1000, R"("service":"a","failed":true)");
  p.Add(2000, R"("service":"b","failed":false)");
  p.Add(61'000, R"("service":"a","failed":false)");
  p.Add(62'000, R"("service":"b","failed":true)");
  p.Close(kMaxTime);
  EXPECT_EQ(p.transitions_, (std::vector<std::string>{"Failing firing @60s a summary:a failing",
                                                      "Failing resolved @120s a summary:a failing",
                                                      "Failing firing @120s b summary:b failing"}));
}

TEST(PipelineTest, AlertResolvesWhenDataStops) {
  Pipeline p(R"(
metrics:
  - metric: n
    window: tumbling 1m
    value: count()
alerts:
  - alert: Busy
    severity: P3
    expr: n > 1
)");
  p.Add(1000);
  p.Add(2000);
  p.Close(60'000);
  EXPECT_EQ(p.transitions_, (std::vector<std::string>{"Busy firing @60s"}));
  // No more events; the frontier moves on (as a live watermark following
  // the clock would): the empty minute resolves the alert.
  p.Close(125'000);
  EXPECT_EQ(p.transitions_, (std::vector<std::string>{"Busy firing @60s", "Busy resolved @120s"}));
}

TEST(PipelineTest, HysteresisKeepsFiringUntilResolveHolds) {
  Pipeline p(R"(
metrics:
  - metric: v
    window: tumbling 1m
    value: max(x)
alerts:
  - alert: High
    severity: P1
    expr: v > 10
    resolve: v < 8
)");
  const double values[] = {5, 11, 9, 9, 7, 12};
  for (int m = 0; m < 6; ++m) p.Add(m * kMin, StrCat("\"x\":", values[m]));
  p.Close(kMaxTime);
  EXPECT_EQ(p.transitions_, (std::vector<std::string>{"High firing @120s", "High resolved @300s",
                                                      "High firing @360s"}));
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

TEST(PipelineTest, MetricsOverTheSameStreamShareOnePaneStore) {
  RuleLoadResult r = LoadRuleSources({{"t.yaml", R"(
metrics:
  - metric: p50
    where: type == "message"
    window: tumbling 1m
    value: quantile(0.5, latency_ms)
  - metric: p99
    where: type == "message"
    window: tumbling 1m
    value: quantile(0.99, latency_ms)
  - metric: n
    where: type == "message"
    window: tumbling 1m
    value: count()
  - metric: other_window
    where: type == "message"
    window: tumbling 5m
    value: count()
)"}});
  ASSERT_TRUE(r.ok());
  FilterBank bank;
  auto ops = BuildMetricOperators(*r.rules, &bank);
  ASSERT_EQ(ops.size(), 2u);
  EXPECT_EQ(ops[0]->members().size(), 3u);
  EXPECT_EQ(ops[0]->accumulator_count(), 2u);  // one sketch, one counter
}

TEST(PipelineTest, SharedSketchAnswersEachQuantile) {
  Pipeline p(R"(
metrics:
  - metric: p50
    window: tumbling 1m
    value: quantile(0.5, latency_ms)
  - metric: p99
    window: tumbling 1m
    value: quantile(0.99, latency_ms)
)");
  for (int v : {500, 100, 400, 200, 300}) p.Add(1000, StrCat("\"latency_ms\":", v));
  p.Close(kMaxTime);
  ASSERT_EQ(p.windows_.size(), 2u);
  // Rank floor(q * (n - 1)) of {100..500}: 300 and 400, within 0.5%.
  const double p50 = std::stod(p.windows_[0].substr(p.windows_[0].find('=') + 1));
  const double p99 = std::stod(p.windows_[1].substr(p.windows_[1].find('=') + 1));
  EXPECT_NEAR(p50, 300, 1.5);
  EXPECT_NEAR(p99, 400, 2);
}

}  // namespace
}  // namespace vigil
