#include "operators/dataflow/join_operator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>

#include "absl/hash/hash.h"
#include "base/prefetch.h"
#include "base/strings.h"
#include "base/time.h"
#include "operators/dataflow/join_values.h"

namespace vigil {

JoinOperator::JoinOperator(const StreamDef& def)
    : KeyedOperator(def), state_(std::make_unique<State>()) {
  pair_.resize(def.join.inputs.size());
  record_.slots.resize(static_cast<size_t>(def.fields.size()));
  const std::vector<bool> all(def.emit.size(), true);
  Configure(all, all);
}

bool JoinOperator::TieBefore(const Record& a, const Record& b) const {
  if (const int c = a.key().compare(b.key()); c != 0) return c < 0;
  if (a.left_ts != b.left_ts) return a.left_ts < b.left_ts;
  if (a.right_ts != b.right_ts) return a.right_ts < b.right_ts;
  // Packed values are prefix-free: comparing the bytes compares them in
  // order.
  if (sorts_all_) return a.values() < b.values();
  // Two records of one pair of times (rare): by the delay, then the emits
  // metrics read.
  const size_t n = 1 + def_->emit.size();
  std::vector<std::string_view> av(n), bv(n);
  SliceValues(a.values(), av.data(), n);
  SliceValues(b.values(), bv.data(), n);
  for (size_t i = 0; i < n; ++i) {
    if (i > 0 && !emit_sorted_[i - 1]) continue;
    if (av[i] != bv[i]) return av[i] < bv[i];
  }
  return false;
}

uint64_t JoinOperator::HashKey(std::string_view key) {
  return absl::Hash<absl::string_view>{}(absl::string_view(key.data(), key.size()));
}

uint32_t JoinOperator::Find(uint64_t hash, std::string_view key) const {
  return state_->index.Find(hash, [&](uint32_t id) { return At(id).key() == key; });
}

TimeMs JoinOperator::ExpiryOf(TimeMs ts, bool right) const {
  const JoinDef& j = def_->join;
  return right ? ts - j.lower : ts + std::max<DurationMs>(j.upper, 0);
}

std::string_view JoinOperator::Pack(const Event& ev, const std::vector<size_t>& side,
                                    Encoder* enc) const {
  enc->Clear();
  for (size_t i : side) {
    PackValue(ev.slots[static_cast<size_t>(def_->join.inputs[i].event_slot)], enc);
  }
  return enc->data();
}

void JoinOperator::Add(const Event& ev) {
  const Value* slots = ev.slots.data();
  const Value& key = slots[def_->key_slot];
  if (key.is_nullish()) return;
  const JoinDef& j = def_->join;
  const bool is_left = !j.has_left_where || j.left_where.Test(slots, ev.type_class);
  const bool is_right = !j.has_right_where || j.right_where.Test(slots, ev.type_class);
  if (!is_left && !is_right) return;
  const std::string_view text = ValueText(key, &key_);
  const uint64_t hash = HashKey(text);
  uint32_t head = Find(hash, text);
  Half as_left{}, as_right{};
  uint32_t left_matches = 0, right_matches = 0;
  // A key's chain holds its rights first, then its lefts. As a right event,
  // with the lefts waiting; then as a left, with the rights waiting (not
  // itself: it is kept only after both).
  if (is_right) {
    as_right = {ev.ts, Pack(ev, right_inputs_, &pack_right_)};
    uint32_t id = head;
    while (id != kNone && At(id).right) id = At(id).next;
    for (; id != kNone; id = At(id).next) {
      Entry& l = At(id);
      const DurationMs d = ev.ts - l.ts;
      if (d < j.lower || d > j.upper) continue;
      AddRecord(text, l.half(), &as_right);
      ++l.matches;
      ++right_matches;
    }
  }
  uint32_t last_right = kNone;
  if (is_left) {
    as_left = {ev.ts, Pack(ev, left_inputs_, &pack_left_)};
    for (uint32_t id = head; id != kNone && At(id).right; id = At(id).next) {
      last_right = id;
      Entry& r = At(id);
      const DurationMs d = r.ts - ev.ts;
      if (d < j.lower || d > j.upper) continue;
      const Half right = r.half();
      AddRecord(text, as_left, &right);
      ++r.matches;
      ++left_matches;
    }
  }
  const size_t need = (is_left ? 1 : 0) + (is_right ? 1 : 0);
  if (state_->entries.live() + need > static_cast<size_t>(def_->limit)) {
    // Events that can match nothing more are not waiting, even before a
    // Close expires them (KeyedOperator::SetFrontier): none could match
    // this event, which is not behind the frontier.
    if (frontier_ > expired_through_) {
      Expire(frontier_);
      expired_through_ = frontier_;
      // What expired may be this key's own waiting events, the first of
      // its chain among them: find where the chain starts and where its
      // rights end again.
      head = Find(hash, text);
      last_right = kNone;
      if (is_left) {
        for (uint32_t id = head; id != kNone && At(id).right; id = At(id).next) last_right = id;
      }
    }
    if (state_->entries.live() + need > static_cast<size_t>(def_->limit)) {
      ++dropped_;
      return;
    }
  }
  if (is_left) head = Keep(hash, text, head, last_right, false, as_left, left_matches);
  if (is_right) Keep(hash, text, head, kNone, true, as_right, right_matches);
}

void JoinOperator::Prefetch(const Event& ev) {
  const Value* slots = ev.slots.data();
  const JoinDef& j = def_->join;
  uint64_t hash = kNoHash;
  const Value& key = slots[def_->key_slot];
  if (!key.is_nullish() && ((!j.has_left_where || j.left_where.Test(slots, ev.type_class)) ||
                            (!j.has_right_where || j.right_where.Test(slots, ev.type_class)))) {
    hash = HashKey(ValueText(key, &key_)) | 1;  // never kNoHash
  }
  const SessionIndex& index = state_->index;
  constexpr size_t n = kPrefetchDistance;
  hinted_[hint_seq_ % n] = hash;
  if (hash != kNoHash) {
    if (const uint64_t* slot = index.HomeSlot(hash)) PrefetchLine(slot);
  }
  // The event hinted `step` calls ago: what it reads was fetched `step`
  // calls ago down to the previous level; fetch the next one.
  for (size_t step = 1; step < n; ++step) {
    const uint64_t h = hinted_[(hint_seq_ + n - step) % n];
    if (h == kNoHash) continue;
    // Step 1: its index slot may still be on the way.
    if (step != 2 && step != 3) continue;
    const uint32_t id = index.Candidate(h);
    if (id == kNone) continue;
    const Entry& e = At(id);
    if (step == 2) {
      PrefetchLine(&e);
    } else {
      PrefetchLine(e.bytes);
      if (e.next != kNone) PrefetchLine(&At(e.next));
    }
  }
  hint_seq_ = static_cast<uint32_t>((hint_seq_ + 1) % n);
}

uint32_t JoinOperator::Keep(uint64_t hash, std::string_view key, uint32_t head, uint32_t after,
                            bool right, const Half& w, uint32_t matches) {
  State& st = *state_;
  const auto [chunk, copy] = st.bytes.Put(key, w.values);
  const uint32_t id = st.entries.Alloc();
  const uint32_t next = after == kNone ? head : At(after).next;
  At(id) = {hash,
            w.ts,
            copy.data(),
            static_cast<uint32_t>(key.size()),
            static_cast<uint32_t>(w.values.size()),
            chunk,
            matches,
            after,
            next,
            right};
  if (next != kNone) At(next).prev = id;
  if (after != kNone) {
    At(after).next = id;
  } else if (head == kNone) {
    st.index.Insert(hash, id);
  } else {
    st.index.Replace(hash, head, id);
  }
  const TimeMs at = ExpiryOf(w.ts, right);
  const TimeMs bucket = AlignDown(at, kExpiryBucket);
  ExpiryBucket(bucket, right).push_back({at, id});
  ++st.expiry_count;
  return after == kNone ? id : head;
}

std::vector<JoinOperator::Expiry>& JoinOperator::ExpiryBucket(TimeMs bucket, bool right) {
  // Each side's expiries come in about time order (a few seconds out of
  // it), but a left's are `upper` later than a right's: start from the
  // bucket the side used last and its neighbours, so that neither side
  // walks the tree per event.
  State& st = *state_;
  auto& b = st.recent_bucket[right ? 1 : 0];
  const auto end = st.expiries.end();
  if (b != end) {
    if (b->first == bucket) return b->second;
    if (b->first < bucket) {
      const auto next = std::next(b);
      if (next != end && next->first == bucket) return (b = next)->second;
    } else if (b != st.expiries.begin()) {
      const auto prev = std::prev(b);
      if (prev->first == bucket) return (b = prev)->second;
    }
  }
  b = st.expiries.try_emplace(bucket).first;
  return b->second;
}

void JoinOperator::FillPair(const Half& left, const Half* right) {
  const std::vector<PairInput>& inputs = def_->join.inputs;
  auto unpack = [&](std::string_view values, const std::vector<size_t>& side) {
    UnpackValuesAt(
        values, side.size(), [&](size_t i) { return side[i]; }, pair_.data());
  };
  unpack(left.values, left_inputs_);
  if (right != nullptr) {
    unpack(right->values, right_inputs_);
  } else {
    for (size_t i : right_inputs_) pair_[i] = Value::Missing();
  }
  for (size_t i = 0; i < inputs.size(); ++i) {
    switch (inputs[i].kind) {
      case PairInput::Kind::kLeftTs:
        pair_[i] = Value::Number(static_cast<double>(left.ts));
        break;
      case PairInput::Kind::kRightTs:
        pair_[i] =
            right != nullptr ? Value::Number(static_cast<double>(right->ts)) : Value::Missing();
        break;
      case PairInput::Kind::kMatched:
        pair_[i] = Value::Bool(right != nullptr);
        break;
      case PairInput::Kind::kLeftField:
      case PairInput::Kind::kRightField:
        break;
    }
  }
}

void JoinOperator::AddRecord(std::string_view key, const Half& left, const Half* right) {
  if (evaluates_) FillPair(left, right);
  if (copies_) {
    SliceValues(left.values, left_slices_.data(), left_slices_.size());
    if (right != nullptr) SliceValues(right->values, right_slices_.data(), right_slices_.size());
  }
  Encoder& enc = pack_record_;
  enc.Clear();
  PackValue(
      right != nullptr ? Value::Number(static_cast<double>(right->ts - left.ts)) : Value::Missing(),
      &enc);
  for (size_t k = 0; k < emit_copy_.size(); ++k) {
    const EmitCopy& c = emit_copy_[k];
    switch (c.side) {
      case EmitCopy::kLeft:
        enc.PutRaw(left_slices_[c.index]);
        break;
      case EmitCopy::kRight:
        if (right != nullptr) {
          enc.PutRaw(right_slices_[c.index]);
        } else {
          PackValue(Value::Missing(), &enc);
        }
        break;
      case EmitCopy::kMatched:
        PackValue(Value::Bool(right != nullptr), &enc);
        break;
      case EmitCopy::kDropped:
        PackValue(Value::Missing(), &enc);
        break;
      case EmitCopy::kNone:
        PackValue(def_->emit[k].value.Eval(pair_.data()), &enc);
        break;
    }
  }
  KeepRecord(right != nullptr ? std::max(left.ts, right->ts) : ExpiryOf(left.ts, false), key,
             left.ts, right != nullptr ? right->ts : kMaxTime, enc.data());
}

void JoinOperator::KeepRecord(TimeMs time, std::string_view key, TimeMs left_ts, TimeMs right_ts,
                              std::string_view values) {
  const auto [chunk, copy] = state_->record_bytes.Put(key, values);
  state_->records.push_back(Record{time, left_ts, right_ts, copy.data(),
                                   static_cast<uint32_t>(key.size()),
                                   static_cast<uint32_t>(values.size()), chunk});
}

void JoinOperator::Expire(TimeMs frontier) {
  State& st = *state_;
  while (!st.expiries.empty() && st.expiries.begin()->first < frontier) {
    std::vector<Expiry>& bucket = st.expiries.begin()->second;
    size_t kept = 0;
    // The waiting events are an hour old and cold: fetch each entry a few
    // expiries ahead, and a little later the index slot of a chain's first
    // and the key and fields of an event that leaves a record or a dead
    // letter (most leave neither: an inner join's unmatched turn).
    constexpr size_t kEntryAhead = 8, kBytesAhead = 4;
    for (size_t i = 0; i < std::min(kEntryAhead, bucket.size()); ++i) {
      PrefetchLine(&At(bucket[i].id));
    }
    for (size_t i = 0; i < bucket.size(); ++i) {
      if (i + kEntryAhead < bucket.size()) PrefetchLine(&At(bucket[i + kEntryAhead].id));
      if (i + kBytesAhead < bucket.size()) {
        const Entry& a = At(bucket[i + kBytesAhead].id);
        if (a.matches == 0 &&
            (a.right ? def_->join.dead_letter_unmatched_right : def_->join.keep_unmatched_left)) {
          PrefetchLine(a.bytes);
        }
        if (a.prev == kNone) {
          if (const uint64_t* slot = st.index.HomeSlot(a.hash)) PrefetchLine(slot);
        }
      }
      const Expiry& e = bucket[i];
      if (e.at < frontier) {
        ExpireOne(e.id);
      } else {
        bucket[kept++] = e;  // the frontier is inside this bucket
      }
    }
    st.expiry_count -= bucket.size() - kept;
    if (kept > 0) {
      bucket.resize(kept);
      return;
    }
    for (auto& recent : st.recent_bucket) {
      if (recent == st.expiries.begin()) recent = st.expiries.end();
    }
    st.expiries.erase(st.expiries.begin());
  }
}

size_t JoinOperator::MostRecordsBy(TimeMs frontier) const {
  size_t n = state_->records.size();
  if (!def_->join.keep_unmatched_left) return n;
  for (const auto& [bucket, expiries] : state_->expiries) {
    if (bucket >= frontier) break;
    n += expiries.size();
  }
  return n;
}

void JoinOperator::ExpireOne(uint32_t id) {
  State& st = *state_;
  const Entry e = At(id);
  if (e.matches == 0) {
    if (e.right) {
      ++unmatched_right_;
      if (def_->join.dead_letter_unmatched_right) KeepUnmatchedRight(e.key(), e.half());
    } else {
      ++unmatched_left_;
      if (def_->join.keep_unmatched_left) AddRecord(e.key(), e.half(), nullptr);
    }
  }
  if (e.prev != kNone) {
    At(e.prev).next = e.next;
  } else if (e.next != kNone) {
    st.index.Replace(e.hash, id, e.next);
  } else {
    st.index.Erase(e.hash, id);
  }
  if (e.next != kNone) At(e.next).prev = e.prev;
  st.bytes.Release(e.chunk);
  st.entries.Free(id);
}

void JoinOperator::KeepUnmatchedRight(std::string_view key, const Half& right) {
  std::vector<Value> values(right_inputs_.size());
  UnpackValues(right.values, values.size(), values.data());
  UnmatchedRight u{right.ts, std::string(key), "{\"ts\":\""};
  AppendTimestamp(right.ts, &u.json);
  u.json += "\",";
  AppendJsonString(def_->key_path, &u.json);
  u.json.push_back(':');
  AppendJsonString(key, &u.json);
  for (size_t i = 0; i < right_inputs_.size(); ++i) {
    u.json.push_back(',');
    AppendJsonString(def_->join.inputs[right_inputs_[i]].path, &u.json);
    u.json.push_back(':');
    const Value& v = values[i];
    if (v.is_string()) {
      AppendJsonString(v.str, &u.json);
    } else if (v.is_bool() || (v.is_number() && std::isfinite(v.num))) {
      AppendValueText(v, &u.json);
    } else {
      u.json.append("null");
    }
  }
  u.json.push_back('}');
  unmatched_rights_.push_back(std::move(u));
}

void JoinOperator::TakeUnmatchedRights(std::vector<UnmatchedRight>* out) {
  for (UnmatchedRight& u : unmatched_rights_) out->push_back(std::move(u));
  unmatched_rights_.clear();
}

// Gives memory back after a wave of expiries: the waiting events move into
// a fresh state through the checkpoint encoding, as costly as one
// checkpoint of this join, and rare (the pool is mostly free blocks).
void JoinOperator::Compact() {
  Encoder enc;
  EncodeState(&enc);
  const std::string bytes = enc.Release();
  Decoder dec(bytes);
  DecodeState(&dec, nullptr);
}

void JoinOperator::Close(TimeMs frontier, const std::function<void(const Event&)>& emit) {
  Expire(frontier);
  expired_through_ = std::max(expired_through_, frontier);
  EmitRecords(frontier, emit);
  // After the records leave, so that the re-packed state holds only the
  // records still to come.
  if (state_->entries.NeedsCompacting()) Compact();
}

void JoinOperator::EmitRecords(TimeMs frontier, const std::function<void(const Event&)>& emit) {
  std::vector<Record>& records = state_->records;
  auto ready = std::partition(records.begin(), records.end(),
                              [frontier](const Record& r) { return r.time >= frontier; });
  if (ready == records.end()) return;
  std::sort(ready, records.end(),
            [this](const Record& a, const Record& b) { return RecordBefore(a, b); });
  for (auto r = ready; r != records.end(); ++r) {
    record_.ts = r->time;
    record_.slots[kStreamKeySlot] = Value::String(r->key());
    UnpackValues(r->values(), record_.slots.size() - kJoinDelaySlot,
                 record_.slots.data() + kJoinDelaySlot);
    ++emitted_;
    emit(record_);
  }
  for (auto r = ready; r != records.end(); ++r) state_->record_bytes.Release(r->chunk);
  records.erase(ready, records.end());
}

bool JoinOperator::HasState(std::string_view key) const {
  if (Find(HashKey(key), key) != kNone) return true;
  return std::any_of(state_->records.begin(), state_->records.end(),
                     [&](const Record& r) { return r.key() == key; });
}

size_t JoinOperator::memory_bytes() const {
  const State& st = *state_;
  // A bucket: its map node and vector (about 64 bytes).
  size_t bytes = st.entries.capacity() * sizeof(Entry) + st.index.capacity() * sizeof(uint64_t) +
                 st.bytes.bytes() + st.expiry_count * sizeof(Expiry) + st.expiries.size() * 64 +
                 st.records.capacity() * sizeof(Record) + st.record_bytes.bytes();
  return bytes;
}

}  // namespace vigil
