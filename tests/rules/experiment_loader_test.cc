// `experiments:` in rule files: what it compiles to, and each mistake
// reported once at its own position.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rules/rule_set.h"

namespace vigil {
namespace {

const char* const kGood = R"yaml(
experiments:
  - experiment: prompt_007
    arm: variant
    control: control
    split: {control: 0.90, treatment: 10%}
    unit: session_id
    metrics:
      - {name: thumbs_up_rate, where: type == "feedback", value: ratio(rating == 1), goal: increase}
      - {name: latency_p50_ms, where: type == "message", value: "quantile(0.5, latency_ms)", guardrail: {max_regression: 10%}}
alerts:
  - alert: GuardrailBreached
    severity: P3
    expr: experiment_decision == 2
)yaml";

TEST(ExperimentLoaderTest, AnExperimentCompilesIntoInputsAndSharedOutputs) {
  RuleLoadResult r = LoadRuleSources({{"e.yaml", kGood}});
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  const RuleSet& rules = *r.rules;
  ASSERT_EQ(rules.experiments.size(), 1u);
  const ExperimentDef& e = rules.experiments[0];
  EXPECT_EQ(e.split[0], (std::pair<std::string, double>("control", 0.9)));
  EXPECT_EQ(e.split[1], (std::pair<std::string, double>("treatment", 0.1)));
  EXPECT_EQ(e.window.ToString(), "tumbling 1h");
  ASSERT_EQ(e.metrics.size(), 2u);
  EXPECT_EQ(e.metrics[0].kind, ExperimentMetricDef::Kind::kRatio);
  EXPECT_EQ(e.metrics[0].min_effect, 0.02);
  EXPECT_EQ(e.metrics[1].kind, ExperimentMetricDef::Kind::kQuantile);
  EXPECT_DOUBLE_EQ(e.metrics[1].max_regression, 0.1);
  const MetricDef& ratio = rules.metrics[e.metrics[0].input];
  EXPECT_TRUE(ratio.internal());
  EXPECT_EQ(ratio.by, (std::vector<std::string>{"variant", "session_id"}));
  EXPECT_EQ(rules.metrics[e.metrics[1].input].by,
            (std::vector<std::string>{"variant", "session_id"}));
  EXPECT_EQ(rules.metrics[e.units_input].by, (std::vector<std::string>{"variant", "session_id"}));
  ASSERT_EQ(rules.experiment_outputs.size(), std::size(kExperimentOutputs));
  const int decision_index = rules.experiment_outputs[8];
  const MetricDef& decision = rules.metrics[decision_index];
  EXPECT_EQ(decision.name, "experiment_decision");
  EXPECT_EQ(decision.by, (std::vector<std::string>{"experiment", "metric", "arm"}));
  EXPECT_EQ(rules.alerts[0].metrics[0], decision_index);
  const MetricDef& crossed = rules.metrics[rules.experiment_outputs.back()];
  EXPECT_EQ(crossed.name, "experiment_crossover_units");
  EXPECT_EQ(crossed.by, (std::vector<std::string>{"experiment"}));
}

struct BadCase {
  std::string what;
  std::string yaml;
  std::string error;
};

TEST(ExperimentLoaderTest, EachMistakeIsReportedOnceAtItsPosition) {
  const std::string head = "experiments:\n  - experiment: x\n    arm: variant\n    control: a\n";
  const std::string split = "    split: {a: 0.5, b: 0.5}\n";
  const std::string metric = "    metrics:\n      - {name: m, value: ratio(ok), goal: increase}\n";
  const std::string stream =
      "streams:\n  - stream: s\n    key: session_id\n    window: session 30m\n"
      "    emit: {n: count()}\n";
  const std::vector<BadCase> cases = {
      {"shares", head + "    split: {a: 0.5, b: 0.4}\n" + metric,
       "e.yaml:5:12: the shares of 'split' add up to 0.9, not 1"},
      {"control",
       "experiments:\n  - experiment: x\n    arm: variant\n    control: c\n" + split + metric,
       "e.yaml:4:14: the control arm 'c' is not in 'split'"},
      {"share", head + "    split: {a: .nan, b: 0.5}\n" + metric,
       "e.yaml:5:16: the share of arm 'a' must be above 0 and below 1 (0.1 or 10%)"},
      {"unit is the arm", head + split + "    unit: variant\n" + metric,
       "e.yaml:6:11: the unit 'variant' is the arm's field; the unit is what is assigned an "
       "arm, e.g. user_id or session_id"},
      {"value", head + split + "    metrics:\n      - {name: m, value: count(), goal: increase}\n",
       "e.yaml:7:26: an experiment metric's value is one of ratio(CONDITION), avg(FIELD) or "
       "quantile(Q, FIELD)"},
      {"goal", head + split + "    metrics:\n      - {name: m, value: ratio(ok)}\n",
       "e.yaml:7:9: experiment metric 'm' needs a 'goal' (increase or decrease) or a "
       "'guardrail'"},
      {"avg", head + split + "    metrics:\n      - {name: m, value: avg(ms), goal: decrease}\n",
       "e.yaml:7:9: experiment metric 'm' averages a field, so it needs its own 'min_effect': "
       "the smallest difference worth detecting, in the field's unit"},
      {"window", head + split + "    window: sliding 1h every 5m\n" + metric,
       "e.yaml:6:13: 'sliding 1h every 5m' is not a tumbling or calendar window (how often the "
       "experiment is evaluated, e.g. 1h or calendar day)"},
      {"stream field",
       stream + head + split +
           "    metrics:\n      - {name: m, from: s, value: ratio(n > 1), goal: increase}\n",
       "e.yaml:12:25: the records of 's' have no field 'variant', which experiment 'x' needs (its "
       "arm); emit it in 's'"},
      {"taken name",
       "metrics:\n  - {metric: experiment_units, window: tumbling 1m, value: count()}\n" + head +
           split + metric,
       "e.yaml:4:17: metric 'experiment_units' (e.yaml:2:14) has the name of an experiment's "
       "output; rename it"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.what);
    RuleLoadResult r = LoadRuleSources({{"e.yaml", c.yaml}});
    ASSERT_EQ(r.errors.size(), 1u) << (r.errors.empty() ? "" : r.errors[0].ToString()) << "\n"
                                   << (r.errors.size() > 1 ? r.errors[1].ToString() : "");
    EXPECT_EQ(r.errors[0].ToString(), c.error);
  }
}

}  // namespace
}  // namespace vigil
