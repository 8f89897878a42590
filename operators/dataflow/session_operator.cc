#include "operators/dataflow/session_operator.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/hash.h"
#include "base/prefetch.h"

namespace vigil {

uint32_t StringPool::Acquire(std::string_view s) {
  auto it = map_.find(s);
  if (it != map_.end()) {
    ++it->second.refs;
    return it->second.id;
  }
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<uint32_t>(entries_.size());
    entries_.push_back(nullptr);
  }
  it = map_.try_emplace(std::string(s), Entry{id, 1}).first;
  entries_[id] = &*it;
  return id;
}

void StringPool::Release(uint32_t id) {
  auto* e = entries_[id];
  if (--e->second.refs > 0) return;
  free_.push_back(id);
  entries_[id] = nullptr;
  map_.erase(e->first);
}

namespace {

constexpr uint8_t KindByte(Value::Kind k) { return static_cast<uint8_t>(k) + 1; }

}  // namespace

SessionOperator::State::State(SessionOperator* op)
    : windows(op->def().gap,
              [op](Session& into, Session&& from) { op->Merge(into, std::move(from)); }),
      cells(op->block_bytes_) {}

SessionOperator::SessionOperator(const StreamDef& def) : KeyedOperator(def) {
  // One input per distinct (kind, argument) over all emitted fields.
  std::vector<std::string> keys;
  for (const EmitDef& e : def.emit) {
    std::vector<int> binding;
    for (const AggregateCall& agg : e.aggregates) {
      const std::string key = StrCat(AggKindName(agg.kind), "(", agg.q, ",", agg.arg_source, ")");
      auto it = std::find(keys.begin(), keys.end(), key);
      if (it == keys.end()) {
        keys.push_back(key);
        int cell;
        int sum = -1;
        int small = -1;
        if (IsSketch(agg.kind)) {
          cell = static_cast<int>(sketch_prototype_.size());
          sketch_prototype_.emplace_back(agg.kind, agg.q);
          if (agg.kind == AggKind::kDistinct) small = static_cast<int>(small_cells_++);
          small_of_sketch_.push_back(small);
          has_quantile_ |= agg.kind == AggKind::kQuantile;
        } else if (IsPick(agg.kind)) {
          cell = static_cast<int>(pick_cells_++);
        } else {
          cell = static_cast<int>(tally_cells_++);
          if (agg.kind == AggKind::kSum || agg.kind == AggKind::kAvg) {
            sum = static_cast<int>(sum_cells_++);
          }
        }
        inputs_.push_back({agg.kind, agg.q, agg.has_arg, &agg.arg, cell, sum, small});
        it = keys.end() - 1;
      }
      binding.push_back(static_cast<int>(it - keys.begin()));
    }
    agg_values_.resize(std::max(agg_values_.size(), binding.size()));
    bindings_.push_back(std::move(binding));
  }
  static_assert(sizeof(Pick) % alignof(ExactSum) == 0 && sizeof(Tally) % alignof(ExactSum) == 0);
  static_assert(sizeof(ExactSum) % alignof(SmallSet) == 0 &&
                sizeof(Pick) % alignof(SmallSet) == 0 && sizeof(Tally) % alignof(SmallSet) == 0);
  smalls_offset_ =
      tally_cells_ * sizeof(Tally) + pick_cells_ * sizeof(Pick) + sum_cells_ * sizeof(ExactSum);
  block_bytes_ = smalls_offset_ + small_cells_ * sizeof(SmallSet);
  state_key_ = StrCat("stream ", def.fingerprint);
  state_ = std::make_unique<State>(this);
  record_.slots.resize(static_cast<size_t>(def.fields.size()));
}

SessionOperator::Session SessionOperator::NewSession() {
  Session s;
  if (block_bytes_ > 0) {
    s.cells = state_->cells.Alloc();
    std::byte* p = state_->cells.At(s.cells);
    for (size_t i = 0; i < tally_cells_; ++i) new (p + i * sizeof(Tally)) Tally{};
    p += tally_cells_ * sizeof(Tally);
    for (size_t i = 0; i < pick_cells_; ++i) new (p + i * sizeof(Pick)) Pick{};
    p += pick_cells_ * sizeof(Pick);
    for (size_t i = 0; i < sum_cells_; ++i) new (p + i * sizeof(ExactSum)) ExactSum{};
    p += sum_cells_ * sizeof(ExactSum);
    for (size_t i = 0; i < small_cells_; ++i) new (p + i * sizeof(SmallSet)) SmallSet{};
  }
  if (has_quantile_) SketchesOf(s);
  return s;
}

