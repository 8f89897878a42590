#include "operators/net/kinesis_client.h"

#include <string>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "tests/operators/source/kinesis_test_util.h"

namespace vigil {
namespace {

using testing::Kinesalite;

TEST(KinesisClientTest, Base64RoundTrip) {
  const std::string binary("\0\xff\x10", 3);
  for (const std::string& s :
       std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", binary}) {
    std::string enc, dec;
    internal::AppendBase64(s, &enc);
    ASSERT_TRUE(internal::DecodeBase64(enc, &dec)) << enc;
    EXPECT_EQ(dec, s);
  }
  std::string enc;
  internal::AppendBase64("foobar", &enc);
  EXPECT_EQ(enc, "Zm9vYmFy");
  std::string dec;
  EXPECT_FALSE(internal::DecodeBase64("Zm9v!mFy", &dec));
}

TEST(KinesisClientTest, SequenceNumbersCompareAsNumbers) {
  EXPECT_LT(CompareSequenceNumbers("9", "10"), 0);
  EXPECT_GT(CompareSequenceNumbers("49590338271490256608559692538361571095921575989136588899",
                                   "49590338271490256608559692538361571095921575989136588898"),
            0);
  EXPECT_EQ(CompareSequenceNumbers("0012", "12"), 0);
  EXPECT_LT(CompareSequenceNumbers("4959", "49590"), 0);
}

TEST(KinesisClientTest, ErrorsMapToKinds) {
  auto kind = [](int status, const std::string& body) {
    return KinesisErrorOf(internal::KinesisErrorStatus(status, body, "GetRecords"));
  };
  EXPECT_EQ(
      kind(400, R"({"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded"})"),
      KinesisErrorKind::kThrottled);
  EXPECT_EQ(kind(400, R"({"__type":"com.amazonaws.kinesis.v20131202#ExpiredIteratorException"})"),
            KinesisErrorKind::kExpiredIterator);
  EXPECT_EQ(kind(400, R"({"__type":"LimitExceededException"})"), KinesisErrorKind::kLimitExceeded);
  EXPECT_EQ(kind(400, R"({"__type":"ResourceNotFoundException","message":"x"})"),
            KinesisErrorKind::kResourceNotFound);
  EXPECT_EQ(kind(400, R"({"__type":"InvalidArgumentException"})"),
            KinesisErrorKind::kInvalidArgument);
  EXPECT_EQ(kind(403, R"({"__type":"UnrecognizedClientException"})"),
            KinesisErrorKind::kAccessDenied);
  EXPECT_EQ(kind(500, R"({"__type":"InternalFailure"})"), KinesisErrorKind::kServer);
  EXPECT_EQ(kind(503, "<html>unavailable</html>"), KinesisErrorKind::kServer);
  EXPECT_EQ(kind(429, ""), KinesisErrorKind::kThrottled);
  const absl::Status s = internal::KinesisErrorStatus(
      400, R"({"__type":"ProvisionedThroughputExceededException","message":"Rate exceeded"})",
      "GetRecords");
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(std::string(s.message()),
            "GetRecords: HTTP 400 ProvisionedThroughputExceededException: Rate exceeded");
  EXPECT_TRUE(IsRetryableKinesisError(KinesisErrorKind::kThrottled));
  EXPECT_TRUE(IsRetryableKinesisError(KinesisErrorKind::kTransport));
  EXPECT_FALSE(IsRetryableKinesisError(KinesisErrorKind::kExpiredIterator));
  EXPECT_EQ(KinesisErrorOf(absl::OkStatus()), KinesisErrorKind::kNone);
}

TEST(KinesisClientTest, UnreachableEndpointIsATransportError) {
  KinesisClientOptions o;
  o.endpoint = "http://127.0.0.1:1";
  o.timeout = std::chrono::milliseconds(500);
  std::unique_ptr<KinesisClient> c = *KinesisClient::Open(o);
  absl::StatusOr<std::vector<KinesisShard>> r = c->ListAllShards("s");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(KinesisErrorOf(r.status()), KinesisErrorKind::kTransport);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
}

TEST(KinesisClientTest, RealEndpointNeedsCredentials) {
  ::unsetenv("AWS_ACCESS_KEY_ID");
  KinesisClientOptions o;
  o.region = "eu-west-1";
  absl::StatusOr<std::unique_ptr<KinesisClient>> c = KinesisClient::Open(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("AWS_ACCESS_KEY_ID"), absl::string_view::npos);
  o.credentials = AwsCredentials{"a", "b", ""};
  c = KinesisClient::Open(o);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ((*c)->endpoint(), "https://kinesis.eu-west-1.amazonaws.com");
}

TEST(KinesisClientTest, CallsAgainstKinesalite) {
  std::unique_ptr<Kinesalite> server = Kinesalite::Start();
  ASSERT_TRUE(server);
  testing::CreateStream(*server, "s", 2);
  std::unique_ptr<KinesisClient> c = server->Client();

  absl::StatusOr<std::vector<KinesisShard>> shards = c->ListAllShards("s");
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->size(), 2u);
  EXPECT_EQ((*shards)[0].shard_id, "shardId-000000000000");
  EXPECT_FALSE((*shards)[0].closed());
  EXPECT_EQ((*shards)[0].starting_hash_key, "0");

  const std::string big(300000, 'x');
  std::vector<KinesisPutEntry> entries = {{"k", R"({"a":1})"}, {"k", "two"}, {"k", big}};
  absl::StatusOr<KinesisPutResult> put = c->PutRecords("s", entries);
  ASSERT_TRUE(put.ok()) << put.status();
  EXPECT_EQ(put->failed_record_count, 0);
  ASSERT_EQ(put->records.size(), 3u);
  const std::string shard = put->records[0].shard_id;

  absl::StatusOr<std::string> it =
      c->GetShardIterator("s", shard, KinesisIteratorSpec::TrimHorizon());
  ASSERT_TRUE(it.ok()) << it.status();
  absl::StatusOr<KinesisRecords> got = c->GetRecords(*it, 2);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->records.size(), 2u);
  EXPECT_EQ(got->data(0), R"({"a":1})");
  EXPECT_EQ(got->data(1), "two");
  EXPECT_EQ(got->records[0].sequence_number, put->records[0].sequence_number);
  EXPECT_EQ(got->records[0].partition_key, "k");
  EXPECT_GT(got->records[0].arrival, 1600000000000);
  EXPECT_EQ(got->bytes[got->records[0].offset + got->records[0].size], '\0');
  EXPECT_FALSE(got->next_shard_iterator.empty());
  EXPECT_EQ(got->millis_behind_latest, 0);
  got = c->GetRecords(got->next_shard_iterator, 10);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->records.size(), 1u);
  EXPECT_EQ(got->data(0), big);

