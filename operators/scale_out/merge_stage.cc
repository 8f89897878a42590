#include "operators/scale_out/merge_stage.h"

#include <algorithm>

#include "base/codec.h"
#include "base/strings.h"

namespace vigil {

void MergeStage::set_flow(Dataflow* flow) {
  flow_ = flow;
  ops_.clear();
  legacy_ops_.clear();
  metric_index_.clear();
  for (const auto& op : flow->metric_ops()) {
    for (const MetricRef& m : op->members()) metric_index_[m.def->name] = m.index;
    ops_[PartialOperatorKey(op->shape_key())] = op.get();
    legacy_ops_[PartialOperatorKey(op->state_key())] = op.get();
    for (const std::string& older : op->older_state_keys()) {
      legacy_ops_.try_emplace(PartialOperatorKey(older), op.get());
    }
  }
}

MetricOperator* MergeStage::OperatorOf() {
  const auto& ops = panes_.legacy ? legacy_ops_ : ops_;
  auto it = ops.find(panes_.op);
  if (it == ops.end()) return nullptr;
  MetricOperator* op = it->second;
  const std::vector<uint64_t>& own = op->accumulator_hashes();
  absent_.assign(own.size(), true);
  from_.clear();
  if (panes_.legacy) {
    for (size_t j = 0; j < own.size(); ++j) from_.push_back(static_cast<int>(j));
    absent_.assign(own.size(), false);
    return op;
  }
  for (uint64_t h : panes_.accumulators) {
    auto j = std::find(own.begin(), own.end(), h);
    from_.push_back(j == own.end() ? -1 : static_cast<int>(j - own.begin()));
    if (j != own.end()) absent_[j - own.begin()] = false;
  }
  return op;
}

bool MergeStage::DecodePane(const MetricOperator& op, std::string_view bytes) {
  const AccSet& prototype = op.store().prototype();
  Decoder dec(bytes);
  if (panes_.legacy) return DecodeAccSet(&dec, prototype, &acc_) && dec.done();
  acc_ = prototype;
  for (int j : from_) {
    Accumulator* into = j < 0 ? &skipped_ : &acc_[j];
    if (!Accumulator::Decode(&dec, into)) return false;
    if (j >= 0 && into->kind() != prototype[j].kind()) return false;
  }
  return dec.done();
}

const char* MergeStage::OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kPanes:
      return "panes";
    case Outcome::kIncomplete:
      return "incomplete";
    case Outcome::kHeartbeat:
      return "heartbeat";
    case Outcome::kLate:
      return "late";
    case Outcome::kUnknownMetric:
      return "unknown_metric";
    case Outcome::kMalformed:
      return "malformed";
    case Outcome::kDuplicate:
      return "duplicate";
    case Outcome::kState:
      return "state";
    case Outcome::kHeld:
      return "held";
    case Outcome::kAborted:
      return "aborted";
  }
  return "?";
}

MergeStage::Outcome MergeStage::Apply(std::string_view message, const std::string& part) {
  settled_.clear();
  incomplete_.clear();
  switch (PeekPartial(message)) {
    case PartialKind::kPanes:
      return ApplyPanes(message, part);
    case PartialKind::kHeartbeat:
      return ApplyHeartbeat(message, part);
    case PartialKind::kState:
      if (!DecodeStateChunk(message, &piece_)) return Outcome::kMalformed;
      pieces_.Add(std::move(piece_));
      return Outcome::kState;
    case PartialKind::kUnknown:
      break;
  }
  return Outcome::kMalformed;
}

MergeStage::Outcome MergeStage::ApplyPanes(std::string_view message, const std::string& part) {
  if (!DecodePanes(message, &panes_)) return Outcome::kMalformed;
  if (panes_.epoch > 0) {
    auto p = parts_.find(part);
    if (p != parts_.end()) {
      auto e = p->second.epochs.find(std::string(panes_.instance));
      if (e != p->second.epochs.end() && e->second >= panes_.epoch) return Outcome::kDuplicate;
    }
  }
  if (panes_.publication == 0) return MergePanes(LateBefore(parts_[part]));
  const MetricOperator* op = OperatorOf();
  if (op == nullptr) return Outcome::kUnknownMetric;
  // Refused now, while the record can still be dead-lettered.
  for (const auto& [start, bytes] : panes_.panes) {
    if (!DecodePane(*op, bytes)) return Outcome::kMalformed;
  }
  Part& p = parts_[part];
  const std::string instance(panes_.instance);
  Held& held = p.held[instance];
  if (held.publication != panes_.publication) {
    // The instance's publication before this one never got its heartbeat
    // here: it was aborted.
    settled_.insert(settled_.end(), held.messages.size(), Outcome::kAborted);
    held.messages.clear();
    held.publication = panes_.publication;
  }
  held.messages.emplace_back(message);
  return Outcome::kHeld;
}

