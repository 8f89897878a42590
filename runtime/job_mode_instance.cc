// A scale-out instance (runtime/job_mode.h, operators/scale_out/partials.h):
// aggregates what it owns and publishes partial aggregates for the merge.

#include <algorithm>
#include <map>
#include <set>

#include "base/codec.h"
#include "base/host.h"
#include "base/log.h"
#include "base/strings.h"
#include "operators/dataflow/handover.h"
#include "runtime/job.h"
#include "runtime/job_mode.h"

namespace vigil {
namespace {

// The publication kept in a checkpoint (Kinesis instances).
constexpr std::string_view kPendingPartialsKey = "vigil.pending-partials";

}  // namespace

std::string InstanceId(const JobConfig& config) {
  if (!config.scale_out.instance_id.empty()) return config.scale_out.instance_id;
  // Kinesis instances sharing a stream (--instance I/N) on one machine
  // would share the host name; the merge would keep one of their
  // publications per epoch and drop the other's as a repeat.
  const KinesisSourceOptions& k = config.source.kinesis;
  if (config.source.kind == SourceKind::kKinesis && k.instance_count > 1) {
    return StrCat(HostName(), "/", k.instance_index);
  }
  return HostName();
}

class InstanceMode : public JobMode {
 public:
  InstanceMode(Job& job, std::unique_ptr<PartialsPublisher> partials, std::string instance_id)
      : job_(job), partials_(std::move(partials)), instance_id_(std::move(instance_id)) {}
  ~InstanceMode() override {
    if (job_.kafka_source_) job_.kafka_source_->set_before_revoke(nullptr);
  }

  // Partitions taken away in a rebalance leave with what was aggregated of
  // them and their offsets, in one transaction. A partition handed over
  // resumes where its last publication ended, as the partials topic's
  // heartbeats say, whatever the group has committed.
  // The open sessions and waiting join events of a partition's keys go
  // with it (operators/dataflow/handover.h): published with its last
  // offsets, taken over by its next owner before it reads the partition on.
  void Connect(const KafkaUrl& url) {
    KafkaSource* kafka = job_.kafka_source_;
    if (!kafka) return;
    for (Dataflow* flow : job_.AllFlows()) flow->TrackOrigins();
    kafka->set_before_revoke([this](const std::vector<int>& inputs) {
      Publish(WallClockMs(), false, std::set<int>(inputs.begin(), inputs.end()));
    });
    kafka->set_published_lookup([this, url, properties = job_.config_.outputs.kafka.properties](
                                    const std::vector<std::string>& partitions)
                                    -> absl::StatusOr<std::map<std::string, int64_t>> {
      absl::StatusOr<std::map<std::string, PublishedInput>> found =
          ReadPublished(url, properties, partitions);
      if (!found.ok()) return found.status();
      std::map<std::string, int64_t> offsets;
      for (auto& [name, in] : *found) {
        offsets[name] = in.next_offset;
        published_[name] = std::move(in);
      }
      return offsets;
    });
    kafka->set_after_assign(
        [this](const std::vector<std::pair<int, int64_t>>& inputs) { TakeOver(inputs); });
  }

