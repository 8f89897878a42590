// History functions in alert conditions: compiling calls to input slots, the
// errors a rule author sees, and the functions over hand-made series.
#include "rules/history.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "rules/expr_compiler.h"
#include "rules/expr_parser.h"
#include "rules/rule_set.h"
#include "rules/scopes.h"

namespace vigil {
namespace {

constexpr TimeMs kMin = 60'000;

class HistoryCompileTest : public ::testing::Test {
 protected:
  HistoryCompileTest() : metrics_(3) {
    metrics_[0].name = "error_rate";
    metrics_[1].name = "conversion_rate";
    metrics_[1].window = WindowSpec::Tumbling(7 * 24 * 60 * kMin);
    metrics_[2].name = "n";
  }
  // Compiles `src` as an alert condition; returns the error ("" when ok).
  std::string Compile(std::string_view src, size_t* pos = nullptr) {
    inputs_ = AlertInputs();
    ExprParse parsed = ParseExpr(src);
    if (!parsed.ok()) return "parse error: " + parsed.error.message;
    AlertScope scope(&metrics_, &inputs_);
    ExprError err;
    if (ExprCompiler(&scope).Compile(*parsed.node, Type::kBool, &program_, &err)) return "";
    if (pos != nullptr) *pos = err.pos;
    return err.message;
  }
  std::vector<MetricDef> metrics_;
  AlertInputs inputs_;
  Program program_;
};

TEST_F(HistoryCompileTest, CallsBecomeSlotsBesideMetricNames) {
  ASSERT_EQ(Compile("zscore(error_rate, 1h) > 3 and error_rate > 0.01 or "
                    "zscore(error_rate, 1h) < -3 or absent(n, 10m)"),
            "");
  EXPECT_EQ(inputs_, (std::vector<int>{0, 0, 2}));  // the repeated call shares its slot
  EXPECT_EQ(inputs_.Input(0), (HistoryInput{HistoryFn::kZscore, 3'600'000, 0}));
  EXPECT_EQ(inputs_.Input(1).fn, HistoryFn::kNone);
  EXPECT_EQ(inputs_.Input(2), (HistoryInput{HistoryFn::kAbsent, 600'000, 0}));
  const Value high[] = {Value::Number(4), Value::Number(0.02), Value::Bool(false)};
  const Value small[] = {Value::Number(4), Value::Number(0.001), Value::Bool(false)};
  const Value gone[] = {Value::Missing(), Value::Missing(), Value::Bool(true)};
  EXPECT_TRUE(program_.EvalBool(high));
  EXPECT_FALSE(program_.EvalBool(small));
  EXPECT_TRUE(program_.EvalBool(gone));

  ASSERT_EQ(Compile("declining(conversion_rate, 3)"), "");
  EXPECT_EQ(inputs_.Input(0), (HistoryInput{HistoryFn::kDeclining, 0, 3}));
  ASSERT_EQ(Compile("growth(conversion_rate, 1w) > 0.5 and offset(n, 5m) > 0"), "");
  EXPECT_EQ(inputs_, (std::vector<int>{1, 2}));
}

TEST_F(HistoryCompileTest, ErrorsSayWhatToWriteAndWhere) {
  struct Case {
    std::string_view source;
    size_t pos;
    std::string_view message;
  };
  const Case cases[] = {
      {"n > 1 and avg_ovr(n, 1h) > 2", 10, "unknown function 'avg_ovr'; did you mean 'avg_over'?"},
      {"frobnicate(n, 1h)", 0,
       "unknown function 'frobnicate'; alert conditions know avg_over, stddev_over, zscore, "
       "offset, growth, declining and absent"},
      {"avg(n) > 1", 0,
       "'avg' over one window belongs in a metric's value; over a metric's history use "
       "avg_over(m, 1h)"},
      {"quantile(0.9, n) > 1", 0,
       "aggregate 'quantile' belongs in a metric's value; alert conditions use metric names and "
       "avg_over, stddev_over, zscore, offset, growth, declining and absent"},
      {"avg_over(n) > 1", 0, "'avg_over' takes 2 arguments, as in avg_over(m, 1h); got 1"},
      {"absent(n, 1m, 2m)", 0, "'absent' takes 2 arguments, as in absent(m, 1h); got 3"},
      {"avg_over(n + 1, 1h) > 1", 9,
       "the first argument of 'avg_over' must be a metric name, as in avg_over(m, 1h); got "
       "'(n + 1)'"},
      {"offset(1, 1h) > 1", 7,
       "the first argument of 'offset' must be a metric name, as in offset(m, 1h); got '1'"},
      {"stddev_over(eror_rate, 1h) > 1", 12,
       "unknown metric 'eror_rate'; did you mean 'error_rate'?"},
      {"zscore(n, 60) > 3", 10,
       "the second argument of 'zscore' must be a duration such as 1h, as in zscore(m, 1h); got "
       "'60'"},
      {"growth(n, \"1h\") > 3", 10,
       "the second argument of 'growth' must be a duration such as 1h, as in growth(m, 1h); got "
       "'\"1h\"'"},
      {"declining(n, 1h)", 13,
       "the second argument of 'declining' is a number of windows, a whole number from 1 to "
       "100000 as in declining(m, 3); got '1h'"},
      {"declining(n, 2.5)", 13,
       "the second argument of 'declining' is a number of windows, a whole number from 1 to "
       "100000 as in declining(m, 3); got '2.5'"},
      {"offset(n, 90s) > 1", 10,
       "'offset' needs a multiple of the window slide of 'n' (1m): no window ends exactly 1m30s "
       "before another"},
      {"avg_over(n, 1000w) > 1", 12,
       "'avg_over' over 1000w would keep 10080000 windows of 'n' per group; at most 100000 are "
       "kept"},
      {"zscore(n, 1m) > 3", 10,
       "'zscore' over 1m sees one window of 'n' (one ends every 1m) and needs two or more for a "
       "deviation; use a span longer than 1m"},
      {"absent(n, 10m) > 1", 0, "cannot order a boolean and a number with '>'"},
      {"avg_over(n, 1h)", 0, "this position needs a boolean, got a number 'avg_over(n, 1h)'"},
  };
  for (const Case& c : cases) {
    size_t pos = 999;
    EXPECT_EQ(Compile(c.source, &pos), c.message) << c.source;
    EXPECT_EQ(pos, c.pos) << c.source;
  }
}

TEST(HistoryLoaderTest, RuleFilesCompileHistoryCallsWithPositions) {
  RuleLoadResult ok = LoadRuleSources({{"r.yaml", R"yaml(metrics:
  - metric: conv
    window: tumbling 1d
    by: [variant]
    value: ratio(converted)
alerts:
  - alert: ConversionDeclining
    severity: P4
    expr: declining(conv, 3) and conv < 0.1
)yaml"}});
  ASSERT_TRUE(ok.ok()) << ok.errors[0].ToString();
  const AlertDef& a = ok.rules->alerts[0];
  EXPECT_EQ(a.metrics, (std::vector<int>{0, 0}));
  EXPECT_EQ(a.metrics.Input(0).fn, HistoryFn::kDeclining);
  EXPECT_EQ(a.group_labels, std::vector<std::string>{"variant"});

  RuleLoadResult bad = LoadRuleSources({{"r.yaml", R"yaml(metrics:
  - metric: conv
    window: tumbling 1d
    value: ratio(converted)
alerts:
  - alert: A
    severity: P4
    expr: conv < 0.1 or declning(conv, 3)
)yaml"}});
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_EQ(bad.errors[0].ToString(),
            "r.yaml:8:25: unknown function 'declning'; did you mean 'declining'?");
}

// Values 10, 9, 8, 7, 7, 12 in windows ending at 1m .. 6m, then 20 at 9m.
MetricHistory Series() {
  MetricHistory h;
  const double values[] = {10, 9, 8, 7, 7, 12};
  for (int i = 0; i < 6; ++i) h.Add((i + 1) * kMin, values[i]);
  h.Add(9 * kMin, 20);
  return h;
}

Value At(const MetricHistory& h, HistoryInput in, TimeMs end, TimeMs now = 0) {
  return h.Eval(in, end, now == 0 ? end : now, WindowSpec::Tumbling(kMin));
}

TEST(MetricHistoryTest, AveragesAndDeviationsOverTheSpanEndingAtTheWindow) {
  const MetricHistory h = Series();
  // (2m, 4m]: 8 and 7.
  EXPECT_EQ(At(h, {HistoryFn::kAvgOver, 2 * kMin}, 4 * kMin).num, 7.5);
  EXPECT_EQ(At(h, {HistoryFn::kStddevOver, 2 * kMin}, 4 * kMin).num, 0.5);
  // (0, 4m]: 10, 9, 8, 7: mean 8.5, population deviation sqrt(1.25).
  EXPECT_DOUBLE_EQ(At(h, {HistoryFn::kStddevOver, 4 * kMin}, 4 * kMin).num, std::sqrt(1.25));
  EXPECT_DOUBLE_EQ(At(h, {HistoryFn::kZscore, 4 * kMin}, 4 * kMin).num, -1.5 / std::sqrt(1.25));
  // One point: a deviation of 0 and no z-score.
  EXPECT_EQ(At(h, {HistoryFn::kStddevOver, kMin}, 4 * kMin).num, 0);
  EXPECT_TRUE(At(h, {HistoryFn::kZscore, kMin}, 4 * kMin).is_nullish());
  // Equal values: deviation 0, no z-score.
  EXPECT_TRUE(At(h, {HistoryFn::kZscore, 2 * kMin}, 5 * kMin).is_nullish());
  // Nothing in (6m, 8m].
  EXPECT_TRUE(At(h, {HistoryFn::kAvgOver, 2 * kMin}, 8 * kMin).is_nullish());
  // No current window at 8m: no z-score even with points in the span.
  EXPECT_TRUE(At(h, {HistoryFn::kZscore, 5 * kMin}, 8 * kMin).is_nullish());
}

TEST(MetricHistoryTest, OffsetAndGrowthReadTheWindowExactlyDBefore) {
  const MetricHistory h = Series();
  EXPECT_EQ(At(h, {HistoryFn::kOffset, 2 * kMin}, 6 * kMin).num, 7);
  EXPECT_EQ(At(h, {HistoryFn::kGrowth, 2 * kMin}, 6 * kMin).num, 12.0 / 7 - 1);
  EXPECT_TRUE(At(h, {HistoryFn::kOffset, 2 * kMin}, 10 * kMin).is_nullish());  // 8m missing
  EXPECT_TRUE(At(h, {HistoryFn::kGrowth, kMin}, 8 * kMin).is_nullish());       // 8m missing
  EXPECT_TRUE(At(h, {HistoryFn::kOffset, 6 * kMin}, 6 * kMin).is_nullish());   // before 1m
}

TEST(MetricHistoryTest, DecliningNeedsNPlusOneConsecutiveFallingWindows) {
  const MetricHistory h = Series();
  const HistoryInput d3{HistoryFn::kDeclining, 0, 3};
  EXPECT_FALSE(At(h, d3, 2 * kMin).b);
  EXPECT_FALSE(At(h, d3, 3 * kMin).b);
  EXPECT_TRUE(At(h, d3, 4 * kMin).b);
  EXPECT_FALSE(At(h, d3, 5 * kMin).b);  // 7 then 7 is not a fall
  EXPECT_TRUE(At(h, {HistoryFn::kDeclining, 0, 1}, 4 * kMin).b);
  EXPECT_FALSE(At(h, {HistoryFn::kDeclining, 0, 4}, 4 * kMin).b);  // no window at 0
}

TEST(MetricHistoryTest, AbsentLooksBackFromTheEvaluationTime) {
  const MetricHistory h = Series();
  const HistoryInput a2{HistoryFn::kAbsent, 2 * kMin};
  EXPECT_FALSE(At(h, a2, 6 * kMin, 7 * kMin).b);  // 6m is in (5m, 7m]
  EXPECT_TRUE(At(h, a2, 6 * kMin, 8 * kMin).b);   // nothing in (6m, 8m]
  EXPECT_TRUE(At(MetricHistory(), a2, 6 * kMin).b);
}

TEST(MetricHistoryTest, PruneKeepsWhatTheRetentionCovers) {
  MetricHistory h = Series();
  EXPECT_EQ(HistoryRetention({HistoryFn::kDeclining, 0, 3}, kMin), 3 * kMin);
  EXPECT_EQ(HistoryRetention({HistoryFn::kOffset, 5 * kMin}, kMin), 5 * kMin);
  h.Prune(6 * kMin - 3 * kMin);
  EXPECT_TRUE(At(h, {HistoryFn::kOffset, 3 * kMin}, 6 * kMin).is_number());   // 3m kept
  EXPECT_TRUE(At(h, {HistoryFn::kOffset, 4 * kMin}, 6 * kMin).is_nullish());  // 2m dropped
  h.Prune(10 * kMin);
  EXPECT_TRUE(h.empty());
}

TEST(HistoryFnTest, NamesRoundTrip) {
  for (const std::string& name : HistoryFnNames()) {
    ASSERT_TRUE(FindHistoryFn(name).has_value()) << name;
    EXPECT_EQ(HistoryFnName(*FindHistoryFn(name)), name);
  }
  EXPECT_FALSE(FindHistoryFn("avg").has_value());
  EXPECT_TRUE(HistoryFnIsBool(HistoryFn::kAbsent));
  EXPECT_FALSE(HistoryFnIsBool(HistoryFn::kGrowth));
}

}  // namespace
}  // namespace vigil
