// The S3 client against s3rver on loopback, over the wire: put, get, list
// (every page), delete; a body above the threshold goes in parts and reads
// back whole; wrong credentials and a missing bucket are errors that name
// the bucket and the HTTP status, never the secret; a stopped server is
// Unavailable; and the s3:// URL's parts and errors.
#include "operators/net/s3_client.h"

#include <unistd.h>

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/operators/net/s3rver.h"

namespace vigil {
namespace {

class S3ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/s3client_" + std::to_string(::getpid()) + "_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    server_ = S3rver::Start(dir_, {"archive"});
    ASSERT_TRUE(server_) << "s3rver did not start (scripts/test-servers.sh installs it)";
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  S3Location At(const std::string& bucket = "archive") {
    absl::StatusOr<S3Location> at =
        ParseS3Url("s3://" + bucket + "/events?endpoint=" + server_->endpoint());
    EXPECT_TRUE(at.ok()) << at.status();
    return *at;
  }
  std::string dir_;
  std::unique_ptr<S3rver> server_;
};

TEST_F(S3ClientTest, PutsGetsListsAndDeletes) {
  std::unique_ptr<S3Client> s3 = *S3Client::Create(At(), S3rver::Credentials());
  absl::Status check = s3->CheckBucket();
  ASSERT_TRUE(check.ok()) << check;
  ASSERT_TRUE(s3->Put("events/2026/01/01/00/b-1.ndjson.zst", "one").ok());
  ASSERT_TRUE(s3->Put("events/dt=2026-01-01/hour=01/b-2.ndjson.zst", std::string(1000, 'x')).ok());
  ASSERT_TRUE(s3->Put("other/b-3", "three").ok());
  EXPECT_EQ(*s3->Get("events/2026/01/01/00/b-1.ndjson.zst"), "one");
  absl::StatusOr<std::vector<S3Object>> list = s3->List("events/");
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].key, "events/2026/01/01/00/b-1.ndjson.zst");
  EXPECT_EQ((*list)[0].size, 3u);
  EXPECT_EQ((*list)[1].key, "events/dt=2026-01-01/hour=01/b-2.ndjson.zst");
  EXPECT_EQ((*list)[1].size, 1000u);
  ASSERT_TRUE(s3->Delete("events/2026/01/01/00/b-1.ndjson.zst").ok());
  EXPECT_EQ(s3->List("events/")->size(), 1u);
  absl::StatusOr<std::string> gone = s3->Get("events/2026/01/01/00/b-1.ndjson.zst");
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound) << gone.status();
  EXPECT_NE(gone.status().message().find("s3://archive/events"), std::string::npos);
  EXPECT_NE(gone.status().message().find("HTTP 404 NoSuchKey"), std::string::npos) << gone.status();
  EXPECT_EQ(s3->Put("bad key", "x").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(S3ClientTest, ListsEveryPage) {
  std::unique_ptr<S3Client> s3 = *S3Client::Create(At(), S3rver::Credentials());
  // A listing answers at most 1,000 keys a page.
  for (int i = 0; i < 1005; ++i) {
    char key[64];
    std::snprintf(key, sizeof key, "many/k-%05d", i);
    ASSERT_TRUE(s3->Put(key, "x").ok()) << i;
  }
  absl::StatusOr<std::vector<S3Object>> list = s3->List("many/");
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->size(), 1005u);
  EXPECT_EQ(list->front().key, "many/k-00000");
  EXPECT_EQ(list->back().key, "many/k-01004");
}

TEST_F(S3ClientTest, ALargeBodyGoesInPartsAndReadsBackWhole) {
  S3Client::Options o;
  o.multipart_threshold = 6 << 20;
  o.part_size = 5 << 20;
  std::unique_ptr<S3Client> s3 = *S3Client::Create(At(), S3rver::Credentials(), o);
  std::string body(12 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>('a' + (i * 7919) % 26);
  const uint64_t before = s3->requests();
  ASSERT_TRUE(s3->Put("big/object", body).ok());
  // Start, three parts (5 + 5 + 2 MiB), completion.
  EXPECT_EQ(s3->requests() - before, 5u);
  absl::StatusOr<std::string> back = s3->Get("big/object");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == body) << back->size();
}

