// The allocator set-up: the tunables vigil adds, and that `vigil` really
// runs with them (the environment of the running process), keeps the
// user's own, and leaves glibc alone when told to.
#include "runtime/allocator.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
constexpr char kOurs[] =
    "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:"
    "glibc.malloc.trim_threshold=67108864";

TEST(AllocatorTunablesTest, AddsEveryTunableTheUserDidNotSet) {
  EXPECT_EQ(AllocatorTunables(""), kOurs);
  EXPECT_EQ(AllocatorTunables("glibc.malloc.hugetlb=0"),
            "glibc.malloc.hugetlb=0:glibc.malloc.mmap_threshold=33554432:"
            "glibc.malloc.trim_threshold=67108864");
  EXPECT_EQ(AllocatorTunables("glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=0"),
            "glibc.malloc.arena_max=2:glibc.malloc.trim_threshold=0:glibc.malloc.hugetlb=1:"
            "glibc.malloc.mmap_threshold=33554432");
  // A name that only starts like one of ours is another tunable.
  EXPECT_EQ(AllocatorTunables("glibc.malloc.hugetlbx=1"),
            std::string("glibc.malloc.hugetlbx=1:") + kOurs);
}

// `vigil --version` run with the environment changes `env` (an `env`
// argument list): its allocator line, which reads the environment the
// running process has.
std::string AllocatorLine(const std::string& env) {
  Result r = Sh("env -u GLIBC_TUNABLES -u VIGIL_ALLOCATOR " + env + " " + kVigil + " --version");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  const size_t at = r.out.find("allocator: ");
  return at == std::string::npos ? r.out : r.out.substr(at, r.out.find('\n', at) - at);
}

TEST(AllocatorTest, VigilRunsWithTheTunables) {
  EXPECT_EQ(AllocatorLine(""), std::string("allocator: tuned (GLIBC_TUNABLES=") + kOurs + ")");
}

TEST(AllocatorTest, KeepsTheUsersTunables) {
  EXPECT_EQ(AllocatorLine("GLIBC_TUNABLES=glibc.malloc.hugetlb=0"),
            "allocator: tuned (GLIBC_TUNABLES=glibc.malloc.hugetlb=0:"
            "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=67108864)");
}

TEST(AllocatorTest, DefaultLeavesGlibcAlone) {
  EXPECT_EQ(AllocatorLine("VIGIL_ALLOCATOR=default"),
            "allocator: glibc defaults (VIGIL_ALLOCATOR=default)");
  // Another value is no setting: the tunables still apply.
  for (const char* other : {"bogus", "DEFAULT", "''"}) {
    EXPECT_EQ(AllocatorLine(std::string("VIGIL_ALLOCATOR=") + other),
              std::string("allocator: tuned (GLIBC_TUNABLES=") + kOurs + ")")
        << other;
  }
  // The restart's own mark without the tunables does not claim them.
  EXPECT_EQ(AllocatorLine("VIGIL_ALLOCATOR=tuned"),
            "allocator: glibc defaults (VIGIL_ALLOCATOR=tuned without vigil's GLIBC_TUNABLES)");
}

TEST(AllocatorTest, TheRestartKeepsThePidAndTheArguments) {
  // A supervisor (systemd, Kubernetes) must see one process: the restart
  // is an exec, not a child.
  const std::string addr = TempPath("alloc", "addr");
  ::unlink(addr.c_str());
  const pid_t pid =
      Spawn(kVigil + " dev-broker --topic t:1 --address-file " + addr, TempPath("alloc", "log"));
  ASSERT_TRUE(WaitFor([&] { return !ReadFile(addr).empty(); }, 20));
  std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  for (char& c : cmdline) c = c == '\0' ? ' ' : c;
  EXPECT_EQ(cmdline, kVigil + " dev-broker --topic t:1 --address-file " + addr + " ");
  char exe[4096] = {};
  ASSERT_GT(::readlink(("/proc/" + std::to_string(pid) + "/exe").c_str(), exe, sizeof exe - 1), 0);
  char want[4096] = {};
  ASSERT_NE(::realpath(kVigil.c_str(), want), nullptr);
  EXPECT_STREQ(exe, want);
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0);
}

TEST(AllocatorTest, TheRestartKeepsTheProcessName) {
  // The restart executes /proc/self/exe, after which the kernel calls the
  // process "exe"; operators find the job as vigil (ps, pgrep, top).
  const std::string log = TempPath("alloc", "name.log");
  const pid_t pid = Spawn(
      "env -u GLIBC_TUNABLES -u VIGIL_ALLOCATOR " + kVigil + " run --no-console --http 127.0.0.1:0",
      log);
  ASSERT_TRUE(WaitFor([&] { return ServingPort(ReadFile(log)) != 0; }, 20)) << ReadFile(log);
  const std::string proc = "/proc/" + std::to_string(pid);
  std::string environ = "\n" + ReadFile(proc + "/environ");
  for (char& c : environ) c = c == '\0' ? '\n' : c;
  EXPECT_NE(environ.find("\nVIGIL_ALLOCATOR=tuned\n"), std::string::npos) << "not restarted";
  EXPECT_EQ(ReadFile(proc + "/comm"), "vigil\n");
  EXPECT_EQ(Sh("ps -o comm= -p " + std::to_string(pid)).out, "vigil\n");
  const std::vector<std::string> found = Lines(Sh("pgrep -x vigil").out);
  EXPECT_NE(std::find(found.begin(), found.end(), std::to_string(pid)), found.end());
  ::kill(pid, SIGTERM);
  EXPECT_EQ(WaitExit(pid), 0) << ReadFile(log);
}

}  // namespace
}  // namespace vigil
