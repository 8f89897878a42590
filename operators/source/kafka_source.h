// operators/source/kafka_source.h
//
// The Kafka source: a librdkafka consumer in a consumer group on one or
// more topics, with eager round-robin assignment (librdkafka 2.0.2's
// cooperative-sticky assignor aborts when a consumer stops before its
// first assignment). Every assigned partition
// is one input of the source (its own watermark and idleness in the job),
// named "topic/partition".
//
// Positions are the source of truth for exactly-once results: the job's
// checkpoint stores SavePositions() (the next offset of every partition this
// process has handed out records of), and on restart RestorePositions makes
// every partition resume there when it is assigned, whatever the group has
// committed. After a checkpoint is durable, PositionsDurable commits the
// same offsets to the group, so standard lag tooling sees the job's
// progress. Auto-commit is off. Partitions never checkpointed start from the
// group's committed offset, or else from `start` (earliest, latest, or the
// first offset at or after `start_timestamp`).
//
// A partition revoked in a rebalance (another instance joined) has the
// offsets of the records already handed out committed synchronously before
// it is released, so the next owner starts right after them; records of it
// not yet handed out are dropped, not lost (the next owner reads them).
// Scale-out instances (commit_offsets false) resume a newly assigned
// partition at the furthest position known (see set_published_lookup).
//
// Records are copied out of librdkafka's buffers into a padded arena; each
// record's `line` and `offset` are its Kafka offset. With `exit_at_end`
// the source is bounded: it ends once it has an assignment and every
// assigned partition has reached its end (as `kcat -e` does).
//
// Example:
//   KafkaSourceOptions o;
//   o.brokers = "127.0.0.1:9092";
//   o.topics = {"events"};
//   absl::StatusOr<std::unique_ptr<KafkaSource>> src = KafkaSource::Open(o);
//   std::vector<Record> batch;
//   while ((*src)->Next(&batch, 4096)) ...
#ifndef VIGIL_OPERATORS_SOURCE_KAFKA_SOURCE_H_
#define VIGIL_OPERATORS_SOURCE_KAFKA_SOURCE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "base/strings.h"
#include "base/time.h"
#include "librdkafka/rdkafka.h"
#include "operators/net/kafka_properties.h"
#include "operators/source/record_source.h"

namespace vigil {

struct KafkaSourceOptions {
  std::string brokers;  // bootstrap.servers
  std::vector<std::string> topics;
  std::string group_id = "vigil";
  enum class Start { kEarliest, kLatest, kTimestamp } start = Start::kEarliest;
  TimeMs start_timestamp = 0;  // with Start::kTimestamp
  // Passed to librdkafka as they are, after vigil's own settings, so they
  // win (security.protocol, sasl.*, ssl.*, session.timeout.ms, ...).
  KafkaProperties properties;
  bool exit_at_end = false;
  // Static group membership (KIP-345): the consumer joins as
  // group.instance.id = `instance_id`, so a restarted process with the same
  // id gets its partitions back at once instead of after the dead member's
  // session timeout. A static member does not leave the group when it
  // stops: its partitions go to others only after session.timeout.ms.
  // Empty `instance_id` or `static_membership` false: a dynamic member.
  // session.timeout.ms defaults to 10 s (heartbeats every 3 s).
  bool static_membership = true;
  std::string instance_id;
  size_t max_record_bytes = 1 << 20;
  // Scale-out instances commit offsets in the transaction that publishes
  // their partial aggregates (see HandedOutOffsets): the source commits
  // nothing itself, and calls `before_revoke` in a rebalance while it still
  // holds the partitions being taken away, so the owner can publish first.
  bool commit_offsets = true;
};

// Parses "earliest", "latest" or an RFC 3339 time into `o`.
bool ParseKafkaStart(std::string_view s, KafkaSourceOptions* o);

class KafkaSource : public RecordSource {
 public:
  // Fails with InvalidArgument for a property librdkafka refuses.
  static absl::StatusOr<std::unique_ptr<KafkaSource>> Open(const KafkaSourceOptions& options);
  ~KafkaSource() override;

  bool Next(std::vector<Record>* out, size_t max) override;
  const std::string& name() const override { return name_; }
  bool bounded() const override { return options_.exit_at_end; }
  int input_count() const override { return static_cast<int>(parts_.size()); }
  absl::Status status() const override { return status_; }

  std::string input_name(int input) const override { return parts_[input].name; }
  bool input_active(int input) const override { return parts_[input].assigned; }
  int64_t input_lag(int input) const override;
  bool input_caught_up(int input) const override {
    return parts_[input].assigned && parts_[input].at_end;
  }
  bool connected() const override { return connected_.load(std::memory_order_relaxed); }

