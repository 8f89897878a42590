// Rule input that used to crash or poison a job, through the built binary:
// a window over the pane limit is refused by `vigil check`, by `vigil run`
// and by a hot reload (which keeps the running rules); a latency of 1e13
// is dead-lettered as out_of_range by the reference rules' schema, and the
// windows equal those of the run without it.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kSource = VIGIL_SOURCE_DIR;

std::string Temp(const std::string& name) { return TempPath("vigil_limits_", name); }

// The rule file that aborted `vigil run` with std::bad_alloc.
void WriteCrashingRules(const std::string& path) {
  std::ofstream(path) << "metrics:\n"
                         "  - metric: n\n"
                         "    window: sliding 1d every 1ms\n"
                         "    value: count()\n";
}

std::string PaneError(const std::string& path) {
  return StrCat(path,
                ":3:13: window 'sliding 1d every 1ms' needs 86400000 panes of 1ms per window "
                "(the gcd of size and slide); the limit is 10000: use a longer slide");
}

TEST(LimitsE2eTest, CheckAndRunRefuseAWindowOverThePaneLimit) {
  const std::string rules = Temp("crash.yaml"), events = Temp("few.ndjson");
  WriteCrashingRules(rules);
  std::ofstream(events) << R"({"ts":"2026-01-01T00:00:01Z","type":"message"})"
                        << "\n";
  Result check = Sh(StrCat(kVigil, " check ", rules, " 2>&1"));
  EXPECT_EQ(check.exit_code, 1);
  EXPECT_EQ(check.out, PaneError(rules) + "\n1 error\n");
  Result run = Sh(StrCat(kVigil, " run --rules ", rules, " --input ", events,
                         " --no-console --no-progress --http off 2>&1"));
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, StrCat("vigil: the rule files have errors:\n", PaneError(rules), "\n"));
}

TEST(LimitsE2eTest, AHotReloadToAWindowOverThePaneLimitKeepsTheRunningRules) {
  const std::string rules = Temp("live.yaml"), err = Temp("live.err"),
                    results = Temp("live.ndjson");
  std::ofstream(rules) << "metrics:\n"
                          "  - metric: n\n"
                          "    export: true\n"
                          "    window: tumbling 1m\n"
                          "    value: count()\n";
  const pid_t pid = Spawn(StrCat(kVigil, " run --rules ", rules, " --speed 600 --rate 50",
                                 " --http 127.0.0.1:0 --no-console --results ", results),
                          err);
  int port = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        port = ServingPort(ReadFile(err));
        return port != 0;
      },
      10))
      << ReadFile(err);
  const std::string metrics_url = StrCat("curl -s http://127.0.0.1:", port, "/metrics");
  // Windows close (a minute of event time is 0.1 s) and the operator's
  // memory is on /metrics.
  ASSERT_TRUE(WaitFor([&] { return Lines(ReadFile(results)).size() >= 3; }, 10));
  ASSERT_TRUE(WaitFor(
      [&] {
        return Sh(metrics_url)
                   .out.find(
                       "vigil_operator_memory_bytes{kind=\"metrics\","
                       "operator=\"n\"}") != std::string::npos;
      },
      10))
      << Sh(metrics_url).out;

  WriteCrashingRules(rules);
  ASSERT_EQ(::kill(pid, SIGHUP), 0);
  ASSERT_TRUE(
      WaitFor([&] { return ReadFile(err).find("reload refused") != std::string::npos; }, 10))
      << ReadFile(err);
  EXPECT_NE(ReadFile(err).find(
                StrCat("vigil: reload refused, the running rules stay:\n", PaneError(rules))),
            std::string::npos)
      << ReadFile(err);
  const std::string m = Sh(metrics_url).out;
  EXPECT_NE(m.find("vigil_rule_reloads_total{result=\"failure\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("vigil_rules_last_reload_successful 0"), std::string::npos) << m;
  // The old rules keep closing windows.
  const size_t before = Lines(ReadFile(results)).size();
  EXPECT_TRUE(WaitFor([&] { return Lines(ReadFile(results)).size() >= before + 3; }, 10));
  EXPECT_EQ(::kill(pid, 0), 0);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid), 0) << ReadFile(err);
}

