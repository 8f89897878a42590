// rules/expr_compiler.h
//
// ExprCompiler type-checks an expression AST and compiles it into a Program.
// What a bare name or a call means depends on where the expression stands,
// so the compiler asks an ExprScope:
//   - in filters and aggregate arguments a name is an event field path;
//   - in a metric's `value:` calls are aggregates (count, quantile, ...);
//   - in an alert's `expr:` a name is a metric and calls are functions over
//     a metric's window history.
// Type errors are reported with the offset of the offending node, e.g.
// comparing a number with a string, `and` over a number, arithmetic on a
// string, or a field used both as a number and as a boolean.
//
// Example:
//   EventScope scope(&fields);
//   ExprCompiler compiler(&scope);
//   Program p;
//   ExprError err;
//   compiler.Compile(*ParseExpr("latency_ms > 1000").node, Type::kBool, &p, &err);
#ifndef VIGIL_RULES_EXPR_COMPILER_H_
#define VIGIL_RULES_EXPR_COMPILER_H_

#include <optional>
#include <string>

#include "rules/expr_parser.h"
#include "rules/field_table.h"
#include "rules/program.h"

namespace vigil {

class ExprCompiler;

// A resolved name or call: the slot a program loads and its static type.
struct Resolved {
  int slot = 0;
  Type type = Type::kAny;
};

class ExprScope {
 public:
  virtual ~ExprScope() = default;
  virtual std::optional<Resolved> ResolveName(const ExprNode& name, ExprError* err) = 0;
  virtual std::optional<Resolved> ResolveCall(const ExprNode& call, ExprError* err) = 0;
  // Records that a name (a slot from ResolveName) must have `type`.
  virtual std::optional<std::string> Expect(int slot, Type type) {
    (void)slot;
    (void)type;
    return std::nullopt;
  }
};

// Names are event field paths; calls are not allowed.
class EventScope : public ExprScope {
 public:
  explicit EventScope(FieldTable* fields) : fields_(fields) {}
  std::optional<Resolved> ResolveName(const ExprNode& name, ExprError* err) override;
  std::optional<Resolved> ResolveCall(const ExprNode& call, ExprError* err) override;
  std::optional<std::string> Expect(int slot, Type type) override {
    return fields_->Expect(slot, type);
  }

 private:
  FieldTable* fields_;
};

class ExprCompiler {
 public:
  explicit ExprCompiler(ExprScope* scope) : scope_(scope) {}

  // Compiles `node` whose result must be `want` (kAny: anything; kBool: a
  // condition; kNumber: a value). Returns false with `err` set on error.
  // `type`, when given, receives the static type of the result.
  bool Compile(const ExprNode& node, Type want, Program* out, ExprError* err, Type* type = nullptr);

 private:
  std::optional<Type> Emit(const ExprNode& n, Program* p, ExprError* err);
  std::optional<Type> EmitOperand(const ExprNode& n, Type want, Program* p, ExprError* err,
                                  std::string_view what = "");
  std::optional<Type> EmitLogic(const ExprNode& n, Program* p, ExprError* err);
  std::optional<Type> EmitCompare(const ExprNode& n, Program* p, ExprError* err);
  std::optional<Type> EmitIn(const ExprNode& n, Program* p, ExprError* err);
  bool Require(const ExprNode& operand, Type have, Type want, std::string_view what,
               ExprError* err);

  ExprScope* scope_;
  int depth_ = 0;
  int max_depth_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_RULES_EXPR_COMPILER_H_
