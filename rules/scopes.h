// rules/scopes.h
//
// The name scopes of a metric's `value:` and of an alert's `expr:` (see
// rules/expr_compiler.h for the event scope). ValueScope turns aggregate
// calls into AggregateCalls whose results a value program reads by slot;
// AlertScope turns metric names into slots of the alert's metric list, and
// each distinct history call (avg_over(error_rate, 1h), absent(n, 10m); see
// rules/history.h) into one more slot that the alert operator fills.
//
// Example:
//   ValueScope scope(&fields, &metric.aggregates);
//   ExprCompiler(&scope).Compile(*ParseExpr("1 - ratio(escalated)").node, Type::kNumber,
//                                &metric.value, &err);
//   metric.aggregates.size();  // 1
#ifndef VIGIL_RULES_SCOPES_H_
#define VIGIL_RULES_SCOPES_H_

#include <string>
#include <vector>

#include "base/strings.h"
#include "rules/expr_compiler.h"
#include "rules/rule_set.h"

namespace vigil {

// Names are the fields of a stream's records (StreamDef::fields); unlike
// event fields, the set is closed, so an unknown name is an error.
class StreamScope : public ExprScope {
 public:
  StreamScope(FieldTable* fields, std::string_view stream) : fields_(fields), stream_(stream) {}
  std::optional<Resolved> ResolveName(const ExprNode& name, ExprError* err) override;
  std::optional<Resolved> ResolveCall(const ExprNode& call, ExprError* err) override;
  std::optional<std::string> Expect(int slot, Type type) override;

 private:
  FieldTable* fields_;
  std::string stream_;
};

class ValueScope : public ExprScope {
 public:
  enum class Mode {
    kMetric,   // a metric's value: numeric aggregates over a window
    kSession,  // a stream's emit: also first, any and all; results keep their type
  };
  // `stream`: the aggregates' arguments read that stream's records (a
  // metric `from:` it) instead of events.
  ValueScope(FieldTable* fields, std::vector<AggregateCall>* aggregates, Mode mode = Mode::kMetric,
             std::string_view stream = "")
      : fields_(fields), aggregates_(aggregates), mode_(mode), stream_(stream) {}
  std::optional<Resolved> ResolveName(const ExprNode& name, ExprError* err) override;
  std::optional<Resolved> ResolveCall(const ExprNode& call, ExprError* err) override;

 private:
  bool CompileArg(const ExprNode& arg, Type want, Program* out, ExprError* err,
                  Type* type = nullptr);
  bool LastReadsNumbers(const ExprNode& arg, Type arg_type, const Program& compiled,
                        ExprError* err);
  FieldTable* fields_;
  std::vector<AggregateCall>* aggregates_;
  Mode mode_;
  std::string stream_;
};

class AlertScope : public ExprScope {
 public:
  // Metric names only: without AlertInputs there is nowhere to record what a
  // history call reads, so calls are errors.
  AlertScope(const std::vector<MetricDef>* metrics, std::vector<int>* used)
      : metrics_(metrics), used_(used) {}
  // Metric names and history functions.
  //
  // Example:
  //   AlertScope scope(&rules.metrics, &alert.metrics);
  //   // compiled: zscore(error_rate, 1h) > 3 and error_rate > 0.01
  //   alert.metrics;                 // {e, e}: slot 0 the z-score, slot 1 the value
  //   alert.metrics.Input(0).fn;     // HistoryFn::kZscore
  AlertScope(const std::vector<MetricDef>* metrics, AlertInputs* inputs)
      : metrics_(metrics), used_(inputs), history_(&inputs->history) {}
  std::optional<Resolved> ResolveName(const ExprNode& name, ExprError* err) override;
  std::optional<Resolved> ResolveCall(const ExprNode& call, ExprError* err) override;

 private:
  std::optional<int> FindMetric(const ExprNode& name, ExprError* err) const;
  bool ReadSpan(HistoryFn fn, const ExprNode& arg, const MetricDef& metric, HistoryInput* in,
                ExprError* err) const;
  // The slot reading `in` of metric `m`, added if no earlier use reads it.
  int Slot(int m, const HistoryInput& in);

  const std::vector<MetricDef>* metrics_;
  std::vector<int>* used_;
  std::vector<HistoryInput>* history_ = nullptr;  // parallel to *used_ when set
};

// Suggest (the closest candidate within a small edit distance) is in
// base/strings.h.

}  // namespace vigil

#endif  // VIGIL_RULES_SCOPES_H_
