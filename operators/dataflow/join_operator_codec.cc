// JoinOperator's state in checkpoints, reloads and handovers: the encoding
// of the events waiting on each side and of the records not yet emitted,
// and the way back.
#include <algorithm>
#include <tuple>

#include "operators/dataflow/join_operator.h"
#include "operators/dataflow/join_values.h"

namespace vigil {

namespace {

constexpr uint8_t kStateFormat = 1;

bool WaitingBefore(std::string_view a_values, TimeMs a_ts, uint32_t a_matches,
                   std::string_view b_values, TimeMs b_ts, uint32_t b_matches) {
  return std::tie(a_ts, a_matches, a_values) < std::tie(b_ts, b_matches, b_values);
}

// Where each of `inputs` is in `packed`, or -1.
std::vector<int> PositionsIn(const std::vector<size_t>& packed, const std::vector<size_t>& inputs) {
  std::vector<int> at;
  for (size_t i : inputs) {
    const auto it = std::find(packed.begin(), packed.end(), i);
    at.push_back(it == packed.end() ? -1 : static_cast<int>(it - packed.begin()));
  }
  return at;
}

}  // namespace

bool JoinOperator::AdoptState(KeyedOperator& other) {
  auto* old = dynamic_cast<JoinOperator*>(&other);
  if (old == nullptr || !ReadsStateOf(old->state_key_)) return false;
  const std::optional<Layout> saved = LayoutOf(old->state_key_);
  if (!saved) return false;
  dropped_ += old->TakeDropped();
  const auto [l, r] = old->TakeUnmatched();
  unmatched_left_ += l;
  unmatched_right_ += r;
  old->TakeUnmatchedRights(&unmatched_rights_);
  // The old operator's state points into its definition's programs only
  // through the def; a round trip through the encoding keeps it simple.
  Encoder enc;
  old->EncodeState(&enc);
  const std::string bytes = enc.Release();
  Decoder dec(bytes);
  return DecodeStateAs(*saved, &dec, nullptr);
}

bool JoinOperator::DecodeStateOf(std::string_view saved_key, Decoder* dec) {
  const std::optional<Layout> saved = LayoutOf(saved_key);
  return saved && DecodeStateAs(*saved, dec, nullptr);
}

bool JoinOperator::DecodeState(Decoder* dec,
                               const std::function<bool(std::string_view key)>& keep) {
  return DecodeStateAs(Layout{left_inputs_, right_inputs_, emit_kept_}, dec, keep);
}

// Format 1: the keys, sorted, each with its waiting lefts and rights
// (sorted by time, matches, values); then the records found and not yet
// emitted, sorted as they will be emitted.
void JoinOperator::EncodeStates(const std::vector<const KeyedOperator*>& parts,
                                Encoder* enc) const {
  // Every waiting event has one expiry: they list the entries.
  std::vector<const Entry*> entries;
  std::vector<const Record*> records;
  for (const KeyedOperator* part : parts) {
    const auto* op = static_cast<const JoinOperator*>(part);
    for (const auto& [bucket, expiries] : op->state_->expiries) {
      for (const Expiry& e : expiries) entries.push_back(&op->At(e.id));
    }
    for (const Record& r : op->state_->records) records.push_back(&r);
  }
  std::sort(entries.begin(), entries.end(), [](const Entry* a, const Entry* b) {
    const std::string_view ak = a->key(), bk = b->key();
    if (ak != bk) return ak < bk;
    if (a->right != b->right) return b->right;
    return WaitingBefore(a->values(), a->ts, a->matches, b->values(), b->ts, b->matches);
  });
  std::sort(records.begin(), records.end(),
            [this](const Record* a, const Record* b) { return RecordBefore(*a, *b); });
  enc->PutByte(kStateFormat);
  size_t keys = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    keys += i == 0 || entries[i]->key() != entries[i - 1]->key();
  }
  enc->PutVarint(keys);
  for (size_t i = 0; i < entries.size();) {
    const std::string_view key = entries[i]->key();
    enc->PutString(key);
    for (bool right : {false, true}) {
      size_t n = 0;
      while (i + n < entries.size() && entries[i + n]->key() == key &&
             entries[i + n]->right == right) {
        ++n;
      }
      enc->PutVarint(n);
      for (; n > 0; --n, ++i) {
        enc->PutSigned(entries[i]->ts);
        enc->PutVarint(entries[i]->matches);
        enc->PutString(entries[i]->values());
      }
    }
  }
  enc->PutVarint(records.size());
  for (const Record* r : records) {
    enc->PutSigned(r->time);
    enc->PutString(r->key());
    enc->PutSigned(r->left_ts);
    enc->PutSigned(r->right_ts);
    enc->PutString(r->values());
  }
}

