// rules/rule_set.h
//
// RuleSet is the compiled form of one or more rule files: windowed metrics
// (filter, window, grouping, aggregates, value), derived session streams
// that metrics may read instead of the events, and the alerts over them,
// with every expression type-checked and compiled and every template
// executed once against the labels it can see. Loading never stops at the
// first problem: all errors come back as `file:line:col: message`
// diagnostics, which is what `vigil check` prints.
//
// Example:
//   RuleLoadResult r = LoadRuleFiles({"deploy/rules/chatbot.yaml"});
//   if (!r.ok()) for (const Diagnostic& d : r.errors) std::cerr << d.ToString() << "\n";
//   const RuleSet& rules = *r.rules;
//   rules.metrics[0].name;   // "latency_p50_ms"
#ifndef VIGIL_RULES_RULE_SET_H_
#define VIGIL_RULES_RULE_SET_H_

#include <cmath>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "rules/field_table.h"
#include "rules/history.h"
#include "rules/metric_names.h"
#include "rules/program.h"
#include "rules/silence.h"
#include "rules/source_pos.h"
#include "rules/template.h"
#include "windows/accumulator.h"
#include "windows/window_spec.h"

namespace vigil {

struct Diagnostic {
  SourcePos pos;
  std::string message;
  bool warning = false;
  std::string ToString() const;
};

// The default `limit:` of a metric: the most groups (series) it holds panes
// for at once. An event of a new group over the limit is counted and
// dropped (operators/dataflow/metric_operator.h), so a label of unbounded
// cardinality (a session id in `by:`) cannot exhaust memory.
inline constexpr int64_t kDefaultSeriesLimit = 10000;
// The default `limit:` of a stream: the most sessions open at once. An
// event that would open one more is counted and dropped.
inline constexpr int64_t kDefaultSessionLimit = 10'000'000;
// The default `limit:` of a join: the most events waiting for a match at
// once (both sides). An event over it still matches the events waiting,
// but is not kept for later ones; it is counted as dropped.
inline constexpr int64_t kDefaultJoinLimit = 10'000'000;

// One entry of a rule file's `schema:`: the range a numeric event field
// must lie in (both ends inclusive; an absent end is unbounded).
struct FieldBound {
  std::string path;
  int slot = -1;  // in RuleSet::fields
  double min;
  double max;
  SourcePos pos;
};

// One aggregate call in a metric's value, e.g. quantile(0.99, latency_ms).
struct AggregateCall {
  AggKind kind;
  double q = 0;  // quantile
  bool has_arg = false;
  Program arg;             // predicate (count/ratio/rate) or value (the rest)
  std::string arg_source;  // canonical text of the argument, "" without one
};

struct MetricDef {
  std::string name;
  std::string help;
  SourcePos pos;
  // The stream the metric reads (`from:`), an index into RuleSet::streams;
  // -1 for the events themselves. Field slots and programs of a metric
  // from a stream refer to that stream's record fields.
  int from = -1;
  bool has_where = false;
  Program where;
  std::string where_source;
  WindowSpec window = WindowSpec::Tumbling(60000);
  std::vector<std::string> by;  // label names (the field paths with '.' as '_')
  std::vector<int> by_slots;    // field slots of the group fields
  std::vector<AggregateCall> aggregates;
  Program value;  // over aggregate results, slot i = aggregates[i]
  std::string value_source;
  // Canonical text of the definition; equal definitions keep state on reload.
  std::string fingerprint;
  // Kept for dashboards and the results feed: no "unused" lint without alerts.
  bool exported = false;
  // The unit of the values (`unit:`): the name and scale on /metrics
  // (ExportName in rules/metric_names.h).
  MetricUnit unit = MetricUnit::kNone;
  int64_t limit = kDefaultSeriesLimit;  // most groups at once (`limit:`)
  // An SLO's budget exhaustion forecast: not its value program but, at each
  // window end, metrics[remaining] × window / metrics[burn] in seconds
  // (0 once the budget is spent; no value while nothing burns).
  struct Forecast {
    int remaining = -1;
    int burn = -1;
    DurationMs window = 0;
  };
  std::optional<Forecast> forecast;
  // An SLO's burn rate: not its value program's ratio(bad) / budget, two
  // roundings, but the one ratio aggregate over num / den, the budget as an
  // exact fraction, in one rounding (Accumulator::RatioOver): a burn of
  // exactly a factor equals the factor, and does not fire.
  struct RatioDivisor {
    uint64_t num = 1;
    uint64_t den = 1;
  };
  std::optional<RatioDivisor> ratio_divisor;
  // An SLO's burn rate over the last day: `vigil replay` reports the windows
  // ending at midnight UTC as that day's budget use (rules/slo_loader.cc).
  std::string slo_daily;      // the SLO's name, "" for other metrics
  DurationMs slo_window = 0;  // the SLO's window
  // Metrics of one SLO (its name): they read the same events the same way
  // and differ only in window size, so they share one pane store
  // (windows/pane_store.h, views). Empty for the metrics of `metrics:`.
  std::string pane_group;
  // `target:` (e.g. "< 0.05"): the value the metric should stay on the
  // right side of, for the monthly tracker (TrackerDef) and the status page.
  struct Target {
    enum class Op : uint8_t { kLt, kLe, kGt, kGe };
    Op op = Op::kLt;
    double value = 0;
    bool Met(double v) const {
      switch (op) {
        case Op::kLt:
          return v < value;
        case Op::kLe:
          return v <= value;
        case Op::kGt:
          return v > value;
        case Op::kGe:
          return v >= value;
      }
      return false;
    }
    std::string_view OpText() const {
      return op == Op::kLt ? "<" : op == Op::kLe ? "<=" : op == Op::kGt ? ">" : ">=";
    }
  };
  std::optional<Target> target;
  // The part a metric plays in an experiment (ExperimentDef): none; an
  // input, aggregated like any metric but whose results carry their
  // aggregates (WindowResult::parts, ::sketch) to the experiment operator
  // and go nowhere else; or an output, computed by the experiment operator
  // from the inputs (no metric operator runs it).
  enum class ExperimentRole : uint8_t { kNone, kInput, kOutput };
  ExperimentRole experiment = ExperimentRole::kNone;
  bool internal() const { return experiment == ExperimentRole::kInput; }
};

// One `emit:` field of a stream: an expression over aggregates of the
// session's events, e.g. `any(type == "add_to_cart") and any(intent ==
// "recommendation")`.
struct EmitDef {
  std::string name;
  SourcePos pos;
  std::vector<AggregateCall> aggregates;  // kinds include first, any, all
  Program value;                          // slot i = aggregates[i]'s result
  std::string source;
  Type type = Type::kAny;  // of the value, when known statically
};

// What one slot of a join's pair holds (JoinDef::inputs): a field of the
// left or right event, an event's time, or whether the pair matched.
struct PairInput {
  enum class Kind : uint8_t { kLeftField, kRightField, kLeftTs, kRightTs, kMatched };
  Kind kind;
  int event_slot = -1;  // in RuleSet::fields, for the two field kinds
  std::string path;     // the event field, for the two field kinds
};

// An interval join (`joins:`): an event of the left side and one of the
// right side with the same key whose times satisfy
//   left.ts + lower <= right.ts <= left.ts + upper
// make one record, at event time max(left.ts, right.ts). A left join
// (`kind: left`) also emits a left event no right matched, once, at
// left.ts + max(upper, 0), when no match is possible any more.
struct JoinDef {
  bool has_left_where = false;
  Program left_where;  // over events
  std::string left_where_source;
  bool has_right_where = false;
  Program right_where;
  std::string right_where_source;
  DurationMs lower = 0;
  DurationMs upper = 0;
  bool keep_unmatched_left = false;  // kind: left
  // unmatched_right: dead_letter: a right event no left matched goes to the
  // dead-letter output (reason `unmatched`) as well as being counted.
  bool dead_letter_unmatched_right = false;
  // The slots the emit programs read, in order; an event waiting for its
  // match keeps the values of its side's fields only.
  std::vector<PairInput> inputs;
};

// A derived stream: sessions (`streams:`), one record per closed session
// window of a key, at event time the session's end minus 1 ms (the last
// event time + gap - 1), the time at which the session is known complete;
// or a join (`joins:`, JoinDef).
enum class StreamKind : uint8_t { kSession, kJoin };
struct StreamDef {
  StreamKind kind = StreamKind::kSession;
  std::string name;
  std::string help;
  SourcePos pos;
  bool has_where = false;
  Program where;  // over events
  std::string where_source;
  std::string key_path;  // event field path, e.g. session_id
  int key_slot = -1;     // in RuleSet::fields
  DurationMs gap = 0;    // sessions
  JoinDef join;          // joins
  // Sessions: aggregates over the session's events; joins: expressions
  // over the pair (JoinDef::inputs), without aggregates.
  std::vector<EmitDef> emit;
  // The record's fields, in slot order: the key (named as a label, e.g.
  // session_id), duration_ms (sessions: last - first event time) or
  // delay_ms (joins: right.ts - left.ts, missing when unmatched), then the
  // emits.
  FieldTable fields;
  // Canonical text of the definition; equal definitions keep state on reload.
  std::string fingerprint;
  // Most sessions open at once, or events of a join waiting (`limit:`).
  int64_t limit = kDefaultSessionLimit;
};
inline constexpr int kStreamKeySlot = 0;
inline constexpr int kStreamDurationSlot = 1;
inline constexpr int kJoinDelaySlot = 1;
inline constexpr int kStreamFirstEmitSlot = 2;

// A record output (`outputs:`): the records of a stream or join, or the
// events themselves, that pass `where:`, each written out as one JSON
// object of its event time and the chosen fields (operators/sink/
// record_output.h writes them).
struct OutputDef {
  std::string name;  // letters, digits, '_' and '-': a file or topic name
  std::string help;
  SourcePos pos;
  int from = -1;  // a stream (RuleSet::streams), or -1 for the events
  bool has_where = false;
  Program where;  // over the stream's records, or the events
  std::string where_source;
  std::vector<std::string> fields;  // JSON keys, in order
  std::vector<int> slots;           // their slots in the records or events
};

enum class Severity : uint8_t { kP1 = 1, kP2, kP3, kP4 };
std::string_view SeverityName(Severity s);

// `inhibited_by:` of an alert: while `alert` fires for a group whose
// `equal` labels have the same values, this alert is not notified.
struct Inhibition {
  std::string alert;         // the inhibiting alert's name
  std::vector<int> sources;  // the indices in RuleSet::alerts of every alert of that name
  std::vector<std::string> equal;
  SourcePos pos;
};

struct AlertDef {
  std::string name;
  SourcePos pos;
  Severity severity = Severity::kP1;
  // Metric indices; slot i of the programs reads metrics[i]: its current
  // value, or the history function metrics.Input(i) of it.
  AlertInputs metrics;
  size_t expr_slots = 0;  // slots `expr` names; those of `resolve` follow
  Program expr;
  std::string expr_source;
  SourcePos expr_pos;  // of the expression's first character
  bool has_resolve = false;
  // `expr` is "VALUE < c" (or <=, or c > VALUE): the lower its value, the
  // further past the threshold, so its peak is its lowest value.
  bool lower_is_worse = false;
  Program resolve;  // hysteresis: firing ends only when this holds
  std::string resolve_source;
  SourcePos resolve_pos;
  DurationMs for_duration = 0;
  SourcePos for_pos;  // of the `for:` value; the alert's position without one
  DurationMs keep_firing_for = 0;
  Labels labels;                          // static labels from the rule
  std::vector<std::string> group_labels;  // `by:` labels of its metrics
  std::vector<std::pair<std::string, Template>> annotations;
  std::vector<Inhibition> inhibited_by;
  // Canonical text of what keeps its state on reload and restore: name,
  // severity, the conditions by meaning (`s >  3000.0` is `s > 3000`),
  // durations and static labels (a receiver tells pages apart by them).
  std::string fingerprint;
};

// An SLO (`slos:`): the share of valid events that are good, over a rolling
// window, with the multiwindow multi-burn-rate alerts of the Google SRE
// Workbook. It compiles into ordinary metrics that share one pane store
// (MetricDef::pane_group) and alerts over them:
//   slo_<name>_sli                      good / valid over the SLO window
//   slo_<name>_error_budget_remaining   1 - bad / (valid × (1 - objective)), same window
//   slo_<name>_burn_rate_<w>            bad / valid / (1 - objective) over each burn
//                                       window w, and over 1d (for the daily budget)
//   slo_<name>_budget_exhaustion_seconds  remaining × window / the first pair's
//                                       long burn rate: when the budget runs out
// and alerts <Name>FastBurn (page) and <Name>SlowBurn (ticket) that fire when
// both windows of one of their pairs burn faster than its factor.
struct BurnRateRule {
  DurationMs long_window = 0;
  DurationMs short_window = 0;
  double factor = 0;
  bool page = true;  // else ticket
};
struct SloDef {
  std::string name;  // as written, e.g. chat-latency
  SourcePos pos;
  double objective = 0.99;
  DurationMs window = 30 * 86'400'000LL;
  DurationMs pane = 0;  // the slide of its metrics
  std::vector<BurnRateRule> burn_rates;
  std::vector<std::string> by;
  int sli_metric = -1;
  int remaining_metric = -1;
  int daily_metric = -1;     // burn rate over the last day
  int forecast_metric = -1;  // budget exhaustion, computed from the two below
  int forecast_burn_metric = -1;

