// A scale-out instance (runtime/job_mode.h, operators/scale_out/partials.h):
// aggregates what it owns and publishes partial aggregates for the merge.
#include <unistd.h>

#include "base/codec.h"
#include "base/log.h"
#include "base/strings.h"
#include "runtime/job.h"
#include "runtime/job_mode.h"

namespace vigil {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

// The publication kept in a checkpoint (Kinesis instances).
constexpr std::string_view kPendingPartialsKey = "vigil.pending-partials";

}  // namespace

std::string InstanceId(const JobConfig& config) {
  return config.scale_out.instance_id.empty() ? HostName() : config.scale_out.instance_id;
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
  void Connect(const KafkaUrl& url) {
    KafkaSource* kafka = job_.kafka_source_;
    if (!kafka) return;
    kafka->set_before_revoke([this] { Publish(WallClockMs(), false); });
    kafka->set_published_lookup([url, properties = job_.config_.outputs.kafka.properties](
                                    const std::vector<std::string>& partitions) {
      return ReadPublishedOffsets(url, properties, partitions);
    });
  }

  void Process(const std::vector<Record>& batch, TimeMs now) override {
    // Lateness per partition: a partition handed over in a rebalance
    // continues where its last owner stopped, however far this instance's
    // other partitions are.
    job_.ProcessRecords(batch, now, /*per_input_lateness=*/true);
  }
  TimeMs Watermark(bool) const override { return job_.watermark_->Current(); }
  // Sessions only; windows close in the merge.
  void Advance(TimeMs frontier) override {
    job_.GatherWorkers(kMinTime);
    job_.flow_->CloseSessions(frontier);
    job_.GatherTaps();
    job_.FlushRecords(frontier);
  }
  void Tick(TimeMs now) override {
    if (now - last_publish_ >= job_.config_.checkpoint.interval) Publish(now, false);
  }
  void Finish(TimeMs now) override {
    Publish(now, /*leaving=*/true);
    if (job_.kafka_source_) job_.kafka_source_->set_before_revoke(nullptr);
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
  // One transaction of panes, heartbeat and offsets, then the local
  // checkpoint (open sessions) if there is one. `leaving`: the last one.
  void Publish(TimeMs now, bool leaving);
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
  PartialHeartbeat pending_heartbeat_;
  bool has_pending_ = false;
};

void InstanceMode::Publish(TimeMs now, bool leaving) {
  if (publishing_ || job_.failed_) return;
  publishing_ = true;
  last_publish_ = now;
  // Leaving without a checkpoint to keep them in: the open sessions close
  // now (early) rather than being lost.
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
  if (!kafka) {
    PublishNumbered(now, std::move(hb));
    publishing_ = false;
    return;
  }
  hb.all_inputs = kafka->AllPartitions();
  rd_kafka_topic_partition_list_t* offsets = kafka->HandedOutOffsets();
  rd_kafka_consumer_group_metadata_t* group = kafka->GroupMetadata();
  const absl::Status s = partials_->Publish(job_.flow_.get(), hb, offsets, group);
  // The same offsets once more, outside the transaction: the development
  // broker (librdkafka's mock cluster) does not store offsets committed in
  // a transaction; a real broker already has them, so this changes nothing.
  if (s.ok()) kafka->CommitOffsets(offsets);
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
