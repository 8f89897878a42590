// The merge stage (runtime/job_mode.h, operators/scale_out/merge_stage.h):
// merges the instances' partial aggregates and closes windows at their
// job-wide watermark.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "base/log.h"
#include "base/strings.h"
#include "base/time.h"
#include "operators/dataflow/handover.h"
#include "operators/scale_out/partials.h"
#include "runtime/job.h"
#include "runtime/job_mode.h"

namespace vigil {
namespace {

// The merge stage's heartbeat state rides with the operator states under a
// key no operator has.
constexpr std::string_view kMergeStateKey = "vigil.merge-stage";

}  // namespace

class MergeMode : public JobMode {
 public:
  explicit MergeMode(Job& job) : job_(job), merge_(job.flow_.get()) {
    merge_.set_allowed_lateness(job.config_.event_time.allowed_lateness);
  }

  void Process(const std::vector<Record>& batch, TimeMs now) override;
  TimeMs Watermark(bool at_end) const override;
  bool LastEventTime(TimeMs* last) const override {
    *last = merge_.last_ts();
    return true;
  }
  void Advance(TimeMs frontier) override {
    if (frontier == kMaxTime) CloseUnclaimedState();
    job_.CloseWindows(frontier);
  }
  void Tick(TimeMs now) override {
    if (job_.CheckpointDue(now)) job_.Checkpoint(now);
  }
  void Finish(TimeMs now) override {
    const bool stopped = job_.stop_.load(std::memory_order_relaxed);
    if (job_.source_->bounded() && !stopped && job_.frontier_ != kMaxTime) {
      // --exit-at-end before the instances have stopped: say what is open.
      const std::vector<std::string> running = merge_.Instances();
      Log(StrCat("the partials topic ended with the windows from ",
                 job_.frontier_ == kMinTime ? "the start" : FormatTimestamp(job_.frontier_),
                 " on still open: ",
                 running.empty() ? "no instance has reported on it yet"
                                 : StrCat("instance(s) ", StrJoin(running, ", "), " still run"),
                 "; run a bounded merge once the instances have stopped"));
    }
    if (const size_t held = merge_.held_messages(); held > 0) {
      Log(StrCat(held,
                 " panes message(s) still wait for their publication's heartbeat (an instance "
                 "stopped mid-publication): not merged",
                 job_.checkpointer_ ? "; kept in the checkpoint" : ""));
    }
    if (job_.checkpointer_) job_.Checkpoint(now);
  }
  void Reloaded() override { merge_.set_flow(job_.flow_.get()); }
  bool InputWatermark(int input, TimeMs* watermark) const override {
    *watermark = merge_.Watermark({job_.source_->input_name(input)});
    return true;
  }
  bool WatermarkHolder(std::string* holder) const override {
    *holder = merge_.Holder(ActiveParts());
    return true;
  }

  absl::Status Prepare(uint64_t, CheckpointData* d) override {
    d->panes.emplace_back(kMergeStateKey, merge_.Encode());
    return absl::OkStatus();
  }
  absl::Status Restore(const CheckpointData& d) override {
    for (const auto& [key, state] : d.panes) {
      if (key == kMergeStateKey && !merge_.Decode(state)) {
        return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable merge state"));
      }
    }
    return absl::OkStatus();
  }
  void AppendStatus(std::string* json) const override {
    json->append(",\"scale_out\":{\"role\":\"merge\",\"instances\":[");
    bool first = true;
    for (const std::string& id : merge_.Instances()) {
      if (!first) json->push_back(',');
      first = false;
      AppendJsonString(id, json);
    }
    StrAppend(json, "],\"late_panes\":", merge_.late_panes(),
              ",\"held_messages\":", merge_.held_messages(), "}");
  }

 private:
  // Every instance gone at the end of the partials: the state they handed
  // over that nobody took over closes here, as it would in one instance.
  void CloseUnclaimedState();
  // With other merge instances reading the partials partitions not in
  // `reading`: the stream metrics count only this merge's groups.
  void CountOwnGroupsOnly(const std::vector<std::string>& reading);
  // The partials partitions the merge reads now (every one at the end).
  std::vector<std::string> ActiveParts(bool at_end = false) const;
  // One message's outcome in the metrics and the summary.
  void Count(MergeStage::Outcome outcome, const std::string& part);