  // The error budget, 1 - objective, as the decimal it is: in binary
  // floating point 1 - 0.9 is 0.09999999999999998, and a share of bad events
  // of exactly 0.1 would burn at 1.0000000000000002, faster than a factor of
  // 1. Objectives have far fewer than 12 decimals.
  double ErrorBudget() const { return std::round((1 - objective) * 1e12) / 1e12; }
  // Whether a pair of this factor can fire: burn rates are at most
  // 1 / budget (every event bad), and a pair fires only above its factor.
  bool CanFire(double factor) const { return factor * ErrorBudget() < 1; }
};

// An A/B experiment (`experiments:`): units (`unit:`, e.g. session_id) are
// assigned to arms (`arm:`, the field naming the arm) in a declared split;
// each metric compares every other arm with the control, continuously and
// without the peeking problem (operators/experiment/sequential_test.h).
//
// It compiles into input metrics (MetricDef::ExperimentRole::kInput) over
// the experiment's window:
//   units      by [arm, unit]: one result per unit active in a window (SRM)
//   ratio/avg  by [arm, unit]: per unit the numerator and denominator, so
//              that the variance is the units' (the delta method), not the
//              events'
//   quantile   by [arm]: the window's sketch per arm
// and the operator (operators/dataflow/experiment_operator.h) sums them
// over the windows since the experiment started into the published output
// metrics (experiment_value, experiment_p_value, ...; kOutput).
struct ExperimentMetricDef {
  enum class Kind : uint8_t { kRatio, kMean, kQuantile };
  enum class Goal : uint8_t { kNone, kIncrease, kDecrease };
  std::string name;
  SourcePos pos;
  Kind kind = Kind::kRatio;
  double q = 0.5;  // quantile
  std::string value_source;
  Goal goal = Goal::kNone;
  // A guardrail: the treatment may be worse than the control by at most
  // this share of the control's value (0.1 for `max_regression: 10%`);
  // "worse" is the opposite of the goal, higher when there is none.
  bool guardrail = false;
  double max_regression = 0;
  double min_effect = 0;  // τ of the mixture, on the metric's scale
  int input = -1;         // its input metric (RuleSet::metrics)
};
struct ExperimentDef {
  std::string name;
  SourcePos pos;
  std::string arm;   // label (field path, '.' as '_') and field path
  std::string unit;  // likewise
  std::string arm_path, unit_path;
  // The arms and their declared shares, the control first.
  std::vector<std::pair<std::string, double>> split;
  double alpha = 0.05;
  WindowSpec window = WindowSpec::Tumbling(3'600'000);
  int units_input = -1;  // RuleSet::metrics
  std::vector<ExperimentMetricDef> metrics;
  // Canonical text of the definition.
  std::string fingerprint;
  // Of what its state holds: its name, arm and unit fields, window, arms
  // and metrics, not the decision's settings (alpha, shares, goals,
  // regression bounds, minimum effects). Equal ones keep the units' sums on
  // reload and restore; the running confidence sequences only when the
  // fingerprints are equal too.
  std::string state_fingerprint;
};
// The output metrics of every experiment (their names and labels).
inline constexpr std::string_view kExperimentOutputs[] = {
    "experiment_units",          "experiment_srm_p_value", "experiment_sample_ratio_mismatch",
    "experiment_value",          "experiment_difference",  "experiment_ci_lower",
    "experiment_ci_upper",       "experiment_p_value",     "experiment_decision",
    "experiment_crossover_units"};
// experiment_decision's values.
enum class ExperimentDecision : int {
  kControlWins = -1,
  kNoDifferenceYet = 0,
  kTreatmentWins = 1,
  kGuardrailBreached = 2,
};
std::string_view ExperimentDecisionName(ExperimentDecision d);

// A tracker (`trackers:`): the runbook's monthly improvement table, one row
// per calendar month, one column per metric (each with `window: calendar
// month`, no `by:`, and usually a `target:`); `vigil report tracker` and
// the status page print it (runtime/tracker_report.h).
struct TrackerDef {
  struct Column {
    int metric = -1;    // RuleSet::metrics
    std::string title;  // the column's heading, e.g. "Escalation Rate"
  };
  std::string name;
  std::string help;
  SourcePos pos;
  std::vector<Column> columns;
};

struct RuleSet {
  FieldTable fields;
  std::vector<FieldBound> schema;  // also in fields (FieldTable::range)
  std::vector<StreamDef> streams;
  std::vector<MetricDef> metrics;
  std::vector<AlertDef> alerts;
  std::vector<OutputDef> outputs;
  std::vector<SilenceDef> silences;
  std::vector<SloDef> slos;
  std::vector<ExperimentDef> experiments;
  std::vector<TrackerDef> trackers;
  // The output metric of each name of kExperimentOutputs, in that order
  // (empty without experiments).
  std::vector<int> experiment_outputs;
  std::vector<std::string> files;
  // Files that define nothing (empty, only comments, or only empty
  // sections): fine next to others, a warning of LintRules.
  std::vector<std::string> empty_files;
  // While loading: metrics whose definitions have errors (reported), so
  // that an alert over one is left out without a second error.
  std::set<std::string> failed_metrics;
  // Likewise streams and joins: a metric, output or experiment reading one
  // is left out without an "unknown stream" error.
  std::set<std::string> failed_streams;
  std::optional<int> FindMetric(std::string_view name) const;
  // The metrics a user sees (/api/status, vigil check): all but the
  // experiments' inputs.
  size_t VisibleMetricCount() const {
    size_t n = 0;
    for (const MetricDef& m : metrics) n += m.internal() ? 0 : 1;
    return n;
  }
  std::optional<int> FindStream(std::string_view name) const;
  // An alert's evaluation interval, the unit of its held time: the slide of
  // the window of its first metric (the size, for a tumbling window).
  DurationMs EvaluationStep(const AlertDef& a) const;
};

struct RuleLoadResult {
  std::unique_ptr<RuleSet> rules;  // null when there are errors
  std::vector<Diagnostic> errors;
  std::vector<Diagnostic> warnings;
  bool ok() const { return rules != nullptr; }
};

// A rule file given by path, or by name and content (embedded rules, tests).
struct RuleSource {
  std::string name;
  std::string content;
};

RuleLoadResult LoadRuleFiles(const std::vector<std::string>& paths);
RuleLoadResult LoadRuleSources(const std::vector<RuleSource>& sources);

}  // namespace vigil

#endif  // VIGIL_RULES_RULE_SET_H_
