// `vigil query` end to end over a generated week: the windows of a metric
// and one label value in a range, every window or one a day, equal the
// values the results file holds for that range (read independently here),
// whether the query reads the results file, the results database or a
// running job's /api/query; bad queries are usage errors.
#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/strings.h"
#include "base/time.h"
#include "gtest/gtest.h"
#include "tests/operators/warehouse/postgres_server.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

// end -> value of intent_messages{intent="faq"} windows that start in
// [from, to), from the results file's lines.
std::map<std::string, double> Expected(const std::string& results, TimeMs from, TimeMs to) {
  std::map<std::string, double> out;
  simdjson::dom::parser parser;
  for (const std::string& line : Lines(results)) {
    simdjson::dom::element e;
    if (parser.parse(line).get(e)) continue;
    std::string_view metric, start, end, intent;
    double value = 0;
    if (e["metric"].get(metric) || metric != "intent_messages" || e["start"].get(start) ||
        e["end"].get(end) || e["value"].get(value) || e["labels"]["intent"].get(intent) ||
        intent != "faq") {
      continue;
    }
    const TimeMs s = *ParseRfc3339(start);
    if (s >= from && s < to) out[std::string(end)] = value;
  }
  return out;
}

// The same from `vigil query --output json`: its one series.
std::map<std::string, double> Queried(const std::string& json) {
  std::map<std::string, double> out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  simdjson::dom::array series;
  if (parser.parse(json).get(doc) || doc["series"].get(series) || series.size() != 1) {
    ADD_FAILURE() << json;
    return out;
  }
  simdjson::dom::array windows;
  if (series.at(0)["windows"].get(windows)) return out;
  for (simdjson::dom::element w : windows) {
    std::string_view end;
    double value = 0;
    if (!w["end"].get(end) && !w["value"].get(value)) out[std::string(end)] = value;
  }
  return out;
}

TEST(QueryE2eTest, AGeneratedWeekGivesTheResultsFilesValuesFromEverySource) {
  const std::string base = TempPath("query_e2e_", "");
  RemoveTestPaths(base);
  std::string why;
  std::unique_ptr<PostgresServer> pg = PostgresServer::Create(base + "pg", &why);
  ASSERT_TRUE(pg) << why;
  const std::string events = base + "week.ndjson.zst", results = base + "results.ndjson";
  ASSERT_EQ(Sh(kVigil + " gen --rate 1 --duration 7d --seed 11 --out " + events).exit_code, 0);
  Result run = Sh(kVigil + " run --input " + events + " --results " + results + " --results '" +
                  pg->url() + "' --no-console --http off --no-progress 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.out;

  const std::string from = "2026-01-02T00:00:00Z", to = "2026-01-05T00:00:00Z";
  const std::map<std::string, double> want =
      Expected(ReadFile(results), *ParseRfc3339(from), *ParseRfc3339(to));
  ASSERT_EQ(want.size(), 3u * 288);  // 5-minute windows for three days
  const std::string q = " query intent_messages --labels intent=faq --from " + from + " --to " +
                        to + " --output json ";
  Result file = Sh(kVigil + q + results);
  ASSERT_EQ(file.exit_code, 0) << file.out;
  EXPECT_EQ(Queried(file.out), want);
  Result db = Sh(kVigil + q + "--database '" + pg->url() + "'");
  ASSERT_EQ(db.exit_code, 0) << db.out;
  EXPECT_EQ(Queried(db.out), want);
  EXPECT_EQ(db.out, file.out);

  // One window a day: the last to end in each day.
  std::map<std::string, double> daily;
  for (const auto& [end, value] : want) {
    if (end.substr(11) == "00:00:00.000Z") daily[end] = value;
  }
  ASSERT_EQ(daily.size(), 3u);
  EXPECT_EQ(Queried(Sh(kVigil + q + "--step 1d " + results).out), daily);
  EXPECT_EQ(Queried(Sh(kVigil + q + "--step 1d --database '" + pg->url() + "'").out), daily);

  // A running job answers /api/query from its database.
  const std::string fifo = base + "idle.ndjson", log = base + "job.log";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // A writer that writes nothing: the job opens its input and waits.
  const int writer = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(writer, 0);
  const pid_t job = Spawn(kVigil + " run --input " + fifo + " --results '" + pg->url() +
                              "' --no-console --http 127.0.0.1:0",
                          log);
  ChildGuard guard(job);
  const std::string url = JobHttpBase(log);
  ASSERT_FALSE(url.empty()) << ReadFile(log);
  Result live = Sh(kVigil + q + "--url " + url);
  ASSERT_EQ(live.exit_code, 0) << live.out;
  EXPECT_EQ(Queried(live.out), want);
  Result text = Sh(kVigil + " query intent_messages --labels intent=faq --from " + from +
                   " --to 2026-01-02T00:10:00Z --url " + url);
  EXPECT_EQ(text.out, "intent_messages{intent=\"faq\"}\n  2026-01-02T00:05:00.000Z  " +
                          StrCat(want.begin()->second) + "\n  2026-01-02T00:10:00.000Z  " +
                          StrCat(std::next(want.begin())->second) + "\n");
  auto [status, body] = HttpGet(url, "/api/query?metric=intent_messages&from=yesterday");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body, "from needs an RFC 3339 time, not 'yesterday'\n");
  ::close(writer);
}

