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

// Sorted distinct lines: alert transitions printed again after a restart
// (the console is not rolled back) count once.
std::vector<std::string> Distinct(const std::string& text) {
  std::vector<std::string> lines = Lines(text);
  std::sort(lines.begin(), lines.end());
  lines.erase(std::unique(lines.begin(), lines.end()), lines.end());
  return lines;
}

TEST_F(KafkaE2eTest, KillNineAndRestartFromTheCheckpointGivesTheUninterruptedResults) {
  // Events are produced while the job runs (30 minutes of event time in
  // 6 s), so the kill lands mid-stream.
  const pid_t gen = Spawn(kVigil + " gen --to " + Url() + " --rate 20 --duration 30m --speed 300 "
                              "--seed 9 --incident latency_spike@5m+10m",
                          Path("gen.log"));
  const std::string ckpt = Path("ckpt"), results = Path("results.ndjson");
  const std::string common = " --input " + Url() + " --idle-timeout 1h --output json --http off "
                             "--no-progress" + kGroupProps;
  const pid_t job = Spawn(kVigil + " run --group killed --checkpoint-dir " + ckpt +
                              " --checkpoint-interval 100ms --results " + results + common,
                          Path("run1.log"));
  ASSERT_TRUE(WaitFor([&] { return Lines(ReadFile(results)).size() > 100; }, 30))
      << ReadFile(Path("run1.log"));
  ::kill(job, SIGKILL);
  EXPECT_EQ(WaitExit(job), -SIGKILL);
  const size_t before_restart = Lines(ReadFile(results)).size();
  ASSERT_EQ(WaitExit(gen), 0) << ReadFile(Path("gen.log"));
  EXPECT_LT(before_restart, 900u) << "the kill should land mid-stream";

  // The newest checkpoint is damaged: the restart must say so and use the
  // one before it.
  Result newest = Sh("ls " + ckpt + "/checkpoint-*.vck | tail -1");
  ASSERT_EQ(newest.exit_code, 0);
  const std::string newest_path = Lines(newest.out).back();
  ASSERT_EQ(Sh("printf 'garbage' | dd of=" + newest_path +
               " bs=1 seek=40 conv=notrunc status=none").exit_code, 0);

  Result resumed = Sh(kVigil + " run --group killed --checkpoint-dir " + ckpt +
                      " --exit-at-end --results " + results + common + " 2>" + Path("run2.log"));
  ASSERT_EQ(resumed.exit_code, 0) << ReadFile(Path("run2.log"));
  const std::string log2 = ReadFile(Path("run2.log"));
  EXPECT_NE(log2.find("skipping checkpoint " + newest_path + ": checksum mismatch"),
            std::string::npos) << log2;
  EXPECT_NE(log2.find("vigil: restored checkpoint"), std::string::npos) << log2;

  const std::string clean = Path("clean.ndjson");
  Result uninterrupted = Sh(kVigil + " run --group clean --exit-at-end --results " + clean +
                            common + " 2>/dev/null");
  ASSERT_EQ(uninterrupted.exit_code, 0);
  EXPECT_NE(log2.find("36000 records"), std::string::npos) << log2;
  EXPECT_NE(log2.find("0 dead-lettered"), std::string::npos) << log2;
  // Window results: nothing missing, nothing doubled, same order.
  EXPECT_GT(Lines(ReadFile(clean)).size(), 900u);
  EXPECT_EQ(Lines(ReadFile(results)), Lines(ReadFile(clean)));
  // Alert transitions: the same set.
  const std::string console1 = ReadFile(Path("run1.log")) + resumed.out;
  std::vector<std::string> transitions;
  for (const std::string& l : Distinct(console1)) {
    if (l.find("\"alert\":") != std::string::npos) transitions.push_back(l);
  }
  std::vector<std::string> expected;
  for (const std::string& l : Distinct(uninterrupted.out)) {
    if (l.find("\"alert\":") != std::string::npos) expected.push_back(l);
  }
  EXPECT_GE(expected.size(), 2u);
  EXPECT_EQ(transitions, expected);
}

}  // namespace
}  // namespace vigil
