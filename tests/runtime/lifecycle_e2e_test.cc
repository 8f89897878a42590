// SIGTERM: a job drains, flushes and exits 0; a shutdown that cannot finish
// (an output that cannot deliver) is cut off after --shutdown-timeout.
#include <signal.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

TEST(LifecycleE2eTest, SigtermFlushesAndExitsZero) {
  const std::string log = TempPath("life_", "ok.log"), results = TempPath("life_", "ok.ndjson");
  const pid_t job =
      Spawn(kVigil + " run --speed 600 --no-console --http off --results " + results, log);
  ASSERT_TRUE(WaitFor([&] { return !ReadFile(results).empty(); }, 20)) << ReadFile(log);
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find(" records in "), std::string::npos) << ReadFile(log);
  // Flushed: the last line is whole.
  const std::string out = ReadFile(results);
  ASSERT_FALSE(out.empty());
  EXPECT_EQ(out.back(), '\n');
}

TEST(LifecycleE2eTest, AShutdownThatCannotFinishIsCutOffAfterTheTimeout) {
  // Nothing listens on port 1: the Kafka output can never deliver, so the
  // final flush would wait for its own 30 s.
  const std::string log = TempPath("life_", "stuck.log");
  const pid_t job = Spawn(kVigil +
                              " run --speed 600 --no-console --no-progress --http off "
                              "--results kafka://127.0.0.1:1/windows --shutdown-timeout 1s",
                          log);
  ::usleep(1500000);
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 1) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("vigil: shutdown took longer than 1s"), std::string::npos)
      << ReadFile(log);
}

}  // namespace
}  // namespace vigil
