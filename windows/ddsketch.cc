#include "windows/ddsketch.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace vigil {
namespace internal {
namespace {

// P(s) and P'(s) of LogMapping's cubic.
double Cubic(double s) { return ((LogMapping::kA * s + LogMapping::kB) * s + LogMapping::kC) * s; }
double CubicDerivative(double s) {
  return (3.0 * LogMapping::kA * s + 2.0 * LogMapping::kB) * s + LogMapping::kC;
}

// Inverse of L(v) = e + P(s): the value whose approximate log2 is `y`.
// P is increasing and concave on [0, 1] with P' >= 26/35, so Newton's method
// from s = t converges monotonically; a handful of steps reach full double
// precision. This runs once per quantile, never per event.
double InverseLog2(double y) {
  const double e = std::floor(y);
  const double t = y - e;
  double s = t;
  for (int i = 0; i < 32; ++i) {
    const double step = (Cubic(s) - t) / CubicDerivative(s);
    s = std::clamp(s - step, 0.0, 1.0);
    if (std::abs(step) <= 1e-17) break;
  }
  return std::ldexp(1.0 + s, static_cast<int>(e));
}

constexpr int32_t kInitialBuckets = 128;

}  // namespace

LogMapping::LogMapping(double relative_accuracy) {
  const double gamma_minus_one = 2.0 * relative_accuracy / (1.0 - relative_accuracy);
  multiplier_ = 0.7 / std::log1p(gamma_minus_one);
}

double LogMapping::LowerBound(int32_t index) const {
  return InverseLog2((static_cast<double>(index) - 1.0) / multiplier_);
}

double LogMapping::Value(int32_t index) const {
  const double lo = LowerBound(index);
  const double hi = LowerBound(index + 1);
  // 2 * lo * hi / (lo + hi), arranged so that lo * hi cannot overflow.
  return lo * (2.0 / (1.0 + lo / hi));
}

int32_t DenseStore::MakeRoom(int32_t index) {
  if (total_ == 0) {
    if (counts_.empty()) counts_.assign(std::min(kInitialBuckets, max_buckets_), 0);
    offset_ = static_cast<int64_t>(index) - static_cast<int64_t>(counts_.size() / 2);
    return index;
  }
  const int64_t hi = std::max(max_index_, index);
  const int64_t floor = hi - max_buckets_ + 1;
  const int64_t lo = std::max<int64_t>(std::min(min_index_, index), floor);
  const size_t needed = static_cast<size_t>(hi - lo + 1);
  size_t new_size = counts_.size();
  if (needed > new_size) {
    new_size = std::min(static_cast<size_t>(max_buckets_), needed + needed / 2);
  }
  // Spare buckets go on the side the data grows towards, so a drifting
  // stream relocates O(log span) times rather than on every new extreme.
  const int64_t new_offset = index < min_index_ ? hi - static_cast<int64_t>(new_size) + 1 : lo;
  Relocate(new_offset, new_size, floor);
  return static_cast<int32_t>(std::max<int64_t>(index, floor));
}

void DenseStore::Relocate(int64_t new_offset, size_t new_size, int64_t floor) {
  uint64_t folded = 0;
  int64_t block_lo = min_index_;
  for (; block_lo <= max_index_ && block_lo < floor; ++block_lo) {
    uint64_t& count = counts_[static_cast<size_t>(block_lo - offset_)];
    folded += count;
    count = 0;
  }
  if (new_size > counts_.size()) counts_.resize(new_size, 0);
  uint64_t* data = counts_.data();
  if (block_lo <= max_index_) {
    const size_t len = static_cast<size_t>(max_index_ - block_lo + 1);
    const size_t src = static_cast<size_t>(block_lo - offset_);
    const size_t dst = static_cast<size_t>(block_lo - new_offset);
    std::memmove(data + dst, data + src, len * sizeof(uint64_t));
    std::fill(data, data + dst, 0);
    std::fill(data + dst + len, data + counts_.size(), 0);
    min_index_ = static_cast<int32_t>(block_lo);
  } else {
    std::fill(counts_.begin(), counts_.end(), 0);
    min_index_ = static_cast<int32_t>(floor);
    max_index_ = static_cast<int32_t>(floor);
  }
  offset_ = new_offset;
  if (folded > 0) {
    data[floor - offset_] += folded;
    min_index_ = static_cast<int32_t>(floor);
  }
}

void DenseStore::Merge(const DenseStore& other) {
  assert(&other != this);
  if (other.total_ == 0) return;
  // Adding both extremes first sizes the window (and fixes the collapse
  // floor) once; the interior then goes straight into the counts.
  Add(other.max_index_, other.CountAt(other.max_index_));
  if (other.min_index_ == other.max_index_) return;
  Add(other.min_index_, other.CountAt(other.min_index_));
  const int64_t floor = static_cast<int64_t>(max_index_) - max_buckets_ + 1;
  const uint64_t* theirs = other.counts_.data();
  uint64_t* mine = counts_.data();
  uint64_t interior = 0;
  int64_t i = other.min_index_ + 1;
  for (; i < other.max_index_ && i < floor; ++i) {
    mine[floor - offset_] += theirs[i - other.offset_];
    interior += theirs[i - other.offset_];
  }
  for (; i < other.max_index_; ++i) {
    mine[i - offset_] += theirs[i - other.offset_];
    interior += theirs[i - other.offset_];
  }
  total_ += interior;
}

void DenseStore::Clear() {
  if (total_ > 0) {
    std::fill(counts_.begin() + (min_index_ - offset_),
              counts_.begin() + (max_index_ - offset_) + 1, 0);
  }
  total_ = 0;
  min_index_ = std::numeric_limits<int32_t>::max();
  max_index_ = std::numeric_limits<int32_t>::min();
}

int32_t DenseStore::IndexOfRank(uint64_t rank, bool descending) const {
  uint64_t seen = 0;
  if (descending) {
    for (int32_t i = max_index_; i > min_index_; --i) {
      seen += CountAt(i);
      if (rank < seen) return i;
    }
    return min_index_;
  }
  for (int32_t i = min_index_; i < max_index_; ++i) {
    seen += CountAt(i);
    if (rank < seen) return i;
  }
  return max_index_;
}

void DenseStore::Encode(Encoder* enc) const {
  enc->PutVarint(static_cast<uint64_t>(span()));
  if (empty()) return;
  enc->PutSigned(min_index_);
  for (int32_t i = min_index_; i <= max_index_; ++i) enc->PutVarint(CountAt(i));
}

bool DenseStore::Decode(Decoder* dec, int32_t lowest, int32_t highest) {
  Clear();
  const uint64_t span = dec->GetVarint();
  if (!dec->ok()) return false;
  if (span == 0) return true;
  const int64_t first = dec->GetSigned();
  if (!dec->ok() || span > static_cast<uint64_t>(max_buckets_) || first < lowest ||
      first > highest || first + static_cast<int64_t>(span) - 1 > highest) {
    return false;
  }
  counts_.assign(std::max<size_t>(counts_.size(), span), 0);
  offset_ = first;
  for (uint64_t i = 0; i < span; ++i) {
    const uint64_t count = dec->GetVarint();
    // The encoding is canonical: the end buckets are the non-empty extremes.
    if (!dec->ok() || ((i == 0 || i == span - 1) && count == 0) ||
        __builtin_add_overflow(total_, count, &total_)) {
      std::fill(counts_.begin(), counts_.end(), 0);
      total_ = 0;
      return false;
    }
    counts_[i] = count;
  }
  min_index_ = static_cast<int32_t>(first);
  max_index_ = static_cast<int32_t>(first + static_cast<int64_t>(span) - 1);
  return true;
}

bool operator==(const DenseStore& a, const DenseStore& b) {
  if (a.total_ != b.total_) return false;
  if (a.total_ == 0) return true;
  if (a.min_index_ != b.min_index_ || a.max_index_ != b.max_index_) return false;
  for (int32_t i = a.min_index_; i <= a.max_index_; ++i) {
    if (a.CountAt(i) != b.CountAt(i)) return false;
  }
  return true;
}

}  // namespace internal