void SessionOperator::SetString(Pick& c, std::string_view v) {
  if (v.size() <= Pick::kInlineChars) {
    std::memcpy(c.data, v.data(), v.size());
    c.size = static_cast<uint8_t>(v.size());
  } else {
    const uint32_t id = state_->strings.Acquire(v);
    std::memcpy(c.data, &id, sizeof id);
    c.size = Pick::kPooled;
  }
}

Value SessionOperator::PickValue(const Pick& c) const {
  switch (c.kind == 0 ? Value::Kind::kMissing : static_cast<Value::Kind>(c.kind - 1)) {
    case Value::Kind::kNull:
      return Value::Null();
    case Value::Kind::kBool:
      return Value::Bool(c.x() != 0);
    case Value::Kind::kNumber:
      return Value::Number(c.x());
    case Value::Kind::kString:
      return Value::String(StringOf(c));
    default:
      return Value::Missing();
  }
}

namespace {

// The order of values at equal event times: by kind, then numbers and
// booleans by value (-0 before 0), strings byte by byte. `first` keeps the smallest,
// `last` the largest (as a metric's last), whatever order they came in.
int CompareTied(const Value& a, const Value& b) {
  if (a.kind != b.kind) return a.kind < b.kind ? -1 : 1;
  double x = 0, y = 0;
  switch (a.kind) {
    case Value::Kind::kString:
      return a.str.compare(b.str);
    case Value::Kind::kNumber:
      x = a.num;
      y = b.num;
      break;
    case Value::Kind::kBool:
      x = a.b;
      y = b.b;
      break;
    default:
      return 0;
  }
  if (x == y) return std::signbit(y) - std::signbit(x);  // -0 before 0
  return x < y ? -1 : 1;
}

}  // namespace

bool SessionOperator::Replaces(const Value& v, TimeMs t, const Pick& c, bool first) const {
  if (c.kind == 0) return true;
  if (t != c.t) return first ? t < c.t : t > c.t;
  const int order = CompareTied(v, PickValue(c));
  return first ? order < 0 : order > 0;
}

void SessionOperator::Offer(Pick& c, const Value& v, TimeMs t, bool first) {
  // A missing field and null are the same: neither is a value to pick.
  if (v.is_nullish()) return;
  if (!Replaces(v, t, c, first)) return;
  DropString(c);
  c.kind = KindByte(v.kind);
  c.t = t;
  if (v.is_string()) {
    SetString(c, v.str);
  } else {
    c.set_x(v.is_number() ? v.num : v.b ? 1 : 0);
    c.size = 0;
  }
}

void SessionOperator::Add(const Event& ev) {
  const Value* slots = ev.slots.data();
  if (def_->has_where && !def_->where.Test(slots, ev.type_class)) return;
  const Value& key = slots[def_->key_slot];
  if (key.is_nullish()) return;  // the event belongs to no session of this key
  const std::string_view text = ValueText(key, &key_);
  if (state_->windows.session_count() >= static_cast<size_t>(def_->limit) &&
      state_->windows.Opens(text, ev.ts)) {
    // Sessions past their gap are not open, even before a Close emits them
    // (KeyedOperator::SetFrontier). Close leaves key_, and so `text`, alone.
    if (frontier_ > closed_through_ && downstream_) Close(frontier_, downstream_);
    if (state_->windows.session_count() >= static_cast<size_t>(def_->limit)) {
      ++dropped_;
      return;
    }
  }
  Session& s = *state_->windows.Add(text, ev.ts, [this] { return NewSession(); });
  Tally* tallies = block_bytes_ > 0 ? TalliesOf(s) : nullptr;
  Pick* picks = block_bytes_ > 0 ? PicksOf(s) : nullptr;
  for (const Input& in : inputs_) {
    switch (in.kind) {
      case AggKind::kCount:
        if (!in.has_arg || in.arg->Test(slots, ev.type_class)) ++tallies[in.cell].n;
        break;
      case AggKind::kRatio:
      case AggKind::kAny:
      case AggKind::kAll: {
        Tally& c = tallies[in.cell];
        ++c.n;
        if (in.arg->Test(slots, ev.type_class)) c.x += 1;
        break;
      }
      case AggKind::kFirst:
      case AggKind::kLast:
        Offer(picks[in.cell], in.arg->Eval(slots), ev.ts, in.kind == AggKind::kFirst);
        break;
      case AggKind::kDistinct: {
        Value v = in.arg->Eval(slots);
        if (v.is_string()) AddDistinct(s, in, HashBytes(v.str));
        if (v.is_number()) AddDistinct(s, in, HashDouble(v.num));
        if (v.is_bool()) AddDistinct(s, in, HashDouble(v.b ? 1 : 0));
        break;
      }
      case AggKind::kQuantile: {
        Value v = in.arg->Eval(slots);
        if (v.is_number()) (*s.sketches)[in.cell].AddNumber(v.num);
        break;
      }
      default: {  // sum, avg, min, max
        Value v = in.arg->Eval(slots);
        if (!v.is_number() || std::isnan(v.num)) break;
        Tally& c = tallies[in.cell];
        if (in.kind == AggKind::kMin)
          c.x = c.n == 0 ? v.num : MinOf(c.x, v.num);
        else if (in.kind == AggKind::kMax)
          c.x = c.n == 0 ? v.num : MaxOf(c.x, v.num);
        else
          SumsOf(s)[in.sum].Add(v.num);
        ++c.n;
      }
    }
  }
}