// A generated stream with a `latency_ms: 1e13` turn after every 97th line,
// at that line's event time.
struct Poisoned {
  std::string clean, poisoned;
  std::vector<int> poison_lines;  // 1-based lines of the poisoned file
};

Poisoned MakeFiles() {
  Poisoned f{Temp("clean.ndjson"), Temp("poisoned.ndjson"), {}};
  Result gen = Sh(StrCat(kVigil, " gen --seed 3 --rate 40 --duration 15m > ", f.clean));
  EXPECT_EQ(gen.exit_code, 0);
  std::ofstream out(f.poisoned);
  int n = 0, line = 0;
  for (const std::string& l : Lines(ReadFile(f.clean))) {
    out << l << "\n";
    ++line;
    if (++n % 97 != 0) continue;
    const size_t at = l.find("\"ts\":\"");
    const std::string ts = l.substr(at + 6, l.find('"', at + 6) - at - 6);
    out << R"({"ts":")" << ts << R"(","type":"message","session_id":"poison","intent":"faq",)"
        << R"("latency_ms":1e13,"llm_timeout":false,"cache_hit":true})"
        << "\n";
    f.poison_lines.push_back(++line);
  }
  return f;
}

Result RunFile(const std::string& input, const std::string& results, const std::string& dead,
               const std::string& rules = "") {
  return Sh(StrCat(kVigil, " run ", rules.empty() ? "" : "--rules " + rules + " ", "--input ",
                   input, " --results ", results, " --dead-letter ", dead,
                   " --no-console --no-progress --http off 2>&1"));
}

TEST(LimitsE2eTest, LatenciesOf1e13AreOutOfRangeAndTheWindowsEqualTheRunWithoutThem) {
  const Poisoned f = MakeFiles();
  ASSERT_GT(f.poison_lines.size(), 100u);
  const std::string clean_results = Temp("clean_results.ndjson"), clean_dead = Temp("clean_dl");
  const std::string results = Temp("poisoned_results.ndjson"), dead = Temp("poisoned_dl");
  Result clean = RunFile(f.clean, clean_results, clean_dead);
  ASSERT_EQ(clean.exit_code, 0) << clean.out;
  Result poisoned = RunFile(f.poisoned, results, dead);
  ASSERT_EQ(poisoned.exit_code, 0) << poisoned.out;
  EXPECT_NE(poisoned.out.find(StrCat(f.poison_lines.size(), " dead-lettered (0 late)")),
            std::string::npos)
      << poisoned.out;
  EXPECT_TRUE(Lines(ReadFile(clean_dead)).empty());
  const std::vector<std::string> dl = Lines(ReadFile(dead));
  ASSERT_EQ(dl.size(), f.poison_lines.size());
  for (size_t i = 0; i < dl.size(); ++i) {
    EXPECT_EQ(dl[i].rfind("{\"reason\":\"out_of_range\",\"detail\":\"field 'latency_ms' is "
                          "1e+13, outside the schema's range [0, 3600000]\"",
                          0),
              0u)
        << dl[i];
    EXPECT_NE(dl[i].find(StrCat("\"line\":", f.poison_lines[i], ",")), std::string::npos) << dl[i];
  }
  const std::string want = ReadFile(clean_results);
  EXPECT_GT(Lines(want).size(), 100u);
  EXPECT_TRUE(ReadFile(results) == want) << "the windows differ from the run without poison";

  // Without the schema the poison reaches the windows: the latency
  // quantiles of the minutes it falls in move.
  std::string reference = ReadFile(kSource + "/deploy/rules/chatbot.yaml");
  const size_t at = reference.find("schema:\n  latency_ms: {min: 0, max: 3600000}\n");
  ASSERT_NE(at, std::string::npos);
  reference.erase(at, std::string("schema:\n  latency_ms: {min: 0, max: 3600000}\n").size());
  const std::string unbounded = Temp("unbounded.yaml");
  std::ofstream(unbounded) << reference;
  const std::string raw_results = Temp("raw_results.ndjson");
  Result raw = RunFile(f.poisoned, raw_results, Temp("raw_dl"), unbounded);
  ASSERT_EQ(raw.exit_code, 0) << raw.out;
  EXPECT_TRUE(Lines(ReadFile(Temp("raw_dl"))).empty());
  EXPECT_FALSE(ReadFile(raw_results) == want);
}

