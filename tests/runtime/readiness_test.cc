// /readyz watermark freshness: the WatermarkStall decision with an injected
// clock, the job-file key, and a live Kafka job whose watermark gets stuck
// while events keep arriving (then advances, then goes idle).
#include "runtime/readiness.h"

#include <signal.h>
#include <simdjson.h>

#include <chrono>
#include <fstream>
#include <string>

#include "base/strings.h"
#include "base/time.h"
#include "gtest/gtest.h"
#include "operators/net/kafka_writer.h"
#include "runtime/dev_broker.h"
#include "runtime/job_config.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

TEST(WatermarkStallTest, CountsOnlyTrafficWhileTheWatermarkStands) {
  WatermarkStall stall(60'000);
  stall.Observe(5'000, "events/0", 10, 0);
  EXPECT_EQ(stall.stalled(), 0);
  stall.Observe(5'000, "events/0", 20, 50'000);
  EXPECT_EQ(stall.stalled(), 50'000);
  EXPECT_EQ(stall.Check(), "");
  // A pause in traffic neither counts nor resets.
  stall.Observe(5'000, "events/0", 20, 500'000);
  EXPECT_EQ(stall.stalled(), 50'000);
  stall.Observe(5'000, "events/0", 30, 510'000);
  EXPECT_EQ(stall.stalled(), 60'000);
  EXPECT_FALSE(stall.over()) << "the bound itself is still ready";
  stall.Observe(5'000, "events/0", 31, 511'500);
  EXPECT_EQ(stall.stalled(), 61'500);
  EXPECT_TRUE(stall.over());
  EXPECT_EQ(stall.Check(),
            "the watermark has not advanced for 1m1s of traffic (readiness.max_watermark_stall "
            "1m): input events/0 holds it at 1970-01-01T00:00:05.000Z");
  // An advance resets it.
  stall.Observe(5'001, "events/0", 40, 512'000);
  EXPECT_EQ(stall.stalled(), 0);
  EXPECT_EQ(stall.Check(), "");
}

TEST(WatermarkStallTest, NothingHoldingTheWatermarkResetsIt) {
  WatermarkStall stall(1'000);
  stall.Observe(5'000, "events/0", 1, 0);
  stall.Observe(5'000, "events/0", 2, 3'000);
  EXPECT_TRUE(stall.over());
  // Every input idle: the watermark may stand (event time ahead of the
  // clock), yet nothing is stuck.
  stall.Observe(5'000, "", 2, 4'000);
  EXPECT_EQ(stall.stalled(), 0);
  EXPECT_EQ(stall.Check(), "");
  // Traffic resumes without moving the watermark: a fresh count.
  stall.Observe(5'000, "events/1", 3, 5'000);
  EXPECT_EQ(stall.stalled(), 0);
  stall.Observe(5'000, "events/1", 4, 5'800);
  EXPECT_EQ(stall.stalled(), 800);
  EXPECT_FALSE(stall.over());
}

TEST(WatermarkStallTest, ZeroDisablesTheCheckButNotTheCount) {
  WatermarkStall stall(0);
  stall.Observe(kMinTime, "events/0", 1, 0);
  stall.Observe(kMinTime, "events/0", 2, 1'000'000);
  EXPECT_EQ(stall.stalled(), 1'000'000);
  EXPECT_FALSE(stall.over());
  EXPECT_EQ(stall.Check(), "");
}

TEST(WatermarkStallTest, AnInputWithoutDataHoldsItBeforeAnyWatermark) {
  WatermarkStall stall(500);
  stall.Observe(kMinTime, "events/1", 1, 0);
  stall.Observe(kMinTime, "events/1", 2, 700);
  EXPECT_EQ(stall.Check(),
            "the watermark has not advanced for 700ms of traffic (readiness.max_watermark_stall "
            "500ms): input events/1 holds it before any watermark");
}

std::string LoadError(const std::string& yaml, JobConfig* out = nullptr) {
  const std::string path = TempPath("readiness_", "job.yaml");
  std::ofstream(path) << yaml;
  absl::StatusOr<JobConfig> c = LoadJobConfig(path, DefaultJobConfig());
  if (c.ok()) {
    if (out) *out = *c;
    return "ok";
  }
  std::string msg(c.status().message());
  return msg.substr(msg.find(':') + 1);  // drop the path
}

TEST(ReadinessConfigTest, MaxWatermarkStallIsADurationWithADefault) {
  JobConfig c;
  EXPECT_EQ(DefaultJobConfig().readiness.max_watermark_stall, 300'000);
  ASSERT_EQ(LoadError("readiness:\n  max_watermark_stall: 90s\n", &c), "ok");
  EXPECT_EQ(c.readiness.max_watermark_stall, 90'000);
  ASSERT_EQ(LoadError("readiness: {max_watermark_stall: 0}\n", &c), "ok");
  EXPECT_EQ(c.readiness.max_watermark_stall, 0);
  EXPECT_EQ(LoadError("readiness:\n  max_watermark_stall: soon\n"),
            "2:24: expected a duration such as 0, 500ms, 30s, 5m");
  EXPECT_EQ(LoadError("readiness: {stall: 1m}\n"),
            "1:13: unknown key 'stall' in readiness (allowed: max_watermark_stall)");
}

// A live Kafka job (one partition) with a 2 s stall bound; the test produces
// the events itself, so it decides when event time moves.
class ReadinessE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<DevBroker>> b = DevBroker::Start(1, {{"events", 1}});
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = std::move(*b);
    absl::StatusOr<std::unique_ptr<KafkaWriter>> w = KafkaWriter::Create(broker_->bootstrap(), {});
    ASSERT_TRUE(w.ok()) << w.status();
    writer_ = std::move(*w);
  }
  std::string Path(const std::string& name) {
    return TempPath(std::string("readiness_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
  void Produce(TimeMs ts) {
    const std::string event =
        StrCat("{\"ts\":\"", FormatTimestamp(ts), "\",\"type\":\"message\",\"latency_ms\":100}");
    ASSERT_TRUE(writer_->Produce("events", "s", event).ok());
    ASSERT_TRUE(writer_->Flush(std::chrono::seconds(10)).ok()) << writer_->last_error();
  }
  // Produces an event at `ts(i)` every 100 ms until `done` holds (30 s at most).
  template <class Ts, class Done>
  bool ProduceUntil(Ts ts, Done done) {
    for (int i = 0; i < 300; ++i) {
      Produce(ts(i));
      if (done()) return true;
      ::usleep(100'000);
    }
    return false;
  }
  std::unique_ptr<DevBroker> broker_;
  std::unique_ptr<KafkaWriter> writer_;
};

TEST_F(ReadinessE2eTest, AStuckWatermarkMakesTheJobUnreadyAndAnIdleOneDoesNot) {
  const std::string job_file = Path("job.yaml"), log = Path("run.log");
  std::ofstream(job_file) << "readiness:\n  max_watermark_stall: 2s\n";
  const pid_t job =
      Spawn(kVigil + " run --config " + job_file + " --input kafka://" + broker_->bootstrap() +
                "/events --idle-timeout 3s --no-console "
                "--http 127.0.0.1:0 --max-future 1d -X session.timeout.ms=6000 "
                "-X heartbeat.interval.ms=500",
            log);
  ChildGuard guard(job);
  const std::string base = JobHttpBase(log);
  ASSERT_FALSE(base.empty()) << ReadFile(log);
  auto ready = [&] { return HttpGet(base, "/readyz"); };
  auto metric = [&](const char* series) {
    return MetricValue(HttpGet(base, "/metrics").second, series);
  };
  ASSERT_TRUE(WaitFor([&] { return ready().first == 200; }, 20)) << ReadFile(log);

  // Event time an hour ahead of the clock: once the input is idle, the
  // processing clock cannot move the watermark either.
  const TimeMs now = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() *
                     1000;
  const TimeMs t = now + 3'600'000;
  // Events keep arriving, all at the same time: the watermark stands at t - 5 s.
  ASSERT_TRUE(ProduceUntil([&](int) { return t; }, [&] { return ready().first == 503; }))
      << ReadFile(log);
  const std::string stuck_at = FormatTimestamp(t - 5000);
  EXPECT_NE(ready().second.find("the watermark has not advanced for "), std::string::npos)
      << ready().second;
  EXPECT_NE(ready().second.find("(readiness.max_watermark_stall 2s): input events/0 holds it at " +
                                stuck_at + "\n"),
            std::string::npos)
      << ready().second;
  // The gauges follow within the job's once-a-second look.
  EXPECT_TRUE(WaitFor([&] { return metric("vigil_watermark_stalled") == 1; }, 5));
  EXPECT_GT(metric("vigil_watermark_stall_seconds"), 2);

  // Event time moves again: ready, and the count starts over.
  ASSERT_TRUE(
      ProduceUntil([&](int i) { return t + 1000 * (i + 1); }, [&] { return ready().first == 200; }))
      << ReadFile(log);
  EXPECT_TRUE(WaitFor([&] { return metric("vigil_watermark_stalled") == 0; }, 5));

  // Stuck again, then traffic stops: once the input is idle nothing holds
  // the watermark, which still stands (event time is ahead of the clock).
  const TimeMs t2 = t + 600'000;
  ASSERT_TRUE(ProduceUntil([&](int) { return t2; }, [&] { return ready().first == 503; }))
      << ReadFile(log);
  ASSERT_TRUE(WaitFor([&] { return ready().first == 200; }, 20)) << ReadFile(log);
  simdjson::dom::parser parser;
  simdjson::dom::element status;
  std::string text;
  // /api/status is built after the gauges are set: once it shows the idle
  // input, /metrics shows what went with it.
  ASSERT_TRUE(WaitFor(
      [&] {
        text = HttpGet(base, "/api/status").second;
        bool idle = false;
        return parser.parse(text).get(status) == simdjson::SUCCESS &&
               status.at_pointer("/inputs/0/idle").get(idle) == simdjson::SUCCESS && idle;
      },
      5))
      << text;
  EXPECT_EQ(std::string_view(status["watermark"].get_string().value()), FormatTimestamp(t2 - 5000));
  EXPECT_EQ(status["watermark_stall"]["seconds"].get_double().value(), 0) << text;
  EXPECT_FALSE(status["watermark_stall"]["stalled"].get_bool().value()) << text;
  EXPECT_EQ(metric("vigil_watermark_stalled"), 0);
  EXPECT_EQ(metric("vigil_watermark_stall_seconds"), 0);
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0) << ReadFile(log);
}

}  // namespace
}  // namespace vigil
