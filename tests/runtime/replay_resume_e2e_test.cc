// `vigil replay --checkpoint-dir` resumed after a SIGKILL: its printed
// report (the alert timeline and the metric statistics) covers the whole
// run, as that of a replay never stopped, and so does a replay run again
// after its input ended. The input arrives through a named pipe, so the
// kill lands at a known point.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

std::string Temp(const std::string& name) { return TempPath("vigil_replay_resume_", name); }

TEST(ReplayResumeTest, AResumedReplayReportsTheWholeRun) {
  const std::string events = Temp("events.ndjson");
  ASSERT_EQ(
      Sh(kVigil + " gen --rate 20 --duration 30m --seed 5 --incident latency_spike@5m+10m --out " +
         events)
          .exit_code,
      0);
  const std::vector<std::string> lines = Lines(ReadFile(events));
  ASSERT_EQ(lines.size(), 36000u);
  const Result clean =
      Sh(kVigil + " replay " + events + " --output json --no-progress 2>/dev/null");
  ASSERT_EQ(clean.exit_code, 0);
  // The spike's alerts pended and fired before the kill, at 00:16:40 of
  // event time, and resolved after it.
  ASSERT_NE(clean.out.find(R"("alert":"LatencyP99Critical")"), std::string::npos) << clean.out;

  const std::string input = Temp("input.ndjson"), ckpt = Temp("ckpt");
  ASSERT_EQ(::mkfifo(input.c_str(), 0600), 0);
  const pid_t job = Spawn(kVigil + " replay " + input + " --checkpoint-dir " + ckpt +
                              " --checkpoint-interval 20ms --output json --no-progress",
                          Temp("run1.log"));
  {
    std::ofstream pipe(input);
    for (size_t i = 0; i < 20000; ++i) pipe << lines[i] << '\n';
    pipe.flush();
    ::usleep(1'500'000);
    ::kill(job, SIGKILL);
    EXPECT_EQ(WaitExit(job), -SIGKILL);
  }
  ::unlink(input.c_str());
  ASSERT_EQ(Sh("cp " + events + " " + input).exit_code, 0);
  const std::string resume = kVigil + " replay " + input + " --checkpoint-dir " + ckpt +
                             " --output json --no-progress 2>" + Temp("run2.log");
  const Result resumed = Sh(resume);
  ASSERT_EQ(resumed.exit_code, 0) << ReadFile(Temp("run2.log"));
  EXPECT_NE(ReadFile(Temp("run2.log")).find("restored checkpoint"), std::string::npos);
  EXPECT_EQ(resumed.out, clean.out);
  // Once more, after the input ended: everything comes from the checkpoint.
  const Result again = Sh(resume);
  ASSERT_EQ(again.exit_code, 0) << ReadFile(Temp("run2.log"));
  EXPECT_EQ(again.out, clean.out);
}

}  // namespace
}  // namespace vigil
