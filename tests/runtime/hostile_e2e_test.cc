// End to end with hostile input: generated events mixed with a corpus of
// bad and odd records (deep nesting, a 10 MB line, invalid UTF-8, NaN,
// huge numbers, duplicate keys, wrong types, timestamps far in the past
// and future, NUL bytes, a byte order mark, trailing garbage, non-objects,
// blank lines) through `vigil run`. The job finishes normally, every record
// is either processed or dead-lettered under its reason, and the windows
// and alerts of the good events are those of a run over the good events
// alone.
#include <simdjson.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

using namespace std::string_literals;

const std::string kVigil = VIGIL_BINARY;

std::string Path(const std::string& name) { return TempPath("hostile_e2e_", name); }

// One corpus entry: the line's bytes and the dead-letter reason it must get
// ("" when it is accepted, "blank" when it is no record at all). `$TS`
// becomes the event time of the good event just before it, so accepted
// entries never move the watermark.
struct Hostile {
  std::string line;
  std::string reason;
};

std::vector<Hostile> Corpus() {
  const std::string msg = R"({"ts":"$TS","type":"message","session_id":"h1","intent":"faq")";
  return {
      {msg + ",\"x\":" + std::string(100000, '[') + std::string(100000, ']') + "}",
       "malformed_json"},
      {msg + ",\"pad\":\"" + std::string(10 << 20, 'p') + "\"}", "oversized"},
      {msg + ",\"comment\":\"\xff\xfe\"}", "malformed_json"},
      {msg + ",\"\xc0\xaf\":1}", "malformed_json"},
      {msg + ",\"latency_ms\":NaN}", "malformed_json"},
      {msg + ",\"latency_ms\":Infinity}", "malformed_json"},
      {msg + ",\"latency_ms\":-Infinity}", "malformed_json"},
      {msg + ",\"latency_ms\":1e400}", "malformed_json"},
      {msg + ",\"latency_ms\":-1e400}", "malformed_json"},
      {msg + ",\"latency_ms\":123456789012345678901234567890}", "malformed_json"},
      // The last `type` wins: a probe no rule counts. Were the first to
      // win, this would count as a bot turn and change the windows.
      {msg + ",\"latency_ms\":\"slow\",\"latency_ms\":1,\"type\":\"probe\"}", ""},
      {msg + ",\"latency_ms\":1,\"latency_ms\":\"slow\"}", "wrong_type"},
      {msg + ",\"latency_ms\":\"250\"}", "wrong_type"},
      {msg + ",\"session_id\":{\"id\":\"h1\"}}", "wrong_type"},
      {msg + ",\"ts\":true}", "bad_ts"},
      {msg + ",\"ts\":\"0001-01-01T00:00:00Z\"}", "bad_ts"},
      {msg + ",\"ts\":-1}", "bad_ts"},
      {msg + ",\"ts\":1000000000000000000}", "bad_ts"},
      {msg + ",\"ts\":\"10000-01-01T00:00:00Z\"}", "bad_ts"},
      {"", "blank"},
      {"  \t ", "blank"},
      {"\r", "blank"},
      {msg + ",\"topic\":\"\\ud800\"}", "malformed_json"},
      {msg + ",\"topic\":\"a\0b\"}"s, "malformed_json"},
      {"\0\0\0"s, "malformed_json"},
      {R"({"ts":"$TS","type":"pro\u0000be"})", ""},
      {"\xef\xbb\xbf{\"ts\":\"$TS\",\"type\":\"probe\"}", ""},
      {msg + "} trailing", "malformed_json"},
      {msg + "}{}", "malformed_json"},
      {R"([{"ts":"$TS","type":"message"}])", "not_an_object"},
      {R"("message")", "not_an_object"},
      {"null", "not_an_object"},
      {R"({"type":"message"})", "missing_ts"},
      {R"({"ts":"$TS","type":7})", "missing_type"},
  };
}

// The `ts` string of a generated line.
std::string EventTime(const std::string& line) {
  const size_t at = line.find("\"ts\":\"") + 6;
  return line.substr(at, line.find('"', at) - at);
}

struct Summary {
  uint64_t records = 0, processed = 0, dead = 0, late = 0;
};

Summary ParseSummary(const std::string& log) {
  std::smatch m;
  Summary s;
  if (std::regex_search(log, m,
                        std::regex(R"((\d+) records in [0-9.]+s, (\d+) processed, (\d+) )"
                                   R"(dead-lettered \((\d+) late\))"))) {
    s = {std::stoull(m[1]), std::stoull(m[2]), std::stoull(m[3]), std::stoull(m[4])};
  } else {
    ADD_FAILURE() << "no summary line in: " << log;
  }
  return s;
}

