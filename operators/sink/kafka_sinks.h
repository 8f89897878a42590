// operators/sink/kafka_sinks.h
//
// KafkaSink writes window results and alert transitions to Kafka topics as
// JSON (the same objects as the results file and `--output json`), for the
// "aggregated data" feed and for downstream alert consumers.
//
//   window result  key "metric|label=value,...|end"  value {"metric":…,"end":…,"value":…}
//   alert          key "alertname|label=value,..."    value {"at":…,"alert":…,"state":…}
//
// In a key, a "\\", "," or "|" of a label value (or of an alert's name) is
// escaped with a backslash, so that two series never share a key.
//
// With checkpoints every message has a "vigil-epoch" header: the number of
// the checkpoint that will cover it. Within an epoch each result appears
// once; after a crash, results since the last checkpoint are produced again
// under the next epoch.
//
// Delivery reports are checked: undelivered messages are counted
// (failed()) and logged, never dropped silently. With a transactional id
// the sink is exactly-once together with the job's checkpoints: messages
// between two checkpoints form one transaction, committed just before the
// checkpoint is written (Checkpoint()). A job killed before that commit
// restarts from the previous checkpoint and produces the same messages
// again in a new transaction, while the open one is aborted — consumers
// with isolation.level=read_committed see each result once — unless the
// process dies in the few milliseconds between the commit and the
// checkpoint's rename, when that epoch's results repeat under the next
// epoch (same keys; the header tells them apart). Without a transactional
// id delivery is at-least-once in the same way.
//
// Example:
//   auto w = KafkaWriter::Create("127.0.0.1:9092", {}, "vigil-0");
//   KafkaSink sink(std::move(*w), "vigil-windows", "vigil-alerts");
//   sink.OnWindow(result);
//   absl::Status s = sink.Checkpoint();   // commit, then write the checkpoint
#ifndef VIGIL_OPERATORS_SINK_KAFKA_SINKS_H_
#define VIGIL_OPERATORS_SINK_KAFKA_SINKS_H_

#include <memory>
#include <string>

#include "operators/dataflow/sink.h"
#include "operators/net/kafka_writer.h"

namespace vigil {

class KafkaSink : public Sink {
 public:
  // An empty topic name skips that kind of output.
  KafkaSink(std::unique_ptr<KafkaWriter> writer, std::string results_topic,
            std::string alerts_topic);

  void OnWindow(const WindowResult& r) override;
  void OnAlert(const AlertNotice& n) override;
  // One record of a record output (runtime/record_outputs.h), in the same
  // transaction as the windows and alerts.
  void OnRecord(std::string_view topic, std::string_view key, std::string_view value) {
    Produce(topic, key, value);
  }
  // Serves delivery reports (cheap; call once per batch).
  void Poll() { writer_->Poll(); }
  // Waits for every delivery report.
  void Flush() override;
  // Makes everything produced so far durable: waits for delivery and
  // commits the open transaction. Must succeed before a checkpoint is
  // written; on failure the job must stop and restart from the previous
  // checkpoint.
  absl::Status Checkpoint();

  // The epoch stamped on messages from now on (0: no header).
  void set_epoch(uint64_t epoch) { epoch_ = epoch; }
  uint64_t delivered() const { return writer_->delivered(); }
  uint64_t failed() const { return writer_->failed(); }

 private:
  void Produce(std::string_view topic, std::string_view key, std::string_view value);

  std::unique_ptr<KafkaWriter> writer_;
  std::string results_topic_;
  std::string alerts_topic_;
  std::string key_, value_;
  uint64_t reported_failures_ = 0;
  uint64_t epoch_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_SINK_KAFKA_SINKS_H_
