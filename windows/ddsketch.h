// windows/ddsketch.h
//
// DDSketch is a mergeable quantile sketch with a relative-error guarantee
// (Masson, Rim and Lee, "DDSketch: a fast and fully-mergeable quantile sketch
// with relative-error guarantees", VLDB 2019). Values are counted in
// logarithmically sized buckets; every bucket spans a ratio of at most
// gamma = (1 + alpha) / (1 - alpha), so answering with the bucket's
// representative value is off by at most alpha relative to the true value of
// the requested rank:
//
//   |Quantile(q) - exact| <= alpha * |exact|
//
// where exact is the value of 0-based rank floor(q * (count - 1)) of the
// sorted input. Count, min, max and sum are kept exactly, Quantile(0) is the
// exact minimum, Quantile(1) the exact maximum, and every estimate is clamped
// to [min, max].
//
// Positive and negative values are counted in two stores (negative values by
// their magnitude); values whose magnitude is below DBL_MIN (2.2e-308, i.e.
// zero and subnormals) go to a zero count. NaN and infinities are ignored and
// not counted.
//
// Memory is bounded: each store holds at most `max_buckets` consecutive
// buckets (2048 by default, 16 KiB). When the values of one sign span more
// buckets than that, the buckets of the smallest magnitudes are collapsed into
// the lowest bucket kept. Consequence: a quantile whose rank falls among the
// collapsed values is reported with the magnitude of that lowest kept bucket,
// too large (and the further off the smaller the true magnitude), while all
// other quantiles keep the guarantee. At the default accuracy
// of 0.5% the 2048 buckets cover a ratio of about 6e8 between the largest and
// the smallest magnitude of one sign (e.g. 1 microsecond to 10 minutes of
// latency) before anything collapses. The collapse is deterministic: the
// buckets are a function of the multiset of values only, so merges in any
// order or tree give equal sketches (see operator== for the sum).
//
// Add() is built for the per-event path: no allocation once the stores span
// the data, a polynomial logarithm instead of std::log (see LogMapping), and
// the bucket update inline.
//
// Example:
//   DDSketch sketch;                    // alpha = 0.005
//   for (double v : {1.0, 2.0, 3.0, 4.0, 100.0}) sketch.Add(v);
//   sketch.Quantile(0.0);               // 1.0 (exact min)
//   sketch.Quantile(0.5);               // ~3.0, within 0.5%
//   sketch.Quantile(1.0);               // 100.0 (exact max)
//   sketch.count();                     // 5
//   DDSketch other;
//   other.Add(7.0, /*weight=*/3);
//   sketch.Merge(other);                // count() == 8
//   Encoder enc;
//   sketch.Encode(&enc);
//   Decoder dec(enc.data());
//   DDSketch restored;
//   DDSketch::Decode(&dec, &restored);  // true; restored == sketch
#ifndef VIGIL_WINDOWS_DDSKETCH_H_
#define VIGIL_WINDOWS_DDSKETCH_H_

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "windows/codec.h"

namespace vigil {
namespace internal {

// Maps a positive value to the index of its bucket. The index is
// ceil(multiplier * L(v)), where L approximates log2: for v = 2^e * (1 + s),
// s in [0, 1), L(v) = e + P(s) with the cubic P(s) = A s^3 + B s^2 + C s,
// P(0) = 0, P(1) = 1, so L is continuous and increasing. Its derivative with
// respect to ln(v), (1 + s) P'(s), never falls below 10/7 (reached at s = 0
// and s = 2/3), so choosing multiplier = 0.7 / ln(gamma) makes every bucket
// span a ratio of at most gamma, which is what the accuracy guarantee needs.
// This costs about 1% more buckets than an exact logarithm (whose derivative
// is 1/ln 2 = 1.4427 everywhere).
//
// Why not std::log: measured on x86-64 (2.1 GHz, GCC 12 -O2, glibc 2.36),
// the index costs ~1.8 ns of CPU with the cubic against ~5.0 ns with
// ceil(std::log(v) * k) (BM_LogMappingCubic / BM_LogMappingStdLog in
// bench/sketch_bench.cc), and a whole Add() ~5.4 ns against ~9.2 ns. On the
// per-event path that is worth the 1% more buckets.
class LogMapping {
 public:
  explicit LogMapping(double relative_accuracy);

  // `v` must be finite and >= DBL_MIN.
  int32_t Index(double v) const {
    const uint64_t bits = std::bit_cast<uint64_t>(v);
    const int64_t exponent = static_cast<int64_t>(bits >> 52) - 1023;
    const double s = std::bit_cast<double>((bits & kMantissaMask) | kOneBits) - 1.0;
    const double log2_approx = static_cast<double>(exponent) + ((kA * s + kB) * s + kC) * s;
    const double scaled = log2_approx * multiplier_;
    // ceil() without a libm call: truncation rounds towards zero, which is
    // already the ceiling for negative inputs.
    const int32_t truncated = static_cast<int32_t>(scaled);
    return truncated + (static_cast<double>(truncated) < scaled ? 1 : 0);
  }

  // The value reported for bucket `index`: the harmonic-style mean
  // 2 * lo * hi / (lo + hi) of the bucket bounds, whose relative distance to
  // any value in (lo, hi] is at most (hi - lo) / (hi + lo) <= alpha.
  double Value(int32_t index) const;
  // The exclusive lower bound of bucket `index` (the upper bound of index-1).
  double LowerBound(int32_t index) const;

  double multiplier() const { return multiplier_; }

  static constexpr double kA = 6.0 / 35.0;
  static constexpr double kB = -3.0 / 5.0;
  static constexpr double kC = 10.0 / 7.0;

