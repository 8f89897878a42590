// `vigil report tracker` on a hand-written quarter with the runbook's
// monthly drift (escalation 12% -> 9% -> 7%, resolution 71% -> 76% -> 81%,
// thumbs up 62% -> 67% -> 72%, conversion 4.1% -> 4.8% -> 5.3%): exactly
// those figures, the target row, met/missed marks and the change from the
// month before; the same table from a replay, from the window results file
// of a job that read the quarter, from a running job, and on the status
// page of a job whose results database holds the quarter.
//
// Under the runbook's definitions (escalation rate: escalated sessions /
// sessions; resolution rate: 1 - escalated / sessions over the sessions
// without an escalation intent) the table's figures need most sessions to
// have asked for a human without reaching one: with 12% of all sessions
// escalated and 29% of those that never asked, at most 41% never asked.
// The quarter below is built that way. A generated quarter (vigil gen
// --month) gives the same table from a replay and from a running job.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>

#include "base/strings.h"
#include "base/time.h"
#include "gtest/gtest.h"
#include "tests/operators/warehouse/postgres_server.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kRules =
    std::string(" --rules ") + VIGIL_SOURCE_DIR + "/deploy/rules/chatbot.yaml";

struct Month {
  const char* start;  // RFC 3339
  int never_asked;    // sessions without an escalation intent (of 1000)
  int escalated_never_asked;
  int escalated_asked;
  int converted;  // of 1000, every session has a recommendation
  int thumbs_up;  // of 100 ratings
};

