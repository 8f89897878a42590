// operators/net/kinesis_client.h
//
// KinesisClient calls the Amazon Kinesis Data Streams JSON API
// (Kinesis_20131202, `X-Amz-Target: Kinesis_20131202.<Operation>`,
// `Content-Type: application/x-amz-json-1.1`) over HttpClient, signing
// every request with SigV4. It talks to the real service
// (https://kinesis.REGION.amazonaws.com) or to any compatible endpoint
// (kinesalite, kinesis-mock, LocalStack) given as an override.
//
// One client holds one kept-alive connection and is used by one thread at a
// time. Each call is one request: the client never retries; callers decide
// from the error's kind (KinesisErrorOf) whether and when to.
//
// Errors: the server's `__type` (ProvisionedThroughputExceededException,
// ExpiredIteratorException, ...) and HTTP status map to a KinesisErrorKind,
// carried in the returned status (KinesisErrorOf reads it back) beside an
// absl code: throttling and limits are ResourceExhausted, 5xx and transport
// errors Unavailable, a missing stream or shard NotFound, an expired
// iterator FailedPrecondition, bad requests InvalidArgument.
//
// Example:
//   KinesisClientOptions o;
//   o.endpoint = "http://127.0.0.1:4567";
//   std::unique_ptr<KinesisClient> c = *KinesisClient::Open(o);
//   std::vector<KinesisShard> shards = *c->ListAllShards("events");
//   std::string it = *c->GetShardIterator("events", shards[0].shard_id,
//                                          KinesisIteratorSpec::TrimHorizon());
//   KinesisRecords batch = *c->GetRecords(it, 10000);
//   batch.data(0)   // the first record's bytes, followed by simdjson padding
#ifndef VIGIL_OPERATORS_NET_KINESIS_CLIENT_H_
#define VIGIL_OPERATORS_NET_KINESIS_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/time.h"
#include "operators/net/aws_credentials.h"
#include "operators/net/http_client.h"
#include "operators/net/sigv4.h"

namespace vigil {

enum class KinesisErrorKind {
  kNone,
  kThrottled,         // ProvisionedThroughputExceededException, HTTP 429
  kLimitExceeded,     // LimitExceededException (control-plane rate, shard limits)
  kExpiredIterator,   // ExpiredIteratorException
  kResourceNotFound,  // ResourceNotFoundException
  kResourceInUse,     // ResourceInUseException (stream not ACTIVE)
  kInvalidArgument,   // InvalidArgumentException, ValidationException, other 4xx
  kAccessDenied,      // AccessDenied, UnrecognizedClient, signature errors, 401/403
  kServer,            // 5xx, InternalFailure, ServiceUnavailable, KMS throttling
  kTransport,         // connect, TLS, read/write errors and timeouts
};

// The kind a KinesisClient call failed with; kNone for OK.
KinesisErrorKind KinesisErrorOf(const absl::Status& status);
std::string_view KinesisErrorName(KinesisErrorKind kind);
// Throttling, limits, server and transport errors: the same call may succeed
// after a backoff.
bool IsRetryableKinesisError(KinesisErrorKind kind);

// Sequence numbers are decimal strings of up to 128 bits: compared as
// numbers (shorter is smaller, then lexicographically). <0, 0, >0.
int CompareSequenceNumbers(std::string_view a, std::string_view b);

struct KinesisShard {
  std::string shard_id;
  std::string parent_shard_id;           // "" when none
  std::string adjacent_parent_shard_id;  // "" when none (set by a merge)
  std::string starting_hash_key, ending_hash_key;
  std::string starting_sequence_number;
  std::string ending_sequence_number;  // "" while the shard is open
  bool closed() const { return !ending_sequence_number.empty(); }
};

struct KinesisIteratorSpec {
  enum class Type { kTrimHorizon, kLatest, kAtTimestamp, kAtSequenceNumber, kAfterSequenceNumber };
  Type type = Type::kTrimHorizon;
  std::string sequence_number;  // for the two sequence-number types
  TimeMs timestamp = 0;         // for kAtTimestamp

  static KinesisIteratorSpec TrimHorizon() { return {Type::kTrimHorizon, "", 0}; }
  static KinesisIteratorSpec Latest() { return {Type::kLatest, "", 0}; }
  static KinesisIteratorSpec AtTimestamp(TimeMs t) { return {Type::kAtTimestamp, "", t}; }
  static KinesisIteratorSpec AfterSequenceNumber(std::string seq) {
    return {Type::kAfterSequenceNumber, std::move(seq), 0};
  }
  static KinesisIteratorSpec AtSequenceNumber(std::string seq) {
    return {Type::kAtSequenceNumber, std::move(seq), 0};
  }
};

// Bytes after each record's data in KinesisRecords::bytes, so a record can be
// parsed in place with simdjson (SIMDJSON_PADDING).
inline constexpr size_t kKinesisRecordPadding = 64;

// One GetRecords response, the record data decoded from base64 into one
// buffer.
struct KinesisRecords {
  struct Entry {
    size_t offset = 0;  // into bytes
    size_t size = 0;
    std::string sequence_number;
    std::string partition_key;
    TimeMs arrival = 0;  // ApproximateArrivalTimestamp, epoch ms
  };
  struct ChildShard {
    std::string shard_id;
    std::vector<std::string> parent_shards;
  };
  std::string bytes;  // each record's data, then kKinesisRecordPadding zero bytes
  std::vector<Entry> records;
  // "" once a closed shard has been read to its end.
  std::string next_shard_iterator;
  int64_t millis_behind_latest = -1;     // -1 when the server did not say
  std::vector<ChildShard> child_shards;  // when the server reports them at a shard's end

