// `vigil replay` end to end: timelines, directories, time ranges, errors.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kSource = VIGIL_SOURCE_DIR;

// Per process: ctest runs each test of this suite as its own process, in
// parallel, and each regenerates the shared input.
std::string Temp(const std::string& name) { return TempPath("vigil_replay_", name); }

// "<at> <state> <alert>" for each firing/resolved transition of run --output json.
std::vector<std::string> RunTransitions(const std::string& json_lines) {
  std::vector<std::string> out;
  std::istringstream in(json_lines);
  for (std::string line; std::getline(in, line);) {
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

// The same from replay --output json: one entry per firing and resolution.
std::vector<std::string> ReplayTransitions(const std::string& json) {
  std::vector<std::string> out;
  size_t pos = 0;
  while ((pos = json.find("{\"alert\":\"", pos)) != std::string::npos) {
    const size_t end = json.find("\"peak\"", pos);
    const std::string ep = json.substr(pos, end - pos);
    const std::string alert = ep.substr(10, ep.find('"', 10) - 10);
    auto time_of = [&](const std::string& key) {
      size_t at = ep.find("\"" + key + "\":\"");
      return at == std::string::npos ? std::string() : ep.substr(at + key.size() + 4, 24);
    };
    if (!time_of("firing").empty()) {
      out.push_back(time_of("firing") + " firing " + alert);
      if (!time_of("resolved").empty()) out.push_back(time_of("resolved") + " resolved " + alert);
    }
    pos = end;
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ReplayTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    events_ = new std::string(Temp("events.ndjson"));
    ASSERT_EQ(Sh(StrCat(kVigil, " gen --seed 21 --rate 100 --duration 3h ",
                        "--incident latency_spike@20m+9m --incident bedrock_open@70m+6m ",
                        "--incident cache_miss_storm@120m+10m --out ", *events_))
                  .exit_code,
              0);
  }
  static void TearDownTestSuite() {
    std::filesystem::remove(*events_);
    std::filesystem::remove_all(Temp("archive"));
    delete events_;
  }
  static std::string* events_;
};
std::string* ReplayTest::events_ = nullptr;

TEST_F(ReplayTest, ReproducesTheRunsAlertTimeline) {
  Result run = Sh(StrCat(kVigil, " run --input ", *events_,
                         " --output json --no-pending --no-progress --http off"));
  Result replay = Sh(StrCat(kVigil, " replay --output json --no-progress ", *events_));
  ASSERT_EQ(run.exit_code, 0);
  ASSERT_EQ(replay.exit_code, 0) << replay.out;
  std::vector<std::string> from_run = RunTransitions(run.out);
  std::sort(from_run.begin(), from_run.end());
  ASSERT_GE(from_run.size(), 6u) << run.out;  // three incidents, each fires and resolves
  EXPECT_EQ(ReplayTransitions(replay.out), from_run);
}

TEST_F(ReplayTest, DirectoriesOfCompressedPartsReplayInPathOrder) {
  const std::string dir = Temp("archive");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/2026/01/01/00");
  std::filesystem::create_directories(dir + "/2026/01/01/01");
  // Split the file (1,080,000 events) into two zstd parts.
  ASSERT_EQ(Sh(StrCat("head -n 360000 ", *events_, " | zstd -q -o ", dir,
                      "/2026/01/01/00/part.ndjson.zst && tail -n +360001 ", *events_,
                      " | zstd -q -o ", dir, "/2026/01/01/01/part.ndjson.zst"))
                .exit_code,
            0);
  Result whole = Sh(StrCat(kVigil, " replay --output json --no-progress ", *events_));
  Result parts = Sh(StrCat(kVigil, " replay --output json --no-progress ", dir));
  ASSERT_EQ(parts.exit_code, 0) << parts.out;
  EXPECT_EQ(parts.out, whole.out);
}

TEST_F(ReplayTest, ADashReadsStdin) {
  Result whole = Sh(StrCat(kVigil, " replay --output json --no-progress ", *events_));
  Result piped =
      Sh(StrCat("cat ", *events_, " | ", kVigil, " replay --output json --no-progress -"));
  ASSERT_EQ(piped.exit_code, 0) << piped.out;
  EXPECT_EQ(piped.out, whole.out);
}

TEST_F(ReplayTest, FromToLimitsTheEventsAndCountsTheRest) {
  Result r = Sh(StrCat(kVigil, " replay --no-progress --from 2026-01-01T01:00:00Z ",
                       "--to 2026-01-01T02:00:00Z ", *events_, " 2>&1"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // Only the Bedrock outage (70m-76m) lies inside the hour.
  EXPECT_NE(r.out.find("BedrockCircuitOpen"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("LatencyP99Critical"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("CacheHitRateLow"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("outside --from/--to"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Metrics\n"), std::string::npos);
}

// Event times are whole milliseconds: a bound written past one keeps the
// events `from <= ts < to` says, so --from …59.9995 leaves out …59.999 and
// --to …00.0001 keeps …00.000.
TEST(ReplayRangeTest, BoundsPastTheMillisecondKeepWhatTheySay) {
  const std::string events = TempPath("vigil_replay_range_", "events.ndjson");
  const std::string rules = TempPath("vigil_replay_range_", "count.yaml");
  std::ofstream(events) << R"({"ts":"2026-01-01T00:00:59.999Z","type":"message"}
{"ts":"2026-01-01T00:01:00.000Z","type":"message"}
{"ts":"2026-01-01T00:02:59.999Z","type":"message"}
{"ts":"2026-01-01T00:03:00.000Z","type":"message"}
{"ts":"2026-01-01T00:03:00.001Z","type":"message"}
)";
  std::ofstream(rules) << "metrics:\n  - metric: n\n    window: tumbling 1m\n    value: count()\n";
  Result r = Sh(StrCat(kVigil, " replay --no-progress --rules ", rules,
                       " --from 2026-01-01T00:00:59.9995Z --to 2026-01-01T00:03:00.0001Z",
                       " --results - ", events, " 2>/dev/null"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const std::string at = R"({"metric":"n","start":"2026-01-01T00:)";
  EXPECT_EQ(
      r.out.substr(0, r.out.find("Alert timeline")),
      StrCat(at, R"(01:00.000Z","end":"2026-01-01T00:02:00.000Z","labels":{},"value":1})", "\n", at,
             R"(02:00.000Z","end":"2026-01-01T00:03:00.000Z","labels":{},"value":1})", "\n", at,
             R"(03:00.000Z","end":"2026-01-01T00:04:00.000Z","labels":{},"value":1,)",
             R"("partial":true})", "\n"));
}

// One hour of traffic through the reference rules: the weekly and daily
// windows the end of the file closes are partial, so they page nothing, and
// the results mark exactly the windows ending after the file's last event.
// With --close-partial-windows the weekly report pages on the gap.
TEST(PartialWindowsTest, AnHourReplayPagesNothingFromWeeklyAndDailyMetrics) {
  const std::string events = Temp("hour.ndjson");
  const std::string results = Temp("hour-results.ndjson");
  // A knowledge-base gap on one FAQ topic inside the hour: its week would
  // page, were the week not cut short by the end of the file.
  ASSERT_EQ(Sh(StrCat(kVigil,
                      " gen --seed 5 --rate 40 --duration 1h --incident kb_gap:returns@10m+40m "
                      "--out ",
                      events))
                .exit_code,
            0);
  TimeMs last = kMinTime;
  for (const std::string& line : Lines(ReadFile(events))) {
    const size_t at = line.find("\"ts\":\"") + 6;
    const std::optional<TimeMs> ts = ParseRfc3339(line.substr(at, line.find('"', at) - at));
    ASSERT_TRUE(ts.has_value()) << line;
    last = std::max(last, *ts);
  }

  Result r =
      Sh(StrCat(kVigil, " replay --output json --no-progress --results ", results, " ", events));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  for (const char* alert : {"FaqTopicNegativeFeedback", "ConversionDeclining", "IntentAccuracyLow",
                            "NewIntentGrowing", "ResolutionRateLow"}) {
    EXPECT_EQ(r.out.find(alert), std::string::npos) << alert << " paged:\n" << r.out;
  }
  int partial = 0, complete = 0, weekly_partial = 0;
  for (const std::string& line : Lines(ReadFile(results))) {
    auto time_of = [&](const std::string& key) {
      const size_t at = line.find("\"" + key + "\":\"") + key.size() + 4;
      return *ParseRfc3339(line.substr(at, 24));
    };
    const TimeMs end = time_of("end");
    const bool want = end - 1 > last;
    const bool marked = line.find(",\"partial\":true}") != std::string::npos;
    EXPECT_EQ(marked, want) << line << " (last event " << FormatTimestamp(last) << ")";
    (marked ? partial : complete) += 1;
    if (marked && line.find("\"metric\":\"faq_negative_feedback\"") != std::string::npos) {
      ++weekly_partial;
    }
  }
  EXPECT_GT(complete, 1000);
  EXPECT_GT(partial, 10);
  EXPECT_GT(weekly_partial, 0);

  Result closed =
      Sh(StrCat(kVigil, " replay --output json --no-progress --close-partial-windows ", events));
  ASSERT_EQ(closed.exit_code, 0) << closed.out;
  EXPECT_NE(closed.out.find("FaqTopicNegativeFeedback"), std::string::npos) << closed.out;
  std::filesystem::remove(events);
  std::filesystem::remove(results);
}

// --to cuts the events short, not the data: a window ending by --to,
// with events going on past it, is complete and alerts; past the data's
// end (a --to after the last event) the last windows stay partial.
TEST(PartialWindowsTest, AWindowEndingByToIsCompleteWhenTheEventsGoOn) {
  const std::string events = Temp("to.ndjson");
  const std::string rules = Temp("to.yaml");
  const std::string results = Temp("to-results.ndjson");
  std::ofstream(rules) << "metrics:\n  - metric: c\n    window: tumbling 1m\n"
                          "    value: count()\nalerts:\n  - alert: Busy\n    severity: P3\n"
                          "    expr: c > 5\n";
  {
    // One event a minute from 00:00 to 00:08, ten in minute 4.
    std::ofstream out(events);
    for (int minute = 0; minute <= 8; ++minute) {
      for (int i = 0; i < (minute == 4 ? 10 : 1); ++i) {
        out << "{\"ts\":\"2026-01-01T00:0" << minute << ":" << 10 + i
            << "Z\",\"type\":\"message\"}\n";
      }
    }
  }
  Result r = Sh(StrCat(kVigil, " replay --no-progress --rules ", rules,
                       " --to 2026-01-01T00:05:00Z", " --results ", results, " ", events, " 2>&1"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Busy"), std::string::npos) << r.out;
  std::vector<std::string> lines = Lines(ReadFile(results));
  ASSERT_EQ(lines.size(), 5u);
  for (const std::string& line : lines) {
    EXPECT_EQ(line.find("partial"), std::string::npos) << line;
  }
  EXPECT_NE(lines[4].find("\"value\":10"), std::string::npos) << lines[4];

  r = Sh(StrCat(kVigil, " replay --no-progress --rules ", rules, " --to 2026-01-01T00:20:00Z",
                " --results ", results, " ", events, " 2>&1"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  lines = Lines(ReadFile(results));
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_NE(lines[8].find(",\"partial\":true}"), std::string::npos) << lines[8];
  EXPECT_EQ(lines[7].find("partial"), std::string::npos) << lines[7];
  std::filesystem::remove(events);
  std::filesystem::remove(rules);
  std::filesystem::remove(results);
}

// An event past --to still moves the watermark: an event the run found
// late is late in the range too, and the range's windows are the run's.
TEST(PartialWindowsTest, ARangeJudgesLatenessAsTheRunDid) {
  const std::string events = Temp("late.ndjson");
  const std::string rules = Temp("late.yaml");
  const std::string results = Temp("late-results.ndjson");
  std::ofstream(rules) << "metrics:\n  - metric: c\n    window: tumbling 1m\n"
                          "    value: count()\n    export: true\n";
  std::ofstream(events) << "{\"ts\":\"2026-01-01T00:00:10Z\",\"type\":\"m\"}\n"
                           "{\"ts\":\"2026-01-01T00:00:20Z\",\"type\":\"m\"}\n"
                           "{\"ts\":\"2026-01-01T00:02:00Z\",\"type\":\"m\"}\n"
                           // 85 s behind 00:02:00, past the 5 s out-of-orderness: late.
                           "{\"ts\":\"2026-01-01T00:00:30Z\",\"type\":\"m\"}\n";
  const std::string first_minute =
      R"({"metric":"c","start":"2026-01-01T00:00:00.000Z","end":"2026-01-01T00:01:00.000Z","labels":{},"value":2})";
  Result run = Sh(StrCat(kVigil, " replay --no-progress --rules ", rules, " --results ", results,
                         " ", events, " 2>&1"));
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("(1 late)"), std::string::npos) << run.out;
  EXPECT_EQ(Lines(ReadFile(results))[0], first_minute);
  Result range = Sh(StrCat(kVigil, " replay --no-progress --rules ", rules,
                           " --to 2026-01-01T00:01:00Z --results ", results, " ", events, " 2>&1"));
  ASSERT_EQ(range.exit_code, 0) << range.out;
  EXPECT_NE(range.out.find("(1 late)"), std::string::npos) << range.out;
  EXPECT_EQ(Lines(ReadFile(results)), std::vector<std::string>{first_minute});
  std::filesystem::remove(events);
  std::filesystem::remove(rules);
  std::filesystem::remove(results);
}

// Three of ten sessions escalate at 00:10, two more at 00:20 (the case of
// deploy/rules/tests/escalation.yaml): the P1 and the P2 on the escalation
// rate fire together at 00:11, the reference rules inhibit the P2 while the
// P1 fires, and the P2 is sent at 00:26 when the P1 resolves. The timeline
// says so.
// A replay with one event at the last millisecond of year 9999 among
// ordinary ones ends: the windows past the input's end are partial and
// change nothing, so no alert steps through the empty minutes up to the
// monthly window that holds that event (and never ends).
TEST(PartialWindowsTest, AnEventAtTheEndOfTheCalendarEndsTheReplay) {
  const std::string events = Temp("end_of_calendar.ndjson");
  ASSERT_EQ(Sh(StrCat(kVigil, " gen --rate 20 --duration 10m --seed 5 --out ", events)).exit_code,
            0);
  ASSERT_EQ(Sh(StrCat("echo '{\"ts\":\"9999-12-31T23:59:59.999Z\",\"type\":\"message\","
                      "\"session_id\":\"s-last\",\"intent\":\"faq\",\"latency_ms\":5}' >> ",
                      events))
                .exit_code,
            0);
  Result r = Sh(StrCat("timeout 60 ", kVigil, " replay --no-progress ", events, " 2>&1"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("12001 records"), std::string::npos) << r.out;
}

TEST(ReplayInhibitionTest, TheTimelineShowsInhibitedEpisodes) {
  const std::string events = Temp("escalations.ndjson");
  {
    std::ofstream out(events);
    for (int minute = 0; minute < 40; ++minute) {
      for (int s = 0; s < 10; ++s) {
        const int at = minute * 60 + s;
        out << "{\"ts\":" << (1767225600 + at) * 1000LL
            << ",\"type\":\"message\",\"session_id\":\"s" << s
            << "\",\"intent\":\"faq\",\"latency_ms\":700,\"cache_hit\":true}\n";
        const bool escalates = (minute == 10 && s < 3) || (minute == 20 && (s == 3 || s == 4));
        if (escalates) {
          out << "{\"ts\":" << (1767225600 + at + 5) * 1000LL
              << ",\"type\":\"escalation\",\"session_id\":\"s" << s
              << "\",\"intent\":\"faq\",\"reason\":\"frustration\"}\n";
        }
      }
    }
  }
  Result text = Sh(StrCat(kVigil, " replay --no-progress ", events, " 2>/dev/null"));
  ASSERT_EQ(text.exit_code, 0) << text.out;
  bool p2 = false;
  for (const std::string& line : Lines(text.out)) {
    if (line.rfind("EscalationRateHigh ", 0) != 0) continue;
    p2 = true;
    EXPECT_NE(line.find("2026-01-01T00:11:00.000Z"), std::string::npos) << line;
    EXPECT_NE(line.find("(inhibited by EscalationRateCritical when it fired, notified at "
                        "2026-01-01T00:26:00.000Z)"),
              std::string::npos)
        << line;
  }
  EXPECT_TRUE(p2) << text.out;
  Result json = Sh(StrCat(kVigil, " replay --output json --no-progress ", events, " 2>/dev/null"));
  ASSERT_EQ(json.exit_code, 0);
  EXPECT_NE(json.out.find("\"held_back\":\"inhibited by EscalationRateCritical\",\"notified\":"
                          "\"2026-01-01T00:26:00.000Z\""),
            std::string::npos)
      << json.out;
  std::filesystem::remove(events);
}

// The LABELS column keeps a plain value as it is and writes one holding a
// space, a tab, a quote or a separator as a JSON string, as the console
// does: a table row stays one row of readable columns.
TEST(ReplayLabelsTest, OddLabelValuesAreQuoted) {
  const std::string rules = Temp("labels.yaml"), events = Temp("labels.ndjson");
  std::ofstream(rules) << "metrics:\n  - metric: n\n    window: tumbling 1m\n    by: [intent]\n"
                          "    value: count()\nalerts:\n  - alert: Busy\n    severity: P3\n"
                          "    expr: n > 0\n";
  {
    std::ofstream out(events);
    for (const char* intent : {"faq", "a\\\"b c", "tab\\there", "x,y=z"}) {
      out << "{\"ts\":1767225601000,\"type\":\"message\",\"intent\":\"" << intent << "\"}\n";
    }
    out << "{\"ts\":1767225900000,\"type\":\"message\",\"intent\":\"faq\"}\n";
  }
  Result text =
      Sh(StrCat(kVigil, " replay --no-progress --rules ", rules, " ", events, " 2>/dev/null"));
  ASSERT_EQ(text.exit_code, 0) << text.out;
  EXPECT_NE(text.out.find(" {intent=faq} "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(" {intent=\"a\\\"b c\"} "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(" {intent=\"tab\\there\"} "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(" {intent=\"x,y=z\"} "), std::string::npos) << text.out;
  EXPECT_EQ(text.out.find('\t'), std::string::npos) << text.out;
  std::filesystem::remove(rules);
  std::filesystem::remove(events);
}

// PEAK is the alert's value furthest past its threshold while active: the
// largest for an alert on high values, up to the last window for one still
// firing at the end; the smallest for an alert on low values.
TEST(ReplayPeakTest, TheValueFurthestPastTheThresholdWhileActiveOrToTheEnd) {
  const std::string rules = Temp("peak.yaml");
  const std::string events = Temp("peak.ndjson");
  {
    std::ofstream out(rules);
    out << "metrics:\n  - metric: mx\n    window: tumbling 1m\n    value: max(v)\n"
           "alerts:\n  - alert: High\n    severity: P2\n    expr: mx > 10\n"
           "  - alert: Low\n    severity: P3\n    expr: mx < -10\n";
    std::ofstream ev(events);
    // Low: -20, -50, -30 in minutes 0-2; High: 20, 50, 60 in minutes 4-6,
    // and still firing when the input ends inside minute 7.
    const int values[] = {-20, -50, -30, 0, 20, 50, 60, 0};
    for (int m = 0; m < 8; ++m) {
      ev << "{\"ts\":" << (1767225600 + m * 60 + 30) * 1000LL
         << ",\"type\":\"m\",\"v\":" << values[m] << "}\n";
    }
  }
  Result json = Sh(StrCat(kVigil, " replay --output json --no-progress --rules ", rules, " ",
                          events, " 2>/dev/null"));
  ASSERT_EQ(json.exit_code, 0) << json.out;
  EXPECT_NE(
      json.out.find(R"("alert":"Low","severity":"P3","labels":{"alertname":"Low","severity":"P3"},)"
                    R"("pending":null,)"
                    R"("firing":"2026-01-01T00:01:00.000Z","resolved":)"
                    R"("2026-01-01T00:04:00.000Z","peak":-50)"),
      std::string::npos)
      << json.out;
  EXPECT_NE(json.out.find(
                R"("alert":"High","severity":"P2","labels":{"alertname":"High","severity":"P2"},)"
                R"("pending":null,)"
                R"("firing":"2026-01-01T00:05:00.000Z","resolved":null,"peak":60)"),
            std::string::npos)
      << json.out;
  std::filesystem::remove(rules);
  std::filesystem::remove(events);
}

// Two days and an hour through the reference SLOs: the budget each SLO
// used on each complete day, as replay prints it, against the share of bad
// turns counted straight from the file.
TEST(ReplaySloTest, BudgetPerDayMatchesTheCountsOfTheFile) {
  const std::string events = Temp("slo-days.ndjson");
  ASSERT_EQ(
      Sh(StrCat(kVigil, " gen --seed 8 --rate 0.5 --duration 49h --start 2026-03-01T00:00:00Z",
                " --incident error_burst@30h+20m --out ", events))
          .exit_code,
      0);
  constexpr DurationMs kDay = 86'400'000;
  // Per day: valid turns, slow (>= 5000 and >= 2000 ms) and failed per dependency.
  struct Counts {
    double valid = 0, over5s = 0, over2s = 0;
    std::map<std::string, double> failed;
  };
  std::map<TimeMs, Counts> days;
  TimeMs first = kMaxTime, last = kMinTime;
  simdjson::dom::parser parser;
  for (const std::string& line : Lines(ReadFile(events))) {
    simdjson::dom::element ev = parser.parse(line);
    const std::optional<TimeMs> ts = ParseRfc3339(std::string(ev["ts"].get_string().value()));
    ASSERT_TRUE(ts.has_value()) << line;
    first = std::min(first, *ts);
    last = std::max(last, *ts);
    if (std::string_view(ev["type"].get_string().value()) != "message") continue;
    Counts& c = days[*ts - ((*ts % kDay) + kDay) % kDay];
    c.valid += 1;
    const double latency = ev["latency_ms"].get_double().value();
    c.over5s += latency >= 5000;
    c.over2s += latency >= 2000;
    std::string_view failed;
    if (ev["error_service"].get_string().get(failed) == simdjson::SUCCESS) {
      c.failed[std::string(failed)] += 1;
    }
  }
  Result r = Sh(StrCat(kVigil, " replay --output json --no-progress --rules ", kSource,
                       "/deploy/rules/slos.yaml ", events));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  simdjson::dom::element out = parser.parse(r.out);
  std::map<std::string, double> got;
  std::set<std::string> partial;
  for (simdjson::dom::element d : out["slo_days"].get_array()) {
    const std::string key = StrCat(std::string_view(d["slo"].get_string().value()), " ",
                                   std::string_view(d["day"].get_string().value()));
    if (d["partial"].get_bool().value()) {
      partial.insert(key);
    } else {
      got[key] = d["budget_used"].get_double().value();
    }
  }
  // The third day has an hour of data, and the generator's out-of-order
  // first events fall seconds before March 1: each SLO shows both days,
  // marked partial.
  std::set<std::string> want_partial;
  for (const char* slo : {"latency-sla", "latency-p95", "bedrock-errors", "catalog-errors",
                          "orders-errors", "search-errors"}) {
    for (const char* day : {"2026-02-28", "2026-03-03"}) want_partial.insert(StrCat(slo, " ", day));
  }
  EXPECT_EQ(partial, want_partial);
  std::map<std::string, double> want;
  for (const auto& [day, c] : days) {
    if (day < first || day + kDay - 1 > last) continue;  // partial days
    const std::string date = FormatTimestamp(day).substr(0, 10);
    // budget used = bad / valid / (1 - objective) × 1 day / 30 days
    const double valid = c.valid;  // clang 14 cannot capture a structured binding
    auto used = [valid](double bad, double objective) {
      return bad / valid / (1 - objective) / 30;
    };
    want["latency-sla " + date] = used(c.over5s, 0.99);
    want["latency-p95 " + date] = used(c.over2s, 0.95);
    for (const char* dep : {"bedrock", "catalog", "orders", "search"}) {
      const auto it = c.failed.find(dep);
      want[StrCat(dep, "-errors ", date)] = used(it == c.failed.end() ? 0 : it->second, 0.995);
    }
  }
  ASSERT_EQ(got.size(), want.size()) << r.out;
  EXPECT_GE(want.size(), 12u);  // two whole days of six SLOs
  for (const auto& [key, value] : want) {
    ASSERT_TRUE(got.contains(key)) << key;
    EXPECT_NEAR(got[key], value, 1e-12 + value * 1e-12) << key;
  }
  // The burst of errors on the second day shows in the text too.
  Result text = Sh(StrCat(kVigil, " replay --no-progress --rules ", kSource,
                          "/deploy/rules/slos.yaml ", events));
  EXPECT_NE(text.out.find("SLO error budget per day (UTC)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(" 2026-03-03* "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("* the data covers only part of the day"), std::string::npos) << text.out;
  std::filesystem::remove(events);
}

// Data from 20:00 to 01:00: the first day is marked as the last is, not
// reported as a whole day of four hours.
TEST(ReplaySloTest, ADayTheDataStartsAfterIsMarkedPartial) {
  const std::string events = Temp("slo-late-start.ndjson");
  ASSERT_EQ(Sh(StrCat(kVigil, " gen --seed 8 --rate 0.5 --duration 5h --start 2026-03-01T20:00:00Z",
                      " --out ", events))
                .exit_code,
            0);
  Result r = Sh(StrCat(kVigil, " replay --output json --no-progress --rules ", kSource,
                       "/deploy/rules/slos.yaml ", events));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  simdjson::dom::parser parser;
  simdjson::dom::element out = parser.parse(r.out);
  size_t days = 0;
  for (simdjson::dom::element d : out["slo_days"].get_array()) {
    if (std::string_view(d["slo"].get_string().value()) != "latency-sla") continue;
    ++days;
    EXPECT_TRUE(d["partial"].get_bool().value()) << d;
  }
  EXPECT_EQ(days, 2u);
  std::filesystem::remove(events);
}

TEST_F(ReplayTest, BadArgumentsAreUsageErrors) {
  EXPECT_EQ(Sh(StrCat(kVigil, " replay /nonexistent/dir 2>&1")).exit_code, 2);
  EXPECT_EQ(Sh(StrCat(kVigil, " replay 2>&1")).exit_code, 2);
  EXPECT_EQ(Sh(StrCat(kVigil, " replay --from yesterday ", *events_, " 2>&1")).exit_code, 2);
}

// The alerts (names, sorted, once each) `vigil replay` of generated traffic
// raises with the reference rules. The events go through a pipe: the
// longest of these runs is 20 M events, several GB as a file.
std::set<std::string> AlertsOfGeneratedTraffic(const std::string& gen_flags) {
  const Result r = Sh(StrCat("bash -o pipefail -c '", kVigil, " gen --rate 20 ", gen_flags, " | ",
                             kVigil, " replay --output json --no-progress -'"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  std::set<std::string> out;
  const std::regex alert("\"alert\":\"([A-Za-z0-9]+)\"");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), alert), end; it != end; ++it) {
    out.insert((*it)[1].str());
  }
  return out;
}

using AlertSet = std::set<std::string>;

// Normal generated traffic pages nobody: eight days (a whole calendar week
// of the weekly alerts) without incidents raise no alert.
TEST(ReferenceRulesTest, NormalTrafficPagesNobody) {
  EXPECT_EQ(AlertsOfGeneratedTraffic("--duration 8d"), AlertSet{});
}

// Each incident raises its own alerts and the ones of its consequences in
// the generator (an LLM outage also fails turns, slows them and sends users
// to humans), and nothing else.
TEST(ReferenceRulesTest, EachIncidentRaisesItsAlertsAndNoOthers) {
  const std::pair<const char*, AlertSet> cases[] = {
      {"latency_spike", {"LatencyP95High", "LatencyP99Critical", "ThumbsDownHigh"}},
      // Users asking for humans: not a failure of the bot to resolve, so no
      // ResolutionRateLow (its sessions have the escalation intent).
      {"escalation_surge",
       {"EscalationRateCritical", "EscalationRateHigh", "EscalationShareHigh", "EscalationSpike",
        "SessionLengthUnusual"}},
      {"bedrock_open",
       {"BedrockCircuitOpen", "ErrorRateCritical", "EscalationRateHigh", "EscalationSpike",
        "LatencyP95High", "ThumbsDownHigh"}},
      {"guardrail_storm", {"GuardrailRateHigh"}},
      {"cache_miss_storm", {"CacheHitRateLow"}},
      {"error_burst",
       {"ErrorRateCritical", "EscalationRateHigh", "EscalationSpike", "ThumbsDownHigh"}},
  };
  for (const auto& [kind, alerts] : cases) {
    EXPECT_EQ(AlertsOfGeneratedTraffic(StrCat("--duration 12h --incident ", kind, "@3h+1h")),
              alerts)
        << kind;
  }
}

// A knowledge-base gap of four days on one topic, inside a complete
// calendar week (2026-01-05 to 2026-01-12), raises the weekly FAQ alert
// and nothing else.
TEST(ReferenceRulesTest, AKnowledgeBaseGapRaisesTheWeeklyFaqTopicAlert) {
  EXPECT_EQ(AlertsOfGeneratedTraffic("--duration 12d --incident kb_gap:returns@4d+4d"),
            (AlertSet{"FaqTopicNegativeFeedback"}));
}

}  // namespace
}  // namespace vigil
