#include "rules/program.h"

#include <cassert>
#include <cmath>
#include <new>
#include <optional>
#include <type_traits>

#include "base/strings.h"

namespace vigil {

namespace {

Value Arith(OpCode op, const Value& a, const Value& b) {
  if (!a.is_number() || !b.is_number()) return Value::Missing();
  switch (op) {
    case OpCode::kAdd:
      return Value::Number(a.num + b.num);
    case OpCode::kSub:
      return Value::Number(a.num - b.num);
    case OpCode::kMul:
      return Value::Number(a.num * b.num);
    case OpCode::kDiv:
      // x / 0 has no value: a ratio over an empty window is "no data", not inf.
      if (b.num == 0) return Value::Missing();
      return Value::Number(a.num / b.num);
    case OpCode::kMod:
      if (b.num == 0) return Value::Missing();
      return Value::Number(std::fmod(a.num, b.num));
    default:
      return Value::Missing();
  }
}

bool Order(OpCode op, const Value& a, const Value& b) {
  int c;
  if (a.is_number() && b.is_number()) {
    if (std::isnan(a.num) || std::isnan(b.num)) return false;
    c = a.num < b.num ? -1 : a.num > b.num ? 1 : 0;
  } else if (a.is_string() && b.is_string()) {
    c = a.str.compare(b.str);
  } else {
    return false;
  }
  switch (op) {
    case OpCode::kLt:
      return c < 0;
    case OpCode::kLe:
      return c <= 0;
    case OpCode::kGt:
      return c > 0;
    default:
      return c >= 0;
  }
}

}  // namespace

Value Program::EvalCode(const Value* slots) const { return Interpret<Value>(slots); }
bool Program::EvalCodeBool(const Value* slots) const { return Interpret<bool>(slots); }

template <typename Result>
Result Program::Interpret(const Value* slots) const {
  // Raw storage: default-constructing kMaxStack Values per call would cost
  // more than evaluating a typical filter. Pushes construct in place.
  alignas(Value) unsigned char storage[sizeof(Value) * kMaxStack];
  Value* stack = reinterpret_cast<Value*>(storage);
  int sp = 0;
  const size_t n = code_.size();
  for (size_t pc = 0; pc < n; ++pc) {
    const Instr& in = code_[pc];
    switch (in.op) {
      case OpCode::kLoad:
        new (&stack[sp++]) Value(slots[in.a]);
        break;
      case OpCode::kConst:
        new (&stack[sp++]) Value(consts_[in.a]);
        break;
      case OpCode::kLoadEqConst:
        new (&stack[sp++]) Value(Value::Bool(ValuesEqual(slots[in.a], consts_[in.b])));
        break;
      case OpCode::kLoadNeConst:
        new (&stack[sp++]) Value(Value::Bool(!ValuesEqual(slots[in.a], consts_[in.b])));
        break;
      case OpCode::kAdd:
      case OpCode::kSub:
      case OpCode::kMul:
      case OpCode::kDiv:
      case OpCode::kMod:
        --sp;
        stack[sp - 1] = Arith(in.op, stack[sp - 1], stack[sp]);
        break;
      case OpCode::kNeg:
        stack[sp - 1] =
            stack[sp - 1].is_number() ? Value::Number(-stack[sp - 1].num) : Value::Missing();
        break;
      case OpCode::kEq:
      case OpCode::kNe: {
        --sp;
        bool eq = ValuesEqual(stack[sp - 1], stack[sp]);
        stack[sp - 1] = Value::Bool(in.op == OpCode::kEq ? eq : !eq);
        break;
      }
      case OpCode::kLt:
      case OpCode::kLe:
      case OpCode::kGt:
      case OpCode::kGe:
        --sp;
        stack[sp - 1] = Value::Bool(Order(in.op, stack[sp - 1], stack[sp]) != (in.b != 0));
        break;
      case OpCode::kNot:
        stack[sp - 1] = Value::Bool(!stack[sp - 1].truthy());
        break;
      case OpCode::kToBool:
        stack[sp - 1] = Value::Bool(stack[sp - 1].truthy());
        break;
      case OpCode::kJumpFalseOrPop:
        if (!stack[sp - 1].truthy()) {
          stack[sp - 1] = Value::Bool(false);
          pc = in.a - 1;
        } else {
          --sp;
        }
        break;
      case OpCode::kJumpTrueOrPop:
        if (stack[sp - 1].truthy()) {
          stack[sp - 1] = Value::Bool(true);
          pc = in.a - 1;
        } else {
          --sp;
        }
        break;
      case OpCode::kIn: {
        bool found = false;
        for (const Value& v : sets_[in.a]) {
          if (ValuesEqual(stack[sp - 1], v)) {
            found = true;
            break;
          }
        }
        stack[sp - 1] = Value::Bool(found != (in.b != 0));
        break;
      }
    }
  }
  assert(sp == 1);
  if constexpr (std::is_same_v<Result, bool>) {
    return stack[0].truthy();
  } else {
    return stack[0];
  }
}

uint32_t Program::AddConst(const Value& v) {
  Value c = v;
  if (v.is_string()) c.str = strings_->emplace_back(v.str);
  consts_.push_back(c);
  return static_cast<uint32_t>(consts_.size() - 1);
}

uint32_t Program::AddSet(std::vector<Value> values) {
  for (Value& v : values) {
    if (v.is_string()) v.str = strings_->emplace_back(v.str);
  }
  sets_.push_back(std::move(values));
  return static_cast<uint32_t>(sets_.size() - 1);
}

namespace {

bool IsJump(OpCode op) { return op == OpCode::kJumpFalseOrPop || op == OpCode::kJumpTrueOrPop; }

// Which instructions a jump lands on (a fusion must not swallow one).
std::vector<bool> JumpTargets(const std::vector<Instr>& code) {
  std::vector<bool> target(code.size() + 1, false);
  for (const Instr& in : code) {
    if (IsJump(in.op)) target[in.a] = true;
  }
  return target;
}

// Points the jumps of rewritten code at the new places of their targets.
void RemapJumps(const std::vector<uint32_t>& remap, std::vector<Instr>* code) {
  for (Instr& in : *code) {
    if (IsJump(in.op)) in.a = remap[in.a];
  }
}

}  // namespace

void Program::Peephole() {
  // Only when no jump targets the middle of the pattern; jumps only go
  // forward to the end of an and/or, so check targets explicitly.
  const std::vector<bool> target = JumpTargets(code_);
  std::vector<Instr> out;
  std::vector<uint32_t> remap(code_.size() + 1, 0);
  for (size_t i = 0; i < code_.size(); ++i) {
    remap[i] = static_cast<uint32_t>(out.size());
    if (i + 2 < code_.size() && code_[i].op == OpCode::kLoad && code_[i + 1].op == OpCode::kConst &&
        (code_[i + 2].op == OpCode::kEq || code_[i + 2].op == OpCode::kNe) && !target[i + 1] &&
        !target[i + 2]) {
      out.push_back({code_[i + 2].op == OpCode::kEq ? OpCode::kLoadEqConst : OpCode::kLoadNeConst,
                     code_[i].a, code_[i + 1].a});
      remap[i + 1] = remap[i + 2] = remap[i];
      i += 2;
      continue;
    }
    out.push_back(code_[i]);
  }
  remap[code_.size()] = static_cast<uint32_t>(out.size());
  RemapJumps(remap, &out);
  code_ = std::move(out);
  FuseNot();
  Classify();
}

namespace {

// The test that answers the opposite of `op` (b toggles a negation for the
// orderings, which have no opposite once null and NaN answer false).
bool Negate(Instr* in) {
  switch (in->op) {
    case OpCode::kEq:
      in->op = OpCode::kNe;
      return true;
    case OpCode::kNe:
      in->op = OpCode::kEq;
      return true;
    case OpCode::kLoadEqConst:
      in->op = OpCode::kLoadNeConst;
      return true;
    case OpCode::kLoadNeConst:
      in->op = OpCode::kLoadEqConst;
      return true;
    case OpCode::kLt:
    case OpCode::kLe:
    case OpCode::kGt:
    case OpCode::kGe:
      in->b ^= 1;
      return true;
    default:
      return false;
  }
}

}  // namespace

void Program::FuseNot() {
  // `not (a < b)` is one negated `<` (an SLO's bad events are `not good`).
  const std::vector<bool> target = JumpTargets(code_);
  std::vector<Instr> out;
  std::vector<uint32_t> remap(code_.size() + 1, 0);
  for (size_t i = 0; i < code_.size(); ++i) {
    remap[i] = static_cast<uint32_t>(out.size());
    Instr in = code_[i];
    if (i + 1 < code_.size() && code_[i + 1].op == OpCode::kNot && !target[i + 1] && Negate(&in)) {
      out.push_back(in);
      remap[i + 1] = remap[i];
      ++i;
      continue;
    }
    out.push_back(in);
  }
  remap[code_.size()] = static_cast<uint32_t>(out.size());
  RemapJumps(remap, &out);
  code_ = std::move(out);
}

size_t Program::SimpleTestLength(size_t i) const {
  switch (code_[i].op) {
    case OpCode::kLoadEqConst:
    case OpCode::kLoadNeConst:
      return 1;
    case OpCode::kLoad:
      return i + 1 < code_.size() && code_[i + 1].op == OpCode::kIn ? 2 : 1;
    default:
      return 0;
  }
}

std::vector<Program::Requirement> Program::Requirements(bool* whole) const {
  std::vector<Requirement> out;
  auto test = [this, &out](size_t i) {
    const Instr& in = code_[i];
    if (in.op == OpCode::kLoadEqConst) {
      out.push_back({in.a, {consts_[in.b]}});
    } else if (in.op == OpCode::kLoad && i + 1 < code_.size() && code_[i + 1].op == OpCode::kIn &&
               code_[i + 1].b == 0) {
      out.push_back({in.a, sets_[code_[i + 1].a]});
    }
  };
  switch (shape_) {
    case Shape::kLoadEqConst:
    case Shape::kLoadIn:
      test(0);
      break;
    case Shape::kAllOf:
      for (uint32_t t : tests_) test(t);
      break;
    default:
      break;
  }
  if (whole != nullptr) *whole = shape_ != Shape::kAllOf && !out.empty();
  return out;
}

void Program::Classify() {
  shape_ = Shape::kGeneral;
  tests_.clear();
  if (code_.size() == 1 && code_[0].op == OpCode::kLoad) shape_ = Shape::kLoad;
  if (code_.size() == 1 && code_[0].op == OpCode::kLoadEqConst) shape_ = Shape::kLoadEqConst;
  if (code_.size() == 2 && code_[0].op == OpCode::kLoad && code_[1].op == OpCode::kIn) {
    shape_ = Shape::kLoadIn;
  }
  if (shape_ != Shape::kGeneral) return;
  // Simple tests joined only by `and` (or only by `or`), with the to_bool
  // conversions the compiler adds: the value is whether all (any) hold.
  // Jumps only skip ahead to another jump of the same kind or to the end,
  // so short-circuit order does not change the answer: tests have no
  // side effects.
  std::optional<OpCode> jump;
  for (size_t i = 0; i < code_.size();) {
    const OpCode op = code_[i].op;
    if (op == OpCode::kJumpFalseOrPop || op == OpCode::kJumpTrueOrPop) {
      if (jump && *jump != op) return;
      jump = op;
      ++i;
    } else if (op == OpCode::kToBool) {
      ++i;
    } else if (size_t n = SimpleTestLength(i)) {
      tests_.push_back(static_cast<uint32_t>(i));
      i += n;
    } else {
      tests_.clear();
      return;
    }
  }
  if (!jump || tests_.size() < 2) {
    tests_.clear();
    return;
  }
  shape_ = *jump == OpCode::kJumpFalseOrPop ? Shape::kAllOf : Shape::kAnyOf;
}

std::string Program::Disassemble() const {
  static constexpr const char* kNames[] = {"load",
                                           "const",
                                           "load_eq_const",
                                           "load_ne_const",
                                           "add",
                                           "sub",
                                           "mul",
                                           "div",
                                           "mod",
                                           "neg",
                                           "eq",
                                           "ne",
                                           "lt",
                                           "le",
                                           "gt",
                                           "ge",
                                           "not",
                                           "to_bool",
                                           "jump_false_or_pop",
                                           "jump_true_or_pop",
                                           "in"};
  std::string s;
  for (size_t i = 0; i < code_.size(); ++i) {
    StrAppend(&s, i, ": ", kNames[static_cast<int>(code_[i].op)], " ", code_[i].a, " ", code_[i].b,
              "\n");
  }
  return s;
}

}  // namespace vigil
