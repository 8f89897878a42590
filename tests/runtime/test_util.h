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

// A path in the test temp directory, unique to this process.
inline std::string TempPath(const std::string& prefix, const std::string& name) {
  return ::testing::TempDir() + "/" + prefix + std::to_string(::getpid()) + "_" + name;
}

}  // namespace vigil

#endif  // VIGIL_TESTS_RUNTIME_TEST_UTIL_H_
