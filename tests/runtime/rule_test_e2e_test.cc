// `vigil test` end to end: the shipped rule tests pass; a failing test file
// prints the expected diff and exits 1.
#include "tests/runtime/rule_test_e2e.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/strings.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kSource = VIGIL_SOURCE_DIR;

TEST(RuleTestE2eTest, ShippedRuleTestsPass) {
  std::string files;
  for (const auto& e : std::filesystem::directory_iterator(kSource + "/deploy/rules/tests")) {
    if (e.path().extension() == ".yaml") files += " " + e.path().string();
  }
  ASSERT_FALSE(files.empty());
  Result r = Sh(StrCat(kVigil, " test", files));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("FAIL"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 0 failed"), std::string::npos) << r.out;
}

// The example test file in docs/commands.md passes against the reference
// rules, as written there.
TEST(RuleTestE2eTest, TheDocumentedExamplePasses) {
  const std::string doc = ReadFile(kSource + "/docs/commands.md");
  const size_t from = doc.find("```yaml\nrule_files: [../chatbot.yaml]");
  ASSERT_NE(from, std::string::npos);
  const size_t begin = doc.find('\n', from) + 1;
  std::string example = doc.substr(begin, doc.find("```", begin) - begin);
  example.replace(0, example.find(']') + 1,
                  "rule_files: [" + kSource + "/deploy/rules/chatbot.yaml]");
  const std::string dir = DirWithRules("doc_example", "");
  std::ofstream(dir + "/example_test.yaml") << example;
  Result r = Sh(StrCat(kVigil, " test ", dir, "/example_test.yaml"));
  EXPECT_EQ(r.exit_code, 0) << r.out << example;
  EXPECT_NE(r.out.find("1 passed, 0 failed"), std::string::npos) << r.out;
}

TEST(RuleTestE2eTest, ATestFileWithARepeatedKeyFailsWithBothPositions) {
  const std::string dir =
      ::testing::TempDir() + "/vigil_ruletest_dup_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/rules.yaml") << "metrics:\n"
                                        "  - metric: n\n"
                                        "    window: tumbling 1m\n"
                                        "    value: count()\n";
  // The second `tests:` would otherwise replace the first without a word.
  std::ofstream(dir + "/dup_test.yaml") << "rule_files: [rules.yaml]\n"
                                           "tests:\n"
                                           "  - name: one\n"
                                           "    events: [{at: 5s, type: m}]\n"
                                           "tests:\n"
                                           "  - name: two\n"
                                           "    events: [{at: 5s, type: m}]\n";
  Result r = Sh(StrCat(kVigil, " test ", dir, "/dup_test.yaml"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, StrCat("FAIL ", dir,
                          "/dup_test.yaml:5:1: duplicate key 'tests': it is also at line 2, "
                          "column 1; the keys of a mapping must be unique: merge the "
                          "two\n0 passed, 1 failed\n"));
}

// An expectation naming what the rule files do not define says so, with
// the closest name, instead of "missing" or "no window".
TEST(RuleTestE2eTest, ExpectationsOfUndefinedNamesSayWhatTheyMeant) {
  const std::string dir =
      ::testing::TempDir() + "/vigil_ruletest_names_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/rules.yaml") << "metrics:\n"
                                        "  - metric: turns\n"
                                        "    by: [intent]\n"
                                        "    window: tumbling 1m\n"
                                        "    value: count()\n"
                                        "alerts:\n"
                                        "  - alert: BusyIntent\n"
                                        "    severity: P3\n"
                                        "    expr: turns > 3\n";
  std::ofstream(dir + "/names_test.yaml") << "rule_files: [rules.yaml]\n"
                                             "tests:\n"
                                             "  - name: typos\n"
                                             "    series:\n"
                                             "      - {every: 10s, for: 1m, event: {type: m, "
                                             "intent: faq}}\n"
                                             "    expect_alerts:\n"
                                             "      - {at: 1m, alert: BusyIntnet}\n"
                                             "      - {at: 1m, alert: BusyIntent, labels: "
                                             "{intnet: faq}}\n"
                                             "      - {at: 1m, alert: BusyIntent, labels: "
                                             "{intent: faq}}\n"
                                             "    expect_metrics:\n"
                                             "      - {at: 1m, metric: turn, value: 6}\n"
                                             "      - {at: 1m, metric: turns, labels: {intnet: "
                                             "faq}, value: 6}\n"
                                             "      - {at: 1m, metric: turns, labels: {intent: "
                                             "faq}, value: 6}\n";
  Result r = Sh(StrCat(kVigil, " test ", dir, "/names_test.yaml"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(
      r.out,
      StrCat("FAIL typos  (", dir, "/names_test.yaml:3)\n",
             "    unknown alert 'BusyIntnet'; did you mean 'BusyIntent'?  (", dir,
             "/names_test.yaml:7:9)\n",
             "    unknown label of alert BusyIntent: 'intnet'; did you mean 'intent'?  "
             "(",
             dir, "/names_test.yaml:8:9)\n", "    unknown metric 'turn'; did you mean 'turns'?  (",
             dir, "/names_test.yaml:11:9)\n",
             "    unknown label of metric turns: 'intnet'; did you mean 'intent'?  "
             "(",
             dir, "/names_test.yaml:12:9)\n", "0 passed, 1 failed\n"))
      << r.out;
}

// A misspelt key is an expectation that would never be checked: the case
// fails at the key, with the closest one.
TEST(RuleTestE2eTest, AMisspeltKeyFailsAtTheKey) {
  const std::string dir = DirWithRules("keys",
                                       "metrics:\n"
                                       "  - {metric: turns, by: [intent], window: tumbling 1m, "
                                       "value: count()}\n"
                                       "alerts:\n"
                                       "  - {alert: Busy, severity: P3, expr: turns > 3}\n");
  const std::string events = "    series: [{every: 10s, for: 1m, event: {type: m, intent: faq}}]\n";
  auto run = [&](const std::string& test) {
    std::ofstream(dir + "/t_test.yaml") << "rule_files: [rules.yaml]\ntests:\n  - name: x\n"
                                        << events << test;
    return Sh(StrCat(kVigil, " test ", dir, "/t_test.yaml"));
  };
  // With the right key the labels differ and the case fails; misspelt, it
  // would have passed.
  Result r = run("    expect_alerts: [{at: 1m, alert: Busy, labels: {intent: shop}}]\n");
  EXPECT_NE(r.out.find("missing:"), std::string::npos) << r.out;
  r = run("    expect_alerts: [{at: 1m, alert: Busy, lables: {intent: shop}}]\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find(StrCat(dir,
                              "/t_test.yaml:5:43: unknown key 'lables' in an expected "
                              "alert; did you mean 'labels'?")),
            std::string::npos)
      << r.out;
  r = run("    expect_metric: [{at: 1m, metric: turns, value: 99}]\n");
  EXPECT_NE(r.out.find("t_test.yaml:5:5: unknown key 'expect_metric' in a test case; did you "
                       "mean 'expect_metrics'?"),
            std::string::npos)
      << r.out;
  r = run("    expect_metrics: [{at: 1m, metric: turns, valeu: 99}]\n");
  EXPECT_NE(r.out.find("unknown key 'valeu' in an expected metric; did you mean 'value'?"),
            std::string::npos)
      << r.out;
  r = run("    expect_alerts: [{at: 1m, alert: Busy, state: firng}]\n");
  EXPECT_NE(r.out.find("state 'firng' is not one of pending, firing, resolved, inactive"),
            std::string::npos)
      << r.out;
  r = run("    expect_metrics: [{at: 1m, metric: turns, value: six}]\n");
  EXPECT_NE(r.out.find("t_test.yaml:5:53: expected a number"), std::string::npos) << r.out;
}

