#include "rules/program.h"

#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "rules/expr_compiler.h"
#include "rules/expr_parser.h"
#include "rules/field_table.h"

namespace vigil {
namespace {

// Compiles expressions in the event scope and evaluates them on slot arrays
// built from field name -> value maps.
class ProgramTest : public ::testing::Test {
 protected:
  Program Compile(std::string_view src, Type want = Type::kAny) {
    ExprParse parsed = ParseExpr(src);
    EXPECT_TRUE(parsed.ok()) << src << ": " << parsed.error.message;
    Program p;
    if (!parsed.ok()) return p;
    EventScope scope(&fields_);
    ExprError err;
    EXPECT_TRUE(ExprCompiler(&scope).Compile(*parsed.node, want, &p, &err))
        << src << ": " << err.pos << ": " << err.message;
    return p;
  }

  std::vector<Value> Slots(const std::map<std::string, Value>& values) {
    for (const auto& [path, v] : values) fields_.Intern(path);
    std::vector<Value> slots(static_cast<size_t>(fields_.size()), Value::Missing());
    for (const auto& [path, v] : values) slots[static_cast<size_t>(*fields_.Find(path))] = v;
    return slots;
  }

  Value Eval(std::string_view src, const std::map<std::string, Value>& values = {},
             Type want = Type::kAny) {
    Program p = Compile(src, want);
    std::vector<Value> slots = Slots(values);
    return p.Eval(slots.data());
  }

  bool EvalBool(std::string_view src, const std::map<std::string, Value>& values = {}) {
    Value v = Eval(src, values, Type::kBool);
    EXPECT_TRUE(v.is_bool()) << src << " gave a " << KindName(v.kind);
    return v.truthy();
  }

