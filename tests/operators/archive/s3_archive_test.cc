// The archive writer over an S3 bucket: s3rver on loopback, read back with
// the S3 client and libzstd apart from the writer's code.
#include <zstd.h>

#include <cstdlib>
#include <set>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "operators/archive/archive_store.h"
#include "operators/archive/archive_writer.h"
#include "operators/net/s3_client.h"
#include "tests/operators/archive/zstd_frames.h"
#include "tests/operators/net/s3rver.h"
#include "tests/operators/notify/notify_test_util.h"
#include "tests/operators/notify/recording_receiver.h"

namespace vigil {
namespace {

using testing_util::TempDir;
using Strings = std::vector<std::string>;

TimeMs T(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

class S3ArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    s3_ = S3rver::Start(dir_.path(), {"archive"});
    ASSERT_TRUE(s3_) << "s3rver does not start: run scripts/test-servers.sh";
    url_ = "s3://archive/raw?endpoint=" + s3_->endpoint() + "&region=us-east-1";
    client_ = *S3Client::Create(*ParseS3Url(url_), S3rver::Credentials());
  }
  ArchiveOptions Options() {
    ArchiveOptions o;
    o.location = url_;
    o.clock = [this] { return now_; };
    o.retry_interval = 1000;
    return o;
  }
  std::unique_ptr<ArchiveWriter> Open(ArchiveOptions o) {
    absl::StatusOr<std::unique_ptr<ArchiveWriter>> w = ArchiveWriter::Open(std::move(o));
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }
  std::vector<ArchiveEntry> Listed() {
    absl::StatusOr<ArchiveManifest> m = ReadS3ArchiveManifest(url_);
    if (absl::IsNotFound(m.status())) return {};
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) return {};
    EXPECT_EQ(m->root, "s3://archive/raw/events");
    EXPECT_EQ(m->problems, Strings{});
    return m->Files();
  }
  // Every key under raw/events/, manifest objects apart.
  std::set<std::string> Objects(bool manifest) {
    std::set<std::string> out;
    absl::StatusOr<std::vector<S3Object>> listed = client_->List("raw/events/");
    EXPECT_TRUE(listed.ok()) << listed.status();
    if (!listed.ok()) return out;
    for (const S3Object& o : *listed) {
      if ((o.key.find("/_manifest/") != std::string::npos) == manifest)
        out.insert(o.key.substr(11));
    }
    return out;
  }
  // The records of the listed batches, in replay order, through the
  // client and libzstd.
  std::string Replayed() {
    std::string out;
    for (const ArchiveEntry& e : Listed())
      out += ZstdFrames(*client_->Get("raw/events/" + e.path), e.path);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<S3rver> s3_;
  std::string url_;
  std::unique_ptr<S3Client> client_;
  TimeMs now_ = 1000;
};

TEST_F(S3ArchiveTest, BatchesAndTheManifestAreObjectsInTheBucket) {
  auto w = Open(Options());
  ASSERT_TRUE(w);
  EXPECT_EQ(w->root(), "s3://archive/raw/events");
  w->Add(R"({"ts":"2026-01-01T00:10:00Z","n":1})", T("2026-01-01T00:10:00Z"));
  w->Add(R"({"ts":"2026-01-01T01:05:00Z","n":2})", T("2026-01-01T01:05:00Z"));
  w->Add(R"({"ts":"2026-01-01T00:20:00Z","n":3})", T("2026-01-01T00:20:00Z"));
  ASSERT_TRUE(w->Flush().ok());
  const std::vector<ArchiveEntry> files = Listed();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "2026/01/01/00/0000000001-20260101T001000.000Z.ndjson.zst");
  EXPECT_EQ(files[1].path, "2026/01/01/01/0000000002-20260101T010500.000Z.ndjson.zst");
  EXPECT_EQ(files[0].records, 2u);
  EXPECT_EQ(Objects(false), (std::set<std::string>{files[0].path, files[1].path}));
  // One manifest object per write: each batch was appended on its own.
  EXPECT_EQ(Objects(true), (std::set<std::string>{"_manifest/00000000000000000001.jsonl",
                                                  "_manifest/00000000000000000002.jsonl"}));
  EXPECT_EQ(Replayed(),
            "{\"ts\":\"2026-01-01T00:10:00Z\",\"n\":1}\n{\"ts\":\"2026-01-01T00:20:00Z\",\"n\":3}\n"
            "{\"ts\":\"2026-01-01T01:05:00Z\",\"n\":2}\n");
  EXPECT_EQ(w->stats().records, 3u);
  EXPECT_EQ(w->stats().batches, 2u);
  EXPECT_EQ(w->stats().errors, 0u);
  // A replay reads the objects by their URL.
  absl::StatusOr<ArchiveManifest> m = ReadS3ArchiveManifest(url_);
  ASSERT_TRUE(m.ok());
  const std::string batch_url = S3ArchiveBatchUrl(url_, *m, files[1]);
  EXPECT_EQ(batch_url, "s3://archive/raw/events/" + files[1].path +
                           "?endpoint=" + "http%3A%2F%2F127.0.0.1%3A" + s3_->endpoint().substr(17) +
                           "&region=us-east-1");
  absl::StatusOr<std::string> text = ReadArchiveBatch(batch_url);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "{\"ts\":\"2026-01-01T01:05:00Z\",\"n\":2}\n");
}

