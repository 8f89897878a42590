#include "windows/accumulator.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace vigil {

std::string_view AggKindName(AggKind kind) {
  switch (kind) {
    case AggKind::kCount:
      return "count";
    case AggKind::kSum:
      return "sum";
    case AggKind::kAvg:
      return "avg";
    case AggKind::kMin:
      return "min";
    case AggKind::kMax:
      return "max";
    case AggKind::kRatio:
      return "ratio";
    case AggKind::kRate:
      return "rate";
    case AggKind::kLast:
      return "last";
    case AggKind::kDistinct:
      return "distinct";
    case AggKind::kQuantile:
      return "quantile";
    case AggKind::kFirst:
      return "first";
    case AggKind::kAny:
      return "any";
    case AggKind::kAll:
      return "all";
  }
  return "?";
}

bool IsInvertible(AggKind kind) {
  switch (kind) {
    case AggKind::kCount:
    case AggKind::kSum:
    case AggKind::kAvg:
    case AggKind::kRatio:
    case AggKind::kRate:
      return true;
    default:
      return false;
  }
}

Accumulator::Accumulator(AggKind kind, double quantile) : kind_(kind), q_(quantile) {
  if (kind_ == AggKind::kQuantile) sketch_ = std::make_unique<DDSketch>();
  if (kind_ == AggKind::kDistinct) distinct_ = std::make_unique<DistinctSketch>();
}

Accumulator::Accumulator(const Accumulator& o)
    : kind_(o.kind_), q_(o.q_), n_(o.n_), hits_(o.hits_), x_(o.x_), t_(o.t_), sum_(o.sum_) {
  if (o.sketch_) sketch_ = std::make_unique<DDSketch>(*o.sketch_);
  if (o.distinct_) distinct_ = std::make_unique<DistinctSketch>(*o.distinct_);
}

Accumulator& Accumulator::operator=(const Accumulator& o) {
  if (this != &o) {
    Accumulator copy(o);
    *this = std::move(copy);
  }
  return *this;
}

void Accumulator::Merge(const Accumulator& o) {
  assert(kind_ == o.kind_);
  switch (kind_) {
    case AggKind::kMin:
      if (o.n_ != 0) x_ = n_ == 0 ? o.x_ : MinOf(x_, o.x_);
      n_ += o.n_;
      break;
    case AggKind::kMax:
      if (o.n_ != 0) x_ = n_ == 0 ? o.x_ : MaxOf(x_, o.x_);
      n_ += o.n_;
      break;
    case AggKind::kLast:
      // Equal times resolve to the larger value so the merge is commutative.
      if (o.n_ != 0 && (n_ == 0 || o.t_ > t_ || (o.t_ == t_ && AboveOf(x_, o.x_)))) {
        x_ = o.x_;
        t_ = o.t_;
      }
      n_ += o.n_;
      break;
    case AggKind::kQuantile:
      assert(sketch_ && o.sketch_ && "a quantile accumulator whose sketch was taken");
      sketch_->Merge(*o.sketch_);
      break;
    case AggKind::kDistinct:
      distinct_->Merge(*o.distinct_);
      break;
    case AggKind::kSum:
    case AggKind::kAvg:
      sum_.Merge(o.sum_);
      n_ += o.n_;
      break;
    default:
      n_ += o.n_;
      hits_ += o.hits_;
  }
}

void Accumulator::Subtract(const Accumulator& o) {
  assert(IsInvertible(kind_) && kind_ == o.kind_);
  n_ -= o.n_;
  hits_ -= o.hits_;
  sum_.Subtract(o.sum_);
  // An empty window's sum is zero, also once it overflowed.
  if (n_ == 0) sum_.Clear();
}

void Accumulator::Clear() {
  n_ = hits_ = 0;
  x_ = 0;
  t_ = kMinTime;
  sum_.Clear();
  if (sketch_) sketch_->Clear();
  if (distinct_) distinct_ = std::make_unique<DistinctSketch>();
}