// A label value with a comma (written `\,` in --labels) or with characters
// a URL query escapes selects its one series from every source.
TEST(QueryE2eTest, ALabelValueWithACommaOrUrlCharactersSelectsItsSeries) {
  const std::string base = TempPath("query_e2e_", "odd_");
  RemoveTestPaths(base);
  std::string why;
  std::unique_ptr<PostgresServer> pg = PostgresServer::Create(base + "pg", &why);
  ASSERT_TRUE(pg) << why;
  const std::string rules = base + "rules.yaml", events = base + "events.ndjson",
                    results = base + "results.ndjson";
  std::ofstream(rules) << "metrics:\n  - metric: n\n    window: tumbling 1m\n"
                          "    by: [intent]\n    value: count()\n";
  std::ofstream out(events);
  const char* intents[] = {"a,b", "a", "b", "a&b=%2C #", "a,b", "a&b=%2C #", "a,b"};
  for (int i = 0; i < 7; ++i) {
    out << "{\"ts\":\"2026-01-01T00:00:0" << i << "Z\",\"type\":\"message\",\"intent\":\""
        << intents[i] << "\"}\n";
  }
  out.close();
  Result run =
      Sh(kVigil + " run --rules " + rules + " --input " + events + " --results " + results +
         " --results '" + pg->url() + "' --no-console --http off --no-progress 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const std::string fifo = base + "idle.ndjson", log = base + "job.log";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int writer = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(writer, 0);
  const pid_t job = Spawn(kVigil + " run --rules " + rules + " --input " + fifo + " --results '" +
                              pg->url() + "' --no-console --http 127.0.0.1:0",
                          log);
  ChildGuard guard(job);
  const std::string url = JobHttpBase(log);
  ASSERT_FALSE(url.empty()) << ReadFile(log);
  // The input ends inside the window: it is partial.
  const std::string window = "  2026-01-01T00:01:00.000Z  ";
  for (const std::string& source : {results, "--database '" + pg->url() + "'", "--url " + url}) {
    Result comma = Sh(StrCat(kVigil, " query n --labels 'intent=a\\,b' ", source));
    EXPECT_EQ(comma.out, StrCat("n{intent=\"a,b\"}\n", window, "3  partial\n")) << source;
    Result odd = Sh(StrCat(kVigil, " query n --labels 'intent=a&b=%2C #' ", source));
    EXPECT_EQ(odd.out, StrCat("n{intent=\"a&b=%2C #\"}\n", window, "2  partial\n")) << source;
    // Unescaped, the comma ends the value: "b" is not NAME=VALUE.
    Result split = Sh(StrCat(kVigil, " query n --labels intent=a,b ", source, " 2>&1"));
    EXPECT_EQ(split.exit_code, 2) << source;
    EXPECT_EQ(split.out,
              "vigil: --labels: 'b' is not NAME=VALUE (e.g. intent=faq,model=haiku)\n"
              "Run 'vigil help' for the commands, 'vigil COMMAND --help' for one's flags.\n")
        << source;
  }
  ::close(writer);
}

// A label value may hold any character, a NUL too: the CSV holds every
// row, the NUL as it is (the output stopped at it, mid-row).
TEST(QueryE2eTest, ACsvHoldsEveryRowPastANulInALabel) {
  const std::string results = TempPath("query_e2e_", "nul.ndjson");
  std::ofstream(results)
      << ("{\"metric\":\"n\",\"start\":\"2026-01-01T00:00:00.000Z\",\"end\":"
          "\"2026-01-01T00:01:00.000Z\",\"labels\":{\"intent\":\"a\\u0000b\"},\"value\":1}\n"
          "{\"metric\":\"n\",\"start\":\"2026-01-01T00:00:00.000Z\",\"end\":"
          "\"2026-01-01T00:01:00.000Z\",\"labels\":{\"intent\":\"c\"},\"value\":2}\n");
  Result r = Sh(kVigil + " query n --output csv " + results);
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, std::string("metric,intent,start,end,value,partial\n"
                               "n,a\0b,2026-01-01T00:00:00.000Z,2026-01-01T00:01:00.000Z,1,false\n"
                               "n,c,2026-01-01T00:00:00.000Z,2026-01-01T00:01:00.000Z,2,false\n",
                               164));
}

