// End-to-end tests of the Kafka path over the Kafka protocol on loopback:
// an in-process development broker (librdkafka's mock cluster), Debian's
// kcat as an independent client, and the vigil binary.
#include <signal.h>

#include <algorithm>
#include <string>

#include "gtest/gtest.h"
#include "runtime/dev_broker.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
// Group rebalances in the mock cluster wait session.timeout.ms - 1 s.
const std::string kGroupProps = " -X session.timeout.ms=6000 -X heartbeat.interval.ms=500";

class KafkaE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Sh("command -v kcat").exit_code, 0) << "kcat is missing: run scripts/setup.sh";
    absl::StatusOr<std::unique_ptr<DevBroker>> b = DevBroker::Start(1, {{"events", 4}});
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = std::move(*b);
  }
  std::string Path(const std::string& name) { return TempPath("kafka_", name); }
  std::string Url() { return "kafka://" + broker_->bootstrap() + "/events"; }
  // Produces the lines of `file` with kcat (no keys: spread over partitions,
  // or all to `partition`).
  void Produce(const std::string& file, int partition = -1) {
    const std::string p = partition >= 0 ? " -p " + std::to_string(partition) : "";
    Result r = Sh("kcat -b " + broker_->bootstrap() + " -P -t events -z lz4" + p + " -l " + file +
                  " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  }
  std::unique_ptr<DevBroker> broker_;
};

TEST_F(KafkaE2eTest, TopicGivesTheSameWindowsAsTheFile) {
  const std::string events = Path("events.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --rate 20 --duration 30m --seed 5 "
                        "--incident latency_spike@5m+10m --out " + events).exit_code, 0);
  Produce(events);
  // Every partition got some of the file.
  Result parts = Sh("kcat -b " + broker_->bootstrap() + " -C -t events -e -q -f '%p\\n' | sort -u");
  EXPECT_EQ(Lines(parts.out), (std::vector<std::string>{"0", "1", "2", "3"}));

  const std::string from_kafka = Path("kafka.ndjson"), from_file = Path("file.ndjson");
  Result k = Sh(kVigil + " run --input " + Url() + " --exit-at-end --results " + from_kafka +
                " --no-console --http off --no-progress" + kGroupProps + " 2>&1");
  ASSERT_EQ(k.exit_code, 0) << k.out;
  EXPECT_NE(k.out.find("36000 records"), std::string::npos) << k.out;
  Result f = Sh(kVigil + " run --input " + events + " --results " + from_file +
                " --no-console --http off --no-progress 2>&1");
  ASSERT_EQ(f.exit_code, 0) << f.out;
  const std::vector<std::string> a = Lines(ReadFile(from_kafka)), b = Lines(ReadFile(from_file));
  EXPECT_GT(b.size(), 500u);
  // Counts exact, quantiles identical: the same lines, in the same order.
  EXPECT_EQ(a, b);
}

TEST_F(KafkaE2eTest, AnIdlePartitionDoesNotStallTheWindows) {
  // Events far ahead of the clock, so only the idle rule (not the processing
  // clock) can move the watermark past them; partition 3 gets nothing.
  const std::string events = Path("events.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --rate 10 --duration 20m --seed 2 --start 2030-01-01T00:00:00Z --out " +
               events).exit_code, 0);
  ASSERT_EQ(Sh("split -n r/3 -d " + events + " " + events + ".").exit_code, 0);
  for (int p = 0; p < 3; ++p) Produce(events + ".0" + std::to_string(p), p);

  auto run = [&](const std::string& idle, const std::string& results, double wait_seconds) {
    const pid_t pid = Spawn(kVigil + " run --input " + Url() + " --idle-timeout " + idle +
                                " --results " + results + " --no-console --http off --no-progress" +
                                kGroupProps,
                            Path("run.log"));
    // Windows closing up to minute 15 or later need partitions 0-2 only.
    const bool closed = WaitFor(
        [&] { return ReadFile(results).find("\"end\":\"2030-01-01T00:15:00") != std::string::npos; },
        wait_seconds);
    ::kill(pid, SIGTERM);
    EXPECT_EQ(WaitExit(pid), 0) << ReadFile(Path("run.log"));
    return closed;
  };
  EXPECT_TRUE(run("1s", Path("idle.ndjson"), 30)) << ReadFile(Path("run.log"));
  // Control: without the idle rule the empty partition holds everything back
  // (the group join takes about 3 s, the idle case closes right after it).
  EXPECT_FALSE(run("1h", Path("held.ndjson"), 8));
  EXPECT_EQ(ReadFile(Path("held.ndjson")), "");
}

}  // namespace
}  // namespace vigil