  void Process(const std::vector<Record>& batch, TimeMs now) override {
    // Lateness per partition: a partition handed over in a rebalance
    // continues where its last owner stopped, however far this instance's
    // other partitions are.
    job_.ProcessRecords(batch, now, /*per_input_lateness=*/true);
  }
  TimeMs Watermark(bool) const override { return job_.watermark_->Current(); }
  // Sessions only; windows close in the merge.
  void Advance(TimeMs) override { CloseDue(); }
  bool WorkersCloseSessions() const override { return false; }
  void Tick(TimeMs now) override {
    CloseDue();
    if (now - last_publish_ >= job_.config_.checkpoint.interval) Publish(now, false);
  }
  // What the old rules aggregated goes out under them: a metric the
  // reload starts over would otherwise lose it, and the merge learns
  // which accumulators each pane holds (partials.h).
  void BeforeReload() override { Publish(WallClockMs(), false); }
  void MetricsStartedOver(const std::vector<std::pair<std::string, TimeMs>>& metrics) override {
    for (const auto& [name, by] : metrics) {
      auto [it, added] = started_over_.try_emplace(name, by);
      if (!added) it->second = std::max(it->second, by);
    }
  }
  void Finish(TimeMs now) override {
    std::set<int> all;
    for (int i = 0; i < job_.source_->input_count(); ++i) {
      if (job_.source_->input_active(i)) all.insert(i);
    }
    Publish(now, /*leaving=*/true, all);
    if (job_.kafka_source_) {
      job_.kafka_source_->set_before_revoke(nullptr);
      job_.kafka_source_->set_after_assign(nullptr);
    }
  }
  // The group's committed offsets are the truth for a Kafka instance (its
  // partitions may have moved since the checkpoint).
  bool RestoresSourcePositions() const override { return job_.kafka_source_ == nullptr; }
  bool SharesInputs() const override { return true; }

  absl::Status Prepare(uint64_t, CheckpointData* d) override {
    if (has_pending_) d->panes.emplace_back(kPendingPartialsKey, EncodePending());
    return absl::OkStatus();
  }
  absl::Status Restore(const CheckpointData& d) override {
    for (const auto& [key, state] : d.panes) {
      if (key == kPendingPartialsKey && !DecodePending(state)) {
        return absl::DataLossError(StrCat("checkpoint ", d.epoch, ": unreadable partials"));
      }
    }
    return absl::OkStatus();
  }
  // Kinesis instances: publishes the restored checkpoint's publication
  // again (the merge drops it if it has it).
  absl::Status Resume() override {
    if (job_.kafka_source_ || !has_pending_) return absl::OkStatus();
    const absl::Status s =
        partials_->PublishMessages(pending_partials_, pending_heartbeat_, nullptr, nullptr);
    if (!s.ok()) {
      return absl::UnavailableError(
          StrCat("publishing checkpoint ", pending_heartbeat_.epoch,
                 "'s partial aggregates again: ", std::string(s.message())));
    }
    Log(StrCat("published checkpoint ", pending_heartbeat_.epoch, "'s partial aggregates again (",
               pending_partials_.size(), " messages; the merge keeps one copy)"));
    return absl::OkStatus();
  }
  void AppendStatus(std::string* json) const override {
    json->append(",\"scale_out\":{\"role\":\"instance\",\"instance_id\":");
    AppendJsonString(instance_id_, json);
    json->append(",\"partials_topic\":");
    AppendJsonString(partials_->topic(), json);
    StrAppend(json, ",\"publications\":", partials_->publications(), "}");
  }

 private:
  // The frontier sessions and joins close at: the lowest watermark of the
  // partitions read now, less the allowed lateness. Unlike the job's
  // watermark it moves back when a partition that lags is assigned, so its
  // keys, and those handed over with it, close only once that partition's
  // events have passed them, as in one instance reading every partition.
  TimeMs KeyedFrontier() const;
  // Closes what is due at KeyedFrontier(), when it moved.
  void CloseDue();
  // One transaction of panes, heartbeat and offsets, then the local
  // checkpoint (open sessions) if there is one. `leaving`: the last one.
  // `handed`: the inputs given up, whose keys' state goes with them (Kafka).
  void Publish(TimeMs now, bool leaving, const std::set<int>& handed = {});
  // Moves the keyed state of `handed` from the dataflow to the publisher.
  void HandOver(const std::set<int>& handed);
  // Takes over the keyed state handed over with newly assigned inputs
  // that resume where the hand-over ended.
  void TakeOver(const std::vector<std::pair<int, int64_t>>& inputs);
  // Kinesis instances: checkpoint, then the publication numbered with it.
  void PublishNumbered(TimeMs now, PartialHeartbeat hb);
  std::string EncodePending() const;
  bool DecodePending(std::string_view data);
  // Stops the job after a failure it cannot continue from.
  void Fail(const std::string& why) {
    Log(why);
    job_.failed_ = true;
    job_.Stop();
  }

