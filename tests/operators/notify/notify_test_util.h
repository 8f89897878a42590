// tests/operators/notify/notify_test_util.h
//
// Alert notices and JSON helpers shared by the notifier tests.
#ifndef VIGIL_TESTS_OPERATORS_NOTIFY_NOTIFY_TEST_UTIL_H_
#define VIGIL_TESTS_OPERATORS_NOTIFY_NOTIFY_TEST_UTIL_H_

#include <fcntl.h>
#include <simdjson.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "operators/dataflow/sink.h"
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
                              TimeMs fired_at, const Labels& extra = {}) {
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
                   {"runbook_url", "https://runbooks.example/latency"}};
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

// A 64 KiB tmpfs mounted on a fresh directory, to run a spool out of
// space: Fill() takes every free block, Free() gives them back. Mounting
// needs root; ok() says whether it worked.
class TinyFs {
 public:
  TinyFs() : dir_(tmp_.file("fs")) {
    ::mkdir(dir_.c_str(), 0755);
    ok_ = ::mount("tmpfs", dir_.c_str(), "tmpfs", 0, "size=64k") == 0;
  }
  ~TinyFs() {
    if (ok_) ::umount2(dir_.c_str(), MNT_DETACH);
  }
  bool ok() const { return ok_; }
  const std::string& path() const { return dir_; }
  std::string file(const std::string& name) const { return dir_ + "/" + name; }
  // Whole pages until the file system has none left.
  void Fill() {
    const int fd = ::open(file("fill").c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    const std::string page(4096, 'f');
    while (::write(fd, page.data(), page.size()) == static_cast<ssize_t>(page.size())) {
    }
    ::close(fd);
  }
  void Free() { ::unlink(file("fill").c_str()); }

 private:
  TempDir tmp_;
  std::string dir_;
  bool ok_ = false;
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

#endif  // VIGIL_TESTS_OPERATORS_NOTIFY_NOTIFY_TEST_UTIL_H_
