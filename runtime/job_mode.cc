// The single job's mode, and the choice of mode (runtime/job_mode.h).
#include "runtime/job_mode.h"

#include "runtime/job.h"

namespace vigil {

// Declared by job_mode_instance.cc and job_mode_merge.cc.
absl::StatusOr<std::unique_ptr<JobMode>> MakeInstanceMode(Job& job);
absl::StatusOr<std::unique_ptr<JobMode>> MakeMergeMode(Job& job);

// One job does it all: its records, its windows, its alerts.
class SingleMode : public JobMode {
 public:
  explicit SingleMode(Job& job) : job_(job) {}

  void Process(const std::vector<Record>& batch, TimeMs now) override {
    job_.ProcessRecords(batch, now, /*per_input_lateness=*/false);
  }
  TimeMs Watermark(bool) const override { return job_.watermark_->Current(); }
  void Advance(TimeMs frontier) override { job_.CloseWindows(frontier); }
  void Tick(TimeMs now) override {
    if (job_.CheckpointDue(now)) job_.Checkpoint(now);
  }
  void Finish(TimeMs now) override {
    if (job_.checkpointer_) job_.Checkpoint(now);
  }

 private:
  Job& job_;
};

absl::StatusOr<std::unique_ptr<JobMode>> MakeJobMode(Job& job) {
  const JobConfig& config = job.config_;
  if (config.scale_out.merge) return MakeMergeMode(job);
  if (!config.scale_out.partials.empty()) return MakeInstanceMode(job);
  return std::make_unique<SingleMode>(job);
}

}  // namespace vigil
