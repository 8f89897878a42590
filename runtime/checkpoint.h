// runtime/checkpoint.h
//
// A checkpoint is everything a job needs to continue as if it had never
// stopped: source positions (Kafka offsets, Kinesis sequence numbers), the
// watermark per input, the window panes of every metric operator and the
// open sessions of every stream, the alert operator's values, history and
// states, and how far each output file had been written. A job restarted from it (even after
// SIGKILL) re-reads the records after the positions and produces the same window results and alert
// transitions as an uninterrupted run.
//
// Files are written atomically: to a temporary name, fsync'd, renamed to
// `checkpoint-<epoch>.vck`, and the directory fsync'd. Each file ends with a
// checksum of its contents; a truncated or corrupt file is reported and the
// previous good one used. The newest `keep` files are kept.
//
// File layout: "VIGILCK1" | varint-encoded fields (see CheckpointData) |
// 8-byte little-endian checksum of everything before it.
//
// Example:
//   CheckpointStore store("/var/lib/vigil/checkpoints");
//   absl::Status s = store.Write(data);             // data.epoch = previous + 1
//   std::vector<std::string> problems;
//   absl::StatusOr<std::optional<CheckpointData>> last = store.LoadLatest(&problems);
#ifndef VIGIL_RUNTIME_CHECKPOINT_H_
#define VIGIL_RUNTIME_CHECKPOINT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "runtime/job_counters.h"

namespace vigil {

struct CheckpointData {
  uint64_t epoch = 0;
  TimeMs written_at = 0;  // wall clock
  std::string source;     // the source's name, e.g. "kafka:events"
  std::string positions;  // RecordSource::SavePositions()
  TimeMs watermark = kMinTime;
  std::vector<std::pair<std::string, TimeMs>> input_max_ts;  // by input name
  TimeMs frontier = kMinTime;                                // windows are closed up to here
  // Operator state by state key: metric panes and open sessions
  // (Dataflow::EncodeState()).
  std::vector<std::pair<std::string, std::string>> panes;
  std::string alerts;  // AlertOperator::EncodeState()
  // Output files and how many bytes of each belong to this checkpoint.
  std::vector<std::pair<std::string, uint64_t>> outputs;
  // The job's counters, so totals continue across restarts. The per-reason
  // dead-letter counts travel as a state under the key "vigil.dead-letters"
  // (a checkpoint without it restores them as zero; a job that does not
  // know the key ignores it, as it ignores any state it has no operator for).
  JobCounters counters;
};

std::string EncodeCheckpoint(const CheckpointData& data);
// DataLoss for a bad magic, a checksum mismatch or a malformed body.
absl::StatusOr<CheckpointData> DecodeCheckpoint(std::string_view bytes);

class CheckpointStore {
 public:
  explicit CheckpointStore(std::string dir, int keep = 3);

  // Writes `data` atomically and removes all but the newest `keep`
  // checkpoints. Creates the directory if needed.
  absl::Status Write(const CheckpointData& data);

  // The newest checkpoint that reads back intact, or nullopt if there is
  // none. Every file skipped because it is corrupt or truncated is
  // described in `problems` ("checkpoint-…vck: checksum mismatch").
  absl::StatusOr<std::optional<CheckpointData>> LoadLatest(
      std::vector<std::string>* problems) const;

  const std::string& dir() const { return dir_; }

 private:
  std::vector<std::string> Files() const;  // checkpoint files, oldest first
  std::string dir_;
  int keep_;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_CHECKPOINT_H_
