// End to end with the binary: paging while the spool's disk is full. The
// spool lives on a 64 KiB tmpfs filled to the last page (mounting needs
// root; the test is skipped otherwise), the receiver is down, and the job
// is killed with SIGKILL after a checkpoint. Restarted from that checkpoint
// with the receiver up and the disk still full, it delivers every
// notification raised before the checkpoint exactly once, in order; while
// the spool could not be written, /readyz answered 503 with the reason.
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "base/time.h"
#include "gtest/gtest.h"
#include "tests/operators/notify/notify_test_util.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

using Transitions = std::vector<std::pair<std::string, std::string>>;

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  return e[key].get(v) == simdjson::SUCCESS ? std::string(v) : "";
}

// (alert, state) of the console's firing and resolved lines, in order.
Transitions ConsoleTransitions(const std::string& console) {
  Transitions out;
  simdjson::dom::parser parser;
  for (const std::string& line : Lines(console)) {
    simdjson::dom::element e;
    if (line[0] != '{' || parser.parse(line).get(e) != simdjson::SUCCESS) continue;
    const std::string state = Str(e, "state");
    if (state == "firing" || state == "resolved") out.emplace_back(Str(e, "alert"), state);
  }
  return out;
}

// (alertname, status) of each webhook body (one alert per POST).
Transitions WebhookTransitions(const std::vector<RecordedRequest>& requests) {
  Transitions out;
  simdjson::dom::parser parser;
  for (const RecordedRequest& r : requests) {
    simdjson::dom::element body;
    EXPECT_EQ(parser.parse(r.body).get(body), simdjson::SUCCESS) << r.body;
    simdjson::dom::array alerts;
    EXPECT_EQ(body["alerts"].get(alerts), simdjson::SUCCESS) << r.body;
    EXPECT_EQ(alerts.size(), 1u) << r.body;
    for (simdjson::dom::element a : alerts) {
      simdjson::dom::element labels;
      EXPECT_EQ(a["labels"].get(labels), simdjson::SUCCESS);
      out.emplace_back(Str(labels, "alertname"), Str(a, "status"));
    }
  }
  return out;
}

