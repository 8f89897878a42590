// A job reading a pipe on stdin that has gone quiet still answers: SIGHUP
// reloads its rules, SIGTERM stops it cleanly (exit 0, a final checkpoint),
// and interval checkpoints are written, all while no line arrives. So does
// one reading a named pipe given as --input.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/strings.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

// The parameter: the pipe is a named one given as --input, not stdin.
class StdinIdleTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/vigil_stdin_idle_" + std::to_string(::getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    rules_ = dir_ + "/rules.yaml";
    err_ = dir_ + "/err.txt";
    std::ofstream(rules_)
        << "metrics:\n  - metric: n\n    window: tumbling 1m\n    value: count()\n";
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      WaitExit(pid_);
    }
    if (fd_ >= 0) ::close(fd_);
    std::filesystem::remove_all(dir_);
  }
  // Starts the job reading a pipe we hold open, with `events` written to it.
  void Start(const std::string& flags, const std::string& events) {
    const bool named = GetParam();
    const std::string fifo = dir_ + "/events.fifo";
    int p[2] = {-1, -1};
    if (named) {
      ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    } else {
      ASSERT_EQ(::pipe(p), 0);
    }
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      if (!named) {
        ::dup2(p[0], 0);
        ::close(p[0]);
        ::close(p[1]);
      }
      const std::string cmd =
          StrCat("exec ", kVigil, " run --input ", named ? fifo : "-", " --rules ", rules_,
                 " --no-progress --no-console ", flags, " 2>", err_);
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    if (named) {
      fd_ = ::open(fifo.c_str(), O_WRONLY);  // once the job opens it
      ASSERT_GE(fd_, 0);
    } else {
      ::close(p[0]);
      fd_ = p[1];
    }
    ASSERT_EQ(::write(fd_, events.data(), events.size()), static_cast<ssize_t>(events.size()));
  }
  bool Logged(const std::string& text, double seconds) {
    return WaitFor([&] { return ReadFile(err_).find(text) != std::string::npos; }, seconds);
  }
  // The exit code, or -1 if the job is still running after `seconds`.
  int ExitWithin(double seconds) {
    int status = 0;
    const bool done = WaitFor([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, seconds);
    if (!done) return -1;
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

  std::string dir_, rules_, err_;
  pid_t pid_ = -1;
  int fd_ = -1;
};

const std::string kEvents =
    "{\"ts\":\"2026-01-01T00:00:01Z\",\"type\":\"m\"}\n"
    "{\"ts\":\"2026-01-01T00:00:02Z\",\"type\":\"m\"}\n"
    "{\"ts\":\"2026-01-01T00:00:03Z\",\"type\":\"m\"}\n";

TEST_P(StdinIdleTest, SighupReloadsAndSigtermStopsWhileNoLineArrives) {
  Start("--http off", kEvents);
  ::usleep(500'000);
  std::ofstream(rules_) << "metrics: [\n";
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  EXPECT_TRUE(Logged("reload refused", 5)) << ReadFile(err_);
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(ExitWithin(5), 0) << ReadFile(err_);
  EXPECT_NE(ReadFile(err_).find("3 records"), std::string::npos) << ReadFile(err_);
  EXPECT_EQ(ReadFile(err_).find("shutdown took longer"), std::string::npos) << ReadFile(err_);
}

TEST_P(StdinIdleTest, CheckpointsAreWrittenWhileNoLineArrives) {
  const std::string ck = dir_ + "/ck";
  Start(StrCat("--http off --checkpoint-dir ", ck, " --checkpoint-interval 1s"), kEvents);
  // The three events and then nothing: one checkpoint a second goes on
  // (checkpoint-<sequence>.vck).
  int newest = 0;
  const bool written = WaitFor(
      [&] {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(ck, ec)) {
          const std::string name = e.path().filename().string();
          if (name.rfind("checkpoint-", 0) == 0) {
            newest = std::max(newest, std::atoi(name.c_str() + 11));
          }
        }
        return newest >= 3;
      },
      10);
  EXPECT_TRUE(written) << "newest checkpoint " << newest << "\n" << ReadFile(err_);
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  EXPECT_EQ(ExitWithin(5), 0) << ReadFile(err_);
}

// A named pipe no writer ever opens does not hold the job in open():
// SIGTERM stops it.
TEST(NamedPipeTest, SigtermStopsAJobWhosePipeNeverGetsAWriter) {
  const std::string dir = TempPath("named_pipe_no_writer_", "");
  std::filesystem::create_directories(dir);
  const std::string fifo = dir + "/events.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  Result r = Sh(StrCat("timeout --preserve-status -s TERM 2 ", kVigil, " run --input ", fifo,
                       " --no-progress --no-console --http off 2>&1"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("0 records"), std::string::npos) << r.out;
  std::filesystem::remove_all(dir);
}

// A job restored from a checkpoint reads the named pipe it has open on
// from the saved line, and ends when the writer closes, as a fresh one
// does (it used to open the pipe a second time and wait there for another
// writer).
TEST(NamedPipeTest, ARestoredJobEndsWhenItsWriterCloses) {
  const std::string dir = TempPath("named_pipe_restore_", "");
  std::filesystem::create_directories(dir);
  const std::string fifo = dir + "/events.fifo", events = dir + "/events.ndjson";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::ofstream(events) << kEvents;
  const std::string run = StrCat(kVigil, " run --input ", fifo, " --checkpoint-dir ", dir,
                                 "/ck --no-progress --no-console --http off");
  // The first run reads the three events from a writer that stays, and
  // stops on SIGTERM with a checkpoint after them.
  Result first =
      Sh(StrCat("(cat ", events, "; sleep 3) > ", fifo, " & timeout --preserve-status -s TERM 1.5 ",
                run, " 2>&1; rc=$?; wait; exit $rc"));
  ASSERT_EQ(first.exit_code, 0) << first.out;
  // The second gets the same stream and three more, from a writer that
  // then closes.
  Result second = Sh(StrCat("(cat ", events, "; sed 's/:0[0-9]Z/:09Z/' ", events, ") > ", fifo,
                            " & timeout -s KILL 20 ", run, " 2>&1; rc=$?; wait; exit $rc"));
  EXPECT_EQ(second.exit_code, 0) << second.out;
  EXPECT_NE(second.out.find("restored checkpoint"), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("6 records"), std::string::npos) << second.out;
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Pipes, StdinIdleTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "NamedPipe" : "Stdin";
                         });

}  // namespace
}  // namespace vigil
