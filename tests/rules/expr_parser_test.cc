#include "rules/expr_parser.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace vigil {
namespace {

// The normalised, fully parenthesised form shows how the parser grouped.
std::string Grouping(std::string_view src) {
  ExprParse r = ParseExpr(src);
  if (!r.ok()) return "error at " + std::to_string(r.error.pos) + ": " + r.error.message;
  return ExprToString(*r.node);
}

struct ParseErrorCase {
  std::string_view source;
  size_t pos;
  std::string_view message;
};

TEST(ExprParserTest, OrBindsLooserThanAnd) {
  EXPECT_EQ(Grouping("a or b and c"), "(a or (b and c))");
  EXPECT_EQ(Grouping("a and b or c"), "((a and b) or c)");
  EXPECT_EQ(Grouping("a or b or c"), "((a or b) or c)");
  EXPECT_EQ(Grouping("(a or b) and c"), "((a or b) and c)");
}

TEST(ExprParserTest, NotBindsTighterThanAndButLooserThanComparison) {
  EXPECT_EQ(Grouping("not a and b"), "(not (a) and b)");
  EXPECT_EQ(Grouping("not a == b"), "not ((a == b))");
  EXPECT_EQ(Grouping("not not a"), "not (not (a))");
  EXPECT_EQ(Grouping("a or not b and c"), "(a or (not (b) and c))");
}

TEST(ExprParserTest, ComparisonBindsLooserThanArithmetic) {
  EXPECT_EQ(Grouping("a + b * c > d - e"), "((a + (b * c)) > (d - e))");
  EXPECT_EQ(Grouping("a * b + c <= d / e % f"), "(((a * b) + c) <= ((d / e) % f))");
  EXPECT_EQ(Grouping("a - b - c"), "((a - b) - c)");
  EXPECT_EQ(Grouping("a / b / c"), "((a / b) / c)");
  EXPECT_EQ(Grouping("(a + b) * c"), "((a + b) * c)");
  EXPECT_EQ(Grouping("x > 1 and y < 2 or z != 3"), "(((x > 1) and (y < 2)) or (z != 3))");
}

TEST(ExprParserTest, UnaryMinus) {
  EXPECT_EQ(Grouping("-a * b"), "(-(a) * b)");
  EXPECT_EQ(Grouping("- - a"), "-(-(a))");
  // A minus before a number literal folds into the literal.
  ExprParse r = ParseExpr("x > -5");
  ASSERT_TRUE(r.ok());
  const ExprNode& lit = *r.node->args[1];
  EXPECT_EQ(lit.op, ExprOp::kLiteral);
  EXPECT_EQ(lit.literal.num, -5);
  EXPECT_EQ(lit.pos, 4u);
}

TEST(ExprParserTest, NodesCarryOpsAndOffsets) {
  ExprParse r = ParseExpr("error_service != null or llm_timeout");
  ASSERT_TRUE(r.ok());
  const ExprNode& n = *r.node;
  EXPECT_EQ(n.op, ExprOp::kOr);
  EXPECT_EQ(n.pos, 0u);
  ASSERT_EQ(n.args.size(), 2u);
  EXPECT_EQ(n.args[0]->op, ExprOp::kNe);
  EXPECT_EQ(n.args[0]->args[0]->op, ExprOp::kName);
  EXPECT_EQ(n.args[0]->args[0]->text, "error_service");
  EXPECT_EQ(n.args[0]->args[1]->op, ExprOp::kLiteral);
  EXPECT_EQ(n.args[0]->args[1]->literal_type, Type::kNull);
  EXPECT_TRUE(n.args[0]->args[1]->literal.is_nullish());
  EXPECT_EQ(n.args[0]->args[1]->pos, 17u);
  EXPECT_EQ(n.args[1]->op, ExprOp::kName);
  EXPECT_EQ(n.args[1]->pos, 25u);
}

TEST(ExprParserTest, Literals) {
  ExprParse r = ParseExpr("x in [12, 0.5, 1e3, true, false, null, \"s\"]");
  ASSERT_TRUE(r.ok());
  const auto& a = r.node->args;
  ASSERT_EQ(a.size(), 8u);
  EXPECT_EQ(a[1]->literal_type, Type::kNumber);
  EXPECT_EQ(a[1]->literal.num, 12);
  EXPECT_EQ(a[2]->literal.num, 0.5);
  EXPECT_EQ(a[3]->literal.num, 1000);
  EXPECT_EQ(a[4]->literal_type, Type::kBool);
  EXPECT_TRUE(a[4]->literal.truthy());
  EXPECT_EQ(a[5]->literal_type, Type::kBool);
  EXPECT_FALSE(a[5]->literal.truthy());
  EXPECT_TRUE(a[5]->literal.is_bool());
  EXPECT_EQ(a[6]->literal_type, Type::kNull);
  EXPECT_EQ(a[6]->literal.kind, Value::Kind::kNull);
  EXPECT_EQ(a[7]->literal_type, Type::kString);
  EXPECT_EQ(a[7]->literal.str, "s");
}

TEST(ExprParserTest, PrintedStringsReadBackTheSame) {
  // Quotes, backslashes and escapes survive a print and a parse.
  const std::string printed = Grouping(R"(a == 'say "hi"\\n' or b == "tab\there")");
  EXPECT_EQ(printed, R"(((a == "say \"hi\"\\n") or (b == "tab\there")))");
  EXPECT_EQ(Grouping(printed), printed);
}