// Window starts are whole milliseconds: a bound past one rounds up, so a
// window starting at 00:05:00.000 starts before --to 00:05:00.0005 and
// before --from 00:05:00.0005.
TEST(QueryE2eTest, BoundsPastTheMillisecondKeepTheWindowsTheySay) {
  const std::string results = TempPath("query_e2e_", "subms.ndjson");
  std::ofstream(results)
      << ("{\"metric\":\"w\",\"start\":\"2026-01-01T00:04:00.000Z\",\"end\":"
          "\"2026-01-01T00:05:00.000Z\",\"labels\":{},\"value\":1}\n"
          "{\"metric\":\"w\",\"start\":\"2026-01-01T00:05:00.000Z\",\"end\":"
          "\"2026-01-01T00:06:00.000Z\",\"labels\":{},\"value\":2}\n");
  // The value column of each row, "metric,start,end,value,partial".
  auto values = [&](const std::string& range) {
    Result r = Sh(kVigil + " query w --output csv " + range + " " + results);
    EXPECT_EQ(r.exit_code, 0) << range;
    std::vector<std::string> out;
    std::istringstream lines(r.out);
    std::string line;
    std::getline(lines, line);  // the header
    while (std::getline(lines, line)) {
      std::vector<std::string> columns = absl::StrSplit(line, ',');
      out.push_back(columns.at(3));
    }
    return absl::StrJoin(out, " ");
  };
  EXPECT_EQ(values("--to 2026-01-01T00:05:00.0005Z"), "1 2");
  EXPECT_EQ(values("--to 2026-01-01T00:04:59.9995Z"), "1");
  EXPECT_EQ(values("--from 2026-01-01T00:05:00.0005Z"), "");
  EXPECT_EQ(values("--from 2026-01-01T00:04:59.9995Z"), "2");
}

