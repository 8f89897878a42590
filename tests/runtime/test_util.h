// tests/runtime/test_util.h
//
// Helpers for the tests that drive the vigil binary: run a shell command
// and capture its output, read files, and make per-process temporary paths
// (ctest runs each test as its own process, in parallel).
#ifndef VIGIL_TESTS_RUNTIME_TEST_UTIL_H_
#define VIGIL_TESTS_RUNTIME_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace vigil {

struct Result {
  int exit_code;
  std::string out;
};

// Runs `cmd` with /bin/sh, capturing standard output.
inline Result Sh(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  Result r{-1, ""};
  if (!p) return r;
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// The value of the first series `name{...}` of a /metrics page whose labels
// contain `label`, or -1.
inline double SeriesValue(const std::string& page, const std::string& name,
                          const std::string& label) {
  for (const std::string& line : Lines(page)) {
    if (line.rfind(name + "{", 0) == 0 && line.find(label) != std::string::npos) {
      return std::atof(line.c_str() + line.rfind(' ') + 1);
    }
  }
  return -1;
}
// The value of the unlabelled series `name`, or -1.
inline double SeriesValue(const std::string& page, const std::string& name) {
  for (const std::string& line : Lines(page)) {
    if (line.rfind(name + " ", 0) == 0) return std::atof(line.c_str() + name.size() + 1);
  }
  return -1;
}

// A path in the test temp directory, unique to this process.
inline std::string TempPath(const std::string& prefix, const std::string& name) {
  return ::testing::TempDir() + "/" + prefix + std::to_string(::getpid()) + "_" + name;
}

// The port of a job's HTTP endpoint from its stderr ("vigil: serving the
// status page and /metrics on http://127.0.0.1:PORT/"), or 0 before it.
inline int ServingPort(const std::string& text) {
  for (const std::string scheme : {"http", "https"}) {
    const std::string line = "serving the status page and /metrics on " + scheme + "://127.0.0.1:";
    const size_t at = text.find(line);
    if (at != std::string::npos) return std::atoi(text.c_str() + at + line.size());
  }
  return 0;
}

// A background child running `cmd` with /bin/sh (exec'd, so the pid is the
// command's own), stdout and stderr to `log`.
inline pid_t Spawn(const std::string& cmd, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    const std::string full = "exec " + cmd + " >" + log + " 2>&1";
    ::execl("/bin/sh", "sh", "-c", full.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// Waits for `pid` to exit; its exit code, or -signal if a signal killed it.
inline int WaitExit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// Polls `ready` every 50 ms for up to `seconds`; returns whether it held.
template <class Pred>
bool WaitFor(Pred ready, double seconds) {
  for (int i = 0; i < static_cast<int>(seconds * 20); ++i) {
    if (ready()) return true;
    ::usleep(50000);
  }
  return ready();
}

}  // namespace vigil

#endif  // VIGIL_TESTS_RUNTIME_TEST_UTIL_H_