TimeMs MergeStage::LateBefore(const Part& p) const {
  if (p.floor == kMinTime || p.floor == kMaxTime) return p.floor;
  return p.floor - allowed_lateness_;
}

MergeStage::Outcome MergeStage::MergePanes(TimeMs late_before) {
  MetricOperator* op = OperatorOf();
  if (op == nullptr) return Outcome::kUnknownMetric;
  PaneStore& store = op->store();
  lacking_.clear();
  op->MembersReading(absent_, &lacking_);
  bool late = false;
  for (const auto& [start, bytes] : panes_.panes) {
    if (!DecodePane(*op, bytes)) return Outcome::kMalformed;
    if (store.FiredBy(start, late_before) || !store.MergePane(panes_.group, start, acc_)) {
      late = true;
      ++late_panes_;
      continue;
    }
    for (int m : lacking_) {
      auto [it, added] = incomplete_.emplace(m, start);
      if (!added) it->second = std::max(it->second, start);
    }
  }
  if (late) return Outcome::kLate;
  return lacking_.empty() ? Outcome::kPanes : Outcome::kIncomplete;
}

void MergeStage::Settle(Part& p, const std::string& instance, uint64_t publication) {
  auto it = p.held.find(instance);
  if (it == p.held.end()) return;
  const bool complete = publication != 0 && it->second.publication == publication;
  const TimeMs late_before = LateBefore(p);
  for (const std::string& message : it->second.messages) {
    if (!complete) {
      settled_.push_back(Outcome::kAborted);
    } else if (!DecodePanes(message, &panes_)) {
      settled_.push_back(Outcome::kMalformed);  // decoded when it came: not reached
    } else {
      settled_.push_back(MergePanes(late_before));
    }
  }
  p.held.erase(it);
}

MergeStage::Outcome MergeStage::ApplyHeartbeat(std::string_view message, const std::string& part) {
  if (!DecodeHeartbeat(message, &heartbeat_)) return Outcome::kMalformed;
  Part& p = parts_[part];
  if (heartbeat_.epoch > 0) {
    uint64_t& last = p.epochs[heartbeat_.instance];
    // A repeated publication's heartbeat: already counted, and so are the
    // panes before it (kDuplicate when they came).
    if (last >= heartbeat_.epoch) {
      Settle(p, heartbeat_.instance, 0);
      return Outcome::kDuplicate;
    }
    last = heartbeat_.epoch;
  }
  Settle(p, heartbeat_.instance, heartbeat_.publication);
  // Metrics that started over on the instance: the windows it published
  // before then lack its earlier events, as after a reload of one job.
  for (const auto& [metric, at] : heartbeat_.started_over) {
    auto m = metric_index_.find(metric);
    if (m == metric_index_.end()) continue;
    auto [it, added] = incomplete_.emplace(m->second, at);
    if (!added) it->second = std::max(it->second, at);
  }
  for (const std::string& input : heartbeat_.all_inputs) {
    if (!p.ended.contains(input)) p.expected.insert(input);
  }
  // State travels on every partition; the heartbeats on each say, in its
  // order, which state is the newest of each event partition and which was
  // taken over. Read to their ends, the partitions agree.
  for (const PartialHeartbeat::Input& in : heartbeat_.inputs) {
    if (in.state_chunks > 0) {
      p.unclaimed[in.name] = {heartbeat_.instance, heartbeat_.handover_id, in.state_chunks};
      named_.emplace(in.name, heartbeat_.instance, heartbeat_.handover_id);
    } else if (p.unclaimed.erase(in.name) == 0) {
      continue;
    }
    ForgetPassedPieces(in.name);
  }
  last_ts_ = std::max(last_ts_, heartbeat_.last_ts);
  for (const PartialHeartbeat::Input& in : heartbeat_.inputs) {
    if (p.ended.contains(in.name)) continue;
    Input& state = p.inputs[in.name];
    state.watermark = std::max(state.watermark, in.watermark);
    state.idle = in.idle;
    state.owner = heartbeat_.instance;
  }
  ForgetEnded(p);
  if (heartbeat_.leaving) {
    p.instances.erase(heartbeat_.instance);
  } else {
    p.instances[heartbeat_.instance] = heartbeat_.watermark;
  }
  p.floor = std::max(p.floor, PartWatermark(p));
  return Outcome::kHeartbeat;
}

