// The raw-event archive in an S3 bucket end to end: `vigil run --archive
// s3://…` against s3rver on loopback, killed with SIGKILL and restarted,
// with the bucket down for 30 s, with wrong credentials; `vigil replay
// s3://…` against a replay of the file. The archived records are read back
// with the S3 client and libzstd.
#include <signal.h>
#include <zstd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "operators/archive/archive_store.h"
#include "operators/net/s3_client.h"
#include "runtime/dev_broker.h"
#include "runtime/replay.h"
#include "tests/operators/archive/zstd_frames.h"
#include "tests/operators/net/s3rver.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kGroupProps = " -X session.timeout.ms=6000 -X heartbeat.interval.ms=500";

std::string Path(const std::string& name) {
  return TempPath(std::string("s3archive_") +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                  name);
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

class S3ArchiveE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The jobs this test starts inherit them.
    ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    std::filesystem::create_directories(Path("s3"));
    s3_ = S3rver::Start(Path("s3"), {"archive"});
    ASSERT_TRUE(s3_) << "s3rver does not start: run scripts/test-servers.sh";
    url_ = "s3://archive/raw?endpoint=" + s3_->endpoint();
  }
  void TearDown() override {
    s3_.reset();
    std::error_code ec;
    std::filesystem::remove_all(Path("s3"), ec);
  }

  // The records of the batches the manifest lists, in replay order.
  std::vector<std::string> ArchivedRecords() {
    absl::StatusOr<ArchiveManifest> m = ReadS3ArchiveManifest(url_);
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) return {};
    auto client = *S3Client::Create(*ParseS3Url(url_), S3rver::Credentials());
    std::vector<std::string> out;
    for (const ArchiveEntry& e : m->Files()) {
      absl::StatusOr<std::string> body = client->Get("raw/events/" + e.path);
      EXPECT_TRUE(body.ok()) << body.status();
      if (!body.ok()) continue;
      std::vector<std::string> lines = Lines(ZstdFrames(*body, e.path));
      EXPECT_EQ(lines.size(), e.records) << e.path;
      out.insert(out.end(), lines.begin(), lines.end());
    }
    return out;
  }

  std::unique_ptr<S3rver> s3_;
  std::string url_;
};

TEST_F(S3ArchiveE2eTest, ReplayOfTheBucketIsByteIdenticalToReplayOfTheFile) {
  const std::string events = Path("events.ndjson"), input = Path("input.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --rate 10 --duration 3h --seed 4 --incident latency_spike@70m+10m " +
               "--out " + events)
                .exit_code,
            0);
  std::vector<std::string> lines = Lines(ReadFile(events));
  const std::vector<std::string> good = lines;
  lines.insert(lines.begin() + 50000, R"({"type":"message","latency_ms":5})");  // no ts
  lines.insert(lines.begin() + 100, "not json");
  {
    std::ofstream out(input);
    for (const std::string& l : lines) out << l << "\n";
  }
  Result run = Sh(kVigil + " run --input " + input + " --archive '" + url_ +
                  "' --no-console --http off --no-progress 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  const std::vector<std::string> archived = ArchivedRecords();
  EXPECT_EQ(archived.size(), good.size());
  EXPECT_TRUE(Sorted(archived) == Sorted(good)) << "the archive differs from the accepted records";

  const std::string from_bucket = Path("from_bucket.ndjson"), from_file = Path("from_file.ndjson");
  Result b = Sh(kVigil + " replay --output json --no-progress --results " + from_bucket + " '" +
                url_ + "' 2>&1 >" + Path("bucket.out"));
  Result f = Sh(kVigil + " replay --output json --no-progress --results " + from_file + " " +
                input + " 2>/dev/null >" + Path("file.out"));
  ASSERT_EQ(b.exit_code, 0) << b.out;
  ASSERT_EQ(f.exit_code, 0);
  EXPECT_NE(ReadFile(Path("file.out")).find("\"alert\":\"LatencyP99Critical\""), std::string::npos);
  EXPECT_EQ(ReadFile(Path("bucket.out")), ReadFile(Path("file.out")));
  EXPECT_GT(Lines(ReadFile(from_file)).size(), 2000u);
  EXPECT_TRUE(ReadFile(from_bucket) == ReadFile(from_file)) << "the window results differ";

  // A range reads only the batches that overlap it, and replays as the
  // file does over that range.
  const std::string range = " --from 2026-01-01T01:00:00Z --to 2026-01-01T02:00:00Z";
  absl::StatusOr<ArchiveManifest> m = ReadS3ArchiveManifest(url_);
  ASSERT_TRUE(m.ok());
  size_t overlapping = 0;
  for (const ArchiveEntry& e : m->Files()) {
    overlapping += e.max_ts >= *ParseRfc3339("2026-01-01T01:00:00Z") &&
                   e.min_ts < *ParseRfc3339("2026-01-01T02:00:00Z");
  }
  absl::StatusOr<std::vector<std::string>> objects = ExpandEventPaths(
      {url_}, *ParseRfc3339("2026-01-01T01:00:00Z"), *ParseRfc3339("2026-01-01T02:00:00Z"));
  ASSERT_TRUE(objects.ok()) << objects.status();
  EXPECT_EQ(objects->size(), overlapping);
  EXPECT_LT(objects->size(), m->Files().size() / 2);
  Result rb =
      Sh(kVigil + " replay --output json --no-progress" + range + " '" + url_ + "' 2>/dev/null");
  Result rf =
      Sh(kVigil + " replay --output json --no-progress" + range + " " + input + " 2>/dev/null");
  ASSERT_EQ(rb.exit_code, 0);
  EXPECT_EQ(rb.out, rf.out);
}

