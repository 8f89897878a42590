// rules/scopes.h
//
// The name scopes of a metric's `value:` and of an alert's `expr:` (see
// rules/expr_compiler.h for the event scope). ValueScope turns aggregate
// calls into AggregateCalls whose results a value program reads by slot;
// AlertScope turns metric names into slots of the alert's metric list.
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

#include "rules/expr_compiler.h"
#include "rules/rule_set.h"

namespace vigil {

class ValueScope : public ExprScope {
 public:
  ValueScope(FieldTable* fields, std::vector<AggregateCall>* aggregates)
      : fields_(fields), aggregates_(aggregates) {}
  std::optional<Resolved> ResolveName(const ExprNode& name, ExprError* err) override;
  std::optional<Resolved> ResolveCall(const ExprNode& call, ExprError* err) override;

 private:
  bool CompileArg(const ExprNode& arg, Type want, Program* out, ExprError* err);
  FieldTable* fields_;
  std::vector<AggregateCall>* aggregates_;
};

class AlertScope : public ExprScope {
 public:
  AlertScope(const std::vector<MetricDef>* metrics, std::vector<int>* used)
      : metrics_(metrics), used_(used) {}
  std::optional<Resolved> ResolveName(const ExprNode& name, ExprError* err) override;
  std::optional<Resolved> ResolveCall(const ExprNode& call, ExprError* err) override;

 private:
  const std::vector<MetricDef>* metrics_;
  std::vector<int>* used_;
};

// The closest candidate within a small edit distance, or "".
std::string Suggest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace vigil

#endif  // VIGIL_RULES_SCOPES_H_