TEST_F(S3ClientTest, WrongCredentialsAndAMissingBucketAreNamedWithoutTheSecret) {
  // s3rver checks the access key (not the signature's secret).
  std::unique_ptr<S3Client> wrong =
      *S3Client::Create(At(), AwsCredentials{"NOT-A-KEY", "not-the-secret-key", ""});
  absl::Status s = wrong->Put("events/x", "x");
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_NE(s.message().find("s3://archive/events (PUT events/x): HTTP 403 InvalidAccessKeyId"),
            std::string::npos)
      << s;
  EXPECT_EQ(s.message().find("not-the-secret-key"), std::string::npos) << s;

  std::unique_ptr<S3Client> missing = *S3Client::Create(At("nobucket"), S3rver::Credentials());
  absl::Status m = missing->Put("events/x", "x");
  EXPECT_EQ(m.code(), absl::StatusCode::kNotFound) << m;
  EXPECT_NE(m.message().find("s3://nobucket/events"), std::string::npos) << m;
  EXPECT_NE(m.message().find("NoSuchBucket"), std::string::npos) << m;
}

TEST_F(S3ClientTest, AStoppedServerIsUnavailableUntilItIsBack) {
  std::unique_ptr<S3Client> s3 = *S3Client::Create(At(), S3rver::Credentials());
  ASSERT_TRUE(s3->Put("events/a", "a").ok());
  server_->Stop();
  EXPECT_EQ(s3->Put("events/b", "b").code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(server_->Restart());
  EXPECT_TRUE(s3->Put("events/b", "b").ok());
  EXPECT_EQ(s3->List("events/")->size(), 2u);
}

TEST(S3UrlTest, PartsAndErrors) {
  absl::StatusOr<S3Location> at = ParseS3Url(
      "s3://vigil-archive/prod/events/?endpoint=http%3A%2F%2F127.0.0.1%3A4569&region=eu-west-1");
  ASSERT_TRUE(at.ok()) << at.status();
  EXPECT_EQ(at->bucket, "vigil-archive");
  EXPECT_EQ(at->prefix, "prod/events");
  EXPECT_EQ(at->endpoint, "http://127.0.0.1:4569");
  EXPECT_EQ(at->region, "eu-west-1");
  EXPECT_EQ(at->ToString(), "s3://vigil-archive/prod/events");
  absl::StatusOr<S3Location> aws = ParseS3Url("s3://vigil-archive?region=us-west-2");
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ(aws->endpoint, "https://s3.us-west-2.amazonaws.com");
  EXPECT_EQ(aws->prefix, "");
  auto error = [](const char* url) { return std::string(ParseS3Url(url).status().message()); };
  EXPECT_EQ(error("s3://Bad_Bucket/x"),
            "S3 URL s3://Bad_Bucket/x: the bucket name must be 3-63 lower-case letters, digits, "
            "'.' or '-'");
  EXPECT_EQ(error("s3://bucket/a b"),
            "S3 URL s3://bucket/a b: the prefix may hold letters, digits and /._-= only");
  EXPECT_EQ(error("s3://bucket/x?endpoint=ftp://h"),
            "S3 URL s3://bucket/x: endpoint must be an http:// or https:// URL");
  EXPECT_EQ(error("s3://bucket/x?acl=private"),
            "S3 URL s3://bucket/x: unknown parameter 'acl' (allowed: endpoint, region)");
  EXPECT_EQ(error("file:///x"), "S3 URL file:///x: must start with s3://BUCKET");
  EXPECT_TRUE(ValidS3Key("events/dt=2026-01-01/hour=00/b-1.parquet"));
  EXPECT_FALSE(ValidS3Key("/events"));
  EXPECT_FALSE(ValidS3Key("a//b"));
  EXPECT_FALSE(ValidS3Key("a?b"));
}

}  // namespace
}  // namespace vigil