TEST_F(S3ArchiveTest, HivePartitioningNamesTheHourDtAndHour) {
  ArchiveOptions o = Options();
  o.partitioning = ArchivePartitioning::kHive;
  auto w = Open(o);
  w->Add(R"({"n":1})", T("2026-03-09T23:59:59.999Z"));
  w->Add(R"({"n":2})", T("2026-03-10T00:00:00Z"));
  ASSERT_TRUE(w->Flush().ok());
  Strings paths;
  for (const ArchiveEntry& e : Listed()) paths.push_back(e.path);
  EXPECT_EQ(paths, (Strings{"dt=2026-03-09/hour=23/0000000001-20260309T235959.999Z.ndjson.zst",
                            "dt=2026-03-10/hour=00/0000000002-20260310T000000.000Z.ndjson.zst"}));
}

TEST_F(S3ArchiveTest, ARestoreRemovesTheBatchesOfLaterEpochsFromTheBucket) {
  {
    auto w = Open(Options());
    w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
    ASSERT_TRUE(w->Checkpoint(1).ok());
    w->Committed(1);
    w->Add(R"({"n":2})", T("2026-01-01T00:00:02Z"));
    ASSERT_TRUE(w->Checkpoint(2).ok());  // checkpoint 2 is never written
    w->Add(R"({"n":3})", T("2026-01-01T00:00:03Z"));
    ASSERT_TRUE(w->Flush().ok());
  }
  ASSERT_EQ(Listed().size(), 3u);
  auto w = Open(Options());
  ASSERT_TRUE(w->Restore(1).ok());
  ASSERT_EQ(Listed().size(), 1u);
  EXPECT_EQ(Replayed(), "{\"n\":1}\n");
  EXPECT_EQ(Objects(false).size(), 1u) << "the objects of epoch 2 are deleted";
  // The rewrite left one base object and deleted the parts before it.
  const std::set<std::string> manifest = Objects(true);
  ASSERT_EQ(manifest.size(), 1u);
  EXPECT_TRUE(manifest.begin()->ends_with(".base.jsonl")) << *manifest.begin();
  // Records read again go to epoch 2 and are listed once.
  w->Add(R"({"n":2})", T("2026-01-01T00:00:02Z"));
  w->Add(R"({"n":3})", T("2026-01-01T00:00:03Z"));
  ASSERT_TRUE(w->Checkpoint(2).ok());
  w->Committed(2);
  EXPECT_EQ(Replayed(), "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
}

TEST_F(S3ArchiveTest, ManyAppendsAreFoldedIntoABase) {
  auto w = Open(Options());
  for (int i = 0; i < 150; ++i) {
    w->Add(StrCat("{\"n\":", i, "}"), T("2026-01-01T00:00:00Z") + i);
    ASSERT_TRUE(w->Flush().ok());
  }
  EXPECT_EQ(Listed().size(), 150u);
  EXPECT_LE(Objects(true).size(), 65u);
  std::string expected;
  for (int i = 0; i < 150; ++i) expected += StrCat("{\"n\":", i, "}\n");
  EXPECT_EQ(Replayed(), expected);
  // A new writer continues the sequence.
  w.reset();
  w = Open(Options());
  w->Add(R"({"n":150})", T("2026-01-01T00:00:01Z"));
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_EQ(Listed().back().seq, 151u);
}

TEST_F(S3ArchiveTest, UnlistedObjectsAreRemovedOnOpen) {
  {
    auto w = Open(Options());
    w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
    ASSERT_TRUE(w->Flush().ok());
  }
  // A batch whose PUT succeeded but whose manifest append did not.
  const std::string stray = "raw/events/2026/01/01/00/0000000009-20260101T000000.000Z.ndjson.zst";
  ASSERT_TRUE(client_->Put(stray, "partial").ok());
  auto w = Open(Options());
  EXPECT_EQ(Objects(false).size(), 1u);
  EXPECT_EQ(Replayed(), "{\"n\":1}\n");
}

TEST_F(S3ArchiveTest, ABucketThatIsDownKeepsTheBatchesInMemoryUntilItIsBack) {
  auto w = Open(Options());
  w->Add(R"({"n":1})", T("2026-01-01T00:00:01Z"));
  ASSERT_TRUE(w->Flush().ok());
  s3_->Stop();
  w->Add(R"({"n":2})", T("2026-01-01T00:00:02Z"));
  w->Add(R"({"n":3})", T("2026-01-01T01:00:02Z"));
  absl::Status down = w->Flush();
  EXPECT_TRUE(absl::IsUnavailable(down)) << down;
  EXPECT_NE(std::string(down.message()).find("2 batches (2 records)"), std::string::npos) << down;
  EXPECT_NE(w->stats().failing.find("s3://archive/raw"), std::string::npos) << w->stats().failing;
  EXPECT_EQ(w->stats().pending_batches, 2u);
  EXPECT_EQ(w->stats().pending_records, 2u);
  EXPECT_GT(w->stats().errors, 0u);
  EXPECT_FALSE(w->Checkpoint(1).ok()) << "no checkpoint while the archive is behind";
  ASSERT_TRUE(s3_->Restart());
  now_ += 500;
  w->Tick();  // the retry is not due yet
  EXPECT_EQ(w->stats().pending_batches, 2u);
  now_ += 500;
  w->Tick();
  EXPECT_EQ(w->stats().pending_batches, 0u);
  EXPECT_EQ(w->stats().failing, "");
  EXPECT_EQ(w->stats().dropped_records, 0u);
  EXPECT_EQ(Replayed(), "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
}

TEST_F(S3ArchiveTest, RetentionDeletesWholeHourPartitions) {
  ArchiveOptions o = Options();
  o.retention = 2 * 3600 * 1000;
  auto w = Open(o);
  for (int h = 0; h < 5; ++h) {
    w->Add(StrCat("{\"h\":", h, "}"), T("2026-01-01T00:30:00Z") + h * 3600 * 1000LL);
  }
  ASSERT_TRUE(w->Flush().ok());
  // Newest event 04:30: hours ending by 02:30 go (00 and 01).
  EXPECT_EQ(Replayed(), "{\"h\":2}\n{\"h\":3}\n{\"h\":4}\n");
  EXPECT_EQ(Objects(false).size(), 3u);
}

TEST_F(S3ArchiveTest, WrongCredentialsNameTheBucketAndTheStatusButNoSecret) {
  ::setenv("AWS_ACCESS_KEY_ID", "NOTTHEKEY", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "very-secret-value", 1);
  absl::StatusOr<std::unique_ptr<ArchiveWriter>> w = ArchiveWriter::Open(Options());
  ASSERT_FALSE(w.ok());
  const std::string msg(w.status().message());
  EXPECT_TRUE(absl::IsPermissionDenied(w.status())) << msg;
  EXPECT_NE(msg.find("s3://archive/raw"), std::string::npos) << msg;
  EXPECT_NE(msg.find("403"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("very-secret-value"), std::string::npos) << msg;
  ::unsetenv("AWS_ACCESS_KEY_ID");
  absl::StatusOr<std::unique_ptr<ArchiveWriter>> none = ArchiveWriter::Open(Options());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(std::string(none.status().message()).find("AWS_ACCESS_KEY_ID"), std::string::npos)
      << none.status();
}

TEST_F(S3ArchiveTest, AMissingBucketIsAnErrorThatNamesIt) {
  ArchiveOptions o = Options();
  o.location = "s3://no-such-bucket/raw?endpoint=" + s3_->endpoint();
  absl::StatusOr<std::unique_ptr<ArchiveWriter>> w = ArchiveWriter::Open(o);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(std::string(w.status().message()).find("s3://no-such-bucket/raw"), std::string::npos)
      << w.status();
  EXPECT_NE(std::string(w.status().message()).find("404"), std::string::npos) << w.status();
}

// A store whose endpoint answers 503, 429 SlowDown or closes the
// connection: the request is retried twice before the store reports it.
TEST(S3ArchiveStoreTest, ServerErrorsAndThrottlingAreRetriedTwice) {
  ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
  testing_util::RecordingReceiver endpoint;
  absl::StatusOr<std::unique_ptr<ArchiveStore>> store =
      OpenS3ArchiveStore("s3://archive/raw?endpoint=" + endpoint.url());
  ASSERT_TRUE(store.ok()) << store.status();
  endpoint.FailNext(2, 503);
  EXPECT_TRUE((*store)->PutBatch("2026/01/01/00/b.ndjson.zst", "x").ok());
  ASSERT_EQ(endpoint.Requests().size(), 3u);
  EXPECT_EQ(endpoint.Requests()[2].method, "PUT");
  EXPECT_EQ(endpoint.Requests()[2].target, "/archive/raw/events/2026/01/01/00/b.ndjson.zst");

  endpoint.SetHandler([](const testing_util::RecordedRequest&) {
    return testing_util::RecordingReceiver::Reply{
        429, "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>",
        ""};
  });
  absl::Status s = (*store)->PutBatch("2026/01/01/00/c.ndjson.zst", "x");
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(endpoint.Requests().size(), 6u) << "three attempts";
  EXPECT_NE(std::string(s.message()).find("HTTP 429 SlowDown"), std::string::npos) << s;

  // Refused credentials are not retried.
  endpoint.SetHandler([](const testing_util::RecordedRequest&) {
    return testing_util::RecordingReceiver::Reply{
        403, "<Error><Code>SignatureDoesNotMatch</Code></Error>", ""};
  });
  s = (*store)->PutBatch("2026/01/01/00/d.ndjson.zst", "x");
  EXPECT_TRUE(absl::IsPermissionDenied(s)) << s;
  EXPECT_EQ(endpoint.Requests().size(), 7u);

  // An endpoint that does not answer holds the job once, for the request
  // timeout (10 s), and is not asked again at once: the writer retries the
  // batch later.
  endpoint.HangAll(true);
  s = (*store)->PutBatch("2026/01/01/00/e.ndjson.zst", "x");
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  EXPECT_EQ(endpoint.Requests().size(), 8u);
  endpoint.Release();
}

}  // namespace
}  // namespace vigil