  // AFTER_SEQUENCE_NUMBER / AT_SEQUENCE_NUMBER / LATEST.
  it = c->GetShardIterator(
      "s", shard, KinesisIteratorSpec::AfterSequenceNumber(put->records[0].sequence_number));
  ASSERT_TRUE(it.ok());
  got = c->GetRecords(*it, 10);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->records.size(), 2u);
  EXPECT_EQ(got->data(0), "two");
  it = c->GetShardIterator("s", shard,
                           KinesisIteratorSpec::AtSequenceNumber(put->records[2].sequence_number));
  ASSERT_TRUE(it.ok());
  got = c->GetRecords(*it, 10);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->records.size(), 1u);
  it = c->GetShardIterator("s", shard, KinesisIteratorSpec::Latest());
  ASSERT_TRUE(it.ok());
  got = c->GetRecords(*it, 10);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->records.empty());
  it = c->GetShardIterator("s", shard, KinesisIteratorSpec::AtTimestamp(1000));
  ASSERT_TRUE(it.ok()) << it.status();
  got = c->GetRecords(*it, 10);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->records.size(), 3u);

  absl::StatusOr<std::vector<KinesisShard>> missing = c->ListAllShards("nope");
  EXPECT_EQ(KinesisErrorOf(missing.status()), KinesisErrorKind::kResourceNotFound)
      << missing.status();
  absl::StatusOr<KinesisRecords> bad = c->GetRecords("not-an-iterator", 10);
  EXPECT_EQ(KinesisErrorOf(bad.status()), KinesisErrorKind::kInvalidArgument) << bad.status();

  absl::StatusOr<KinesisStreamSummary> summary = c->DescribeStreamSummary("s");
  ASSERT_TRUE(summary.ok()) << summary.status();
  EXPECT_EQ(summary->status, "ACTIVE");
  EXPECT_EQ(summary->open_shard_count, 2);
}

}  // namespace
}  // namespace vigil
