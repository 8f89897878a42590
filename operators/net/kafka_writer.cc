#include "operators/net/kafka_writer.h"

#include "base/strings.h"

namespace vigil {

absl::StatusOr<KafkaUrl> ParseKafkaUrl(std::string_view url) {
  std::string_view rest = url;
  if (!ConsumePrefix(&rest, "kafka://")) {
    return absl::InvalidArgumentError(
        StrCat("\"", url, "\" is not a Kafka URL (kafka://host:port/topic)"));
  }
  const size_t slash = rest.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == rest.size()) {
    return absl::InvalidArgumentError(
        StrCat("\"", url, "\" needs brokers and a topic (kafka://host:port/topic)"));
  }
  return KafkaUrl{std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

absl::StatusOr<std::unique_ptr<KafkaWriter>> KafkaWriter::Create(
    const std::string& brokers, const KafkaProperties& properties,
    const std::string& transactional_id) {
  std::unique_ptr<KafkaWriter> w(new KafkaWriter());
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  KafkaProperties own = {
      {"bootstrap.servers", brokers}, {"enable.idempotence", "true"},
      {"compression.codec", "lz4"},   {"linger.ms", "20"},
      {"client.id", "vigil"},
  };
  if (!transactional_id.empty()) own.emplace_back("transactional.id", transactional_id);
  char err[512];
  for (const KafkaProperties* list : {static_cast<const KafkaProperties*>(&own), &properties}) {
    for (const auto& [k, v] : *list) {
      if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return absl::InvalidArgumentError(StrCat("Kafka property ", k, "=", v, ": ", err));
      }
    }
  }
  rd_kafka_conf_set_opaque(conf, w.get());
  rd_kafka_conf_set_dr_msg_cb(conf, &KafkaWriter::DeliveryReport);
  w->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!w->rk_) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(StrCat("Kafka producer: ", err));
  }
  if (!transactional_id.empty()) {
    w->transactional_ = true;
    if (rd_kafka_error_t* e = rd_kafka_init_transactions(w->rk_, 30000)) {
      std::string msg =
          StrCat("Kafka transactions (", transactional_id, "): ", rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
      return absl::UnavailableError(msg);
    }
  }
  return w;
}