void SessionOperator::AddDistinct(Session& s, const Input& in, uint64_t hash) {
  SmallSet& c = SmallsOf(s)[in.small];
  if (c.spilled == 0) {
    for (uint32_t i = 0; i < c.size; ++i) {
      if (c.hash[i] == hash) return;
    }
    if (c.size < SmallSet::kInline) {
      c.hash[c.size++] = hash;
      return;
    }
    Spill(s, in);
  }
  (*s.sketches)[in.cell].AddHash(hash);
}

void SessionOperator::Spill(Session& s, const Input& in) {
  SmallSet& c = SmallsOf(s)[in.small];
  Accumulator& acc = SketchesOf(s)[in.cell];
  for (uint32_t i = 0; i < c.size; ++i) acc.AddHash(c.hash[i]);
  c.size = 0;
  c.spilled = 1;
}

void SessionOperator::Prefetch(const Event& ev) {
  const Value* slots = ev.slots.data();
  uint64_t hash = kNoHash;
  if (!def_->has_where || def_->where.Test(slots, ev.type_class)) {
    const Value& key = slots[def_->key_slot];
    if (!key.is_nullish()) {
      hash = SessionWindows<Session>::HashKey(ValueText(key, &key_)) | 1;  // never kNoHash
    }
  }
  const SessionWindows<Session>& w = state_->windows;
  constexpr size_t n = kPrefetchDistance;
  hinted_[hint_seq_ % n] = hash;
  if (hash != kNoHash) w.PrefetchIndex(hash);
  // The event hinted `step` calls ago: what it reads was fetched `step`
  // calls ago down to the previous level; fetch the next one.
  for (size_t step = 1; step < n; ++step) {
    const uint64_t h = hinted_[(hint_seq_ + n - step) % n];
    if (h == kNoHash) continue;
    if (step == 1) {
      w.PrefetchRecord(h);
    } else if (const Session* s = w.PeekLatest(h)) {
      PrefetchSession(*s, step - 2);
    }
  }
  hint_seq_ = static_cast<uint32_t>((hint_seq_ + 1) % n);
}

void SessionOperator::PrefetchSession(const Session& s, size_t level) {
  if (level == 0) {
    if (s.cells != kNoBlock) PrefetchLine(state_->cells.At(s.cells));
    if (s.sketches) PrefetchLine(s.sketches.get());
    if (small_cells_ > 0 && smalls_offset_ >= 64) PrefetchLine(SmallsOf(s));
    return;
  }
  if (!s.sketches) return;
  for (const Accumulator& acc : *s.sketches) {
    if (level == 1) {
      PrefetchLine(&acc);
    } else if (const void* p = level == 2 ? acc.sketch_object() : acc.sketch_table()) {
      PrefetchLine(p);
    }
  }
}

void SessionOperator::Merge(Session& into, Session&& from) {
  Tally* ta = block_bytes_ > 0 ? TalliesOf(into) : nullptr;
  Tally* tb = block_bytes_ > 0 ? TalliesOf(from) : nullptr;
  Pick* pa = block_bytes_ > 0 ? PicksOf(into) : nullptr;
  Pick* pb = block_bytes_ > 0 ? PicksOf(from) : nullptr;
  for (const Input& in : inputs_) {
    if (IsSketch(in.kind)) continue;
    if (IsPick(in.kind)) {
      Pick& a = pa[in.cell];
      Pick& b = pb[in.cell];
      const bool first = in.kind == AggKind::kFirst;
      if (b.kind != 0 && Replaces(PickValue(b), b.t, a, first)) std::swap(a, b);
      continue;
    }
    Tally& a = ta[in.cell];
    const Tally& b = tb[in.cell];
    if (in.kind == AggKind::kMin || in.kind == AggKind::kMax) {
      const bool min = in.kind == AggKind::kMin;
      if (b.n != 0) a.x = a.n == 0 ? b.x : min ? MinOf(a.x, b.x) : MaxOf(a.x, b.x);
    } else if (in.sum >= 0) {
      SumsOf(into)[in.sum].Merge(SumsOf(from)[in.sum]);
    } else {
      a.x += b.x;
    }
    a.n += b.n;
  }
  if (from.sketches) {
    std::vector<Accumulator>& sketches = SketchesOf(into);
    for (size_t k = 0; k < sketches.size(); ++k) sketches[k].Merge((*from.sketches)[k]);
  }
  if (small_cells_ > 0) MergeDistinct(into, from);
  Release(from);
}

