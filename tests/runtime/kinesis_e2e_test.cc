// End-to-end tests of the Kinesis path: kinesalite on loopback, the vigil
// binary producing to it (`vigil gen --to kinesis://`) and reading from it
// (`vigil run --input kinesis://`), and the plain Kinesis API as an outside
// client.
#include <signal.h>

#include <algorithm>
#include <regex>
#include <string>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "operators/source/kinesis_source.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
// 30 minutes of events at 20/s: 36000 records, with a P1 incident.
const std::string kGenFlags = " --rate 20 --duration 30m --seed 5 --incident latency_spike@5m+10m";
constexpr size_t kEvents = 36000;
const std::string kQuiet = " --no-console --no-progress";

class KinesisE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RemoveTestPaths(Path(""));
    StartServer("");
  }
  void StartServer(const std::string& storage) {
    server_.reset();
    server_ = Kinesalite::Start(Path("kinesalite.log"), storage);
    ASSERT_TRUE(server_);
    CreateStream(server_->endpoint(), "events", 4);
  }
  // Unique per test, also when several run in one process.
  std::string Path(const std::string& name) {
    return TempPath(std::string("kinesis_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
  std::string Url() { return server_->url("events"); }
  // The generated events as a file, and the same events put to the stream.
  std::string FillStream() {
    std::string events = Path("events.ndjson");
    EXPECT_EQ(Sh(kVigil + " gen" + kGenFlags + " --out " + events).exit_code, 0);
    Result put = Sh(kVigil + " gen" + kGenFlags + " --to " + Url() + " 2>&1");
    EXPECT_EQ(put.exit_code, 0) << put.out;
    return events;
  }
  // The window results of a replay of `events`.
  std::vector<std::string> FileResults(const std::string& events) {
    const std::string out = Path("file_results.ndjson");
    Result f = Sh(kVigil + " run --input " + events + " --results " + out + " --http off" + kQuiet +
                  " 2>&1");
    EXPECT_EQ(f.exit_code, 0) << f.out;
    return Lines(ReadFile(out));
  }
  std::unique_ptr<Kinesalite> server_;
};

// "vigil: N records in ..." of a summary line, or -1.
long long RecordsOf(const std::string& log) {
  std::smatch m;
  if (!std::regex_search(log, m, std::regex("vigil: (\\d+) records in"))) return -1;
  return std::stoll(m[1]);
}

TEST_F(KinesisE2eTest, StreamGivesTheSameWindowsAsTheFile) {
  const std::string events = FillStream();
  // Every shard got some of the events.
  std::map<std::string, size_t> per_shard = CountPerShard(server_->endpoint(), "events");
  ASSERT_EQ(per_shard.size(), 4u);
  size_t total = 0;
  for (const auto& [shard, n] : per_shard) {
    EXPECT_GT(n, 0u) << shard;
    total += n;
  }
  EXPECT_EQ(total, kEvents);

  const std::string from_stream = Path("stream_results.ndjson");
  Result k = Sh(kVigil + " run --input " + Url() + " --exit-at-end --results " + from_stream +
                " --http off" + kQuiet + " 2>&1");
  ASSERT_EQ(k.exit_code, 0) << k.out;
  EXPECT_EQ(RecordsOf(k.out), static_cast<long long>(kEvents)) << k.out;
  EXPECT_NE(k.out.find(" 0 dead-lettered"), std::string::npos) << k.out;
  const std::vector<std::string> a = Lines(ReadFile(from_stream)), b = FileResults(events);
  EXPECT_GT(b.size(), 500u);
  // Counts exact, quantiles identical: the same lines, in the same order.
  EXPECT_EQ(a, b);
}

// One record stamped 9999-12-31 in the middle of a shard is dead-lettered
// as future_ts and does not move the shard's watermark: the records after
// it are not late, and the windows are those of the file without it.
TEST_F(KinesisE2eTest, AnEventFarAheadOfTheClockIsDeadLetteredAndDoesNotMoveTheWatermark) {
  CreateStream(server_->endpoint(), "one", 1);
  const std::string events = Path("events.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --rate 5 --duration 20m --seed 3 --out " + events).exit_code, 0);
  std::vector<std::string> lines = Lines(ReadFile(events));
  ASSERT_EQ(lines.size(), 6000u);
  lines.insert(lines.begin() + 1000,
               R"({"ts":"9999-12-31T23:59:59.999Z","type":"message","session_id":"s-future"})");
  std::unique_ptr<KinesisClient> client = KinesisClientFor(server_->endpoint());
  ASSERT_TRUE(client);
  for (size_t i = 0; i < lines.size(); i += 500) {
    std::vector<KinesisPutEntry> batch;
    for (size_t j = i; j < std::min(lines.size(), i + 500); ++j) batch.push_back({"k", lines[j]});
    absl::StatusOr<KinesisPutResult> put = client->PutRecords("one", batch);
    ASSERT_TRUE(put.ok()) << put.status();
    ASSERT_EQ(put->failed_record_count, 0);
  }
  const std::string results = Path("results.ndjson"), dead = Path("dead.ndjson");
  Result k = Sh(kVigil + " run --input " + server_->url("one") + " --exit-at-end --results " +
                results + " --dead-letter " + dead + " --http off" + kQuiet + " 2>&1");
  ASSERT_EQ(k.exit_code, 0) << k.out;
  EXPECT_EQ(RecordsOf(k.out), 6001) << k.out;
  EXPECT_NE(k.out.find(" 1 dead-lettered"), std::string::npos) << k.out;
  const std::vector<std::string> dl = Lines(ReadFile(dead));
  ASSERT_EQ(dl.size(), 1u);
  EXPECT_EQ(
      dl[0].rfind(
          R"({"reason":"future_ts","detail":"event time 9999-12-31T23:59:59.999Z is more than 1h ahead of the clock ()",
          0),
      0u)
      << dl[0];
  EXPECT_NE(dl[0].find("s-future"), std::string::npos) << dl[0];
  const std::vector<std::string> b = FileResults(events);
  EXPECT_GT(b.size(), 100u);
  EXPECT_EQ(Lines(ReadFile(results)), b);
}

TEST_F(KinesisE2eTest, KillNineAndRestartFromTheCheckpointGivesTheUninterruptedResults) {
  const std::string ckpt = Path("ckpt"), results = Path("results.ndjson");
  const std::string common =
      " --input " + Url() + " --idle-timeout 1h --http off --output json --no-progress";
  const pid_t job = Spawn(kVigil + " run --checkpoint-dir " + ckpt +
                              " --checkpoint-interval 100ms --results " + results + common,
                          Path("run1.log"));
  ChildGuard job_guard(job);
  // 30 minutes of event time in 6 s while the job reads.
  const pid_t gen =
      Spawn(kVigil + " gen" + kGenFlags + " --speed 300 --to " + Url(), Path("gen.log"));
  ChildGuard gen_guard(gen);
  EXPECT_TRUE(WaitFor([&] { return Lines(ReadFile(results)).size() > 100; }, 30))
      << ReadFile(Path("run1.log"));
  ::kill(job, SIGKILL);
  EXPECT_EQ(WaitExit(job), -SIGKILL);
  EXPECT_EQ(WaitExit(gen), 0) << ReadFile(Path("gen.log"));
  EXPECT_LT(Lines(ReadFile(results)).size(), 900u) << "the kill should land mid-stream";

  Result resumed = Sh(kVigil + " run --checkpoint-dir " + ckpt + " --exit-at-end --results " +
                      results + common + " 2>" + Path("run2.log"));
  const std::string log = ReadFile(Path("run2.log"));
  ASSERT_EQ(resumed.exit_code, 0) << log;
  EXPECT_NE(log.find("vigil: restored checkpoint"), std::string::npos) << log;
  EXPECT_EQ(RecordsOf(log), static_cast<long long>(kEvents)) << log;
  EXPECT_NE(log.find(" 0 dead-lettered"), std::string::npos) << log;

  const std::string clean = Path("clean.ndjson");
  Result c = Sh(kVigil + " run --exit-at-end --results " + clean + common + " 2>&1 >/dev/null");
  ASSERT_EQ(c.exit_code, 0) << c.out;
  EXPECT_EQ(RecordsOf(c.out), static_cast<long long>(kEvents)) << c.out;
  // Nothing missing, nothing doubled, same order.
  EXPECT_GT(Lines(ReadFile(clean)).size(), 900u);
  EXPECT_EQ(Lines(ReadFile(results)), Lines(ReadFile(clean)));
}

// --start-at latest is the time each shard is first listed, and a
// checkpoint keeps it: a job killed before any record came restarts its
// shards there and reads everything put to the stream meanwhile (before,
// it started them at the new latest and read nothing).
TEST_F(KinesisE2eTest, ShardsWithoutARecordKeepTheirLatestStartThroughAKillNine) {
  const std::string ckpt = Path("ckpt");
  const std::string cmd = kVigil + " run --input " + Url() +
                          " --start-at latest --checkpoint-dir " + ckpt +
                          " --checkpoint-interval 100ms --no-console --http off --no-progress";
  const pid_t job = Spawn(cmd, Path("run1.log"));
  ChildGuard job_guard(job);
  auto checkpoints = [&] { return Lines(Sh("ls " + ckpt + " | grep '\\.vck$'").out).size(); };
  ASSERT_TRUE(WaitFor([&] { return checkpoints() >= 2; }, 30)) << ReadFile(Path("run1.log"));
  ::kill(job, SIGKILL);
  EXPECT_EQ(WaitExit(job), -SIGKILL);
  ::usleep(20'000);  // the records come after the shards were listed
  Result put = Sh(kVigil + " gen" + kGenFlags + " --to " + Url() + " 2>&1");
  ASSERT_EQ(put.exit_code, 0) << put.out;

  Result resumed = Sh(cmd + " --exit-at-end 2>&1");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("vigil: restored checkpoint"), std::string::npos) << resumed.out;
  EXPECT_EQ(RecordsOf(resumed.out), static_cast<long long>(kEvents)) << resumed.out;
}

// A job that read a resharded stream to its end, stopped and restarted
// with --exit-at-end, has nothing left to read: the end of input still
// closes its open windows, as the same restart does on a stream never
// resharded.
TEST_F(KinesisE2eTest, AnExitAtEndRestartAfterAReshardClosesTheOpenWindows) {
  // Events of the last 40 minutes (their latest windows end after the
  // clock, so the live run leaves them open): half before the split of a
  // shard, half after it, to its children too.
  const TimeMs now = static_cast<TimeMs>(::time(nullptr)) * 1000;
  auto gen = [&](TimeMs start) {
    return kVigil + " gen --rate 20 --duration 15m --seed 5 --start " + FormatTimestamp(start) +
           " --to " + Url() + " 2>&1";
  };
  std::unique_ptr<KinesisClient> c = KinesisClientFor(server_->endpoint());
  ASSERT_TRUE(c);
  ASSERT_EQ(Sh(gen(now - 2'400'000)).exit_code, 0);
  ASSERT_TRUE(
      c->SplitShard("events", "shardId-000000000000", "42535295865117307932921825928971026432")
          .ok());
  ASSERT_TRUE(c->WaitForActive("events", std::chrono::seconds(10)).ok());
  ASSERT_EQ(Sh(gen(now - 1'500'000)).exit_code, 0);
  const std::string ckpt = Path("ckpt"), results = Path("results.ndjson");
  const std::string common = " --input " + Url() + " --checkpoint-dir " + ckpt + " --results " +
                             results + " --http off --no-console --no-progress";
  const pid_t job = Spawn(kVigil + " run --checkpoint-interval 100ms" + common, Path("run1.log"));
  ChildGuard job_guard(job);
  // Everything read: the job's complete windows are written.
  ASSERT_TRUE(WaitFor([&] { return Lines(ReadFile(results)).size() > 800; }, 30))
      << ReadFile(Path("run1.log"));
  ::usleep(2'000'000);
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0) << ReadFile(Path("run1.log"));
  const size_t before = Lines(ReadFile(results)).size();
  Result resumed = Sh(kVigil + " run --exit-at-end" + common + " 2>&1");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  EXPECT_GT(Lines(ReadFile(results)).size(), before) << resumed.out;
  EXPECT_NE(ReadFile(results).find("\"partial\":true"), std::string::npos) << resumed.out;
}

