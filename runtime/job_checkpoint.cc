// Job: its own state as a part of its checkpoints, the restore at start and
// the checkpoint writes (runtime/job.h, runtime/checkpointer.h).
#include "base/log.h"
#include "base/strings.h"
#include "operators/dataflow/handover.h"
#include "runtime/checkpoint_parts.h"
#include "runtime/job.h"

namespace vigil {
namespace {

// A scale-out instance's key origins (handover.h), by partition name.
constexpr std::string_view kOriginsKey = "vigil.key-origins";

}  // namespace

// What the job itself keeps: the source's positions (or the file and stdin
// line positions), the watermark per input, the frontier, the operators'
// state (one Dataflow's, whatever the number of workers, so that a
// checkpoint restores with any other number), the alert states and the
// counters. Added first, so it commits the source positions upstream last.
class JobStatePart : public CheckpointPart {
 public:
  explicit JobStatePart(Job& job) : job_(job) {}

  absl::Status Restore(const CheckpointData& d) override;
  absl::Status Prepare(uint64_t epoch, CheckpointData* d) override;
  void Committed(const CheckpointData& d) override { job_.source_->PositionsDurable(d.positions); }

  int restored_states() const { return restored_states_; }
  // The metrics that started over: the rules changed since the checkpoint.
  const std::vector<int>& restarted() const { return restarted_; }