// Times given twice, or an end before the events, are errors at their key,
// not a silent choice of one of them.
TEST(RuleTestE2eTest, ConflictingTimesFailAtTheKey) {
  const std::string dir = DirWithRules("times",
                                       "metrics:\n"
                                       "  - {metric: n, window: tumbling 1m, value: count()}\n");
  auto run = [&](const std::string& test) {
    std::ofstream(dir + "/t_test.yaml") << "rule_files: [rules.yaml]\ntests:\n  - name: x\n"
                                        << test;
    return Sh(StrCat(kVigil, " test ", dir, "/t_test.yaml"));
  };
  Result r = run("    events: [{ts: '1970-01-01T00:00:05Z', at: 10s, type: m}]\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("t_test.yaml:4:47: an event has 'at' (offset from start) or 'ts', not "
                       "both"),
            std::string::npos)
      << r.out;
  r = run("    series: [{every: 10s, for: 1m, event: {type: m, at: 5s}}]\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("t_test.yaml:4:57: a series' event takes its time from the series "
                       "('every', 'from', 'for'); remove its 'at'"),
            std::string::npos)
      << r.out;
  r = run("    series: [{every: 10s, for: 2m, event: {type: m}}]\n    until: 1m\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("t_test.yaml:5:12: until ends the input, which its events and series "
                       "cover to 2m: until must be at least that"),
            std::string::npos)
      << r.out;
  r = run("    series: [{every: 10s, for: 2m, event: {type: m}}]\n    until: 2m\n");
  EXPECT_EQ(r.exit_code, 0) << r.out;
}