  std::string_view data(size_t i) const {
    return std::string_view(bytes.data() + records[i].offset, records[i].size);
  }
};

struct KinesisPutEntry {
  std::string_view partition_key;
  std::string_view data;
};

struct KinesisPutResult {
  struct Entry {
    std::string sequence_number, shard_id;  // on success
    std::string error_code, error_message;  // on failure
    bool ok() const { return error_code.empty(); }
  };
  int failed_record_count = 0;
  std::vector<Entry> records;  // one per entry sent, in order
};

struct KinesisStreamSummary {
  std::string stream_name, stream_arn, status;  // status: CREATING, ACTIVE, UPDATING, DELETING
  int open_shard_count = 0;
};

struct KinesisClientOptions {
  std::string endpoint;  // "" = https://kinesis.{region}.amazonaws.com
  std::string region;    // "" = AWS_REGION / AWS_DEFAULT_REGION / us-east-1
  // Unset: from the environment (AwsCredentialSource::FromEnvironment:
  // variables, container credentials or a web identity). With an
  // endpoint override and no credentials in the environment, placeholder
  // credentials are used: local emulators only check the header's form.
  std::optional<AwsCredentials> credentials;
  std::chrono::milliseconds timeout{std::chrono::seconds(10)};
  bool verify_tls = true;
};

class KinesisClient {
 public:
  static absl::StatusOr<std::unique_ptr<KinesisClient>> Open(KinesisClientOptions options);
  ~KinesisClient();

  // One page of ListShards: `next_token` "" for the first, `max_results` 0
  // for the server's default. Sets *next_token to the next page's token, ""
  // after the last.
  absl::StatusOr<std::vector<KinesisShard>> ListShards(std::string_view stream,
                                                       std::string* next_token,
                                                       int max_results = 0);
  // Every shard, following NextToken.
  absl::StatusOr<std::vector<KinesisShard>> ListAllShards(std::string_view stream,
                                                          int page_size = 0);
  absl::StatusOr<std::string> GetShardIterator(std::string_view stream, std::string_view shard_id,
                                               const KinesisIteratorSpec& spec);
  absl::StatusOr<KinesisRecords> GetRecords(std::string_view iterator, int limit);
  absl::StatusOr<KinesisPutResult> PutRecords(std::string_view stream,
                                              const std::vector<KinesisPutEntry>& entries);

  // Control plane, for tools and tests.
  absl::StatusOr<KinesisStreamSummary> DescribeStreamSummary(std::string_view stream);
  absl::Status CreateStream(std::string_view stream, int shard_count);
  absl::Status SplitShard(std::string_view stream, std::string_view shard_id,
                          std::string_view new_starting_hash_key);
  absl::Status MergeShards(std::string_view stream, std::string_view shard_id,
                           std::string_view adjacent_shard_id);
  // Polls DescribeStreamSummary until the stream is ACTIVE.
  absl::Status WaitForActive(std::string_view stream, std::chrono::milliseconds timeout);

  // One raw call: the response body of a 2xx answer, else the mapped error.
  absl::StatusOr<std::string> Call(std::string_view operation, std::string_view body);

  const std::string& endpoint() const { return endpoint_; }
  const std::string& region() const { return region_; }

 private:
  KinesisClient(HttpUrl url, std::string endpoint, std::string region,
                std::shared_ptr<AwsCredentialSource> credentials, HttpClient::Options http_options);

  HttpUrl url_;
  std::string endpoint_;
  std::string region_;
  std::string host_header_;
  std::shared_ptr<AwsCredentialSource> credentials_;
  std::unique_ptr<HttpClient> http_;
};

namespace internal {
void AppendBase64(std::string_view bytes, std::string* out);
// Appends the decoded bytes; false on malformed input.
bool DecodeBase64(std::string_view text, std::string* out);
// Maps an error response to a status (exposed for tests).
absl::Status KinesisErrorStatus(int http_status, std::string_view body, std::string_view operation);
// "StreamName":"x" or "StreamARN":"arn:..." (no braces).
void AppendStreamField(std::string_view stream, std::string* out);
}  // namespace internal

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NET_KINESIS_CLIENT_H_