std::optional<double> Accumulator::Result(DurationMs window_size) const {
  switch (kind_) {
    case AggKind::kCount:
      return static_cast<double>(hits_);
    case AggKind::kSum:
      return sum_.value();
    case AggKind::kAvg:
      if (n_ == 0) return std::nullopt;
      return sum_.Mean(n_);
    case AggKind::kMin:
    case AggKind::kMax:
    case AggKind::kLast:
      if (n_ == 0) return std::nullopt;
      return x_;
    case AggKind::kRatio:
      if (n_ == 0) return std::nullopt;
      return static_cast<double>(hits_) / static_cast<double>(n_);
    case AggKind::kRate:
      return static_cast<double>(hits_) * 1000.0 / static_cast<double>(window_size);
    case AggKind::kDistinct:
      return distinct_->Estimate();
    case AggKind::kQuantile:
      if (!sketch_ || sketch_->empty()) return std::nullopt;
      return sketch_->Quantile(q_);
    case AggKind::kFirst:
    case AggKind::kAny:
    case AggKind::kAll:
      assert(false && "a session aggregate in an Accumulator");
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<double> Accumulator::RatioOver(uint64_t num, uint64_t den) const {
  assert(kind_ == AggKind::kRatio && num > 0 && den > 0);
  if (n_ == 0) return std::nullopt;
  const unsigned __int128 top = static_cast<unsigned __int128>(hits_) * den;
  const unsigned __int128 bottom = static_cast<unsigned __int128>(n_) * num;
  constexpr unsigned __int128 kExact = static_cast<unsigned __int128>(1) << 53;
  if (top < kExact && bottom < kExact) {
    return static_cast<double>(top) / static_cast<double>(bottom);  // one rounding
  }
  return static_cast<double>(static_cast<long double>(top) / static_cast<long double>(bottom));
}

std::optional<double> Accumulator::QuantileAt(double q) const {
  assert(kind_ == AggKind::kQuantile);
  if (!sketch_ || sketch_->empty()) return std::nullopt;
  return sketch_->Quantile(q);
}

// The kind byte's high bit: an exact sum follows the fixed fields (sum and
// avg). Without it (older checkpoints and partials) the sum is the double
// in x_.
constexpr uint8_t kExactSumFlag = 0x80;

void Accumulator::Encode(Encoder* enc) const {
  const bool sums = kind_ == AggKind::kSum || kind_ == AggKind::kAvg;
  enc->PutByte(static_cast<uint8_t>(kind_) | (sums ? kExactSumFlag : 0));
  enc->PutDouble(q_);
  enc->PutVarint(n_);
  enc->PutVarint(hits_);
  enc->PutDouble(x_);
  enc->PutSigned(t_);
  if (sums) sum_.Encode(enc);
  assert((sketch_ != nullptr) == (kind_ == AggKind::kQuantile) && "encoding a taken sketch");
  if (sketch_) sketch_->Encode(enc);
  if (distinct_) distinct_->Encode(enc);
}

bool Accumulator::Decode(Decoder* dec, Accumulator* out) {
  uint8_t kind = dec->GetByte();
  const bool exact = (kind & kExactSumFlag) != 0;
  kind &= ~kExactSumFlag;
  if (kind > static_cast<uint8_t>(AggKind::kQuantile)) return false;
  const bool sums =
      kind == static_cast<uint8_t>(AggKind::kSum) || kind == static_cast<uint8_t>(AggKind::kAvg);
  if (exact && !sums) return false;
  Accumulator acc(static_cast<AggKind>(kind), dec->GetDouble());
  acc.n_ = dec->GetVarint();
  acc.hits_ = dec->GetVarint();
  acc.x_ = dec->GetDouble();
  acc.t_ = dec->GetSigned();
  if (exact) {
    if (!acc.sum_.Decode(dec)) return false;
  } else if (sums) {
    acc.sum_ = ExactSum::FromPlain(acc.x_);
    acc.x_ = 0;
  }
  if (acc.sketch_ && !DDSketch::Decode(dec, acc.sketch_.get())) return false;
  if (acc.distinct_ && !DistinctSketch::Decode(dec, acc.distinct_.get())) return false;
  if (!dec->ok()) return false;
  *out = std::move(acc);
  return true;
}

bool operator==(const Accumulator& a, const Accumulator& b) {
  if (a.kind_ != b.kind_ || a.q_ != b.q_ || a.n_ != b.n_ || a.hits_ != b.hits_ || a.x_ != b.x_ ||
      a.t_ != b.t_ || !(a.sum_ == b.sum_))
    return false;
  if (a.sketch_ && !(*a.sketch_ == *b.sketch_)) return false;
  if (a.distinct_ && !(*a.distinct_ == *b.distinct_)) return false;
  return true;
}

}  // namespace vigil
