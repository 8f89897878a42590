#include "rules/expr_compiler.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "rules/expr_parser.h"
#include "rules/field_table.h"
#include "rules/rule_set.h"
#include "rules/scopes.h"

namespace vigil {
namespace {

struct CompileResult {
  bool ok = false;
  ExprError err;
  Program program;
};

CompileResult CompileIn(ExprScope* scope, std::string_view src, Type want) {
  CompileResult r;
  ExprParse parsed = ParseExpr(src);
  if (!parsed.ok()) {
    ADD_FAILURE() << "parse error in " << src << ": " << parsed.error.message;
    return r;
  }
  r.ok = ExprCompiler(scope).Compile(*parsed.node, want, &r.program, &r.err);
  return r;
}

class EventCompileTest : public ::testing::Test {
 protected:
  CompileResult Compile(std::string_view src, Type want = Type::kBool) {
    EventScope scope(&fields_);
    return CompileIn(&scope, src, want);
  }
  Type Expected(std::string_view path) {
    std::optional<int> slot = fields_.Find(path);
    EXPECT_TRUE(slot.has_value()) << path;
    return slot ? fields_.expected(*slot) : Type::kAny;
  }
  FieldTable fields_;
};

struct TypeErrorCase {
  std::string_view source;
  size_t pos;
  std::string_view message;
};

TEST_F(EventCompileTest, TypeErrorsCarryPositions) {
  const TypeErrorCase cases[] = {
      // Number against string.
      {"1 == \"a\"", 0, "comparing a number with a string is always false"},
      {"x > 1 and (1 + 2) != \"x\"", 11, "comparing a number with a string is always true"},
      {"true == 1", 0, "comparing a boolean with a number is always false"},
      // `and` / `or` / `not` over a number literal.
      {"llm_timeout and 5", 16, "'and' needs a boolean, got a number '5'"},
      {"5 or llm_timeout", 0, "'or' needs a boolean, got a number '5'"},
      {"x > 1 and \"yes\"", 10, "'and' needs a boolean, got a string '\"yes\"'"},
      {"not 5", 4, "'not' needs a boolean, got a number '5'"},
      {"a or (x + 1)", 6, "'or' needs a boolean, got a number '(x + 1)'"},
      // Arithmetic on a string literal.
      {"latency_ms + \"a\" > 1", 13, "operator '+' needs a number, got a string '\"a\"'"},
      {"\"a\" * 2 > 1", 0, "operator '*' needs a number, got a string '\"a\"'"},
      {"-\"a\" > 1", 1, "'-' needs a number, got a string '\"a\"'"},
      {"x + true > 1", 4, "operator '+' needs a number, got a boolean 'true'"},
      {"x + null > 1", 4, "operator '+' needs a number, got null 'null'"},
      // A field used as a number and as a boolean in one expression.
      {"latency_ms > 1 and latency_ms", 19,
       "field 'latency_ms' is used as a boolean here but as a number elsewhere"},
      {"flag and flag + 1 > 2", 9,
       "field 'flag' is used as a number here but as a boolean elsewhere"},
      {"kind == \"a\" or kind > 3", 15,
       "field 'kind' is used as a number here but as a string elsewhere"},
      // Ordering a string against a number.
      {"\"abc\" < 5", 0, "cannot order a string and a number with '<'"},
      {"x > 1 and 2 >= \"b\"", 10, "cannot order a number and a string with '>='"},
      {"true > false", 0, "cannot order a boolean and a boolean with '>'"},
      {"(x > 1) < (y > 1)", 1, "cannot order a boolean and a boolean with '<'"},
      // Lists.
      {"x in [1, \"a\"]", 9, "the list after 'in' mixes types"},
      {"5 in [\"a\"]", 0, "this position needs a string, got a number '5'"},
      {"s in [\"a\"] and s > 1", 15,
       "field 's' is used as a number here but as a string elsewhere"},
      // Calls are not per-event.
      {"count(x) > 1", 0,
       "aggregate 'count' is only allowed in a metric's value, not over one event"},
      {"x > 1 and foo(x)", 10,
       "unknown function 'foo'; per-event expressions use fields, literals and operators"},
  };
  for (const TypeErrorCase& c : cases) {
    fields_ = FieldTable();
    CompileResult r = Compile(c.source);
    EXPECT_FALSE(r.ok) << c.source;
    EXPECT_EQ(r.err.pos, c.pos) << c.source << ": " << r.err.message;
    EXPECT_EQ(r.err.message, c.message) << c.source;
  }
}

TEST_F(EventCompileTest, ResultTypeMustFitWhatIsWanted) {
  CompileResult num = Compile("x > 1", Type::kNumber);
  EXPECT_FALSE(num.ok);
  EXPECT_EQ(num.err.pos, 0u);
  EXPECT_EQ(num.err.message, "this position needs a number, got a boolean '(x > 1)'");

  CompileResult cond = Compile("y + 1", Type::kBool);
  EXPECT_FALSE(cond.ok);
  EXPECT_EQ(cond.err.message, "this position needs a boolean, got a number '(y + 1)'");

  CompileResult str = Compile("\"a\"", Type::kBool);
  EXPECT_FALSE(str.ok);
  EXPECT_EQ(str.err.message, "this position needs a boolean, got a string '\"a\"'");

  // A duration is a number.
  EXPECT_TRUE(Compile("5m", Type::kNumber).ok);
  EXPECT_TRUE(Compile("z * 2", Type::kNumber).ok);
  EXPECT_TRUE(Compile("anything", Type::kAny).ok);
}

TEST_F(EventCompileTest, FieldWithStaticTypeMismatchAcrossExpressions) {
  ASSERT_TRUE(Compile("latency_ms > 1").ok);
  CompileResult r = Compile("latency_ms");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.err.pos, 0u);
  EXPECT_EQ(r.err.message,
            "field 'latency_ms' is used as a boolean here but as a number elsewhere");
}

TEST_F(EventCompileTest, ExpectedTypesAreRecorded) {
  ASSERT_TRUE(Compile("latency_ms > 1").ok);
  EXPECT_EQ(Expected("latency_ms"), Type::kNumber);

  ASSERT_TRUE(Compile("llm_timeout or x").ok);
  EXPECT_EQ(Expected("llm_timeout"), Type::kBool);
  EXPECT_EQ(Expected("x"), Type::kBool);

  ASSERT_TRUE(Compile("type == \"message\"").ok);
  EXPECT_EQ(Expected("type"), Type::kString);

  ASSERT_TRUE(Compile("error_service != null").ok);
  EXPECT_EQ(Expected("error_service"), Type::kAny);

  ASSERT_TRUE(Compile("a < b").ok);
  EXPECT_EQ(Expected("a"), Type::kNumber);
  EXPECT_EQ(Expected("b"), Type::kNumber);

  ASSERT_TRUE(Compile("p == q").ok);
  EXPECT_EQ(Expected("p"), Type::kAny);
  EXPECT_EQ(Expected("q"), Type::kAny);

  ASSERT_TRUE(Compile("intent in [\"faq\", \"order_status\"]").ok);
  EXPECT_EQ(Expected("intent"), Type::kString);

  ASSERT_TRUE(Compile("rating not in [-1]").ok);
  EXPECT_EQ(Expected("rating"), Type::kNumber);

  ASSERT_TRUE(Compile("wait_ms >= 5m").ok);
  EXPECT_EQ(Expected("wait_ms"), Type::kNumber);

  ASSERT_TRUE(Compile("turns + 1 == 3").ok);
  EXPECT_EQ(Expected("turns"), Type::kNumber);

  ASSERT_TRUE(Compile("not escalated").ok);
  EXPECT_EQ(Expected("escalated"), Type::kBool);

  ASSERT_TRUE(Compile("cache_hit == false").ok);
  EXPECT_EQ(Expected("cache_hit"), Type::kBool);

  ASSERT_TRUE(Compile("name > \"m\"").ok);
  EXPECT_EQ(Expected("name"), Type::kString);

  ASSERT_TRUE(Compile("meta.region == \"eu\"").ok);
  EXPECT_EQ(Expected("meta.region"), Type::kString);

  // Consistent reuse is fine and keeps the type.
  ASSERT_TRUE(Compile("latency_ms < 10 or latency_ms == 3").ok);
  EXPECT_EQ(Expected("latency_ms"), Type::kNumber);
}

TEST_F(EventCompileTest, EachPathGetsOneSlot) {
  ASSERT_TRUE(Compile("a > 1 and b and a < 5 and meta.region == \"eu\"").ok);
  EXPECT_EQ(fields_.size(), 3);
  EXPECT_EQ(fields_.Find("a"), 0);
  EXPECT_EQ(fields_.Find("b"), 1);
  EXPECT_EQ(fields_.Find("meta.region"), 2);
  EXPECT_EQ(fields_.path(2), "meta.region");
  EXPECT_FALSE(fields_.Find("c").has_value());
}

TEST(FieldTableTest, ExpectReportsConflicts) {
  FieldTable fields;
  int slot = fields.Intern("meta.region");
  EXPECT_EQ(slot, 0);
  EXPECT_EQ(fields.Intern("meta.region"), 0);
  EXPECT_FALSE(fields.Expect(slot, Type::kAny));
  EXPECT_FALSE(fields.Expect(slot, Type::kString));
  EXPECT_FALSE(fields.Expect(slot, Type::kString));
  EXPECT_FALSE(fields.Expect(slot, Type::kAny));
  std::optional<std::string> err = fields.Expect(slot, Type::kNumber);
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "field 'meta.region' is used as a number here but as a string elsewhere");
  EXPECT_EQ(fields.expected(slot), Type::kString);
}

