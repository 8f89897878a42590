// operators/source/kinesis_source.h
//
// KinesisSource reads the shards of one Kinesis data stream (or any endpoint
// speaking the Kinesis JSON API) as a live RecordSource: one input per shard,
// named by its shard id, lag in milliseconds behind the shard's tip
// (MillisBehindLatest).
//
// A background thread discovers shards (ListShards, every
// discovery_interval and whenever a shard ends) and polls each owned shard
// with GetRecords, at most 5 calls per second per shard (the service's
// limit), every poll_interval once it has caught up, right away while it is
// behind. Next hands out what that thread has fetched; it waits at most
// idle_sleep when nothing is there, so a job loop neither spins nor stalls.
// At most max_buffered_records are fetched ahead of Next.
//
// Shard lifecycle. A shard whose parents (ParentShardId,
// AdjacentParentShardId in ListShards) are known is read only once they are
// fully read, so the records of a key stay in order across a split or merge.
// A parent is done when this source has read it to its end (GetRecords
// returned no NextShardIterator), when it is no longer listed (past the
// retention period), or when the restored positions say so. A shard that ends
// is read to its end and then becomes inactive.
//
// Start position: shards in the first listing start at `start`; shards that
// appear later (children of a resharding) start at TRIM_HORIZON, so nothing
// written to them is skipped; restored shards resume after their last
// delivered sequence number.
//
// Instances: with instance_count > 1, each shard belongs to exactly one
// instance by rendezvous (highest random weight) hashing of its shard id over
// the instance indices (KinesisShardOwner): a resharding moves only the
// shards it creates. Instances do not talk to each other, so the owner of a
// child cannot see how far another instance has read the parent: it waits
// until the parent is closed (has an EndingSequenceNumber in ListShards) and
// then reads. Across instances, the records of one key may therefore be
// delivered by the child's owner before the parent's owner has delivered the
// key's last parent records; event time (the watermark) orders them again.
// With one instance, parents are always read first, exactly.
//
// Errors: throttling (ProvisionedThroughputExceededException,
// LimitExceededException), 5xx and transport errors are retried per shard
// with exponential backoff and full jitter (backoff_base doubling up to
// backoff_max); an expired or rejected iterator is replaced by one
// AFTER_SEQUENCE_NUMBER the last record fetched (or the shard's start
// position when none was). Nothing is lost or delivered twice across any
// retry. connected() is false from a failed server or transport exchange
// until the next successful one.
//
// Positions (SavePositions) are a JSON object, per shard id the sequence
// number of the last record returned by Next, and which shards were read to
// their end:
//   {"v":1,"shards":{"shardId-000000000001":{"seq":"4959…"},
//                    "shardId-000000000000":{"done":true}}}
// RestorePositions (before the first Next) resumes each listed shard after
// its sequence number; finished shards stay finished; shards not listed
// start as described above (a shard from which Next returned nothing yet is
// not in the positions: with `start` LATEST, what arrived in it between the
// two runs is skipped). It accepts the positions of several instances
// merged into one object (entries of shards owned elsewhere are ignored).
//
// Record: data is the record's bytes followed by simdjson padding, input
// the shard's input index, line a running count of the shard's records
// (from 1 in each run), offset 0, size the data size.
//
// Example:
//   KinesisSourceOptions o;
//   o.stream = "events";
//   o.endpoint = "http://127.0.0.1:4567";   // "" for AWS
//   std::unique_ptr<KinesisSource> src = *OpenKinesisSource(o);
//   std::vector<Record> batch;
//   while (running && src->Next(&batch, 4096)) Process(batch);
//   std::string checkpoint = src->SavePositions();
#ifndef VIGIL_OPERATORS_SOURCE_KINESIS_SOURCE_H_
#define VIGIL_OPERATORS_SOURCE_KINESIS_SOURCE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "operators/net/sigv4.h"
#include "operators/source/record_source.h"