TEST(ExprParserTest, PrintedNotAndInKeepTheirPlace) {
  // `not` and `in` bind looser than arithmetic and comparisons, so as their
  // operands they print in parentheses; under and/or they need none.
  for (auto [source, printed] : std::vector<std::pair<std::string, std::string>>{
           {"3 * (not a)", "(3 * (not (a)))"},
           {"(x in [1]) == true", "((x in [1]) == true)"},
           {"(not a) in [true]", "(not (a)) in [true]"},
           {"(x in [1]) not in [false]", "(x in [1]) not in [false]"},
           {"not a and x in [1]", "(not (a) and x in [1])"}}) {
    EXPECT_EQ(Grouping(source), printed) << source;
    EXPECT_EQ(Grouping(printed), printed) << source;
  }
}

TEST(ExprParserTest, DepthIsBoundedNotAStackOverflow) {
  const std::string too_deep =
      "the expression nests deeper than 256 levels of operators, parentheses and calls (each "
      "operator of a chain such as 'a and b and c' is one); write a choice among many values as "
      "'x in [...]'";
  EXPECT_EQ(Grouping(std::string(100000, '(') + "a" + std::string(100000, ')')),
            "error at 256: " + too_deep);
  EXPECT_EQ(Grouping(std::string(100000, '-') + "1"), "error at 256: " + too_deep);
  std::string nots;
  for (int i = 0; i < 100000; ++i) nots += "not ";
  EXPECT_EQ(Grouping(nots + "a"), "error at 1024: " + too_deep);
  std::string chain = "a";
  for (int i = 0; i < 100000; ++i) chain += " + a";
  EXPECT_EQ(Grouping(chain), "error at 1026: " + too_deep);
  std::string calls;
  for (int i = 0; i < 100000; ++i) calls += "f(";
  EXPECT_EQ(Grouping(calls), "error at 513: " + too_deep);
  // What rules write is far from the limit.
  EXPECT_EQ(Grouping(std::string(200, '(') + "a" + std::string(200, ')')), "a");
  std::string ors = "a";
  for (int i = 0; i < 100; ++i) ors += " or a";
  EXPECT_TRUE(ParseExpr(ors).ok());
}

TEST(ExprParserTest, InAndNotInLists) {
  ExprParse r = ParseExpr("type in [\"message\", \"ws_disconnect\"]");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.node->op, ExprOp::kIn);
  ASSERT_EQ(r.node->args.size(), 3u);
  EXPECT_EQ(r.node->args[0]->text, "type");
  EXPECT_EQ(r.node->args[1]->literal.str, "message");
  EXPECT_EQ(r.node->args[1]->pos, 9u);
  EXPECT_EQ(r.node->args[2]->literal.str, "ws_disconnect");
  EXPECT_EQ(ExprToString(*r.node), "type in [\"message\", \"ws_disconnect\"]");

  ExprParse n = ParseExpr("rating not in [-1, 0]");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.node->op, ExprOp::kNotIn);
  ASSERT_EQ(n.node->args.size(), 3u);
  EXPECT_EQ(n.node->args[1]->literal.num, -1);
  EXPECT_EQ(ExprToString(*n.node), "rating not in [-1, 0]");

  ExprParse e = ParseExpr("x in []");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e.node->args.size(), 1u);

  // `not x in [...]` negates the membership test as a whole.
  EXPECT_EQ(Grouping("not x in [1]"), "not (x in [1])");
  EXPECT_EQ(Grouping("a and x in [1, 2] or b"), "((a and x in [1, 2]) or b)");
  // The tested value is an arithmetic expression.
  EXPECT_EQ(Grouping("a + 1 in [2]"), "(a + 1) in [2]");
}

