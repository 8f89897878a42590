// End-to-end tests of the Kafka path over the Kafka protocol on loopback:
// an in-process development broker (librdkafka's mock cluster), Debian's
// kcat as an independent client, and the vigil binary.
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <string>

#include "base/strings.h"
#include "base/time.h"
#include "gtest/gtest.h"
#include "runtime/dev_broker.h"
#include "tests/runtime/kafka_e2e_fixture.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil::kafka_e2e_test {
namespace {

TEST_F(KafkaE2eTest, TopicGivesTheSameWindowsAsTheFile) {
  const std::string events = Path("events.ndjson");
  ASSERT_EQ(Sh(kVigil +
               " gen --rate 20 --duration 30m --seed 5 "
               "--incident latency_spike@5m+10m --out " +
               events)
                .exit_code,
            0);
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

// A run that read the topic to its end (--exit-at-end) closed every
// window: a run from its checkpoint with nothing new does nothing, and one
// that finds new records says what to do instead of dead-lettering them
// all as late.
TEST_F(KafkaE2eTest, NewRecordsAfterAnEndedRunAreRefused) {
  const std::string first = Path("first.ndjson"), second = Path("second.ndjson"),
                    ckpt = Path("ckpt");
  ASSERT_EQ(Sh(kVigil + " gen --rate 5 --duration 2m --seed 5 --out " + first).exit_code, 0);
  ASSERT_EQ(Sh(kVigil + " gen --rate 5 --duration 2m --seed 6 --start 2026-01-01T00:10:00Z" +
               " --out " + second)
                .exit_code,
            0);
  Produce(first);
  const std::string run = kVigil + " run --input " + Url() + " --exit-at-end --checkpoint-dir " +
                          ckpt + " --no-console --http off --no-progress" + kGroupProps + " 2>&1";
  ASSERT_EQ(Sh(run).exit_code, 0);
  Result again = Sh(run);
  EXPECT_EQ(again.exit_code, 0) << again.out;
  Produce(second);
  Result more = Sh(run);
  EXPECT_EQ(more.exit_code, 1) << more.out;
  EXPECT_NE(more.out.find("has records after where the checkpoint was written when its input had "
                          "ended: every window is closed"),
            std::string::npos)
      << more.out;
}

// Lateness is judged per partition, against the partition's own
// watermark. Partition 0 holds an event 10 s behind its newest (past the
// 5 s out-of-orderness), partition 1 one event a second. However fetches of
// the two interleave and for any number of workers, that event is late and
// no other: the decisions a scale-out instance makes too. (Against the
// job's watermark, the lower of the two, it counted or not depending on how
// much of partition 1 had been read.)
TEST_F(KafkaE2eTest, LatenessIsJudgedPerPartitionWhateverTheFetchOrder) {
  const std::string p0 = Path("p0.ndjson"), p1 = Path("p1.ndjson"), rules = Path("rules.yaml");
  auto event = [](int second) {
    return StrCat("{\"ts\":", 1'767'225'600'000LL + second * 1000LL, ",\"type\":\"message\"}\n");
  };
  std::ofstream(p0) << event(0) << event(60) << event(50) << event(61);
  {
    std::ofstream out(p1);
    for (int s = 0; s <= 70; ++s) out << event(s);
  }
  std::ofstream(rules) << "metrics:\n"
                          "  - metric: n\n"
                          "    window: tumbling 1m\n"
                          "    value: count()\n";
  Produce(p0, 0);
  Produce(p1, 1);
  int run = 0;
  for (const char* workers : {"1", "2", "1", "2"}) {
    const std::string results = Path(StrCat("results-", ++run, ".ndjson"));
    // A group of its own: each run reads the topic from the start.
    Result r = Sh(StrCat(kVigil, " run --input ", Url(), " --group late-", run, " --rules ", rules,
                         " --workers ", workers, " --exit-at-end --results ", results,
                         " --no-console --http off --no-progress", kGroupProps, " 2>&1"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    EXPECT_NE(r.out.find("75 records"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("74 processed, 1 dead-lettered (1 late)"), std::string::npos) << r.out;
    // The first minute: 00:00 of partition 0, 00:00-00:59 of partition 1.
    EXPECT_NE(ReadFile(results).find("\"end\":\"2026-01-01T00:01:00.000Z\",\"labels\":{},"
                                     "\"value\":61"),
              std::string::npos)
        << ReadFile(results);
  }
}

TEST_F(KafkaE2eTest, AnIdlePartitionDoesNotStallTheWindows) {
  // Events far ahead of the clock, so only the idle rule (not the processing
  // clock) can move the watermark past them; partition 3 gets nothing.
  const std::string events = Path("events.ndjson");
  ASSERT_EQ(
      Sh(kVigil + " gen --rate 10 --duration 20m --seed 2 --start 2030-01-01T00:00:00Z --out " +
         events)
          .exit_code,
      0);
  ASSERT_EQ(Sh("split -n r/3 -d " + events + " " + events + ".").exit_code, 0);
  for (int p = 0; p < 3; ++p) Produce(events + ".0" + std::to_string(p), p);

  auto run = [&](const std::string& idle, const std::string& results, double wait_seconds) {
    // 2030 is ahead of the clock: lift the bound on future event times.
    const pid_t pid = Spawn(kVigil + " run --input " + Url() + " --idle-timeout " + idle +
                                " --max-future 0 --results " + results +
                                " --no-console --http off --no-progress" + kGroupProps,
                            Path("run-" + idle + ".log"));
    // Windows closing up to minute 15 or later need partitions 0-2 only.
    const bool closed = WaitFor(
        [&] {
          return ReadFile(results).find("\"end\":\"2030-01-01T00:15:00") != std::string::npos;
        },
        wait_seconds);
    ::kill(pid, SIGTERM);
    EXPECT_EQ(WaitExit(pid), 0) << "--idle-timeout " << idle << ":\n"
                                << ReadFile(Path("run-" + idle + ".log"));
    return closed;
  };
  EXPECT_TRUE(run("1s", Path("idle.ndjson"), 30)) << ReadFile(Path("run-1s.log"));
  // Control: without the idle rule the empty partition holds everything back
  // (the group join takes about 3 s, the idle case closes right after it).
  EXPECT_FALSE(run("1h", Path("held.ndjson"), 8));
  EXPECT_EQ(ReadFile(Path("held.ndjson")), "");
}

// One event stamped 9999-12-31 in the middle of a partition: it is
// dead-lettered as future_ts and does not move the watermark, so the events
// after it are not late and the windows are those of the file without it.
// (Without the bound the partition's watermark jumps to year 9999 and every
// later event of the partition is late.)
TEST_F(KafkaE2eTest, AnEventFarAheadOfTheClockIsDeadLetteredAndDoesNotMoveTheWatermark) {
  const std::string events = Path("events.ndjson"), poisoned = Path("poisoned.ndjson");
  ASSERT_EQ(Sh(kVigil +
               " gen --rate 20 --duration 30m --seed 5 "
               "--incident latency_spike@5m+10m --out " +
               events)
                .exit_code,
            0);
  const std::string future =
      R"({"ts":"9999-12-31T23:59:59.999Z","type":"message","session_id":"s-future","intent":"faq","latency_ms":5})";
  std::vector<std::string> lines = Lines(ReadFile(events));
  ASSERT_EQ(lines.size(), 36000u);
  lines.insert(lines.begin() + 1000, future);
  {
    std::ofstream out(poisoned);
    for (const std::string& l : lines) out << l << '\n';
  }
  // One partition keeps the file's order; the other three stay empty.
  Produce(poisoned, 0);
  const std::string results = Path("results.ndjson"), dead = Path("dead.ndjson");
  Result k = Sh(kVigil + " run --input " + Url() + " --exit-at-end --results " + results +
                " --dead-letter " + dead + " --no-console --http off --no-progress" + kGroupProps +
                " 2>&1");
  ASSERT_EQ(k.exit_code, 0) << k.out;
  EXPECT_NE(k.out.find("36001 records"), std::string::npos) << k.out;
  EXPECT_NE(k.out.find(" 1 dead-lettered"), std::string::npos) << k.out;
  const std::vector<std::string> dl = Lines(ReadFile(dead));
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(
      dl[0].rfind(
          R"({"reason":"future_ts","detail":"event time 9999-12-31T23:59:59.999Z is more than 1h ahead of the clock ()",
          0),
      0u)
      << dl[0];
  // A message has no line: its partition and offset.
  EXPECT_NE(dl[0].find(R"("source":"events/0","input":0,"offset":1000,)"), std::string::npos)
      << dl[0];

  Result f = Sh(kVigil + " run --input " + events + " --results " + Path("file.ndjson") +
                " --no-console --http off --no-progress 2>&1");
  ASSERT_EQ(f.exit_code, 0) << f.out;
  const std::vector<std::string> b = Lines(ReadFile(Path("file.ndjson")));
  EXPECT_GT(b.size(), 500u);
  EXPECT_EQ(Lines(ReadFile(results)), b);

  // --max-future 0 trusts every event time: the event is counted in windows
  // of year 9999 and moves its partition's watermark there, so the rest of
  // the partition is late, as after such an event in a file.
  Result off = Sh(kVigil + " run --input " + Url() + " --exit-at-end --max-future 0 --results " +
                  Path("off.ndjson") + " --group unbounded --no-console --http off --no-progress" +
                  kGroupProps + " 2>&1");
  ASSERT_EQ(off.exit_code, 0) << off.out;
  EXPECT_NE(off.out.find("1001 processed, 35000 dead-lettered (35000 late)"), std::string::npos)
      << off.out;
  EXPECT_NE(ReadFile(Path("off.ndjson")).find(R"("start":"9999-12-31T23:)"), std::string::npos);
}

TEST_F(KafkaE2eTest, ABrokerOutageIsReportedAndTheResultsAreCompleteAfterIt) {
  const std::string events = Path("events.ndjson");
  ASSERT_EQ(Sh(kVigil +
               " gen --rate 20 --duration 30m --seed 5 "
               "--incident latency_spike@5m+10m --out " +
               events)
                .exit_code,
            0);
  ASSERT_EQ(Sh("split -n l/2 -d " + events + " " + events + ".").exit_code, 0);
  Produce(events + ".00");
  const int port = FreePort();
  const std::string http = "http://127.0.0.1:" + std::to_string(port);
  const std::string ckpt = Path("ckpt"), results = Path("results.ndjson");
  const std::string common = " --input " + Url() + " --idle-timeout 1h --no-console " +
                             "--checkpoint-dir " + ckpt + " --results " + results +
                             " --no-progress -X reconnect.backoff.max.ms=500" + kGroupProps;
  const pid_t job =
      Spawn(kVigil + " run --http 127.0.0.1:" + std::to_string(port) + common, Path("run.log"));
  auto get = [&](const std::string& path) {
    return Sh("curl -s -o /dev/null -w '%{http_code}' " + http + path).out;
  };
  auto metrics = [&] { return Sh("curl -s " + http + "/metrics").out; };
  ASSERT_TRUE(WaitFor([&] { return Lines(ReadFile(results)).size() > 100; }, 30))
      << ReadFile(Path("run.log"));
  EXPECT_EQ(get("/readyz"), "200");
  EXPECT_NE(metrics().find("vigil_source_connected 1"), std::string::npos);
  // Lag per partition, refreshed every second: all caught up.
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::string m = metrics();
        for (int p = 0; p < 4; ++p) {
          const std::string series =
              "vigil_source_lag{input=\"events/" + std::to_string(p) + "\",unit=\"records\"} 0\n";
          if (m.find(series) == std::string::npos) return false;
        }
        return true;
      },
      10))
      << metrics();

  broker_->SetBrokerUp(1, false);
  EXPECT_TRUE(WaitFor([&] { return get("/readyz") == "503"; }, 30)) << ReadFile(Path("run.log"));
  EXPECT_NE(metrics().find("vigil_source_connected 0"), std::string::npos);
  broker_->SetBrokerUp(1, true);
  // Fetches fail for a while after the broker is back, too.
  broker_->PushErrors(1 /* Fetch */, 5, RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION);
  Produce(events + ".01");
  EXPECT_TRUE(WaitFor([&] { return get("/readyz") == "200"; }, 30)) << ReadFile(Path("run.log"));
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0) << ReadFile(Path("run.log"));

  // Finish from the checkpoint: every event counted once.
  Result end = Sh(kVigil + " run --exit-at-end --http off" + common + " 2>&1");
  ASSERT_EQ(end.exit_code, 0) << end.out;
  EXPECT_NE(end.out.find("36000 records"), std::string::npos) << end.out;
  EXPECT_NE(end.out.find("0 dead-lettered"), std::string::npos) << end.out;
  const std::string from_file = Path("file.ndjson");
  ASSERT_EQ(Sh(kVigil + " run --input " + events + " --results " + from_file +
               " --no-console --http off --no-progress")
                .exit_code,
            0);
  EXPECT_EQ(Lines(ReadFile(results)), Lines(ReadFile(from_file)));
}

}  // namespace
}  // namespace vigil::kafka_e2e_test