// `until:` says the events cover event time that far: a group that stops
// reporting resolves, and absent() fires, within it, as in a replay whose
// input goes on.
TEST(RuleTestE2eTest, UntilCoversAQuietStretch) {
  const std::string dir =
      DirWithRules("until",
                   "metrics:\n"
                   "  - {metric: n, window: tumbling 1m, value: count()}\n"
                   "alerts:\n"
                   "  - {alert: Busy, severity: P3, expr: n > 3}\n"
                   "  - {alert: Gone, severity: P3, expr: \"absent(n, 3m)\"}\n");
  std::ofstream(dir + "/u_test.yaml") << "rule_files: [rules.yaml]\n"
                                         "tests:\n"
                                         "  - name: stops at 2m\n"
                                         "    series: [{every: 10s, for: 2m, event: {type: m}}]\n"
                                         "    until: 10m\n"
                                         "    expect_alerts:\n"
                                         "      - {at: 1m, alert: Busy}\n"
                                         "      - {at: 3m, alert: Busy, state: resolved}\n"
                                         "      - {at: 5m, alert: Gone}\n";
  Result r = Sh(StrCat(kVigil, " test ", dir, "/u_test.yaml"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, StrCat("PASS stops at 2m  (", dir, "/u_test.yaml:3)\n1 passed, 0 failed\n"));
}

TEST(RuleTestE2eTest, JsonOutputHasEveryCaseAndFileFailure) {
  const std::string dir = DirWithRules("json",
                                       "metrics:\n"
                                       "  - {metric: n, window: tumbling 1m, value: count()}\n"
                                       "alerts:\n"
                                       "  - {alert: Busy, severity: P3, expr: n > 3}\n");
  std::ofstream(dir + "/a_test.yaml") << "rule_files: [rules.yaml]\n"
                                         "tests:\n"
                                         "  - name: busy\n"
                                         "    series: [{every: 10s, for: 1m, event: {type: m}}]\n"
                                         "    expect_alerts: [{at: 1m, alert: Busy}]\n"
                                         "  - name: \"quiet \\\"one\\\"\"\n"
                                         "    series: [{every: 10s, for: 1m, event: {type: m}}]\n";
  std::ofstream(dir + "/b_test.yaml") << "rule_files: [nope.yaml]\ntests: []\n";
  Result r = Sh(StrCat(kVigil, " test --output json ", dir, "/a_test.yaml ", dir, "/b_test.yaml"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(
      r.out,
      StrCat(R"({"passed":1,"failed":2,"cases":[{"file":")", dir,
             R"(/a_test.yaml","name":"busy","line":3,"passed":true,"messages":[]},)",
             R"({"file":")", dir,
             R"(/a_test.yaml","name":"quiet \"one\"","line":6,"passed":false,)",
             R"("messages":["unexpected: at 1m firing Busy"]},{"file":")", dir,
             R"(/b_test.yaml","name":null,"line":1,"passed":false,"messages":[")", dir,
             R"(/b_test.yaml:1:13: the rule files have errors:",")", dir,
             R"(/nope.yaml: cannot read the rule file: No such file or directory"]}]})", "\n"))
      << r.out;
  // A flag it does not know is a usage error, not a test file.
  EXPECT_EQ(Sh(StrCat(kVigil, " test --outptu json ", dir, "/a_test.yaml")).exit_code, 2);
}

