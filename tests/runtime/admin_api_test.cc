// The admin API of a running job: /api/status, /api/metrics (with
// ?history=N), /api/rules, and /-/reload with lifecycle off.
#include "runtime/admin_api.h"

#include <signal.h>
#include <simdjson.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

// /api/metrics keeps a series while its latest window is among its
// metric's latest 120 window ends: a metric by session_id, a new session a
// minute, holds two hours of sessions, not every session ever seen.
TEST(AdminApiTest, SeriesThatStopLeaveAfterTheMetricsLatest120Windows) {
  JobConfig config;
  config.http_listen = "127.0.0.1:0";
  AdminApi api(config, std::make_shared<prometheus::Registry>(), nullptr, [] {});
  ASSERT_TRUE(api.Start().ok());
  MetricDef def;
  def.name = "turns";
  def.by = {"session_id"};
  for (int minute = 0; minute < 130; ++minute) {
    std::vector<WindowResult> results;
    for (const std::string& session : {StrCat("s", minute), std::string("steady")}) {
      WindowResult& r = results.emplace_back();
      r.def = &def;
      r.group = session;
      r.labels = {session};
      r.start = minute * TimeMs{60'000};
      r.end = r.start + 60'000;
      r.value = minute;
    }
    api.RecordWindows(results);
  }
  auto [status, body] =
      HttpGet(StrCat("http://127.0.0.1:", api.port()), "/api/metrics?history=120");
  ASSERT_EQ(status, 200);
  simdjson::dom::parser parser;
  simdjson::dom::array series = parser.parse(body).get_array().value();
  std::vector<std::string> sessions;
  for (simdjson::dom::element s : series) {
    sessions.emplace_back(s["labels"]["session_id"].get_string().value());
    if (sessions.back() == "steady") {
      EXPECT_EQ(s["history"].get_array().size(), 120u);
      EXPECT_EQ(s["value"].get_double().value(), 129);
    }
  }
  // The latest 120 ends are minutes 10 to 129: s10 to s129, and steady.
  ASSERT_EQ(sessions.size(), 121u) << body.substr(0, 400);
  EXPECT_EQ(std::count(sessions.begin(), sessions.end(), "s9"), 0);
  EXPECT_EQ(std::count(sessions.begin(), sessions.end(), "s10"), 1);
  EXPECT_EQ(std::count(sessions.begin(), sessions.end(), "s129"), 1);
  api.Stop();
}

TEST(AdminApiTest, StatusMetricsAndRulesOfARunningJob) {
  const std::string log = TempPath("admin_", "run.log");
  const pid_t job = Spawn(kVigil +
                              " run --generator --speed 600 --rate 50 --no-console "
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
        return !parser.parse(status_text).get(status) &&
               status["windows"].get_uint64().value_unsafe() > 0;
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
  EXPECT_EQ(status["rules"]["metrics"].get_uint64().value(), 44u);
  EXPECT_EQ(status["rules"]["alerts"].get_uint64().value(), 17u);

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
  EXPECT_EQ(metrics_text.find("\"history\""), std::string::npos);

  // With ?history=N: the last N closed windows of each series too.
  std::string history_text;
  auto p99_history = [&](const std::string& query, simdjson::dom::element* out) {
    history_text = Sh("curl -s '" + url + "/api/metrics?" + query + "'").out;
    simdjson::dom::array all;
    if (parser.parse(history_text).get(all)) return size_t{0};
    size_t n = 0;
    for (simdjson::dom::element series : all) {
      simdjson::dom::array h = series["history"].get_array().value();
      EXPECT_LE(h.size(), 120u) << "bounded server-side";
      if (std::string_view(series["metric"].get_string().value()) != "latency_p99_ms") continue;
      *out = series;
      n = h.size();
    }
    return n;
  };
  simdjson::dom::element w;
  ASSERT_TRUE(WaitFor([&] { return p99_history("history=3", &w) == 3; }, 20)) << history_text;
  simdjson::dom::array h = w["history"].get_array().value();
  // Oldest first, one per minute (latency_p99_ms is tumbling 1m), ending at
  // the latest window.
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ParseRfc3339(h.at(i)["end"].get_string().value()).value() -
                  ParseRfc3339(h.at(0)["end"].get_string().value()).value(),
              static_cast<TimeMs>(i) * 60000)
        << history_text;
  }
  EXPECT_EQ(std::string_view(h.at(2)["end"].get_string().value()),
            std::string_view(w["end"].get_string().value()));
  EXPECT_EQ(h.at(2)["value"].get_double().value(), w["value"].get_double().value());
  // Never more than 120 windows, however many are asked for.
  EXPECT_TRUE(WaitFor([&] { return p99_history("history=100000", &w) == 120; }, 30))
      << history_text;
  EXPECT_EQ(p99_history("history=99999999999999999999999", &w), 120u) << history_text;
  EXPECT_EQ(Sh("curl -s '" + url + "/api/metrics?history=0'").out.find("\"history\""),
            std::string::npos);
  using Response = std::pair<int, std::string>;
  EXPECT_EQ(HttpGet(url, "/api/metrics?history=x"),
            (Response{400, "history needs a whole number of windows, not 'x'\n"}));
  EXPECT_EQ(HttpGet(url, "/api/metrics?window=1"),
            (Response{400, "unknown parameter 'window' (allowed: history=N)\n"}));

  // Rules: as loaded.
  const std::string rules_text = Sh("curl -s " + url + "/api/rules").out;
  simdjson::dom::element rules;
  ASSERT_FALSE(parser.parse(rules_text).get(rules)) << rules_text;
  EXPECT_EQ(rules["metrics"].get_array().value().size(), 44u);
  simdjson::dom::array joins = rules["joins"].get_array().value();
  ASSERT_EQ(joins.size(), 3u);
  simdjson::dom::element rated = joins.at(0).value();
  EXPECT_EQ(std::string_view(rated["name"].get_string().value()), "rated_turns");
  EXPECT_EQ(std::string_view(rated["key"].get_string().value()), "turn_id");
  EXPECT_EQ(rated["lower_ms"].get_int64().value(), 0);
  EXPECT_EQ(rated["upper_ms"].get_int64().value(), 3600 * 1000);
  EXPECT_EQ(std::string_view(rated["kind"].get_string().value()), "inner");
  EXPECT_EQ(rated["fields"].get_array().value().size(), 11u);  // key, delay_ms, 9 emits
  simdjson::dom::array streams = rules["streams"].get_array().value();
  ASSERT_EQ(streams.size(), 2u);
  simdjson::dom::element sessions = streams.at(0).value();
  EXPECT_EQ(std::string_view(sessions["name"].get_string().value()), "sessions");
  EXPECT_EQ(std::string_view(sessions["key"].get_string().value()), "session_id");
  EXPECT_EQ(sessions["gap_ms"].get_int64().value(), 30 * 60 * 1000);
  EXPECT_EQ(sessions["fields"].get_array().value().size(), 10u);   // key, duration_ms, 8 emits
  EXPECT_EQ(rules["experiments"].get_array().value().size(), 0u);  // none in the reference rules
  EXPECT_EQ(rules["trackers"].get_array().value().size(), 1u);
  bool found = false;
  simdjson::dom::array alerts = rules["alerts"].get_array().value();
  for (simdjson::dom::element a : alerts) {
    if (std::string_view(a["name"].get_string().value()) != "LatencyP99Critical") continue;
    found = true;
    EXPECT_EQ(std::string_view(a["severity"].get_string().value()), "P1");
    EXPECT_EQ(std::string_view(a["for"].get_string().value()), "5m");
    // What the status page explains it with.
    EXPECT_EQ(std::string_view(a["expr"].get_string().value()), "latency_p99_ms > 10000");
    EXPECT_EQ(std::string_view(a["window"].get_string().value()), "tumbling 1m");
    EXPECT_EQ(std::string_view(a["format"].get_string().value()), "milliseconds");
    simdjson::dom::element t = a["threshold"].value();
    EXPECT_EQ(std::string_view(t["metric"].get_string().value()), "latency_p99_ms");
    EXPECT_EQ(std::string_view(t["op"].get_string().value()), ">");
    EXPECT_EQ(t["value"].get_double().value(), 10000);
    EXPECT_EQ(std::string_view(t["text"].get_string().value()), "10s");
    EXPECT_EQ(std::string_view(a["file"].get_string().value()),
              "<built-in>/deploy/rules/chatbot.yaml");
    EXPECT_GT(a["line"].get_int64().value(), 0);
  }
  EXPECT_TRUE(found) << rules_text;
  // A metric's latest window carries its value as the page shows it.
  EXPECT_TRUE(
      std::regex_search(metrics_text, std::regex("\"metric\":\"latency_p99_ms\"[^}]*\\}[^{}]*"
                                                 "\"value_text\":\"[0-9.]+(ms|s)\"")))
      << metrics_text;

  // Alerts and their transitions: only the parameters they know.
  EXPECT_EQ(HttpGet(url, "/api/alerts/history?limit=x"),
            (Response{400, "limit needs a whole number of transitions, not 'x'\n"}));
  EXPECT_EQ(HttpGet(url, "/api/alerts/history?since=1"),
            (Response{400, "unknown parameter 'since' (allowed: fingerprint=F, limit=N)\n"}));
  EXPECT_EQ(HttpGet(url, "/api/alerts?limit=1"),
            (Response{400, "unknown parameter 'limit' (allowed: fingerprint=F)\n"}));
  EXPECT_EQ(HttpGet(url, "/api/alerts/history?limit=0"), (Response{200, "[]"}));

  // Reload: off without --web.enable-lifecycle; its status needs an id
  // POST /-/reload gave.
  const Result reload =
      Sh("curl -s -w ' %{http_code}' -X POST -H 'Content-Type: application/json' " + url +
         "/-/reload");
  EXPECT_EQ(reload.out,
            "the lifecycle API (/-/reload) is disabled; start vigil with --web.enable-lifecycle "
            "(or http.enable_lifecycle: true in the job file)\n 403");
  EXPECT_EQ(HttpGet(url, "/-/reload/status?id=1"), (Response{404, "no reload request 1\n"}));
  EXPECT_EQ(HttpGet(url, "/-/reload/status?id=x"),
            (Response{400, "expected ?id=N, the id POST /-/reload answered\n"}));
  EXPECT_EQ(HttpGet(url, "/-/reload/status"),
            (Response{400, "expected ?id=N, the id POST /-/reload answered\n"}));
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0);
}

}  // namespace
}  // namespace vigil
