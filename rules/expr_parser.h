// rules/expr_parser.h
//
// The expression language of rule files, parsed once into an AST. The same
// syntax serves three places — event filters and aggregate arguments
// (`type == "message"`), metric values (`quantile(0.99, latency_ms)`) and
// alert conditions (`latency_p99_ms > 10000`) — and rules/expr_compiler.h
// decides what names and calls mean in each.
//
// Grammar, loosest binding first:
//   expr    := or
//   or      := and ("or" and)*
//   and     := not ("and" not)*
//   not     := "not" not | cmp
//   cmp     := sum (("=="|"!="|"<"|"<="|">"|">=") sum | "not"? "in" "[" literals "]")?
//   sum     := product (("+"|"-") product)*
//   product := unary (("*"|"/"|"%") unary)*
//   unary   := "-" unary | primary
//   primary := number | duration | string | true | false | null
//            | name ("." name)* | name "(" (expr ("," expr)*)? ")" | "(" expr ")"
// Durations are a number directly followed by a unit: 500ms, 30s, 5m, 1h30m.
//
// Errors carry the byte offset into the source so the rule loader can report
// `file:line:col:`.
//
// Example:
//   ExprParse r = ParseExpr("error_service != null or llm_timeout");
//   r.ok();                         // true
//   r.node->op;                     // ExprOp::kOr
//   ParseExpr("latency_ms >").error  // {pos 12, "expected an expression"}
#ifndef VIGIL_RULES_EXPR_PARSER_H_
#define VIGIL_RULES_EXPR_PARSER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rules/value.h"

namespace vigil {

enum class ExprOp : uint8_t {
  kLiteral,
  kName,  // a field path (events) or a metric name (alerts)
  kCall,
  kNeg,
  kNot,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAnd,
  kOr,
  kIn,  // args[0] in [args[1..]]
  kNotIn,
};

std::string_view ExprOpSymbol(ExprOp op);

struct ExprNode {
  ExprOp op;
  size_t pos = 0;  // byte offset of the node's first character
  Type literal_type = Type::kAny;
  Value literal;     // for kLiteral; a string's bytes live in `text`
  std::string text;  // name, function name, or string literal storage
  std::vector<std::unique_ptr<ExprNode>> args;
};

struct ExprError {
  size_t pos = 0;
  std::string message;
};

struct ExprParse {
  std::unique_ptr<ExprNode> node;
  ExprError error;
  bool ok() const { return node != nullptr; }
};

ExprParse ParseExpr(std::string_view source);

// Renders an AST back to source form (normalised spacing), for messages
// and for comparing rule definitions across reloads.
std::string ExprToString(const ExprNode& node);

}  // namespace vigil

#endif  // VIGIL_RULES_EXPR_PARSER_H_