  bool has_positions() const override { return true; }
  std::string SavePositions() const override;
  absl::Status RestorePositions(std::string_view positions) override;
  void PositionsDurable(std::string_view positions) override;

  // Number of partitions assigned to this consumer now.
  int assigned_count() const;
  // Every partition of the subscribed topics ("topic/partition"), from the
  // brokers' metadata, refreshed at most once a minute; the last known list
  // (empty before the first answer) when the brokers do not answer.
  const std::vector<std::string>& AllPartitions();
  std::vector<std::string> AllInputs() override { return AllPartitions(); }

  // Scale-out (commit_offsets = false). The next offset of every assigned
  // partition this process has handed out records of; the caller destroys
  // the list.
  rd_kafka_topic_partition_list_t* HandedOutOffsets() const;
  // The consumer's group metadata for SendOffsets; the caller destroys it.
  rd_kafka_consumer_group_metadata_t* GroupMetadata() const {
    return rd_kafka_consumer_group_metadata(rk_);
  }
  // Commits `offsets` to the group now (synchronously).
  void CommitOffsets(const rd_kafka_topic_partition_list_t* offsets);
  // Runs in a rebalance before partitions are released, with their inputs
  // (null: none).
  using RevokeHook = std::function<void(const std::vector<int>& inputs)>;
  void set_before_revoke(RevokeHook fn) { before_revoke_ = std::move(fn); }
  // Runs in a rebalance once partitions are assigned, before any of their
  // records is read, with each one's input and the offset it resumes at
  // (-1: decided by the broker, e.g. auto.offset.reset).
  using AssignHook = std::function<void(const std::vector<std::pair<int, int64_t>>& inputs)>;
  void set_after_assign(AssignHook fn) { after_assign_ = std::move(fn); }
  // The next offset of input `input` this process has handed out (-1: none).
  int64_t input_next_offset(int input) const { return parts_[input].next_offset; }
  // Scale-out: where the partials topic says each partition was published
  // up to (ReadPublished). With it, an assigned partition resumes at
  // the furthest of its own position, the checkpoint's, the group's
  // committed offset and the published one: offsets only move forward.
  using PublishedLookup = std::function<absl::StatusOr<std::map<std::string, int64_t>>(
      const std::vector<std::string>& partitions)>;
  void set_published_lookup(PublishedLookup fn) { published_lookup_ = std::move(fn); }

 private:
  struct Part {
    std::string topic;
    int32_t partition = 0;
    std::string name;
    int64_t next_offset = -1;  // after the last record handed out; -1: none yet
    bool assigned = false;
    bool at_end = false;
  };

  explicit KafkaSource(const KafkaSourceOptions& options);
  int PartIndex(std::string_view topic, int32_t partition);
  int PartIndex(const rd_kafka_message_t* m);
  void OnRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void Assign(rd_kafka_topic_partition_list_t* partitions);
  // Scale-out: sets each partition's offset to the furthest known position.
  // Partitions of `partitions` in `unknown` have no position of ours: the
  // group's committed offset, else the start (a time, or the end resolved
  // to a number and kept as the position).
  void ResolveStarts(rd_kafka_topic_partition_list_t* unknown,
                     rd_kafka_topic_partition_list_t* partitions);
  void ResumeAtFurthest(rd_kafka_topic_partition_list_t* partitions);
  void Revoke(rd_kafka_topic_partition_list_t* partitions);
  void OnError(int err, const char* reason);
  // Commits next offsets of `parts` (all handed-out ones when empty).
  void Commit(const std::map<std::string, int64_t>& offsets, bool async);
  // Adds a polled message to the batch, or handles the event it carries.
  void Take(rd_kafka_message_t* m);
  void BuildBatch(std::vector<Record>* out);

  static void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions, void* opaque);
  static void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque);

  KafkaSourceOptions options_;
  std::string name_;
  rd_kafka_t* rk_ = nullptr;
  std::vector<Part> parts_;
  absl::flat_hash_map<std::string, int, StringHash, StringEq> index_;
  // The same, by librdkafka topic handle: no string work per message.
  absl::flat_hash_map<std::pair<const void*, int32_t>, int> by_handle_;
  std::map<std::string, int64_t> restored_;   // checkpointed next offsets by name
  bool from_checkpoint_ = false;              // RestorePositions was called
  std::vector<rd_kafka_message_t*> pending_;  // messages of the batch being built
  std::string arena_;
  std::vector<size_t> starts_;  // where each pending message starts in arena_
  std::atomic<bool> connected_{true};
  absl::Status status_;
  TimeMs last_error_log_ = 0;
  RevokeHook before_revoke_;
  AssignHook after_assign_;
  PublishedLookup published_lookup_;
  std::vector<std::string> all_partitions_;
  TimeMs all_partitions_at_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_SOURCE_KAFKA_SOURCE_H_
