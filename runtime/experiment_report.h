// runtime/experiment_report.h
//
// `vigil experiment report`: the runbook's experiment table, one line per
// metric and treatment arm, from the latest experiment_* outputs of a
// replay (ExperimentSink) or of a running job (its /api/rules and
// /api/metrics), e.g.
//
//   Experiment prompt_007: arm variant, unit user_id, control A (50%) vs B (50%)
//     units: A 10,254 · B 10,199; sample ratio ok (p = 0.72)
//     Thumbs up rate: A 68.0% vs B 73.0% (+5.0 pts, 95% CS [+2.1, +7.9], p = 0.003) → treatment
//     wins
//
// Ratios read as percentages and their differences in points; averages and
// quantiles in the field's unit, a quantile's difference as the points by
// which the treatment's share above the control's quantile exceeds the
// control's (operators/dataflow/experiment_operator.h).
//
// Example:
//   ExperimentResults results;
//   results.Add(window_result);               // each experiment_* output
//   std::string text = ExperimentReport(ExperimentInfos(rules), results, "text");
#ifndef VIGIL_RUNTIME_EXPERIMENT_REPORT_H_
#define VIGIL_RUNTIME_EXPERIMENT_REPORT_H_

#include <simdjson.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "operators/dataflow/sink.h"
#include "rules/rule_set.h"

namespace vigil {

// What the report needs of an experiment's definition; /api/rules carries
// it under "experiments".
struct ExperimentInfo {
  struct Metric {
    std::string name;
    std::string kind;  // ratio, mean, quantile
    std::string goal;  // increase, decrease, ""
    double q = 0;
    bool guardrail = false;
    double max_regression = 0;
  };
  std::string name, arm, unit;
  std::vector<std::pair<std::string, double>> split;  // the control first
  double alpha = 0.05;
  std::vector<Metric> metrics;
};
std::vector<ExperimentInfo> ExperimentInfos(const RuleSet& rules);
// Appends the JSON array of `infos`.
void AppendExperimentsJson(const std::vector<ExperimentInfo>& infos, std::string* json);
// Reads what AppendExperimentsJson wrote; false when it is not that.
bool ParseExperimentInfos(simdjson::dom::element array, std::vector<ExperimentInfo>* out);

// The latest value of each experiment_* series. An experiment's outputs
// belong together: a series without a value at the experiment's latest
// window end (a comparison the control arm has no units for any more) has
// none, rather than the value of an older window.
class ExperimentResults {
 public:
  // `labels` by name (experiment, metric, arm).
  void Add(std::string_view metric, const std::map<std::string, std::string>& labels, double value,
           TimeMs end);
  void Add(const WindowResult& r);
  // The series of /api/metrics (its JSON array); false when it is not one.
  bool AddApiMetrics(simdjson::dom::element array);
  std::optional<double> Get(std::string_view metric, std::string_view experiment,
                            std::string_view exp_metric = "", std::string_view arm = "") const;
  TimeMs as_of() const { return as_of_; }

 private:
  struct Latest {
    double value = 0;
    TimeMs end = kMinTime;
  };
  std::map<std::string, Latest, std::less<>> values_;
  std::map<std::string, TimeMs, std::less<>> experiment_end_;  // its latest window end
  TimeMs as_of_ = kMinTime;
};

// Collects the experiment outputs of a replay, partial windows included (a
// replay's last window holds its last events).
class ExperimentSink : public Sink {
 public:
  explicit ExperimentSink(ExperimentResults* out) : out_(out) {}
  void OnWindow(const WindowResult& r) override {
    if (r.def->experiment == MetricDef::ExperimentRole::kOutput) out_->Add(r);
  }
  void OnAlert(const AlertNotice&) override {}

 private:
  ExperimentResults* out_;
};

// `format`: text, markdown or json.
std::string ExperimentReport(const std::vector<ExperimentInfo>& infos,
                             const ExperimentResults& results, std::string_view format);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_EXPERIMENT_REPORT_H_