TEST_F(KinesisE2eTest, TwoInstancesReadEveryRecordOnce) {
  FillStream();
  const std::map<std::string, size_t> per_shard = CountPerShard(server_->endpoint(), "events");
  ASSERT_EQ(per_shard.size(), 4u);
  // What each instance owns, by the documented rendezvous hashing.
  long long expected[2] = {0, 0};
  for (const auto& [shard, n] : per_shard) {
    expected[KinesisShardOwner(shard, 2)] += static_cast<long long>(n);
  }

  pid_t pids[2];
  for (int i = 0; i < 2; ++i) {
    const std::string n = std::to_string(i);
    pids[i] =
        Spawn(StrCat(kVigil, " run --input ", Url(), " --instance ", n, "/2 --exit-at-end",
                     " --results ", Path(StrCat("results", n, ".ndjson")), " --http off", kQuiet),
              Path(StrCat("run", n, ".log")));
  }
  ChildGuard guard0(pids[0]), guard1(pids[1]);
  long long sum = 0;
  for (int i = 0; i < 2; ++i) {
    const int code = WaitExit(pids[i]);
    const std::string done = ReadFile(Path("run" + std::to_string(i) + ".log"));
    EXPECT_EQ(code, 0) << done;
    EXPECT_EQ(RecordsOf(done), expected[i]) << "instance " << i << ": " << done;
    sum += RecordsOf(done);
  }
  EXPECT_EQ(sum, static_cast<long long>(kEvents));
}

