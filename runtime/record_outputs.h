// runtime/record_outputs.h
//
// RecordOutputs writes the records of the rule files' `outputs:` (the
// records of a stream or join, or events, that pass the output's `where:`)
// as NDJSON into a directory (and, with SetKafka, to Kafka topics; with
// SetWebhook, to a URL): one
// file per output and UTC day of the records' event time,
//
//   DIR/NAME/YYYY-MM-DD.ndjson     one JSON object per record: ts, then the fields
//
// Records are held until the frontier (the watermark up to which windows
// have closed) passes their event time, then written in order of (event
// time, output, line), so the files hold the same lines in the same order
// whatever the batching or the number of workers.
//
// Exactly once with checkpoints: RecordOutputs is a CheckpointPart. Prepare
// fsyncs the open files and keeps, per output, the day and size of its
// current file and the records not yet written; a restart truncates each
// output's file to its size, removes its files of later days, and writes on.
// Without a checkpoint directory, a job appends to the files it finds (a
// job run twice over the same input writes its records twice).
//
// Example:
//   auto out = RecordOutputs::Open("/var/lib/vigil/records", rules, std::nullopt);
//   (*out)->Add(rules, &tapped);          // Dataflow::TakeTapped
//   (*out)->Flush(frontier);              // at every window close
#ifndef VIGIL_RUNTIME_RECORD_OUTPUTS_H_
#define VIGIL_RUNTIME_RECORD_OUTPUTS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "operators/dataflow/dataflow.h"
#include "operators/sink/kafka_sinks.h"
#include "operators/sink/output_sinks.h"
#include "rules/rule_set.h"
#include "runtime/checkpointer.h"
#include "runtime/record_webhook.h"

namespace vigil {

class RecordOutputs : public CheckpointPart {
 public:
  static constexpr std::string_view kStateKey = "vigil.record-outputs";

  // Opens `dir` (created if missing) for the outputs of `rules`. With
  // `restored` (the state of a restored checkpoint), the files are cut back
  // to what that checkpoint had written; without, they are appended to.
  static absl::StatusOr<std::unique_ptr<RecordOutputs>> Open(
      std::string dir, const RuleSet& rules, const std::optional<std::string>& restored);

  // Also (or only, with no directory) produces output NAME's records to
  // topic `prefix` + NAME of `kafka`, keyed by the record's key, in the
  // transactions the Kafka sink commits with each checkpoint.
  void SetKafka(KafkaSink* kafka, std::string prefix) {
    kafka_ = kafka;
    topic_prefix_ = std::move(prefix);
  }

  // Also POSTs every record released to `webhook` (not owned).
  void SetWebhook(RecordWebhook* webhook) { webhook_ = webhook; }

  // Takes the records of `taps`, which `rules` produced.
  void Add(const RuleSet& rules, std::vector<TappedRecord>* taps);
  // Writes the records whose event time is before `frontier`.
  absl::Status Flush(TimeMs frontier);

  absl::Status Prepare(uint64_t epoch, CheckpointData* data) override;

  uint64_t written() const { return written_; }
  size_t pending() const { return pending_.size(); }
  // The file of `output` for the UTC day of `ts`.
  std::string PathOf(std::string_view output, TimeMs ts) const;

 private:
  struct Pending {
    TimeMs ts;
    std::string output;
    std::string line;
    std::string key;
    bool operator<(const Pending& o) const;
  };
  struct File {
    std::string day;  // YYYY-MM-DD
    std::unique_ptr<LineWriter> writer;
    uint64_t size = 0;  // at the last checkpoint or open
  };

  explicit RecordOutputs(std::string dir) : dir_(std::move(dir)) {}
  absl::Status OpenDay(const std::string& output, const std::string& day,
                       std::optional<uint64_t> size);
  absl::Status RestoreFiles(const RuleSet& rules, std::string_view state);

  std::string dir_;
  std::map<std::string, File> files_;  // by output
  std::vector<Pending> pending_;
  uint64_t written_ = 0;
  KafkaSink* kafka_ = nullptr;
  RecordWebhook* webhook_ = nullptr;
  std::string topic_prefix_;
  std::string topic_;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_RECORD_OUTPUTS_H_
