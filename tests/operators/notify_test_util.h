// tests/operators/notify_test_util.h
//
// Alert notices and JSON helpers shared by the notifier tests.
#ifndef VIGIL_TESTS_OPERATORS_NOTIFY_TEST_UTIL_H_
#define VIGIL_TESTS_OPERATORS_NOTIFY_TEST_UTIL_H_

#include <simdjson.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "operators/sink.h"
#include "rules/rule_set.h"

namespace vigil::testing_util {

// One AlertDef per severity, shaped like the reference rules.
inline const AlertDef& TestDef(int severity) {
  static const AlertDef* defs = [] {
    static AlertDef d[5];
    for (int s = 1; s <= 4; ++s) {
      d[s].name = "Test" + std::to_string(s);
      d[s].severity = static_cast<Severity>(s);
      d[s].expr_source = "latency_p99_ms > 10000";
    }
    return d;
  }();
  return defs[severity];
}

inline AlertNotice MakeNotice(const std::string& alertname, int severity, Transition t, TimeMs at,
                              TimeMs fired_at, Labels extra = {}) {
  AlertNotice n;
  n.def = &TestDef(severity);
  n.transition = t;
  n.at = at;
  n.fired_at = fired_at;
  n.active_since = fired_at;
  n.value = 12034.5;
  n.labels = {{"alertname", alertname}, {"severity", "P" + std::to_string(severity)}};
  for (auto& [k, v] : extra) n.labels[k] = v;
  n.annotations = {{"summary", "p99 latency 12034 ms above 10 s"},
                   {"runbook", "https://runbooks.example/latency"}};
  n.window = "1m";
  return n;
}

inline TimeMs WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A fresh directory under the system temp dir, removed with the object.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "vigil-notify-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `pred` every 10 ms until it holds or `timeout` passes.
inline bool Eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

// A string field of a JSON object (simdjson DOM), "" if absent.
inline std::string JsonString(simdjson::dom::element e, const char* key) {
  std::string_view v;
  if (e[key].get(v) != simdjson::SUCCESS) return "";
  return std::string(v);
}

}  // namespace vigil::testing_util

#endif  // VIGIL_TESTS_OPERATORS_NOTIFY_TEST_UTIL_H_
