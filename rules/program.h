// rules/program.h
//
// Program is a compiled expression: a short stack-machine code over Values,
// built once from the AST by rules/expr_compiler.h and evaluated per event
// (filters, aggregate arguments, group keys) or per closed window (metric
// values, alert conditions). Names were resolved to slot indices at compile
// time, so evaluation does no lookup, no allocation and no virtual call;
// `and`/`or` short-circuit.
//
// Example:
//   Program p = ...;             // compiled from: latency_ms > 1000
//   Value slots[] = {Value::Number(1500)};
//   p.Eval(slots).truthy();      // true
#ifndef VIGIL_RULES_PROGRAM_H_
#define VIGIL_RULES_PROGRAM_H_

#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "base/strings.h"
#include "rules/value.h"

namespace vigil {

enum class OpCode : uint8_t {
  kLoad,         // push slots[a]
  kConst,        // push consts[a]
  kLoadEqConst,  // push slots[a] == consts[b] (the common `type == "message"`)
  kLoadNeConst,  // push slots[a] != consts[b]
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kNeg,
  kEq,
  kNe,
  kLt,  // the orderings: b = 1 negates (`not (a < b)`; null and NaN order nothing)
  kLe,
  kGt,
  kGe,
  kNot,
  kToBool,          // replace top with Bool(truthy(top))
  kJumpFalseOrPop,  // if !truthy(top): top = false, jump to a; else pop
  kJumpTrueOrPop,   // if truthy(top): top = true, jump to a; else pop
  kIn,              // top = top in sets[a]; b = 1 negates
};

struct Instr {
  OpCode op;
  uint32_t a = 0;
  uint32_t b = 0;
};

// Equality as rules see it: missing and null equal each other and nothing
// else; values of different kinds are unequal.
inline bool ValuesEqual(const Value& a, const Value& b) {
  if (a.is_nullish() || b.is_nullish()) return a.is_nullish() && b.is_nullish();
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::kBool:
      return a.b == b.b;
    case Value::Kind::kNumber:
      return a.num == b.num;
    case Value::Kind::kString:
      return a.str.size() == b.str.size() && BytesEqual(a.str.data(), b.str.data(), a.str.size());
    default:
      return true;
  }
}

class Program {
 public:
  static constexpr int kMaxStack = 64;

  Value Eval(const Value* slots) const {
    // Most aggregate arguments are one field, most filters one comparison:
    // answer those without entering the interpreter loop.
    switch (shape_) {
      case Shape::kLoad:
        return slots[code_[0].a];
      case Shape::kLoadEqConst:
        return Value::Bool(ValuesEqual(slots[code_[0].a], consts_[code_[0].b]));
      case Shape::kLoadIn:
        return Value::Bool(InSet(slots[code_[0].a], code_[1]));
      default:
        return EvalCode(slots);
    }
  }
  bool EvalBool(const Value* slots) const {
    switch (shape_) {
      case Shape::kLoad:
        return slots[code_[0].a].truthy();
      case Shape::kLoadEqConst:
        return ValuesEqual(slots[code_[0].a], consts_[code_[0].b]);
      case Shape::kLoadIn:
        return Eval(slots).b;
      // `a and b and ...` / `a or b or ...` over simple tests, e.g.
      // type == "message" and error_service != null.
      case Shape::kAllOf:
        for (uint32_t t : tests_) {
          if (!SimpleTest(t, slots)) return false;
        }
        return true;
      case Shape::kAnyOf:
        for (uint32_t t : tests_) {
          if (SimpleTest(t, slots)) return true;
        }
        return false;
      default:
        return EvalCodeBool(slots);
    }
  }
  bool empty() const { return code_.empty(); }
  // Calls f(slot) for each slot the program reads (once per read).
  template <typename F>
  void ForEachSlot(const F& f) const {
    for (const Instr& in : code_) {
      if (in.op == OpCode::kLoad || in.op == OpCode::kLoadEqConst ||
          in.op == OpCode::kLoadNeConst) {
        f(in.a);
      }
    }
  }
  // The slot the program is a plain read of (`left.intent`), or -1.
  int LoadedSlot() const { return shape_ == Shape::kLoad ? static_cast<int>(code_[0].a) : -1; }

