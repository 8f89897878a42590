// Hot reload end to end: POST /-/reload and SIGHUP on a live job.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "base/strings.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

// The job's URL, from the line its stderr (`err`) says it on; "" when it
// does not within 10 s.
std::string JobUrl(const std::string& err) {
  int port = 0;
  for (int i = 0; i < 100 && port == 0; ++i) {
    ::usleep(100'000);
    port = ServingPort(ReadFile(err));
  }
  return port == 0 ? "" : StrCat("http://127.0.0.1:", port);
}

// The status of reload request `id` once it is no longer pending.
std::string ReloadStatus(const std::string& base, int id) {
  std::string status;
  WaitFor(
      [&] {
        status = Sh(StrCat("curl -s '", base, "/-/reload/status?id=", id, "'")).out;
        return status.find("pending") == std::string::npos;
      },
      10);
  return status;
}

void WriteRules(const std::string& path, const std::string& threshold) {
  std::ofstream(path) << "metrics:\n  - metric: n\n    window: tumbling 1m\n    value: count()\n"
                         "alerts:\n  - alert: Busy\n    severity: P3\n    expr: n > "
                      << threshold << "\n";
}

TEST(ReloadE2eTest, ChangedAlertReloadsUnchangedMetricKeepsItsWindowsBrokenFileIsRefused) {
  const std::string dir = ::testing::TempDir() + "/vigil_reload_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string rules = dir + "/rules.yaml", out = dir + "/out.json", err = dir + "/err.txt",
                    results = dir + "/results.ndjson";
  WriteRules(rules, "0");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::freopen(out.c_str(), "w", stdout);
    std::freopen(err.c_str(), "w", stderr);
    ::execl(kVigil.c_str(), kVigil.c_str(), "run", "--rules", rules.c_str(), "--speed", "600",
            "--rate", "50", "--http", "127.0.0.1:0", "--web.enable-lifecycle", "--output", "json",
            "--no-pending", "--results", results.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  const std::string base = JobUrl(err);
  ASSERT_FALSE(base.empty()) << ReadFile(err);
  ::usleep(1'200'000);  // about 12 minutes of event time: Busy fires

  // A changed threshold: the alert's state is dropped with a resolved
  // notice; the metric is unchanged and keeps its panes.
  WriteRules(rules, "1000000000");
  // POST /-/reload answers at once with the request's id; its status tells
  // how the reload went once the job thread has run it.
  const std::string post = StrCat(
      "curl -s -w ' %{http_code}' -X POST -H 'Content-Type: application/json' ", base, "/-/reload");
  const std::string accepted = Sh(post).out;
  const std::string ok = ReloadStatus(base, 1);

  // A broken file is refused, by POST (with its errors) and by SIGHUP.
  std::ofstream(rules) << "metrics: [\n";
  const std::string accepted2 = Sh(post).out;
  const std::string refused = ReloadStatus(base, 2);
  // A SIGHUP with other errors, then a good reload: each request keeps the
  // outcome of the reload that answered it.
  std::ofstream(rules) << "metrics:\n  - metric: n\n    window: tumbling 1x\n";
  ::kill(pid, SIGHUP);
  ::usleep(500'000);
  // The last reload's rules have a template in an alert label: its lint
  // warning is logged.
  WriteRules(rules, "1000000000");
  std::ofstream(rules, std::ios::app) << "    labels: {level: '{{ $value }}'}\n";
  const std::string accepted3 = Sh(post).out;
  const std::string ok3 = ReloadStatus(base, 3);
  const std::string refused_later = ReloadStatus(base, 2);
  const std::string ok_later = ReloadStatus(base, 1);
  const std::string metrics = Sh(StrCat("curl -s ", base, "/metrics")).out;
  const std::string health = Sh(StrCat("curl -s ", base, "/healthz")).out;
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;

  EXPECT_EQ(accepted,
            "{\"id\":1,\"status\":\"pending\",\"location\":\"/-/reload/status?id=1\"}\n 202");
  EXPECT_EQ(accepted2,
            "{\"id\":2,\"status\":\"pending\",\"location\":\"/-/reload/status?id=2\"}\n 202");
  EXPECT_EQ(ok, "{\"id\":1,\"status\":\"succeeded\"}\n");
  EXPECT_NE(refused.find("{\"id\":2,\"status\":\"failed\",\"error\":\"reload refused, the "
                         "running rules stay:\\n" +
                         rules + ":1:10: this '[' is never closed"),
            std::string::npos)
      << refused;
  EXPECT_EQ(accepted3,
            "{\"id\":3,\"status\":\"pending\",\"location\":\"/-/reload/status?id=3\"}\n 202");
  // Its status names the lint warning too.
  const std::string warning =
      rules + ":6:12: warning: alert 'Busy': label 'level' holds a template";
  EXPECT_EQ(ok3.rfind(StrCat("{\"id\":3,\"status\":\"succeeded\",\"warnings\":[\"", warning), 0),
            0u)
      << ok3;
  const std::string log = ReadFile(err);
  EXPECT_NE(log.find(warning), std::string::npos) << log;
  // The rules of the start and of the first reload have none.
  EXPECT_EQ(log.find("warning:"), log.rfind("warning:")) << log;
  EXPECT_EQ(refused_later, refused);
  EXPECT_EQ(ok_later, ok);
  EXPECT_EQ(health, "ok\n");
  EXPECT_NE(metrics.find("vigil_rule_reloads_total{result=\"success\"} 2"), std::string::npos);
  EXPECT_NE(metrics.find("vigil_rule_reloads_total{result=\"failure\"} 2"), std::string::npos);
  EXPECT_NE(metrics.find("vigil_rules_last_reload_successful 1"), std::string::npos);

  // Busy fired once, was resolved by the reload, and never fired again.
  const std::string alerts = ReadFile(out);
  EXPECT_EQ(alerts.find("\"state\":\"firing\""), alerts.rfind("\"state\":\"firing\"")) << alerts;
  EXPECT_NE(alerts.find("\"alert\":\"Busy\",\"state\":\"resolved\""), std::string::npos) << alerts;

  // The unchanged metric's windows run on without a gap across both reloads.
  std::vector<std::string> ends;
  std::istringstream in(ReadFile(results));
  for (std::string line; std::getline(in, line);) {
    const size_t at = line.find("\"end\":\"");
    ends.push_back(line.substr(at + 7, 24));
  }
  ASSERT_GE(ends.size(), 15u);
  for (size_t i = 1; i < ends.size(); ++i) {
    // Consecutive minutes: the minute field advances by one (mod 60).
    const int a = std::stoi(ends[i - 1].substr(14, 2)), b = std::stoi(ends[i].substr(14, 2));
    EXPECT_EQ((a + 1) % 60, b) << ends[i - 1] << " -> " << ends[i];
  }
  std::filesystem::remove_all(dir);
}

// One event every 10 s from 00:00:00 for `count` events, starting at `from`.
std::string EveryTenSeconds(int from, int count) {
  std::string out;
  for (int i = from; i < from + count; ++i) {
    out += StrCat("{\"ts\":\"2026-01-01T00:", i / 6 < 10 ? "0" : "", i / 6, ":", i % 6, "0.000Z\"",
                  ",\"type\":\"message\",\"session_id\":\"s\"}\n");
  }
  return out;
}

// A reload that starts a metric's windows over (its window changed) at a
// fixed point of the input: the windows that could hold events read before
// it are partial, so the alert on it (unchanged in the file, changed in
// meaning: resolved by the reload) fires again only on a complete window.
// A metric the reload removes leaves /metrics.
TEST(ReloadE2eTest, AMetricStartedOverAlertsOnlyOnCompleteWindowsAndARemovedOneLeavesMetrics) {
  const std::string dir =
      ::testing::TempDir() + "/vigil_reload_partial_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string rules = dir + "/rules.yaml", out = dir + "/out.json", err = dir + "/err.txt",
                    results = dir + "/results.ndjson";
  auto write_rules = [&](const std::string& window, bool with_gone) {
    std::ofstream(rules) << "metrics:\n  - metric: n\n    window: " << window
                         << "\n    value: count()\n"
                         << (with_gone ? "  - metric: gone\n    window: tumbling 1m\n"
                                         "    value: count()\n"
                                       : "")
                         << "alerts:\n  - alert: Many\n    severity: P3\n    expr: n > 5\n";
  };
  write_rules("tumbling 1m", true);
  int input[2];
  ASSERT_EQ(::pipe(input), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(input[0], 0);
    ::close(input[1]);
    std::freopen(out.c_str(), "w", stdout);
    std::freopen(err.c_str(), "w", stderr);
    ::execl(kVigil.c_str(), kVigil.c_str(), "run", "--input", "-", "--rules", rules.c_str(),
            "--http", "127.0.0.1:0", "--web.enable-lifecycle", "--output", "json", "--no-pending",
            "--max-out-of-orderness", "0s", "--results", results.c_str(),
            static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(input[0]);
  auto feed = [&](const std::string& text) {
    ASSERT_EQ(::write(input[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  };
  const std::string base = JobUrl(err);
  ASSERT_FALSE(base.empty()) << ReadFile(err);
  // 00:00:00 to 00:02:30: n is 6 in each of the first two minutes.
  feed(EveryTenSeconds(0, 16));
  std::string metrics;
  WaitFor(
      [&] {
        metrics = Sh(StrCat("curl -s ", base, "/metrics")).out;
        return metrics.find("vigil_events_processed_total 16") != std::string::npos;
      },
      10);
  EXPECT_NE(metrics.find("vigil_metric_gone 6"), std::string::npos) << metrics;

  write_rules("tumbling 2m", false);
  const std::string post =
      StrCat("curl -s -X POST -H 'Content-Type: application/json' ", base, "/-/reload > /dev/null");
  Sh(post);
  EXPECT_EQ(ReloadStatus(base, 1), "{\"id\":1,\"status\":\"succeeded\"}\n");
  metrics = Sh(StrCat("curl -s ", base, "/metrics")).out;
  // 00:02:40 to 00:09:50.
  feed(EveryTenSeconds(16, 44));
  ::close(input[1]);
  int exit_status = 0;
  ::waitpid(pid, &exit_status, 0);
  EXPECT_TRUE(WIFEXITED(exit_status) && WEXITSTATUS(exit_status) == 0) << ReadFile(err);

  EXPECT_EQ(metrics.find("vigil_metric_gone"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("metric=\"gone\""), std::string::npos) << metrics;
  // [00:02, 00:04) holds the 8 events after the reload of its 12: partial,
  // as are none of the later ones.
  const std::string windows = ReadFile(results);
  EXPECT_NE(
      windows.find("{\"metric\":\"n\",\"start\":\"2026-01-01T00:02:00.000Z\",\"end\":"
                   "\"2026-01-01T00:04:00.000Z\",\"labels\":{},\"value\":8,\"partial\":true}"),
      std::string::npos)
      << windows;
  EXPECT_NE(windows.find("{\"metric\":\"n\",\"start\":\"2026-01-01T00:04:00.000Z\",\"end\":"
                         "\"2026-01-01T00:06:00.000Z\",\"labels\":{},\"value\":12}"),
            std::string::npos)
      << windows;
  // Many fired at 00:01 (6), was resolved by the reload, and fired again at
  // 00:06 on the first complete 2-minute window (12), not at 00:04 on the 8.
  std::vector<std::string> transitions;
  std::istringstream lines(ReadFile(out));
  for (std::string line; std::getline(lines, line);) {
    const size_t at = line.find("\"at\":\"2026-01-01T");
    const size_t state = line.find("\"state\":\"");
    if (at == std::string::npos || state == std::string::npos) continue;
    transitions.push_back(line.substr(at + 17, 8) + " " +
                          line.substr(state + 9, line.find('"', state + 9) - state - 9));
  }
  EXPECT_EQ(transitions,
            (std::vector<std::string>{"00:01:00 firing", "00:02:00 resolved", "00:06:00 firing"}))
      << ReadFile(out);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