// No windows is no error, but a metric the files do not hold at all is
// likely misspelt: stderr says so.
TEST(QueryE2eTest, AMetricTheFilesDoNotHoldIsSaid) {
  const std::string results = TempPath("query_e2e_", "names.ndjson");
  std::ofstream(results) << "{\"metric\":\"turns\",\"start\":\"2026-01-01T00:04:00.000Z\",\"end\":"
                            "\"2026-01-01T00:05:00.000Z\",\"labels\":{},\"value\":1}\n";
  Result typo = Sh(kVigil + " query turn " + results + " 2>&1 >/dev/null");
  EXPECT_EQ(typo.exit_code, 0);
  EXPECT_EQ(typo.out, "vigil: the files hold no window of 'turn'; did you mean 'turns'?\n");
  Result other = Sh(kVigil + " query latency_p95_ms " + results + " 2>&1 >/dev/null");
  EXPECT_EQ(other.out,
            "vigil: the files hold no window of 'latency_p95_ms' (they hold 1 other metrics)\n");
  // Out of range is not that.
  Result range = Sh(kVigil + " query turns --from 2026-02-01T00:00:00Z " + results + " 2>&1");
  EXPECT_EQ(range.out, "no windows of turns in the range\n");
}

TEST(QueryE2eTest, ADirectoryIsNamedInItsError) {
  const std::string dir = TempPath("query_e2e_", "dir");
  std::filesystem::create_directories(dir);
  Result r = Sh(kVigil + " query n " + dir + " 2>&1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "vigil: " + dir + ": read: Is a directory\n");
}

TEST(QueryE2eTest, BadQueriesAreUsageErrors) {
  auto err = [](const std::string& args) {
    Result r = Sh(kVigil + " query " + args + " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << args;
    return r.out.substr(0, r.out.find('\n'));
  };
  EXPECT_EQ(err(""), "vigil: query needs a metric: vigil query METRIC ...");
  EXPECT_EQ(err("m"),
            "vigil: query reads one of --database URL, --url URL or window results files");
  EXPECT_EQ(err("m --labels intent results.ndjson"),
            "vigil: --labels: 'intent' is not NAME=VALUE (e.g. intent=faq,model=haiku)");
  EXPECT_EQ(err("m --from 2026-02-01T00:00:00Z --to 2026-01-01T00:00:00Z r.ndjson"),
            "vigil: --from must be before --to");
  EXPECT_EQ(err("m --database mysql://db/m"),
            "vigil: --database: results URL: a database URL starts with postgresql://");
  // A flag last without its value says so, not what is wrong with "".
  EXPECT_EQ(err("m --database"), "vigil: --database needs a value");
  EXPECT_EQ(err("m --output"), "vigil: --output needs a value");
  const std::string events = TempPath("query_e2e_", "events.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --rate 10 --duration 1m --out " + events).exit_code, 0);
  EXPECT_EQ(err("m " + events),
            "vigil: " + events + " is not a window results file (--results FILE writes one)");
  // A file that cannot be read is no usage error: exit 1, as documented,
  // for query and the reports alike.
  const std::string missing = TempPath("query_e2e_", "missing.ndjson");
  for (const std::string& command :
       {std::string("query m"), std::string("report tracker"), std::string("experiment report"),
        std::string("report escalations --month 2026-01")}) {
    Result r = Sh(StrCat(kVigil, " ", command, " ", missing, " 2>&1"));
    EXPECT_EQ(r.exit_code, 1) << command << r.out;
    EXPECT_EQ(r.out.find(StrCat(missing, ": ", missing)), std::string::npos) << r.out;
    EXPECT_NE(r.out.find(missing), std::string::npos) << r.out;
  }
  // The results file of a run that closed no window is empty: no windows,
  // as the same query of a database that holds none.
  const std::string none = TempPath("query_e2e_", "none.ndjson");
  ASSERT_EQ(Sh(kVigil + " run --input /dev/null --results " + none +
               " --no-console --no-progress --http off 2>/dev/null")
                .exit_code,
            0);
  Result empty = Sh(kVigil + " query m " + none + " 2>&1");
  EXPECT_EQ(empty.exit_code, 0) << empty.out;
  EXPECT_EQ(empty.out, "no windows of m in the range\n");
}

}  // namespace
}  // namespace vigil
