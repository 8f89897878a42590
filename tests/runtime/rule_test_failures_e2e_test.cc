// `vigil test` end to end, when a test fails: what the output says about
// the difference, a series past its limit, and a file with no cases or a
// broken rule file.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/strings.h"
#include "tests/runtime/rule_test_e2e.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

// Each difference says what it found: the series a metric does have, an
// annotation or resolved value there is none of, booleans as booleans.
TEST(RuleTestE2eTest, DifferencesSayWhatIsThere) {
  const std::string dir =
      DirWithRules("diffs",
                   "metrics:\n"
                   "  - {metric: turns, by: [intent], window: tumbling 1m, value: count()}\n"
                   "alerts:\n"
                   "  - alert: Busy\n"
                   "    severity: P3\n"
                   "    expr: turns > 3\n"
                   "    annotations: {summary: busy}\n");
  std::ofstream(dir + "/d_test.yaml")
      << "rule_files: [rules.yaml]\n"
         "tests:\n"
         "  - name: d\n"
         "    series: [{every: 10s, for: 1m, event: {type: m, intent: faq}}]\n"
         "    expect_alerts:\n"
         "      - {at: 1m, alert: Busy, notify: false, resolved_value: 3, annotations: {sumary: "
         "x}}\n"
         "    expect_metrics:\n"
         "      - {at: 1m, metric: turns, labels: {intent: shop}, value: 6}\n";
  Result r = Sh(StrCat(kVigil, " test ", dir, "/d_test.yaml"));
  EXPECT_EQ(r.out, StrCat("FAIL d  (", dir, "/d_test.yaml:3)\n",
                          "    notify of at 1m firing Busy: got true, want false  (", dir,
                          "/d_test.yaml:6:9)\n",
                          "    resolved_value of at 1m firing Busy: it has none (only a resolution "
                          "by a value has one: not a firing transition), want 3  (",
                          dir, "/d_test.yaml:6:9)\n",
                          "    annotation sumary of at 1m firing Busy: it has none, want \"x\"  "
                          "(",
                          dir, "/d_test.yaml:6:9)\n",
                          "    metric turns{intent=\"shop\"} has no window ending at 1m (series "
                          "there: {intent=\"faq\"})  (",
                          dir, "/d_test.yaml:8:9)\n", "0 passed, 1 failed\n"))
      << r.out;
  std::ofstream(dir + "/t_test.yaml")
      << "rule_files: [rules.yaml]\n"
         "tests:\n"
         "  - name: t\n"
         "    series: [{every: 10s, for: 1m, event: {type: m, intent: faq}}]\n"
         "    expect_metrics: [{at: 1m, metric: turns, value: 6, tolerance: -1}]\n";
  EXPECT_NE(Sh(StrCat(kVigil, " test ", dir, "/t_test.yaml"))
                .out.find("t_test.yaml:5:67: tolerance must be 0 or more (a share: 0.01 is 1%)"),
            std::string::npos);
  // A missing transition shows the labels expected, the severity too: the
  // one that does not match may be it.
  std::ofstream(dir + "/s_test.yaml")
      << "rule_files: [rules.yaml]\n"
         "tests:\n"
         "  - name: s\n"
         "    series: [{every: 10s, for: 1m, event: {type: m, intent: faq}}]\n"
         "    expect_alerts: [{at: 1m, alert: Busy, labels: {severity: P2, intent: faq}}]\n";
  r = Sh(StrCat(kVigil, " test ", dir, "/s_test.yaml"));
  EXPECT_NE(
      r.out.find(StrCat("    missing:    at 1m firing Busy {intent=\"faq\",severity=\"P2\"}  ", "(",
                        dir, "/s_test.yaml:5:21)\n")),
      std::string::npos)
      << r.out;
}

