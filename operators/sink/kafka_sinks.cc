#include "operators/sink/kafka_sinks.h"

#include <cstdio>

#include "base/log.h"
#include "base/strings.h"
#include "operators/sink/output_sinks.h"

namespace vigil {

KafkaSink::KafkaSink(std::unique_ptr<KafkaWriter> writer, std::string results_topic,
                     std::string alerts_topic)
    : writer_(std::move(writer)),
      results_topic_(std::move(results_topic)),
      alerts_topic_(std::move(alerts_topic)) {
  if (absl::Status s = writer_->BeginTransaction(); !s.ok()) {
    Logf("Kafka sink: %s", std::string(s.message()).c_str());
  }
}

void KafkaSink::Produce(std::string_view topic, std::string_view key, std::string_view value) {
  if (absl::Status s = writer_->Produce(topic, key, value, epoch_); !s.ok()) {
    Logf("Kafka sink: %s", std::string(s.message()).c_str());
  }
  if (writer_->failed() > reported_failures_) {
    reported_failures_ = writer_->failed();
    Logf("Kafka sink: %llu messages not delivered; last error: %s",
         static_cast<unsigned long long>(reported_failures_), writer_->last_error().c_str());
  }
}

namespace {

// A label value in a message key, with the characters that separate the
// key's parts (a backslash, a comma, a bar) escaped with a backslash.
void AppendKeyValue(std::string_view v, std::string* out) {
  for (char c : v) {
    if (c == '\\' || c == ',' || c == '|') out->push_back('\\');
    out->push_back(c);
  }
}

}  // namespace

void KafkaSink::OnWindow(const WindowResult& r) {
  if (results_topic_.empty()) return;
  key_.assign(r.def->name);
  key_.push_back('|');
  for (size_t i = 0; i < r.labels.size(); ++i) {
    StrAppend(&key_, i ? "," : "", r.def->by[i], "=");
    AppendKeyValue(r.labels[i], &key_);
  }
  key_.push_back('|');
  AppendTimestamp(r.end, &key_);
  value_.clear();
  AppendWindowJson(r, &value_);
  Produce(results_topic_, key_, value_);
}

void KafkaSink::OnAlert(const AlertNotice& n) {
  if (alerts_topic_.empty()) return;
  key_.clear();
  for (const auto& [k, v] : n.labels) {
    if (k != "alertname") continue;
    AppendKeyValue(v, &key_);
    key_.push_back('|');
  }
  bool first = true;
  for (const auto& [k, v] : n.labels) {
    if (k == "alertname") continue;
    StrAppend(&key_, first ? "" : ",", k, "=");
    AppendKeyValue(v, &key_);
    first = false;
  }
  value_.clear();
  AppendAlertJson(n, &value_);
  Produce(alerts_topic_, key_, value_);
}

void KafkaSink::Flush() {
  if (absl::Status s = writer_->Flush(std::chrono::seconds(30)); !s.ok()) {
    Logf("Kafka sink: %s", std::string(s.message()).c_str());
  }
}

absl::Status KafkaSink::Checkpoint() {
  if (writer_->transactional()) {
    if (absl::Status s = writer_->CommitTransaction(std::chrono::seconds(30)); !s.ok()) return s;
    return writer_->BeginTransaction();
  }
  return writer_->Flush(std::chrono::seconds(30));
}

}  // namespace vigil