TEST(HostileE2eTest, BadRecordsAreDeadLetteredAndTheGoodOnesGiveTheCleanResults) {
  RemoveTestPaths(Path(""));
  const std::string good = Path("good.ndjson"), mixed = Path("mixed.ndjson");
  ASSERT_EQ(Sh(kVigil +
               " gen --rate 20 --duration 30m --seed 11 "
               "--incident latency_spike@5m+10m --out " +
               good)
                .exit_code,
            0);
  const std::vector<std::string> good_lines = Lines(ReadFile(good));
  ASSERT_EQ(good_lines.size(), 36000u);

  // The corpus twice, one entry after every 500 good events, and the line
  // number (1-based, blank lines included) and reason of each entry.
  const std::vector<Hostile> corpus = Corpus();
  std::vector<std::pair<uint64_t, std::string>> expected_dead;
  uint64_t line_no = 0, accepted = 0, blank = 0;
  {
    std::ofstream out(mixed, std::ios::binary);
    size_t next = 0;
    for (size_t i = 0; i < good_lines.size(); ++i) {
      out << good_lines[i] << '\n';
      ++line_no;
      if ((i + 1) % 500 != 0 || next >= 2 * corpus.size()) continue;
      const Hostile& h = corpus[next++ % corpus.size()];
      std::string line = h.line;
      for (size_t at; (at = line.find("$TS")) != std::string::npos;) {
        line.replace(at, 3, EventTime(good_lines[i]));
      }
      out << line << '\n';
      ++line_no;
      if (h.reason == "blank") {
        ++blank;
      } else if (h.reason.empty()) {
        ++accepted;
      } else {
        expected_dead.emplace_back(line_no, h.reason);
      }
    }
    ASSERT_EQ(next, 2 * corpus.size());
  }
  const uint64_t records = line_no - blank;

  const std::string flags = " --output json --http off --no-progress";
  const std::string dead = Path("dead.ndjson"), results = Path("mixed_results.ndjson"),
                    clean = Path("clean_results.ndjson");
  Result run = Sh(kVigil + " run --input " + mixed + " --results " + results + " --dead-letter " +
                  dead + flags + " 2>" + Path("mixed.log"));
  ASSERT_EQ(run.exit_code, 0) << ReadFile(Path("mixed.log"));
  const Summary s = ParseSummary(ReadFile(Path("mixed.log")));
  EXPECT_EQ(s.records, records);
  EXPECT_EQ(s.processed, good_lines.size() + accepted);
  EXPECT_EQ(s.dead, expected_dead.size());
  EXPECT_EQ(s.late, 0u);
  EXPECT_EQ(s.processed + s.dead, s.records);

  // Every dead-letter line is JSON (whatever bytes the record held) naming
  // the record's line and reason, in input order.
  const std::vector<std::string> dead_lines = Lines(ReadFile(dead));
  ASSERT_EQ(dead_lines.size(), expected_dead.size());
  simdjson::dom::parser parser;
  for (size_t i = 0; i < dead_lines.size(); ++i) {
    SCOPED_TRACE(dead_lines[i].substr(0, 200));
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(dead_lines[i]).get(doc), simdjson::SUCCESS);
    std::string_view reason, detail, record;
    uint64_t line = 0, size = 0;
    ASSERT_EQ(doc["reason"].get(reason), simdjson::SUCCESS);
    ASSERT_EQ(doc["detail"].get(detail), simdjson::SUCCESS);
    ASSERT_EQ(doc["line"].get(line), simdjson::SUCCESS);
    ASSERT_EQ(doc["size"].get(size), simdjson::SUCCESS);
    ASSERT_EQ(doc["record"].get(record), simdjson::SUCCESS);
    EXPECT_EQ(line, expected_dead[i].first);
    EXPECT_EQ(reason, expected_dead[i].second);
    EXPECT_FALSE(detail.empty());
    if (reason == "oversized") {
      EXPECT_GT(size, 10u << 20);
      EXPECT_EQ(record.size(), 256u);
      bool truncated = false;
      EXPECT_EQ(doc["truncated"].get(truncated), simdjson::SUCCESS);
      EXPECT_TRUE(truncated);
    }
  }

  // The good events alone: the same windows, the same alerts.
  Result alone = Sh(kVigil + " run --input " + good + " --results " + clean + flags + " 2>" +
                    Path("clean.log"));
  ASSERT_EQ(alone.exit_code, 0) << ReadFile(Path("clean.log"));
  const std::vector<std::string> want = Lines(ReadFile(clean));
  EXPECT_GT(want.size(), 500u);
  EXPECT_EQ(Lines(ReadFile(results)), want);
  EXPECT_GE(Lines(alone.out).size(), 2u);
  EXPECT_EQ(run.out, alone.out);
}

}  // namespace
}  // namespace vigil
