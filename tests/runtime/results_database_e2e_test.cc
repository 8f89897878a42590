// Window results into PostgreSQL end to end with the binary (`--results
// postgresql://…`, a server the test starts on loopback): the table equals
// the NDJSON results file of the same run row for row (from a file with
// the default workers, and from stdin with three), and the alert transitions are
// those the console printed; a second replay of the same
// input and a job killed with SIGKILL and restarted from its checkpoint
// leave no duplicate and lose nothing; the server stopped for 20 s mid-run,
// then started again, loses nothing; a wrong password stops the start
// with a clear message that does not show it.
#include <fcntl.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "runtime/window_results_file.h"
#include "tests/operators/warehouse/postgres_server.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kQuiet = " --output json --no-progress";

std::string Row(const std::string& metric, std::vector<std::pair<std::string, std::string>> labels,
                long long start, long long end, double value, bool partial) {
  std::sort(labels.begin(), labels.end());
  std::string l;
  for (const auto& [k, v] : labels) StrAppend(&l, l.empty() ? "" : ",", k, "=", v);
  char v[40];
  std::snprintf(v, sizeof v, "%.17g", value);
  return StrCat(metric, "|", l, "|", start, "|", end, "|", v, "|", partial ? "t" : "f");
}

// The windows of a results file, one row each (a window written twice
// counts once, by its later line), sorted.
std::vector<std::string> FileRows(const std::string& path) {
  std::map<std::string, std::string> by_key;
  uint64_t bad = 0;
  EXPECT_TRUE(ReadWindowResults(
                  path,
                  [&](const StoredWindow& w) {
                    std::string row = Row(w.metric, w.labels, w.start, w.end, w.value, w.partial);
                    by_key[row.substr(0, row.rfind('|', row.rfind('|') - 1))] = row;
                  },
                  &bad)
                  .ok());
  EXPECT_EQ(bad, 0u);
  std::vector<std::string> out;
  for (auto& [k, row] : by_key) out.push_back(row);
  return out;
}