DDSketch::DDSketch(double relative_accuracy, int32_t max_buckets)
    : relative_accuracy_(relative_accuracy),
      max_buckets_(max_buckets),
      mapping_(relative_accuracy),
      positive_(max_buckets),
      negative_(max_buckets) {
  assert(relative_accuracy >= kMinRelativeAccuracy && relative_accuracy < 1.0);
  assert(max_buckets >= kMinMaxBuckets && max_buckets <= kMaxMaxBuckets);
}

void DDSketch::Merge(const DDSketch& other) {
  assert(relative_accuracy_ == other.relative_accuracy_);
  assert(max_buckets_ == other.max_buckets_);
  if (other.count_ == 0) return;
  if (&other == this) {
    // The stores are read while they are written: merge a snapshot instead.
    const DDSketch snapshot = other;  // NOLINT(performance-unnecessary-copy-initialization)
    Merge(snapshot);
    return;
  }
  positive_.Merge(other.positive_);
  negative_.Merge(other.negative_);
  zero_count_ += other.zero_count_;
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

double DDSketch::Quantile(double q) const {
  if (count_ == 0 || !(q >= 0.0 && q <= 1.0)) return std::numeric_limits<double>::quiet_NaN();
  const uint64_t rank =
      std::min(static_cast<uint64_t>(q * static_cast<double>(count_ - 1)), count_ - 1);
  // The extreme ranks are known exactly.
  if (rank == 0) return min_;
  if (rank == count_ - 1) return max_;
  double estimate;
  const uint64_t negatives = negative_.total();
  if (rank < negatives) {
    // Ascending order of negative values is descending order of magnitude.
    estimate = -mapping_.Value(negative_.IndexOfRank(rank, /*descending=*/true));
  } else if (rank < negatives + zero_count_) {
    estimate = 0.0;
  } else {
    const uint64_t positive_rank = rank - negatives - zero_count_;
    estimate = mapping_.Value(positive_.IndexOfRank(positive_rank, /*descending=*/false));
  }
  return std::clamp(estimate, min_, max_);
}

void DDSketch::Clear() {
  positive_.Clear();
  negative_.Clear();
  zero_count_ = 0;
  count_ = 0;
  min_ = std::numeric_limits<double>::infinity();
  max_ = -std::numeric_limits<double>::infinity();
  sum_ = 0.0;
}

void DDSketch::Encode(Encoder* enc) const {
  enc->PutDouble(relative_accuracy_);
  enc->PutVarint(static_cast<uint64_t>(max_buckets_));
  enc->PutVarint(zero_count_);
  positive_.Encode(enc);
  negative_.Encode(enc);
  if (count_ == 0) return;
  enc->PutDouble(min_);
  enc->PutDouble(max_);
  enc->PutDouble(sum_);
}

bool DDSketch::Decode(Decoder* dec, DDSketch* out) {
  const double accuracy = dec->GetDouble();
  const uint64_t max_buckets = dec->GetVarint();
  if (!dec->ok() || !(accuracy >= kMinRelativeAccuracy && accuracy < 1.0) ||
      max_buckets < static_cast<uint64_t>(kMinMaxBuckets) ||
      max_buckets > static_cast<uint64_t>(kMaxMaxBuckets)) {
    return false;
  }
  DDSketch sketch(accuracy, static_cast<int32_t>(max_buckets));
  // Every index a finite value can map to; anything outside is corrupt.
  const int32_t lowest = sketch.mapping_.Index(kMinIndexable);
  const int32_t highest = sketch.mapping_.Index(std::numeric_limits<double>::max());
  sketch.zero_count_ = dec->GetVarint();
  if (!dec->ok() || !sketch.positive_.Decode(dec, lowest, highest) ||
      !sketch.negative_.Decode(dec, lowest, highest)) {
    return false;
  }
  uint64_t count = 0;
  if (__builtin_add_overflow(sketch.zero_count_, sketch.positive_.total(), &count) ||
      __builtin_add_overflow(count, sketch.negative_.total(), &count)) {
    return false;
  }
  sketch.count_ = count;
  if (count > 0) {
    sketch.min_ = dec->GetDouble();
    sketch.max_ = dec->GetDouble();
    sketch.sum_ = dec->GetDouble();
    // The sum may legitimately have overflowed to infinity (or NaN, from
    // +inf and -inf), so only min and max are checked.
    if (!dec->ok() || !std::isfinite(sketch.min_) || !std::isfinite(sketch.max_) ||
        sketch.min_ > sketch.max_) {
      return false;
    }
  }
  *out = std::move(sketch);
  return true;
}

bool operator==(const DDSketch& a, const DDSketch& b) {
  if (a.relative_accuracy_ != b.relative_accuracy_ || a.max_buckets_ != b.max_buckets_ ||
      a.count_ != b.count_ || a.zero_count_ != b.zero_count_ || !(a.positive_ == b.positive_) ||
      !(a.negative_ == b.negative_)) {
    return false;
  }
  if (a.count_ == 0) return true;
  if (a.min_ != b.min_ || a.max_ != b.max_) return false;
  if (a.sum_ == b.sum_ || (std::isnan(a.sum_) && std::isnan(b.sum_))) return true;
  return std::abs(a.sum_ - b.sum_) <= 1e-9 * std::max(std::abs(a.sum_), std::abs(b.sum_));
}

}  // namespace vigil