// 1000 sessions 40 minutes apart, each a recommendation turn, for some an
// escalation-intent turn, an escalation, an add-to-cart; 100 ratings.
void WriteMonth(const Month& m, std::ofstream* out) {
  const TimeMs start = *ParseRfc3339(m.start);
  for (int i = 0; i < 1000; ++i) {
    const TimeMs t = start + i * 40 * 60'000LL;
    const std::string s = StrCat(m.start, "-", i);
    const bool asked = i >= m.never_asked;
    const bool escalated =
        asked ? i - m.never_asked < m.escalated_asked : i < m.escalated_never_asked;
    auto ev = [&](TimeMs ts, const std::string& rest) {
      *out << "{\"ts\":\"" << FormatTimestamp(ts) << "\",\"session_id\":\"" << s << "\"," << rest
           << "}\n";
    };
    ev(t, "\"type\":\"message\",\"intent\":\"recommendation\",\"latency_ms\":700");
    if (asked) ev(t + 30'000, "\"type\":\"message\",\"intent\":\"escalation\",\"latency_ms\":700");
    if (escalated)
      ev(t + 60'000,
         "\"type\":\"escalation\",\"intent\":\"escalation\",\"reason\":\"user_requested\"");
    if (i < m.converted) ev(t + 90'000, "\"type\":\"add_to_cart\"");
    if (i < 100) {
      ev(t + 120'000, StrCat("\"type\":\"feedback\",\"rating\":", i < m.thumbs_up ? 1 : -1));
    }
  }
}

class TrackerReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RemoveTestPaths(Path(""));
    events_ = Path("quarter.ndjson");
    std::ofstream out(events_);
    // Escalated: 116 + 4 = 120 of 1000; resolution 1 - 116/400 = 71%.
    WriteMonth({"2026-01-01T00:00:00Z", 400, 116, 4, 41, 62}, &out);
    // 90 + 0 = 90; 1 - 90/375 = 76%.
    WriteMonth({"2026-02-01T00:00:00Z", 375, 90, 0, 48, 67}, &out);
    // 57 + 13 = 70; 1 - 57/300 = 81%.
    WriteMonth({"2026-03-01T00:00:00Z", 300, 57, 13, 53, 72}, &out);
    // An event in April: March is complete.
    out << "{\"ts\":\"2026-04-01T02:00:00Z\",\"type\":\"heartbeat\"}\n";
  }
  std::string Path(const std::string& name) {
    return TempPath(std::string("tracker_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
  std::string events_;
};

const char kTable[] =
    "Monthly improvement tracker (monthly_improvement)\n"
    "Month     Escalation Rate     Resolution Rate      Thumbs Up            Conversion\n"
    "Target    < 5.0%              > 85.0%              > 75.0%              > 6.0%\n"
    "2026-01   12.0% ✗             71.0% ✗              62.0% ✗              4.1% ✗\n"
    "2026-02   9.0% ✗ (-3.0 pts)   76.0% ✗ (+5.0 pts)   67.0% ✗ (+5.0 pts)   4.8% ✗ (+0.7 pts)\n"
    "2026-03   7.0% ✗ (-2.0 pts)   81.0% ✗ (+5.0 pts)   72.0% ✗ (+5.0 pts)   5.3% ✗ (+0.5 pts)\n";

TEST_F(TrackerReportTest, AReplayPrintsTheRunbooksTable) {
  Result text = Sh(kVigil + " report tracker" + kRules + " " + events_ + " 2>/dev/null");
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_EQ(text.out, kTable);
  Result json =
      Sh(kVigil + " report tracker" + kRules + " --output json " + events_ + " 2>/dev/null");
  EXPECT_NE(json.out.find("{\"month\":\"2026-02\",\"cells\":[{\"value\":0.09,\"met\":false,"
                          "\"change\":-0.03"),
            std::string::npos)
      << json.out;
  Result md =
      Sh(kVigil + " report tracker" + kRules + " --output markdown " + events_ + " 2>/dev/null");
  EXPECT_NE(md.out.find(
                "| Month | Escalation Rate | Resolution Rate | Thumbs Up | Conversion |\n"
                "|---|---|---|---|---|\n"
                "| **Target** | < 5.0% | > 85.0% | > 75.0% | > 6.0% |\n"
                "| 2026-01 | 12.0% ✗ missed | 71.0% ✗ missed | 62.0% ✗ missed | 4.1% ✗ missed |\n"),
            std::string::npos)
      << md.out;
  Result feb =
      Sh(kVigil + " report tracker" + kRules +
         " --from 2026-02-01T00:00:00Z --to 2026-03-01T00:00:00Z " + events_ + " 2>/dev/null");
  // February alone, up to --to; its change from January is not known
  // without January's events. The rates of sessions are partial: a
  // session that began in January is cut at --from (the thumbs-up rate
  // reads events, and is complete).
  EXPECT_NE(feb.out.find("2026-02   9.0%* ✗           76.0%* ✗          67.0% ✗     4.8%* ✗\n"),
            std::string::npos)
      << feb.out;
  EXPECT_EQ(feb.out.find("2026-01"), std::string::npos) << feb.out;
}

// A month the replay covers only in part is marked `*`: one that starts
// before --from (its first half skipped), and the last month of data that
// ends before --to (--to past the data covers nothing more).
TEST_F(TrackerReportTest, MonthsTheReplayCoversInPartAreMarked) {
  Result mid =
      Sh(kVigil + " report tracker" + kRules +
         " --from 2026-02-15T00:00:00Z --to 2026-03-01T00:00:00Z " + events_ + " 2>/dev/null");
  ASSERT_EQ(mid.exit_code, 0);
  EXPECT_NE(mid.out.find("\n2026-02   "), std::string::npos) << mid.out;
  EXPECT_NE(mid.out.find("* the data covers only part of the month"), std::string::npos) << mid.out;
  const std::string two = Path("two-months.ndjson");
  {
    std::ofstream out(two);
    WriteMonth({"2026-01-01T00:00:00Z", 400, 116, 4, 41, 62}, &out);
    WriteMonth({"2026-02-01T00:00:00Z", 375, 90, 0, 48, 67}, &out);
  }
  // The last session starts on Feb 28 at 18:00: February is not complete,
  // however far --to goes.
  Result past = Sh(kVigil + " report tracker" + kRules + " --to 2027-01-01T00:00:00Z " + two +
                   " 2>/dev/null");
  ASSERT_EQ(past.exit_code, 0);
  EXPECT_NE(past.out.find("\n2026-02   9.0%* ✗"), std::string::npos) << past.out;
  EXPECT_NE(past.out.find("\n2026-01   12.0% ✗"), std::string::npos) << past.out;
  // The page for readers outside the team says what the mark means too.
  Result html = Sh(kVigil + " report tracker --output html" + kRules +
                   " --to 2027-01-01T00:00:00Z " + two + " 2>/dev/null");
  EXPECT_NE(html.out.find("9.0%* ✗"), std::string::npos) << html.out;
  EXPECT_NE(html.out.find("<p>* the data covers only part of the month</p>"), std::string::npos)
      << html.out;
}

// A month without data is a row of "-", and the month after it has no
// change: the month before it is unknown, not the last one shown.
TEST_F(TrackerReportTest, AMonthWithoutDataIsShownAndBreaksTheChange) {
  const std::string gap = Path("gap.ndjson");
  {
    std::ofstream out(gap);
    WriteMonth({"2026-01-01T00:00:00Z", 400, 116, 4, 41, 62}, &out);
    WriteMonth({"2026-03-01T00:00:00Z", 300, 57, 13, 53, 72}, &out);
    out << "{\"ts\":\"2026-04-01T02:00:00Z\",\"type\":\"heartbeat\"}\n";
  }
  Result text = Sh(kVigil + " report tracker" + kRules + " " + gap + " 2>/dev/null");
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("\n2026-01   12.0% ✗           71.0% ✗           62.0% ✗     4.1% ✗\n"
                          "2026-02   -                 -                 -           -\n"
                          "2026-03   7.0% ✗            81.0% ✗           72.0% ✗     5.3% ✗\n"),
            std::string::npos)
      << text.out;
  Result json = Sh(kVigil + " report tracker" + kRules + " --output json " + gap + " 2>/dev/null");
  EXPECT_NE(json.out.find("{\"month\":\"2026-03\",\"cells\":[{\"value\":0.07,\"met\":false,"
                          "\"change\":null"),
            std::string::npos)
      << json.out;
}

// The window results file of a job that read the quarter gives the same
// table, without the events; a file that mixes in events, or an event file
// beside a results file, is refused.
TEST_F(TrackerReportTest, AWindowResultsFilePrintsTheSameTable) {
  const std::string results = Path("results.ndjson");
  ASSERT_EQ(Sh(kVigil + " run" + kRules + " --input " + events_ + " --results " + results +
               " --no-console --http off --no-progress 2>/dev/null")
                .exit_code,
            0);
  // A restarted job writes windows again; the later line counts, and a
  // line that is no window result is skipped and counted.
  ASSERT_EQ(Sh("head -n 50 " + results + " >> " + results + " && echo '{\"ts\":1}' >> " + results)
                .exit_code,
            0);
  Result text = Sh(kVigil + " report tracker" + kRules + " " + results + " 2>" + Path("err"));
  ASSERT_EQ(text.exit_code, 0) << ReadFile(Path("err"));
  EXPECT_EQ(text.out, kTable);
  EXPECT_EQ(ReadFile(Path("err")), "vigil: skipped 1 lines that are not window results\n");
  Result feb =
      Sh(kVigil + " report tracker" + kRules +
         " --from 2026-02-01T00:00:00Z --to 2026-03-01T00:00:00Z " + results + " 2>/dev/null");
  // February alone; the file holds January, so its change is known.
  EXPECT_NE(feb.out.find("\n2026-02   9.0% ✗ (-3.0 pts)   76.0% ✗ (+5.0 pts)   67.0% ✗ (+5.0 pts)"
                         "   4.8% ✗ (+0.7 pts)\n"),
            std::string::npos)
      << feb.out;
  EXPECT_EQ(feb.out.find("2026-01"), std::string::npos) << feb.out;
  EXPECT_EQ(feb.out.find("2026-03"), std::string::npos) << feb.out;

  Result both = Sh(kVigil + " report tracker " + results + " " + events_ + " 2>&1");
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.out.find("report tracker reads event files or window results files, not both: " +
                          results + " holds window results, " + events_ + " does not"),
            std::string::npos)
      << both.out;
  Result missing = Sh(kVigil + " report tracker " + Path("nope.ndjson") + " 2>&1");
  EXPECT_EQ(missing.exit_code, 1);  // an input that cannot be read, not a usage error
  EXPECT_NE(missing.out.find(Path("nope.ndjson") + ": "), std::string::npos) << missing.out;
  // A running job shows its own rules: --rules would be ignored.
  Result url = Sh(kVigil + " report tracker --url http://127.0.0.1:1" + kRules + " 2>&1");
  EXPECT_EQ(url.exit_code, 2);
  EXPECT_NE(url.out.find("report tracker --url shows the rules of the job it asks; --rules is for "
                         "files"),
            std::string::npos)
      << url.out;
}

// Counts are printed in full, their digits grouped, and so are their
// changes: a monthly count of a million does not lose its last digits.
TEST_F(TrackerReportTest, CountsArePrintedInFull) {
  const std::string rules = Path("rules.yaml"), results = Path("results.ndjson");
  std::ofstream(rules) << "metrics:\n"
                          "  - metric: turns_monthly\n"
                          "    window: calendar month\n"
                          "    value: count()\n"
                          "    target: \">= 1000\"\n"
                          "trackers:\n"
                          "  - tracker: volume\n"
                          "    metrics: [turns_monthly]\n";
  {
    std::ofstream out(results);
    const char* months[] = {"2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01"};
    const char* values[] = {"999", "12345", "1234567"};
    for (int i = 0; i < 3; ++i) {
      out << "{\"metric\":\"turns_monthly\",\"start\":\"" << months[i]
          << "T00:00:00.000Z\",\"end\":\"" << months[i + 1]
          << "T00:00:00.000Z\",\"labels\":{},\"value\":" << values[i] << "}\n";
    }
  }
  Result text = Sh(kVigil + " report tracker --rules " + rules + " " + results + " 2>/dev/null");
  ASSERT_EQ(text.exit_code, 0) << text.out;
  EXPECT_NE(text.out.find("\n2026-01   999 ✗\n"
                          "2026-02   12,345 ✓ (+11,346)\n"
                          "2026-03   1,234,567 ✓ (+1,222,222)\n"),
            std::string::npos)
      << text.out;
  Result md = Sh(kVigil + " report tracker --output markdown --rules " + rules + " " + results +
                 " 2>/dev/null");
  EXPECT_NE(md.out.find("| 2026-03 | 1,234,567 ✓ met (+1,222,222) |"), std::string::npos) << md.out;
}

// Runs a job on `events` fed through a FIFO held open, so that it keeps
// running with its last month open, and waits up to `seconds` for vigil
// report tracker --url to print kTable; then calls `more` with the job's
// URL, stops the writer and expects the job to exit 0. `path` names the
// test's files.
void ExpectLiveTable(const std::string& events, const std::function<std::string(const char*)>& path,
                     int seconds, const std::function<void(const std::string& url)>& more) {
  const std::string fifo = path("fifo");
  std::remove(fifo.c_str());
  ASSERT_EQ(Sh("mkfifo " + fifo).exit_code, 0);
  const std::string log = path("run.log");
  const pid_t job = Spawn(kVigil + " run" + kRules + " --input " + fifo +
                              " --no-console --no-progress --http 127.0.0.1:0",
                          log);
  ChildGuard job_guard(job);
  // The writer holds the FIFO open until it is killed (exec: the pid is the
  // sleep's), and the job's input then ends.
  const pid_t writer = Spawn("sh -c 'exec 3>" + fifo + "; cat " + events + " >&3; exec sleep 60'",
                             path("writer.log"));
  ChildGuard writer_guard(writer);
  const std::string url = JobHttpBase(log);
  ASSERT_FALSE(url.empty()) << ReadFile(log);
  Result live;
  EXPECT_TRUE(WaitFor(
      [&] {
        live = Sh(kVigil + " report tracker --url " + url);
        return live.exit_code == 0 && live.out == kTable;
      },
      seconds))
      << live.exit_code << ": " << live.out;
  more(url);
  ::kill(writer, SIGTERM);
  WaitExit(writer);
  EXPECT_EQ(WaitExit(job), 0) << ReadFile(log);
}

TEST_F(TrackerReportTest, ARunningJobPrintsTheSameTable) {
  // The April event closes March.
  ExpectLiveTable(
      events_, [this](const char* name) { return Path(name); }, 30,
      [this](const std::string& url) {
        // The status page shows the same table.
        if (Sh("command -v chromium >/dev/null").exit_code == 0) {
          const std::string profile = Path("chromium-profile");
          Result dom =
              Sh("timeout 120 chromium --headless --disable-gpu --no-sandbox "
                 "--disable-dev-shm-usage --no-first-run --user-data-dir=" +
                 profile + " --virtual-time-budget=3000 --dump-dom " + url + " 2>" +
                 Path("chromium.log"));
          EXPECT_NE(dom.out.find("<th>Target</th><th>&lt; 5.0%</th><th>&gt; 85.0%</th>"),
                    std::string::npos)
              << dom.out;
          EXPECT_NE(
              dom.out.find("<tr data-month=\"2026-02\"><td>2026-02</td><td class=\"missed\">9.0% "
                           "✗ (-3.0 pts)</td><td class=\"missed\">76.0% ✗ (+5.0 pts)</td>"),
              std::string::npos)
              << dom.out;
        } else {
          ADD_FAILURE() << "chromium is missing: run scripts/setup.sh (Debian package chromium)";
        }
      });
}

// A job with a results database shows, on its status page and to vigil
// report tracker --url, the months the database holds: this one has read
// no event, an earlier replay of the quarter wrote them.
TEST_F(TrackerReportTest, AJobWithAResultsDatabaseShowsTheStoredMonths) {
  if (Sh("command -v chromium >/dev/null").exit_code != 0) {
    GTEST_FAIL() << "chromium is missing: run scripts/setup.sh (Debian package chromium)";
  }
  std::string why;
  std::unique_ptr<PostgresServer> pg = PostgresServer::Create(Path("pg"), &why);
  ASSERT_TRUE(pg) << why;
  ASSERT_EQ(Sh(kVigil + " run" + kRules + " --input " + events_ + " --results '" + pg->url() +
               "' --no-console --http off --no-progress 2>/dev/null")
                .exit_code,
            0);
  const std::string fifo = Path("idle");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int writer = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);  // writes nothing
  ASSERT_GE(writer, 0);
  const std::string log = Path("run.log");
  const pid_t job = Spawn(kVigil + " run" + kRules + " --input " + fifo + " --results '" +
                              pg->url() + "' --no-console --http 127.0.0.1:0",
                          log);
  ChildGuard guard(job);
  const std::string url = JobHttpBase(log);
  ASSERT_FALSE(url.empty()) << ReadFile(log);
  Result dom =
      Sh("timeout 120 chromium --headless --disable-gpu --no-sandbox "
         "--disable-dev-shm-usage --no-first-run --user-data-dir=" +
         Path("chromium-profile") + " --virtual-time-budget=3000 --dump-dom " + url + " 2>" +
         Path("chromium.log"));
  for (const char* row :
       {"<tr data-month=\"2026-01\"><td>2026-01</td><td class=\"missed\">12.0% ✗</td>",
        "<tr data-month=\"2026-02\"><td>2026-02</td><td class=\"missed\">9.0% ✗ (-3.0 pts)</td>"
        "<td class=\"missed\">76.0% ✗ (+5.0 pts)</td>",
        "<tr data-month=\"2026-03\"><td>2026-03</td><td class=\"missed\">7.0% ✗ (-2.0 pts)</td>"}) {
    EXPECT_NE(dom.out.find(row), std::string::npos) << row << "\n" << dom.out;
  }
  // So does vigil report tracker --url.
  Result live = Sh(kVigil + " report tracker --url " + url);
  EXPECT_EQ(live.exit_code, 0);
  EXPECT_EQ(live.out, kTable);
  ::close(writer);
}

// vigil gen --month: a generated quarter with the runbook's monthly drift
// prints the runbook's table, from a replay and from a running job.
class TrackerGeneratedTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    events_ = new std::string(TempPath("tracker_generated_", "quarter.ndjson"));
    // Three months and a day: April's row is partial.
    gen_ =
        new Result(Sh(kVigil + " gen --start 2026-01-01T00:00:00Z --duration 91d --rate 0.05 " +
                      "--month escalation=12%,resolution=71%,thumbs_up=62%,conversion=4.1% " +
                      "--month escalation=9%,resolution=76%,thumbs_up=67%,conversion=4.8% " +
                      "--month escalation=7%,resolution=81%,thumbs_up=72%,conversion=5.3% --out " +
                      *events_ + " 2>&1"));
  }
  static void TearDownTestSuite() {
    std::remove(events_->c_str());
    delete events_;
    delete gen_;
  }
  static std::string* events_;
  static Result* gen_;
};
std::string* TrackerGeneratedTest::events_ = nullptr;
Result* TrackerGeneratedTest::gen_ = nullptr;

