// End-to-end tests of the vigil binary: generator -> run -> console alerts,
// bad input -> dead-letter output, check -> diagnostics, /metrics over HTTP.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "base/strings.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kSource = VIGIL_SOURCE_DIR;

std::string Temp(const std::string& name) { return TempPath("vigil_e2e_", name); }

// Firing/resolved transitions as "<at> <state> <alert>", from --output json.
// The weekly knowledge-base report (FAQ topics with more than 10 thumbs-down
// a week) lists every topic at the generator's volume; it is left out.
std::vector<std::string> Transitions(const std::string& json_lines) {
  std::vector<std::string> out;
  for (const std::string& line : Lines(json_lines)) {
    if (line.find("\"alert\":\"FaqTopicNegativeFeedback\"") != std::string::npos) continue;
    auto field = [&](const std::string& key) {
      size_t at = line.find("\"" + key + "\":\"");
      if (at == std::string::npos) return std::string();
      at += key.size() + 4;
      return line.substr(at, line.find('"', at) - at);
    };
    out.push_back(field("at") + " " + field("state") + " " + field("alert"));
  }
  return out;
}

TEST(CliE2eTest, LatencySpikeFiresP1AtTheExpectedEventTimeAndResolves) {
  Result r = Sh(StrCat(kVigil, " gen --seed 7 --rate 300 --duration 40m ",
                       "--incident latency_spike@10m+8m | ", kVigil,
                       " run --input - --output json --no-pending --no-progress --http off"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> t = Transitions(r.out);
  // Spike events have ts in [00:10, 00:18): the 1-minute windows from 00:10
  // are true; the 5th closes at 00:15. The first normal window closes 00:19.
  EXPECT_EQ(t, (std::vector<std::string>{
                   "2026-01-01T00:15:00.000Z firing LatencyP99Critical",
                   "2026-01-01T00:19:00.000Z resolved LatencyP99Critical",
               }));
  // The resolved line keeps the value and summary it fired with (above
  // 10 s) and gives the p99 that resolved it (below).
  std::smatch m;
  const std::regex resolved(
      "\\{\"at\":\"2026-01-01T00:19:00.000Z\",\"alert\":\"LatencyP99Critical\",\"state\":"
      "\"resolved\",\"severity\":\"P1\",\"value\":([0-9.]+),\"resolved_value\":([0-9.]+),.*"
      "\"summary\":\"p99 latency ([0-9]+) ms above 10 s for 5 minutes\".*");
  bool found = false;
  for (const std::string& line : Lines(r.out)) {
    if (!std::regex_match(line, m, resolved)) continue;
    found = true;
    EXPECT_GT(std::stod(m[1].str()), 10000) << line;
    EXPECT_LT(std::stod(m[2].str()), 10000) << line;
    char fired[32];
    std::snprintf(fired, sizeof fired, "%.0f", std::stod(m[1].str()));
    EXPECT_EQ(m[3].str(), fired) << line;
  }
  EXPECT_TRUE(found) << r.out;
}

TEST(CliE2eTest, NormalTrafficFiresNothing) {
  Result r = Sh(StrCat(kVigil, " gen --seed 11 --rate 300 --duration 2h | ", kVigil,
                       " run --input - --output json --no-progress --http off"));
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(Transitions(r.out), std::vector<std::string>{});
  // Nor does the weekly report of a week two hours of input only began (a
  // partial window); with --close-partial-windows it pages at the end.
  EXPECT_EQ(r.out.find("FaqTopicNegativeFeedback"), std::string::npos) << r.out;
}

TEST(CliE2eTest, EachIncidentFiresItsP1OrP2Alert) {
  Result r = Sh(StrCat(kVigil, " gen --seed 3 --rate 300 --duration 3h ",
                       "--incident bedrock_open@20m+5m --incident escalation_surge@50m+10m ",
                       "--incident guardrail_storm@80m+6m --incident cache_miss_storm@110m+8m ",
                       "--incident error_burst@140m+6m | ", kVigil,
                       " run --input - --output json --no-pending --no-progress --http off"));
  ASSERT_EQ(r.exit_code, 0);
  std::string fired;
  for (const std::string& t : Transitions(r.out)) {
    if (t.find(" firing ") != std::string::npos) fired += t.substr(t.rfind(' ') + 1) + " ";
  }
  for (const char* alert : {"BedrockCircuitOpen", "EscalationRateCritical", "GuardrailRateHigh",
                            "CacheHitRateLow", "ErrorRateCritical"}) {
    EXPECT_NE(fired.find(alert), std::string::npos) << alert << " did not fire: " << fired;
  }
}

// `run`'s generator takes its flags as `gen` does: an --incident or a
// --month replaces the list of the defaults or the job file, so the same
// flags give the same events, and so the same windows.
TEST(CliE2eTest, RunsIncidentAndMonthFlagsReplaceTheDefaultsAndTheJobFiles) {
  const std::string flags =
      " --seed 4 --rate 20 --duration 40m --start 2026-01-31T23:40:00Z"
      " --incident error_burst@10m+5m --month escalation=0.3,resolution=0.6";
  const std::string events = Temp("gen.ndjson"), from_file = Temp("from_file.ndjson");
  ASSERT_EQ(Sh(StrCat(kVigil, " gen", flags, " > ", events)).exit_code, 0);
  const std::string quiet = " --no-console --no-progress --http off --results ";
  ASSERT_EQ(Sh(StrCat(kVigil, " run --input ", events, quiet, from_file)).exit_code, 0);
  const std::string job = Temp("gen_job.yaml");
  std::ofstream(job) << "source:\n  kind: generator\n  generator:\n"
                        "    incidents: [bedrock_open@5m+4m]\n"
                        "    months: [\"escalation=0.05,resolution=0.9\"]\n";
  for (const std::string& config : {std::string(), " --config " + job}) {
    const std::string generated = Temp("generated.ndjson");
    Result r = Sh(
        StrCat(kVigil, " run", config, " --generator --speed 0", flags, quiet, generated, " 2>&1"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_EQ(ReadFile(generated), ReadFile(from_file)) << config;
  }
  // `--incident none` empties the list: gen's default, none.
  const std::string plain = " --seed 4 --rate 20 --duration 40m --start 2026-01-31T23:40:00Z";
  const std::string plain_events = Temp("plain.ndjson"), plain_file = Temp("plain_file.ndjson");
  const std::string plain_run = Temp("plain_run.ndjson");
  ASSERT_EQ(Sh(StrCat(kVigil, " gen", plain, " > ", plain_events)).exit_code, 0);
  ASSERT_EQ(Sh(StrCat(kVigil, " run --input ", plain_events, quiet, plain_file)).exit_code, 0);
  Result none = Sh(StrCat(kVigil, " run --generator --speed 0 --incident none", plain, quiet,
                          plain_run, " 2>&1"));
  ASSERT_EQ(none.exit_code, 0) << none.out;
  EXPECT_EQ(ReadFile(plain_run), ReadFile(plain_file));
  EXPECT_NE(ReadFile(plain_run), ReadFile(from_file));
}

// A bad flag value is a usage error that names the flag; a seed is a whole
// number (1.5 or -1 would silently be another seed's events).
TEST(CliE2eTest, BadFlagValuesNameTheirFlag) {
  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {"run --max-future 5x", "vigil: --max-future: bad duration '5x' (e.g. 500ms, 30s, 5m)"},
           {"run --checkpoint-interval soon",
            "vigil: --checkpoint-interval: bad duration 'soon' (e.g. 500ms, 30s, 5m)"},
           {"query m --step 1y", "vigil: --step: bad duration '1y' (e.g. 500ms, 30s, 5m)"},
           {"gen --seed 1.5", "vigil: --seed needs a whole number from 0 to 18446744073709551615"},
           {"run --seed -1", "vigil: --seed needs a whole number from 0 to 18446744073709551615"},
           {"gen --count 0", "vigil: --count needs a number of events of at least 1"},
           {"replay --from 2026-01-02T00:00:00Z --to 2026-01-01T00:00:00Z x.ndjson",
            "vigil: --from must be before --to"},
           {"gen --seed 18446744073709551616",
            "vigil: --seed needs a whole number from 0 to 18446744073709551615"},
           {"run --instance 3/2", "vigil: --instance 3/2: index 3 is not below the count 2"},
           {"run --instance 1/2.5",
            "vigil: --instance needs INDEX/COUNT, e.g. 0/3 (INDEX may be 'ordinal')"},
           // Arguments that are no flags.
           {"run events.ndjson",
            "vigil: run takes flags only, not events.ndjson; did you mean --input events.ndjson?"},
           {"gen out.ndjson", "vigil: gen takes flags only, not out.ndjson"},
           {"version now", "vigil: version takes no arguments: now"},
           {"man vigil", "vigil: man takes no arguments: vigil"},
           {"gen --start 1969-12-31T00:00:00Z",
            "vigil: --start: '1969-12-31T00:00:00Z' is outside years 1970 to 9999, where events "
            "can be"}}) {
    Result r = Sh(StrCat(kVigil, " ", args, " 2>&1"));
    EXPECT_EQ(r.exit_code, 2) << args;
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')), message) << args;
  }
}

TEST(CliE2eTest, BadInputIsDeadLetteredAndCountedExactly) {
  const std::string events = Temp("mixed.ndjson");
  const std::string rules = Temp("count.yaml");
  const std::string dead = Temp("dead.ndjson");
  const std::string results = Temp("results.ndjson");
  std::ofstream(rules) << "metrics:\n  - metric: n\n    window: tumbling 1m\n"
                          "    value: count()\n  - metric: lat\n    window: tumbling 1m\n"
                          "    value: max(latency_ms)\n";
  std::ofstream(events) << R"({"ts":"2026-01-01T00:00:01Z","type":"message","latency_ms":5})"
                        << "\n{not json\n"
                        << R"({"ts":"2026-01-01T00:00:02Z","type":"message","latency_ms":7})"
                        << "\n"
                        << R"({"type":"message"})"
                        << "\n"
                        << R"({"ts":"yesterday","type":"message"})"
                        << "\n"
                        << R"({"ts":"2026-01-01T00:00:03Z","type":"message","latency_ms":"x"})"
                        << "\n"
                        << R"({"ts":"2026-01-01T00:00:04Z"})"
                        << "\n"
                        << R"({"ts":"2026-01-01T00:01:30Z","type":"message","latency_ms":9})"
                        << "\n"
                        // 80 s behind the watermark (00:01:30 - 5 s): late.
                        << R"({"ts":"2026-01-01T00:00:05Z","type":"message","latency_ms":1})"
                        << "\n"
                        << R"({"ts":"2026-01-01T00:00:06Z","type":"message","pad":")"
                        << std::string(3000, 'p') << "\"}\n";
  Result r = Sh(StrCat(kVigil, " run --rules ", rules, " --input ", events,
                       " --max-record-bytes 2KiB --dead-letter ", dead, " --results ", results,
                       " --no-console --no-progress --http off 2>&1"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("10 records"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("3 processed, 7 dead-lettered (1 late)"), std::string::npos) << r.out;
  // Each reason's count, in the order of the reasons' list.
  EXPECT_NE(r.out.find("\nvigil: dead-lettered: 1 malformed_json, 1 missing_ts, 1 bad_ts, 1 "
                       "missing_type, 1 wrong_type, 1 oversized, 1 late\n"),
            std::string::npos)
      << r.out;
  std::vector<std::string> dl = Lines(ReadFile(dead));
  ASSERT_EQ(dl.size(), 7u);
  const char* reasons[] = {"malformed_json", "missing_ts", "bad_ts",   "wrong_type",
                           "missing_type",   "late",       "oversized"};
  const int lines[] = {2, 4, 5, 6, 7, 9, 10};
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_NE(dl[i].find(StrCat("\"reason\":\"", reasons[i], "\"")), std::string::npos) << dl[i];
    EXPECT_NE(dl[i].find(StrCat("\"line\":", lines[i], ",")), std::string::npos) << dl[i];
    EXPECT_NE(dl[i].find("\"source\":\"file:" + events + "\""), std::string::npos) << dl[i];
  }
  EXPECT_NE(dl[0].find(R"("record":"{not json")"), std::string::npos) << dl[0];
  EXPECT_EQ(
      Lines(ReadFile(results)),
      (std::vector<std::string>{
          R"({"metric":"n","start":"2026-01-01T00:00:00.000Z","end":"2026-01-01T00:01:00.000Z","labels":{},"value":2})",
          R"({"metric":"lat","start":"2026-01-01T00:00:00.000Z","end":"2026-01-01T00:01:00.000Z","labels":{},"value":7})",
          // The file ends at 00:01:30: the last minute is only half covered.
          R"({"metric":"n","start":"2026-01-01T00:01:00.000Z","end":"2026-01-01T00:02:00.000Z","labels":{},"value":1,"partial":true})",
          R"({"metric":"lat","start":"2026-01-01T00:01:00.000Z","end":"2026-01-01T00:02:00.000Z","labels":{},"value":9,"partial":true})",
      }));
}

TEST(CliE2eTest, OutOfOrderWithinTheBoundIsCountedExactly) {
  const std::string events = Temp("ooo.ndjson");
  const std::string rules = Temp("ooo.yaml");
  std::ofstream(rules) << "metrics:\n  - metric: n\n    window: tumbling 10s\n"
                          "    value: count()\n";
  // Event times in seconds; each is at most 5 s behind the largest seen so
  // far (the default max out-of-orderness), so none is late, and the window
  // [0, 10) gets events arriving after ones from [10, 20).
  const int secs[] = {1, 8, 12, 7, 14, 9, 19, 15, 3 + 12, 21, 16, 29, 24};
  std::ofstream out(events);
  for (int s : secs)
    out << R"({"ts":)" << s * 1000 << R"(,"type":"m"})"
        << "\n";
  out.close();
  Result r = Sh(StrCat(kVigil, " run --rules ", rules, " --input ", events,
                       " --results - --no-console --no-progress --http off"));
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(
      Lines(r.out),
      (std::vector<std::string>{
          R"({"metric":"n","start":"1970-01-01T00:00:00.000Z","end":"1970-01-01T00:00:10.000Z","labels":{},"value":4})",
          R"({"metric":"n","start":"1970-01-01T00:00:10.000Z","end":"1970-01-01T00:00:20.000Z","labels":{},"value":6})",
          // The last event is at 29 s: [20, 30) is closed by the end of input
          // before the input covered its last second.
          R"({"metric":"n","start":"1970-01-01T00:00:20.000Z","end":"1970-01-01T00:00:30.000Z","labels":{},"value":3,"partial":true})",
      }));
}

TEST(CliE2eTest, CheckReportsFileLineColAndExitCode) {
  const std::string bad = Temp("bad.yaml");
  std::ofstream(bad) << "metrics:\n"
                        "  - metric: p99\n"
                        "    where: type = \"message\"\n"
                        "    window: tumbling 1m\n"
                        "    value: p99(latency_ms)\n"
                        "alerts:\n"
                        "  - alert: Slow\n"
                        "    severity: P7\n"
                        "    expr: p90 > 100\n";
  Result r = Sh(StrCat(kVigil, " check ", bad, " 2>&1"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find(bad + ":3:17: unexpected '='; use '==' to compare"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(bad + ":5:12: unknown function 'p99'; did you mean quantile(0.99, x)?"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(bad + ":8:15: severity 'P7' must be one of P1, P2, P3, P4"),
            std::string::npos)
      << r.out;
  Result ok = Sh(StrCat(kVigil, " check ", kSource, "/deploy/rules/chatbot.yaml"));
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  Result json = Sh(StrCat(kVigil, " check --output json ", bad));
  EXPECT_EQ(json.exit_code, 1);
  EXPECT_EQ(json.out.rfind("[{\"file\":", 0), 0u) << json.out;
}

// A warning passes `check` (exit 0, "ok") and fails `check --strict`
// (exit 1), which then never says "ok".
TEST(CliE2eTest, CheckStrictFailsOnWarningsAndNeverSaysOk) {
  const std::string warned = Temp("warned.yaml");
  std::ofstream(warned) << "metrics:\n"
                           "  - metric: error_rate\n"
                           "    window: tumbling 1m\n"
                           "    value: ratio(error_service != null)\n"
                           "alerts:\n"
                           "  - alert: Errors\n"
                           "    severity: P2\n"
                           "    expr: error_rate > 5\n";
  Result plain = Sh(StrCat(kVigil, " check ", warned, " 2>&1"));
  EXPECT_EQ(plain.exit_code, 0) << plain.out;
  EXPECT_EQ(plain.out, StrCat(warned,
                              ":8:24: warning: alert 'Errors' compares ratio metric 'error_rate' "
                              "(always between 0 and 1) with 5; did you mean 0.05?\n",
                              warned, ": ok (1 metrics, 1 alerts, 1 warning)\n"));
  Result strict = Sh(StrCat(kVigil, " check --strict ", warned, " 2>&1"));
  EXPECT_EQ(strict.exit_code, 1) << strict.out;
  EXPECT_EQ(strict.out.find(": ok"), std::string::npos) << strict.out;
  EXPECT_NE(strict.out.find(warned + ": FAILED with --strict (1 metrics, 1 alerts, 1 warning)"),
            std::string::npos)
      << strict.out;
}

TEST(CliE2eTest, GenIsDeterministicAndWritesZstd) {
  Result a = Sh(StrCat(kVigil, " gen --seed 5 --count 1000 | md5sum"));
  Result b = Sh(StrCat(kVigil, " gen --seed 5 --count 1000 | md5sum"));
  Result c = Sh(StrCat(kVigil, " gen --seed 6 --count 1000 | md5sum"));
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.out, c.out);
  const std::string z = Temp("gen.ndjson.zst");
  ASSERT_EQ(Sh(StrCat(kVigil, " gen --seed 5 --count 1000 --out ", z)).exit_code, 0);
  Result unz = Sh(StrCat("zstd -dc ", z, " | md5sum"));
  EXPECT_EQ(unz.out, a.out);
}

TEST(CliE2eTest, UnknownFlagsAndBadValuesAreUsageErrors) {
  EXPECT_EQ(Sh(StrCat(kVigil, " run --bogus 2>&1")).exit_code, 2);
  // A misspelt flag gets the nearest one of its subcommand.
  const Result typo = Sh(StrCat(kVigil, " run --htpp 127.0.0.1:0 2>&1"));
  EXPECT_EQ(typo.exit_code, 2);
  EXPECT_EQ(typo.out.substr(0, typo.out.find('\n')),
            "vigil: unknown flag for run: --htpp; did you mean --http?");
  EXPECT_EQ(
      Sh(StrCat(kVigil, " check --stirct=1 x.yaml 2>&1"))
          .out.rfind("vigil: unknown flag for check: --stirct=1; did you mean --strict?\n", 0),
      0u);
  EXPECT_EQ(Sh(StrCat(kVigil, " gen --sede 3 2>&1"))
                .out.rfind("vigil: unknown flag for gen: --sede; did you mean --seed?\n", 0),
            0u);
  EXPECT_EQ(Sh(StrCat(kVigil, " run --max-out-of-orderness 5x 2>&1")).exit_code, 2);
  EXPECT_EQ(Sh(StrCat(kVigil, " gen --incident volcano@1m+1m 2>&1")).exit_code, 2);
  Result help = Sh(StrCat(kVigil, " run --help"));
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--dead-letter FILE"), std::string::npos);
}

// The version has one source, project() in CMakeLists.txt, which the build
// passes on as VIGIL_VERSION.
TEST(CliE2eTest, VersionIsTheProjectVersionOfCMakeLists) {
  const std::string cmake = ReadFile(kSource + "/CMakeLists.txt");
  std::smatch project;
  ASSERT_TRUE(std::regex_search(cmake, project, std::regex(R"(project\(vigil VERSION (\S+))")));
  EXPECT_EQ(project[1].str(), VIGIL_VERSION);
  for (const char* command : {" --version", " version"}) {
    Result r = Sh(kVigil + command);
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_EQ(r.out.substr(0, r.out.find('\n')), StrCat("vigil ", VIGIL_VERSION)) << command;
  }
}

// With port 0 the chosen address is the only way to reach the job: it is
// printed even with --no-progress, as a URL.
TEST(CliE2eTest, TheChosenHttpAddressIsPrintedWithoutProgress) {
  const std::string events = Temp("addr.ndjson");
  ASSERT_EQ(Sh(StrCat(kVigil, " gen --seed 1 --count 100 --out ", events)).exit_code, 0);
  Result r = Sh(StrCat(kVigil, " run --no-progress --no-console --http 127.0.0.1:0 --input ",
                       events, " 2>&1 >/dev/null"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      r.out, m,
      std::regex(
          "vigil: serving the status page and /metrics on http://127\\.0\\.0\\.1:(\\d+)/\n")))
      << r.out;
  EXPECT_GT(std::stoi(m[1].str()), 0);
}

// On a terminal the progress line shows the rate so far; the first comes
// after half a second, never a rate over the first batch's milliseconds
// (4096 records "at 4096000/s").
// --rules overrides the job file's rules: the same file named in both is
// loaded once, and another file replaces the job file's.
TEST(CliE2eTest, RulesOnTheCommandLineReplaceTheJobFilesRules) {
  const std::string rules = Temp("override.yaml"), other = Temp("override2.yaml"),
                    job = Temp("override-job.yaml"), events = Temp("override.ndjson");
  std::ofstream(rules) << "metrics:\n  - metric: a\n    window: tumbling 1m\n    value: count()\n";
  std::ofstream(other) << "metrics:\n  - metric: b\n    window: tumbling 1m\n    value: count()\n";
  std::ofstream(job) << "rules: [" << rules << "]\n";
  std::ofstream(events) << "{\"ts\":1767225600000,\"type\":\"m\"}\n";
  for (const std::string& flag : {rules, other}) {
    Result r = Sh(StrCat(kVigil, " run --config ", job, " --rules ", flag, " --input ", events,
                         " --results - --no-console --no-progress --http off 2>&1"));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    const std::string metric = flag == rules ? "\"metric\":\"a\"" : "\"metric\":\"b\"";
    EXPECT_NE(r.out.find(metric), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(flag == rules ? "\"metric\":\"b\"" : "\"metric\":\"a\""),
              std::string::npos)
        << r.out;
  }
}

TEST(CliE2eTest, TheProgressLineWaitsHalfASecondForARate) {
  if (Sh("command -v script >/dev/null").exit_code != 0) GTEST_SKIP() << "no script(1)";
  const std::string events = Temp("progress.ndjson");
  ASSERT_EQ(Sh(StrCat(kVigil, " gen --seed 1 --count 300000 --out ", events)).exit_code, 0);
  // script(1) gives the job a terminal, where it shows progress.
  Result r = Sh(StrCat("script -qec '", kVigil, " run --input ", events,
                       " --no-console --http off --workers 1' /dev/null"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::pair<uint64_t, uint64_t>> shown;  // (records, rate)
  std::smatch m;
  const std::regex line("(\\d+) records, (\\d+)/s, dead-lettered");
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), line);
       it != std::sregex_iterator(); ++it) {
    shown.emplace_back(std::stoull((*it)[1].str()), std::stoull((*it)[2].str()));
  }
  ASSERT_FALSE(shown.empty()) << r.out;
  EXPECT_EQ(shown.back().first, 300000u) << r.out;  // the last line, at the end
  shown.pop_back();
  for (const auto& [records, rate] : shown) {
    EXPECT_LE(rate, 2 * records) << records << " records at " << rate << "/s:\n" << r.out;
  }
  std::filesystem::remove(events);
}

TEST(CliE2eTest, ServesMetricsWhileRunningAndStopsOnSigterm) {
  const std::string err = Temp("serve.err");
  // A paced live generator keeps the job running until SIGTERM.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    FILE* f = std::freopen(err.c_str(), "w", stderr);
    (void)f;
    std::freopen("/dev/null", "w", stdout);
    ::execl(kVigil.c_str(), kVigil.c_str(), "run", "--speed", "600", "--rate", "200", "--incident",
            "latency_spike@1m+60m", "--http", "127.0.0.1:0", "--no-console",
            static_cast<char*>(nullptr));
    _exit(127);
  }
  int port = 0;
  for (int i = 0; i < 100 && port == 0; ++i) {
    ::usleep(100'000);
    port = ServingPort(ReadFile(err));
  }
  ASSERT_GT(port, 0) << ReadFile(err);
  ::usleep(1'500'000);  // at 600x, 15 minutes of event time: windows have closed
  Result m = Sh(StrCat("curl -s http://127.0.0.1:", port, "/metrics"));
  Result h =
      Sh(StrCat("curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:", port, "/healthz"));
  Result alerts = Sh(StrCat("curl -s http://127.0.0.1:", port, "/api/alerts"));
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(h.out, "200");
  EXPECT_NE(m.out.find("# TYPE vigil_events_in_total counter"), std::string::npos) << m.out;
  // Every generated event is valid: as many processed as read (a scrape
  // reads one counter after the other, and may fall between two batches'
  // updates of them, either way).
  const size_t at_in = m.out.find("\nvigil_events_in_total "),
               at_processed = m.out.find("\nvigil_events_processed_total ");
  ASSERT_NE(at_in, std::string::npos) << m.out;
  ASSERT_NE(at_processed, std::string::npos) << m.out;
  const double in = std::atof(m.out.c_str() + at_in + 23),
               processed = std::atof(m.out.c_str() + at_processed + 30);
  EXPECT_GT(in, 1000.0) << m.out;
  EXPECT_LE(processed, in + 4096) << m.out;
  EXPECT_GE(processed, in - 4096) << m.out;
  EXPECT_NE(m.out.find("vigil_dead_letter_total{reason=\"malformed_json\"} 0"), std::string::npos);
  EXPECT_NE(m.out.find(StrCat("vigil_build_info{version=\"", VIGIL_VERSION, "\"} 1")),
            std::string::npos)
      << m.out;
  EXPECT_NE(m.out.find("vigil_metric_latency_p99_seconds "), std::string::npos) << m.out;
  EXPECT_NE(m.out.find("vigil_metric_intent_messages{intent=\"faq\"}"), std::string::npos);
  // The latency spike started a minute in; 15 minutes of event time later
  // the P1 alert fires, on /metrics and on /api/alerts.
  const size_t p1 = m.out.find("vigil_alerts_firing{severity=\"P1\"} ");
  ASSERT_NE(p1, std::string::npos) << m.out;
  EXPECT_GE(std::atoi(m.out.c_str() + p1 + 35), 1) << m.out.substr(p1, 40);
  EXPECT_NE(alerts.out.find(R"("alert":"LatencyP99Critical","state":"firing","severity":"P1")"),
            std::string::npos)
      << alerts.out;
}

// A label value with a quote, a backslash and a line break keeps the
// console's line whole: the value is written as a JSON string, and a
// summary that shows it has its line break escaped.
TEST(CliE2eTest, ConsoleLabelValuesAreEscaped) {
  const std::string rules = Temp("escape.yaml");
  const std::string events = Temp("escape.ndjson");
  std::ofstream(rules) << "metrics:\n  - metric: n\n    window: tumbling 1m\n    by: [intent]\n"
                          "    value: count()\nalerts:\n  - alert: Busy\n    severity: P2\n"
                          "    expr: n > 0\n"
                          "    annotations: {summary: \"intent {{ $labels.intent }} is busy\"}\n";
  std::ofstream(events) << R"({"ts":"2026-01-01T00:00:10Z","type":"m","intent":"a\"b\\c\nd"})"
                        << "\n"
                        << R"({"ts":"2026-01-01T00:01:30Z","type":"m","intent":"z"})"
                        << "\n";
  Result r = Sh(StrCat(kVigil, " run --rules ", rules, " --input ", events,
                       " --http off --no-progress --no-pending 2>/dev/null"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // Busy fires for the first minute's intent; the second minute is partial.
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  EXPECT_NE(lines[0].find(R"({intent="a\"b\\c\nd"} — intent a"b\c\nd is busy)"), std::string::npos)
      << lines[0];
  std::remove(rules.c_str());
  std::remove(events.c_str());
}

}  // namespace
}  // namespace vigil