void MergeStage::ForgetEnded(Part& p) {
  if (heartbeat_.all_inputs.empty()) return;
  const std::set<std::string> listed(heartbeat_.all_inputs.begin(), heartbeat_.all_inputs.end());
  std::set<std::string> reported;
  for (const PartialHeartbeat::Input& in : heartbeat_.inputs) reported.insert(in.name);
  for (auto it = p.inputs.begin(); it != p.inputs.end();) {
    const bool ended = it->second.owner == heartbeat_.instance && !reported.contains(it->first) &&
                       !listed.contains(it->first);
    if (!ended) {
      ++it;
      continue;
    }
    p.expected.erase(it->first);
    p.ended.insert(it->first);
    it = p.inputs.erase(it);
  }
}

size_t MergeStage::held_messages() const {
  size_t n = 0;
  for (const auto& [name, p] : parts_) {
    for (const auto& [instance, held] : p.held) n += held.messages.size();
  }
  return n;
}

void MergeStage::ForgetPassedPieces(const std::string& input) {
  auto wanted = [&](const std::string& instance, uint64_t id) {
    for (const auto& [name, p] : parts_) {
      auto it = p.unclaimed.find(input);
      if (it != p.unclaimed.end() && it->second.instance == instance && it->second.id == id) {
        return true;
      }
    }
    return false;
  };
  // Pieces no heartbeat has named yet are on their way to theirs.
  pieces_.Forget(input, [&](const std::string& instance, uint64_t id) {
    if (wanted(instance, id)) return false;
    return named_.erase({input, instance, id}) > 0;
  });
}

std::map<std::string, std::string> MergeStage::TakeUnclaimedState(
    const std::vector<std::string>& parts, std::vector<std::string>* missing) {
  std::map<std::string, Unclaimed> unclaimed;
  for (const std::string& name : parts) {
    auto it = parts_.find(name);
    if (it == parts_.end()) continue;
    for (const auto& [input, u] : it->second.unclaimed) unclaimed.emplace(input, u);
  }
  std::map<std::string, std::string> out;
  for (const auto& [input, u] : unclaimed) {
    std::optional<std::string> state = pieces_.Take(u.instance, u.id, input, u.chunks);
    if (state) {
      out[input] = std::move(*state);
    } else if (missing != nullptr) {
      missing->push_back(input);
    }
  }
  for (auto& [name, p] : parts_) p.unclaimed.clear();
  pieces_.Clear();
  named_.clear();
  return out;
}

TimeMs MergeStage::PartWatermark(const Part& p) {
  // No event partition reported yet (the instances have no assignment):
  // nothing is known to be complete.
  if (p.inputs.empty()) return kMinTime;
  // A partition of the topic no instance has reported yet (its owner
  // has not published, or it has no owner yet) holds everything back.
  for (const std::string& input : p.expected) {
    if (!p.inputs.contains(input)) return kMinTime;
  }
  TimeMs wm = kMaxTime;
  bool any_active = false;
  for (const auto& [input, state] : p.inputs) {
    if (state.idle) continue;
    any_active = true;
    wm = std::min(wm, state.watermark);
  }
  if (any_active) return wm;
  wm = kMinTime;
  for (const auto& [instance, w] : p.instances) wm = std::max(wm, w);
  // Every instance has left and every partition is idle: nothing more
  // is coming until one reports again.
  if (p.instances.empty()) {
    for (const auto& [input, state] : p.inputs) wm = std::max(wm, state.watermark);
  }
  return wm;
}

TimeMs MergeStage::Watermark(const std::vector<std::string>& parts) const {
  if (parts.empty()) return kMinTime;
  TimeMs lowest = kMaxTime;
  for (const std::string& name : parts) {
    auto it = parts_.find(name);
    if (it == parts_.end()) return kMinTime;
    const TimeMs wm = PartWatermark(it->second);
    // Held back, or behind what the partition has had: an input woke up
    // behind it (its panes for windows by the floor are late).
    if (wm == kMinTime) return kMinTime;
    lowest = std::min(lowest, std::max(wm, it->second.floor));
  }
  return lowest;
}

