// State carried across a rule reload by the metric and alert operators.
#include <gtest/gtest.h>

#include "operators/alert_operator.h"
#include "operators/metric_operator.h"
#include "windows/strings.h"

namespace vigil {
namespace {

constexpr char kRules[] = R"(
metrics:
  - metric: n
    window: tumbling 1m
    value: count()
  - metric: s
    window: tumbling 1m
    value: sum(x)
alerts:
  - alert: Busy
    severity: P2
    expr: n > 1
  - alert: Big
    severity: P3
    expr: s > THRESHOLD
)";

// One generation of rules with its operators.
struct Generation {
  explicit Generation(const std::string& threshold) {
    std::string text = kRules;
    text.replace(text.find("THRESHOLD"), 9, threshold);
    RuleLoadResult r = LoadRuleSources({{"r.yaml", text}});
    EXPECT_TRUE(r.ok());
    rules = std::move(r.rules);
    parser = std::make_unique<EventParser>(rules->fields, 4096);
    ops = BuildMetricOperators(*rules, &bank);
    alerts = std::make_unique<AlertOperator>(*rules);
  }
  void Add(TimeMs ts, double x) {
    std::string json = StrCat("{\"ts\":", ts, ",\"type\":\"m\",\"x\":", x, "}");
    std::string buf = json + std::string(simdjson::SIMDJSON_PADDING, ' ');
    Event ev;
    ParseError err;
    ASSERT_TRUE(parser->Parse(std::string_view(buf).substr(0, json.size()), &ev, &err));
    bank.Evaluate(ev);
    for (auto& op : ops) op->Add(ev);
  }
  std::vector<std::string> Close(TimeMs frontier) {
    std::vector<WindowResult> results;
    for (auto& op : ops) op->Close(frontier, &results);
    std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) {
      return std::tie(a.end, a.metric, a.group) < std::tie(b.end, b.metric, b.group);
    });
    std::vector<AlertNotice> notices;
    alerts->Advance(frontier, results, &notices);
    std::vector<std::string> out;
    for (const auto& r : results) out.push_back(StrCat(r.def->name, "@", r.end / 1000, "=", r.value));
    for (const auto& n : notices) {
      out.push_back(StrCat(n.def->name, " ", TransitionName(n.transition), " @", n.at / 1000));
    }
    return out;
  }
  std::unique_ptr<RuleSet> rules;
  std::unique_ptr<EventParser> parser;
  FilterBank bank;
  std::vector<std::unique_ptr<MetricOperator>> ops;
  std::unique_ptr<AlertOperator> alerts;
};

TEST(ReloadTest, UnchangedStateCarriesOverChangedAlertIsResolved) {
  auto old_gen = std::make_unique<Generation>("10");
  old_gen->Add(1000, 6);
  old_gen->Add(2000, 7);
  old_gen->Add(61'000, 1);
  EXPECT_EQ(old_gen->Close(60'000),
            (std::vector<std::string>{"n@60=2", "s@60=13", "Busy firing @60", "Big firing @60"}));

  // Reload with Big's threshold changed; the event at 61 s is in an open
  // pane of the old operators.
  Generation next("100");
  for (auto& op : next.ops) {
    for (auto& old : old_gen->ops) {
      if (op->AdoptState(*old)) break;
    }
  }
  std::vector<AlertNotice> dropped;
  next.alerts->AdoptState(*old_gen->alerts, &dropped);
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].def->name, "Big");
  EXPECT_EQ(dropped[0].transition, Transition::kResolved);
  EXPECT_EQ(dropped[0].at, 60'000);
  old_gen.reset();  // the old rules go away, as in the job

  next.Add(62'000, 2);
  // The pane kept the event at 61 s (n = 2, s = 3), and Busy, unchanged,
  // is still firing: no second page.
  EXPECT_EQ(next.Close(120'000), (std::vector<std::string>{"n@120=2", "s@120=3"}));
  EXPECT_EQ(next.Close(180'000), (std::vector<std::string>{"Busy resolved @180"}));
}

}  // namespace
}  // namespace vigil