// --- Metric values ----------------------------------------------------------

class ValueScopeTest : public ::testing::Test {
 protected:
  CompileResult Compile(std::string_view src) {
    aggregates_.clear();
    ValueScope scope(&fields_, &aggregates_);
    return CompileIn(&scope, src, Type::kNumber);
  }
  FieldTable fields_;
  std::vector<AggregateCall> aggregates_;
};

TEST_F(ValueScopeTest, AggregatesBecomeSlots) {
  CompileResult r = Compile("1 - ratio(escalated)");
  ASSERT_TRUE(r.ok) << r.err.message;
  ASSERT_EQ(aggregates_.size(), 1u);
  EXPECT_EQ(aggregates_[0].kind, AggKind::kRatio);
  EXPECT_TRUE(aggregates_[0].has_arg);
  const Value slots[] = {Value::Number(0.25)};
  EXPECT_EQ(r.program.Eval(slots).num, 0.75);
  // The argument is a per-event predicate over the event's fields.
  EXPECT_EQ(fields_.expected(*fields_.Find("escalated")), Type::kBool);
  const Value event_true[] = {Value::Bool(true)};
  EXPECT_TRUE(aggregates_[0].arg.EvalBool(event_true));

  CompileResult two = Compile("count(type == \"ws_disconnect\") / distinct(session_id)");
  ASSERT_TRUE(two.ok) << two.err.message;
  ASSERT_EQ(aggregates_.size(), 2u);
  EXPECT_EQ(aggregates_[0].kind, AggKind::kCount);
  EXPECT_EQ(aggregates_[1].kind, AggKind::kDistinct);
  const Value counts[] = {Value::Number(3), Value::Number(12)};
  EXPECT_EQ(two.program.Eval(counts).num, 0.25);
  const Value empty[] = {Value::Number(0), Value::Number(0)};
  EXPECT_TRUE(two.program.Eval(empty).is_missing());

  CompileResult q = Compile("quantile(0.99, latency_ms)");
  ASSERT_TRUE(q.ok);
  ASSERT_EQ(aggregates_.size(), 1u);
  EXPECT_EQ(aggregates_[0].kind, AggKind::kQuantile);
  EXPECT_EQ(aggregates_[0].q, 0.99);
  EXPECT_EQ(fields_.expected(*fields_.Find("latency_ms")), Type::kNumber);

  CompileResult c = Compile("count()");
  ASSERT_TRUE(c.ok);
  ASSERT_EQ(aggregates_.size(), 1u);
  EXPECT_FALSE(aggregates_[0].has_arg);
}

