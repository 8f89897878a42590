// Expression errors inside YAML scalars point at the exact line and column
// in the file, whatever the scalar's style (quoted, escaped, plain, block).
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rules/rule_set.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using loader_test::WithP99;

using ::testing::ElementsAre;

TEST(RuleLoaderDiagnosticsTest, ExpressionErrorInQuotedScalarPointsIntoTheFile) {
  // The end of the expression: the closing quote.
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: "latency_p99_ms > "
)yaml")),
              ElementsAre("r.yaml:9:29: expected an expression"));
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    where: 'type = "message"'
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:3:18: unexpected '='; use '==' to compare"));
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    where: "type == 'message' && llm_timeout"
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:3:31: unexpected '&'; use 'and' / 'or'"));
}

TEST(RuleLoaderDiagnosticsTest, ExpressionErrorInQuotedScalarWithEscapes) {
  // Escapes make the file text longer than the expression: the column is
  // that of the offending character in the file.
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    where: "type == \"message\" and x = 1"
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:3:39: unexpected '='; use '==' to compare"));
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    where: 'type == ''message'' and x = 1'
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:3:39: unexpected '='; use '==' to compare"));
  // A Unicode escape: two bytes of the expression, six characters of the file.
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    where: "x == \"\u00e9\" and y = 1"
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:3:35: unexpected '='; use '==' to compare"));
}

TEST(RuleLoaderDiagnosticsTest, ExpressionErrorInPlainScalarPointsIntoTheFile) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    where: type = "message"
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:3:17: unexpected '='; use '==' to compare"));
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: latency_p99_ms > 10000 and latency_p99_ms > "x"
)yaml")),
              ElementsAre("r.yaml:9:38: 'latency_p99_ms' is a number, expected a string"));
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    where: type == "message" and llm_timeout
    window: tumbling 1m
    value: ratio(llm_timeout + 1)
)yaml"),
              ElementsAre("r.yaml:5:18: field 'llm_timeout' is used as a number here but as a "
                          "boolean elsewhere"));
}

TEST(RuleLoaderDiagnosticsTest, ExpressionErrorInBlockScalarGetsTheRightLine) {
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: |
      latency_p99_ms > 1 and
      latency_p99_ms = 2
)yaml")),
              ElementsAre("r.yaml:11:22: unexpected '='; use '==' to compare"));
  // The line holding the error repeats the start of the line before it.
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: |
      latency_p99_ms > 1 or
      latency_p99_ms
)yaml")),
              ElementsAre("r.yaml:11:7: 'latency_p99_ms' is a number, expected a boolean"));
  // A missing operand at the end points just after the last token.
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: |
      latency_p99_ms > 1 or
      latency_p99_ms >
)yaml")),
              ElementsAre("r.yaml:11:23: expected an expression"));
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    where: |-
      type == "message"

      and x = 1
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:6:13: unexpected '='; use '==' to compare"));
}

// Folding joins lines with a space: the error is found along the file.
TEST(RuleLoaderDiagnosticsTest, ExpressionErrorInFoldedOrMultiLinePlainScalar) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    where: >-
      type == "message"
      and x = 1
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:5:13: unexpected '='; use '==' to compare"));
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    where: >
      type == "message" and
        y > 2 and
      x = 1
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:6:9: unexpected '='; use '==' to compare"));
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    where: type == "message"
      and x = 1
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:4:13: unexpected '='; use '==' to compare"));
  // A missing operand at the end of a folded line: just after its last token.
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    where: type == "message" and
      x ==
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:4:11: expected an expression"));
}

TEST(RuleLoaderDiagnosticsTest, AnAlertThatNamesNoMetricIsAnError) {
  // It would load and never be evaluated.
  EXPECT_THAT(Errors(WithP99(R"yaml(alerts:
  - alert: A
    severity: P1
    expr: 1 > 0
)yaml")),
              ElementsAre("r.yaml:9:11: '1 > 0' names no metric, so it is never evaluated: an "
                          "alert is evaluated at the window ends of the first metric its expr "
                          "names"));
}

TEST(RuleLoaderDiagnosticsTest, AnEmptyOrListDurationIsReportedAtItsKey) {
  // An empty value has the position of the next token (a line below).
  EXPECT_THAT(Errors(WithP99("alerts:\n  - alert: A\n    severity: P1\n"
                             "    expr: latency_p99_ms > 1\n    for:\n")),
              ElementsAre("r.yaml:10:5: 'for' has no value: give a duration such as 0, 30s, 5m, "
                          "1h"));
  EXPECT_THAT(Errors(WithP99("alerts:\n  - alert: A\n    severity: P1\n"
                             "    expr: latency_p99_ms > 1\n    keep_firing_for: [1m]\n")),
              ElementsAre("r.yaml:10:5: 'keep_firing_for' must be one duration, not a list or "
                          "mapping: give a duration such as 0, 30s, 5m, 1h"));
}

// So is any other empty field: at its key, not at the next entry.
TEST(RuleLoaderDiagnosticsTest, AnEmptyFieldIsReportedAtItsKey) {
  EXPECT_THAT(Errors("slos:\n  - slo: a\n    objective: 99%\n    good:\n"
                     "  - slo: b\n    objective:\n    good: latency_ms < 5000\n"),
              ElementsAre("r.yaml:4:5: 'good' must be a single value",
                          "r.yaml:6:5: 'objective' must be a single value"));
}

}  // namespace
}  // namespace vigil