// With max_out_of_orderness above 0, events go in as listed: one listed
// after an event 40 s later is late and dropped, as `vigil run` drops it.
// A failing case lists the events the job refused.
TEST(RuleTestE2eTest, LateEventsAndDeadLettersAsTheJobSeesThem) {
  const std::string dir = DirWithRules("late",
                                       "schema:\n  latency_ms: {min: 0, max: 1000}\n"
                                       "metrics:\n"
                                       "  - {metric: n, window: tumbling 1m, value: count()}\n");
  std::ofstream(dir + "/late_test.yaml") << "rule_files: [rules.yaml]\n"
                                            "options: {max_out_of_orderness: 5s}\n"
                                            "tests:\n"
                                            "  - name: late\n"
                                            "    events:\n"
                                            "      - {at: 10s, type: m}\n"
                                            "      - {at: 70s, type: m}\n"
                                            "      - {at: 30s, type: m}\n"
                                            "      - {at: 59s, type: m, latency_ms: 5000}\n"
                                            "      - {at: 130s, type: m}\n"
                                            "    expect_metrics:\n"
                                            "      - {at: 1m, metric: n, value: 2}\n";
  Result r = Sh(StrCat(kVigil, " test ", dir, "/late_test.yaml"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, StrCat("FAIL late  (", dir, "/late_test.yaml:4)\n",
                          "    metric n at 1m: got 1, want 2  (", dir, "/late_test.yaml:12:9)\n",
                          "    dead-lettered: the event at 30s (", dir,
                          "/late_test.yaml:8:9): late: event time "
                          "1970-01-01T00:00:30.000Z is behind the watermark "
                          "1970-01-01T00:01:05.000Z by more than the allowed lateness\n",
                          "    dead-lettered: the event at 59s (", dir,
                          "/late_test.yaml:9:9): out_of_range: field "
                          "'latency_ms' is 5000, outside the schema's range [0, 1000]\n",
                          "0 passed, 1 failed\n"))
      << r.out;
}

// Plain scalars are read as YAML 1.2's core schema reads them: `+1`, `.5`,
// `012`, `0x10`, `1.` are numbers and `True` a boolean, as in the
// expectations, not JSON the job refuses. A number JSON cannot hold is the
// test's mistake, at its position. A case that passes with events the job
// refused says so.
TEST(RuleTestE2eTest, YamlNumbersAndBooleansBecomeJsonOnes) {
  const std::string dir =
      DirWithRules("yamlnum",
                   "schema:\n  latency_ms: {min: 0, max: 1000}\n"
                   "metrics:\n"
                   "  - {metric: total, window: tumbling 1m, value: sum(rating)}\n"
                   "  - {metric: yes, where: ok == true, window: tumbling 1m, value: count()}\n"
                   "  - {metric: n, window: tumbling 1m, value: count()}\n");
  std::ofstream(dir + "/n_test.yaml") << "rule_files: [rules.yaml]\n"
                                         "tests:\n"
                                         "  - name: numbers\n"
                                         "    events:\n"
                                         "      - {at: 1s, type: m, rating: +1, ok: True}\n"
                                         "      - {at: 2s, type: m, rating: .5, ok: TRUE}\n"
                                         "      - {at: 3s, type: m, rating: 012, ok: false}\n"
                                         "      - {at: 4s, type: m, rating: 0x10}\n"
                                         "      - {at: 5s, type: m, rating: 1., ok: ~}\n"
                                         "      - {at: 6s, type: m, rating: -2.5e1}\n"
                                         "      - {at: 7s, type: m, rating: 0o17}\n"
                                         "    expect_metrics:\n"
                                         "      - {at: 1m, metric: total, value: 20.5}\n"
                                         "      - {at: 1m, metric: yes, value: 2}\n"
                                         "      - {at: 1m, metric: n, value: 7}\n"
                                         "  - name: refused but passing\n"
                                         "    events:\n"
                                         "      - {at: 1s, type: m}\n"
                                         "      - {at: 2s, type: m, latency_ms: 5000}\n"
                                         "    expect_metrics:\n"
                                         "      - {at: 1m, metric: n, value: 1}\n"
                                         "  - name: too big\n"
                                         "    events:\n"
                                         "      - {at: 1s, type: m, rating: 1e400}\n"
                                         "  - name: not utf-8\n"
                                         "    events:\n"
                                         "      - {at: 1s, type: m, intent: \"f\xff"
                                         "q\"}\n";
  Result r = Sh(StrCat(kVigil, " test ", dir, "/n_test.yaml"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out,
            StrCat("PASS numbers  (", dir, "/n_test.yaml:3)\n", "PASS refused but passing  (", dir,
                   "/n_test.yaml:16)\n",
                   "    note: 1 of the case's events was refused; the case passed without it\n",
                   "    dead-lettered: the event at 2s (", dir,
                   "/n_test.yaml:19:9): out_of_range: field 'latency_ms' is 5000, outside the "
                   "schema's range [0, 1000]\n",
                   "FAIL too big  (", dir, "/n_test.yaml:22)\n", "    ", dir,
                   "/n_test.yaml:24:35: '1e400' is a number JSON cannot hold; quote it to send it "
                   "as a string\n",
                   "FAIL not utf-8  (", dir, "/n_test.yaml:25)\n", "    ", dir,
                   "/n_test.yaml:27:35: this text is not valid UTF-8: vigil run refuses such an "
                   "event (malformed_json)\n",
                   "2 passed, 2 failed\n"))
      << r.out;
}

// An expectation whose labels several series of a grouped metric match
// fails and names them: the test does not pick one (it used to take
// whichever came last, so renaming a label value flipped the outcome).
TEST(RuleTestE2eTest, AnExpectationSeveralSeriesMatchFailsAndNamesThem) {
  const std::string dir =
      DirWithRules("ambiguous",
                   "metrics:\n"
                   "  - {metric: n, by: [intent], window: tumbling 1m, value: count()}\n");
  std::ofstream(dir + "/a_test.yaml") << "rule_files: [rules.yaml]\n"
                                         "tests:\n"
                                         "  - name: two intents\n"
                                         "    events:\n"
                                         "      - {at: 1s, type: m, intent: faq}\n"
                                         "      - {at: 2s, type: m, intent: faq}\n"
                                         "      - {at: 3s, type: m, intent: returns}\n"
                                         "    expect_metrics:\n"
                                         "      - {at: 1m, metric: n, value: 2}\n"
                                         "      - {at: 1m, metric: n, labels: {intent: faq}, "
                                         "value: 2}\n";
  Result r = Sh(StrCat(kVigil, " test ", dir, "/a_test.yaml"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, StrCat("FAIL two intents  (", dir, "/a_test.yaml:3)\n",
                          "    metric n at 1m: 2 series match ({intent=\"faq\"} 2, "
                          "{intent=\"returns\"} 1): list the labels that tell them apart  (",
                          dir, "/a_test.yaml:9:9)\n", "0 passed, 1 failed\n"))
      << r.out;
}

// Annotations render $externalLabels and $externalURL from the test's
// options, as the job renders them from its notify: section; without them
// they are empty, as in a job without one.
TEST(RuleTestE2eTest, ExternalLabelsAndUrlComeFromTheOptions) {
  const std::string dir = DirWithRules("external",
                                       "metrics:\n"
                                       "  - {metric: n, window: tumbling 1m, value: count()}\n"
                                       "alerts:\n"
                                       "  - alert: Busy\n"
                                       "    severity: P3\n"
                                       "    expr: n > 3\n"
                                       "    annotations:\n"
                                       "      summary: 'env={{ $externalLabels.env }} url={{ "
                                       "$externalURL }}'\n");
  const std::string cases =
      "tests:\n"
      "  - name: busy\n"
      "    series: [{every: 10s, for: 1m, event: {type: m}}]\n"
      "    expect_alerts:\n"
      "      - {at: 1m, alert: Busy, annotations: {summary: 'env=prod "
      "url=http://vigil.example:9464'}}\n";
  std::ofstream(dir + "/with_test.yaml")
      << "rule_files: [rules.yaml]\n"
         "options: {external_labels: {env: prod}, external_url: 'http://vigil.example:9464'}\n"
      << cases;
  std::ofstream(dir + "/without_test.yaml") << "rule_files: [rules.yaml]\n" << cases;
  Result r = Sh(StrCat(kVigil, " test ", dir, "/with_test.yaml"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  r = Sh(StrCat(kVigil, " test ", dir, "/without_test.yaml"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("got \"env= url=\""), std::string::npos) << r.out;
}

// Calendar windows in a time zone, tested as a user would: days are local
// midnights (the 23-hour day of the spring change counts 23 hourly events),
// months calendar months, and `at:` takes local RFC 3339 times.
TEST(RuleTestE2eTest, CalendarDaysAndMonthsInATimeZone) {
  const std::string dir =
      ::testing::TempDir() + "/vigil_ruletest_calendar_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/rules.yaml") << "metrics:\n"
                                        "  - metric: turns_per_day\n"
                                        "    window: calendar day\n"
                                        "    timezone: Europe/Berlin\n"
                                        "    value: count()\n"
                                        "  - metric: turns_per_month\n"
                                        "    window: calendar month\n"
                                        "    timezone: Europe/Berlin\n"
                                        "    value: count()\n"
                                        "alerts:\n"
                                        "  - alert: FullDay\n"
                                        "    severity: P4\n"
                                        "    expr: turns_per_day >= 24\n";
  std::ofstream(dir + "/calendar_test.yaml")
      << "rule_files: [rules.yaml]\n"
         "tests:\n"
         "  - name: an event every hour across the spring change\n"
         "    start: 2026-03-28T00:00:00+01:00\n"
         "    series:\n"
         "      - {every: 1h, for: 5d, event: {type: m}}\n"
         "    expect_metrics:\n"
         "      - {at: 2026-03-29T00:00:00+01:00, metric: turns_per_day, value: 24}\n"
         "      - {at: 2026-03-30T00:00:00+02:00, metric: turns_per_day, value: 23}\n"
         "      - {at: 2026-03-31T00:00:00+02:00, metric: turns_per_day, value: 24}\n"
         "      - {at: 2026-04-01T00:00:00+02:00, metric: turns_per_month, value: 95}\n"
         "    expect_alerts:\n"
         "      - {at: 2026-03-29T00:00:00+01:00, alert: FullDay, state: firing}\n"
         "      - {at: 2026-03-30T00:00:00+02:00, alert: FullDay, state: resolved}\n"
         "      - {at: 2026-03-31T00:00:00+02:00, alert: FullDay, state: firing}\n";
  Result r = Sh(StrCat(kVigil, " test ", dir, "/calendar_test.yaml 2>&1"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("1 passed, 0 failed"), std::string::npos) << r.out;

  // The same file with the day in UTC: 24 events a day, the alert never
  // resolves, and the expectations above fail where they should.
  std::string utc = ReadFile(dir + "/rules.yaml");
  utc.replace(utc.find("    timezone: Europe/Berlin\n"), 28, "");
  std::ofstream(dir + "/rules.yaml") << utc;
  r = Sh(StrCat(kVigil, " test ", dir, "/calendar_test.yaml 2>&1"));
  EXPECT_EQ(r.exit_code, 1) << r.out;
  // (Times are printed as offsets from the case's start.)
  EXPECT_NE(r.out.find("metric turns_per_day has no window ending at 1d23h"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("unexpected: at 1d1h firing FullDay"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vigil