TEST_F(ValueScopeTest, Errors) {
  const TypeErrorCase cases[] = {
      {"p99(latency_ms)", 0, "unknown function 'p99'; did you mean quantile(0.99, x)?"},
      {"2 * p95(x)", 4, "unknown function 'p95'; did you mean quantile(0.95, x)?"},
      {"quantile(1.5, latency_ms)", 9,
       "the quantile must be a number in (0, 1], e.g. quantile(0.99, latency_ms)"},
      {"quantile(0, latency_ms)", 9,
       "the quantile must be a number in (0, 1], e.g. quantile(0.99, latency_ms)"},
      {"quantile(-0.5, latency_ms)", 9,
       "the quantile must be a number in (0, 1], e.g. quantile(0.99, latency_ms)"},
      {"quantile(q, latency_ms)", 9,
       "the quantile must be a number in (0, 1], e.g. quantile(0.99, latency_ms)"},
      {"avg(latency_ms) + latency_ms", 18,
       "field 'latency_ms' must be inside an aggregate, e.g. avg(latency_ms) or "
       "last(latency_ms)"},
      {"sum()", 0, "'sum' takes 1 argument, got 0"},
      {"count(a, b)", 0, "'count' takes 0 or 1 arguments, got 2"},
      {"quantile(0.5)", 0, "'quantile' takes 2 arguments, got 1"},
      {"cuont()", 0, "unknown aggregate 'cuont'; did you mean 'count'?"},
      {"median(x)", 0,
       "unknown aggregate 'median'; known: count, sum, avg, min, max, ratio, rate, last, "
       "distinct, quantile"},
      {"first(intent)", 0, "'first' is an aggregate of session streams, not of a metric"},
      // Arguments are checked in the event scope, positions in the whole value.
      {"sum(type == \"x\")", 4, "this position needs a number, got a boolean '(type == \"x\")'"},
      {"ratio(latency_ms + 1)", 6,
       "this position needs a boolean, got a number '(latency_ms + 1)'"},
      {"avg(x) + ratio(x)", 15, "field 'x' is used as a boolean here but as a number elsewhere"},
      // A metric's last() is a number: a boolean's is 1 or 0, a string has none.
      {"last(\"open\")", 5,
       "last() in a metric keeps a number or a boolean (read as 1 or 0), not a string; a "
       "session stream's last() keeps strings"},
      {"count(state == \"open\") + last(state)", 30,
       "field 'state' is used as a string elsewhere; last() in a metric keeps a number or a "
       "boolean (a session stream's last() keeps strings)"},
      {"last(state) + count(state == \"open\")", 20,
       "field 'state' is used as a string here but a metric's last() reads it as a number or a "
       "boolean elsewhere"},
  };
  for (const TypeErrorCase& c : cases) {
    fields_ = FieldTable();
    CompileResult r = Compile(c.source);
    EXPECT_FALSE(r.ok) << c.source;
    EXPECT_EQ(r.err.pos, c.pos) << c.source << ": " << r.err.message;
    EXPECT_EQ(r.err.message, c.message) << c.source;
  }
}