  FieldTable fields_;
};

const Value kMissing = Value::Missing();
const Value kNull = Value::Null();
const Value kTrue = Value::Bool(true);
const Value kFalse = Value::Bool(false);
Value Num(double v) { return Value::Number(v); }
Value Str(std::string_view s) { return Value::String(s); }

TEST_F(ProgramTest, NumbersAndArithmetic) {
  EXPECT_TRUE(EvalBool("latency_ms > 1000", {{"latency_ms", Num(1500)}}));
  EXPECT_FALSE(EvalBool("latency_ms > 1000", {{"latency_ms", Num(1000)}}));
  EXPECT_TRUE(EvalBool("latency_ms >= 1000", {{"latency_ms", Num(1000)}}));
  EXPECT_TRUE(EvalBool("latency_ms < 1000", {{"latency_ms", Num(999.5)}}));
  EXPECT_TRUE(EvalBool("latency_ms <= 1000", {{"latency_ms", Num(1000)}}));
  EXPECT_TRUE(EvalBool("latency_ms == 1000", {{"latency_ms", Num(1000)}}));
  EXPECT_TRUE(EvalBool("latency_ms != 1000", {{"latency_ms", Num(1000.5)}}));
  EXPECT_TRUE(EvalBool("latency_ms > 5s", {{"latency_ms", Num(6000)}}));
  EXPECT_FALSE(EvalBool("latency_ms > 5s", {{"latency_ms", Num(5000)}}));

  Value v = Eval("a + b * c - d / e",
                 {{"a", Num(1)}, {"b", Num(2)}, {"c", Num(3)}, {"d", Num(8)}, {"e", Num(4)}});
  ASSERT_TRUE(v.is_number());
  EXPECT_EQ(v.num, 5);
  EXPECT_EQ(Eval("7 % 3").num, 1);
  EXPECT_EQ(Eval("-x", {{"x", Num(2.5)}}).num, -2.5);
  EXPECT_EQ(Eval("-(x - 4)", {{"x", Num(1)}}).num, 3);
  EXPECT_EQ(Eval("2 * 5m").num, 600000);
}

TEST_F(ProgramTest, ArithmeticOnNonNumbersIsMissing) {
  EXPECT_TRUE(Eval("x + 1", {{"x", kMissing}}).is_missing());
  EXPECT_TRUE(Eval("x + 1", {{"x", kNull}}).is_missing());
  EXPECT_TRUE(Eval("x * 2", {{"x", Str("3")}}).is_missing());
  EXPECT_TRUE(Eval("x - 1", {{"x", kTrue}}).is_missing());
  EXPECT_TRUE(Eval("-x", {{"x", Str("a")}}).is_missing());
  // Missing propagates through a whole chain.
  EXPECT_TRUE(Eval("(x + 1) * 2 - 3", {{"x", kMissing}}).is_missing());
}

TEST_F(ProgramTest, DivisionByZeroIsMissing) {
  EXPECT_TRUE(Eval("x / 0", {{"x", Num(5)}}).is_missing());
  EXPECT_TRUE(Eval("x / y", {{"x", Num(0)}, {"y", Num(0)}}).is_missing());
  EXPECT_TRUE(Eval("x % 0", {{"x", Num(5)}}).is_missing());
  EXPECT_EQ(Eval("x / 4", {{"x", Num(5)}}).num, 1.25);
  // "No value" is nullish and never orders.
  EXPECT_TRUE(EvalBool("x / 0 == null", {{"x", Num(5)}}));
  EXPECT_FALSE(EvalBool("x / 0 > 0", {{"x", Num(5)}}));
  EXPECT_FALSE(EvalBool("x / 0 <= 0", {{"x", Num(5)}}));
}

TEST_F(ProgramTest, OrderingWithMissingOrNullIsFalse) {
  for (const Value& v : {kMissing, kNull, Str("5"), kTrue}) {
    SCOPED_TRACE(KindName(v.kind));
    EXPECT_FALSE(EvalBool("x > 1", {{"x", v}}));
    EXPECT_FALSE(EvalBool("x < 1", {{"x", v}}));
    EXPECT_FALSE(EvalBool("x >= 1", {{"x", v}}));
    EXPECT_FALSE(EvalBool("x <= 1", {{"x", v}}));
    // Negating a false comparison is true: "not above" includes "no data".
    EXPECT_TRUE(EvalBool("not (x > 1)", {{"x", v}}));
  }
  EXPECT_FALSE(EvalBool("x < y", {{"x", Num(1)}, {"y", kMissing}}));
}

TEST_F(ProgramTest, MissingAndNullBothEqualNull) {
  EXPECT_TRUE(EvalBool("error_service == null", {{"error_service", kMissing}}));
  EXPECT_TRUE(EvalBool("error_service == null", {{"error_service", kNull}}));
  EXPECT_FALSE(EvalBool("error_service == null", {{"error_service", Str("bedrock")}}));
  EXPECT_FALSE(EvalBool("error_service == null", {{"error_service", Str("")}}));
  EXPECT_FALSE(EvalBool("n == null", {{"n", Num(0)}}));
  EXPECT_FALSE(EvalBool("b == null", {{"b", kFalse}}));
  EXPECT_FALSE(EvalBool("error_service != null", {{"error_service", kMissing}}));
  EXPECT_FALSE(EvalBool("error_service != null", {{"error_service", kNull}}));
  EXPECT_TRUE(EvalBool("error_service != null", {{"error_service", Str("orders")}}));
  // Missing and null are equal to each other, but to nothing else.
  EXPECT_TRUE(EvalBool("a == b", {{"a", kMissing}, {"b", kNull}}));
  EXPECT_FALSE(EvalBool("a == b", {{"a", kMissing}, {"b", Num(0)}}));
  // A missing field is not null-equal to an empty string or false.
  EXPECT_FALSE(EvalBool("s == \"\"", {{"s", kMissing}}));
  EXPECT_FALSE(EvalBool("flag == false", {{"flag", kMissing}}));
}

TEST_F(ProgramTest, OnlyBooleanTrueIsTrue) {
  EXPECT_TRUE(EvalBool("llm_timeout", {{"llm_timeout", kTrue}}));
  for (const Value& v : {kFalse, kMissing, kNull, Num(1), Str("true")}) {
    SCOPED_TRACE(KindName(v.kind));
    EXPECT_FALSE(EvalBool("llm_timeout", {{"llm_timeout", v}}));
    EXPECT_TRUE(EvalBool("not llm_timeout", {{"llm_timeout", v}}));
  }
  Value top = Eval("llm_timeout", {{"llm_timeout", Num(1)}}, Type::kBool);
  EXPECT_TRUE(top.is_bool());
}

TEST_F(ProgramTest, AndOrTruthTables) {
  const Value vals[] = {kTrue, kFalse, kMissing, kNull, Num(1)};
  for (const Value& a : vals) {
    for (const Value& b : vals) {
      SCOPED_TRACE(StrCat(KindName(a.kind), a.b ? "(true)" : "", " ", KindName(b.kind),
                          b.b ? "(true)" : ""));
      const bool ta = a.truthy(), tb = b.truthy();
      Value r_and = Eval("a and b", {{"a", a}, {"b", b}});
      Value r_or = Eval("a or b", {{"a", a}, {"b", b}});
      ASSERT_TRUE(r_and.is_bool());
      ASSERT_TRUE(r_or.is_bool());
      EXPECT_EQ(r_and.truthy(), ta && tb);
      EXPECT_EQ(r_or.truthy(), ta || tb);
    }
  }
}

TEST_F(ProgramTest, AndOrShortCircuit) {
  // The jump skips the right operand entirely: its target is the end of the
  // program, so no instruction of the right side runs.
  Program p_and = Compile("a and b");
  EXPECT_EQ(p_and.Disassemble(),
            "0: load 0 0\n"
            "1: jump_false_or_pop 4 0\n"
            "2: load 1 0\n"
            "3: to_bool 0 0\n");
  EXPECT_EQ(p_and.size(), 4u);
  Program p_or = Compile("a or b");
  EXPECT_NE(p_or.Disassemble().find("1: jump_true_or_pop 4 0\n"), std::string::npos)
      << p_or.Disassemble();

  // The skipped side may be arbitrarily broken: a division by zero on the
  // right does not matter once the left decides.
  EXPECT_FALSE(EvalBool("a and x / 0 > 1", {{"a", kFalse}, {"x", Num(1)}}));
  EXPECT_TRUE(EvalBool("a or x / 0 > 1", {{"a", kTrue}, {"x", Num(1)}}));
  EXPECT_TRUE(EvalBool("a or b or c", {{"a", kFalse}, {"b", kFalse}, {"c", kTrue}}));
  EXPECT_FALSE(EvalBool("a and b and c", {{"a", kTrue}, {"b", kTrue}, {"c", kMissing}}));
  EXPECT_TRUE(EvalBool("(a or b) and not c", {{"a", kMissing}, {"b", kTrue}, {"c", kNull}}));
}

TEST_F(ProgramTest, InLists) {
  const char* kIn = "type in [\"message\", \"ws_disconnect\"]";
  EXPECT_TRUE(EvalBool(kIn, {{"type", Str("message")}}));
  EXPECT_TRUE(EvalBool(kIn, {{"type", Str("ws_disconnect")}}));
  EXPECT_FALSE(EvalBool(kIn, {{"type", Str("feedback")}}));
  EXPECT_FALSE(EvalBool(kIn, {{"type", Str("Message")}}));
  EXPECT_FALSE(EvalBool(kIn, {{"type", kMissing}}));
  EXPECT_FALSE(EvalBool(kIn, {{"type", Num(1)}}));

  const char* kNotIn = "type not in [\"message\", \"ws_disconnect\"]";
  EXPECT_FALSE(EvalBool(kNotIn, {{"type", Str("message")}}));
  EXPECT_TRUE(EvalBool(kNotIn, {{"type", Str("feedback")}}));
  EXPECT_TRUE(EvalBool(kNotIn, {{"type", kMissing}}));

  EXPECT_TRUE(EvalBool("rating in [-1, 0.5]", {{"rating", Num(-1)}}));
  EXPECT_TRUE(EvalBool("rating in [-1, 0.5]", {{"rating", Num(0.5)}}));
  EXPECT_FALSE(EvalBool("rating in [-1, 0.5]", {{"rating", Num(1)}}));
  EXPECT_TRUE(EvalBool("d in [5m, 1h]", {{"d", Num(300000)}}));
  // null in a list matches both null and missing.
  EXPECT_TRUE(EvalBool("s in [null, \"x\"]", {{"s", kMissing}}));
  EXPECT_TRUE(EvalBool("s in [null, \"x\"]", {{"s", kNull}}));
  EXPECT_FALSE(EvalBool("s in [null, \"x\"]", {{"s", Str("y")}}));
  EXPECT_FALSE(EvalBool("s in []", {{"s", Str("y")}}));
  EXPECT_TRUE(EvalBool("s not in []", {{"s", Str("y")}}));
  EXPECT_TRUE(EvalBool("not s in [\"y\"] or t", {{"s", Str("z")}, {"t", kFalse}}));
}

TEST_F(ProgramTest, StringEqualityAndOrdering) {
  EXPECT_TRUE(EvalBool("type == \"message\"", {{"type", Str("message")}}));
  EXPECT_FALSE(EvalBool("type == \"message\"", {{"type", Str("messages")}}));
  EXPECT_FALSE(EvalBool("type == \"message\"", {{"type", Str("")}}));
  EXPECT_FALSE(EvalBool("type == \"message\"", {{"type", kMissing}}));
  EXPECT_FALSE(EvalBool("type == \"message\"", {{"type", Num(1)}}));
  EXPECT_TRUE(EvalBool("type != \"message\"", {{"type", kMissing}}));
  EXPECT_TRUE(EvalBool("\"message\" == type", {{"type", Str("message")}}));
  EXPECT_TRUE(EvalBool("a == b", {{"a", Str("x")}, {"b", Str("x")}}));
  EXPECT_FALSE(EvalBool("a == b", {{"a", Str("1")}, {"b", Num(1)}}));
  EXPECT_TRUE(EvalBool("name < \"m\"", {{"name", Str("faq")}}));
  EXPECT_FALSE(EvalBool("name < \"m\"", {{"name", Str("search")}}));
  EXPECT_TRUE(EvalBool("s == \"a\\\"b\"", {{"s", Str("a\"b")}}));
}

TEST_F(ProgramTest, BooleanEquality) {
  EXPECT_TRUE(EvalBool("cache_hit == true", {{"cache_hit", kTrue}}));
  EXPECT_FALSE(EvalBool("cache_hit == true", {{"cache_hit", kFalse}}));
  EXPECT_TRUE(EvalBool("cache_hit != true", {{"cache_hit", kMissing}}));
  EXPECT_TRUE(EvalBool("(x > 1) == (y > 1)", {{"x", Num(2)}, {"y", Num(3)}}));
}

TEST_F(ProgramTest, NanNeverOrders) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_FALSE(EvalBool("x > 1", {{"x", Num(nan)}}));
  EXPECT_FALSE(EvalBool("x <= 1", {{"x", Num(nan)}}));
}

TEST_F(ProgramTest, PeepholeFusesLoadEqConst) {
  Program p = Compile("type == \"message\"", Type::kBool);
  EXPECT_EQ(p.Disassemble(), "0: load_eq_const 0 0\n");
  Program reversed = Compile("\"message\" == type", Type::kBool);
  EXPECT_EQ(reversed.Disassemble().find("load_eq_const"), std::string::npos);

  Program chained = Compile("type == \"message\" and error_service == \"bedrock\"");
  const std::string dis = chained.Disassemble();
  EXPECT_EQ(dis,
            "0: load_eq_const 0 0\n"
            "1: jump_false_or_pop 4 0\n"
            "2: load_eq_const 1 1\n"
            "3: to_bool 0 0\n")
      << dis;
}

// Fused and unfused programs agree on every input: the operand order of
// each `==` is swapped (const first is never fused), everything else equal.
TEST_F(ProgramTest, PeepholeKeepsResultsIdentical) {
  const std::string_view fused =
      "type == \"message\" and (error_service == \"bedrock\" or llm_timeout == true) or "
      "n == 3 and not (type == \"feedback\")";
  const std::string_view plain =
      "\"message\" == type and (\"bedrock\" == error_service or true == llm_timeout) or "
      "3 == n and not (\"feedback\" == type)";
  Program pf = Compile(fused, Type::kBool);
  Program pp = Compile(plain, Type::kBool);
  EXPECT_NE(pf.Disassemble().find("load_eq_const"), std::string::npos);
  EXPECT_EQ(pp.Disassemble().find("load_eq_const"), std::string::npos);
  EXPECT_LT(pf.size(), pp.size());

  const Value types[] = {Str("message"), Str("feedback"), kMissing, kNull};
  const Value services[] = {Str("bedrock"), Str("orders"), kMissing};
  const Value timeouts[] = {kTrue, kFalse, kMissing, Num(1)};
  const Value ns[] = {Num(3), Num(4), kMissing};
  int checked = 0;
  for (const Value& t : types) {
    for (const Value& s : services) {
      for (const Value& to : timeouts) {
        for (const Value& n : ns) {
          std::vector<Value> slots =
              Slots({{"type", t}, {"error_service", s}, {"llm_timeout", to}, {"n", n}});
          const Value a = pf.Eval(slots.data());
          const Value b = pp.Eval(slots.data());
          ASSERT_TRUE(a.is_bool());
          ASSERT_TRUE(b.is_bool());
          EXPECT_EQ(a.truthy(), b.truthy()) << KindName(t.kind) << " " << KindName(s.kind) << " "
                                            << KindName(to.kind) << " " << KindName(n.kind);
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 3 * 4 * 3);
}

// `not` after a test becomes the opposite test: one instruction, and the
// same answer as negating the test, for null, missing and NaN too (which
// order nothing, so `not (x < 3)` holds for them where `x >= 3` does not).
TEST_F(ProgramTest, NotOfATestIsOneInstructionWithTheSameAnswer) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Value xs[] = {Num(1), Num(3), Num(5), Num(nan), Str("a"), kMissing, kNull, kTrue};
  for (std::string_view op : {"<", "<=", ">", ">=", "==", "!="}) {
    const std::string test = StrCat("x ", op, " 3");
    Program negated = Compile(StrCat("not (", test, ")"), Type::kBool);
    Program plain = Compile(test, Type::kBool);
    EXPECT_EQ(negated.Disassemble().find("not"), std::string::npos) << negated.Disassemble();
    EXPECT_EQ(negated.size(), plain.size()) << op;
    for (const Value& x : xs) {
      std::vector<Value> slots = Slots({{"x", x}});
      EXPECT_EQ(negated.EvalBool(slots.data()), !plain.EvalBool(slots.data()))
          << op << " " << KindName(x.kind);
      EXPECT_EQ(negated.Eval(slots.data()).truthy(), !plain.Eval(slots.data()).truthy());
    }
  }
  std::vector<Value> nan_slots = Slots({{"x", Num(nan)}});
  EXPECT_TRUE(Compile("not (x < 3)", Type::kBool).EvalBool(nan_slots.data()));
  EXPECT_FALSE(Compile("x >= 3", Type::kBool).EvalBool(nan_slots.data()));
  // A `not` that a jump lands on stays: it negates the whole `or`.
  Program p = Compile("not (x < 3 or y)", Type::kBool);
  EXPECT_NE(p.Disassemble().find("not"), std::string::npos) << p.Disassemble();
  for (const Value& x : xs) {
    for (const Value& y : {kTrue, kFalse, kMissing}) {
      std::vector<Value> slots = Slots({{"x", x}, {"y", y}});
      const bool lt = Compile("x < 3", Type::kBool).EvalBool(slots.data());
      EXPECT_EQ(p.EvalBool(slots.data()), !(lt || y.truthy()));
    }
  }
}

// EvalBool answers single tests and two-test conditions without the
// interpreter loop; Eval always runs the loop. They must agree everywhere.
TEST_F(ProgramTest, FastPathsAgreeWithTheInterpreter) {
  const std::string_view sources[] = {
      "llm_timeout",
      "type == \"message\"",
      "type in [\"message\", \"escalation\"]",
      "type not in [\"message\"]",
      "type == \"message\" and error_service != null",
      "error_service != null or llm_timeout",
      "llm_timeout and cache_hit",
      "type != \"feedback\" or cache_hit",
      "type == \"message\" and llm_timeout and cache_hit",
      "type == \"message\" and error_service not in [\"bedrock\", \"orders\"]",
      "llm_timeout or cache_hit or type in [\"escalation\"]",
      "type == \"message\" and llm_timeout or cache_hit",
      "(type == \"message\" or llm_timeout) and cache_hit",
  };
  const Value types[] = {Str("message"), Str("feedback"), Str("escalation"), kMissing, kNull};
  const Value services[] = {Str("bedrock"), kNull, kMissing};
  const Value flags[] = {kTrue, kFalse, kMissing, kNull};
  for (std::string_view src : sources) {
    Program p = Compile(src, Type::kBool);
    for (const Value& t : types) {
      for (const Value& s : services) {
        for (const Value& a : flags) {
          for (const Value& b : flags) {
            std::vector<Value> slots =
                Slots({{"type", t}, {"error_service", s}, {"llm_timeout", a}, {"cache_hit", b}});
            EXPECT_EQ(p.EvalBool(slots.data()), p.Eval(slots.data()).truthy())
                << src << " type=" << KindName(t.kind) << " service=" << KindName(s.kind)
                << " a=" << KindName(a.kind) << " b=" << KindName(b.kind);
          }
        }
      }
    }
  }
}

TEST(ProgramPeepholeTest, ManualFusionMatchesUnfused) {
  Program unfused;
  const uint32_t c = unfused.AddConst(Value::String("faq"));
  unfused.Emit(OpCode::kLoad, 0);
  unfused.Emit(OpCode::kConst, c);
  unfused.Emit(OpCode::kEq);
  Program fused = unfused;
  fused.Peephole();
  EXPECT_EQ(unfused.Disassemble(), "0: load 0 0\n1: const 0 0\n2: eq 0 0\n");
  EXPECT_EQ(fused.Disassemble(), "0: load_eq_const 0 0\n");
  for (const Value& v : {Value::String("faq"), Value::String("fa"), Value::Missing(), Value::Null(),
                         Value::Number(0)}) {
    EXPECT_EQ(unfused.Eval(&v).truthy(), fused.Eval(&v).truthy()) << KindName(v.kind);
  }
}

TEST(ProgramPeepholeTest, DoesNotFuseAcrossAJumpTarget) {
  // slot0 or (slot1 == true), written so that the jump lands on the const:
  // when slot0 holds, the stack keeps `true` and compares it with `true`.
  Program p;
  const uint32_t t = p.AddConst(Value::Bool(true));
  p.Emit(OpCode::kLoad, 0);
  p.Emit(OpCode::kJumpTrueOrPop, 3);
  p.Emit(OpCode::kLoad, 1);
  p.Emit(OpCode::kConst, t);
  p.Emit(OpCode::kEq);
  Program q = p;
  q.Peephole();
  EXPECT_EQ(q.Disassemble(), p.Disassemble());
  const Value cases[][2] = {{Value::Bool(true), Value::Missing()},
                            {Value::Bool(false), Value::Bool(true)},
                            {Value::Bool(false), Value::Bool(false)}};
  for (const auto& slots : cases) {
    EXPECT_EQ(p.Eval(slots).truthy(), q.Eval(slots).truthy());
  }
  EXPECT_TRUE(q.Eval(cases[0]).truthy());
  EXPECT_TRUE(q.Eval(cases[1]).truthy());
  EXPECT_FALSE(q.Eval(cases[2]).truthy());
}

TEST_F(ProgramTest, ProgramOwnsItsStringConstants) {
  Program copy;
  {
    // The AST (and the source text) die before evaluation.
    std::string src = "type in [\"escalation\", \"feedback\"] or intent == \"recommendation\"";
    Program p = Compile(src, Type::kBool);
    src.assign(src.size(), 'x');
    copy = p;
  }
  EXPECT_TRUE(copy.EvalBool(Slots({{"type", Str("feedback")}}).data()));
  EXPECT_TRUE(copy.EvalBool(Slots({{"type", Str("x")}, {"intent", Str("recommendation")}}).data()));
  EXPECT_FALSE(copy.EvalBool(Slots({{"type", Str("x")}, {"intent", Str("faq")}}).data()));
}

TEST_F(ProgramTest, DeepRightNestingIsRejected) {
  std::string deep;
  for (int i = 0; i < 70; ++i) deep += "1 + (";
  deep += "x";
  deep += std::string(70, ')');
  ExprParse parsed = ParseExpr(deep);
  ASSERT_TRUE(parsed.ok());
  EventScope scope(&fields_);
  Program p;
  ExprError err;
  EXPECT_FALSE(ExprCompiler(&scope).Compile(*parsed.node, Type::kNumber, &p, &err));
  EXPECT_EQ(err.message, "expression too deeply nested");

  // The same number of operators nested to the left needs a stack of two.
  std::string flat = "x";
  for (int i = 0; i < 70; ++i) flat += " + 1";
  Value v = Eval(flat, {{"x", Num(1)}});
  ASSERT_TRUE(v.is_number());
  EXPECT_EQ(v.num, 71);
}

TEST(ValuesEqualTest, Semantics) {
  EXPECT_TRUE(ValuesEqual(Value::Missing(), Value::Null()));
  EXPECT_TRUE(ValuesEqual(Value::Number(1), Value::Number(1)));
  EXPECT_FALSE(ValuesEqual(Value::Number(1), Value::String("1")));
  EXPECT_FALSE(ValuesEqual(Value::Bool(true), Value::Number(1)));
  EXPECT_FALSE(ValuesEqual(Value::Bool(false), Value::Missing()));
  EXPECT_TRUE(ValuesEqual(Value::String("a"), Value::String("a")));
  EXPECT_FALSE(ValuesEqual(Value::String("a"), Value::String("b")));
}

TEST(ValueTextTest, Rendering) {
  std::string s;
  AppendValueText(Value::Number(0.5), &s);
  s += "|";
  AppendValueText(Value::Number(12), &s);
  s += "|";
  AppendValueText(Value::Bool(true), &s);
  s += "|";
  AppendValueText(Value::Missing(), &s);
  s += "|";
  AppendValueText(Value::String("faq"), &s);
  s += "|";
  AppendValueText(Value::Number(-0.0), &s);  // one group with 0
  EXPECT_EQ(s, "0.5|12|true||faq|0");
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

class ProgramRequirementsTest : public ProgramTest {
 protected:
  // "slot:v1,v2 ..." for each requirement, then "whole" if the program is it.
  std::string Describe(std::string_view src) {
    Program p = Compile(src, Type::kBool);
    bool whole = false;
    std::string out;
    for (const Program::Requirement& r : p.Requirements(&whole)) {
      StrAppend(&out, out.empty() ? "" : " ", fields_.path(static_cast<int>(r.slot)), ":");
      for (size_t i = 0; i < r.values.size(); ++i) {
        if (i) out.push_back(',');
        AppendValueText(r.values[i], &out);
      }
    }
    if (whole) StrAppend(&out, " whole");
    return out;
  }
};

TEST_F(ProgramRequirementsTest, TestsForEqualityInATopLevelAnd) {
  EXPECT_EQ(Describe(R"(type == "message")"), "type:message whole");
  EXPECT_EQ(Describe(R"(type in ["a", "b"])"), "type:a,b whole");
  EXPECT_EQ(Describe(R"(type in ["a", "b"] and x != null)"), "type:a,b");
  EXPECT_EQ(Describe(R"(type == "f" and intent == "faq" and rating == -1)"),
            "type:f intent:faq rating:-1");
  EXPECT_EQ(Describe(R"(flag and type == "m")"), "type:m");
}

TEST_F(ProgramRequirementsTest, NothingThatCouldBeTrueOtherwise) {
  EXPECT_EQ(Describe(R"(type != "message")"), "");
  EXPECT_EQ(Describe(R"(type not in ["a", "b"])"), "");
  EXPECT_EQ(Describe(R"(not (type == "a"))"), "");
  EXPECT_EQ(Describe(R"(type == "a" or type == "b")"), "");
  EXPECT_EQ(Describe(R"(type == "a" or x > 1)"), "");
  EXPECT_EQ(Describe(R"(x > 1)"), "");
  EXPECT_EQ(Describe(R"(flag)"), "");
  // Only an `and` of simple tests is looked into.
  EXPECT_EQ(Describe(R"(x > 1 and type == "m")"), "");
}

}  // namespace
}  // namespace vigil