// After the sketches merged: a spilled set's hashes are in into's sketch.
void SessionOperator::MergeDistinct(Session& into, Session& from) {
  for (const Input& in : inputs_) {
    if (in.small < 0) continue;
    const SmallSet& b = SmallsOf(from)[in.small];
    if (b.spilled != 0) {
      if (SmallsOf(into)[in.small].spilled == 0) Spill(into, in);
      continue;
    }
    for (uint32_t i = 0; i < b.size; ++i) AddDistinct(into, in, b.hash[i]);
  }
}

// Gives the session's cells back to the pools, with the strings they hold.
void SessionOperator::Release(Session& s) {
  if (s.cells != kNoBlock) {
    Pick* p = PicksOf(s);
    for (size_t i = 0; i < pick_cells_; ++i) {
      DropString(p[i]);
    }
    state_->cells.Free(s.cells);
    s.cells = kNoBlock;
  }
  s.sketches.reset();
}

// After a wave of closes, copies the open sessions' cells into fresh pools
// so that the memory of the closed ones goes back; once nothing is open,
// drops the pools.
void SessionOperator::CompactPools() {
  State& st = *state_;
  if (st.windows.session_count() == 0) {
    st.cells.Clear();
    return;
  }
  if (block_bytes_ > 0 && st.cells.NeedsCompacting()) {
    SessionPool<std::byte> fresh(block_bytes_);
    st.windows.ForEachState([&](Session& s) {
      const uint32_t b = fresh.Alloc();
      // The cells are trivially copyable: copying the bytes copies them.
      std::memcpy(fresh.At(b), st.cells.At(s.cells), block_bytes_);
      s.cells = b;
    });
    st.cells = std::move(fresh);
  }
}

size_t SessionOperator::reserved_bytes() const {
  return state_->windows.reserved_bytes() + state_->cells.capacity() * block_bytes_;
}

Value SessionOperator::Result(const Session& s, size_t i) const {
  const Input& in = inputs_[i];
  if (in.small >= 0 && SmallsOf(s)[in.small].spilled == 0) {
    return Value::Number(SmallsOf(s)[in.small].size);
  }
  if (IsSketch(in.kind)) {
    std::optional<double> r = (*s.sketches)[in.cell].Result(0);
    return r ? Value::Number(*r) : Value::Missing();
  }
  if (IsPick(in.kind)) return PickValue(PicksOf(s)[in.cell]);
  const Tally& c = TalliesOf(s)[in.cell];
  switch (in.kind) {
    case AggKind::kCount:
      return Value::Number(static_cast<double>(c.n));
    case AggKind::kSum:
      return Value::Number(SumsOf(s)[in.sum].value());
    case AggKind::kAvg:
      return c.n == 0 ? Value::Missing() : Value::Number(SumsOf(s)[in.sum].Mean(c.n));
    case AggKind::kRatio:
      return c.n == 0 ? Value::Missing() : Value::Number(c.x / static_cast<double>(c.n));
    case AggKind::kMin:
    case AggKind::kMax:
      return c.n == 0 ? Value::Missing() : Value::Number(c.x);
    case AggKind::kAny:
      return Value::Bool(c.x > 0);
    case AggKind::kAll:
      return Value::Bool(c.x == static_cast<double>(c.n));
    default:
      break;
  }
  return Value::Missing();
}

void SessionOperator::Close(TimeMs frontier, const std::function<void(const Event&)>& emit) {
  closed_through_ = std::max(closed_through_, frontier);
  const size_t open = open_sessions();
  state_->windows.CloseUpTo(
      frontier, [&](std::string_view key, TimeMs start, TimeMs last, Session& s) {
        record_.ts = last + def_->gap - 1;
        record_.slots[kStreamKeySlot] = Value::String(key);
        record_.slots[kStreamDurationSlot] = Value::Number(static_cast<double>(last - start));
        for (size_t e = 0; e < bindings_.size(); ++e) {
          const std::vector<int>& b = bindings_[e];
          for (size_t i = 0; i < b.size(); ++i)
            agg_values_[i] = Result(s, static_cast<size_t>(b[i]));
          record_.slots[kStreamFirstEmitSlot + e] = def_->emit[e].value.Eval(agg_values_.data());
        }
        ++emitted_;
        emit(record_);
        Release(s);
      });
  if (open_sessions() != open) CompactPools();
}

}  // namespace vigil
