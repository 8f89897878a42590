#include "rules/expr_compiler.h"

#include "base/strings.h"

namespace vigil {

namespace {

bool Numeric(Type t) { return t == Type::kNumber || t == Type::kDuration; }

// Whether a value of static type `have` can stand where `want` is needed;
// kAny (a field) is checked per event instead.
bool Fits(Type have, Type want) {
  if (want == Type::kAny || have == Type::kAny) return true;
  if (want == Type::kNumber) return Numeric(have);
  return have == want;
}

std::string_view Article(Type t) { return t == Type::kAny || t == Type::kNull ? "" : "a "; }

bool IsAggregateName(std::string_view name) {
  static constexpr std::string_view kAggs[] = {"count",    "sum",  "avg",  "min",   "max",
                                               "ratio",    "rate", "last", "first", "distinct",
                                               "quantile", "any",  "all"};
  for (std::string_view a : kAggs) {
    if (a == name) return true;
  }
  return false;
}

}  // namespace

std::optional<Resolved> EventScope::ResolveName(const ExprNode& name, ExprError* err) {
  if (std::optional<std::string> undeclared = fields_->Undeclared(name.text)) {
    *err = {name.pos, *undeclared};
    return std::nullopt;
  }
  return Resolved{fields_->Intern(name.text), Type::kAny};
}

std::optional<Resolved> EventScope::ResolveCall(const ExprNode& call, ExprError* err) {
  if (IsAggregateName(call.text)) {
    *err = {call.pos, StrCat("aggregate '", call.text,
                             "' is only allowed in a metric's value, not over one event")};
  } else {
    *err = {call.pos, StrCat("unknown function '", call.text,
                             "'; per-event expressions use fields, literals and operators")};
  }
  return std::nullopt;
}

bool ExprCompiler::Compile(const ExprNode& node, Type want, Program* out, ExprError* err,
                           Type* type) {
  depth_ = max_depth_ = 0;
  std::optional<Type> t = EmitOperand(node, want, out, err);
  if (!t) return false;
  if (type != nullptr) *type = want == Type::kBool ? Type::kBool : *t;
  if (want == Type::kBool && *t != Type::kBool) out->Emit(OpCode::kToBool);
  if (max_depth_ > Program::kMaxStack) {
    *err = {node.pos, "expression too deeply nested"};
    return false;
  }
  out->Peephole();
  return true;
}

bool ExprCompiler::Require(const ExprNode& operand, Type have, Type want, std::string_view what,
                           ExprError* err) {
  if (Fits(have, want)) return true;
  *err = {operand.pos, StrCat(what, " needs ", Article(want), TypeName(want), ", got ",
                              Article(have), TypeName(have), " '", ExprToString(operand), "'")};
  return false;
}

std::optional<Type> ExprCompiler::EmitOperand(const ExprNode& n, Type want, Program* p,
                                              ExprError* err, std::string_view what) {
  if (n.op == ExprOp::kName) {
    std::optional<Resolved> r = scope_->ResolveName(n, err);
    if (!r) return std::nullopt;
    p->Emit(OpCode::kLoad, static_cast<uint32_t>(r->slot));
    max_depth_ = std::max(max_depth_, ++depth_);
    if (r->type == Type::kAny && want != Type::kAny) {
      if (std::optional<std::string> msg = scope_->Expect(r->slot, want)) {
        *err = {n.pos, *msg};
        return std::nullopt;
      }
      return r->type;
    }
    if (!Fits(r->type, want)) {
      *err = {n.pos, StrCat("'", n.text, "' is ", Article(r->type), TypeName(r->type),
                            ", expected ", Article(want), TypeName(want))};
      return std::nullopt;
    }
    return r->type;
  }
  std::optional<Type> t = Emit(n, p, err);
  if (!t) return std::nullopt;
  if (what.empty()) what = "this position";
  if (!Require(n, *t, want, what, err)) return std::nullopt;
  return t;
}

std::optional<Type> ExprCompiler::Emit(const ExprNode& n, Program* p, ExprError* err) {
  switch (n.op) {
    case ExprOp::kLiteral:
      p->Emit(OpCode::kConst, p->AddConst(n.literal));
      max_depth_ = std::max(max_depth_, ++depth_);
      return n.literal_type;
    case ExprOp::kName:
      return EmitOperand(n, Type::kAny, p, err);
    case ExprOp::kCall: {
      std::optional<Resolved> r = scope_->ResolveCall(n, err);
      if (!r) return std::nullopt;
      p->Emit(OpCode::kLoad, static_cast<uint32_t>(r->slot));
      max_depth_ = std::max(max_depth_, ++depth_);
      return r->type;
    }
    case ExprOp::kNeg:
      if (!EmitOperand(*n.args[0], Type::kNumber, p, err, "'-'")) return std::nullopt;
      p->Emit(OpCode::kNeg);
      return Type::kNumber;
    case ExprOp::kNot:
      if (!EmitOperand(*n.args[0], Type::kBool, p, err, "'not'")) return std::nullopt;
      p->Emit(OpCode::kNot);
      return Type::kBool;
    case ExprOp::kAdd:
    case ExprOp::kSub:
    case ExprOp::kMul:
    case ExprOp::kDiv:
    case ExprOp::kMod: {
      const std::string what = StrCat("operator '", ExprOpSymbol(n.op), "'");
      for (const auto& arg : n.args) {
        if (!EmitOperand(*arg, Type::kNumber, p, err, what)) return std::nullopt;
      }
      p->Emit(static_cast<OpCode>(static_cast<int>(OpCode::kAdd) +
                                  (static_cast<int>(n.op) - static_cast<int>(ExprOp::kAdd))));
      --depth_;
      return Type::kNumber;
    }
    case ExprOp::kAnd:
    case ExprOp::kOr:
      return EmitLogic(n, p, err);
    case ExprOp::kIn:
    case ExprOp::kNotIn:
      return EmitIn(n, p, err);
    default:
      return EmitCompare(n, p, err);
  }
}

std::optional<Type> ExprCompiler::EmitLogic(const ExprNode& n, Program* p, ExprError* err) {
  const std::string what = StrCat("'", ExprOpSymbol(n.op), "'");
  if (!EmitOperand(*n.args[0], Type::kBool, p, err, what)) return std::nullopt;
  size_t jump = p->size();
  p->Emit(n.op == ExprOp::kAnd ? OpCode::kJumpFalseOrPop : OpCode::kJumpTrueOrPop);
  --depth_;
  if (!EmitOperand(*n.args[1], Type::kBool, p, err, what)) return std::nullopt;
  p->Emit(OpCode::kToBool);
  p->Patch(jump, static_cast<uint32_t>(p->size()));
  return Type::kBool;
}

std::optional<Type> ExprCompiler::EmitCompare(const ExprNode& n, Program* p, ExprError* err) {
  const ExprNode& lhs = *n.args[0];
  const ExprNode& rhs = *n.args[1];
  const bool ordering = n.op != ExprOp::kEq && n.op != ExprOp::kNe;
  // A field compared with a literal takes the literal's type; a field
  // ordered against another field must be a number. Only names take an
  // expectation: other operands have a static type, and the checks below
  // report a mismatch as what it is ("comparing a number with a string").
  auto expect_for = [&](const ExprNode& self, const ExprNode& other) {
    if (self.op != ExprOp::kName) return Type::kAny;
    Type t = other.op == ExprOp::kLiteral ? other.literal_type : Type::kAny;
    if (t == Type::kDuration) t = Type::kNumber;
    if (t == Type::kNull) t = Type::kAny;
    if (ordering && t == Type::kAny) t = Type::kNumber;
    return t;
  };
  std::optional<Type> a = EmitOperand(lhs, expect_for(lhs, rhs), p, err);
  if (!a) return std::nullopt;
  std::optional<Type> b = EmitOperand(rhs, expect_for(rhs, lhs), p, err);
  if (!b) return std::nullopt;
  const bool known = *a != Type::kAny && *b != Type::kAny;
  const bool same = (Numeric(*a) && Numeric(*b)) || *a == *b;
  if (ordering) {
    const bool orderable = (Numeric(*a) || *a == Type::kString || *a == Type::kAny) &&
                           (Numeric(*b) || *b == Type::kString || *b == Type::kAny);
    if (!orderable || (known && !same)) {
      *err = {n.pos, StrCat("cannot order ", Article(*a), TypeName(*a), " and ", Article(*b),
                            TypeName(*b), " with '", ExprOpSymbol(n.op), "'")};
      return std::nullopt;
    }
  } else if (known && !same && *a != Type::kNull && *b != Type::kNull) {
    *err = {n.pos, StrCat("comparing ", Article(*a), TypeName(*a), " with ", Article(*b),
                          TypeName(*b), " is always ", n.op == ExprOp::kEq ? "false" : "true")};
    return std::nullopt;
  }
  static constexpr OpCode kCodes[] = {OpCode::kEq, OpCode::kNe, OpCode::kLt,
                                      OpCode::kLe, OpCode::kGt, OpCode::kGe};
  p->Emit(kCodes[static_cast<int>(n.op) - static_cast<int>(ExprOp::kEq)]);
  --depth_;
  return Type::kBool;
}

std::optional<Type> ExprCompiler::EmitIn(const ExprNode& n, Program* p, ExprError* err) {
  std::vector<Value> values;
  Type item_type = Type::kAny;
  for (size_t i = 1; i < n.args.size(); ++i) {
    const ExprNode& item = *n.args[i];
    Type t = item.literal_type == Type::kDuration ? Type::kNumber : item.literal_type;
    if (t != Type::kNull) {
      if (item_type != Type::kAny && item_type != t) {
        *err = {item.pos, "the list after 'in' mixes types"};
        return std::nullopt;
      }
      item_type = t;
    }
    values.push_back(item.literal);
  }
  std::optional<Type> a = EmitOperand(*n.args[0], item_type, p, err);
  if (!a) return std::nullopt;
  p->Emit(OpCode::kIn, p->AddSet(std::move(values)), n.op == ExprOp::kNotIn ? 1 : 0);
  return Type::kBool;
}

}  // namespace vigil
