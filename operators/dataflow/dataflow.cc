#include "operators/dataflow/dataflow.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <map>
#include <string_view>

#include "base/codec.h"
#include "base/strings.h"
#include "base/time.h"

namespace vigil {
namespace {

// By window end, metric, group: Dataflow::Close's order.
bool ResultBefore(const WindowResult& a, const WindowResult& b) {
  if (a.end != b.end) return a.end < b.end;
  if (a.metric != b.metric) return a.metric < b.metric;
  return a.group < b.group;
}

void SortResults(std::vector<WindowResult>* out, size_t first) {
  std::sort(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(), ResultBefore);
}

// What a metric operator's panes aggregate, as a checkpoint keeps it.
struct SavedShape {
  std::string state_key;
  std::string shape_key;
  std::vector<uint64_t> hashes;
  AccSet prototype;
};

std::string EncodeShapes(const std::vector<std::unique_ptr<MetricOperator>>& ops) {
  Encoder enc;
  enc.PutVarint(ops.size());
  for (const auto& op : ops) {
    enc.PutString(op->state_key());
    enc.PutString(op->shape_key());
    const AccSet& prototype = op->store().prototype();
    enc.PutVarint(prototype.size());
    for (size_t i = 0; i < prototype.size(); ++i) {
      enc.PutVarint(op->accumulator_hashes()[i]);
      enc.PutByte(static_cast<uint8_t>(prototype[i].kind()));
      enc.PutDouble(prototype[i].quantile());
    }
  }
  return enc.Release();
}

// False when unreadable: then no state is taken over this way.
bool DecodeShapes(std::string_view bytes, std::vector<SavedShape>* out) {
  Decoder dec(bytes);
  const uint64_t n = dec.GetVarint();
  for (uint64_t i = 0; i < n && dec.ok(); ++i) {
    SavedShape shape;
    shape.state_key = std::string(dec.GetString());
    shape.shape_key = std::string(dec.GetString());
    const uint64_t k = dec.GetVarint();
    for (uint64_t j = 0; j < k && dec.ok(); ++j) {
      shape.hashes.push_back(dec.GetVarint());
      const uint8_t kind = dec.GetByte();
      const double q = dec.GetDouble();
      if (kind > static_cast<uint8_t>(AggKind::kQuantile)) return false;
      shape.prototype.emplace_back(static_cast<AggKind>(kind), q);
    }
    out->push_back(std::move(shape));
  }
  return dec.ok() && dec.done();
}

}  // namespace

namespace {
std::atomic<size_t> g_default_max_series{OperatorLimits::kDefaultMaxSeries};
}  // namespace

void SetDefaultOperatorLimits(const OperatorLimits& limits) {
  g_default_max_series.store(limits.max_series);
}

OperatorLimits DefaultOperatorLimits() {
  OperatorLimits limits;
  limits.max_series = g_default_max_series.load();
  return limits;
}

Dataflow::Dataflow(const RuleSet& rules, const OperatorLimits& limits) : limits_(limits) {
  auto add = [this](Source* src, std::vector<std::unique_ptr<MetricOperator>> ops) {
    for (auto& op : ops) {
      src->ops.push_back(op.get());
      metric_ops_.push_back(std::move(op));
    }
  };
  add(&events_, BuildMetricOperators(rules, events_.filters.get()));
  streams_.reserve(rules.streams.size());
  for (size_t s = 0; s < rules.streams.size(); ++s) {
    Stream stream;
    stream.op = MakeKeyedOperator(rules.streams[s]);
    add(&stream.downstream,
        BuildMetricOperators(rules, stream.downstream.filters.get(), static_cast<int>(s)));
    streams_.push_back(std::move(stream));
  }
  events_.Seal();
  for (Stream& stream : streams_) {
    stream.downstream.Seal();
    Source* d = &stream.downstream;  // streams_ no longer grows
    stream.op->SetDownstream([this, d](const Event& record) { AddRecord(*d, record); });
  }
  KeyApartByStream();
  for (auto& op : metric_ops_) {
    op->SetSeriesBudget(this);
    op->SetFrontierSource(&frontier_);
  }
  for (size_t o = 0; o < rules.outputs.size(); ++o) {
    const OutputDef& def = rules.outputs[o];
    Source& src = def.from < 0 ? events_ : streams_[static_cast<size_t>(def.from)].downstream;
    src.taps.emplace_back(static_cast<uint32_t>(o), &def);
  }
  for (const ExperimentDef& e : rules.experiments) {
    experiments_.push_back(std::make_unique<ExperimentOperator>(rules, e));
  }
  ConfigureEmits();
}

namespace {

// Marks in `read` (by slot) the record slots metric `m` reads.
void MarkSlotsRead(const MetricDef& m, std::vector<bool>* read) {
  auto mark = [read](uint32_t slot) {
    if (slot < read->size()) (*read)[slot] = true;
  };
  if (m.has_where) m.where.ForEachSlot(mark);
  for (int slot : m.by_slots) mark(static_cast<uint32_t>(slot));
  for (const AggregateCall& a : m.aggregates) {
    if (a.has_arg) a.arg.ForEachSlot(mark);
  }
}

}  // namespace

void Dataflow::ConfigureEmits() {
  for (Stream& s : streams_) {
    const StreamDef& def = s.op->def();
    const auto slots = static_cast<size_t>(def.fields.size());
    std::vector<bool> by_metrics(slots, false), by_filters(slots, false), by_fields(slots, false);
    for (const MetricOperator* op : s.downstream.ops) {
      for (const MetricRef& m : op->members()) MarkSlotsRead(*m.def, &by_metrics);
    }
    // An output's where: is evaluated even when nothing writes its records
    // (so the job can say that nothing does: untapped).
    for (const auto& [index, out] : s.downstream.taps) {
      if (out->has_where) out->where.ForEachSlot([&](uint32_t slot) { by_filters[slot] = true; });
      for (int slot : out->slots) by_fields[static_cast<size_t>(slot)] = true;
    }
    std::vector<bool> kept(def.emit.size()), sorted(def.emit.size());
    for (size_t k = 0; k < def.emit.size(); ++k) {
      const size_t slot = kStreamFirstEmitSlot + k;
      sorted[k] = by_metrics[slot];
      kept[k] = !lean_joins_ || sorted[k] || by_filters[slot] || (tapping_ && by_fields[slot]);
    }
    s.op->SetEmitUse(kept, sorted);
  }
}

bool Dataflow::ReadsLacking(const MetricDef& m, const Stream& s) {
  std::vector<bool> read(static_cast<size_t>(s.op->def().fields.size()), false);
  MarkSlotsRead(m, &read);
  for (size_t k = 0; k < s.lacking.size(); ++k) {
    if (s.lacking[k] && read[kStreamFirstEmitSlot + k]) return true;
  }
  return false;
}

void Dataflow::Source::Seal() {
  filters->Seal();
  grouped.clear();
  for (MetricOperator* op : ops) {
    if (!op->members()[0].def->by.empty()) grouped.push_back(op);
  }
  ops_of_class.assign(static_cast<size_t>(filters->class_count()), {});
  for (int c = 0; c < filters->class_count(); ++c) {
    for (MetricOperator* op : ops) {
      if (op->filter() < 0 || filters->Possible(op->filter(), c)) ops_of_class[c].push_back(op);
    }
  }
}

void Dataflow::Tap(const Source& src, const Event& ev) {
  if (untapped_) return;
  const Value* slots = ev.slots.data();
  for (const auto& [index, def] : src.taps) {
    if (def->has_where && !def->where.EvalBool(slots)) continue;
    if (!tapping_) {
      untapped_ = true;
      return;
    }
    TappedRecord r{ev.ts, index, "{\"ts\":\"", {}};
    AppendTimestamp(ev.ts, &r.line);
    r.line.push_back('"');
    for (size_t f = 0; f < def->fields.size(); ++f) {
      r.line.push_back(',');
      AppendJsonString(def->fields[f], &r.line);
      r.line.push_back(':');
      const Value& v = slots[def->slots[f]];
      if (v.is_string()) {
        AppendJsonString(v.str, &r.line);
      } else if (v.is_bool()) {
        r.line.append(v.b ? "true" : "false");
      } else if (v.is_number()) {
        AppendJsonNumber(v.num, &r.line);  // null when not finite
      } else {
        r.line.append("null");
      }
    }
    r.line.push_back('}');
    const Value& key = slots[def->from >= 0 ? kStreamKeySlot : def->slots[0]];
    if (!key.is_nullish()) AppendValueText(key, &r.key);
    tapped_.push_back(std::move(r));
  }
}

void Dataflow::TakeTapped(std::vector<TappedRecord>* out) {
  if (out->empty()) {
    out->swap(tapped_);
  } else {
    for (TappedRecord& r : tapped_) out->push_back(std::move(r));
  }
  tapped_.clear();
}

void Dataflow::KeyApartByStream() {
  std::map<std::string_view, int> states, shapes;
  for (const auto& op : metric_ops_) {
    if (!op->from_stream()) continue;
    ++states[op->state_key()];
    ++shapes[op->shape_key()];
  }
  std::vector<MetricOperator*> shared;
  for (const auto& op : metric_ops_) {
    if (op->from_stream() && (states[op->state_key()] > 1 || shapes[op->shape_key()] > 1)) {
      shared.push_back(op.get());
    }
  }
  for (MetricOperator* op : shared) op->KeyByWholeStream();
}

size_t Dataflow::series() const {
  size_t n = 0;
  for (const auto& op : metric_ops_) n += op->store().group_count();
  return n;
}

size_t Dataflow::LiveSeries(TimeMs frontier, TimeMs t) const {
  size_t n = 0;
  for (const auto& op : metric_ops_) n += op->store().LiveGroups(frontier, t);
  return n;
}

size_t Dataflow::JobLiveSeries(TimeMs frontier, TimeMs t) const {
  size_t n = 0;
  for (const auto& op : metric_ops_) n += op->store().JobLiveGroups(frontier, t);
  return n;
}

void Dataflow::Close(TimeMs frontier, std::vector<WindowResult>* out) {
  CloseSessions(frontier);
  const size_t first = out->size();
  for (auto& op : metric_ops_) op->Close(frontier, out);
  if (!experiments_.empty()) CloseExperiments(out, first);
  SortResults(out, first);
}

void Dataflow::CloseExperiments(std::vector<WindowResult>* out, size_t first) {
  // The inputs (one per arm and unit and window: by far the most results)
  // are read in Close's order through pointers, not moved into it.
  std::vector<const WindowResult*> inputs;
  for (size_t i = first; i < out->size(); ++i) {
    if ((*out)[i].def->internal()) inputs.push_back(&(*out)[i]);
  }
  if (inputs.empty()) return;
  std::sort(inputs.begin(), inputs.end(),
            [](const WindowResult* a, const WindowResult* b) { return ResultBefore(*a, *b); });
  std::vector<WindowResult> added;
  std::vector<const WindowResult*> read;
  for (size_t begin = 0; begin < inputs.size();) {
    size_t end = begin;
    while (end < inputs.size() && inputs[end]->end == inputs[begin]->end) ++end;
    for (auto& e : experiments_) {
      read.clear();
      for (size_t i = begin; i < end; ++i) {
        if (e->Reads(*inputs[i])) read.push_back(inputs[i]);
      }
      e->CloseWindow(read, &added);
    }
    begin = end;
  }
  // Inputs go nowhere else.
  out->erase(std::remove_if(out->begin() + static_cast<std::ptrdiff_t>(first), out->end(),
                            [](const WindowResult& r) { return r.def->internal(); }),
             out->end());
  for (WindowResult& r : added) out->push_back(std::move(r));
}

uint64_t Dataflow::MergePanesFrom(Dataflow& part) {
  uint64_t late = 0;
  for (size_t i = 0; i < metric_ops_.size() && i < part.metric_ops_.size(); ++i) {
    PaneStore& into = metric_ops_[i]->store();
    part.metric_ops_[i]->store().Drain(
        [&](std::string_view group, TimeMs start, const AccSet& acc) {
          if (!into.MergePane(group, start, acc)) ++late;
        });
  }
  return late;
}

void Dataflow::SetWhole(const Dataflow& whole, PaneStore::FreshGroups* fresh,
                        std::atomic<size_t>* fresh_all) {
  whole_ = &whole;
  limits_ = whole.limits_;  // the job's cap, whatever the process default
  FollowOutputs(whole);
  fresh_all_ = fresh_all;
  for (size_t i = 0; i < metric_ops_.size() && i < whole.metric_ops_.size(); ++i) {
    metric_ops_[i]->SetWhole({&whole.metric_ops_[i]->store(), &fresh[i], fresh_all});
  }
}

uint64_t Dataflow::TakeLateRecords() {
  uint64_t late = 0;
  for (auto& op : metric_ops_) late += op->TakeLate();
  return late;
}

void Dataflow::MarkIfStreamStartedOver(ExperimentOperator& e) const {
  for (size_t s = 0; s < streams_.size(); ++s) {
    if (streams_[s].started_over && e.ReadsStream(static_cast<int>(s))) e.MarkStartedOver();
  }
}

std::vector<std::string> Dataflow::ExperimentsStartedOver() const {
  std::vector<std::string> out;
  for (const auto& e : experiments_) {
    if (e->started_over()) out.push_back(e->def().name);
  }
  return out;
}

std::vector<std::pair<int, DurationMs>> Dataflow::StreamsStartedOver() const {
  std::vector<std::pair<int, DurationMs>> out;
  for (const Stream& s : streams_) {
    if (!s.started_over && s.lacking.empty()) continue;
    const StreamDef& def = s.op->def();
    // A session is emitted up to its gap after its last event; a join's
    // waiting event until its bound passes.
    const DurationMs horizon = def.kind == StreamKind::kSession
                                   ? def.gap
                                   : std::max(std::abs(def.join.lower), std::abs(def.join.upper));
    for (const MetricOperator* op : s.downstream.ops) {
      for (const MetricRef& m : op->members()) {
        if (s.started_over || ReadsLacking(*m.def, s)) out.emplace_back(m.index, horizon);
      }
    }
  }
  return out;
}

MetricOperator* Dataflow::FindMetricOp(std::string_view state_key) const {
  for (const auto& op : metric_ops_) {
    if (op->state_key() == state_key) return op.get();
  }
  return nullptr;
}

void Dataflow::CloseSessions(TimeMs frontier) {
  frontier_ = std::max(frontier_, frontier);
  for (Stream& s : streams_) {
    Source& d = s.downstream;
    s.op->Close(frontier, [this, &d](const Event& record) { AddRecord(d, record); });
  }
}

void Dataflow::CloseSessions(TimeMs frontier,
                             const std::function<void(size_t, const Event&)>& emit) {
  frontier_ = std::max(frontier_, frontier);
  for (size_t s = 0; s < streams_.size(); ++s) {
    streams_[s].op->Close(frontier, [&emit, s](const Event& record) { emit(s, record); });
  }
}

bool Dataflow::stream_metrics() const {
  return std::any_of(metric_ops_.begin(), metric_ops_.end(),
                     [](const auto& op) { return op->from_stream(); });
}

size_t Dataflow::AdoptState(Dataflow& old, std::vector<int>* restarted) {
  size_t kept = 0;
  track_origins_ = track_origins_ || old.track_origins_;
  for (auto& op : metric_ops_) {
    bool adopted = false;
    for (auto& o : old.metric_ops_) {
      if (op->AdoptState(*o, restarted)) {
        ++kept;
        adopted = true;
        break;
      }
    }
    if (adopted || restarted == nullptr) continue;
    for (const MetricRef& m : op->members()) restarted->push_back(m.index);
  }
  for (Stream& s : streams_) {
    s.started_over = true;
    for (Stream& o : old.streams_) {
      if (s.op->AdoptState(*o.op)) {
        s.lacking = s.op->EmitsLackedBy(o.op->state_key());
        s.origins = std::move(o.origins);
        s.started_over = false;
        ++kept;
        break;
      }
    }
  }
  for (auto& e : experiments_) {
    bool adopted = false;
    for (auto& o : old.experiments_) {
      if (e->AdoptState(*o)) {
        ++kept;
        adopted = true;
        break;
      }
    }
    if (adopted) {
      MarkIfStreamStartedOver(*e);
      continue;
    }
    for (const auto& o : old.experiments_) {
      if (o->def().name == e->def().name) e->MarkStartedOver();
    }
  }
  return kept;
}

std::vector<std::pair<std::string, std::string>> Dataflow::EncodeState() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& op : metric_ops_) {
    Encoder enc;
    op->EncodeState(&enc);
    out.emplace_back(op->state_key(), enc.Release());
  }
  if (!metric_ops_.empty()) out.emplace_back(kMetricShapesKey, EncodeShapes(metric_ops_));
  for (const Stream& s : streams_) {
    Encoder enc;
    s.op->EncodeState(&enc);
    out.emplace_back(s.op->state_key(), enc.Release());
  }
  for (const auto& e : experiments_) {
    Encoder enc;
    e->EncodeState(&enc);
    out.emplace_back(e->state_key(), enc.Release());
  }
  return out;
}