TEST(RuleTestE2eTest, FailingTestPrintsADiff) {
  const std::string dir = ::testing::TempDir() + "/vigil_ruletest_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/rules.yaml") << "metrics:\n"
                                        "  - metric: n\n"
                                        "    window: tumbling 1m\n"
                                        "    value: count()\n"
                                        "alerts:\n"
                                        "  - alert: Busy\n"
                                        "    severity: P3\n"
                                        "    expr: n > 3\n";
  std::ofstream(dir + "/busy_test.yaml") << "rule_files: [rules.yaml]\n"
                                            "tests:\n"
                                            "  - name: busy minute\n"
                                            "    series:\n"
                                            "      - {every: 10s, for: 1m, event: {type: m}}\n"
                                            "    expect_alerts:\n"
                                            "      - {at: 2m, alert: Busy, state: firing}\n"
                                            "    expect_metrics:\n"
                                            "      - {at: 1m, metric: n, value: 5}\n"
                                            "  - name: quiet minute\n"
                                            "    events:\n"
                                            "      - {at: 5s, type: m}\n";
  Result r = Sh(StrCat(kVigil, " test ", dir, "/busy_test.yaml"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            StrCat("FAIL busy minute  (", dir, "/busy_test.yaml:3)\n",
                   "    missing:    at 2m firing Busy  (", dir, "/busy_test.yaml:7:9)\n",
                   "    unexpected: at 1m firing Busy\n", "    metric n at 1m: got 6, want 5  (",
                   dir, "/busy_test.yaml:9:9)\n", "PASS quiet minute  (", dir,
                   "/busy_test.yaml:10)\n", "1 passed, 1 failed\n"));
  std::filesystem::remove_all(dir);
}

// A series that would expand past the limit fails its case at once, with
// its line, instead of growing without bound; so does a test file that is
// a directory.
TEST(RuleTestE2eTest, ASeriesPastTheLimitFailsItsCase) {
  const std::string dir =
      ::testing::TempDir() + "/vigil_ruletest_big_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/rules.yaml") << "metrics:\n"
                                        "  - metric: n\n"
                                        "    window: tumbling 1m\n"
                                        "    value: count()\n";
  std::ofstream(dir + "/big_test.yaml") << "rule_files: [rules.yaml]\n"
                                           "tests:\n"
                                           "  - name: forever\n"
                                           "    series:\n"
                                           "      - {every: 1ms, for: 100000d, event: {type: m}}\n"
                                           "  - name: just under\n"
                                           "    series:\n"
                                           "      - {every: 1ms, for: 1m, event: {type: m}}\n"
                                           "    expect_metrics:\n"
                                           "      - {at: 1m, metric: n, value: 60000}\n";
  Result r = Sh(StrCat(kVigil, " test ", dir, "/big_test.yaml ", dir));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            StrCat("FAIL forever  (", dir, "/big_test.yaml:3)\n    ", dir,
                   "/big_test.yaml:5:9: this case would have more than 10000000 events (a "
                   "series has one per 'every' over 'for'); use a longer 'every' or a "
                   "shorter 'for'\n"
                   "PASS just under  (",
                   dir, "/big_test.yaml:6)\n", "FAIL ", dir,
                   ": cannot read the test file: it is a directory\n", "1 passed, 2 failed\n"))
      << r.out;
  std::filesystem::remove_all(dir);
}

// A test file without cases, or whose rule files do not load, fails once
// with its position, not silently or once per case.
TEST(RuleTestE2eTest, NoCasesOrBrokenRuleFilesFailTheFileOnce) {
  const std::string dir =
      ::testing::TempDir() + "/vigil_ruletest_empty_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/rules.yaml") << "metrics:\n"
                                        "  - metric: n\n"
                                        "    window: tumbling 1m\n"
                                        "    value: count()\n";
  std::ofstream(dir + "/empty_test.yaml") << "rule_files: [rules.yaml]\n"
                                             "tests: []\n";
  std::ofstream(dir + "/missing_test.yaml") << "rule_files: [missing.yaml]\n"
                                               "tests:\n"
                                               "  - name: one\n"
                                               "    events: [{at: 5s, type: m}]\n"
                                               "  - name: two\n"
                                               "    events: [{at: 5s, type: m}]\n";
  Result r = Sh(StrCat(kVigil, " test ", dir, "/empty_test.yaml ", dir, "/missing_test.yaml"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            StrCat("FAIL ", dir,
                   "/empty_test.yaml:2:8: no test cases: 'tests' must list at least one, "
                   "e.g. [{name: quiet, events: [{at: 5s, type: message}]}]\n",
                   "FAIL ", dir, "/missing_test.yaml:1:13: the rule files have errors:\n", "    ",
                   dir, "/missing.yaml: cannot read the rule file: No such file or directory\n",
                   "0 passed, 2 failed\n"))
      << r.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
