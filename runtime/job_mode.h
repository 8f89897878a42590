// runtime/job_mode.h
//
// What a job does with its records and its event time depends on its role
// (DESIGN.md §7, docs/scale-out.md); each role is one JobMode:
//
//   single    (runtime/job_mode.cc) aggregates its records, closes windows
//             at the frontier, evaluates the alerts and checkpoints every
//             checkpoint.interval.
//   instance  (runtime/job_mode_instance.cc, --partials) aggregates the
//             partitions or shards it owns, judges lateness per input,
//             closes session windows only, and every checkpoint.interval
//             publishes its panes, a heartbeat and its offsets to the
//             partials topic.
//   merge     (runtime/job_mode_merge.cc, --merge) merges the instances'
//             published panes into the windows, closes them at the
//             job-wide watermark of the instances' heartbeats and
//             evaluates the alerts.
//
// Job::Run drives the mode once per batch: Process, then Watermark; when
// the frontier moves, Advance; then Tick. Finish runs once at the end.
// A mode is a part of the job's checkpoints (runtime/checkpointer.h) for
// its own state, and reports it on /api/status (AppendStatus).
//
// Example (Job::Init):
//   absl::StatusOr<std::unique_ptr<JobMode>> mode = MakeJobMode(*this);
#ifndef VIGIL_RUNTIME_JOB_MODE_H_
#define VIGIL_RUNTIME_JOB_MODE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/time.h"
#include "operators/source/record_source.h"
#include "runtime/checkpoint.h"
#include "runtime/checkpointer.h"

namespace vigil {

class Job;

class JobMode : public CheckpointPart {
 public:
  // The records of one batch, in input order.
  virtual void Process(const std::vector<Record>& batch, TimeMs now) = 0;
  // The event-time watermark after the batch; `at_end`: a bounded input
  // was read to its end.
  virtual TimeMs Watermark(bool at_end) const = 0;
  // Event time advanced to `frontier` (larger than before).
  virtual void Advance(TimeMs frontier) = 0;
  // Whether the workers close their sessions at the job's frontier as they
  // aggregate (false: the mode closes them itself, at a frontier of its
  // own).
  virtual bool WorkersCloseSessions() const { return true; }
  // After each batch: what the clock makes due (checkpoint, publication).
  virtual void Tick(TimeMs now) = 0;
  // Once, when the input ended or the job stops (not after a failure).
  virtual void Finish(TimeMs now) = 0;

  // Whether a restored checkpoint's source positions apply (false when
  // another store holds the truth, e.g. a Kafka instance's committed
  // offsets).
  virtual bool RestoresSourcePositions() const { return true; }
  // Whether inputs this job does not own are another job's (scale-out):
  // then the restored ones it was not given back do not hold its watermark.
  virtual bool SharesInputs() const { return false; }
  // Before a rule reload swaps the job's Dataflow (the new rules loaded).
  virtual void BeforeReload() {}
  // After a rule reload swapped the job's Dataflow.
  virtual void Reloaded() {}
  // Metrics that started over (a reload, a restore under changed rules),
  // by name, and the event time by which their windows are partial
  // (Job::MarkStartedOver): a scale-out instance tells the merge stage.
  virtual void MetricsStartedOver(const std::vector<std::pair<std::string, TimeMs>>&) {}
  // The latest event time of the input as this mode knows it (the merge
  // stage: from its instances' heartbeats), or false: the job's own
  // watermark tracker knows.
  virtual bool LastEventTime(TimeMs* last) const {
    (void)last;
    return false;
  }

  // The watermark of input `input` as this mode knows it (the merge stage:
  // of a partials partition, from the heartbeats read on it), or false:
  // the job's watermark tracker knows.
  virtual bool InputWatermark(int input, TimeMs* watermark) const {
    (void)input;
    (void)watermark;
    return false;
  }
  // What holds the mode's watermark back, for the watermark-stall check
  // ("" when nothing does), or false: the job's lowest input does.
  virtual bool WatermarkHolder(std::string* holder) const {
    (void)holder;
    return false;
  }

  // Its state in a checkpoint, under keys of its own among the states
  // (Restore is CheckpointPart's).
  absl::Status Prepare(uint64_t epoch, CheckpointData* checkpoint) override {
    (void)epoch;
    (void)checkpoint;
    return absl::OkStatus();
  }
  // After every part of the job is restored and open (e.g. publishing a
  // restored publication again).
  virtual absl::Status Resume() { return absl::OkStatus(); }
  // ",\"scale_out\":{...}" for /api/status, or nothing.
  virtual void AppendStatus(std::string* json) const { (void)json; }
};

// The mode the job's configuration asks for (single, instance or merge),
// checked against its source.
absl::StatusOr<std::unique_ptr<JobMode>> MakeJobMode(Job& job);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_JOB_MODE_H_