  // A field test the program's truth implies: it is true only if
  // slots[slot] equals (ValuesEqual) one of `values`.
  //   type == "message"                  -> {type, ["message"]}
  //   type in ["a", "b"] and x != null   -> {type, ["a", "b"]}
  // What filter banks sort events by (operators/dataflow/metric_operator.h).
  struct Requirement {
    uint32_t slot;
    std::vector<Value> values;
  };
  // The requirements found in a top-level `and` of simple tests (none for
  // other shapes: they are only ever a subset). `whole`, if given: whether
  // the program is exactly its one requirement, so true whenever it holds.
  std::vector<Requirement> Requirements(bool* whole = nullptr) const;

  // Whether the program is true for an event of type class `type_class`
  // (FieldTable::TypeClassOf; kNoTypeClass: not known) with these slots:
  // false at once for a class its test of `type` excludes, true at once
  // when it is nothing but that test (rules/type_classes.h).
  static constexpr uint8_t kNoTypeClass = 0xFF;
  bool Test(const Value* slots, uint8_t type_class) const {
    if (type_class != kNoTypeClass) {
      if (((type_classes_ >> type_class) & 1) == 0) return false;
      if (type_test_only_) return true;
    }
    return EvalBool(slots);
  }
  // The classes the program can be true for; `only`: it is the type test.
  void SetTypeClasses(uint64_t classes, bool only) {
    type_classes_ = classes;
    type_test_only_ = only;
  }

  // Building (used by the compiler).
  uint32_t AddConst(const Value& v);
  uint32_t AddSet(std::vector<Value> values);
  void Emit(OpCode op, uint32_t a = 0, uint32_t b = 0) { code_.push_back({op, a, b}); }
  size_t size() const { return code_.size(); }
  void Patch(size_t at, uint32_t target) { code_[at].a = target; }
  // Fuses `load; const; eq` (and `ne`) into one instruction, and a test
  // followed by `not` into the opposite test.
  void Peephole();

  std::string Disassemble() const;

 private:
  enum class Shape : uint8_t { kGeneral, kLoad, kLoadEqConst, kLoadIn, kAllOf, kAnyOf };
  // A test on one field that needs no stack: `f`, `f == c`, `f != c`,
  // `f in [...]`. Returns its length in instructions, 0 if not one.
  size_t SimpleTestLength(size_t i) const;
  bool InSet(const Value& v, const Instr& in) const {
    bool found = false;
    for (const Value& c : sets_[in.a]) {
      if (ValuesEqual(v, c)) {
        found = true;
        break;
      }
    }
    return found != (in.b != 0);
  }
  bool SimpleTest(uint32_t i, const Value* slots) const {
    const Instr& in = code_[i];
    switch (in.op) {
      case OpCode::kLoadEqConst:
        return ValuesEqual(slots[in.a], consts_[in.b]);
      case OpCode::kLoadNeConst:
        return !ValuesEqual(slots[in.a], consts_[in.b]);
      default:
        if (i + 1 < code_.size() && code_[i + 1].op == OpCode::kIn) {
          return InSet(slots[in.a], code_[i + 1]);
        }
        return slots[in.a].truthy();
    }
  }
  void Classify();
  void FuseNot();
  std::vector<uint32_t> tests_;  // kAllOf / kAnyOf: where each test starts
  Value EvalCode(const Value* slots) const;
  // The same loop, returning only whether the result is true: copying the
  // whole Value out of the stack would stall on store forwarding.
  bool EvalCodeBool(const Value* slots) const;
  template <typename Result>
  Result Interpret(const Value* slots) const;
  Shape shape_ = Shape::kGeneral;
  bool type_test_only_ = false;
  uint64_t type_classes_ = ~uint64_t{0};

  std::vector<Instr> code_;
  std::vector<Value> consts_;
  std::vector<std::vector<Value>> sets_;
  // Owns the bytes of string constants. Shared so that copies of a Program
  // (vectors of rule definitions reallocate) keep their views valid; the
  // constants never change once compiled.
  std::shared_ptr<std::deque<std::string>> strings_ = std::make_shared<std::deque<std::string>>();
};

}  // namespace vigil

#endif  // VIGIL_RULES_PROGRAM_H_
