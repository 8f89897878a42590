// Job: scale-out past one machine (runtime/job.h, operators/partials.h,
// operators/merge_stage.h).
#include <unistd.h>

#include <cstdio>

#include "runtime/job.h"
#include "windows/strings.h"

namespace vigil {
namespace {

std::string HostName() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

}  // namespace

absl::Status Job::InitScaleOut() {
  if (config_.scale_out.merge) {
    if (!kafka_source_) return absl::InvalidArgumentError("the merge stage reads a Kafka topic");
    merge_ = std::make_unique<MergeStage>(flow_.get());
    return absl::OkStatus();
  }
  if (config_.scale_out.partials.empty()) return absl::OkStatus();
  if (!kafka_source_) {
    return absl::InvalidArgumentError(
        "--partials needs a Kafka source (--input kafka://...): the instances share its "
        "partitions in a consumer group");
  }
  instance_id_ = config_.scale_out.instance_id.empty() ? HostName() : config_.scale_out.instance_id;
  absl::StatusOr<KafkaUrl> url = ParseKafkaUrl(config_.scale_out.partials);
  if (!url.ok()) return url.status();
  absl::StatusOr<std::unique_ptr<PartialsPublisher>> p =
      PartialsPublisher::Open(*url, config_.outputs.kafka.properties, instance_id_);
  if (!p.ok()) return p.status();
  partials_ = std::move(*p);
  // Partitions taken away in a rebalance leave with what was aggregated of
  // them and their offsets, in one transaction.
  kafka_source_->set_before_revoke([this] { PublishPartials(WallClockMs(), false); });
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
  if (leaving && !checkpoints_) flow_->CloseSessions(kMaxTime);
  PartialHeartbeat hb;
  hb.instance = instance_id_;
  hb.watermark = watermark_->Current();
  hb.leaving = leaving;
  const int n = std::min(watermark_->input_count(), source_->input_count());
  for (int i = 0; i < n; ++i) {
    if (!source_->input_active(i)) continue;
    hb.inputs.push_back({source_->input_name(i), watermark_->InputWatermark(i), watermark_->idle(i)});
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

void Job::MergeBatch(const std::vector<Record>& batch) {
  for (const Record& r : batch) {
    const std::string& part = source_->input_name(r.input);
    switch (merge_->Apply(r.data, part)) {
      case MergeStage::Outcome::kPanes:
        metrics_->MergeMessage("panes");
        ++summary_.processed;
        break;
      case MergeStage::Outcome::kHeartbeat:
        metrics_->MergeMessage("heartbeat");
        ++summary_.processed;
        break;
      case MergeStage::Outcome::kLate:
        metrics_->MergeMessage("late");
        metrics_->late_events->Increment();
        ++summary_.late;
        ++summary_.processed;
        break;
      case MergeStage::Outcome::kUnknownMetric:
        metrics_->MergeMessage("unknown_metric");
        if (!warned_unknown_partials_) {
          warned_unknown_partials_ = true;
          std::fprintf(stderr,
                       "\nvigil: %s: partial aggregates of a metric these rules do not have: the "
                       "instances run other rules (counted in vigil_merge_messages_total)\n",
                       part.c_str());
        }
        ++summary_.processed;
        break;
      case MergeStage::Outcome::kMalformed:
        metrics_->MergeMessage("malformed");
        DeadLetter(DeadReason::kBadPartial, "not a partials message of this version", r);
        break;
    }
  }
  summary_.records += batch.size();
  metrics_->events_in->Increment(static_cast<double>(batch.size()));
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
