// A job restored from a checkpoint shows its metrics' latest windows on
// /metrics and /api/metrics at once, as before the kill, not after each
// metric's next window (an hour away here).
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

std::string Temp(const std::string& name) { return TempPath("vigil_latest_", name); }

std::string Curl(const std::string& url) { return Sh("curl -s '" + url + "'").out; }

// The rule metrics' lines of a /metrics page, and their window ends.
std::string RuleSeries(const std::string& page) {
  std::string out;
  for (const std::string& line : Lines(page)) {
    if (line.starts_with("vigil_metric_")) out += line + "\n";
  }
  return out;
}

// A job on the FIFO `input` (kept open by the caller) with checkpoints
// every 100 ms; its log in `log`.
pid_t StartJob(const std::string& rules, const std::string& ckpt, const std::string& input,
               const std::string& log) {
  return Spawn(kVigil + " run --input - --rules " + rules + " --checkpoint-dir " + ckpt +
                   " --checkpoint-interval 100ms --http 127.0.0.1:0 --no-console"
                   " --no-progress < " +
                   input,
               log);
}

TEST(LatestWindowsE2eTest, ARestoredJobShowsTheLatestWindowsAtOnce) {
  const std::string rules = Temp("rules.yaml"), ckpt = Temp("ckpt"), input = Temp("in.fifo"),
                    log1 = Temp("run1.log"), log2 = Temp("run2.log");
  std::filesystem::remove_all(ckpt);
  std::filesystem::remove(input);
  {
    std::ofstream r(rules);
    r << "metrics:\n"
         "  - metric: turns\n"
         "    help: |-\n"
         "      Turns per intent,\n"
         "      per minute\n"
         "    export: true\n"
         "    window: tumbling 1m\n"
         "    by: [intent]\n"
         "    value: count()\n"
         "  - metric: hourly_latency_p50_ms\n"
         "    export: true\n"
         "    window: tumbling 1h\n"
         "    value: quantile(0.5, latency_ms)\n";
  }
  // 00:00 to 01:05: the hour to 01:00 and the minutes to 01:04 close.
  std::string events;
  for (int s = 0; s < 65 * 60; s += 20) {
    events += StrCat(R"({"ts":)", 1767225600000 + s * 1000LL, R"(,"type":"message","intent":")",
                     s % 60 == 0 ? "faq" : "cart", R"(","latency_ms":)", 100 + s % 700, "}\n");
  }
  ASSERT_EQ(::mkfifo(input.c_str(), 0600), 0);
  const pid_t first = StartJob(rules, ckpt, input, log1);
  std::string before, api_before;
  {
    std::ofstream pipe(input);
    pipe << events;
    pipe.flush();
    const std::string base = JobHttpBase(log1);
    ASSERT_FALSE(base.empty()) << ReadFile(log1);
    ASSERT_TRUE(WaitFor(
        [&] {
          return Curl(base + "/metrics")
                     .find(
                         "vigil_metric_window_end_timestamp_seconds{metric=\"turns\"} "
                         "1767229440") != std::string::npos;
        },
        20))
        << Curl(base + "/metrics");
    before = RuleSeries(Curl(base + "/metrics"));
    api_before = Curl(base + "/api/metrics");
    // A checkpoint written after those windows closed.
    auto newest = [&] { return Sh("ls " + ckpt + " | grep '\\.vck$' | sort | tail -1").out; };
    const std::string seen = newest();
    ASSERT_TRUE(WaitFor([&] { return newest() != seen; }, 20));
    ::kill(first, SIGKILL);
    EXPECT_EQ(WaitExit(first), -SIGKILL);
  }
  EXPECT_NE(before.find("vigil_metric_hourly_latency_p50_ms "), std::string::npos) << before;
  EXPECT_NE(before.find("vigil_metric_turns{intent=\"faq\"} 1\n"), std::string::npos) << before;

  // No new event: whatever /metrics shows comes from the checkpoint.
  const pid_t second = StartJob(rules, ckpt, input, log2);
  std::ofstream hold(input);
  const std::string base = JobHttpBase(log2);
  ASSERT_FALSE(base.empty()) << ReadFile(log2);
  EXPECT_NE(ReadFile(log2).find("restored checkpoint"), std::string::npos) << ReadFile(log2);
  EXPECT_EQ(RuleSeries(Curl(base + "/metrics")), before);
  EXPECT_EQ(Curl(base + "/api/metrics"), api_before);
  ::kill(second, SIGKILL);
  WaitExit(second);
  hold.close();
  std::filesystem::remove_all(ckpt);
  std::filesystem::remove(input);
}

}  // namespace
}  // namespace vigil