// A state packed another way (`saved`) is re-packed as this join packs:
// the fields and emits it keeps, those the state lacks missing.
bool JoinOperator::DecodeStateAs(const Layout& saved, Decoder* dec,
                                 const std::function<bool(std::string_view key)>& keep) {
  const bool same =
      saved.left == left_inputs_ && saved.right == right_inputs_ && saved.emits == emit_kept_;
  const std::vector<int> left_at = PositionsIn(saved.left, left_inputs_);
  const std::vector<int> right_at = PositionsIn(saved.right, right_inputs_);
  Encoder repacked;
  auto repack = [&](const std::vector<Value>& values,
                    const std::vector<int>& at) -> std::string_view {
    repacked.Clear();
    for (int p : at)
      PackValue(p >= 0 ? values[static_cast<size_t>(p)] : Value::Missing(), &repacked);
    return repacked.data();
  };
  auto fresh = std::make_unique<State>();
  std::swap(state_, fresh);  // Keep() fills state_; `fresh` holds the old one
  auto fail = [&] {
    state_ = std::move(fresh);
    return false;
  };
  if (dec->GetByte() != kStateFormat) return fail();
  const uint64_t keys = dec->GetVarint();
  for (uint64_t k = 0; k < keys && dec->ok(); ++k) {
    const std::string key(dec->GetString());
    const bool mine = !keep || keep(key);
    for (bool right : {false, true}) {
      const uint64_t n = dec->GetVarint();
      for (uint64_t i = 0; i < n && dec->ok(); ++i) {
        Half w;
        w.ts = dec->GetSigned();
        const auto matches = static_cast<uint32_t>(dec->GetVarint());
        w.values = dec->GetString();  // copied by Keep
        const size_t count = right ? saved.right.size() : saved.left.size();
        std::vector<Value> check(count);
        if (!UnpackValues(w.values, count, check.data())) return fail();
        if (!same) w.values = repack(check, right ? right_at : left_at);
        if (mine) {
          const uint64_t hash = HashKey(key);
          const uint32_t head = Find(hash, key);
          uint32_t after = kNone;  // a left goes after the key's rights
          for (uint32_t id = head; !right && id != kNone && At(id).right; id = At(id).next) {
            after = id;
          }
          Keep(hash, key, head, after, right, w, matches);
        }
      }
    }
  }
  const uint64_t records = dec->GetVarint();
  for (uint64_t i = 0; i < records && dec->ok(); ++i) {
    const TimeMs time = dec->GetSigned();
    const std::string_view key = dec->GetString();
    const TimeMs left_ts = dec->GetSigned();
    const TimeMs right_ts = dec->GetSigned();
    std::vector<Value> check(record_.slots.size() - kJoinDelaySlot);
    std::string_view values = dec->GetString();
    if (!UnpackValues(values, check.size(), check.data())) return fail();
    if (!same) {
      repacked.Clear();
      PackValue(check[0], &repacked);  // delay_ms
      for (size_t k = 0; k < emit_kept_.size(); ++k) {
        PackValue(emit_kept_[k] ? check[1 + k] : Value::Missing(), &repacked);
      }
      values = repacked.data();
    }
    if (!keep || keep(key)) KeepRecord(time, key, left_ts, right_ts, values);
  }
  if (!dec->ok()) return fail();
  return true;
}

}  // namespace vigil