absl::Status KafkaWriter::BeginTransaction() {
  if (!transactional_ || in_transaction_) return absl::OkStatus();
  if (rd_kafka_error_t* e = rd_kafka_begin_transaction(rk_)) {
    std::string msg = StrCat("begin transaction: ", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return absl::UnavailableError(msg);
  }
  in_transaction_ = true;
  return absl::OkStatus();
}

absl::Status KafkaWriter::CommitTransaction(std::chrono::milliseconds timeout) {
  if (!transactional_ || !in_transaction_) return absl::OkStatus();
  in_transaction_ = false;
  if (rd_kafka_error_t* e = rd_kafka_commit_transaction(rk_, static_cast<int>(timeout.count()))) {
    std::string msg = StrCat("commit transaction: ", rd_kafka_error_string(e));
    const bool abortable = rd_kafka_error_txn_requires_abort(e);
    rd_kafka_error_destroy(e);
    if (abortable) {
      if (rd_kafka_error_t* a =
              rd_kafka_abort_transaction(rk_, static_cast<int>(timeout.count()))) {
        rd_kafka_error_destroy(a);
      }
    }
    failed_.fetch_add(1, std::memory_order_relaxed);
    {
      absl::MutexLock lock(&error_mu_);
      last_error_ = msg;
    }
    return absl::UnavailableError(msg);
  }
  return absl::OkStatus();
}

absl::Status KafkaWriter::SendOffsets(const rd_kafka_topic_partition_list_t* offsets,
                                      const rd_kafka_consumer_group_metadata_t* group,
                                      std::chrono::milliseconds timeout) {
  if (!transactional_ || !in_transaction_) {
    return absl::FailedPreconditionError("offsets need an open transaction");
  }
  if (offsets->cnt == 0) return absl::OkStatus();
  if (rd_kafka_error_t* e = rd_kafka_send_offsets_to_transaction(
          rk_, offsets, group, static_cast<int>(timeout.count()))) {
    std::string msg = StrCat("offsets to transaction: ", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return absl::UnavailableError(msg);
  }
  return absl::OkStatus();
}

absl::Status KafkaWriter::AbortTransaction(std::chrono::milliseconds timeout) {
  if (!transactional_ || !in_transaction_) return absl::OkStatus();
  in_transaction_ = false;
  if (rd_kafka_error_t* e = rd_kafka_abort_transaction(rk_, static_cast<int>(timeout.count()))) {
    std::string msg = StrCat("abort transaction: ", rd_kafka_error_string(e));
    rd_kafka_error_destroy(e);
    return absl::UnavailableError(msg);
  }
  return absl::OkStatus();
}

absl::StatusOr<int> KafkaWriter::PartitionCount(const std::string& topic,
                                                std::chrono::milliseconds timeout) {
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t e =
      rd_kafka_metadata(rk_, 0, t, &md, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(t);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::UnavailableError(StrCat("metadata of ", topic, ": ", rd_kafka_err2str(e)));
  }
  int count = 0;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  if (md->topic_cnt == 1) {
    count = md->topics[0].partition_cnt;
    topic_err = md->topics[0].err;
  }
  rd_kafka_metadata_destroy(md);
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || count <= 0) {
    return absl::NotFoundError(StrCat("topic ", topic, ": ", rd_kafka_err2str(topic_err)));
  }
  return count;
}

KafkaWriter::~KafkaWriter() {
  if (rk_) {
    rd_kafka_flush(rk_, 5000);
    rd_kafka_destroy(rk_);
  }
}

void KafkaWriter::DeliveryReport(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  KafkaWriter* w = static_cast<KafkaWriter*>(opaque);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    w->delivered_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  w->failed_.fetch_add(1, std::memory_order_relaxed);
  absl::MutexLock lock(&w->error_mu_);
  w->last_error_ = StrCat(rd_kafka_topic_name(m->rkt), ": ", rd_kafka_err2str(m->err));
}

absl::Status KafkaWriter::Produce(std::string_view topic, std::string_view key,
                                  std::string_view value, uint64_t epoch, int32_t partition) {
  const std::string t(topic);
  const std::string epoch_text = epoch ? std::to_string(epoch) : std::string();
  while (true) {
    rd_kafka_headers_t* headers = nullptr;
    if (epoch) {
      headers = rd_kafka_headers_new(1);
      rd_kafka_header_add(headers, "vigil-epoch", -1, epoch_text.data(),
                          static_cast<ssize_t>(epoch_text.size()));
    }
    const rd_kafka_resp_err_t e = rd_kafka_producev(
        rk_, RD_KAFKA_V_TOPIC(t.c_str()), RD_KAFKA_V_PARTITION(partition),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    // On success the message owns the headers.
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR && headers) rd_kafka_headers_destroy(headers);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return absl::OkStatus();
    if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_poll(rk_, 100);
      continue;
    }
    failed_.fetch_add(1, std::memory_order_relaxed);
    std::string msg = StrCat(topic, ": ", rd_kafka_err2str(e));
    {
      absl::MutexLock lock(&error_mu_);
      last_error_ = msg;
    }
    return absl::UnavailableError(msg);
  }
}

absl::Status KafkaWriter::Flush(std::chrono::milliseconds timeout) {
  const rd_kafka_resp_err_t e = rd_kafka_flush(rk_, static_cast<int>(timeout.count()));
  if (e == RD_KAFKA_RESP_ERR__TIMED_OUT) {
    return absl::DeadlineExceededError(StrCat(
        rd_kafka_outq_len(rk_), " messages still undelivered after ", timeout.count(), " ms"));
  }
  if (failed() > 0) {
    return absl::UnavailableError(
        StrCat(failed(), " messages not delivered; last error: ", last_error()));
  }
  return absl::OkStatus();
}

std::string KafkaWriter::last_error() const {
  absl::MutexLock lock(&error_mu_);
  return last_error_;
}

}  // namespace vigil
