#include "runtime/checkpointer.h"

#include <chrono>

#include "base/log.h"
#include "base/strings.h"

namespace vigil {

Checkpointer::Checkpointer(std::string dir, JobMetrics* metrics)
    : store_(std::move(dir)), metrics_(metrics) {}

absl::StatusOr<std::optional<CheckpointData>> Checkpointer::Load(bool allow_fresh_start) {
  std::vector<std::string> problems;
  absl::StatusOr<std::optional<CheckpointData>> loaded = store_.LoadLatest(&problems);
  for (const std::string& p : problems) {
    Log(StrCat("skipping checkpoint ", p));
    metrics_->CheckpointSkipped();
  }
  if (!loaded.ok() || loaded->has_value() || problems.empty() || allow_fresh_start) return loaded;
  return absl::FailedPreconditionError(
      StrCat("none of the ", problems.size(), " checkpoints in ", store_.dir(),
             " can be read (listed above); restore a good one, or start from nothing with "
             "--allow-fresh-start"));
}

absl::Status Checkpointer::Restore(const CheckpointData& data) {
  for (CheckpointPart* part : parts_) {
    if (absl::Status s = part->Restore(data); !s.ok()) return s;
  }
  epoch_ = data.epoch;
  restored_epoch_ = data.epoch;
  return absl::OkStatus();
}

Checkpointer::Result Checkpointer::Write(TimeMs now) {
  last_attempt_ = now;
  const auto started = std::chrono::steady_clock::now();
  CheckpointData d;
  d.epoch = epoch_ + 1;
  d.written_at = now;
  for (CheckpointPart* part : parts_) {
    const absl::Status s = part->Prepare(d.epoch, &d);
    if (s.ok()) continue;
    metrics_->Checkpointed(false, 0, 0, now);
    if (absl::IsUnavailable(s)) {
      Log(StrCat("checkpoint ", d.epoch, " skipped: ", std::string(s.message())));
      return kSkipped;
    }
    Log(StrCat(std::string(s.message()), "; stopping so that a restart resumes from checkpoint ",
               epoch_));
    return kFailed;
  }
  const absl::Status s = store_.Write(d);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  size_t bytes = d.alerts.size() + d.positions.size();
  for (const auto& [k, v] : d.panes) bytes += k.size() + v.size();
  metrics_->Checkpointed(s.ok(), secs, bytes, now);
  if (!s.ok()) {
    Log(StrCat("checkpoint failed: ", std::string(s.message())));
    return kSkipped;
  }
  epoch_ = d.epoch;
  last_written_ = now;
  for (auto part = parts_.rbegin(); part != parts_.rend(); ++part) (*part)->Committed(d);
  return kWritten;
}

}  // namespace vigil
