#include "runtime/dev_broker.h"

#include "base/strings.h"
#include "librdkafka/rdkafka_mock.h"

namespace vigil {

absl::StatusOr<DevTopic> ParseDevTopic(std::string_view spec) {
  DevTopic t;
  const size_t colon = spec.find(':');
  t.name = std::string(spec.substr(0, colon));
  t.partitions = 4;
  if (colon != std::string_view::npos) {
    int n = 0;
    std::string_view digits = spec.substr(colon + 1);
    for (char c : digits) {
      if (c < '0' || c > '9' || n > 100000) {
        n = -1;
        break;
      }
      n = n * 10 + (c - '0');
    }
    if (digits.empty() || n <= 0) {
      return absl::InvalidArgumentError(
          StrCat("bad topic \"", spec, "\": the partition count must be a positive number"));
    }
    t.partitions = n;
  }
  if (t.name.empty())
    return absl::InvalidArgumentError(StrCat("bad topic \"", spec, "\": no name"));
  for (char c : t.name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return absl::InvalidArgumentError(
          StrCat("bad topic \"", spec, "\": names use letters, digits, '.', '_' and '-'"));
    }
  }
  return t;
}

absl::StatusOr<std::unique_ptr<DevBroker>> DevBroker::Start(int brokers,
                                                            const std::vector<DevTopic>& topics) {
  std::unique_ptr<DevBroker> b(new DevBroker());
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  // The handle only hosts the mock cluster's threads; it never connects.
  rd_kafka_conf_set(conf, "bootstrap.servers", "", err, sizeof err);
  rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
  b->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!b->rk_) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(StrCat("dev broker: ", err));
  }
  b->cluster_ = rd_kafka_mock_cluster_new(b->rk_, brokers);
  if (!b->cluster_) return absl::InternalError("dev broker: cannot start the mock cluster");
  b->bootstrap_ = rd_kafka_mock_cluster_bootstraps(b->cluster_);
  for (const DevTopic& t : topics) {
    if (absl::Status s = b->CreateTopic(t); !s.ok()) return s;
  }
  return b;
}

DevBroker::~DevBroker() {
  if (cluster_) rd_kafka_mock_cluster_destroy(cluster_);
  if (rk_) rd_kafka_destroy(rk_);
}

absl::Status DevBroker::CreateTopic(const DevTopic& topic) {
  const rd_kafka_resp_err_t e =
      rd_kafka_mock_topic_create(cluster_, topic.name.c_str(), topic.partitions, 1);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::InternalError(StrCat("dev broker: topic ", topic.name, ": ", rd_kafka_err2str(e)));
  }
  return absl::OkStatus();
}

void DevBroker::SetBrokerUp(int id, bool up) {
  if (up) {
    rd_kafka_mock_broker_set_up(cluster_, id);
  } else {
    rd_kafka_mock_broker_set_down(cluster_, id);
  }
}

void DevBroker::PushErrors(int16_t api_key, size_t count, rd_kafka_resp_err_t error) {
  std::vector<rd_kafka_resp_err_t> errors(count, error);
  rd_kafka_mock_push_request_errors_array(cluster_, api_key, count, errors.data());
}

}  // namespace vigil
