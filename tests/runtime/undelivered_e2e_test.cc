// Pages are not lost silently at the end of a run: those a receiver could
// not take, with no spool directory, are reported (how many, for which
// receiver, what would keep them), and a live job stopped with nowhere to
// keep its renotify holds sends what they hold.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/strings.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

TEST(UndeliveredE2eTest, PagesUndeliveredAtTheEndAreReported) {
  const std::string dir = TempPath("vigil_undelivered_", "");
  std::filesystem::create_directories(dir);
  const std::string rules = dir + "/r.yaml", job = dir + "/job.yaml", events = dir + "/ev.ndjson";
  std::ofstream(rules) << "metrics:\n  - metric: turns\n    window: tumbling 1m\n"
                          "    value: count()\nalerts:\n  - alert: Busy\n    severity: P1\n"
                          "    expr: turns > 2\n";
  // Nothing listens on the port: every delivery fails and is retried.
  std::ofstream(job) << "rules: [" << rules << "]\nnotify:\n  timeout: 1s\n"
                     << "  retry: {initial: 100ms, max: 200ms}\n  receivers:\n"
                     << "    - {name: hook, kind: webhook, url: http://127.0.0.1:" << FreePort()
                     << "/hook}\n  routes: {P1: [hook]}\n";
  {
    std::ofstream ev(events);
    for (const char* t : {"00:00:00", "00:00:10", "00:00:20", "00:01:10", "00:02:10"}) {
      ev << "{\"ts\":\"2026-01-01T" << t << "Z\",\"type\":\"m\"}\n";
    }
  }
  Result r = Sh(StrCat(kVigil, " run --config ", job, " --input ", events,
                       " --http off --no-progress --no-console 2>&1"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // Busy fired at 1m and resolved at 2m: both are still queued.
  EXPECT_NE(r.out.find("hook (http://127.0.0.1:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 notification(s) not delivered by the end and held in memory only"),
            std::string::npos)
      << r.out;

  // With a spool the pages wait on disk for the next run; the job says so.
  std::ofstream(job, std::ios::app) << "  spool: {dir: " << dir << "/spool}\n";
  r = Sh(StrCat(kVigil, " run --config ", job, " --input ", events,
                " --http off --no-progress --no-console 2>&1"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find(StrCat("2 notification(s) not delivered by the end, kept in the spool (",
                              dir, "/spool) for the next run to deliver")),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("held in memory only"), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

// Busy fires at 00:01 and resolves at 00:02, within the hour's
// renotify_interval: the resolution is held. A live job (stdin) without a
// spool or checkpoints that is stopped has nowhere to keep the hold, so the
// resolution goes out as it stops and the page does not stay open.
TEST(UndeliveredE2eTest, AStoppedJobWithNowhereToKeepHoldsSendsThem) {
  const std::string dir = TempPath("vigil_held_", "");
  std::filesystem::create_directories(dir);
  const std::string rules = dir + "/r.yaml", job = dir + "/job.yaml", input = dir + "/in.fifo",
                    console = dir + "/console.ndjson";
  RecordingReceiver hook;
  std::ofstream(rules) << "metrics:\n  - metric: turns\n    window: tumbling 1m\n"
                          "    value: count()\nalerts:\n  - alert: Busy\n    severity: P1\n"
                          "    expr: turns > 2\n";
  std::ofstream(job) << "rules: [" << rules << "]\nnotify:\n  renotify_interval: 1h\n"
                     << "  receivers:\n    - {name: hook, kind: webhook, url: " << hook.url("/hook")
                     << "}\n  routes: {P1: [hook]}\n";
  ASSERT_EQ(::mkfifo(input.c_str(), 0600), 0);
  const pid_t pid = Spawn(StrCat(kVigil, " run --config ", job, " --input - --http off",
                                 " --no-progress --output json --no-pending < ", input),
                          console);
  {
    std::ofstream pipe(input);
    for (const char* t : {"00:00:00", "00:00:10", "00:00:20", "00:01:10", "00:05:10"}) {
      pipe << "{\"ts\":\"2026-01-01T" << t << "Z\",\"type\":\"m\"}\n";
    }
    pipe.flush();
    ASSERT_TRUE(WaitFor(
        [&] { return ReadFile(console).find("\"state\":\"resolved\"") != std::string::npos; }, 20))
        << ReadFile(console);
    ASSERT_TRUE(hook.WaitForAccepted(1, std::chrono::seconds(10)));
    ::usleep(300'000);  // the held resolution has had its chance to go out early
    EXPECT_EQ(hook.AcceptedCount(), 1u);
    ::kill(pid, SIGTERM);
    EXPECT_EQ(WaitExit(pid), 0) << ReadFile(console);
  }
  const std::vector<RecordedRequest> got = hook.Accepted();
  ASSERT_EQ(got.size(), 2u) << ReadFile(console);
  EXPECT_NE(got[0].body.find("\"status\":\"firing\""), std::string::npos) << got[0].body;
  EXPECT_NE(got[1].body.find("\"status\":\"resolved\""), std::string::npos) << got[1].body;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
