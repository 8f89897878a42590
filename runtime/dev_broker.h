// runtime/dev_broker.h
//
// DevBroker is an in-memory Kafka-protocol broker for local runs and tests:
// librdkafka's mock cluster, listening on ephemeral loopback ports. It is
// for development only: nothing is kept on disk, each partition keeps only
// its newest ~5 MB (or 100,000 message sets), and there is no SASL and no
// CreateTopics — topics are created up front. Transactions are partial:
// offsets sent in a transaction are not stored, group offset commits are
// refused while the group rebalances, and read_committed readers see the
// messages of aborted transactions too.
//
// `vigil dev-broker` runs one until SIGINT/SIGTERM; tests hold one in
// process, which also lets them inject faults (SetBrokerUp, PushErrors).
//
// Example:
//   absl::StatusOr<std::unique_ptr<DevBroker>> b = DevBroker::Start(1, {{"events", 4}});
//   (*b)->bootstrap();   // "127.0.0.1:39211"
#ifndef VIGIL_RUNTIME_DEV_BROKER_H_
#define VIGIL_RUNTIME_DEV_BROKER_H_

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "librdkafka/rdkafka.h"
#include "librdkafka/rdkafka_mock.h"

namespace vigil {

struct DevTopic {
  std::string name;
  int partitions = 1;
};

// "events:4" or "events" (one partition is too few for the demo: 4).
absl::StatusOr<DevTopic> ParseDevTopic(std::string_view spec);

class DevBroker {
 public:
  static absl::StatusOr<std::unique_ptr<DevBroker>> Start(int brokers,
                                                          const std::vector<DevTopic>& topics);
  ~DevBroker();
  DevBroker(const DevBroker&) = delete;
  DevBroker& operator=(const DevBroker&) = delete;

  // Comma-separated host:port list for bootstrap.servers.
  const std::string& bootstrap() const { return bootstrap_; }
  absl::Status CreateTopic(const DevTopic& topic);
  // Takes broker `id` (1-based) down or up: its connections are closed and
  // new ones refused while down.
  void SetBrokerUp(int id, bool up);
  // The next `count` requests of Kafka API `api_key` (e.g. 1 = Fetch,
  // 0 = Produce, 8 = OffsetCommit) fail with `error`.
  void PushErrors(int16_t api_key, size_t count, rd_kafka_resp_err_t error);

 private:
  DevBroker() = default;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_mock_cluster_t* cluster_ = nullptr;
  std::string bootstrap_;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_DEV_BROKER_H_
