// The admin API of a running job: /api/status, /api/metrics, /api/rules.
#include <signal.h>
#include <simdjson.h>

#include <regex>
#include <string>

#include "gtest/gtest.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

TEST(AdminApiTest, StatusMetricsAndRulesOfARunningJob) {
  const std::string log = TempPath("admin_", "run.log");
  const pid_t job = Spawn(kVigil + " run --generator --speed 600 --rate 50 --no-console "
                                   "--http 127.0.0.1:0",
                          log);
  ChildGuard guard(job);
  const std::string url = JobHttpBase(log);
  ASSERT_FALSE(url.empty()) << ReadFile(log);

  simdjson::dom::parser parser;
  // Status: refreshed every second; wait until windows have closed.
  simdjson::dom::element status;
  std::string status_text;
  ASSERT_TRUE(WaitFor(
      [&] {
        status_text = Sh("curl -s " + url + "/api/status").out;
        return !parser.parse(status_text).get(status) && status["windows"].get_uint64().value_unsafe() > 0;
      },
      20))
      << status_text;
  EXPECT_EQ(std::string_view(status["source"].get_string().value()), "generator");
  EXPECT_FALSE(status["bounded"].get_bool().value());
  EXPECT_TRUE(status["connected"].get_bool().value());
  simdjson::dom::array inputs = status["inputs"].get_array().value();
  ASSERT_EQ(inputs.size(), 1u);
  EXPECT_EQ(std::string_view(inputs.at(0)["name"].get_string().value()), "generator");
  EXPECT_TRUE(inputs.at(0)["watermark"].is_string());
  EXPECT_TRUE(status["watermark"].is_string());
  EXPECT_GT(status["records"].get_uint64().value(), 0u);
  EXPECT_EQ(status["rules"]["metrics"].get_uint64().value(), 30u);
  EXPECT_EQ(status["rules"]["alerts"].get_uint64().value(), 15u);

  // Metrics: the latest closed window of each metric (and group).
  const std::string metrics_text = Sh("curl -s " + url + "/api/metrics").out;
  simdjson::dom::array windows;
  ASSERT_FALSE(parser.parse(metrics_text).get(windows)) << metrics_text;
  bool p99 = false;
  for (simdjson::dom::element w : windows) {
    if (std::string_view(w["metric"].get_string().value()) != "latency_p99_ms") continue;
    EXPECT_FALSE(p99) << "one latest window per metric and group";
    p99 = true;
    EXPECT_GT(w["value"].get_double().value(), 0);
    EXPECT_TRUE(w["end"].is_string());
  }
  EXPECT_TRUE(p99) << metrics_text;

  // Rules: as loaded.
  const std::string rules_text = Sh("curl -s " + url + "/api/rules").out;
  simdjson::dom::element rules;
  ASSERT_FALSE(parser.parse(rules_text).get(rules)) << rules_text;
  EXPECT_EQ(rules["metrics"].get_array().value().size(), 30u);
  bool found = false;
  simdjson::dom::array alerts = rules["alerts"].get_array().value();
  for (simdjson::dom::element a : alerts) {
    if (std::string_view(a["name"].get_string().value()) != "LatencyP99Critical") continue;
    found = true;
    EXPECT_EQ(std::string_view(a["severity"].get_string().value()), "P1");
    EXPECT_EQ(std::string_view(a["for"].get_string().value()), "5m");
  }
  EXPECT_TRUE(found) << rules_text;
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0);
}

}  // namespace
}  // namespace vigil
