// Job: checkpoint restore at start and checkpoint writes (runtime/job.h).
#include <chrono>
#include <cstdio>

#include "base/codec.h"
#include "base/strings.h"
#include "runtime/job.h"

namespace vigil {

// The merge stage's heartbeat state rides with the operator states under a
// key no operator has.
constexpr std::string_view kMergeStateKey = "vigil.merge-stage";
constexpr std::string_view kPendingPartialsKey = "vigil.pending-partials";
// The notifier's: renotify holds, re-sends, notifications its spools could
// not write (Notifier::EncodeState). Checkpoints without it restore with
// none of that.
constexpr std::string_view kNotifierStateKey = "vigil.notifier";

absl::Status Job::Restore(std::map<std::string, uint64_t>* resume) {
  std::vector<std::string> problems;
  absl::StatusOr<std::optional<CheckpointData>> loaded = checkpoints_->LoadLatest(&problems);
  for (const std::string& p : problems) {
    std::fprintf(stderr, "vigil: skipping checkpoint %s\n", p.c_str());
    metrics_->CheckpointSkipped();
  }
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) {
    if (problems.empty() || config_.checkpoint.allow_fresh_start) return absl::OkStatus();
    // Starting from nothing would re-read the source from where the group
    // committed (or its start) with no window state: wrong results, quietly.
    return absl::FailedPreconditionError(
        StrCat("none of the ", problems.size(), " checkpoints in ", checkpoints_->dir(),
               " can be read (listed above); restore a good one, or start from nothing with "
               "--allow-fresh-start"));
  }
  const CheckpointData& d = **loaded;
  if (d.source != SourceIdentity()) {
    return absl::FailedPreconditionError(
        StrCat("the checkpoints in ", checkpoints_->dir(), " belong to source ", d.source,
               ", this job reads ", SourceIdentity(), "; use another checkpoint directory"));
  }
  if (HasLinePositions()) {
    if (absl::Status s = RestoreLinePositions(d.positions); !s.ok()) return s;
  }
  // A Kafka scale-out instance resumes at the offsets committed with its
  // last publication (its partitions may have moved since): the group's
  // are the truth, not the checkpoint's.
  if (!(partials_ && kafka_source_) && !HasLinePositions()) {
    if (absl::Status s = source_->RestorePositions(d.positions); !s.ok()) return s;
  }
  for (const auto& [key, state] : d.panes) {
    if (key == kMergeStateKey && merge_ && !merge_->Decode(state)) {
      return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable merge state"));
    }
    if (key == kPendingPartialsKey && partials_ && !DecodePending(state)) {
      return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable partials"));
    }
    if (key == kNotifierStateKey && !config_.notify.empty()) {
      if (!Notifier::ValidState(state)) {
        return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable notifier state"));
      }
      config_.notify.restored_state = state;  // the Notifier is created after the restore
    }
  }
  const int restored = flow_->DecodeState(d.panes);
  if (restored < 0) {
    return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable window state"));
  }
  if (workers_) workers_->TakeSessions(flow_.get());  // each to the worker of its key
  if (!alert_op_->DecodeState(d.alerts)) {
    return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable alert state"));
  }
  watermark_->RestoreWatermark(d.watermark);
  for (const auto& [name, ts] : d.input_max_ts) restored_inputs_[name] = ts;
  // Partitions and shards come back one by one; a file has one input.
  if (config_.source.kind == SourceKind::kKafka || config_.source.kind == SourceKind::kKinesis) {
    awaited_inputs_ = restored_inputs_;
  }
  frontier_ = d.frontier;
  epoch_ = d.epoch;
  restored_epoch_ = d.epoch;
  static_cast<JobCounters&>(summary_) = d.counters;
  metrics_->SetCounters(summary_);
  for (const auto& [path, size] : d.outputs) (*resume)[path] = size;
  PublishAlerts();
  std::fprintf(stderr,
               "vigil: restored checkpoint %llu (%s): watermark %s, %d of %zu operator states\n",
               static_cast<unsigned long long>(d.epoch), FormatTimestamp(d.written_at).c_str(),
               d.watermark == kMinTime ? "-" : FormatTimestamp(d.watermark).c_str(), restored,
               flow_->state_count());
  return absl::OkStatus();
}