  Job& job_;
  MergeStage merge_;
  bool warned_unknown_partials_ = false;
  bool warned_incomplete_partials_ = false;
};

void MergeMode::Process(const std::vector<Record>& batch, TimeMs) {
  JobCounters& counters = job_.summary_;
  for (const Record& r : batch) {
    const std::string& part = job_.source_->input_name(r.input);
    const MergeStage::Outcome outcome = merge_.Apply(r.data, part);
    if (outcome == MergeStage::Outcome::kMalformed) {
      job_.metrics_->MergeMessage(MergeStage::OutcomeName(outcome));
      job_.DeadLetter(DeadReason::kBadPartial, "not a partials message of this version", r);
      continue;
    }
    ++counters.processed;
    // Windows missing an instance's events, which ran other rules.
    for (const auto& [m, start] : merge_.incomplete()) job_.alert_op_->RestartedAt(m, start);
    // Held panes are counted once their heartbeat settles them.
    if (outcome != MergeStage::Outcome::kHeld) Count(outcome, part);
    for (MergeStage::Outcome settled : merge_.settled()) Count(settled, part);
  }
  counters.records += batch.size();
}

void MergeMode::Count(MergeStage::Outcome outcome, const std::string& part) {
  job_.metrics_->MergeMessage(MergeStage::OutcomeName(outcome));
  if (outcome == MergeStage::Outcome::kLate) {
    ++job_.summary_.late;  // merged nowhere, but not refused: its windows closed
  } else if (outcome == MergeStage::Outcome::kUnknownMetric && !warned_unknown_partials_) {
    warned_unknown_partials_ = true;
    Log(StrCat(part,
               ": partial aggregates of a metric these rules do not have: the instances run "
               "other rules (counted in vigil_merge_messages_total)"));
  } else if (outcome == MergeStage::Outcome::kIncomplete && !warned_incomplete_partials_) {
    warned_incomplete_partials_ = true;
    Log(StrCat(part,
               ": partial aggregates without what some metrics of these rules need: the "
               "instances run other rules; those metrics' windows holding them are partial "
               "(counted in vigil_merge_messages_total{outcome=\"incomplete\"})"));
  }
}

void MergeMode::CloseUnclaimedState() {
  std::vector<std::string> reading;  // the partials partitions read now
  for (int i = 0; i < job_.source_->input_count(); ++i) {
    if (job_.source_->input_active(i)) reading.push_back(job_.source_->input_name(i));
  }
  std::vector<std::string> missing;
  const std::map<std::string, std::string> states = merge_.TakeUnclaimedState(reading, &missing);
  for (const std::string& input : missing) {
    Log(StrCat(input,
               ": the state handed over lacks pieces on the partials partitions read here (an "
               "instance of an earlier version sends it to partition 0 alone); not closed here"));
  }
  if (states.empty()) return;
  CountOwnGroupsOnly(reading);
  size_t keys = 0, unknown = 0;
  for (const auto& [input, bytes] : states) {
    HandedOver state;
    const long long added =
        DecodeHandedOver(bytes, &state)
            ? AdoptKeyedState(job_.flow_.get(), state, KeyOrigins::kUnknown, &unknown)
            : -1;
    if (added < 0) {
      Log(StrCat(input, ": the state handed over does not decode; skipped"));
      continue;
    }
    keys += static_cast<size_t>(added);
  }
  if (keys > 0) {
    Log(StrCat("closing the open state of ", keys,
               " keys the instances handed over and no instance took over"));
  }
}

void MergeMode::CountOwnGroupsOnly(const std::vector<std::string>& reading) {
  std::vector<std::string> all = job_.source_->AllInputs();
  for (int attempt = 1; attempt < 3 && all.empty(); ++attempt) all = job_.source_->AllInputs();
  if (all.empty()) {
    Log("the partials topic's partition count is unknown (its metadata did not come): this "
        "merge instance counts the state no instance took over in every group, and another "
        "merge instance, if any, counts it again");
    return;
  }
  // Its groups are those of the partitions it has read: one assigned only
  // now, read by another merge before, is that merge's.
  std::set<int32_t> own;
  for (const std::string& part : reading) {
    int32_t index = 0;
    const size_t slash = part.rfind('/');
    if (merge_.HasRead(part) && slash != std::string::npos &&
        absl::SimpleAtoi(part.substr(slash + 1), &index)) {
      own.insert(index);
    }
  }
  const auto partitions = static_cast<int32_t>(all.size());
  if (own.size() >= all.size()) return;  // every group is this merge's
  // Every merge instance closes the same state: each counts the records
  // of the groups whose panes it reads, and the one reading partition 0
  // writes the records and unmatched events.
  for (const auto& op : job_.flow_->metric_ops()) {
    if (!op->from_stream()) continue;
    const MetricOperator* m = op.get();
    op->SetGroupFilter([m, own, partitions, key = std::string()](std::string_view group) mutable {
      PanesKey(*m, group, &key);
      return own.contains(PanesPartition(key, partitions));
    });
  }
  job_.stream_outputs_ = own.contains(0);
  Log(StrCat("this merge instance reads ", own.size(), " of the ", partitions,
             " partials partitions: it counts the state no instance took over in the groups "
             "whose panes it reads",
             job_.stream_outputs_ ? ", and writes its records"
                                  : "; the one reading partition 0 writes its records"));
}

std::vector<std::string> MergeMode::ActiveParts(bool at_end) const {
  const RecordSource& source = *job_.source_;
  std::vector<std::string> parts;
  for (int i = 0; i < source.input_count(); ++i) {
    if (source.input_active(i) || at_end) parts.push_back(source.input_name(i));
  }
  return parts;
}

TimeMs MergeMode::Watermark(bool at_end) const {
  const std::vector<std::string> parts = ActiveParts(at_end);
  // A bounded merge at the end of the partials, every instance gone: all
  // there is has been published.
  if (at_end && merge_.AllLeft(parts)) return kMaxTime;
  return merge_.Watermark(parts);
}

absl::StatusOr<std::unique_ptr<JobMode>> MakeMergeMode(Job& job) {
  if (!job.kafka_source_) return absl::InvalidArgumentError("the merge stage reads a Kafka topic");
  return std::make_unique<MergeMode>(job);
}

}  // namespace vigil