  Job& job_;
  std::unique_ptr<PartialsPublisher> partials_;
  const std::string instance_id_;
  TimeMs last_publish_ = 0;
  bool publishing_ = false;
  // Kinesis: drained, to publish after the checkpoint that keeps them.
  PartialMessages pending_partials_;
  // Metrics started over since the last publication, for its heartbeat.
  std::map<std::string, TimeMs> started_over_;
  PartialHeartbeat pending_heartbeat_;
  bool has_pending_ = false;
  // What the partials topic said of the partitions assigned last.
  std::map<std::string, PublishedInput> published_;
  TimeMs closed_at_ = kMinTime;  // the last KeyedFrontier closed at
};

TimeMs InstanceMode::KeyedFrontier() const {
  const WatermarkTracker& wm = *job_.watermark_;
  const RecordSource& source = *job_.source_;
  TimeMs lowest = wm.Current();
  const int n = std::min(wm.input_count(), source.input_count());
  for (int i = 0; i < n; ++i) {
    if (source.input_active(i) && !wm.idle(i)) lowest = std::min(lowest, wm.InputWatermark(i));
  }
  if (lowest == kMinTime || lowest == kMaxTime) return lowest;
  return lowest - job_.config_.event_time.allowed_lateness;
}

void InstanceMode::CloseDue() {
  const TimeMs frontier = KeyedFrontier();
  if (frontier == closed_at_) return;
  closed_at_ = frontier;
  if (frontier == kMinTime) return;
  if (job_.workers_) {
    job_.GatherWorkers(frontier);  // the workers close theirs as they aggregate
  } else {
    job_.flow_->CloseSessions(frontier);
    job_.GatherTaps();
  }
  job_.FlushRecords(frontier);
}

void InstanceMode::Publish(TimeMs now, bool leaving, const std::set<int>& handed) {
  if (publishing_ || job_.failed_) return;
  publishing_ = true;
  last_publish_ = now;
  // What the heartbeat's watermarks make due goes in this publication.
  CloseDue();
  if (job_.kafka_source_ && !handed.empty()) {
    job_.GatherWorkers(kMinTime);
    HandOver(handed);
  }
  // Leaving without a checkpoint to keep them in: the open sessions not
  // handed over close now (early) rather than being lost.
  if (leaving && !job_.checkpointer_) {
    job_.GatherWorkers(kMaxTime);
    job_.flow_->CloseSessions(kMaxTime);
    job_.GatherTaps();
    job_.FlushRecords(kMaxTime);
  }
  job_.GatherWorkers(kMinTime);  // the workers' panes, to publish
  const RecordSource& source = *job_.source_;
  const WatermarkTracker& watermark = *job_.watermark_;
  KafkaSource* kafka = job_.kafka_source_;
  PartialHeartbeat hb;
  hb.instance = instance_id_;
  hb.watermark = watermark.Current();
  hb.leaving = leaving;
  hb.last_ts = watermark.LastTs();
  const int n = std::min(watermark.input_count(), source.input_count());
  for (int i = 0; i < n; ++i) {
    if (!source.input_active(i)) continue;
    hb.inputs.push_back({source.input_name(i), watermark.InputWatermark(i), watermark.idle(i),
                         kafka ? kafka->input_next_offset(i) : -1});
  }
  hb.all_inputs = job_.source_->AllInputs();
  hb.started_over.assign(started_over_.begin(), started_over_.end());
  if (!kafka) {
    started_over_.clear();  // in the checkpoint's pending heartbeat
    PublishNumbered(now, std::move(hb));
    publishing_ = false;
    return;
  }
  rd_kafka_topic_partition_list_t* offsets = kafka->HandedOutOffsets();
  rd_kafka_consumer_group_metadata_t* group = kafka->GroupMetadata();
  const absl::Status s = partials_->Publish(job_.flow_.get(), hb, offsets, group);
  // The same offsets once more, outside the transaction: the development
  // broker (librdkafka's mock cluster) does not store offsets committed in
  // a transaction; a real broker already has them, so this changes nothing.
  if (s.ok()) {
    kafka->CommitOffsets(offsets);
    started_over_.clear();
  }
  rd_kafka_topic_partition_list_destroy(offsets);
  rd_kafka_consumer_group_metadata_destroy(group);
  job_.metrics_->PartialsPublished(s.ok(), partials_->messages());
  if (!s.ok()) {
    Fail(StrCat("publishing partial aggregates failed (", std::string(s.message()),
                "); stopping so that a restart aggregates the records since the last "
                "publication again"));
  } else if (job_.checkpointer_) {
    job_.Checkpoint(now);  // the open sessions, as of the offsets just committed
  }
  publishing_ = false;
}

void InstanceMode::HandOver(const std::set<int>& handed) {
  std::map<int, HandedOver> out = ExtractKeyedState(job_.AllFlows(), handed);
  std::map<std::string, std::string> states;
  size_t keys = 0;
  std::string names;
  for (const auto& [input, state] : out) {
    const std::string name = job_.source_->input_name(input);
    states[name] = EncodeHandedOver(state);
    keys += state.keys;
    StrAppend(&names, names.empty() ? "" : " ", name);
  }
  if (keys == 0) return;
  job_.metrics_->KeysHandedOver("out", keys);
  Log(StrCat("handing over the open state of ", keys, " keys (sessions, join events) with ",
             names));
  partials_->HandOver(std::move(states));
}

void InstanceMode::TakeOver(const std::vector<std::pair<int, int64_t>>& inputs) {
  bool gathered = false;
  size_t keys = 0, unknown = 0;
  for (const auto& [input, offset] : inputs) {
    const std::string name = job_.source_->input_name(input);
    auto it = published_.find(name);
    if (it == published_.end()) continue;
    const PublishedInput in = std::move(it->second);
    published_.erase(it);
    // The partition continues where its last owner's publication ended.
    // One read to its end by an owner that stopped there (--exit-at-end)
    // has nothing to hold back: it idles at once rather than hold every
    // key at the start of time for the idle timeout.
    if (in.watermark == kMaxTime) {
      if (input < job_.watermark_->input_count()) {
        job_.watermark_->SetQuiet(input);
      } else {
        job_.quiet_inputs_.insert(name);
      }
    } else if (in.watermark != kMinTime) {
      const TimeMs max_ts = in.watermark + job_.config_.event_time.max_out_of_orderness;
      WatermarkTracker& wm = *job_.watermark_;
      if (input < wm.input_count()) {
        if (wm.InputMaxTs(input) < max_ts) wm.RestoreInput(input, max_ts);
      } else {
        TimeMs& restored = job_.restored_inputs_[name];
        restored = std::max(restored, max_ts);
      }
    }
    if (!in.has_state) continue;
    // Handed over at another position (a later owner was killed before
    // publishing it on): not the state of the records that follow.
    if (offset != in.next_offset) {
      Log(StrCat(name, ": the state handed over at offset ", in.next_offset,
                 " does not fit offset ", offset, ", where it resumes; not taken over"));
      continue;
    }
    HandedOver state;
    if (!DecodeHandedOver(in.state, &state)) {
      Log(StrCat(name, ": the state handed over by ", in.instance, " does not decode; skipped"));
      continue;
    }
    if (!gathered) {
      job_.GatherWorkers(kMinTime);
      gathered = true;
    }
    const long long added = AdoptKeyedState(job_.flow_.get(), state, input, &unknown);
    if (added < 0) {
      Log(StrCat(name, ": the state handed over by ", in.instance, " does not decode; skipped"));
      continue;
    }
    keys += static_cast<size_t>(added);
    Log(StrCat(name, ": took over the open state of ", added, " keys from ", in.instance));
  }
  if (unknown > 0) {
    Log(StrCat(unknown,
               " handed-over streams are not in these rules (the instances run other "
               "rules); their state is dropped"));
  }
  if (!gathered) return;
  job_.metrics_->KeysHandedOver("in", keys);
  // The keys close at KeyedFrontier, which counts the new partitions from
  // the next batch on.
  if (job_.workers_) job_.workers_->TakeRestored(job_.flow_.get());
}

void InstanceMode::PublishNumbered(TimeMs now, PartialHeartbeat hb) {
  // The checkpoint first, holding the drained panes; then the publication
  // under the checkpoint's epoch. A crash in between publishes them again
  // from the checkpoint, and the merge keeps one copy.
  hb.epoch = job_.checkpointer_->epoch() + 1;
  pending_partials_.clear();
  DrainPanes(job_.flow_.get(), instance_id_, hb.epoch,
             [&](std::string_view key, std::string_view value) {
               pending_partials_.emplace_back(key, value);
             });
  pending_heartbeat_ = std::move(hb);
  has_pending_ = true;
  job_.Checkpoint(now);
  if (job_.checkpointer_->epoch() != pending_heartbeat_.epoch) {
    Fail(
        StrCat("the checkpoint before publishing failed; stopping so that a restart aggregates "
               "the records since checkpoint ",
               job_.checkpointer_->epoch(), " again"));
    return;
  }
  const absl::Status s =
      partials_->PublishMessages(pending_partials_, pending_heartbeat_, nullptr, nullptr);
  job_.metrics_->PartialsPublished(s.ok(), partials_->messages());
  if (!s.ok()) {
    Fail(StrCat("publishing partial aggregates failed (", std::string(s.message()),
                "); stopping: a restart publishes checkpoint ", job_.checkpointer_->epoch(),
                "'s again"));
  }
}

std::string InstanceMode::EncodePending() const {
  Encoder enc;
  enc.PutString(EncodeHeartbeat(pending_heartbeat_));
  enc.PutVarint(pending_partials_.size());
  for (const auto& [key, value] : pending_partials_) {
    enc.PutString(key);
    enc.PutString(value);
  }
  return enc.Release();
}

bool InstanceMode::DecodePending(std::string_view data) {
  Decoder dec(data);
  if (!DecodeHeartbeat(dec.GetString(), &pending_heartbeat_)) return false;
  pending_partials_.clear();
  const uint64_t n = dec.GetVarint();
  for (uint64_t i = 0; i < n && dec.ok(); ++i) {
    std::string key(dec.GetString());
    pending_partials_.emplace_back(std::move(key), std::string(dec.GetString()));
  }
  has_pending_ = dec.ok() && dec.done();
  return has_pending_;
}

absl::StatusOr<std::unique_ptr<JobMode>> MakeInstanceMode(Job& job) {
  const JobConfig& config = job.config_;
  if (!job.kafka_source_ && config.source.kind != SourceKind::kKinesis) {
    return absl::InvalidArgumentError(
        "--partials needs a Kafka source (instances share its partitions in a consumer group) "
        "or a Kinesis stream (instances split its shards with --instance I/N)");
  }
  if (!job.kafka_source_ && config.checkpoint.dir.empty()) {
    return absl::InvalidArgumentError(
        "--partials with a Kinesis stream needs --checkpoint-dir: the shard positions are "
        "kept there, with each publication");
  }
  std::string instance_id = InstanceId(config);
  absl::StatusOr<KafkaUrl> url = ParseKafkaUrl(config.scale_out.partials);
  if (!url.ok()) return url.status();
  absl::StatusOr<std::unique_ptr<PartialsPublisher>> p =
      PartialsPublisher::Open(*url, config.outputs.kafka.properties, instance_id);
  if (!p.ok()) return p.status();
  auto mode = std::make_unique<InstanceMode>(job, std::move(*p), instance_id);
  mode->Connect(*url);
  Log(StrCat("scale-out instance ", instance_id, ": partial aggregates to ",
             config.scale_out.partials));
  return mode;
}

}  // namespace vigil