// The table with each run of spaces made one: the partial April row widens
// the columns.
std::string Squeezed(const std::string& table) {
  std::string out;
  for (char c : table) {
    if (c != ' ' || out.empty() || out.back() != ' ') out += c;
  }
  return out;
}

TEST_F(TrackerGeneratedTest, AReplayPrintsTheRunbooksTable) {
  ASSERT_EQ(gen_->exit_code, 0) << gen_->out;
  Result text = Sh(kVigil + " report tracker" + kRules + " " + *events_ + " 2>/dev/null");
  ASSERT_EQ(text.exit_code, 0);
  const std::string table = Squeezed(text.out);
  const std::string want = Squeezed(kTable);
  ASSERT_EQ(table.substr(0, want.size()), want) << text.out;
  // April, one day of it, is marked partial, and so explained.
  const std::string rest = table.substr(want.size());
  EXPECT_EQ(rest.rfind("2026-04 ", 0), 0u) << rest;
  EXPECT_EQ(std::count(rest.begin(), rest.end(), '*'), 5) << rest;
  EXPECT_NE(rest.find("\n* the data covers only part of the month\n"), std::string::npos) << rest;
  // April's thumbs-up share is 0.02 pts below March's: a change that rounds
  // to nothing reads +0.0, not -0.0.
  EXPECT_NE(rest.find(" 72.0%* ✗ (+0.0 pts) "), std::string::npos) << rest;
}

TEST_F(TrackerGeneratedTest, ARunningJobPrintsTheSameTable) {
  ASSERT_EQ(gen_->exit_code, 0) << gen_->out;
  // April stays open while the job runs: it has no row.
  ExpectLiveTable(
      *events_, [](const char* name) { return TempPath("tracker_generated_", name); }, 60,
      [](const std::string&) {});
}

TEST_F(TrackerGeneratedTest, AMonthItCannotMeetIsRefused) {
  Result r = Sh(kVigil + " gen --duration 1m --month escalation=12% 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("--month: month 'escalation=12%': escalation and resolution go together"),
            std::string::npos)
      << r.out;
  r = Sh(kVigil + " gen --duration 1m --month thumbs_up=7.5 2>&1");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("thumbs_up '7.5' is not a share such as 12% or 0.12"), std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace vigil
