// YAML syntax errors come back in words, with the position of the mistake
// and what to change, through the rule loader as an SRE sees them.
#include "rules/yaml_errors.h"

#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using ::testing::ElementsAre;

struct Case {
  const char* what;
  const char* yaml;
  const char* error;
};

const Case kCases[] = {
    {"a list item one column right of its siblings",
     "alerts:\n  - alert: A\n    severity: P1\n   - alert: B\n    severity: P2\n",
     "r.yaml:4:4: this list item is not at the indentation of the items before it: a list item "
     "must start with '- ' at the column of its siblings"},
    {"a key of a list item one column left of the item's first key",
     "alerts:\n  - alert: A\n    expr: x > 1\n  - alert: B\n   expr: y\n",
     "r.yaml:5:4: this line is indented less than the keys of the list item above it: the keys "
     "of one item must line up with its first key (the one after '- ')"},
    {"a key of an item dedented to the list's column",
     "alerts:\n  - alert: A\n    severity: P1\n  expr: x > 1\n",
     "r.yaml:4:3: this line is not at the indentation of the keys before it: the keys of one "
     "mapping must start in the same column, and the text of a '|' or '>' block must be indented "
     "more than its key"},
    {"a key indented more than its siblings", "alerts:\n  - alert: A\n     severity: P1\n",
     "r.yaml:3:14: this key is indented more than the key before it: the keys of one mapping "
     "must start in the same column"},
    {"': ' in an unquoted value", "alerts:\n  - alert: A\n    summary: p99: too high\n",
     "r.yaml:3:17: ': ' inside a plain value starts a mapping: put the value in quotes"},
    {"a '[' never closed", "metrics:\n  - metric: m\n    by: [intent, model\n    window: x\n",
     "r.yaml:3:9: this '[' is never closed with ']' (put a value that starts with '[' in quotes)"},
    {"a '{' never closed", "metrics:\n  - metric: m\n    labels: {a: 1\n",
     "r.yaml:3:13: this '{' is never closed with '}' (put a value that starts with '{' in "
     "quotes)"},
    {"a tab for indentation", "metrics:\n\t- metric: m\n",
     "r.yaml:2:2: a tab indents this line: YAML indents with spaces only"},
    {"a regular expression in double quotes",
     "silences:\n  - matchers: [\"alertname=~\\\"A\\d+\\\"\"]\n",
     "r.yaml:2:33: '\\d' is not an escape of a double-quoted string: put the value in single "
     "quotes ('...'), where a backslash is a backslash, or write '\\\\d'"},
    {"a value starting with a reserved character", "alerts:\n  - alert: A\n    summary: @here\n",
     "r.yaml:3:14: '@' cannot start a plain value (YAML reserves it): put the value in quotes"},
    {"a value starting with '*'", "alerts:\n  - alert: A\n    expr: *x > 1\n",
     "r.yaml:3:11: '*' starts an alias, and no anchor ('&name') of that name is defined: put a "
     "value that starts with '*' in quotes"},
    {"a list where a key was expected", "metrics: []\n- metric: m\n",
     "r.yaml:2:1: a list item where a key of the mapping above was expected: indent the list "
     "under the key it belongs to"},
};

TEST(YamlErrorsTest, EachMistakeIsExplainedAtItsPosition) {
  for (const Case& c : kCases) {
    EXPECT_THAT(Errors(c.yaml), ElementsAre(c.error)) << c.what;
  }
}

TEST(YamlErrorsTest, AnUnquotedTemplateIsValidYamlButSaysWhatToDo) {
  EXPECT_THAT(Errors("metrics:\n  - metric: m\n    window: tumbling 1m\n    value: count()\n"
                     "alerts:\n  - alert: A\n    severity: P3\n    expr: m > 1\n"
                     "    annotations:\n      summary: {{ $value }}\n"),
              ElementsAre("r.yaml:10:16: an annotation must be a string; YAML reads an unquoted "
                          "'{{ ... }}' as a mapping: put the template in quotes"));
}

TEST(YamlErrorsTest, AnUnclosedBracketAtTheEndOfTheFilePointsAtTheBracket) {
  // The parser notices at the end of the file; the mistake is the '['.
  EXPECT_THAT(Errors("metrics:\n  - metric: m\n    by: [intent\n"),
              ElementsAre(::testing::StartsWith("r.yaml:3:9: this '[' is never closed")));
  // Brackets inside quotes and comments do not count.
  EXPECT_THAT(Errors("metrics:  # [x\n  - metric: \"[\"\n    by: [intent\n"),
              ElementsAre(::testing::StartsWith("r.yaml:3:9: this '[' is never closed")));
}

TEST(YamlErrorsTest, YamlNestedTooDeeplySaysSo) {
  const std::string deep = std::string(600, '[') + std::string(600, ']');
  EXPECT_THAT(Errors("metrics:\n  - metric: m\n    help: " + deep + "\n"),
              ElementsAre(::testing::MatchesRegex(
                  "r\\.yaml:3:[0-9]+: YAML nested too deeply here \\(the parser stops at a few "
                  "hundred levels of brackets or indentation; no rule needs more than a few\\)")));
}