// The checkpoint of the newest mark in the manifest if batches of a later
// epoch were listed after it; else -1.
int64_t CheckpointWithBatchesAfterIt(const std::string& url) {
  absl::StatusOr<ArchiveManifest> m = ReadS3ArchiveManifest(url);
  if (!m.ok()) return -1;
  int64_t mark = -1;
  bool after = false;
  for (const ManifestLine& l : m->lines) {
    if (l.mark) {
      mark = static_cast<int64_t>(l.checkpoint);
      after = false;
    } else {
      after = true;
    }
  }
  return mark >= 1 && after ? mark : -1;
}

TEST_F(S3ArchiveE2eTest, KillNineAndRestartArchiveEachRecordExactlyOnce) {
  ASSERT_EQ(Sh("command -v kcat").exit_code, 0) << "kcat is missing: run scripts/setup.sh";
  absl::StatusOr<std::unique_ptr<DevBroker>> broker = DevBroker::Start(1, {{"events", 4}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  const std::string kafka = "kafka://" + (*broker)->bootstrap() + "/events";
  const std::string ckpt = Path("ckpt"), config = Path("job.yaml");
  std::ofstream(config) << "outputs:\n  archive:\n    url: " << url_ << "\n    max_bytes: 64KiB\n";
  const std::string job = kVigil + " run --config " + config + " --input " + kafka +
                          " --group archived --checkpoint-dir " + ckpt +
                          " --checkpoint-interval 2s --idle-timeout 1h --no-console --http off "
                          "--no-progress" +
                          kGroupProps;
  const pid_t first = Spawn(job, Path("run1.log"));
  ChildGuard guard(first);
  ASSERT_TRUE(
      WaitFor([&] { return ReadFile(Path("run1.log")).find("assigned") != std::string::npos; }, 30))
      << ReadFile(Path("run1.log"));
  const pid_t gen =
      Spawn(kVigil + " gen --to " + kafka + " --rate 20 --duration 30m --speed 300 --seed 9",
            Path("gen.log"));
  int64_t checkpoint = -1;
  ASSERT_TRUE(WaitFor([&] { return (checkpoint = CheckpointWithBatchesAfterIt(url_)) >= 1; }, 40))
      << ReadFile(Path("run1.log"));
  ::kill(first, SIGKILL);
  EXPECT_EQ(WaitExit(first), -SIGKILL);
  EXPECT_EQ(WaitExit(gen), 0) << ReadFile(Path("gen.log"));
  EXPECT_LT(ArchivedRecords().size(), 36000u) << "the kill should land mid-stream";

  Result resumed = Sh(job + " --exit-at-end 2>&1");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out;
  const std::string n = std::to_string(checkpoint);
  EXPECT_NE(resumed.out.find("vigil: restored checkpoint " + n + " "), std::string::npos)
      << resumed.out;
  EXPECT_NE(resumed.out.find("written after checkpoint " + n + "; their records are read again"),
            std::string::npos)
      << resumed.out;
  const std::string expected = Path("expected.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --rate 20 --duration 30m --seed 9 --out " + expected).exit_code, 0);
  const std::vector<std::string> archived = ArchivedRecords();
  EXPECT_EQ(archived.size(), 36000u);
  EXPECT_TRUE(Sorted(archived) == Sorted(Lines(ReadFile(expected))))
      << "some record is missing from the archive or in it twice";
}

TEST_F(S3ArchiveE2eTest, TheBucketDownFor30SecondsLosesNothing) {
  ASSERT_EQ(Sh("command -v kcat").exit_code, 0) << "kcat is missing: run scripts/setup.sh";
  absl::StatusOr<std::unique_ptr<DevBroker>> broker = DevBroker::Start(1, {{"events", 2}});
  ASSERT_TRUE(broker.ok()) << broker.status();
  const std::string kafka = "kafka://" + (*broker)->bootstrap() + "/events";
  const std::string config = Path("job.yaml"), log = Path("run.log");
  std::ofstream(config) << "outputs:\n  archive:\n    url: " << url_
                        << "\n    max_bytes: 16KiB\n    flush_interval: 2s\n";
  const pid_t job = Spawn(kVigil + " run --config " + config + " --input " + kafka +
                              " --group outage --idle-timeout 1h --no-console --http 127.0.0.1:0 "
                              "--no-progress" +
                              kGroupProps,
                          log);
  ChildGuard guard(job);
  int port = 0;
  ASSERT_TRUE(WaitFor([&] { return (port = ServingPort(ReadFile(log))) != 0; }, 30))
      << ReadFile(log);
  const std::string readyz =
      "curl -s -w ' %{http_code}' http://127.0.0.1:" + std::to_string(port) + "/readyz";
  // 15 minutes of event time over about 60 s.
  const pid_t gen =
      Spawn(kVigil + " gen --to " + kafka + " --rate 10 --duration 15m --speed 15 --seed 3",
            Path("gen.log"));
  ASSERT_TRUE(WaitFor([&] { return ReadS3ArchiveManifest(url_).ok(); }, 30)) << ReadFile(log);
  s3_->Stop();
  std::string down;
  EXPECT_TRUE(WaitFor(
      [&] {
        return (down = Sh(readyz).out).find("the archive cannot write to") != std::string::npos;
      },
      25))
      << down;
  EXPECT_NE(down.find("s3://archive/raw/events"), std::string::npos) << down;
  EXPECT_NE(down.find("wait in memory\n 503"), std::string::npos) << down;
  ::sleep(30 - 5);
  ASSERT_TRUE(s3_->Restart());
  EXPECT_EQ(WaitExit(gen), 0) << ReadFile(Path("gen.log"));
  EXPECT_TRUE(WaitFor([&] { return Sh(readyz).out == "ready\n 200"; }, 30)) << Sh(readyz).out;
  const std::string metrics = "curl -s http://127.0.0.1:" + std::to_string(port) + "/metrics";
  EXPECT_TRUE(WaitFor(
      [&] { return SeriesValue(Sh(metrics).out, "vigil_events_processed_total") == 9000; }, 30));
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0) << ReadFile(log);
  EXPECT_NE(ReadFile(log).find("archive: writing again after"), std::string::npos) << ReadFile(log);

  const std::string expected = Path("expected.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --rate 10 --duration 15m --seed 3 --out " + expected).exit_code, 0);
  const std::vector<std::string> archived = ArchivedRecords();
  EXPECT_EQ(archived.size(), 9000u);
  EXPECT_TRUE(Sorted(archived) == Sorted(Lines(ReadFile(expected))))
      << "some record is missing from the archive or in it twice";
}

TEST_F(S3ArchiveE2eTest, WrongCredentialsStopTheJobWithAClearErrorAndNoSecret) {
  const std::string events = Path("events.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --rate 5 --duration 1m --out " + events).exit_code, 0);
  Result r = Sh("AWS_ACCESS_KEY_ID=WRONGKEY AWS_SECRET_ACCESS_KEY=hunter2-secret " + kVigil +
                " run --input " + events + " --archive '" + url_ +
                "' --no-console --http off --no-progress 2>&1");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("s3://archive/raw"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("HTTP 403"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("hunter2-secret"), std::string::npos) << r.out;
  Result replay = Sh("AWS_ACCESS_KEY_ID=WRONGKEY " + kVigil + " replay '" + url_ + "' 2>&1");
  EXPECT_EQ(replay.exit_code, 2) << replay.out;
  EXPECT_NE(replay.out.find("HTTP 403"), std::string::npos) << replay.out;
}

}  // namespace
}  // namespace vigil
