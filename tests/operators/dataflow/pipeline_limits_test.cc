// Limits of the metric operators together (a metric's `limit:`, the
// job-wide series cap), on small hand-computed inputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "base/strings.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr TimeMs kMin = 60'000;

// The events each metric operator dropped over its limits, by operator name.
std::vector<std::string> Dropped(Dataflow& flow) {
  std::vector<std::string> out;
  for (const auto& op : flow.metric_ops())
    out.push_back(StrCat(op->name(), "=", op->TakeDropped()));
  return out;
}

TEST(PipelineLimitsTest, EventsOfNewGroupsOverTheLimitAreDroppedAndCounted) {
  OperatorHarness h(R"(
metrics:
  - metric: n
    window: tumbling 1m
    by: intent
    limit: 2
    value: count()
)");
  auto windows = [&h](TimeMs frontier) {
    std::vector<WindowResult> results;
    std::vector<AlertNotice> notices;
    h.Close(frontier, &results, &notices);
    std::vector<std::string> out;
    for (const auto& r : results) out.push_back(StrCat(r.group, "@", r.start / 1000, "=", r.value));
    return out;
  };
  h.Add(0, R"("intent":"faq")");
  h.Add(1000, R"("intent":"chitchat")");
  h.Add(2000, R"("intent":"returns")");  // a third group: dropped
  h.Add(3000, R"("intent":"faq")");      // groups held still count
  h.Add(4000, R"("intent":"returns")");  // dropped again
  EXPECT_EQ(h.flow->series(), 2u);
  EXPECT_EQ(windows(kMin), (std::vector<std::string>{"chitchat@0=1", "faq@0=2"}));
  EXPECT_EQ(Dropped(*h.flow), std::vector<std::string>{"n=2"});
  EXPECT_EQ(Dropped(*h.flow), std::vector<std::string>{"n=0"});  // taken
  // The closed minute freed its groups: the next one takes the first two.
  EXPECT_EQ(h.flow->series(), 0u);
  h.Add(kMin, R"("intent":"returns")");
  h.Add(kMin + 1000, R"("intent":"faq")");
  h.Add(kMin + 2000, R"("intent":"chitchat")");
  EXPECT_EQ(windows(kMaxTime), (std::vector<std::string>{"faq@60=1", "returns@60=1"}));
  EXPECT_EQ(Dropped(*h.flow), std::vector<std::string>{"n=1"});
}

TEST(PipelineLimitsTest, MetricsSharingAnOperatorTakeTheSmallestLimit) {
  RuleLoadResult r = LoadRuleSources({{"t.yaml", R"(
metrics:
  - metric: a
    window: tumbling 1m
    by: intent
    limit: 3
    value: count()
  - metric: b
    window: tumbling 1m
    by: intent
    limit: 1
    value: sum(latency_ms)
  - metric: c
    window: tumbling 1m
    by: intent
    value: max(latency_ms)
    where: latency_ms > 0
)"}});
  ASSERT_TRUE(r.ok());
  Dataflow flow(*r.rules);
  ASSERT_EQ(flow.metric_ops().size(), 2u);
  EXPECT_EQ(flow.metric_ops()[0]->name(), "a,b");
  EXPECT_EQ(flow.metric_ops()[0]->group_limit(), 1u);
  EXPECT_EQ(flow.metric_ops()[1]->group_limit(), static_cast<size_t>(kDefaultSeriesLimit));
}

TEST(PipelineLimitsTest, TheJobWideSeriesCapSpansEveryOperator) {
  RuleLoadResult r = LoadRuleSources({{"t.yaml", R"(
metrics:
  - metric: turns
    where: type == "message"
    window: tumbling 1m
    by: intent
    value: count()
  - metric: slow
    where: latency_ms > 1000
    window: sliding 2m every 1m
    by: intent
    value: count()
)"}});
  ASSERT_TRUE(r.ok());
  OperatorLimits limits;
  limits.max_series = 3;
  Dataflow flow(*r.rules, limits);
  EventParser parser(r.rules->fields, 1 << 16);
  auto add = [&](TimeMs ts, const std::string& intent, int latency) {
    const std::string json = StrCat(R"({"ts":)", ts, R"(,"type":"message","intent":")", intent,
                                    R"(","latency_ms":)", latency, "}");
    const std::string buf = json + std::string(simdjson::SIMDJSON_PADDING, ' ');
    Event ev;
    ParseError err;
    ASSERT_TRUE(parser.Parse(std::string_view(buf).substr(0, json.size()), &ev, &err));
    flow.Add(ev);
  };
  add(0, "faq", 5000);          // turns{faq}, slow{faq}: 2 series
  add(1000, "chitchat", 10);    // turns{chitchat}: 3
  add(2000, "chitchat", 5000);  // slow{chitchat} would be the 4th: dropped
  add(3000, "returns", 10);     // turns{returns}: dropped
  add(4000, "faq", 2000);       // both groups held: counted in both
  EXPECT_EQ(flow.series(), 3u);
  EXPECT_EQ(Dropped(flow), (std::vector<std::string>{"turns=1", "slow=1"}));
  std::vector<WindowResult> out;
  flow.Close(kMaxTime, &out);
  std::vector<std::string> got;
  for (const auto& w : out)
    got.push_back(StrCat(w.def->name, w.group, "@", w.start / 1000, "=", w.value));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"slowfaq@-60=2", "slowfaq@0=2", "turnschitchat@0=2",
                                           "turnsfaq@0=2"}));
  EXPECT_EQ(flow.series(), 0u);
}

