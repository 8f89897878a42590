// Job: scale-out past one machine (runtime/job.h, operators/scale_out/partials.h,
// operators/scale_out/merge_stage.h).
#include <unistd.h>

#include <cstdio>

#include "base/codec.h"
#include "base/strings.h"
#include "runtime/job.h"

namespace vigil {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

std::string InstanceId(const JobConfig& config) {
  return config.scale_out.instance_id.empty() ? HostName() : config.scale_out.instance_id;
}

absl::Status Job::InitScaleOut() {
  if (config_.scale_out.merge) {
    if (!kafka_source_) return absl::InvalidArgumentError("the merge stage reads a Kafka topic");
    merge_ = std::make_unique<MergeStage>(flow_.get());
    return absl::OkStatus();
  }
  if (config_.scale_out.partials.empty()) return absl::OkStatus();
  if (!kafka_source_ && config_.source.kind != SourceKind::kKinesis) {
    return absl::InvalidArgumentError(
        "--partials needs a Kafka source (instances share its partitions in a consumer group) "
        "or a Kinesis stream (instances split its shards with --instance I/N)");
  }
  if (!kafka_source_ && config_.checkpoint.dir.empty()) {
    return absl::InvalidArgumentError(
        "--partials with a Kinesis stream needs --checkpoint-dir: the shard positions are "
        "kept there, with each publication");
  }
  instance_id_ = InstanceId(config_);
  absl::StatusOr<KafkaUrl> url = ParseKafkaUrl(config_.scale_out.partials);
  if (!url.ok()) return url.status();
  absl::StatusOr<std::unique_ptr<PartialsPublisher>> p =
      PartialsPublisher::Open(*url, config_.outputs.kafka.properties, instance_id_);
  if (!p.ok()) return p.status();
  partials_ = std::move(*p);
  // Partitions taken away in a rebalance leave with what was aggregated of
  // them and their offsets, in one transaction.
  // A partition handed over resumes where its last publication ended, as
  // the partials topic's heartbeats say, whatever the group has committed.
  if (kafka_source_) {
    kafka_source_->set_before_revoke([this] { PublishPartials(WallClockMs(), false); });
    kafka_source_->set_published_lookup([url = *url, properties = config_.outputs.kafka.properties](
                                            const std::vector<std::string>& partitions) {
      return ReadPublishedOffsets(url, properties, partitions);
    });
  }
  std::fprintf(stderr, "vigil: scale-out instance %s: partial aggregates to %s\n",
               instance_id_.c_str(), config_.scale_out.partials.c_str());
  return absl::OkStatus();
}

void Job::PublishPartials(TimeMs now, bool leaving) {
  if (!partials_ || publishing_ || failed_) return;
  publishing_ = true;
  last_publish_ = now;
  // Leaving without a checkpoint to keep them in: the open sessions close
  // now (early) rather than being lost.
  if (leaving && !checkpoints_) {
    GatherWorkers(kMaxTime);
    flow_->CloseSessions(kMaxTime);
  }
  GatherWorkers(kMinTime);  // the workers' panes, to publish
  PartialHeartbeat hb;
  hb.instance = instance_id_;
  hb.watermark = watermark_->Current();
  hb.leaving = leaving;
  const int n = std::min(watermark_->input_count(), source_->input_count());
  for (int i = 0; i < n; ++i) {
    if (!source_->input_active(i)) continue;
    hb.inputs.push_back({source_->input_name(i), watermark_->InputWatermark(i), watermark_->idle(i),
                         kafka_source_ ? kafka_source_->input_next_offset(i) : -1});
  }
  if (kafka_source_) hb.all_inputs = kafka_source_->AllPartitions();
  if (!kafka_source_) {
    PublishNumbered(now, std::move(hb));
    publishing_ = false;
    return;
  }
  rd_kafka_topic_partition_list_t* offsets = kafka_source_->HandedOutOffsets();
  rd_kafka_consumer_group_metadata_t* group = kafka_source_->GroupMetadata();
  const absl::Status s = partials_->Publish(flow_.get(), hb, offsets, group);
  // The same offsets once more, outside the transaction: the development
  // broker (librdkafka's mock cluster) does not store offsets committed in
  // a transaction; a real broker already has them, so this changes nothing.
  if (s.ok()) kafka_source_->CommitOffsets(offsets);
  rd_kafka_topic_partition_list_destroy(offsets);
  rd_kafka_consumer_group_metadata_destroy(group);
  metrics_->PartialsPublished(s.ok(), partials_->messages());
  if (!s.ok()) {
    std::fprintf(stderr,
                 "\nvigil: publishing partial aggregates failed (%s); stopping so that a restart "
                 "aggregates the records since the last publication again\n",
                 std::string(s.message()).c_str());
    failed_ = true;
    Stop();
  } else if (checkpoints_) {
    Checkpoint(now);  // the open sessions, as of the offsets just committed
  }
  publishing_ = false;
}

void Job::PublishNumbered(TimeMs now, PartialHeartbeat hb) {
  // The checkpoint first, holding the drained panes; then the publication
  // under the checkpoint's epoch. A crash in between publishes them again
  // from the checkpoint, and the merge keeps one copy.
  hb.epoch = epoch_ + 1;
  pending_partials_.clear();
  DrainPanes(flow_.get(), instance_id_, hb.epoch,
             [&](std::string_view key, std::string_view value) {
               pending_partials_.emplace_back(key, value);
             });
  pending_heartbeat_ = std::move(hb);
  has_pending_ = true;
  Checkpoint(now);
  if (epoch_ != pending_heartbeat_.epoch) {
    std::fprintf(stderr,
                 "\nvigil: the checkpoint before publishing failed; stopping so that a restart "
                 "aggregates the records since checkpoint %llu again\n",
                 static_cast<unsigned long long>(epoch_));
    failed_ = true;
    Stop();
    return;
  }
  const absl::Status s =
      partials_->PublishMessages(pending_partials_, pending_heartbeat_, nullptr, nullptr);
  metrics_->PartialsPublished(s.ok(), partials_->messages());
  if (!s.ok()) {
    std::fprintf(stderr,
                 "\nvigil: publishing partial aggregates failed (%s); stopping: a restart "
                 "publishes checkpoint %llu's again\n",
                 std::string(s.message()).c_str(), static_cast<unsigned long long>(epoch_));
    failed_ = true;
    Stop();
  }
}

absl::Status Job::RepublishPending() {
  if (!partials_ || kafka_source_ || !has_pending_) return absl::OkStatus();
  const absl::Status s =
      partials_->PublishMessages(pending_partials_, pending_heartbeat_, nullptr, nullptr);
  if (!s.ok()) {
    return absl::UnavailableError(
        StrCat("publishing checkpoint ", pending_heartbeat_.epoch,
               "'s partial aggregates again: ", std::string(s.message())));
  }
  std::fprintf(stderr,
               "vigil: published checkpoint %llu's partial aggregates again (%zu messages; the "
               "merge keeps one copy)\n",
               static_cast<unsigned long long>(pending_heartbeat_.epoch), pending_partials_.size());
  return absl::OkStatus();
}

std::string Job::EncodePending() const {
  Encoder enc;
  enc.PutString(EncodeHeartbeat(pending_heartbeat_));
  enc.PutVarint(pending_partials_.size());
  for (const auto& [key, value] : pending_partials_) {
    enc.PutString(key);
    enc.PutString(value);
  }
  return enc.Release();
}

bool Job::DecodePending(std::string_view data) {
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

void Job::MergeBatch(const std::vector<Record>& batch) {
  for (const Record& r : batch) {
    const std::string& part = source_->input_name(r.input);
    const MergeStage::Outcome outcome = merge_->Apply(r.data, part);
    metrics_->MergeMessage(MergeStage::OutcomeName(outcome));
    if (outcome == MergeStage::Outcome::kMalformed) {
      DeadLetter(DeadReason::kBadPartial, "not a partials message of this version", r);
      continue;
    }
    ++summary_.processed;
    if (outcome == MergeStage::Outcome::kLate) {
      ++summary_.late;  // merged nowhere, but not refused: its windows closed
    } else if (outcome == MergeStage::Outcome::kUnknownMetric && !warned_unknown_partials_) {
      warned_unknown_partials_ = true;
      std::fprintf(stderr,
                   "\nvigil: %s: partial aggregates of a metric these rules do not have: the "
                   "instances run other rules (counted in vigil_merge_messages_total)\n",
                   part.c_str());
    }
  }
  summary_.records += batch.size();
}

TimeMs Job::MergeWatermark(bool at_end) const {
  std::vector<std::string> parts;
  for (int i = 0; i < source_->input_count(); ++i) {
    if (source_->input_active(i) || at_end) parts.push_back(source_->input_name(i));
  }
  // A bounded merge at the end of the partials, every instance gone: all
  // there is has been published.
  if (at_end && merge_->AllLeft(parts)) return kMaxTime;
  return merge_->Watermark(parts);
}

}  // namespace vigil