// --- Alert conditions ------------------------------------------------------

TEST(AlertScopeTest, MetricNamesBecomeSlotsInOrderOfUse) {
  std::vector<MetricDef> metrics(3);
  metrics[0].name = "latency_p99_ms";
  metrics[1].name = "error_rate";
  metrics[2].name = "cache_hit_rate";
  std::vector<int> used;
  AlertScope scope(&metrics, &used);
  CompileResult r = CompileIn(
      &scope, "cache_hit_rate < 0.5 and latency_p99_ms > 100 or cache_hit_rate < 0.1", Type::kBool);
  ASSERT_TRUE(r.ok) << r.err.message;
  EXPECT_EQ(used, (std::vector<int>{2, 0}));
  const Value fire[] = {Value::Number(0.4), Value::Number(200)};
  const Value calm[] = {Value::Number(0.4), Value::Number(50)};
  const Value none[] = {Value::Missing(), Value::Number(200)};
  EXPECT_TRUE(r.program.EvalBool(fire));
  EXPECT_FALSE(r.program.EvalBool(calm));
  EXPECT_FALSE(r.program.EvalBool(none));
}

TEST(AlertScopeTest, Errors) {
  std::vector<MetricDef> metrics(2);
  metrics[0].name = "latency_p99_ms";
  metrics[1].name = "error_rate";
  std::vector<int> used;
  AlertScope scope(&metrics, &used);
  CompileResult unknown = CompileIn(&scope, "error_rate > 0.1 or latency_p99 > 10", Type::kBool);
  EXPECT_FALSE(unknown.ok);
  EXPECT_EQ(unknown.err.pos, 20u);
  EXPECT_EQ(unknown.err.message, "unknown metric 'latency_p99'; did you mean 'latency_p99_ms'?");

  CompileResult far = CompileIn(&scope, "throughput > 1", Type::kBool);
  EXPECT_FALSE(far.ok);
  EXPECT_EQ(far.err.message, "unknown metric 'throughput'");

  CompileResult call = CompileIn(&scope, "avg_over(error_rate, 1h) > 1", Type::kBool);
  EXPECT_FALSE(call.ok);
  EXPECT_EQ(call.err.pos, 0u);
  EXPECT_EQ(call.err.message,
            "unknown function 'avg_over' in an alert condition; alert conditions compare "
            "metrics");

  CompileResult string = CompileIn(&scope, "error_rate == \"high\"", Type::kBool);
  EXPECT_FALSE(string.ok);
  EXPECT_EQ(string.err.message, "'error_rate' is a number, expected a string");

  CompileResult bare = CompileIn(&scope, "error_rate", Type::kBool);
  EXPECT_FALSE(bare.ok);
  EXPECT_EQ(bare.err.message, "'error_rate' is a number, expected a boolean");
}

TEST(SuggestTest, ClosestWithinSmallDistance) {
  const std::vector<std::string> keys = {"metric", "help", "where", "window", "by", "value"};
  EXPECT_EQ(Suggest("wher", keys), "where");
  EXPECT_EQ(Suggest("windw", keys), "window");
  EXPECT_EQ(Suggest("vaule", keys), "value");
  EXPECT_EQ(Suggest("completely_else", keys), "");
  EXPECT_EQ(Suggest("x", {}), "");
}

}  // namespace
}  // namespace vigil