std::string MergeStage::Holder(const std::vector<std::string>& parts) const {
  TimeMs lowest = kMaxTime;
  std::string holder;
  for (const std::string& name : parts) {
    auto it = parts_.find(name);
    if (it == parts_.end() || it->second.inputs.empty()) return name + " (no heartbeat yet)";
    const Part& p = it->second;
    for (const std::string& input : p.expected) {
      if (!p.inputs.contains(input)) return input + " (no instance has reported it)";
    }
    for (const auto& [input, state] : p.inputs) {
      // An input that woke up behind the partition's watermark holds nothing.
      if (state.idle || state.watermark >= lowest || state.watermark < p.floor) continue;
      lowest = state.watermark;
      holder = StrCat(input, " (instance ", state.owner, ")");
    }
  }
  return holder;
}

bool MergeStage::AllLeft(const std::vector<std::string>& parts) const {
  for (const std::string& name : parts) {
    auto it = parts_.find(name);
    if (it == parts_.end() || it->second.inputs.empty()) return false;
    for (const auto& [input, state] : it->second.inputs) {
      if (it->second.instances.contains(state.owner)) return false;
    }
  }
  return !parts.empty();
}

std::vector<std::string> MergeStage::Instances() const {
  std::vector<std::string> out;
  for (const auto& [name, p] : parts_) {
    for (const auto& [instance, wm] : p.instances) out.push_back(instance);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string MergeStage::Encode() const {
  Encoder enc;
  enc.PutVarint(parts_.size());
  for (const auto& [name, p] : parts_) {
    enc.PutString(name);
    enc.PutVarint(p.inputs.size());
    for (const auto& [input, state] : p.inputs) {
      enc.PutString(input);
      enc.PutSigned(state.watermark);
      enc.PutByte(state.idle ? 1 : 0);
      enc.PutString(state.owner);
    }
    enc.PutVarint(p.instances.size());
    for (const auto& [instance, wm] : p.instances) {
      enc.PutString(instance);
      enc.PutSigned(wm);
    }
    enc.PutVarint(p.epochs.size());
    for (const auto& [instance, epoch] : p.epochs) {
      enc.PutString(instance);
      enc.PutVarint(epoch);
    }
  }
  enc.PutVarint(late_panes_);
  // The partition sets last: checkpoints written before they existed
  // still decode.
  enc.PutByte(1);
  for (const auto& [name, p] : parts_) {
    enc.PutVarint(p.expected.size());
    for (const std::string& input : p.expected) enc.PutString(input);
  }
  // The instances' latest event time after them (absent in older
  // checkpoints).
  enc.PutSigned(last_ts_);
  // Then the panes waiting for their heartbeat (absent in older ones).
  for (const auto& [name, p] : parts_) {
    enc.PutVarint(p.held.size());
    for (const auto& [instance, held] : p.held) {
      enc.PutString(instance);
      enc.PutVarint(held.publication);
      enc.PutVarint(held.messages.size());
      for (const std::string& m : held.messages) enc.PutString(m);
    }
  }
  // Then the inputs that ended (absent in older ones).
  for (const auto& [name, p] : parts_) {
    enc.PutVarint(p.ended.size());
    for (const std::string& input : p.ended) enc.PutString(input);
  }
  // Then the state handed over that no instance has taken (absent in older
  // ones): a merge restored at the end of a bounded run closes it. What
  // every partition says of it, when they agree (as read to their ends),
  // and the pieces.
  const std::map<std::string, Unclaimed>* agreed =
      parts_.empty() ? nullptr : &parts_.begin()->second.unclaimed;
  for (const auto& [name, p] : parts_) {
    if (!SameUnclaimed(p.unclaimed, *agreed)) agreed = nullptr;
  }
  EncodeUnclaimed(agreed ? *agreed : std::map<std::string, Unclaimed>{}, &enc);
  pieces_.Encode(&enc);
  // Then each partition's floor (absent in older ones).
  for (const auto& [name, p] : parts_) enc.PutSigned(p.floor);
  // Then, when they differ (a partition read less far than another), what
  // each says (absent in older ones, and in checkpoints a version before
  // this one reads).
  if (agreed == nullptr) {
    for (const auto& [name, p] : parts_) EncodeUnclaimed(p.unclaimed, &enc);
  }
  return enc.Release();
}

void MergeStage::EncodeUnclaimed(const std::map<std::string, Unclaimed>& unclaimed, Encoder* enc) {
  enc->PutVarint(unclaimed.size());
  for (const auto& [input, u] : unclaimed) {
    enc->PutString(input);
    enc->PutString(u.instance);
    enc->PutVarint(u.id);
    enc->PutVarint(u.chunks);
  }
}

bool MergeStage::SameUnclaimed(const std::map<std::string, Unclaimed>& a,
                               const std::map<std::string, Unclaimed>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](const auto& x, const auto& y) {
    return x.first == y.first && x.second.instance == y.second.instance &&
           x.second.id == y.second.id && x.second.chunks == y.second.chunks;
  });
}