TEST(ExprParserTest, Durations) {
  struct Case {
    std::string_view src;
    double ms;
  };
  for (const Case& c : {Case{"5m", 300000}, Case{"500ms", 500}, Case{"30s", 30000},
                        Case{"1h30m", 5400000}, Case{"1d", 86400000}, Case{"2w", 1209600000}}) {
    ExprParse r = ParseExpr(c.src);
    ASSERT_TRUE(r.ok()) << c.src << ": " << r.error.message;
    EXPECT_EQ(r.node->op, ExprOp::kLiteral) << c.src;
    EXPECT_EQ(r.node->literal_type, Type::kDuration) << c.src;
    EXPECT_TRUE(r.node->literal.is_number()) << c.src;
    EXPECT_EQ(r.node->literal.num, c.ms) << c.src;
  }
  ExprParse r = ParseExpr("latency_ms > 5s");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.node->args[1]->literal_type, Type::kDuration);
  EXPECT_EQ(r.node->args[1]->literal.num, 5000);
  EXPECT_EQ(r.node->args[1]->pos, 13u);
  EXPECT_EQ(ExprToString(*r.node), "(latency_ms > 5s)");
  // A bare number stays a number.
  ExprParse n = ParseExpr("5");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n.node->literal_type, Type::kNumber);
}

TEST(ExprParserTest, StringEscapes) {
  ExprParse r = ParseExpr(R"("a\"b\\c\nd\te'f")");
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.node->literal_type, Type::kString);
  EXPECT_EQ(r.node->text, "a\"b\\c\nd\te'f");
  EXPECT_EQ(r.node->literal.str, "a\"b\\c\nd\te'f");

  ExprParse single = ParseExpr(R"('it\'s "quoted"')");
  ASSERT_TRUE(single.ok()) << single.error.message;
  EXPECT_EQ(single.node->literal.str, "it's \"quoted\"");

  ExprParse empty = ParseExpr("x == ''");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty.node->args[1]->literal_type, Type::kString);
  EXPECT_EQ(empty.node->args[1]->literal.str, "");

  // An unknown escape keeps the escaped character.
  ExprParse other = ParseExpr(R"("\q")");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other.node->literal.str, "q");
}

TEST(ExprParserTest, DottedPaths) {
  ExprParse r = ParseExpr("meta.region == \"eu\" and a.b.c_d > 1");
  ASSERT_TRUE(r.ok());
  const ExprNode& lhs = *r.node->args[0]->args[0];
  EXPECT_EQ(lhs.op, ExprOp::kName);
  EXPECT_EQ(lhs.text, "meta.region");
  const ExprNode& deep = *r.node->args[1]->args[0];
  EXPECT_EQ(deep.text, "a.b.c_d");
  EXPECT_EQ(deep.pos, 24u);
}

TEST(ExprParserTest, Calls) {
  ExprParse r = ParseExpr("quantile(0.99, latency_ms)");
  ASSERT_TRUE(r.ok());
  const ExprNode& n = *r.node;
  EXPECT_EQ(n.op, ExprOp::kCall);
  EXPECT_EQ(n.text, "quantile");
  ASSERT_EQ(n.args.size(), 2u);
  EXPECT_EQ(n.args[0]->literal.num, 0.99);
  EXPECT_EQ(n.args[0]->pos, 9u);
  EXPECT_EQ(n.args[1]->text, "latency_ms");
  EXPECT_EQ(n.args[1]->pos, 15u);

  ExprParse empty = ParseExpr("count()");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty.node->op, ExprOp::kCall);
  EXPECT_TRUE(empty.node->args.empty());

  EXPECT_EQ(Grouping("count(type == \"escalation\") / distinct(session_id)"),
            "(count((type == \"escalation\")) / distinct(session_id))");
  EXPECT_EQ(Grouping("1 - ratio(a or b)"), "(1 - ratio((a or b)))");
  EXPECT_EQ(Grouping("f(g(x), 1 + 2)"), "f(g(x), (1 + 2))");
}