TEST_F(KinesisE2eTest, AnOutageShowsOnReadyzAndMetricsAndLosesNothing) {
  // On disk, so the stream and its records survive the restart.
  StartServer(Path("kinesalite-data"));
  // Two halves of 30 minutes; the file is both, in order.
  const std::string first = " --rate 20 --duration 15m --seed 5",
                    second = " --rate 20 --duration 15m --seed 6 --start 2026-01-01T00:15:00Z";
  const std::string events = Path("events.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen" + first + " --out " + events + ".1 && " + kVigil + " gen" + second +
               " --out " + events + ".2 && cat " + events + ".1 " + events + ".2 > " + events)
                .exit_code,
            0);
  ASSERT_EQ(Sh(kVigil + " gen" + first + " --to " + Url() + " 2>/dev/null").exit_code, 0);

  const std::string results = Path("results.ndjson"), log = Path("run.log");
  // No --no-progress: the port chosen for --http ...:0 is printed with it.
  const pid_t job = Spawn(kVigil + " run --input " + Url() + " --idle-timeout 1h --results " +
                              results + " --http 127.0.0.1:0 --no-console",
                          log);
  ChildGuard job_guard(job);
  const std::string base = JobHttpBase(log);
  ASSERT_FALSE(base.empty()) << ReadFile(log);
  auto metric = [&](const std::string& series) {
    return MetricValue(HttpGet(base, "/metrics").second, series);
  };
  static_assert(kEvents % 2 == 0);
  ASSERT_TRUE(WaitFor([&] { return metric("vigil_events_in_total") == kEvents / 2.0; }, 20))
      << ReadFile(log);
  EXPECT_EQ(HttpGet(base, "/readyz").first, 200);

  server_->Stop();
  EXPECT_TRUE(WaitFor([&] { return HttpGet(base, "/readyz").first == 503; }, 20));
  EXPECT_TRUE(WaitFor([&] { return metric("vigil_source_connected") == 0; }, 20));
  EXPECT_EQ(HttpGet(base, "/readyz").second, "the source cannot reach its servers\n");

  ASSERT_TRUE(server_->Restart());
  EXPECT_TRUE(WaitFor([&] { return HttpGet(base, "/readyz").first == 200; }, 20)) << ReadFile(log);
  EXPECT_EQ(metric("vigil_source_connected"), 1);
  ASSERT_EQ(Sh(kVigil + " gen" + second + " --to " + Url() + " 2>/dev/null").exit_code, 0);
  EXPECT_TRUE(WaitFor([&] { return metric("vigil_events_in_total") == kEvents; }, 20))
      << ReadFile(log);

  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0) << ReadFile(log);
  EXPECT_EQ(RecordsOf(ReadFile(log)), static_cast<long long>(kEvents)) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find(" 0 dead-lettered"), std::string::npos) << ReadFile(log);
  // The windows closed so far are those of the file, in the same order (the
  // live job stops before the last ones close).
  const std::vector<std::string> got = Lines(ReadFile(results)), want = FileResults(events);
  ASSERT_GT(got.size(), 500u);
  ASSERT_LE(got.size(), want.size());
  EXPECT_EQ(got, std::vector<std::string>(want.begin(), want.begin() + got.size()));
}