// An event behind a window boundary, out of order, finds the groups that
// already started after it live: its group, once added, would go on into
// their window. With room for two series, faq (00:59.710) and
// recommendation (01:00.061) hold it; order_tracking at 00:59.908 is
// dropped, and so is its next event, at 01:01.5, which leaves the second
// minute with two groups, not three.
TEST(PipelineLimitsTest, AGroupStartingAfterAnOutOfOrderEventCountsForIt) {
  OperatorHarness h(R"(
metrics:
  - metric: turns
    where: type == "message"
    window: tumbling 1m
    by: intent
    value: count()
)");
  ASSERT_TRUE(h.rules);
  Dataflow flow(*h.rules, OperatorLimits{2});
  auto add = [&](TimeMs ts, const std::string& intent) {
    flow.Add(h.Parse(StrCat(R"({"ts":)", ts, R"(,"type":"message","intent":")", intent, R"("})")));
  };
  add(59'710, "faq");
  add(60'061, "recommendation");
  add(59'908, "order_tracking");
  add(61'000, "faq");
  add(61'500, "order_tracking");
  EXPECT_EQ(Dropped(flow), (std::vector<std::string>{"turns=2"}));
  std::vector<WindowResult> out;
  flow.Close(kMaxTime, &out);
  std::vector<std::string> got;
  for (const auto& w : out) got.push_back(StrCat(w.group, "@", w.start / 1000, "=", w.value));
  EXPECT_EQ(got, (std::vector<std::string>{"faq@0=1", "faq@60=1", "recommendation@60=1"}));
}

TEST(PipelineLimitsTest, OutOfRangeEventsAreDeadLetteredAndTheWindowsUnchanged) {
  const std::string rules = R"(
schema:
  latency_ms: {min: 0, max: 3600000}
metrics:
  - metric: p50
    window: tumbling 1m
    value: quantile(0.5, latency_ms)
  - metric: n
    window: tumbling 1m
    value: count()
)";
  auto run = [&rules](bool with_poison, int* out_of_range) {
    OperatorHarness h(rules);
    std::vector<std::string> lines;
    for (int i = 0; i < 5; ++i) {
      lines.push_back(
          StrCat(R"({"ts":)", i * 1000, R"(,"type":"message","latency_ms":)", 100 * (i + 1), "}"));
      if (with_poison && i % 2 == 0) {
        lines.push_back(
            StrCat(R"({"ts":)", i * 1000 + 1, R"(,"type":"message","latency_ms":1e13})"));
      }
    }
    *out_of_range = 0;
    for (const std::string& json : lines) {
      const std::string buf = json + std::string(simdjson::SIMDJSON_PADDING, ' ');
      Event ev;
      ParseError err;
      if (h.parser->Parse(std::string_view(buf).substr(0, json.size()), &ev, &err)) {
        h.flow->Add(ev);
      } else {
        EXPECT_EQ(err.reason, DeadReason::kOutOfRange);
        EXPECT_EQ(err.detail,
                  "field 'latency_ms' is 1e+13, outside the schema's range [0, 3600000]");
        ++*out_of_range;
      }
    }
    std::vector<WindowResult> results;
    std::vector<AlertNotice> notices;
    h.Close(kMaxTime, &results, &notices);
    std::vector<std::string> out;
    for (const auto& r : results) out.push_back(StrCat(r.def->name, "=", r.value));
    return out;
  };
  int clean_dead = 0, poisoned_dead = 0;
  const std::vector<std::string> clean = run(false, &clean_dead);
  const std::vector<std::string> poisoned = run(true, &poisoned_dead);
  EXPECT_EQ(clean_dead, 0);
  EXPECT_EQ(poisoned_dead, 3);
  EXPECT_EQ(poisoned, clean);
  ASSERT_EQ(clean.size(), 2u);
  EXPECT_EQ(clean[1], "n=5");
  const double p50 = std::stod(clean[0].substr(clean[0].find('=') + 1));
  EXPECT_NEAR(p50, 300, 3);  // the median of 100..500, within the sketch's 1%
}

TEST(PipelineLimitsTest, AReloadKeepsTheGroupsAndAppliesTheNewFlowsLimits) {
  const std::string yaml = R"(
metrics:
  - metric: n
    window: tumbling 1m
    by: intent
    value: count()
)";
  OperatorHarness h(yaml);
  OperatorLimits limits;
  limits.max_series = 2;
  auto old_flow = std::make_unique<Dataflow>(*h.rules, limits);
  auto add = [&h](Dataflow& flow, const std::string& intent) {
    const std::string json = StrCat(R"({"ts":1000,"type":"message","intent":")", intent, "\"}");
    const std::string buf = json + std::string(simdjson::SIMDJSON_PADDING, ' ');
    Event ev;
    ParseError err;
    ASSERT_TRUE(h.parser->Parse(std::string_view(buf).substr(0, json.size()), &ev, &err));
    flow.Add(ev);
  };
  add(*old_flow, "faq");
  add(*old_flow, "returns");
  add(*old_flow, "chitchat");  // over the cap: dropped, counted in the old flow
  Dataflow flow(*h.rules, limits);
  ASSERT_EQ(flow.AdoptState(*old_flow), 1u);
  old_flow.reset();  // the adopted store must not refer to the old flow
  EXPECT_EQ(flow.series(), 2u);
  add(flow, "chitchat");  // still over the cap, now the new flow's
  add(flow, "faq");
  EXPECT_EQ(Dropped(flow), std::vector<std::string>{"n=2"});  // the old count carried over
  std::vector<WindowResult> out;
  flow.Close(kMaxTime, &out);
  std::vector<std::string> got;
  for (const auto& w : out) got.push_back(StrCat(w.group, "=", w.value));
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"faq=2", "returns=1"}));
}

}  // namespace
}  // namespace vigil