// A number on /metrics: the value of the first line starting with `series`.
double MetricValue(const std::string& text, const std::string& series) {
  for (const std::string& line : Lines(text)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

// Events a metric's limit: leaves out are processed, not dead-lettered:
// the replay's summary says how many, by metric.
TEST(LimitsE2eTest, AReplaySaysWhatALimitLeftOut) {
  const std::string rules = Temp("limit1.yaml"), events = Temp("limit1.ndjson");
  std::ofstream(rules) << "metrics:\n"
                          "  - metric: turns_by_intent\n"
                          "    window: tumbling 1m\n"
                          "    by: intent\n"
                          "    limit: 1\n"
                          "    value: count()\n";
  std::ofstream(events)
      << "{\"ts\":\"2026-01-01T00:00:01Z\",\"type\":\"message\",\"intent\":\"faq\"}\n"
         "{\"ts\":\"2026-01-01T00:00:02Z\",\"type\":\"message\",\"intent\":\"returns\"}\n"
         "{\"ts\":\"2026-01-01T00:00:03Z\",\"type\":\"message\",\"intent\":\"chitchat\"}\n"
         "{\"ts\":\"2026-01-01T00:00:04Z\",\"type\":\"message\",\"intent\":\"faq\"}\n"
         "{\"ts\":\"2026-01-01T00:01:30Z\",\"type\":\"message\",\"intent\":\"faq\"}\n";
  Result r =
      Sh(StrCat(kVigil, " replay --no-progress --rules ", rules, " ", events, " 2>&1 >/dev/null"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("5 processed, 0 dead-lettered"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("vigil: events left out at a limit (limit:, limits.max_series): 2 by "
                       "metric turns_by_intent; see docs/rules.md, Limits\n"),
            std::string::npos)
      << r.out;
}

// A limit counts the groups with a window open at the event, not those of
// windows already due that wait for the next close: five hours of 60 new
// sessions each fit `limit: 100` (or --max-series 100) whether the file is
// read in one batch or in many, on one worker or two.
TEST(LimitsE2eTest, GroupsOfDueWindowsLeaveRoomWhereverTheBatchesEnd) {
  const std::string rules = Temp("hourly.yaml"), capped = Temp("hourly_capped.yaml");
  const std::string metric =
      "metrics:\n  - metric: by_sess\n    where: type == \"message\"\n"
      "    window: tumbling 1h\n    by: [session_id]\n    value: count()\n";
  std::ofstream(rules) << metric << "    limit: 100\n";
  std::ofstream(capped) << metric;
  for (int pad : {0, 5000}) {
    // Each hour: 60 sessions at HH:10:01 to HH:11:00, then `pad` events no
    // metric reads, which move where the batches of 4096 records end.
    const std::string events = Temp(StrCat("hours_", pad, ".ndjson"));
    std::ofstream out(events);
    for (int h = 0; h < 5; ++h) {
      const TimeMs base = *ParseRfc3339("2026-01-01T00:10:00Z") + h * 3'600'000;
      for (int i = 1; i <= 60; ++i) {
        out << "{\"ts\":\"" << FormatTimestamp(base + i * 1000)
            << "\",\"type\":\"message\",\"session_id\":\"h" << h << "-" << i << "\"}\n";
      }
      for (int j = 0; j < pad; ++j) {
        out << "{\"ts\":\"" << FormatTimestamp(base + 120'000 + j * (3'000'000 / pad))
            << "\",\"type\":\"pad\"}\n";
      }
    }
    out.close();
    for (const std::string& flags :
         {" --rules " + rules, " --rules " + capped + " --max-series 100"}) {
      for (int workers : {1, 2}) {
        const std::string results = Temp("hours_results.ndjson");
        Result r =
            Sh(StrCat(kVigil, " run --input ", events, flags, " --workers ", workers, " --results ",
                      results, " --no-console --http off --no-progress 2>&1"));
        const std::string what = StrCat("pad ", pad, flags, " workers ", workers);
        ASSERT_EQ(r.exit_code, 0) << what << r.out;
        EXPECT_EQ(r.out.find("left out at a limit"), std::string::npos) << what << r.out;
        std::map<std::string, int> groups;  // hour -> groups
        for (const std::string& line : Lines(ReadFile(results))) {
          const size_t at = line.find("\"start\":\"2026-01-01T");
          if (at != std::string::npos) ++groups[line.substr(at + 20, 2)];
        }
        EXPECT_EQ(groups, (std::map<std::string, int>{
                              {"00", 60}, {"01", 60}, {"02", 60}, {"03", 60}, {"04", 60}}))
            << what;
      }
    }
  }
}

// A group whose windows are all due comes back as a new group would,
// whether or not a close has let it go yet: with `limit: 2`, b's event at
// 00:01:13 finds a and c live (b's only window ended at 00:01, before the
// frontier 00:01:07) and is dropped, whether the file is one batch or
// events no metric reads put a batch end (and a close) before it.
TEST(LimitsE2eTest, AGroupBackAfterItsWindowsAreDueIsNewWhereverTheBatchesEnd) {
  const std::string rules = Temp("back.yaml");
  std::ofstream(rules) << "metrics:\n  - metric: c\n    where: type == \"a\"\n"
                          "    window: tumbling 1m\n    by: [g]\n    value: count()\n"
                          "    limit: 2\n";
  for (int pad : {0, 5000}) {
    const std::string events = Temp(StrCat("back_", pad, ".ndjson"));
    std::ofstream out(events);
    auto add = [&](const char* ts, const char* g) {
      out << "{\"ts\":\"2026-01-01T" << ts << "Z\",\"type\":\"a\",\"g\":\"" << g << "\"}\n";
    };
    add("00:00:10", "a");
    add("00:00:11", "b");
    add("00:00:12", "c");  // dropped: a and b are live
    add("00:01:10", "c");  // dropped: a and b are live until the frontier passes 00:01
    add("00:01:11", "a");
    add("00:01:12", "c");
    for (int j = 0; j < pad; ++j) out << "{\"ts\":\"2026-01-01T00:01:12.500Z\",\"type\":\"pad\"}\n";
    add("00:01:13", "b");  // dropped: a and c are live
    out << "{\"ts\":\"2026-01-01T00:03:00Z\",\"type\":\"end\"}\n";
    out.close();
    const std::string results = Temp("back_results.ndjson");
    Result r =
        Sh(StrCat(kVigil, " run --input ", events, " --rules ", rules, " --workers 1 --results ",
                  results, " --no-console --http off --no-progress 2>&1"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("left out at a limit (limit:, limits.max_series): 3 by metric c"),
              std::string::npos)
        << "pad " << pad << r.out;
    std::vector<std::string> windows;
    for (const std::string& line : Lines(ReadFile(results))) {
      const size_t at = line.find("\"start\":\"2026-01-01T");
      const size_t g = line.find("\"g\":\"");
      ASSERT_TRUE(at != std::string::npos && g != std::string::npos) << line;
      windows.push_back(StrCat(line.substr(at + 20, 5), " ", line.substr(g + 5, 1)));
    }
    EXPECT_EQ(windows, (std::vector<std::string>{"00:00 a", "00:00 b", "00:01 a", "00:01 c"}))
        << "pad " << pad;
  }
}

TEST(LimitsE2eTest, TheJobWideSeriesCapDropsAndCountsEventsOfNewGroups) {
  // Eight intents, but room for two series: the job file sets the cap and
  // the flag overrides it.
  const std::string rules = Temp("by_intent.yaml"), job = Temp("job.yaml"), err = Temp("cap.err");
  std::ofstream(rules) << "metrics:\n"
                          "  - metric: turns\n"
                          "    export: true\n"
                          "    where: type == \"message\"\n"
                          "    window: tumbling 1m\n"
                          "    by: intent\n"
                          "    value: count()\n";
  std::ofstream(job) << "limits:\n  max_series: 1\n";
  const pid_t pid =
      Spawn(StrCat(kVigil, " run --config ", job, " --rules ", rules,
                   " --max-series 2 --speed 600 --rate 50 --http 127.0.0.1:0", " --no-console"),
            err);
  int port = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        port = ServingPort(ReadFile(err));
        return port != 0;
      },
      10))
      << ReadFile(err);
  const std::string url = StrCat("curl -s http://127.0.0.1:", port, "/metrics");
  std::string m;
  ASSERT_TRUE(WaitFor(
      [&] {
        m = Sh(url).out;
        return MetricValue(m, "vigil_series_dropped_events_total{metric=\"turns\"}") > 0;
      },
      10))
      << m;
  EXPECT_GE(MetricValue(m, "vigil_series"), 1) << m;
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_EQ(WaitExit(pid), 0) << ReadFile(err);

  // Two series a window, not the job file's one: the flag wins. Over a
  // file starting 1.6 s into a minute, as the live run above may: the
  // generator's jitter then puts events of three intents on both sides of
  // each minute's start, and a group that started after an out-of-order
  // event once did not count for it, so every window from the second on
  // held three groups.
  const std::string events = Temp("cap.ndjson"), results = Temp("cap_results.ndjson");
  ASSERT_EQ(Sh(StrCat(kVigil,
                      " gen --seed 9 --rate 50 --duration 10m --start 2026-01-01T00:00:01.600Z "
                      "--out ",
                      events))
                .exit_code,
            0);
  Result replay =
      Sh(StrCat(kVigil, " run --config ", job, " --rules ", rules, " --max-series 2 --input ",
                events, " --results ", results, " --http off --no-console --no-progress 2>&1"));
  ASSERT_EQ(replay.exit_code, 0) << replay.out;
  std::map<std::string, size_t> groups;  // window end -> groups
  for (const std::string& line : Lines(ReadFile(results))) {
    const size_t at = line.find("\"end\":\"");
    ASSERT_NE(at, std::string::npos) << line;
    ++groups[line.substr(at + 7, 24)];
  }
  ASSERT_GE(groups.size(), 9u);
  size_t most = 0;
  for (const auto& [end, n] : groups) {
    EXPECT_LE(n, 2u) << end;
    most = std::max(most, n);
  }
  EXPECT_EQ(most, 2u);

  Result bad = Sh(StrCat(kVigil, " run --max-series 0 2>&1"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.out.find("--max-series needs a whole number of at least 1"), std::string::npos)
      << bad.out;
  std::ofstream(job) << "limits:\n  max_series: lots\n";
  Result bad_job = Sh(StrCat(kVigil, " run --config ", job, " 2>&1"));
  EXPECT_EQ(bad_job.exit_code, 2);
  EXPECT_NE(bad_job.out.find(StrCat(job,
                                    ":2:15: expected a whole number of series of at least "
                                    "1, e.g. 100000")),
            std::string::npos)
      << bad_job.out;
}

}  // namespace
}  // namespace vigil