TEST(YamlErrorsTest, AQuoteLeftOpenIsNamedBeforeTheErrorsItCauses) {
  const std::string metrics =
      "metrics:\n"
      "  - metric: n\n"
      "    window: tumbling 1m\n"
      "    where: \"type == message\n"
      "    value: count()\n"
      "  - metric: m\n"
      "    window: tumbling 1m\n"
      "    value: count()\n";
  // To the end of the file: the rest is one string, so n has no value.
  EXPECT_THAT(Errors(metrics),
              ElementsAre("r.yaml:4:12: this quoted value is not closed on its line and runs on "
                          "to the end of the file, over line 5 that looks like a key: is its "
                          "closing '\"' missing?",
                          ::testing::StartsWith("r.yaml:4:12: unexpected 'value'"),
                          "r.yaml:2:5: a metric needs a 'value' field"));
  // To the next quote, where the parser stops far below.
  EXPECT_THAT(Errors(metrics + "alerts:\n  - alert: A\n    severity: P3\n    expr: n > 1\n"
                               "    annotations:\n      summary: 'n is {{ $value }}'\n"
                               "      runbook: \"x\"\n"),
              ElementsAre("r.yaml:4:12: this quoted value is not closed on its line and runs on "
                          "to line 15, over line 5 that looks like a key: is its closing '\"' "
                          "missing?",
                          ::testing::StartsWith("r.yaml:15:")));
  // A quoted value that spans lines on purpose, in a file with another
  // error, is not blamed.
  EXPECT_THAT(Errors("metrics:\n  - metric: n\n    help: \"a long\n      help text\"\n"
                     "    window: tumbling 1m\n"),
              ElementsAre("r.yaml:2:5: a metric needs a 'value' field"));
}

TEST(YamlErrorsTest, OneMisspeltOrMergeKeyIsOneError) {
  // Not also "a metric needs a 'window' field".
  EXPECT_THAT(Errors("metrics:\n  - metric: m\n    windw: tumbling 1m\n    value: count()\n"),
              ElementsAre("r.yaml:3:5: unknown field 'windw' in metric; did you mean 'window'?"));
  // yaml-cpp reads '<<' as a key; the fields it would merge are not missing
  // fields of their own.
  EXPECT_THAT(Errors("metrics:\n  - &b {metric: a, window: tumbling 1m, value: count()}\n"
                     "  - metric: m\n    <<: *b\n"),
              ElementsAre("r.yaml:4:5: YAML merge keys ('<<') are not supported: repeat the "
                          "fields, or make the whole entry an anchor (&name) and list its alias "
                          "(*name)"));
}

TEST(YamlErrorsTest, ASecondDocumentIsAnErrorNotDropped) {
  const std::string metric =
      "metrics:\n  - metric: m\n    window: tumbling 1m\n    value: count()\n";
  // The alert after '---' would be ignored: a page that never comes.
  EXPECT_THAT(Errors(metric + "---\nalerts:\n  - alert: A\n    severity: P1\n    expr: m > 1\n"),
              ElementsAre("r.yaml:5:1: a second YAML document starts here; vigil reads one "
                          "document per file, so everything below would be ignored: remove this "
                          "'---' line, or move what follows into a file of its own"));
  // A leading '---', a trailing one and a comment-only second document are
  // one document.
  EXPECT_TRUE(loader_test::Load("---\n" + metric).ok());
  EXPECT_TRUE(loader_test::Load(metric + "---\n").ok());
  EXPECT_TRUE(loader_test::Load(metric + "---\n# nothing here\n").ok());
  // The one-line form, for job, web and test files.
  std::string second;
  const YAML::Node root = LoadOneDocument("job.yaml", "a: 1\n--- # b\nb: 2\n", &second);
  EXPECT_EQ(root["a"].as<int>(), 1);
  EXPECT_THAT(second, ::testing::StartsWith("job.yaml:2:1: a second YAML document starts here"));
  LoadOneDocument("job.yaml", "a: 1\n", &second);
  EXPECT_EQ(second, "");
  // No '---': a flow mapping or a list ends the top level before more keys.
  for (const std::string text : {"{a: 1}\nb: 2\n", "- a\nb: 1\n"}) {
    LoadOneDocument("job.yaml", text, &second);
    EXPECT_EQ(second,
              "job.yaml:2:1: this comes after the end of the file's top-level value (a '{...}' "
              "mapping, a list or a '...' line before it ends it), so it would be ignored: write "
              "the top level as 'key: value' lines")
        << text;
  }
}

// Old Mac line ends (a lone CR) are line breaks, as YAML 1.2 has them: the
// error is where it is in the LF file, not on "line 1".
TEST(RuleLoaderTest, LoneCarriageReturnsBreakLines) {
  for (const char* eol : {"\n", "\r\n", "\r"}) {
    const std::string path = ::testing::TempDir() + "/vigil_cr_rules.yaml";
    std::ofstream(path, std::ios::binary)
        << "metrics:" << eol << "  - metric: a" << eol << "    window: tumbling 1x" << eol
        << "    value: count()" << eol;
    RuleLoadResult r = LoadRuleFiles({path});
    ASSERT_FALSE(r.ok());
    ASSERT_FALSE(r.errors.empty());
    EXPECT_EQ(r.errors[0].ToString().rfind(path + ":3:13: ", 0), 0u)
        << static_cast<int>(eol[0]) << " " << r.errors[0].ToString();
  }
}

}  // namespace
}  // namespace vigil