namespace vigil {

struct KinesisSourceOptions {
  std::string stream;    // stream name (or ARN)
  std::string endpoint;  // "" = https://kinesis.{region}.amazonaws.com
  std::string region;    // "" = AWS_REGION / AWS_DEFAULT_REGION / us-east-1
  enum class Start { kTrimHorizon, kLatest, kAtTimestamp } start = Start::kTrimHorizon;
  TimeMs start_timestamp = 0;                  // for kAtTimestamp
  int instance_index = 0, instance_count = 1;  // split shards across instances
  DurationMs poll_interval = 200;  // per shard once caught up; never above 5 GetRecords/s/shard
  DurationMs discovery_interval = 10000;
  int max_records_per_call = 10000;
  DurationMs idle_sleep = 100;  // longest Next waits when nothing was fetched
  // Retries of throttled and failed calls: a uniform delay in
  // [0, min(backoff_max, backoff_base * 2^(failures-1))].
  DurationMs backoff_base = 100;
  DurationMs backoff_max = 5000;
  DurationMs request_timeout = 10000;
  size_t max_buffered_records = 50000;        // fetched ahead of Next
  int list_shards_page_size = 0;              // 0: the server's default
  std::optional<AwsCredentials> credentials;  // unset: see KinesisClientOptions
  // Bounded: the source ends once every owned shard has been read to its
  // tip (or end) and everything fetched has been returned (CaughtUp).
  bool exit_at_end = false;
};

// Parses "trim_horizon", "latest" or an RFC 3339 time (AT_TIMESTAMP) into `o`.
bool ParseKinesisStart(std::string_view s, KinesisSourceOptions* o);

// Which of `instance_count` instances reads `shard_id`: the index with the
// highest HashBytes("<index>/<shard id>"), ties to the lower index.
int KinesisShardOwner(std::string_view shard_id, int instance_count);

namespace internal {
struct KinesisShared;
struct KinesisBatch;
class KinesisFetcher;
}  // namespace internal

class KinesisSource : public RecordSource {
 public:
  struct Stats {
    uint64_t get_records_calls = 0;
    uint64_t list_shards_calls = 0;
    uint64_t retries = 0;            // calls answered by a retryable error
    uint64_t expired_iterators = 0;  // iterators replaced
    uint64_t records = 0;            // returned by Next
  };

  ~KinesisSource() override;

  bool Next(std::vector<Record>* out, size_t max) override;
  const std::string& name() const override { return name_; }  // "kinesis:STREAM"
  bool bounded() const override { return options_.exit_at_end; }
  bool has_positions() const override { return true; }
  absl::Status status() const override;
  int input_count() const override;
  std::string input_name(int input) const override;
  bool input_active(int input) const override;
  std::vector<std::string> AllInputs() override;
  int64_t input_lag(int input) const override;
  bool input_caught_up(int input) const override;
  const char* lag_unit() const override { return "ms"; }
  bool connected() const override;
  uint64_t bytes_read() const override;
  std::string SavePositions() const override;
  absl::Status RestorePositions(std::string_view positions) override;
  bool RestoredDone(std::string_view name) const override;

  // True once every shard this instance owns is closed and has been
  // returned by Next to its end (and a listing after the last end found no
  // new shard). Streams never end by themselves: tests and tools use this.
  bool Drained() const;
  // True once every shard this instance owns has been read to its tip (its
  // last GetRecords found nothing new) or end, and Next has returned
  // everything fetched: all records written before the shards' last polls
  // have been delivered.
  bool CaughtUp() const;
  // The last error met while talking to the endpoint, "" if none yet.
  std::string last_error() const;
  Stats stats() const;

 private:
  friend absl::StatusOr<std::unique_ptr<KinesisSource>> OpenKinesisSource(
      KinesisSourceOptions options);
  explicit KinesisSource(KinesisSourceOptions options);

  KinesisSourceOptions options_;
  std::string name_;
  std::unique_ptr<internal::KinesisShared> shared_;
  std::unique_ptr<internal::KinesisFetcher> fetcher_;
  std::thread thread_;
  // Batches whose records the last Next returned (their bytes back them).
  std::vector<std::unique_ptr<internal::KinesisBatch>> retired_;
};

absl::StatusOr<std::unique_ptr<KinesisSource>> OpenKinesisSource(KinesisSourceOptions options);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_SOURCE_KINESIS_SOURCE_H_