 private:
  static constexpr uint64_t kMantissaMask = 0x000fffffffffffff;
  static constexpr uint64_t kOneBits = 0x3ff0000000000000;

  double multiplier_;
};

// Counts per bucket index in one contiguous window [offset_, offset_ + size)
// that grows towards new data, with spare room on the side it grows to, and
// never beyond max_buckets. Indices too far below the highest one are folded
// into the lowest bucket kept (see the overview).
class DenseStore {
 public:
  explicit DenseStore(int32_t max_buckets) : max_buckets_(max_buckets) {}

  void Add(int32_t index, uint64_t weight) {
    uint64_t slot = static_cast<uint64_t>(index - offset_);
    if (slot >= counts_.size()) [[unlikely]] {
      index = MakeRoom(index);
      slot = static_cast<uint64_t>(index - offset_);
    }
    counts_[slot] += weight;
    total_ += weight;
    if (index < min_index_) min_index_ = index;
    if (index > max_index_) max_index_ = index;
  }

  void Merge(const DenseStore& other);
  void Clear();

  bool empty() const { return total_ == 0; }
  uint64_t total() const { return total_; }
  // The lowest and highest non-empty bucket; meaningless when empty().
  int32_t min_index() const { return min_index_; }
  int32_t max_index() const { return max_index_; }
  // Number of buckets from min_index() to max_index(), 0 when empty.
  int32_t span() const { return empty() ? 0 : max_index_ - min_index_ + 1; }
  uint64_t CountAt(int32_t index) const {
    const uint64_t slot = static_cast<uint64_t>(index - offset_);
    return slot < counts_.size() ? counts_[slot] : 0;
  }
  // The index of the bucket holding the element of 0-based `rank` when the
  // buckets are walked upwards (or downwards); rank < total() required.
  int32_t IndexOfRank(uint64_t rank, bool descending) const;

  void Encode(Encoder* enc) const;
  // Reads what Encode wrote; indices must lie in [lowest, highest].
  bool Decode(Decoder* dec, int32_t lowest, int32_t highest);

  friend bool operator==(const DenseStore& a, const DenseStore& b);

 private:
  int32_t MakeRoom(int32_t index);
  void Relocate(int64_t new_offset, size_t new_size, int64_t floor);

  std::vector<uint64_t> counts_;
  // int64 so that index - offset_ never overflows.
  int64_t offset_ = 0;
  int32_t min_index_ = std::numeric_limits<int32_t>::max();
  int32_t max_index_ = std::numeric_limits<int32_t>::min();
  uint64_t total_ = 0;
  int32_t max_buckets_;
};

}  // namespace internal

class DDSketch {
 public:
  static constexpr double kDefaultRelativeAccuracy = 0.005;
  static constexpr int32_t kDefaultMaxBuckets = 2048;
  // Accepted ranges; below 1e-6 the bucket indices of extreme doubles would
  // overflow 32 bits.
  static constexpr double kMinRelativeAccuracy = 1e-6;
  static constexpr int32_t kMinMaxBuckets = 8;
  static constexpr int32_t kMaxMaxBuckets = 1 << 20;

  // 0 < relative_accuracy < 1 (asserted, as is the bucket range above).
  explicit DDSketch(double relative_accuracy = kDefaultRelativeAccuracy,
                    int32_t max_buckets = kDefaultMaxBuckets);

  void Add(double v) { Add(v, 1); }
  void Add(double v, uint64_t weight) {
    if (!std::isfinite(v) || weight == 0) return;
    // Adding +0.0 turns -0.0 into +0.0 (and changes nothing else), so that
    // min/max and the encoding do not depend on which zero came first.
    v += 0.0;
    count_ += weight;
    sum_ += v * static_cast<double>(weight);
    if (v < min_) min_ = v;
    if (v > max_) max_ = v;
    if (v >= kMinIndexable) {
      positive_.Add(mapping_.Index(v), weight);
    } else if (v <= -kMinIndexable) {
      negative_.Add(mapping_.Index(-v), weight);
    } else {
      zero_count_ += weight;
    }
  }

  // Requires the same relative accuracy and bucket cap (asserted).
  void Merge(const DDSketch& other);

  // q in [0, 1]; NaN when the sketch is empty or q is outside [0, 1].
  double Quantile(double q) const;

  uint64_t count() const { return count_; }
  // +inf / -inf / 0 when empty.
  double min() const { return min_; }
  double max() const { return max_; }
  double sum() const { return sum_; }
  bool empty() const { return count_ == 0; }
  double relative_accuracy() const { return relative_accuracy_; }
  int32_t max_buckets() const { return max_buckets_; }
  // Buckets currently spanned by the positive / negative store.
  int32_t positive_span() const { return positive_.span(); }
  int32_t negative_span() const { return negative_.span(); }

  // Empties the sketch but keeps its memory, so a reused pane does not
  // allocate again.
  void Clear();

  void Encode(Encoder* enc) const;
  // False on malformed input (out-of-range parameters or indices, counts that
  // do not add up, truncation); `out` is only written on success.
  static bool Decode(Decoder* dec, DDSketch* out);

  // Equal parameters, buckets, count, min and max, and sums within a relative
  // 1e-9: floating-point addition is not associative, so sketches of the same
  // values merged in different orders can differ in the last bits of sum.
  friend bool operator==(const DDSketch& a, const DDSketch& b);

 private:
  static constexpr double kMinIndexable = std::numeric_limits<double>::min();

  double relative_accuracy_;
  int32_t max_buckets_;
  internal::LogMapping mapping_;
  internal::DenseStore positive_;
  internal::DenseStore negative_;
  uint64_t zero_count_ = 0;
  uint64_t count_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
  double sum_ = 0.0;
};

}  // namespace vigil

#endif  // VIGIL_WINDOWS_DDSKETCH_H_
