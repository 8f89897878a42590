// operators/net/kafka_writer.h
//
// KafkaWriter produces messages to Kafka topics with librdkafka and checks
// every delivery report: a message that cannot be delivered (after
// librdkafka's own retries, within message.timeout.ms) is counted as failed
// and its error kept, never silently dropped. The producer is idempotent,
// and lz4-compressed by default (the development broker keeps 5 MB per
// partition, so compression stretches it).
//
// Used by `vigil gen --to kafka://…` and by the Kafka sinks.
//
// Example:
//   absl::StatusOr<KafkaUrl> url = ParseKafkaUrl("kafka://127.0.0.1:9092/events");
//   auto w = KafkaWriter::Create(url->brokers, {});
//   (*w)->Produce(url->topic, "session-1", R"({"ts":...})");
//   absl::Status s = (*w)->Flush(std::chrono::seconds(30));  // every report in
//   (*w)->failed();   // 0
#ifndef VIGIL_OPERATORS_NET_KAFKA_WRITER_H_
#define VIGIL_OPERATORS_NET_KAFKA_WRITER_H_

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "librdkafka/rdkafka.h"
#include "operators/net/kafka_properties.h"

namespace vigil {

struct KafkaUrl {
  std::string brokers;  // "host:port[,host:port...]"
  std::string topic;
};

// "kafka://host:port[,host:port]/topic".
absl::StatusOr<KafkaUrl> ParseKafkaUrl(std::string_view url);

class KafkaWriter {
 public:
  // With a `transactional_id`, messages are produced in transactions
  // (BeginTransaction / CommitTransaction); a new writer with the same id
  // aborts whatever a crashed predecessor left open, so read_committed
  // consumers never see it.
  static absl::StatusOr<std::unique_ptr<KafkaWriter>> Create(
      const std::string& brokers, const KafkaProperties& properties,
      const std::string& transactional_id = "");
  ~KafkaWriter();
  KafkaWriter(const KafkaWriter&) = delete;
  KafkaWriter& operator=(const KafkaWriter&) = delete;

  // Queues one message (copied). When librdkafka's queue is full it serves
  // delivery reports until there is room, so a slow broker slows the caller
  // down instead of losing messages. Fails only for an unknown topic or a
  // message larger than message.max.bytes (counted as failed).
  // `epoch`, when non-zero, goes in a "vigil-epoch" header.
  // `partition`: RD_KAFKA_PARTITION_UA lets the key choose.
  absl::Status Produce(std::string_view topic, std::string_view key, std::string_view value,
                       uint64_t epoch = 0, int32_t partition = RD_KAFKA_PARTITION_UA);
  // Serves delivery reports without waiting.
  void Poll() { rd_kafka_poll(rk_, 0); }
  // Waits until every queued message has its delivery report. Fails when some
  // were not delivered (since the writer was created) or the wait timed out.
  absl::Status Flush(std::chrono::milliseconds timeout);

  // Transactions (only with a transactional id). Commit flushes first.
  bool transactional() const { return transactional_; }
  absl::Status BeginTransaction();
  absl::Status CommitTransaction(std::chrono::milliseconds timeout);
  absl::Status AbortTransaction(std::chrono::milliseconds timeout);
  // Commits a consumer group's offsets as part of the open transaction
  // (consume-transform-produce: they become visible with the messages).
  absl::Status SendOffsets(const rd_kafka_topic_partition_list_t* offsets,
                           const rd_kafka_consumer_group_metadata_t* group,
                           std::chrono::milliseconds timeout);
  // How many partitions `topic` has (NotFound when it does not exist).
  absl::StatusOr<int> PartitionCount(const std::string& topic, std::chrono::milliseconds timeout);

  uint64_t delivered() const { return delivered_.load(); }
  uint64_t failed() const { return failed_.load(); }
  std::string last_error() const;

 private:
  KafkaWriter() = default;
  static void DeliveryReport(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);

  rd_kafka_t* rk_ = nullptr;
  bool transactional_ = false;
  bool in_transaction_ = false;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  mutable absl::Mutex error_mu_;
  std::string last_error_ ABSL_GUARDED_BY(error_mu_);
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NET_KAFKA_WRITER_H_
