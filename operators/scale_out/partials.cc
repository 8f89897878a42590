#include "operators/scale_out/partials.h"

#include <algorithm>

#include "base/clock.h"
#include "base/codec.h"
#include "base/hash.h"
#include "base/strings.h"
#include "operators/scale_out/partial_state.h"

namespace vigil {
namespace {

constexpr char kPanesMagic[] = "VPP2";
constexpr char kLegacyPanesMagic[] = "VPP1";
constexpr char kHeartbeatMagic[] = "VPH1";
constexpr std::chrono::milliseconds kTimeout{30000};

}  // namespace

uint64_t PartialOperatorKey(std::string_view key) { return HashBytes(key); }

PartialKind PeekPartial(std::string_view message) {
  const std::string_view magic = message.substr(0, 4);
  if (magic == kPanesMagic || magic == kLegacyPanesMagic) return PartialKind::kPanes;
  if (magic == kHeartbeatMagic) return PartialKind::kHeartbeat;
  if (magic == kPartialStateMagic) return PartialKind::kState;
  return PartialKind::kUnknown;
}

std::string EncodeHeartbeat(const PartialHeartbeat& hb) {
  Encoder enc;
  enc.PutString(hb.instance);
  enc.PutVarint(hb.epoch);
  enc.PutSigned(hb.watermark);
  enc.PutByte(hb.leaving ? 1 : 0);
  enc.PutVarint(hb.inputs.size());
  for (const PartialHeartbeat::Input& in : hb.inputs) {
    enc.PutString(in.name);
    enc.PutSigned(in.watermark);
    enc.PutByte(in.idle ? 1 : 0);
  }
  enc.PutVarint(hb.all_inputs.size());
  for (const std::string& name : hb.all_inputs) enc.PutString(name);
  for (const PartialHeartbeat::Input& in : hb.inputs) enc.PutSigned(in.next_offset);
  enc.PutSigned(hb.last_ts);
  enc.PutVarint(hb.handover_id);
  for (const PartialHeartbeat::Input& in : hb.inputs) enc.PutVarint(in.state_chunks);
  enc.PutVarint(hb.publication);
  // Only when there are some: a merge of an older version reads every
  // other heartbeat of a rolling upgrade.
  if (!hb.started_over.empty()) enc.PutVarint(hb.started_over.size());
  for (const auto& [metric, at] : hb.started_over) {
    enc.PutString(metric);
    enc.PutSigned(at);
  }
  return std::string(kHeartbeatMagic) + enc.data();
}

bool DecodeHeartbeat(std::string_view message, PartialHeartbeat* out) {
  if (PeekPartial(message) != PartialKind::kHeartbeat) return false;
  Decoder dec(message.substr(4));
  out->instance = std::string(dec.GetString());
  out->epoch = dec.GetVarint();
  out->watermark = dec.GetSigned();
  out->leaving = dec.GetByte() != 0;
  out->inputs.clear();
  const uint64_t n = dec.GetVarint();
  for (uint64_t i = 0; i < n && dec.ok(); ++i) {
    PartialHeartbeat::Input in;
    in.name = std::string(dec.GetString());
    in.watermark = dec.GetSigned();
    in.idle = dec.GetByte() != 0;
    out->inputs.push_back(std::move(in));
  }
  out->all_inputs.clear();
  if (dec.ok() && !dec.done()) {
    const uint64_t all = dec.GetVarint();
    for (uint64_t i = 0; i < all && dec.ok(); ++i) out->all_inputs.emplace_back(dec.GetString());
  }
  if (dec.ok() && !dec.done()) {
    for (PartialHeartbeat::Input& in : out->inputs) in.next_offset = dec.GetSigned();
  }
  out->last_ts = kMinTime;
  if (dec.ok() && !dec.done()) out->last_ts = dec.GetSigned();
  out->handover_id = 0;
  if (dec.ok() && !dec.done()) {
    out->handover_id = dec.GetVarint();
    for (PartialHeartbeat::Input& in : out->inputs) {
      const uint64_t chunks = dec.GetVarint();
      in.state_chunks = chunks > UINT32_MAX ? 0 : static_cast<uint32_t>(chunks);
    }
  }
  out->publication = 0;
  if (dec.ok() && !dec.done()) out->publication = dec.GetVarint();
  out->started_over.clear();
  if (dec.ok() && !dec.done()) {
    const uint64_t s = dec.GetVarint();
    for (uint64_t i = 0; i < s && dec.ok(); ++i) {
      std::string metric(dec.GetString());
      out->started_over.emplace_back(std::move(metric), dec.GetSigned());
    }
  }
  return dec.ok() && dec.done() && !out->instance.empty();
}

namespace {

std::string EncodePanesAs(const char* magic, uint64_t op, std::string_view group,
                          std::string_view instance, uint64_t epoch,
                          const std::vector<uint64_t>* accumulators,
                          const std::vector<std::pair<TimeMs, const AccSet*>>& panes) {
  Encoder enc;
  enc.PutVarint(op);
  enc.PutString(group);
  enc.PutString(instance);
  enc.PutVarint(epoch);
  if (accumulators != nullptr) {
    enc.PutVarint(accumulators->size());
    for (uint64_t h : *accumulators) enc.PutVarint(h);
  }
  enc.PutVarint(panes.size());
  Encoder acc;
  for (const auto& [start, set] : panes) {
    enc.PutSigned(start);
    acc = Encoder();
    EncodeAccSet(*set, &acc);
    enc.PutString(acc.data());
  }
  return std::string(magic) + enc.data();
}

}  // namespace

std::string EncodePanes(uint64_t op, std::string_view group, std::string_view instance,
                        uint64_t epoch, const std::vector<uint64_t>& accumulators,
                        const std::vector<std::pair<TimeMs, const AccSet*>>& panes) {
  return EncodePanesAs(kPanesMagic, op, group, instance, epoch, &accumulators, panes);
}

std::string EncodeLegacyPanes(uint64_t op, std::string_view group, std::string_view instance,
                              uint64_t epoch,
                              const std::vector<std::pair<TimeMs, const AccSet*>>& panes) {
  return EncodePanesAs(kLegacyPanesMagic, op, group, instance, epoch, nullptr, panes);
}

bool DecodePanes(std::string_view message, PartialPanes* out) {
  if (PeekPartial(message) != PartialKind::kPanes) return false;
  out->legacy = message.substr(0, 4) == kLegacyPanesMagic;
  Decoder dec(message.substr(4));
  out->op = dec.GetVarint();
  out->group = dec.GetString();
  out->instance = dec.GetString();
  out->epoch = dec.GetVarint();
  out->accumulators.clear();
  if (!out->legacy) {
    const uint64_t k = dec.GetVarint();
    for (uint64_t i = 0; i < k && dec.ok(); ++i) out->accumulators.push_back(dec.GetVarint());
  }
  out->panes.clear();
  const uint64_t n = dec.GetVarint();
  for (uint64_t i = 0; i < n && dec.ok(); ++i) {
    const TimeMs start = dec.GetSigned();
    out->panes.emplace_back(start, dec.GetString());
  }
  out->publication = 0;
  if (dec.ok() && !dec.done()) out->publication = dec.GetVarint();
  return dec.ok() && dec.done() && n > 0;
}

std::string WithPublication(std::string_view panes_message, uint64_t publication) {
  Encoder enc;
  enc.PutVarint(publication);
  std::string out;
  out.reserve(panes_message.size() + enc.data().size());
  out.append(panes_message);
  out.append(enc.data());
  return out;
}

void PanesKey(const MetricOperator& op, std::string_view group, std::string* key) {
  // An experiment reads every group (arm and unit) of its inputs at once:
  // their messages share one key, and so one partials partition and one
  // merge instance, however many there are.
  if (std::any_of(op.members().begin(), op.members().end(),
                  [](const MetricRef& m) { return m.def->internal(); })) {
    key->assign(kExperimentInputsKey);
    return;
  }
  const uint64_t op_key = PartialOperatorKey(op.shape_key());
  key->assign(reinterpret_cast<const char*>(&op_key), sizeof op_key);
  key->append(group);
}

void DrainPanes(Dataflow* flow, std::string_view instance, uint64_t epoch,
                const std::function<void(std::string_view, std::string_view)>& emit) {
  constexpr size_t kMaxPanes = 64;  // per message
  std::string key, value, current_group;
  std::vector<std::pair<TimeMs, const AccSet*>> panes;
  std::vector<AccSet> held;  // the drained panes of the current group
  held.reserve(kMaxPanes);
  for (const auto& op : flow->metric_ops()) {
    const uint64_t op_key = PartialOperatorKey(op->shape_key());
    auto flush = [&] {
      if (panes.empty()) return;
      PanesKey(*op, current_group, &key);
      value = EncodePanes(op_key, current_group, instance, epoch, op->accumulator_hashes(), panes);
      emit(key, value);
      panes.clear();
      held.clear();
    };
    // Drain hands over panes group by group: a group's panes are copied
    // until the group changes (or the message is full), then sent.
    op->store().Drain([&](std::string_view g, TimeMs start, const AccSet& acc) {
      if (g != current_group || held.size() == kMaxPanes) {
        flush();
        current_group.assign(g);
      }
      held.push_back(acc);
      panes.emplace_back(start, &held.back());
    });
    flush();
    current_group.clear();
  }
}

int32_t PanesPartition(std::string_view key, int32_t partitions) {
  if (partitions <= 1) return 0;
  // librdkafka's default partitioner for keyed messages, which published
  // panes before they named their partition: the groups stay where they were.
  return rd_kafka_msg_partitioner_consistent(nullptr, key.data(), key.size(), partitions, nullptr,
                                             nullptr);
}

absl::StatusOr<std::unique_ptr<PartialsPublisher>> PartialsPublisher::Open(
    const KafkaUrl& url, const KafkaProperties& properties, const std::string& instance) {
  if (instance.empty()) return absl::InvalidArgumentError("--partials needs an instance id");
  absl::StatusOr<std::unique_ptr<KafkaWriter>> w =
      KafkaWriter::Create(url.brokers, properties, "vigil-partials-" + instance);
  if (!w.ok()) return w.status();
  std::unique_ptr<PartialsPublisher> p(new PartialsPublisher());
  absl::StatusOr<int> n = (*w)->PartitionCount(url.topic, kTimeout);
  if (!n.ok()) {
    return absl::FailedPreconditionError(
        StrCat("the partials topic: ", std::string(n.status().message()), " (create it first)"));
  }
  p->partitions_ = *n;
  p->writer_ = std::move(*w);
  p->topic_ = url.topic;
  p->instance_ = instance;
  return p;
}

absl::Status PartialsPublisher::Publish(Dataflow* flow, const PartialHeartbeat& heartbeat,
                                        const rd_kafka_topic_partition_list_t* offsets,
                                        const rd_kafka_consumer_group_metadata_t* group) {
  PartialMessages messages;
  DrainPanes(flow, instance_, heartbeat.epoch, [&](std::string_view key, std::string_view value) {
    messages.emplace_back(key, value);
  });
  return PublishMessages(messages, heartbeat, offsets, group);
}

absl::Status PartialsPublisher::PublishMessages(const PartialMessages& messages,
                                                const PartialHeartbeat& heartbeat,
                                                const rd_kafka_topic_partition_list_t* offsets,
                                                const rd_kafka_consumer_group_metadata_t* group) {
  if (absl::Status s = writer_->BeginTransaction(); !s.ok()) return s;
  PartialHeartbeat named = heartbeat;
  do {
    named.publication = rng_();
  } while (named.publication == 0);
  absl::Status status;
  for (const auto& [key, value] : messages) {
    if (!status.ok()) break;
    status = writer_->Produce(topic_, key, WithPublication(value, named.publication), 0,
                              PanesPartition(key, partitions_));
    ++messages_;
  }
  // The keyed state handed over, on every partition before the heartbeat
  // that names its pieces: each merge instance closes its own groups' part
  // of what no instance takes over.
  if (!handover_.empty()) {
    named.handover_id = (static_cast<uint64_t>(WallClockMs()) << 16) ^ ++next_handover_id_;
    for (PartialHeartbeat::Input& in : named.inputs) {
      auto it = handover_.find(in.name);
      if (it == handover_.end()) continue;
      const std::vector<std::string> pieces =
          EncodeStateChunks(instance_, named.handover_id, in.name, it->second);
      in.state_chunks = static_cast<uint32_t>(pieces.size());
      for (int p = 0; p < partitions_; ++p) {
        for (const std::string& piece : pieces) {
          if (!status.ok()) break;
          status = writer_->Produce(topic_, heartbeat.instance, piece, 0, p);
          ++messages_;
        }
      }
    }
    handover_.clear();
  }
  const std::string hb = EncodeHeartbeat(named);
  for (int p = 0; p < partitions_ && status.ok(); ++p) {
    status = writer_->Produce(topic_, heartbeat.instance, hb, 0, p);
    ++messages_;
  }
  if (status.ok() && offsets != nullptr && group != nullptr) {
    status = writer_->SendOffsets(offsets, group, kTimeout);
  }
  if (!status.ok()) {
    (void)writer_->AbortTransaction(kTimeout);
    return status;
  }
  if (absl::Status s = writer_->CommitTransaction(kTimeout); !s.ok()) return s;
  ++publications_;
  return absl::OkStatus();
}

}  // namespace vigil