std::vector<std::string> DbRows(const PostgresServer& pg) {
  const std::string text = pg.Psql(
      "SELECT metric, COALESCE((SELECT string_agg(key || '=' || value, ',' ORDER BY key) FROM "
      "jsonb_each_text(labels)), ''), (extract(epoch FROM window_start) * 1000)::bigint, "
      "(extract(epoch FROM window_end) * 1000)::bigint, value, partial FROM vigil_windows");
  std::vector<std::string> out;
  for (const std::string& line : Lines(text)) {
    std::vector<std::string_view> f = StrSplit(line, '|');
    if (f.size() != 6) {
      ADD_FAILURE() << line;
      continue;
    }
    std::vector<std::pair<std::string, std::string>> labels;
    for (std::string_view kv : StrSplit(f[1], ',')) {
      if (kv.empty()) continue;
      const size_t eq = kv.find('=');
      labels.emplace_back(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
    out.push_back(Row(std::string(f[0]), labels, std::atoll(std::string(f[2]).c_str()),
                      std::atoll(std::string(f[3]).c_str()),
                      f[4].empty() ? std::nan("") : std::strtod(std::string(f[4]).c_str(), nullptr),
                      f[5] == "t"));
  }
  std::sort(out.begin(), out.end());
  return out;
}

class ResultsDatabaseE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RemoveTestPaths(Path(""));
    std::string why;
    pg_ = PostgresServer::Create(Path("pg"), &why);
    ASSERT_TRUE(pg_) << why;
    events_ = Path("events.ndjson");
    ASSERT_EQ(Sh(kVigil +
                 " gen --rate 20 --duration 30m --seed 5 "
                 "--incident latency_spike@5m+10m --out " +
                 events_)
                  .exit_code,
              0);
    lines_ = Lines(ReadFile(events_));
    ASSERT_EQ(lines_.size(), 36000u);
  }
  std::string Path(const std::string& name) {
    return TempPath(std::string("resultsdb_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
  // The results file of one uninterrupted run over the events ("" if it
  // failed).
  std::string CleanResults() {
    const std::string clean = Path("clean.ndjson");
    Result r = Sh(kVigil + " run --input " + events_ + " --results " + clean + kQuiet +
                  " --http off 2>/dev/null");
    EXPECT_EQ(r.exit_code, 0);
    return r.exit_code == 0 ? clean : "";
  }
  size_t AlertTransitions(const std::string& console) {
    size_t n = 0;
    for (const std::string& l : Lines(console)) n += l.find("\"alert\":") != std::string::npos;
    return n;
  }
  std::unique_ptr<PostgresServer> pg_;
  std::string events_;
  std::vector<std::string> lines_;
};

TEST_F(ResultsDatabaseE2eTest, AReplayEqualsTheResultsFileRowForRowAndASecondAddsNothing) {
  const std::string results = Path("results.ndjson");
  Result r = Sh(kVigil + " run --input " + events_ + " --results " + results + " --results '" +
                pg_->url() + "'" + kQuiet + " --http off 2>" + Path("log"));
  ASSERT_EQ(r.exit_code, 0) << ReadFile(Path("log"));
  const std::vector<std::string> want = FileRows(results);
  EXPECT_GT(want.size(), 500u);
  EXPECT_EQ(DbRows(*pg_), want);
  const size_t transitions = AlertTransitions(r.out);
  EXPECT_GE(transitions, 4u);
  EXPECT_EQ(pg_->Psql("SELECT count(*) FROM vigil_alerts"), StrCat(transitions, "\n"));
  EXPECT_EQ(pg_->Psql("SELECT count(DISTINCT rules_fingerprint), min(length(rules_fingerprint)) "
                      "FROM vigil_windows"),
            "1|16\n");
  EXPECT_EQ(pg_->Psql("SELECT alert, state FROM vigil_alerts WHERE state = 'firing' ORDER BY at "
                      "LIMIT 1"),
            "LatencyP99Critical|firing\n");

  // The same input again, into the same tables.
  Result again = Sh(kVigil + " run --input " + events_ + " --results '" + pg_->url() + "'" +
                    kQuiet + " --http off 2>" + Path("log2"));
  ASSERT_EQ(again.exit_code, 0) << ReadFile(Path("log2"));
  EXPECT_EQ(DbRows(*pg_), want);
  EXPECT_EQ(pg_->Psql("SELECT count(*) FROM vigil_alerts"), StrCat(transitions, "\n"));

  // Into empty tables from stdin with three workers: the same rows.
  pg_->Psql("DROP TABLE vigil_windows, vigil_alerts");
  Result workers = Sh("cat " + events_ + " | " + kVigil + " run --workers 3 --input - --results '" +
                      pg_->url() + "'" + kQuiet + " --http off 2>" + Path("log3"));
  ASSERT_EQ(workers.exit_code, 0) << ReadFile(Path("log3"));
  EXPECT_EQ(DbRows(*pg_), want);
  EXPECT_EQ(pg_->Psql("SELECT count(*) FROM vigil_alerts"), StrCat(transitions, "\n"));
}

// As in file_checkpoint_e2e_test.cc: the input through a named pipe, the
// job killed with SIGKILL after a checkpoint, restarted on the whole file.
TEST_F(ResultsDatabaseE2eTest, AJobKilledAndRestartedFromItsCheckpointLosesAndRepeatsNothing) {
  const std::string clean = CleanResults();
  ASSERT_FALSE(clean.empty());
  const std::string input = Path("input.ndjson"), ckpt = Path("ckpt");
  ASSERT_EQ(::mkfifo(input.c_str(), 0600), 0);
  const std::string flags =
      " --checkpoint-dir " + ckpt + " --results '" + pg_->url() + "'" + kQuiet + " --http off";
  const pid_t job = Spawn(kVigil + " run --input " + input + " --checkpoint-interval 20ms" + flags,
                          Path("run1.log"));
  {
    std::ofstream pipe(input);
    for (size_t i = 0; i < 20000; ++i) pipe << lines_[i] << '\n';
    pipe.flush();
    ::usleep(1'500'000);
    ::kill(job, SIGKILL);
    EXPECT_EQ(WaitExit(job), -SIGKILL);
  }
  ::unlink(input.c_str());
  const std::string before = pg_->Psql("SELECT count(*) FROM vigil_windows");
  EXPECT_GT(std::atoi(before.c_str()), 100) << ReadFile(Path("run1.log"));
  ASSERT_EQ(Sh("cp " + events_ + " " + input).exit_code, 0);
  Result r = Sh(kVigil + " run --input " + input + flags + " 2>" + Path("run2.log"));
  ASSERT_EQ(r.exit_code, 0) << ReadFile(Path("run2.log"));
  EXPECT_NE(ReadFile(Path("run2.log")).find("vigil: restored checkpoint"), std::string::npos);
  EXPECT_EQ(DbRows(*pg_), FileRows(clean));
}

TEST_F(ResultsDatabaseE2eTest, TheServerStoppedFor20SecondsMidRunLosesNothing) {
  const std::string clean = CleanResults();
  ASSERT_FALSE(clean.empty());
  const std::string input = Path("input.ndjson"), log = Path("run.log");
  ASSERT_EQ(::mkfifo(input.c_str(), 0600), 0);
  const pid_t job = Spawn(kVigil + " run --input " + input + " --checkpoint-dir " + Path("ckpt") +
                              " --checkpoint-interval 20ms --results '" + pg_->url() + "'" +
                              kQuiet + " --no-console --http 127.0.0.1:0",
                          log);
  ChildGuard guard(job);
  {
    // Close-on-exec: the server the test starts again must not inherit the
    // pipe's write end, or the job would never see its input end.
    const int fd = ::open(input.c_str(), O_WRONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::fdopen(fd, "w"), &std::fclose);
    auto write_lines = [&](size_t from, size_t to) {
      for (size_t i = from; i < to; ++i) std::fprintf(pipe.get(), "%s\n", lines_[i].c_str());
      std::fflush(pipe.get());
    };
    write_lines(0, 12000);
    const std::string base = JobHttpBase(log);
    ASSERT_FALSE(base.empty()) << ReadFile(log);
    ASSERT_TRUE(WaitFor(
        [&] { return std::atoi(pg_->Psql("SELECT count(*) FROM vigil_windows").c_str()) > 50; },
        20))
        << ReadFile(log);
    pg_->Stop();
    write_lines(12000, lines_.size());
    // Windows close and checkpoints pass while the server is away.
    double failed = 0;
    EXPECT_TRUE(WaitFor(
        [&] {
          failed = MetricValue(HttpGet(base, "/metrics").second,
                               "vigil_results_database_transactions_total{result=\"failed\"}");
          return failed >= 1;
        },
        20))
        << failed;
    ::sleep(20);
    EXPECT_GT(MetricValue(HttpGet(base, "/metrics").second, "vigil_results_database_queued_rows"),
              0);
    const bool started = pg_->Start();
    pipe.reset();  // the input ends
    ASSERT_TRUE(started) << pg_->Log();
  }
  EXPECT_EQ(WaitExit(job), 0) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("vigil: results database postgresql://vigil:***@127.0.0.1:"),
            std::string::npos)
      << ReadFile(log);
  EXPECT_EQ(ReadFile(log).find(PostgresServer::kPassword), std::string::npos);
  EXPECT_EQ(DbRows(*pg_), FileRows(clean));
}

// deploy/grafana/vigil-history.json reads the tables with the PostgreSQL
// data source: each panel's SQL, its Grafana macros expanded as Grafana
// does, runs on the tables a replay wrote, and the panels of 5-minute
// metrics and of alerts show rows.
TEST_F(ResultsDatabaseE2eTest, TheHistoryDashboardsQueriesRunOnTheTables) {
  ASSERT_EQ(Sh(kVigil + " run --input " + events_ + " --results '" + pg_->url() + "'" + kQuiet +
               " --http off >/dev/null 2>&1")
                .exit_code,
            0);
  simdjson::dom::parser parser;
  simdjson::dom::element dash;
  ASSERT_EQ(
      parser.load(std::string(VIGIL_SOURCE_DIR) + "/deploy/grafana/vigil-history.json").get(dash),
      simdjson::SUCCESS);
  std::map<std::string, std::string> rows_by_title;
  for (simdjson::dom::element p : dash["panels"].get_array()) {
    std::string_view type, title;
    ASSERT_EQ(p["type"].get(type), simdjson::SUCCESS);
    if (type == "row") continue;
    ASSERT_EQ(p["title"].get(title), simdjson::SUCCESS);
    for (simdjson::dom::element t : p["targets"].get_array()) {
      std::string_view raw, uid;
      ASSERT_EQ(t["rawSql"].get(raw), simdjson::SUCCESS) << title;
      ASSERT_EQ(t["datasource"]["uid"].get(uid), simdjson::SUCCESS) << title;
      EXPECT_EQ(uid, "${DS_POSTGRES}") << title;
      std::string sql(raw);
      // $__timeFilter(c) and $__timeGroupAlias(c, 1d), as Grafana expands them.
      const std::regex filter(R"(\$__timeFilter\((\w+)\))"),
          group(R"(\$__timeGroupAlias\((\w+), 1d\))");
      sql = std::regex_replace(sql, filter,
                               "$1 BETWEEN '2000-01-01T00:00:00Z' AND '2100-01-01T00:00:00Z'");
      sql = std::regex_replace(
          sql, group, "to_timestamp(floor(extract(epoch FROM $1) / 86400) * 86400) AS \"time\"");
      EXPECT_EQ(sql.find("$__"), std::string::npos) << sql;
      const std::string out = pg_->Psql(sql);
      EXPECT_EQ(out.find("ERROR"), std::string::npos) << title << ": " << out;
      rows_by_title[std::string(title)] = out;
    }
  }
  for (const char* title : {"Latency p50 / p95 / p99 (ms)", "Error, escalation and guardrail rates",
                            "Messages by intent (per 5 minutes)", "Alert transitions",
                            "Firing transitions per day by severity"}) {
    EXPECT_GT(Lines(rows_by_title[title]).size(), 0u) << title;
  }
  EXPECT_EQ(rows_by_title.size(), 9u);
}

TEST_F(ResultsDatabaseE2eTest, AWrongPasswordStopsTheStartWithoutShowingIt) {
  Result r = Sh(kVigil + " run --input " + events_ + " --results '" + pg_->url("wr0ng-pw") +
                "' --http off 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("results database postgresql://vigil:***@127.0.0.1:"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("password authentication failed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("wr0ng-pw"), std::string::npos) << r.out;
  Result bad = Sh(kVigil + " run --results 'postgresql://h/db?dialect=oracle' 2>&1");
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.out.find("results URL: dialect=oracle: the dialects are postgresql and redshift"),
            std::string::npos)
      << bad.out;
}

}  // namespace
}  // namespace vigil
