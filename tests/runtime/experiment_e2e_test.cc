// The reference prompt experiment (deploy/rules/experiment.yaml) end to
// end: generated traffic where arm B regresses gives the decisions the
// regression implies, from a replay and from a running job; normal traffic
// decides nothing and pages nobody; the experiment's outputs are
// byte-identical whatever the number of workers and whether the events come
// from a file, stdin or a Kafka topic of four partitions.
#include <signal.h>
#include <simdjson.h>

#include <fstream>
#include <map>
#include <memory>
#include <regex>
#include <string>

#include "base/strings.h"
#include "base/time.h"
#include "gtest/gtest.h"
#include "runtime/dev_broker.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kRules = std::string(" --rules ") + VIGIL_SOURCE_DIR +
                           "/deploy/rules/chatbot.yaml --rules " + VIGIL_SOURCE_DIR +
                           "/deploy/rules/experiment.yaml";

class ExperimentE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { RemoveTestPaths(Path("")); }
  std::string Path(const std::string& name) {
    return TempPath(std::string("experiment_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
};

// metric -> decision, from `vigil experiment report --output json`.
std::map<std::string, std::string> Decisions(const std::string& json, bool* mismatch) {
  std::map<std::string, std::string> out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return out;
  simdjson::dom::array experiments;
  if (doc["experiments"].get(experiments) != simdjson::SUCCESS || experiments.size() != 1) {
    return out;
  }
  simdjson::dom::element e = experiments.at(0).value();
  bool m = true;
  if (e["sample_ratio_mismatch"].get(m) == simdjson::SUCCESS) *mismatch = m;
  simdjson::dom::array rows;
  if (e["comparisons"].get(rows) != simdjson::SUCCESS) return out;
  for (simdjson::dom::element row : rows) {
    std::string_view metric, decision;
    if (row["metric"].get(metric) == simdjson::SUCCESS &&
        row["decision"].get(decision) == simdjson::SUCCESS) {
      out[std::string(metric)] = std::string(decision);
    }
  }
  return out;
}

TEST_F(ExperimentE2eTest, AReplayOfARegressedArmDecidesAgainstIt) {
  const std::string events = Path("events.ndjson.zst");
  ASSERT_EQ(Sh(kVigil +
               " gen --seed 3 --rate 20 --duration 12h "
               "--incident prompt_regression@2h+10h --out " +
               events)
                .exit_code,
            0);
  Result json =
      Sh(kVigil + " experiment report" + kRules + " --output json " + events + " 2>/dev/null");
  ASSERT_EQ(json.exit_code, 0) << json.out;
  bool mismatch = true;
  const std::map<std::string, std::string> decisions = Decisions(json.out, &mismatch);
  EXPECT_FALSE(mismatch) << json.out;
  EXPECT_EQ(decisions.at("thumbs_up_rate"), "control_wins") << json.out;
  EXPECT_EQ(decisions.at("latency_p50_ms"), "guardrail_breached") << json.out;
  EXPECT_EQ(decisions.at("escalation_rate"), "no_difference_yet") << json.out;

  Result text = Sh(kVigil + " experiment report" + kRules + " " + events + " 2>/dev/null");
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_TRUE(std::regex_search(
      text.out, std::regex("Experiment prompt_experiment_007: arm variant, unit user_id, control "
                           "A \\(50%\\) vs B \\(50%\\)\n  units: A [0-9,]+ · B [0-9,]+; sample "
                           "ratio ok \\(p = 0\\.[0-9]{3}\\)\n")))
      << text.out;
  EXPECT_TRUE(std::regex_search(
      text.out, std::regex("  Thumbs up rate: A [0-9.]+% vs B [0-9.]+% \\(-[0-9.]+ pts, 95% CS "
                           "\\[-[0-9.]+, -[0-9.]+\\], p < 0\\.001\\) → Control wins\n")))
      << text.out;
  Result md =
      Sh(kVigil + " experiment report" + kRules + " --output markdown " + events + " 2>/dev/null");
  EXPECT_NE(md.out.find("| Metric | Control | Treatment | Difference | Confidence sequence | p | "
                        "Decision |\n|---|---|---|---|---|---|---|\n| Thumbs up rate | A "),
            std::string::npos)
      << md.out;
}

TEST_F(ExperimentE2eTest, NormalTrafficDecidesNothingAndPagesNobody) {
  const std::string events = Path("events.ndjson.zst");
  ASSERT_EQ(Sh(kVigil + " gen --seed 4 --rate 20 --duration 24h --out " + events).exit_code, 0);
  Result json =
      Sh(kVigil + " experiment report" + kRules + " --output json " + events + " 2>/dev/null");
  ASSERT_EQ(json.exit_code, 0) << json.out;
  bool mismatch = true;
  const std::map<std::string, std::string> decisions = Decisions(json.out, &mismatch);
  EXPECT_FALSE(mismatch) << json.out;
  ASSERT_EQ(decisions.size(), 3u) << json.out;
  for (const auto& [metric, decision] : decisions) {
    EXPECT_EQ(decision, "no_difference_yet") << metric << "\n" << json.out;
  }
  Result replay = Sh(kVigil + " replay" + kRules + " " + events + " 2>/dev/null");
  ASSERT_EQ(replay.exit_code, 0);
  EXPECT_NE(replay.out.find("(no alerts)"), std::string::npos) << replay.out;
}

// A one-metric experiment (`good`: ratio(ok), arms c and t by `variant`,
// unit `user`) and one event a second from 2026-01-01 with the given fields.
void WriteSmallExperiment(const std::string& rules, const std::string& events,
                          std::initializer_list<const char*> fields) {
  std::ofstream(rules) << "experiments:\n"
                          "  - experiment: e1\n"
                          "    arm: variant\n"
                          "    control: c\n"
                          "    split: {c: 0.5, t: 0.5}\n"
                          "    unit: user\n"
                          "    metrics:\n"
                          "      - {name: good, value: ratio(ok), goal: increase}\n";
  std::ofstream out(events);
  int ts = 1'767'225'600;  // 2026-01-01T00:00:00Z, in seconds
  for (const char* e : fields) {
    out << "{\"ts\":\"" << FormatTimestamp(static_cast<TimeMs>(ts++) * 1000)
        << "\",\"type\":\"message\"," << e << "}\n";
  }
}

// A user served both arms is left out and reported: the report's units
// line and its JSON say how many crossed over, and the units are those
// left.
TEST_F(ExperimentE2eTest, TheReportShowsUnitsSeenInBothArms) {
  const std::string rules = Path("rules.yaml"), events = Path("events.ndjson");
  WriteSmallExperiment(rules, events,
                       {"\"variant\":\"c\",\"user\":\"u1\",\"ok\":true",
                        "\"variant\":\"c\",\"user\":\"u2\",\"ok\":true",
                        "\"variant\":\"t\",\"user\":\"u3\",\"ok\":false",
                        "\"variant\":\"t\",\"user\":\"u4\",\"ok\":true",
                        "\"variant\":\"t\",\"user\":\"u1\",\"ok\":false"});
  Result json = Sh(kVigil + " experiment report --rules " + rules + " --output json " + events +
                   " 2>/dev/null");
  ASSERT_EQ(json.exit_code, 0) << json.out;
  EXPECT_NE(json.out.find("\"units\":{\"c\":1,\"t\":2},\"srm_p_value\":"), std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find("\"crossover_units\":1,"), std::string::npos) << json.out;
  Result text = Sh(kVigil + " experiment report --rules " + rules + " " + events + " 2>/dev/null");
  EXPECT_NE(text.out.find("  units: c 1 · t 2; sample ratio ok (p = 0.564); 1 unit seen in more "
                          "than one arm, left out\n"),
            std::string::npos)
      << text.out;
}

// Every unit of both arms agrees (the control's never ok, the treatment's
// always): a difference of 100 points but no variance, so no interval,
// p-value or decision, and each output says so alike.
TEST_F(ExperimentE2eTest, AComparisonWithoutVarianceHasNoDecisionInAnyOutput) {
  const std::string rules = Path("rules.yaml"), events = Path("events.ndjson");
  WriteSmallExperiment(rules, events,
                       {"\"variant\":\"c\",\"user\":\"u1\",\"ok\":false",
                        "\"variant\":\"c\",\"user\":\"u2\",\"ok\":false",
                        "\"variant\":\"t\",\"user\":\"u3\",\"ok\":true",
                        "\"variant\":\"t\",\"user\":\"u4\",\"ok\":true"});
  const std::string report = kVigil + " experiment report --rules " + rules;
  Result json = Sh(report + " --output json " + events + " 2>/dev/null");
  ASSERT_EQ(json.exit_code, 0) << json.out;
  EXPECT_NE(json.out.find("\"difference\":1,\"ci_lower\":null,\"ci_upper\":null,\"p_value\":"
                          "null,\"decision\":null}"),
            std::string::npos)
      << json.out;
  Result text = Sh(report + " " + events + " 2>/dev/null");
  EXPECT_NE(text.out.find("  Good: c 0.0% vs t 100.0% (+100.0 pts, no spread between units yet: "
                          "not enough data)\n"),
            std::string::npos)
      << text.out;
  Result md = Sh(report + " --output markdown " + events + " 2>/dev/null");
  EXPECT_NE(md.out.find("| Good | c 0.0% | t 100.0% | +100.0 pts | - | - | not enough data yet |"),
            std::string::npos)
      << md.out;
  // Rules without the experiment say so, over events and over its results.
  const std::string other = Path("other.yaml"), results = Path("results.ndjson");
  std::ofstream(other) << "metrics:\n  - metric: n\n    window: tumbling 1m\n"
                          "    value: count()\n";
  ASSERT_EQ(Sh(kVigil + " replay --rules " + rules + " --results " + results + " " + events +
               " > /dev/null 2>&1")
                .exit_code,
            0);
  for (const std::string& input : {events, results}) {
    Result none = Sh(kVigil + " experiment report --rules " + other + " " + input + " 2>/dev/null");
    EXPECT_EQ(none.exit_code, 0) << input;
    EXPECT_EQ(none.out, "no experiments in the rules\n") << input;
  }
}

// Both control units cross over to the treatment in the second hour: the
// control has no units left, so the comparison of that window has no
// values, and the report must not show the first hour's (which counted the
// units it now leaves out) as the second's.
TEST_F(ExperimentE2eTest, AComparisonTheLatestWindowHasNoneOfShowsNoOlderValues) {
  const std::string rules = Path("rules.yaml"), events = Path("events.ndjson");
  WriteSmallExperiment(rules, events, {});
  std::ofstream out(events);
  const TimeMs start = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  int i = 0;
  for (const auto& [hour, fields] : std::vector<std::pair<int, std::string>>{
           {0, "\"variant\":\"c\",\"user\":\"u1\",\"ok\":true"},
           {0, "\"variant\":\"c\",\"user\":\"u2\",\"ok\":false"},
           {0, "\"variant\":\"t\",\"user\":\"u3\",\"ok\":true"},
           {0, "\"variant\":\"t\",\"user\":\"u4\",\"ok\":false"},
           {1, "\"variant\":\"t\",\"user\":\"u1\",\"ok\":true"},
           {1, "\"variant\":\"t\",\"user\":\"u2\",\"ok\":true"}}) {
    out << "{\"ts\":\"" << FormatTimestamp(start + hour * 3'600'000 + (++i) * 1000)
        << "\",\"type\":\"message\"," << fields << "}\n";
  }
  out.close();
  const std::string results = Path("results.ndjson");
  ASSERT_EQ(Sh(kVigil + " replay --rules " + rules + " --results " + results + " " + events +
               " > /dev/null 2>&1")
                .exit_code,
            0);
  // The first hour compares 50% with 50%; the second publishes units only.
  ASSERT_NE(ReadFile(results).find("\"metric\":\"experiment_difference\",\"start\":\"2026-01-01T00"
                                   ":00:00.000Z\""),
            std::string::npos);
  ASSERT_EQ(
      ReadFile(results).find("\"metric\":\"experiment_difference\",\"start\":\"2026-01-01T01"),
      std::string::npos);
  for (const std::string& input : {events, results}) {
    Result json = Sh(kVigil + " experiment report --rules " + rules + " --output json " + input +
                     " 2>/dev/null");
    ASSERT_EQ(json.exit_code, 0) << json.out;
    EXPECT_NE(json.out.find("\"as_of\":\"2026-01-01T02:00:00.000Z\""), std::string::npos)
        << json.out;
    EXPECT_NE(json.out.find("\"units\":{\"c\":0,\"t\":2}"), std::string::npos) << json.out;
    EXPECT_NE(
        json.out.find("\"control_value\":null,\"value\":null,\"difference\":null,"
                      "\"ci_lower\":null,\"ci_upper\":null,\"p_value\":null,\"decision\":null"),
        std::string::npos)
        << json.out;
    Result text = Sh(kVigil + " experiment report --rules " + rules + " " + input + " 2>/dev/null");
    EXPECT_EQ(text.out.find("50.0%"), std::string::npos) << text.out;
    EXPECT_NE(text.out.find("not enough data yet"), std::string::npos) << text.out;
  }
}

TEST_F(ExperimentE2eTest, ARunningJobReportsTheSameDecisions) {
  // A day of event time in about 24 seconds, arm B regressed from hour 1.
  const std::string log = Path("run.log");
  const pid_t job = Spawn(kVigil + " run --generator --speed 3600 --rate 20 --seed 3" + kRules +
                              " --incident prompt_regression@1h+1000h --no-console "
                              "--http 127.0.0.1:0",
                          log);
  ChildGuard job_guard(job);
  const std::string url = JobHttpBase(log);
  ASSERT_FALSE(url.empty()) << ReadFile(log);
  Result json;
  std::map<std::string, std::string> decisions;
  bool mismatch = true;
  EXPECT_TRUE(WaitFor(
      [&] {
        json = Sh(kVigil + " experiment report --url " + url + " --output json");
        decisions = Decisions(json.out, &mismatch);
        return json.exit_code == 0 && decisions["thumbs_up_rate"] == "control_wins" &&
               decisions["latency_p50_ms"] == "guardrail_breached";
      },
      60))
      << json.exit_code << ": " << json.out;
  EXPECT_FALSE(mismatch) << json.out;
  Result text = Sh(kVigil + " experiment report --url " + url);
  EXPECT_NE(text.out.find("→ Guardrail breached"), std::string::npos) << text.out;
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0) << ReadFile(log);
}

// The experiment's window results (per-arm values, differences, confidence
// sequences, p-values, decisions, sample ratio) are the same bytes with 1,
// 2 and 3 workers, from a file, stdin and a Kafka topic of four partitions
// that the generator filled (events of a user spread over partitions by
// session).
TEST_F(ExperimentE2eTest, TheOutputsAreTheSameForAnyWorkersAndSource) {
  const std::string events = Path("events.ndjson");
  const std::string gen =
      " gen --seed 8 --rate 10 --duration 4h --incident prompt_regression@1h+3h";
  ASSERT_EQ(Sh(kVigil + gen + " --out " + events).exit_code, 0);
  auto run = [&](const std::string& cmd, const std::string& name) {
    const std::string results = Path(name + ".ndjson"), log = Path(name + ".log");
    Result r = Sh(cmd + kRules + " --results " + results +
                  " --output json --http off --no-progress --no-console 2>" + log);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << ReadFile(log);
    EXPECT_NE(ReadFile(log).find("144000 records"), std::string::npos) << name << ReadFile(log);
    return ReadFile(results);
  };
  const std::string one = run(kVigil + " run --workers 1 --input " + events, "file1");
  // Every output of the experiment is there, and the regression is decided.
  for (const char* metric :
       {"experiment_units", "experiment_srm_p_value", "experiment_sample_ratio_mismatch",
        "experiment_value", "experiment_difference", "experiment_ci_lower", "experiment_ci_upper",
        "experiment_p_value", "experiment_decision"}) {
    EXPECT_NE(one.find(std::string("\"metric\":\"") + metric + "\""), std::string::npos) << metric;
  }
  EXPECT_TRUE(std::regex_search(
      one, std::regex("\"metric\":\"experiment_decision\",[^\n]*\"metric\":\"thumbs_up_rate\""
                      "[^\n]*\"value\":-1\\b")))
      << one;
  // The report from the window results file is the report of the replay.
  Result replayed = Sh(kVigil + " experiment report" + kRules + " " + events + " 2>/dev/null");
  Result stored =
      Sh(kVigil + " experiment report" + kRules + " " + Path("file1.ndjson") + " 2>/dev/null");
  EXPECT_EQ(stored.exit_code, 0);
  EXPECT_NE(replayed.out.find("→ Control wins"), std::string::npos) << replayed.out;
  EXPECT_EQ(stored.out, replayed.out);
  Result from = Sh(kVigil + " experiment report --from 2026-01-01T00:00:00Z " +
                   Path("file1.ndjson") + " 2>&1");
  EXPECT_EQ(from.exit_code, 2);
  EXPECT_NE(from.out.find("takes --to, not --from"), std::string::npos) << from.out;
  EXPECT_TRUE(run(kVigil + " run --workers 3 --input " + events, "file3") == one)
      << "file, 3 workers: the window results differ";
  EXPECT_TRUE(run("cat " + events + " | " + kVigil + " run --workers 2 --input -", "stdin2") == one)
      << "stdin, 2 workers: the window results differ";

  absl::StatusOr<std::unique_ptr<DevBroker>> b = DevBroker::Start(1, {{"events", 4}});
  ASSERT_TRUE(b.ok()) << b.status();
  const std::string url = "kafka://" + (*b)->bootstrap() + "/events";
  Result g = Sh(kVigil + gen + " --to " + url + " 2>&1");
  ASSERT_EQ(g.exit_code, 0) << g.out;
  ASSERT_NE(g.out.find("144000 delivered, 0 failed"), std::string::npos) << g.out;
  for (int w : {1, 2}) {
    const std::string n = std::to_string(w);
    EXPECT_TRUE(run(StrCat(kVigil, " run --workers ", n, " --input ", url, " --group g", n,
                           " --exit-at-end"),
                    "kafka" + n) == one)
        << "Kafka, " << w << " workers: the window results differ";
  }
}

}  // namespace
}  // namespace vigil
