// The main of every test binary: gtest's, with a scratch directory of its
// own for the files the tests write.
//
// Each test process gets a fresh directory under $TMPDIR (default /tmp),
// handed to the tests as ::testing::TempDir() (TEST_TMPDIR) and as the
// system's temporary directory (TMPDIR), both inherited by the processes
// they start. It is removed when every test of
// the process passed and kept, with its path printed, when one failed, so
// that a failure's logs, checkpoints and outputs can be read afterwards.
// A TEST_TMPDIR set by the caller is used as it is and never removed.

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace {

std::string MakeScratchDirectory() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/vigil-tests-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) return "";
  // As open as /tmp: the servers some tests start run as other users
  // (PostgreSQL as postgres).
  ::chmod(pattern.c_str(), 01777);
  return pattern;
}

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::string scratch;
  const char* given = std::getenv("TEST_TMPDIR");
  if (given == nullptr || *given == '\0') {
    scratch = MakeScratchDirectory();
    if (!scratch.empty()) {
      ::setenv("TEST_TMPDIR", scratch.c_str(), 1);
      ::setenv("TMPDIR", scratch.c_str(), 1);
    }
  }
  const pid_t parent = ::getpid();
  const int result = RUN_ALL_TESTS();
  // A forked child that returns here leaves the directory to its parent.
  if (!scratch.empty() && ::getpid() == parent) {
    if (result == 0) {
      std::error_code ignored;
      std::filesystem::remove_all(scratch, ignored);
    } else {
      std::cerr << "the files of the failed tests are kept in " << scratch << "\n";
    }
  }
  return result;
}
