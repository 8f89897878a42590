// SessionOperator's state in checkpoints, reloads and handovers: the
// encoding of its open sessions and the way back.
#include <cassert>

#include "operators/dataflow/session_operator.h"

namespace vigil {

bool SessionOperator::AdoptState(KeyedOperator& other) {
  auto* old = dynamic_cast<SessionOperator*>(&other);
  if (old == nullptr || old->state_key_ != state_key_ || !old->state_) return false;
  dropped_ += old->TakeDropped();
  // A round trip through the checkpoint encoding: the sessions' merge
  // function and strings belong to the operator that holds them.
  Encoder enc;
  old->EncodeState(&enc);
  std::string bytes = enc.Release();
  Decoder dec(bytes);
  return DecodeState(&dec);
}

// Per input, whatever its kind: x, n, t, kind and, for a string first or
// last, the string; then the sketches. A tally's t and kind, a pick's n and
// all four of a sketch's input are always 0.
void SessionOperator::EncodeStates(const std::vector<const KeyedOperator*>& parts,
                                   Encoder* enc) const {
  size_t sessions = 0;
  for (const KeyedOperator* part : parts) sessions += part->open_sessions();
  enc->PutVarint(sessions);
  for (const KeyedOperator* part : parts)
    static_cast<const SessionOperator*>(part)->EncodeSessions(enc);
}

void SessionOperator::EncodeSessions(Encoder* enc) const {
  state_->windows.ForEach([&](std::string_view key, const SessionWindows<Session>::Session& s) {
    enc->PutString(key);
    enc->PutSigned(s.start);
    enc->PutSigned(s.last);
    for (const Input& in : inputs_) {
      if (IsPick(in.kind)) {
        const Pick& c = PicksOf(s.state)[in.cell];
        enc->PutDouble(c.kind == kStringKind ? 0 : c.x());
        enc->PutSigned(0);
        enc->PutSigned(c.t);
        enc->PutByte(c.kind);
        if (c.kind == kStringKind) enc->PutString(StringOf(c));
      } else {
        const Tally none;
        const Tally& c = IsSketch(in.kind) ? none : TalliesOf(s.state)[in.cell];
        if (in.sum >= 0) {
          // The sum's value where older versions had it, then (kind 1) its
          // exact state.
          const ExactSum& sum = SumsOf(s.state)[in.sum];
          enc->PutDouble(sum.value());
          enc->PutSigned(c.n);
          enc->PutSigned(0);
          enc->PutByte(kExactSumFollows);
          sum.Encode(enc);
          continue;
        }
        enc->PutDouble(c.x);
        enc->PutSigned(c.n);
        enc->PutSigned(0);
        enc->PutByte(0);
      }
    }
    for (size_t k = 0; k < sketch_prototype_.size(); ++k) EncodeSketch(s.state, k, enc);
  });
}

void SessionOperator::EncodeSketch(const Session& s, size_t k, Encoder* enc) const {
  const int small = small_of_sketch_[k];
  if (small >= 0 && SmallsOf(s)[small].spilled == 0) {
    const SmallSet& c = SmallsOf(s)[small];
    Accumulator acc = sketch_prototype_[k];
    for (uint32_t i = 0; i < c.size; ++i) acc.AddHash(c.hash[i]);
    acc.Encode(enc);
    return;
  }
  assert(s.sketches);
  (*s.sketches)[k].Encode(enc);
}

bool SessionOperator::DecodeState(Decoder* dec,
                                  const std::function<bool(std::string_view key)>& keep) {
  auto fresh = std::make_unique<State>(this);
  std::swap(state_, fresh);
  const uint64_t n = dec->GetVarint();
  for (uint64_t k = 0; k < n && dec->ok(); ++k) {
    const std::string key(dec->GetString());
    const TimeMs start = dec->GetSigned();
    const TimeMs last = dec->GetSigned();
    Session s = NewSession();
    if (!DecodeCells(dec, s)) {
      state_ = std::move(fresh);  // keep what was there
      return false;
    }
    if (keep && !keep(key)) {
      Release(s);  // another worker's
      continue;
    }
    state_->windows.Restore(key, start, last, std::move(s));
  }
  if (!dec->ok()) {
    state_ = std::move(fresh);
    return false;
  }
  return true;
}

bool SessionOperator::DecodeCells(Decoder* dec, Session& s) {
  for (const Input& in : inputs_) {
    const double x = dec->GetDouble();
    const int64_t n = dec->GetSigned();
    const TimeMs t = dec->GetSigned();
    const uint8_t kind = dec->GetByte();
    if (IsPick(in.kind)) {
      Pick& c = PicksOf(s)[in.cell];
      c.t = t;
      c.kind = kind;
      if (kind == kStringKind) {
        SetString(c, dec->GetString());
      } else {
        c.set_x(x);
        c.size = 0;
      }
    } else if (!IsSketch(in.kind)) {
      Tally& c = TalliesOf(s)[in.cell];
      c.n = n;
      if (in.sum < 0) {
        c.x = x;
      } else if (kind == kExactSumFollows) {
        if (!SumsOf(s)[in.sum].Decode(dec)) return false;
      } else {
        SumsOf(s)[in.sum] = ExactSum::FromPlain(x);  // written before sums were exact
      }
    }
  }
  if (sketch_prototype_.empty()) return dec->ok();
  std::vector<Accumulator>& sketches = SketchesOf(s);
  for (size_t k = 0; k < sketches.size(); ++k) {
    // A sketch of another kind is no state of this stream.
    if (!Accumulator::Decode(dec, &sketches[k]) ||
        sketches[k].kind() != sketch_prototype_[k].kind()) {
      return false;
    }
  }
  // A distinct of few values goes back to its small set.
  bool spilled = false;
  for (const Input& in : inputs_) {
    if (in.small < 0) continue;
    SmallSet& c = SmallsOf(s)[in.small];
    Accumulator& a = sketches[in.cell];
    if (a.distinct_sketch()->CopyExact(c.hash, SmallSet::kInline, &c.size)) {
      a = sketch_prototype_[in.cell];
    } else {
      c.spilled = 1;
      spilled = true;
    }
  }
  if (!has_quantile_ && !spilled) s.sketches.reset();
  return dec->ok();
}

}  // namespace vigil