class SpoolE2eTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) {
    return TempPath(std::string("spool_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
};

TEST_F(SpoolE2eTest, AFullSpoolLosesNoPageToAKillAfterACheckpoint) {
  testing_util::TinyFs fs;
  if (!fs.ok()) GTEST_SKIP() << "mounting a tmpfs needs root";
  fs.Fill();  // the spool directory has no page left
  RecordingReceiver team;
  team.Stop();  // down: connections are refused

  const std::string events = Path("events.ndjson");
  ASSERT_EQ(Sh(kVigil +
               " gen --rate 20 --duration 40m --seed 3 --incident latency_spike@5m+10m"
               " --incident guardrail_storm@20m+6m --out " +
               events)
                .exit_code,
            0);
  const std::vector<std::string> lines = Lines(ReadFile(events));
  ASSERT_EQ(lines.size(), 48000u);
  const std::string job = Path("job.yaml");
  std::ofstream(job) << "notify:\n"
                        "  timeout: 10s\n"
                        "  retry: {initial: 50ms, max: 200ms}\n"
                        "  spool: {dir: " +
                            fs.file("spool") +
                            "}\n"
                            "  receivers:\n"
                            "    - {name: team, kind: webhook, url: " +
                            team.url("/hook") +
                            "}\n"
                            "  routes: {P1: [team], P2: [team], P3: [team], P4: [team]}\n";
  const std::string input = Path("input.ndjson"), ckpt = Path("ckpt"), log1 = Path("run1.log");
  ::unlink(input.c_str());
  ASSERT_EQ(::mkfifo(input.c_str(), 0600), 0);

  // Run 1: every record through an open pipe, then SIGKILL once a
  // checkpoint (at the default interval) covers all of them. Records of the
  // first minute keep coming meanwhile, late (dead-lettered, no transition),
  // so that the job thread keeps turning: it checkpoints between records.
  const pid_t first = Spawn(kVigil + " run --config " + job + " --input " + input +
                                " --checkpoint-dir " + ckpt + " --http 127.0.0.1:0 --output json",
                            log1);
  const double kAllRead = static_cast<double>(*ParseRfc3339("2026-01-01T00:39:50Z")) / 1000;
  std::vector<std::string> filler;
  Transitions raised;
  {
    std::ofstream pipe(input);
    for (const std::string& l : lines) pipe << l << '\n';
    pipe.flush();
    size_t next = 0;
    auto pump = [&] {
      pipe << lines[next % 1000] << '\n';
      pipe.flush();
      filler.push_back(lines[next++ % 1000]);
    };
    const std::string base = JobHttpBase(log1);
    ASSERT_FALSE(base.empty()) << ReadFile(log1);
    auto metrics = [&] { return HttpGet(base, "/metrics").second; };
    auto checkpoints = [&] {
      return SeriesValue(metrics(), "vigil_checkpoints_total", "result=\"success\"");
    };
    ASSERT_TRUE(WaitFor(
        [&] {
          pump();
          // The last record is at 00:39:58.189 (5 s out of order allowed).
          return SeriesValue(metrics(), "vigil_watermark_timestamp_seconds") >= kAllRead;
        },
        30))
        << ReadFile(log1);
    const double before = checkpoints();
    ASSERT_TRUE(WaitFor(
        [&] {
          pump();
          return checkpoints() > before;
        },
        30))
        << ReadFile(log1);
    raised = ConsoleTransitions(ReadFile(log1));
    ASSERT_GE(raised.size(), 8u) << ReadFile(log1);
    // Nothing went to disk, nothing was delivered: all of it is in memory.
    const std::string page = metrics();
    EXPECT_EQ(SeriesValue(page, "vigil_notify_memory_queue", "receiver=\"team\""),
              static_cast<double>(raised.size()))
        << page;
    EXPECT_EQ(SeriesValue(page, "vigil_notify_spool_healthy", "receiver=\"team\""), 0) << page;
    EXPECT_GE(SeriesValue(page, "vigil_notify_spool_write_failures_total", "receiver=\"team\""), 1)
        << page;
    EXPECT_EQ(SeriesValue(page, "vigil_notifications_total", "result=\"sent\""), 0) << page;
    const auto [status, why] = HttpGet(base, "/readyz");
    EXPECT_EQ(status, 503) << why;
    EXPECT_NE(why.find("the paging spool cannot be written: team http://127.0.0.1:"),
              std::string::npos)
        << why;
    EXPECT_NE(why.find(std::to_string(raised.size()) + " notification(s) held in memory only"),
              std::string::npos)
        << why;
    EXPECT_NE(why.find("No space left on device"), std::string::npos) << why;
    ::kill(first, SIGKILL);
    EXPECT_EQ(WaitExit(first), -SIGKILL);
  }
  EXPECT_EQ(ConsoleTransitions(ReadFile(log1)), raised);
  const std::string log1_text = ReadFile(log1);
  EXPECT_NE(log1_text.find("vigil: notify team http://127.0.0.1:"), std::string::npos);
  // Rate-limited: one line for all the failed writes of this short run.
  size_t lines_logged = 0;
  for (size_t at = log1_text.find("cannot write the spool"); at != std::string::npos;
       at = log1_text.find("cannot write the spool", at + 1)) {
    ++lines_logged;
  }
  EXPECT_EQ(lines_logged, 1u) << log1_text;
  EXPECT_TRUE(team.Requests().empty());

  // Run 2: the receiver is up, the disk still full. The same input (a
  // regular file now) resumes after the checkpoint's record.
  team.Restart();
  ::unlink(input.c_str());
  {
    std::ofstream same(input);
    for (const std::string& l : lines) same << l << '\n';
    for (const std::string& l : filler) same << l << '\n';
  }
  Result second = Sh(kVigil + " run --config " + job + " --input " + input + " --checkpoint-dir " +
                     ckpt + " --http off --output json --no-progress 2>" + Path("run2.log"));
  const std::string log2 = ReadFile(Path("run2.log"));
  ASSERT_EQ(second.exit_code, 0) << log2;
  EXPECT_NE(log2.find("vigil: restored checkpoint"), std::string::npos) << log2;

  // Every notification raised before the checkpoint, once, in order, then
  // whatever the end of the input raised after it.
  Transitions expected = raised;
  for (auto& t : ConsoleTransitions(second.out)) expected.push_back(t);
  EXPECT_EQ(WebhookTransitions(team.Accepted()), expected);
  EXPECT_EQ(team.Requests().size(), expected.size());
}

}  // namespace
}  // namespace vigil
