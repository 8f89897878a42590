// operators/dataflow/experiment_operator.h
//
// ExperimentOperator runs one `experiments:` entry (rules/rule_set.h,
// ExperimentDef). Its input metrics are aggregated like any metric (panes,
// workers, partials, merge); at each window close it takes their results,
// adds them to what it has summed since the experiment started, and
// publishes the output metrics for that window end:
//
//   experiment_units{experiment,arm}             distinct units per arm so far
//   experiment_crossover_units{experiment}       units seen in more than one arm
//   experiment_srm_p_value{experiment}           chi-square against the split
//   experiment_sample_ratio_mismatch{experiment} 1 when that p-value < 0.001
//   experiment_value{experiment,metric,arm}      each arm's value
//   experiment_difference / _ci_lower / _ci_upper / _p_value / _decision
//                                   {experiment,metric,arm}, per treatment arm
//
// Per metric kind, what is compared (always-valid, mSPRT with τ =
// min_effect; operators/experiment/sequential_test.h):
//   ratio(c), avg(x)  the ratio of per-unit sums Σy / Σd, its variance per
//                     unit by the delta method:
//                     (s_yy − 2 R s_yd + R² s_dd) / d̄²
//                     (each unit one observation: its y and d summed over
//                     every window it is active in)
//   quantile(q, x)    the share of each arm's values above the control's
//                     q-quantile (values in the quantile's own bucket count
//                     half): the control's is about 1 − q, and a treatment
//                     whose values run higher has more. The difference is in
//                     that share, not in ms. Each unit is one observation
//                     here too: y its values above the line, d its values,
//                     with the same delta-method variance; so the operator
//                     keeps each unit's sketch since the start, and the arms'
//                     sketches are the merges of their units'.
// A guardrail (`max_regression: r`) compares the treatment with the control
// moved by r in the worse direction (R_c·(1 ± r), or for quantiles the
// treatment's share beyond the control's quantile × (1 ± r)); it is breached
// when the confidence sequence of that difference lies wholly on the worse
// side. Decisions: guardrail_breached first, then treatment_wins /
// control_wins when the confidence sequence excludes 0 on the goal's side,
// else no_difference_yet. The confidence sequence is the running
// intersection of each window's interval; should it become empty (the
// difference moved, e.g. the treatment changed mid-run, which the test
// assumes it does not), the latest interval is published instead.
//
// A unit counts when any input sees it with a declared arm. A unit seen in
// more than one arm, an undeclared one included (its assignment is not
// sticky), is left out from then on: it leaves its arm's count, its totals
// and its sketch; it is counted in experiment_crossover_units.
//
// The state is the units seen, each unit's totals, and sums and sketches
// updated in the order results arrive (by window end, metric, group), so
// the outputs are byte-identical whatever the worker count, instance count
// or checkpoint restores.
//
// Example:
//   ExperimentOperator op(rules, rules.experiments[0]);
//   op.Close(&results);   // takes its inputs out, appends its outputs
#ifndef VIGIL_OPERATORS_DATAFLOW_EXPERIMENT_OPERATOR_H_
#define VIGIL_OPERATORS_DATAFLOW_EXPERIMENT_OPERATOR_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "base/codec.h"
#include "operators/dataflow/sink.h"
#include "operators/experiment/sequential_test.h"
#include "rules/rule_set.h"
#include "windows/ddsketch.h"

namespace vigil {

class ExperimentOperator {
 public:
  ExperimentOperator(const RuleSet& rules, const ExperimentDef& def);

  // Whether `r` is one of this experiment's inputs.
  bool Reads(const WindowResult& r) const;
  // The inputs of one window end, in the order Dataflow::Close sorts them;
  // appends the outputs for that end to `out`.
  void CloseWindow(const std::vector<const WindowResult*>& inputs, std::vector<WindowResult>* out);

  const ExperimentDef& def() const { return def_; }
  // "experiment/6:" and the definition's state fingerprint: an experiment
  // whose arms or metrics changed starts afresh; one whose decision
  // settings changed (alpha, shares, goals, bounds) keeps its units' sums,
  // and its confidence sequences start again from them.
  const std::string& state_key() const { return state_key_; }
  // The keys of earlier encodings ("experiment/5:" and "experiment/4:" with
  // the whole fingerprint), which DecodeState reads as well: a checkpoint
  // taken before an upgrade keeps its experiments.
  const std::string& previous_state_key() const { return previous_state_key_; }
  const std::string& legacy_state_key() const { return legacy_state_key_; }
  void EncodeState(Encoder* enc) const;
  bool DecodeState(Decoder* dec);
  // On a rule reload: takes over `old`'s sums if it is the same experiment.
  bool AdoptState(ExperimentOperator& old);
  // The experiment had a state the rules changed too much to keep (a reload
  // or restore under other arms or metrics): its figures from now on miss
  // the units seen before, so every output is partial (never an alert).
  // A new experiment name starts a new, complete run.
  void MarkStartedOver() { started_over_ = true; }
  // Whether it reads the records of stream `s` (RuleSet::streams).
  bool ReadsStream(int s) const {
    for (const ExperimentMetricDef& m : def_.metrics) {
      if (rules_.metrics[static_cast<size_t>(m.input)].from == s) return true;
    }
    return false;
  }
  bool started_over() const { return started_over_; }