int Dataflow::DecodeState(const std::vector<std::pair<std::string, std::string>>& saved,
                          std::vector<int>* restarted) {
  int restored = 0;
  auto find = [&saved](std::string_view key) -> const std::string* {
    for (const auto& [k, v] : saved) {
      if (k == key) return &v;
    }
    return nullptr;
  };
  std::vector<SavedShape> shapes;
  if (const std::string* bytes = find(kMetricShapesKey)) {
    if (!DecodeShapes(*bytes, &shapes)) shapes.clear();
  }
  for (auto& op : metric_ops_) {
    const std::string* bytes = find(op->state_key());
    for (const std::string& older : op->older_state_keys()) {
      if (bytes == nullptr) bytes = find(older);
    }
    if (bytes != nullptr) {
      Decoder dec(*bytes);
      if (!op->DecodeState(&dec)) return -1;
      ++restored;
      continue;
    }
    // The same panes under other aggregates.
    auto shape = std::find_if(shapes.begin(), shapes.end(),
                              [&](const SavedShape& s) { return s.shape_key == op->shape_key(); });
    bytes = shape == shapes.end() ? nullptr : find(shape->state_key);
    if (bytes != nullptr) {
      Decoder dec(*bytes);
      if (op->DecodeRemapped(&dec, shape->prototype, shape->hashes, restarted)) {
        ++restored;
        continue;
      }
    }
    if (restarted == nullptr) continue;
    for (const MetricRef& m : op->members()) restarted->push_back(m.index);
  }
  for (Stream& s : streams_) {
    // Its own key, or (a join) one keeping other fields.
    std::string_view key = s.op->state_key();
    const std::string* bytes = find(key);
    for (const auto& [k, v] : saved) {
      if (bytes != nullptr) break;
      if (s.op->ReadsStateOf(k)) {
        key = k;
        bytes = &v;
      }
    }
    s.started_over = bytes == nullptr;
    if (bytes == nullptr) continue;
    Decoder dec(*bytes);
    if (!s.op->DecodeStateOf(key, &dec)) return -1;
    s.lacking = s.op->EmitsLackedBy(key);
    ++restored;
  }
  for (auto& e : experiments_) {
    const std::string* bytes = find(e->state_key());
    if (bytes == nullptr) bytes = find(e->previous_state_key());
    if (bytes == nullptr) bytes = find(e->legacy_state_key());
    if (bytes == nullptr) {
      // The same experiment under other arms or metrics ("experiment/N:"
      // and its fingerprint, which starts with its name).
      const std::string prefix = StrCat(e->def().name, "|");
      for (const auto& [key, state] : saved) {
        const size_t colon = key.find(':');
        if (key.starts_with("experiment/") && colon != std::string::npos &&
            std::string_view(key).substr(colon + 1).starts_with(prefix)) {
          e->MarkStartedOver();
        }
      }
      continue;
    }
    Decoder dec(*bytes);
    if (!e->DecodeState(&dec)) return -1;
    MarkIfStreamStartedOver(*e);
    ++restored;
  }
  return restored;
}

std::vector<KeyedOperator*> Dataflow::mutable_stream_ops() {
  std::vector<KeyedOperator*> out;
  for (Stream& s : streams_) out.push_back(s.op.get());
  return out;
}

}  // namespace vigil
