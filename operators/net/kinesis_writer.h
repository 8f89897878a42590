// operators/net/kinesis_writer.h
//
// KinesisWriter puts records into a Kinesis stream with PutRecords, batching
// up to 500 records and 5 MiB (data plus partition keys) per call, the
// service's limits. PutRecords may fail part of a batch (FailedRecordCount,
// a per-record ErrorCode such as ProvisionedThroughputExceededException):
// only the failed records are sent again, first in the next batch and in
// their original order, after an exponential backoff with full jitter. A
// whole call that fails with a retryable error (throttling, 5xx, transport)
// is sent again the same way; other errors (a missing stream, bad
// credentials, an invalid record) are returned.
//
// Order: records of one partition key land in the order written as long as
// no batch fails in part. When a record fails and a later one of the same
// key in that batch succeeds, the retried record lands after it; the writer
// does not hold later records back (as Kinesis' own producer library, it
// trades strict per-key order under throttling for throughput). Consumers
// that need the order carry a per-key sequence in the data.
//
// Delivery is at least once in general: a call whose response is lost (the
// connection drops after the server applied it) is sent again. It is exactly
// once whenever responses arrive.
//
// Example:
//   KinesisUrl url = *ParseKinesisUrl("kinesis://events?endpoint=http://127.0.0.1:4567");
//   KinesisWriterOptions o;
//   o.stream = url.stream;
//   o.endpoint = url.endpoint;
//   std::unique_ptr<KinesisWriter> w = *KinesisWriter::Open(o);
//   w->Write("session-17", R"({"ts":1,"type":"message"})");
//   absl::Status s = w->Flush();   // every record written so far has landed
#ifndef VIGIL_OPERATORS_NET_KINESIS_WRITER_H_
#define VIGIL_OPERATORS_NET_KINESIS_WRITER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/time.h"
#include "operators/net/kinesis_client.h"
#include "operators/net/sigv4.h"

namespace vigil {

struct KinesisUrl {
  std::string stream;
  std::string endpoint;  // "" for AWS
  std::string region;    // "" for the environment's
};

// "kinesis://STREAM[?endpoint=URL][&region=REGION]"; values may be
// percent-encoded. An unknown parameter or a missing stream is an error.
absl::StatusOr<KinesisUrl> ParseKinesisUrl(std::string_view url);

struct KinesisWriterOptions {
  std::string stream;
  std::string endpoint;  // "" = https://kinesis.{region}.amazonaws.com
  std::string region;
  std::optional<AwsCredentials> credentials;  // unset: see KinesisClientOptions
  size_t max_batch_records = 500;
  size_t max_batch_bytes = 5 << 20;
  // Consecutive attempts without any record landing before Write/Flush give
  // up with Unavailable (the records stay buffered).
  int max_attempts = 20;
  DurationMs backoff_base = 100;
  DurationMs backoff_max = 5000;
  DurationMs request_timeout = 10000;
};

class KinesisWriter {
 public:
  struct Stats {
    uint64_t records_written = 0;  // landed
    uint64_t put_calls = 0;
    uint64_t records_retried = 0;  // failed in a partial failure and sent again
    uint64_t calls_retried = 0;    // whole calls sent again
  };

  static absl::StatusOr<std::unique_ptr<KinesisWriter>> Open(KinesisWriterOptions options);

  // Buffers one record (copied) and sends a batch once one is full.
  // InvalidArgument for an empty or too long (> 256 characters) partition
  // key or data above 1 MiB; otherwise the error of a failed send.
  absl::Status Write(std::string_view partition_key, std::string_view data);
  // Sends everything buffered, retrying as described above.
  absl::Status Flush();

  size_t buffered() const { return pending_.size(); }
  const Stats& stats() const { return stats_; }

 private:
  struct Pending {
    std::string key;
    std::string data;
  };
  KinesisWriter(KinesisWriterOptions options, std::unique_ptr<KinesisClient> client);
  // One PutRecords of the records at the front; failed ones stay in front.
  absl::Status SendBatch();
  void Sleep(int failures);

  KinesisWriterOptions options_;
  std::unique_ptr<KinesisClient> client_;
  std::deque<Pending> pending_;
  size_t pending_bytes_ = 0;
  int failures_ = 0;
  Stats stats_;
  std::mt19937_64 rng_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NET_KINESIS_WRITER_H_