 private:
  Job& job_;
  int restored_states_ = 0;
  std::vector<int> restarted_;
};

absl::Status JobStatePart::Restore(const CheckpointData& d) {
  Job& j = job_;
  if (d.source != j.SourceIdentity()) {
    return absl::FailedPreconditionError(
        StrCat("the checkpoints in ", j.checkpointer_->dir(), " belong to source ", d.source,
               ", this job reads ", j.SourceIdentity(), "; use another checkpoint directory"));
  }
  if (j.HasLinePositions()) {
    uint64_t file = 0;
    if (absl::Status s = j.lines_.Restore(d.positions, &file); !s.ok()) return s;
    if (j.config_.source.kind == SourceKind::kFile) {
      if (file >= j.config_.source.paths.size()) {
        return absl::FailedPreconditionError(StrCat("the checkpoint was reading file ", file + 1,
                                                    " of its list; this job has ",
                                                    j.config_.source.paths.size()));
      }
      // The file open already is read on from the saved line: a named
      // pipe opened twice would wait for a second writer.
      if (j.next_path_ != file + 1) {
        j.next_path_ = file;
        if (absl::Status s = j.OpenNextSource(); !s.ok()) return s;
      }
    }
  } else if (j.mode_->RestoresSourcePositions()) {
    if (absl::Status s = j.source_->RestorePositions(d.positions); !s.ok()) return s;
  }
  for (const auto& [key, bytes] : d.panes) {
    if (key == RecordOutputs::kStateKey) j.restored_record_outputs_ = bytes;
    if (key == RecordWebhook::kStateKey) j.restored_record_webhook_ = bytes;
    if (key == WarehouseSink::kStateKey) j.restored_warehouse_ = bytes;
    if (key == SilenceBook::kStateKey && !j.silences_.DecodeAdHoc(bytes)) {
      return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable silences"));
    }
    if (key == LatestWindows::kStateKey && !j.latest_.Decode(bytes, *j.rules_)) {
      return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable latest windows"));
    }
    if (key == kOriginsKey && !DecodeOrigins(bytes, &j.restored_origins_)) {
      return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable key origins"));
    }
  }
  restarted_.clear();
  restored_states_ = j.flow_->DecodeState(d.panes, &restarted_);
  if (restored_states_ < 0) {
    return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable window state"));
  }
  if (j.workers_) j.workers_->TakeRestored(j.flow_.get());  // each to the worker of its key
  if (!j.alert_op_->DecodeState(d.alerts)) {
    return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable alert state"));
  }
  j.watermark_->RestoreWatermark(d.watermark);
  for (const auto& [name, ts] : d.input_max_ts) j.restored_inputs_[name] = ts;
  // Partitions and shards come back one by one; a file has one input.
  if (j.config_.source.kind == SourceKind::kKafka ||
      j.config_.source.kind == SourceKind::kKinesis) {
    j.awaited_inputs_ = j.restored_inputs_;
    // A shard read to its end before a reshard never comes back: waiting
    // for it would hold event time, and the end of input's close, for good.
    std::erase_if(j.awaited_inputs_,
                  [&](const auto& input) { return j.source_->RestoredDone(input.first); });
  }
  j.frontier_ = d.frontier;
  static_cast<JobCounters&>(j.summary_) = d.counters;
  j.metrics_->SetCounters(j.summary_);
  return absl::OkStatus();
}

absl::Status JobStatePart::Prepare(uint64_t, CheckpointData* d) {
  Job& j = job_;
  d->source = j.SourceIdentity();
  const uint64_t file = j.config_.source.kind == SourceKind::kFile ? j.next_path_ - 1 : 0;
  d->positions = j.HasLinePositions() ? j.lines_.Save(file) : j.source_->SavePositions();
  d->watermark = j.watermark_->Current();
  std::set<std::string> named;
  for (int i = 0; i < j.watermark_->input_count() && i < j.source_->input_count(); ++i) {
    d->input_max_ts.emplace_back(j.source_->input_name(i), j.watermark_->InputMaxTs(i));
    named.insert(j.source_->input_name(i));
  }
  // Partitions and shards restored but not handed back yet (a checkpoint
  // before the group's assignment, or during an outage) keep their event
  // time: the next restart judges lateness and partial windows by it.
  for (const auto& [name, ts] : j.restored_inputs_) {
    if (!named.contains(name)) d->input_max_ts.emplace_back(name, ts);
  }
  d->frontier = j.frontier_;
  d->panes.emplace_back(std::string(SilenceBook::kStateKey), j.silences_.EncodeAdHoc());
  j.GatherWorkers(kMinTime);
  std::vector<std::pair<std::string, std::string>> states =
      j.workers_ ? j.workers_->EncodeState(*j.flow_) : j.flow_->EncodeState();
  for (auto& state : states) d->panes.push_back(std::move(state));
  if (j.flow_->tracks_origins()) {
    d->panes.emplace_back(std::string(kOriginsKey),
                          EncodeOrigins(
                              j.AllFlows(), [&](int input) { return j.source_->input_name(input); },
                              j.restored_origins_));
  }
  d->alerts = j.alert_op_->EncodeState();
  d->panes.emplace_back(std::string(LatestWindows::kStateKey), j.latest_.Encode());
  d->counters = j.summary_;
  return absl::OkStatus();
}

std::unique_ptr<CheckpointPart> Job::MakeStatePart() {
  return std::make_unique<JobStatePart>(*this);
}

absl::Status Job::Restore(std::map<std::string, uint64_t>* resume) {
  absl::StatusOr<std::optional<CheckpointData>> loaded =
      checkpointer_->Load(config_.checkpoint.allow_fresh_start);
  if (!loaded.ok()) return loaded.status();
  if (!loaded->has_value()) return absl::OkStatus();
  const CheckpointData& d = **loaded;
  for (const auto& [key, state] : d.panes) {
    if (key == NotifierPart::kStateKey && !config_.notify.empty()) {
      if (!Notifier::ValidState(state)) {
        return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable notifier state"));
      }
      config_.notify.restored_state = state;  // the Notifier opens after the restore
    }
  }
  if (absl::Status s = checkpointer_->Restore(d); !s.ok()) return s;
  restored_at_end_ = d.watermark == kMaxTime;
  for (const auto& [path, size] : d.outputs) (*resume)[OutputFileKey(path)] = size;
  // A metric the rules changed since the checkpoint starts over without the
  // events read before it: its windows that could hold one are partial, as
  // after a reload (Job::Reload). The merge stage knows the time from its
  // instances' heartbeats.
  TimeMs seen = kMinTime;
  for (const auto& [name, ts] : d.input_max_ts) seen = std::max(seen, ts);
  mode_->LastEventTime(&seen);
  MarkStartedOver(*rules_, *flow_, static_cast<const JobStatePart&>(*state_part_).restarted(), seen,
                  alert_op_.get());
  PublishAlerts();
  // The event time the job goes on from, as /api/status shows it (a merge
  // stage's is not known before its partials partitions are assigned), and
  // how far its windows are closed.
  const TimeMs watermark = restored_at_end_ ? kMaxTime : mode_->Watermark(/*at_end=*/false);
  Log(StrCat("restored checkpoint ", d.epoch, " (", FormatTimestamp(d.written_at), "): watermark ",
             watermark == kMinTime   ? "-"
             : watermark == kMaxTime ? "the end of its input"
                                     : FormatTimestamp(watermark),
             ", windows closed up to ",
             frontier_ == kMinTime   ? "-"
             : frontier_ == kMaxTime ? "the end of its input"
                                     : FormatTimestamp(frontier_),
             ", ", static_cast<const JobStatePart&>(*state_part_).restored_states(), " of ",
             flow_->state_count(), " operator states"));
  return absl::OkStatus();
}

void Job::Checkpoint(TimeMs now) {
  const uint64_t silence_changes = silences_.changes();
  const Checkpointer::Result r = checkpointer_->Write(now);
  if (r == Checkpointer::kWritten) silences_saved_ = silence_changes;
  if (r == Checkpointer::kFailed) {
    failed_ = true;
    Stop();
  }
}

bool Job::CheckpointDue(TimeMs now) const {
  if (!checkpointer_) return false;
  // An ad hoc silence is acknowledged before it is in a checkpoint: it
  // goes into one at once, not an interval later.
  return now - checkpointer_->last_attempt() >= config_.checkpoint.interval ||
         silences_.changes() != silences_saved_;
}

}  // namespace vigil
