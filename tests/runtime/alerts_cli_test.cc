// `vigil alerts` against a running `vigil run`, and against nothing.
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>

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

const std::string kVigil = VIGIL_BINARY;

class AlertsCliTest : public ::testing::Test {
 protected:
  void SetUp() override { RemoveTestPaths(Path("")); }
  std::string Path(const std::string& name) {
    return TempPath(std::string("alerts_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
  // Starts a job on ten hours of slow replies at 600x, with `flags`:
  // LatencyP99Critical fires about half a second in and stays firing for a
  // minute of wall time. Returns its HTTP base URL ("" if it did not say).
  std::string StartSlowJob(const std::string& flags) {
    job_ = Spawn(kVigil +
                     " run --generator --speed 600 --rate 20 "
                     "--incident latency_spike@1m+600m --no-console --http 127.0.0.1:0 " +
                     flags,
                 Path("run.log"));
    return JobHttpBase(Path("run.log"));
  }
  // What `vigil alerts` printed once it showed a row matching `row`.
  Result WaitForRow(const std::string& url, const std::regex& row) {
    Result text;
    EXPECT_TRUE(WaitFor(
        [&] {
          text = Sh(kVigil + " alerts --url " + url + " 2>&1");
          return text.exit_code == 0 && std::regex_search(text.out, row);
        },
        30))
        << text.exit_code << ": " << text.out;
    return text;
  }
  void StopJob() {
    ::kill(job_, SIGTERM);
    EXPECT_EQ(WaitExit(job_), 0) << ReadFile(Path("run.log"));
  }
  pid_t job_ = -1;
};

TEST_F(AlertsCliTest, ShowsTheAlertsOfARunningJob) {
  const std::string url = StartSlowJob("");
  ChildGuard job_guard(job_);
  ASSERT_FALSE(url.empty()) << ReadFile(Path("run.log"));

  // One table row: state, severity, alert, value, since, notified, labels,
  // summary.
  const std::regex row(
      "firing +P1 +LatencyP99Critical +[0-9.e+]+ +\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z +yes +\\{\\} +"
      "p99 latency \\d+ ms above 10 s for 5 minutes");
  Result text = WaitForRow(url, row);
  EXPECT_EQ(text.out.rfind("STATE", 0), 0u) << text.out;
  for (const char* column :
       {"SEVERITY", "ALERT", "VALUE", "SINCE", "NOTIFIED", "LABELS", "SUMMARY"}) {
    EXPECT_NE(Lines(text.out)[0].find(column), std::string::npos) << text.out;
  }

  Result json = Sh(kVigil + " alerts --url " + url + "/ --output json");
  ASSERT_EQ(json.exit_code, 0) << json.out;
  simdjson::dom::parser parser;
  simdjson::dom::array alerts;
  ASSERT_EQ(parser.parse(json.out).get(alerts), simdjson::SUCCESS) << json.out;
  bool found = false;
  for (simdjson::dom::element a : alerts) {
    std::string_view name, state;
    if (a["alert"].get(name) == simdjson::SUCCESS && name == "LatencyP99Critical" &&
        a["state"].get(state) == simdjson::SUCCESS && state == "firing") {
      found = true;
    }
  }
  EXPECT_TRUE(found) << json.out;

  StopJob();
}

// An alert a silence holds back says so in the table, as in the JSON.
TEST_F(AlertsCliTest, ASilencedAlertIsShownNotNotified) {
  const std::string silence = Path("silence.yaml");
  std::ofstream(silence)
      << ("silences:\n"
          "  - silence: upgrade\n"
          "    matchers: ['alertname=\"LatencyP99Critical\"']\n"
          "    starts_at: 2000-01-01T00:00:00Z\n"
          "    ends_at: 2100-01-01T00:00:00Z\n");
  const std::string url = StartSlowJob("--rules " + std::string(VIGIL_SOURCE_DIR) +
                                       "/deploy/rules/chatbot.yaml --rules " + silence);
  ChildGuard job_guard(job_);
  ASSERT_FALSE(url.empty()) << ReadFile(Path("run.log"));
  const std::regex row(
      "firing +P1 +LatencyP99Critical +[0-9.e+]+ +\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z +"
      "no: silenced by upgrade +\\{\\} +p99 latency");
  Result text = WaitForRow(url, row);
  Result json = Sh(kVigil + " alerts --url " + url + " --output json");
  EXPECT_NE(json.out.find("\"notify\":false"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"silenced_by\":\"upgrade\""), std::string::npos) << json.out;
  StopJob();
}

// A summary made of an event's field values stays on its row: a line
// break and an escape sequence in it are shown escaped, as the console
// shows them, and columns after wide characters still line up.
TEST_F(AlertsCliTest, ASummaryIsOneRowWithoutControlCharacters) {
  const std::string rules = Path("rules.yaml"), fifo = Path("in.fifo");
  std::ofstream(rules) << "metrics:\n  - metric: msgs\n    where: type == \"message\"\n"
                          "    window: tumbling 1m\n    by: [intent]\n    value: count()\n"
                          "alerts:\n  - alert: Many\n    severity: P3\n    expr: msgs > 0\n"
                          "    annotations:\n      summary: 'intent {{ $labels.intent }} has "
                          "{{ $value }}'\n";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  job_ = Spawn(kVigil + " run --input " + fifo + " --rules " + rules +
                   " --no-console --http 127.0.0.1:0 --max-out-of-orderness 0s",
               Path("run.log"));
  ChildGuard job_guard(job_);
  std::ofstream in(fifo);  // held open: the job runs on
  in << R"({"ts":"2026-01-01T00:00:01Z","type":"message","intent":"x\ny"})"
     << "\n"
     << R"({"ts":"2026-01-01T00:00:02Z","type":"message","intent":"e\u001b[31mR"})"
     << "\n"
     << R"({"ts":"2026-01-01T00:00:03Z","type":"message","intent":"\u00fc\u20ac"})"
     << "\n"
     << R"({"ts":"2026-01-01T00:01:00Z","type":"message","intent":"z"})"
     << "\n";
  in.flush();
  const std::string url = JobHttpBase(Path("run.log"));
  ASSERT_FALSE(url.empty()) << ReadFile(Path("run.log"));
  Result text = WaitForRow(url, std::regex("intent x\\\\ny has 1"));
  const std::vector<std::string> lines = Lines(text.out);
  ASSERT_EQ(lines.size(), 4u) << text.out;  // the header and one row per alert
  EXPECT_EQ(text.out.find('\x1b'), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("intent e\\u001b[31mR has 1"), std::string::npos) << text.out;
  // The SUMMARY column starts at the same character on every row.
  std::vector<size_t> at;
  for (const std::string& line : lines) {
    const size_t byte = line.find(line == lines[0] ? "SUMMARY" : "intent ");
    ASSERT_NE(byte, std::string::npos) << line;
    at.push_back(Utf8Length(std::string_view(line).substr(0, byte)));
  }
  EXPECT_EQ(at, std::vector<size_t>(4, at[0])) << text.out;
  in.close();
  StopJob();
}

TEST_F(AlertsCliTest, AnUnreachableJobIsAnError) {
  const std::string url = "http://127.0.0.1:" + std::to_string(FreePort());
  Result r = Sh(kVigil + " alerts --url " + url + " 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("vigil: cannot reach the job at " + url + "/api/alerts"), std::string::npos)
      << r.out;
  Result bad = Sh(kVigil + " alerts --output yaml 2>&1");
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--output must be text or json"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace vigil