TEST_F(KinesisE2eTest, APositionTheStreamRefusesStopsTheJobWithAClearError) {
  FillStream();
  const std::string ckpt = Path("ckpt");
  Result first = Sh(kVigil + " run --input " + Url() + " --exit-at-end --checkpoint-dir " + ckpt +
                    " --http off" + kQuiet + " 2>&1");
  ASSERT_EQ(first.exit_code, 0) << first.out;
  // The stream is deleted and made again: the checkpoint's sequence numbers
  // belong to the old one.
  std::unique_ptr<KinesisClient> c = KinesisClientFor(server_->endpoint());
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->Call("DeleteStream", R"({"StreamName":"events"})").ok());
  ASSERT_TRUE(WaitFor(
      [&] { return !c->Call("DescribeStreamSummary", R"({"StreamName":"events"})").ok(); }, 10));
  CreateStream(server_->endpoint(), "events", 4);
  ASSERT_EQ(Sh(kVigil + " gen --rate 20 --duration 1m --seed 6 --to " + Url() + " 2>&1").exit_code,
            0);
  Result second = Sh("timeout 60 " + kVigil + " run --input " + Url() +
                     " --exit-at-end --checkpoint-dir " + ckpt + " --http off" + kQuiet + " 2>&1");
  EXPECT_EQ(second.exit_code, 1) << second.out;
  EXPECT_NE(second.out.find("refuses the position to resume from"), std::string::npos)
      << second.out;
}

}  // namespace
}  // namespace vigil
