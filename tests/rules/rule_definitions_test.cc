// Which rule files make a rule set, and what makes two alerts one: a set
// that defines nothing is refused; an alert's definition reads its
// conditions and labels by meaning.
#include <string>
#include <vector>

#include "base/strings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rules/lint.h"
#include "rules/rule_set.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::kP99Metric;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kCountOfS = R"(metrics:
  - metric: s
    window: tumbling 1m
    value: count()
)";

// A file cut short (a deploy that truncated it, a volume mounted empty)
// must not leave the job, or a reload, with no rules: a set of files that
// defines nothing is refused; one empty file next to others is a warning.
TEST(RuleLoaderTest, RulesThatDefineNothingAreRefusedAnEmptyFileNextToOthersIsAWarning) {
  for (const std::string text : {"", "# nothing yet\n", "metrics: []\nalerts:\n", "\n\n"}) {
    RuleLoadResult r = LoadRuleSources({{"r.yaml", text}});
    EXPECT_FALSE(r.ok()) << text;
    ASSERT_EQ(r.errors.size(), 1u) << text;
    EXPECT_EQ(r.errors[0].ToString(),
              "r.yaml:1:1: the rule file defines no rules (it is empty, or has only comments or "
              "empty sections); vigil does not run without rules");
  }
  RuleLoadResult both = LoadRuleSources({{"a.yaml", ""}, {"b.yaml", "alerts: []\n"}});
  ASSERT_EQ(both.errors.size(), 1u);
  EXPECT_THAT(both.errors[0].ToString(), StartsWith("a.yaml:1:1: every rule file is empty"));

  RuleLoadResult one = LoadRuleSources({{"a.yaml", std::string(kP99Metric)}, {"b.yaml", ""}});
  ASSERT_TRUE(one.ok());
  std::vector<Diagnostic> warnings = LintRules(*one.rules);
  ASSERT_FALSE(warnings.empty());
  EXPECT_EQ(warnings[0].ToString(),
            "b.yaml:1:1: warning: the rule file defines no rules (it is empty, or has only "
            "comments or empty sections)");
  // A schema alone defines the fields other files read.
  RuleLoadResult schema = LoadRuleSources(
      {{"a.yaml", std::string(kP99Metric)}, {"s.yaml", "schema:\n  latency_ms: number\n"}});
  ASSERT_TRUE(schema.ok()) << schema.errors[0].ToString();
  EXPECT_TRUE(schema.rules->empty_files.empty());
}

// An alert's definition compares its conditions by meaning: a duration
// however written (`120s` for `2m`) and a label added with the value ""
// (no label to a receiver) leave it the same alert; another duration
// does not.
TEST(RuleLoaderTest, AnAlertsDefinitionReadsDurationsAndEmptyLabelsByMeaning) {
  const auto fingerprint = [](const std::string& expr, const std::string& labels) {
    RuleLoadResult r = LoadRuleSources({{"r.yaml", StrCat(kCountOfS, R"(alerts:
  - alert: A
    severity: P3
    expr: )",
                                                          expr, "\n", labels)}});
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
    return r.ok() ? r.rules->alerts[0].fingerprint : "";
  };
  const std::string base = fingerprint("avg_over(s, 2m) > 1", "");
  EXPECT_EQ(fingerprint("avg_over(s, 120s) > 1", ""), base);
  EXPECT_EQ(fingerprint("avg_over(s,120000ms)>1", ""), base);
  EXPECT_EQ(fingerprint("avg_over(s, 2m) > 1", "    labels: {team: \"\"}\n"), base);
  EXPECT_NE(fingerprint("avg_over(s, 3m) > 1", ""), base);
  EXPECT_NE(fingerprint("avg_over(s, 2m) > 1", "    labels: {team: x}\n"), base);
  // Two alerts that differ only by such a label are one alert twice.
  RuleLoadResult twice = LoadRuleSources({{"r.yaml", StrCat(kCountOfS, R"(alerts:
  - alert: A
    severity: P3
    expr: s > 1
  - alert: A
    severity: P3
    expr: s > 2
    labels: {team: ""}
)")}});
  ASSERT_FALSE(twice.ok());
  EXPECT_THAT(twice.errors[0].ToString(), HasSubstr("alert 'A' is already defined at r.yaml:6:"));
}

}  // namespace
}  // namespace vigil
