// Restarts of a Kafka job whose checkpoint was written before the group
// handed its partitions back: the development broker, kcat to produce, and
// the vigil binary.
#include <signal.h>

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/dev_broker.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

std::string Path(const std::string& name) { return TempPath("kafka_restore_", name); }

// Each partition's latest event time survives a run stopped before its
// assignment, so the last run still marks the window the input's end cuts
// short partial and refuses an event late on its own partition.
TEST(KafkaRestoreE2eTest, ACheckpointWrittenBeforeTheAssignmentKeepsEachPartitionsTime) {
  ASSERT_EQ(Sh("command -v kcat").exit_code, 0) << "kcat is missing: run scripts/setup.sh";
  absl::StatusOr<std::unique_ptr<DevBroker>> broker = DevBroker::Start(1, {{"events", 4}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  const std::string bootstrap = (*broker)->bootstrap();
  auto produce = [&](int partition, const std::vector<std::string>& times) {
    std::string lines;
    for (const std::string& t : times) {
      lines += "{\"ts\":\"2026-01-01T" + t + "Z\",\"type\":\"message\",\"n\":1}\n";
    }
    Result r = Sh("printf '" + lines + "' | kcat -P -b " + bootstrap + " -t events -p " +
                  std::to_string(partition) + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  };
  // Partitions 0, 2 and 3 reach 00:05:00 (their watermark 00:04:55),
  // partition 1 only 00:01:20: the job's watermark is 00:01:15.
  for (int p : {0, 2, 3}) produce(p, {"00:00:10", "00:05:00"});
  produce(1, {"00:00:10", "00:01:20"});
  const std::string rules = Path("rules.yaml"), results = Path("results.ndjson"),
                    dead = Path("dead.ndjson"), ckpt = Path("ckpt");
  Sh("rm -rf " + ckpt + " " + results + " " + dead);
  Sh("printf 'metrics:\\n  - metric: s\\n    window: tumbling 1m\\n    value: sum(n)\\n' > " +
     rules);
  const std::string job = kVigil + " run --input kafka://" + bootstrap +
                          "/events --group restore -X session.timeout.ms=6000"
                          " -X heartbeat.interval.ms=500 --rules " +
                          rules + " --checkpoint-dir " + ckpt + " --results " + results +
                          " --dead-letter " + dead + " --no-console --http off --no-progress";
  // Run 1 reads all four events.
  const pid_t first = Spawn(job, Path("run1.log"));
  ASSERT_TRUE(WaitFor([&] { return !Lines(ReadFile(results)).empty(); }, 30))
      << ReadFile(Path("run1.log"));
  ::kill(first, SIGTERM);
  ASSERT_EQ(WaitExit(first), 0) << ReadFile(Path("run1.log"));
  // Run 2 is stopped before the group assigns it anything, and writes its
  // checkpoint then.
  const pid_t second = Spawn(job, Path("run2.log"));
  ASSERT_TRUE(
      WaitFor([&] { return ReadFile(Path("run2.log")).find("restored") != std::string::npos; }, 30))
      << ReadFile(Path("run2.log"));
  ::kill(second, SIGTERM);
  ASSERT_EQ(WaitExit(second), 0) << ReadFile(Path("run2.log"));
  ASSERT_EQ(ReadFile(Path("run2.log")).find("assigned"), std::string::npos)
      << "the group assigned partitions before the stop: " << ReadFile(Path("run2.log"));
  // 00:03:00 is late on partition 0 (behind its 00:04:55), though not
  // behind the job's watermark.
  produce(0, {"00:03:00"});
  Result last = Sh(job + " --exit-at-end 2>&1");
  ASSERT_EQ(last.exit_code, 0) << last.out;
  EXPECT_EQ(
      Lines(ReadFile(results)),
      (std::vector<std::string>{
          R"({"metric":"s","start":"2026-01-01T00:00:00.000Z","end":"2026-01-01T00:01:00.000Z","labels":{},"value":4})",
          R"({"metric":"s","start":"2026-01-01T00:01:00.000Z","end":"2026-01-01T00:02:00.000Z","labels":{},"value":1})",
          R"({"metric":"s","start":"2026-01-01T00:05:00.000Z","end":"2026-01-01T00:06:00.000Z","labels":{},"value":3,"partial":true})",
      }));
  EXPECT_NE(ReadFile(dead).find("\"reason\":\"late\""), std::string::npos) << ReadFile(dead);
}

}  // namespace
}  // namespace vigil
