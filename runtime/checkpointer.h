// runtime/checkpointer.h
//
// One Checkpointer writes the job's checkpoints, driving every stateful part
// of the job (source positions and watermark, operators, alert states, the
// role's own state, output files, the notifier, the archive, the Kafka sink)
// through one interface, CheckpointPart:
//
//   1. Prepare(epoch, &data), part by part in the order added: make durable what the
//      checkpoint will claim (output files fsync'd, notifications spooled,
//      archive batches written, the Kafka transaction committed) and add
//      the part's state to `data`;
//   2. the checkpoint file is written atomically (CheckpointStore);
//   3. Committed(data), part by part in the reverse order: the checkpoint
//      is durable (the Kafka sink opens the next transaction, the archive
//      lists the epoch's batches, and the job's own state, added first,
//      commits the source positions upstream last).
//
// A part that cannot prepare answers Unavailable to skip this checkpoint
// (the next one tries again), or any other error to stop the job: a restart
// resumes from the previous checkpoint. Restore hands a loaded checkpoint to
// the parts added so far, in the same order; parts opened after the restore
// (output files, the notifier, the archive, the Kafka sink) take what they
// need from it when they open.
//
// Example:
//   Checkpointer cp("/var/lib/vigil/checkpoints", &metrics);
//   cp.Add(&job_state);            // a CheckpointPart
//   absl::StatusOr<std::optional<CheckpointData>> d = cp.Load(false);
//   if (d.ok() && *d) cp.Restore(**d);
//   ...
//   if (cp.Write(now) == Checkpointer::kFailed) Stop();
#ifndef VIGIL_RUNTIME_CHECKPOINTER_H_
#define VIGIL_RUNTIME_CHECKPOINTER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "runtime/checkpoint.h"
#include "runtime/job_metrics.h"

namespace vigil {

class CheckpointPart {
 public:
  virtual ~CheckpointPart() = default;
  // A restored checkpoint; an error fails the start.
  virtual absl::Status Restore(const CheckpointData& data) {
    (void)data;
    return absl::OkStatus();
  }
  // See the file comment.
  virtual absl::Status Prepare(uint64_t epoch, CheckpointData* data) = 0;
  virtual void Committed(const CheckpointData& data) { (void)data; }
};

class Checkpointer {
 public:
  Checkpointer(std::string dir, JobMetrics* metrics);

  // Parts are prepared and restored in the order added, and committed in
  // the reverse order.
  void Add(CheckpointPart* part) { parts_.push_back(part); }

  // The newest checkpoint that reads back intact; nullopt when there is
  // none. Each unreadable one is reported on stderr and counted. When some
  // exist and none reads, that is an error unless `allow_fresh_start`:
  // starting from nothing would re-read the source with no window state.
  absl::StatusOr<std::optional<CheckpointData>> Load(bool allow_fresh_start);
  // Hands `data` to the parts added so far; continues from its epoch.
  absl::Status Restore(const CheckpointData& data);

  enum Result { kWritten, kSkipped, kFailed };
  // Checkpoint epoch() + 1 as of the state now: kSkipped when a part asked
  // to skip it or the file could not be written (both reported), kFailed
  // when a part failed (the job must stop).
  Result Write(TimeMs now);

  // The last checkpoint written or restored (0: none).
  uint64_t epoch() const { return epoch_; }
  // The one restored at start (0: none).
  uint64_t restored_epoch() const { return restored_epoch_; }
  // Wall-clock time of the last attempt and of the last success (0: none).
  TimeMs last_attempt() const { return last_attempt_; }
  TimeMs last_written() const { return last_written_; }
  const std::string& dir() const { return store_.dir(); }

 private:
  CheckpointStore store_;
  JobMetrics* metrics_;
  std::vector<CheckpointPart*> parts_;
  uint64_t epoch_ = 0;
  uint64_t restored_epoch_ = 0;
  TimeMs last_attempt_ = 0;
  TimeMs last_written_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_CHECKPOINTER_H_