void MergeStage::DecodeUnclaimed(Decoder* dec, std::map<std::string, Unclaimed>* out) {
  for (uint64_t u = dec->GetVarint(), j = 0; j < u && dec->ok(); ++j) {
    Unclaimed& c = (*out)[std::string(dec->GetString())];
    c.instance = std::string(dec->GetString());
    c.id = dec->GetVarint();
    c.chunks = static_cast<uint32_t>(dec->GetVarint());
  }
}

bool MergeStage::Decode(std::string_view data) {
  Decoder dec(data);
  std::map<std::string, Part> parts;
  const uint64_t n = dec.GetVarint();
  for (uint64_t i = 0; i < n && dec.ok(); ++i) {
    Part& p = parts[std::string(dec.GetString())];
    const uint64_t inputs = dec.GetVarint();
    for (uint64_t j = 0; j < inputs && dec.ok(); ++j) {
      Input& in = p.inputs[std::string(dec.GetString())];
      in.watermark = dec.GetSigned();
      in.idle = dec.GetByte() != 0;
      in.owner = std::string(dec.GetString());
    }
    const uint64_t instances = dec.GetVarint();
    for (uint64_t j = 0; j < instances && dec.ok(); ++j) {
      std::string name(dec.GetString());
      p.instances[name] = dec.GetSigned();
    }
    const uint64_t epochs = dec.GetVarint();
    for (uint64_t j = 0; j < epochs && dec.ok(); ++j) {
      std::string name(dec.GetString());
      p.epochs[name] = dec.GetVarint();
    }
  }
  const uint64_t late = dec.GetVarint();
  if (dec.ok() && !dec.done() && dec.GetByte() == 1) {
    for (auto& [name, p] : parts) {
      const uint64_t expected = dec.GetVarint();
      for (uint64_t j = 0; j < expected && dec.ok(); ++j) p.expected.emplace(dec.GetString());
    }
  }
  TimeMs last = kMinTime;
  if (dec.ok() && !dec.done()) last = dec.GetSigned();
  if (dec.ok() && !dec.done()) {
    for (auto& [name, p] : parts) {
      const uint64_t held = dec.GetVarint();
      for (uint64_t j = 0; j < held && dec.ok(); ++j) {
        Held& h = p.held[std::string(dec.GetString())];
        h.publication = dec.GetVarint();
        const uint64_t messages = dec.GetVarint();
        for (uint64_t k = 0; k < messages && dec.ok(); ++k)
          h.messages.emplace_back(dec.GetString());
      }
    }
  }
  if (dec.ok() && !dec.done()) {
    for (auto& [name, p] : parts) {
      const uint64_t ended = dec.GetVarint();
      for (uint64_t j = 0; j < ended && dec.ok(); ++j) p.ended.emplace(dec.GetString());
    }
  }
  std::map<std::string, Unclaimed> agreed;
  StateAssembler pieces;
  if (dec.ok() && !dec.done()) {
    DecodeUnclaimed(&dec, &agreed);
    if (!pieces.Decode(&dec)) return false;
  }
  if (dec.ok() && !dec.done()) {
    for (auto& [name, p] : parts) p.floor = dec.GetSigned();
  }
  if (dec.ok() && !dec.done()) {
    for (auto& [name, p] : parts) DecodeUnclaimed(&dec, &p.unclaimed);
  } else {
    // Every partition says the same (older checkpoints: what partition 0
    // said, where the state travelled then).
    for (auto& [name, p] : parts) p.unclaimed = agreed;
  }
  if (!dec.ok() || !dec.done()) return false;
  parts_ = std::move(parts);
  pieces_ = std::move(pieces);
  named_.clear();
  for (const auto& [name, p] : parts_) {
    for (const auto& [input, u] : p.unclaimed) named_.emplace(input, u.instance, u.id);
  }
  late_panes_ = late;
  last_ts_ = last;
  return true;
}

}  // namespace vigil