 private:
  // Per-unit observation sums of one arm (a quantile's shares, whose
  // values are counts of one unit's events).
  struct Sums {
    double n = 0, y = 0, d = 0, yy = 0, dd = 0, yd = 0;
    // Adds one unit's (y, d) with weight w (−1 takes it out again).
    void Add(double uy, double ud, double w) {
      n += w;
      y += w * uy;
      d += w * ud;
      yy += w * uy * uy;
      dd += w * ud * ud;
      yd += w * uy * ud;
    }
  };
  // arm_of_'s marks: a unit seen in more than one arm, and a unit seen only
  // in an arm the split does not declare (one that later shows up in a
  // declared arm has crossed over too).
  static constexpr int kCrossed = -1;
  static constexpr int kUndeclared = -2;
  // One unit's numerator and denominator over every window so far, and
  // its arm.
  struct Totals {
    double y = 0, d = 0;
    int arm = 0;
  };
  // One arm's estimate: units, Σd, the ratio Σy / Σd, and the variance of
  // one unit's contribution (the delta method's; 0 while every unit agrees).
  struct Ratio {
    double n = 0, d = 0, value = 0, var = 0;
  };
  // One unit's values (quantile) over every window so far, as the
  // encoding of their sketch: a few dozen bytes for a user's handful of
  // latencies, where a DDSketch object alone takes 264.
  struct Values {
    int arm = 0;
    std::string sketch;
  };
  struct MetricState {
    // Per unit, while it has one arm (ratio, avg). The arms' estimates are
    // computed from it at each window end, in two passes (mean, then the
    // squared deviations): running sums of squares lose the variance of
    // values that are large against their spread (amounts in micro-units,
    // timestamps).
    absl::btree_map<std::string, Totals> totals;
    absl::btree_map<std::string, Values> values;  // likewise (quantile)
    // Per arm (quantile): the merge of its units' sketches; rebuilt from
    // `values` when a unit left (or after a restore).
    std::vector<DDSketch> arms;
    bool arms_stale = true;
    // Per treatment arm (arm index - 1).
    std::vector<SequentialTest> tests;
    std::vector<SequentialTest> guards;
  };
  struct Comparison {
    ArmEstimates test;
    std::optional<ArmEstimates> guard;
    double value_a = 0, value_b = 0;
  };

  int ArmOf(std::string_view label) const;
  // Records that `unit` was seen in `arm` (or kUndeclared); a second arm
  // crosses it out.
  void Assign(std::string_view unit, int arm);
  // An input's values, of `unit` in `arm`.
  void Accumulate(const WindowResult& r, int arm, std::string_view unit);
  // A quantile's shares for every arm at once; empty when the control or
  // every treatment has no values yet.
  struct Shares {
    std::vector<double> quantile;  // per arm
    std::vector<Sums> above;       // per arm: per unit, values above the control's quantile
    std::vector<Sums> guard;       // per arm: beyond the guardrail's line
  };
  Shares QuantileShares(const ExperimentMetricDef& m, MetricState& s) const;
  static Ratio RatioOf(const Sums& s);
  // A ratio or average metric's estimate for every arm, from its units'
  // totals.
  std::vector<Ratio> ArmRatios(const MetricState& s) const;
  std::optional<Comparison> Compare(const ExperimentMetricDef& m, const std::vector<Ratio>& ratios,
                                    const Shares& shares, size_t arm) const;
  void Publish(const WindowResult& at, size_t output, std::vector<std::string> labels, double value,
               std::vector<WindowResult>* out) const;

  const RuleSet& rules_;
  ExperimentDef def_;
  std::string state_key_;
  std::string previous_state_key_;
  std::string legacy_state_key_;
  bool started_over_ = false;
  // Fresh confidence sequences for every metric, under the definition's
  // alpha and minimum effects (the decision settings changed).
  void ResetTests();
  std::vector<int64_t> units_;                // per arm: its units
  int64_t crossed_ = 0;                       // units seen in more than one arm
  absl::btree_map<std::string, int> arm_of_;  // unit -> its arm, kCrossed or kUndeclared
  std::vector<MetricState> metrics_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_EXPERIMENT_OPERATOR_H_