void Job::Checkpoint(TimeMs now) {
  last_checkpoint_ = now;
  const auto started = std::chrono::steady_clock::now();
  CheckpointData d;
  d.epoch = epoch_ + 1;
  d.written_at = now;
  d.source = SourceIdentity();
  d.positions = HasLinePositions() ? SaveLinePositions() : source_->SavePositions();
  d.watermark = watermark_->Current();
  for (int i = 0; i < watermark_->input_count() && i < source_->input_count(); ++i) {
    d.input_max_ts.emplace_back(source_->input_name(i), watermark_->InputMaxTs(i));
  }
  d.frontier = frontier_;
  // The state of one Dataflow whatever the number of workers, so that a
  // checkpoint restores with any other number.
  GatherWorkers(kMinTime);
  d.panes = workers_ ? workers_->EncodeState(*flow_) : flow_->EncodeState();
  if (merge_) d.panes.emplace_back(kMergeStateKey, merge_->Encode());
  if (has_pending_) d.panes.emplace_back(kPendingPartialsKey, EncodePending());
  d.alerts = alert_op_->EncodeState();
  // Outputs first: what the checkpoint says was written must be durable.
  // Files before the Kafka commit, to keep the window between the commit
  // and the checkpoint's rename short.
  if (results_writer_)
    d.outputs.emplace_back(config_.outputs.results_path, results_writer_->Sync());
  if (dead_letter_) {
    d.outputs.emplace_back(config_.outputs.dead_letter_path, dead_letter_->writer()->Sync());
  }
  // Notifications raised so far are in the spool before the checkpoint
  // says they were raised.
  if (notifier_) {
    notifier_->WaitSpooled();
    d.panes.emplace_back(kNotifierStateKey, notifier_->EncodeState());
  }
  // Archive batches are listed with the epoch that covers their records;
  // a checkpoint never claims records the archive does not hold.
  if (archive_) {
    if (absl::Status s = archive_->Checkpoint(d.epoch); !s.ok()) {
      std::fprintf(stderr, "\nvigil: checkpoint %llu skipped: the archive is behind: %s\n",
                   static_cast<unsigned long long>(d.epoch), std::string(s.message()).c_str());
      metrics_->Checkpointed(false, 0, 0, now);
      return;
    }
  }
  if (kafka_sink_) {
    if (absl::Status s = kafka_sink_->Checkpoint(); !s.ok()) {
      std::fprintf(stderr,
                   "\nvigil: the Kafka sink could not commit (%s); stopping so that a restart "
                   "resumes from checkpoint %llu\n",
                   std::string(s.message()).c_str(), static_cast<unsigned long long>(epoch_));
      metrics_->Checkpointed(false, 0, 0, now);
      failed_ = true;
      Stop();
      return;
    }
  }
  d.counters = summary_;
  const absl::Status s = checkpoints_->Write(d);
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  size_t bytes = 0;
  for (const auto& [k, v] : d.panes) bytes += k.size() + v.size();
  metrics_->Checkpointed(s.ok(), secs, bytes + d.alerts.size() + d.positions.size(), now);
  if (!s.ok()) {
    std::fprintf(stderr, "\nvigil: checkpoint failed: %s\n", std::string(s.message()).c_str());
    return;
  }
  epoch_ = d.epoch;
  last_checkpoint_ok_ = now;
  if (archive_) archive_->Committed(d.epoch);
  if (kafka_sink_) kafka_sink_->set_epoch(epoch_ + 1);
  source_->PositionsDurable(d.positions);
}

}  // namespace vigil