TEST(ExprParserTest, ErrorsCarryExactOffsets) {
  const ParseErrorCase cases[] = {
      // Unterminated strings point at the opening quote.
      {"type == \"message", 8, "unterminated string"},
      {"type == 'message", 8, "unterminated string"},
      {"\"abc\\\"", 0, "unterminated string"},
      // Assignment instead of comparison.
      {"type = \"message\"", 5, "unexpected '='; use '==' to compare"},
      // C-style logic.
      {"a && b", 2, "unexpected '&'; use 'and' / 'or'"},
      {"a || b", 2, "unexpected '|'; use 'and' / 'or'"},
      {"!a", 0, "unexpected '!'; use 'not' or '!='"},
      {"a # b", 2, "unexpected character '#'"},
      {"a + \u540d", 4, "unexpected character '\u540d'"},  // all of its three bytes
      // Trailing tokens.
      {"a b", 2, "unexpected 'b' after the expression"},
      {"a == b == c", 7, "unexpected '==' after the expression"},
      {"(a) )", 4, "unexpected ')' after the expression"},
      {"count() x", 8, "unexpected 'x' after the expression"},
      // Missing operands.
      {"latency_ms >", 12, "expected an expression"},
      {"latency_ms > ", 13, "expected an expression"},
      {"a and", 5, "expected an expression"},
      {"", 0, "expected an expression"},
      {"1 + * 2", 4, "unexpected '*'"},
      {"and b", 0, "expected an expression before 'and'"},
      {"a or or b", 5, "expected an expression before 'or'"},
      {"x in in", 5, "expected '[' after 'in'"},
      {"not", 3, "expected an expression"},
      // Bad durations and numbers.
      {"latency_ms > 5x", 13, "bad duration '5x' (units: ms, s, m, h, d, w)"},
      {"x > 1m5h", 4, "bad duration '1m5h' (units: ms, s, m, h, d, w)"},
      {"x > 1.5m", 4, "bad duration '1.5m' (units: ms, s, m, h, d, w)"},
      {"x > 1.2.3", 4, "bad number '1.2.3'"},
      // `in` without a list of literals.
      {"type in \"a\"", 8, "expected '[' after 'in'"},
      {"type in", 7, "expected '[' after 'in'"},
      {"x not 5", 6, "expected 'in' after 'not'"},
      {"x in [a]", 6, "the list after 'in' may hold only literals"},
      {"x in [1 2]", 8, "expected ',' or ']' in the list"},
      {"x in [1,", 8, "expected an expression"},
      // Parentheses and calls.
      {"(a or b", 7, "expected ')'"},
      {"f(a b)", 4, "expected ',' or ')' in the argument list"},
      {"f(a,", 4, "expected an expression"},
      {"meta.region(1)", 0, "'meta.region' is not a function"},
  };
  for (const ParseErrorCase& c : cases) {
    ExprParse r = ParseExpr(c.source);
    EXPECT_FALSE(r.ok()) << c.source;
    EXPECT_EQ(r.node, nullptr) << c.source;
    EXPECT_EQ(r.error.pos, c.pos) << c.source << ": " << r.error.message;
    EXPECT_EQ(r.error.message, c.message) << c.source;
  }
}

TEST(ExprParserTest, FirstErrorWins) {
  // The lexer error at '&' comes before the parser would see the missing
  // operand at the end.
  ExprParse r = ParseExpr("a & b ==");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.pos, 2u);
}

TEST(ExprParserTest, ToStringRoundTrips) {
  for (std::string_view src :
       {"((a + (b * c)) > 1)", "(type == \"message\")", "x in [1, 2, 3]", "not ((a or b))",
        "quantile(0.99, latency_ms)", "(x >= 5m)", "-(x)"}) {
    ExprParse r = ParseExpr(src);
    ASSERT_TRUE(r.ok()) << src;
    const std::string once = ExprToString(*r.node);
    ExprParse again = ParseExpr(once);
    ASSERT_TRUE(again.ok()) << once;
    EXPECT_EQ(ExprToString(*again.node), once);
  }
}

}  // namespace
}  // namespace vigil
