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
// sorted input, with q the decimal the rule wrote (QuantileRank). Count, min and max are kept
// exactly, Quantile(0) is the exact minimum, Quantile(1) the exact maximum, and every estimate is
// clamped to [min, max].
//
// Positive and negative values are counted in two stores (negative values by
// their magnitude); values whose magnitude is below DBL_MIN (2.2e-308, i.e.
// zero and subnormals) go to a zero count. NaN and infinities are ignored and
// not counted.
//
// What is guaranteed. Each sign keeps at most `max_buckets` non-empty
// buckets (4096 by default), wherever they lie. As long as neither sign has
// more, EVERY rank keeps the guarantee above, however far apart the values
// are: one latency of 1e13 or 1e-250 ms among ordinary ones costs one more
// bucket and moves no quantile whose rank it does not occupy. Real data needs
// far fewer: at the default accuracy of 0.5% a bucket spans about 1%, so
// latencies from 1 ms to 10 minutes fill at most 1,345 buckets.
//
// When one sign has more non-empty buckets than max_buckets, its store keeps
// the max_buckets non-empty buckets of largest magnitude and counts every
// value of smaller magnitude in the lowest kept bucket (DDSketch's
// collapsing-lowest store, capped on non-empty buckets rather than on a
// span). Exactly, with N- negative values, Z zeros and C+ positive (C-
// negative) values counted below the lowest kept bucket of their sign, and
// ranks 0-based as above:
//   - ranks 0 .. N- - C- - 1 (the negative values of largest magnitude) and
//     ranks N- + Z + C+ .. count - 1 (the largest positive values) keep the
//     guarantee;
//   - ranks N- .. N- + Z - 1 (zeros), rank 0 and rank count - 1 are exact;
//   - the C+ (C-) ranks in between report the value of the lowest kept
//     bucket of their sign: a magnitude too large, however small the true
//     one, and never outside [min, max].
// C+ and C- are 0 until a sign exceeds max_buckets non-empty buckets. The
// kept buckets always include every bucket within max_buckets - 1 indices of
// the largest magnitude's, so at the default no value within 17 decades (a
// factor of 1e17, 3,954 indices) of its sign's largest magnitude is ever
// collapsed: pushing real data into the collapsed tail takes thousands of
// distinct magnitudes above it in one sketch, and a handful of extreme values
// cannot.
//
// Determinism: the buckets are a function of the multiset of values only.
// The kept buckets are the max_buckets highest of all non-empty buckets, the
// rest folded into the lowest of those. That commutes with merging: the
// max_buckets highest buckets of a union are among those each part kept, and
// each part folded its tail into a bucket no higher than the union's lowest
// kept one. So merges in any order or tree give equal sketches and
// byte-identical encodings. For the same reason the sketch keeps no sum:
// floating-point addition is not associative, so a sum would differ in its
// last bits with the merge order (the sum and avg aggregates keep their own).
//
// Memory: a store with at most 16 non-empty buckets, or at most 64 spread
// thinly over their span (fewer than 3 in 8 indices), keeps them in a
// sorted list of 16 bytes per bucket, so the sketch of one user's or one
// small group's values stays small. Past that it counts in a dense window
// of at most min(max_buckets, 4096) slots (8 bytes each) that grows towards
// the data it covers densely, and keeps the buckets it does not reach (far
// outliers) in the sorted side list, so an outlier costs 16 bytes rather
// than the span to it. Worst case per sign at the default, reached only by thousands of
// distinct magnitudes: 32 KiB of window plus 64 KiB of side list (and the
// side list's growth slack).
//
// Add() is built for the per-event path: no allocation once the stores span
// the data, a polynomial logarithm instead of std::log (see LogMapping), and
// the bucket update inline. A value outside the window costs a binary search
// of the side list, and one that adds a bucket there (or folds one away) an
// insertion into a sorted vector, O(max_buckets) at worst: only thousands of
// distinct far-flung magnitudes ever pay that more than once each.
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

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "base/codec.h"

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

// The counts of one sign: bucket index -> count for at most max_buckets
// non-empty buckets, the rest folded into the lowest kept one (see the
// overview). Physically a dense window [offset_, offset_ + counts_.size())
// that moves and grows towards the data, plus a sorted side list for the
// non-empty buckets outside it (or the side list alone while the store has
// few buckets: see Memory in the overview); only the logical content (the non-empty
// buckets and their counts) is compared, encoded and answered from, so how
// the window happens to lie never shows.
class BucketStore {
 public:
  explicit BucketStore(int32_t max_buckets) : max_buckets_(max_buckets) {}

  // weight > 0.
  void Add(int32_t index, uint64_t weight) {
    // While the store is full, floor_ is its lowest bucket, which absorbs
    // everything below it; otherwise floor_ is INT32_MIN.
    index = std::max(index, floor_);
    const uint64_t slot = static_cast<uint64_t>(index - offset_);
    if (slot < counts_.size()) [[likely]] {
      uint64_t& count = counts_[slot];
      const bool fresh = count == 0;
      count += weight;
      total_ += weight;
      if (fresh) [[unlikely]] {
        NoteNewWindowBucket(index);
      }
      return;
    }
    AddOutsideWindow(index, weight);
  }

  void Merge(const BucketStore& other);
  // Empties the store but keeps its window's memory.
  void Clear();

  bool empty() const { return total_ == 0; }
  uint64_t total() const { return total_; }
  // Number of non-empty buckets, at most max_buckets.
  int32_t buckets() const;
  // The lowest and highest non-empty bucket; meaningless when empty().
  int32_t min_index() const;
  int32_t max_index() const;
  // Number of bucket indices from min_index() to max_index(), 0 when empty.
  int64_t span() const { return empty() ? 0 : int64_t{max_index()} - int64_t{min_index()} + 1; }
  // The index of the bucket holding the element of 0-based `rank` when the
  // buckets are walked upwards (or downwards); rank < total() required.
  int32_t IndexOfRank(uint64_t rank, bool descending) const;
  // The counts of the buckets below `index` and of bucket `index`.
  void CountsBelowAndAt(int32_t index, uint64_t* below, uint64_t* at) const;
  // Heap bytes held (window and side list capacity).
  size_t allocated_bytes() const;

  // The non-empty buckets in runs of consecutive indices (format 2).
  void Encode(Encoder* enc) const;
  // Reads what Encode wrote; indices must lie in [lowest, highest].
  bool Decode(Decoder* dec, int32_t lowest, int32_t highest);
  // Reads format 1: one count per index over a span of at most `max_span`
  // consecutive indices, both end counts non-zero.
  bool DecodeDense(Decoder* dec, int32_t lowest, int32_t highest, uint64_t max_span);

  friend bool operator==(const BucketStore& a, const BucketStore& b);

 private:
  struct Bucket {
    int32_t index;
    uint64_t count;
    friend bool operator==(const Bucket&, const Bucket&) = default;
  };

  void NoteNewWindowBucket(int32_t index);
  void AddOutsideWindow(int32_t index, uint64_t weight);
  void AddInWindow(int32_t index, uint64_t weight);
  void AddToSideList(int32_t index, uint64_t weight);
  // Keeps at most max_buckets non-empty buckets and sets floor_.
  void AfterNewBucket();
  void FoldLowest();
  void Recount();
  // Moves the window content to start at `new_offset` (the content must fit)
  // and takes in the side-list buckets the window now covers.
  void MoveWindow(int64_t new_offset);
  // Places the window where it covers the most weight and rebuilds the side
  // list from `all` (every non-empty bucket, ascending); with `sparse`, a
  // store without a window keeps few or thinly spread buckets in the side
  // list alone.
  void Rebuild(const std::vector<Bucket>& all, bool sparse);
  std::vector<Bucket> Buckets() const;
  bool window_empty() const { return window_min_ > window_max_; }
  int64_t window_cap() const;
  template <typename Visitor>
  void Visit(bool descending, Visitor&& visit) const;

  std::vector<uint64_t> counts_;
  // int64 so that index - offset_ never overflows.
  int64_t offset_ = 0;
  // The lowest and highest non-empty slot of the window.
  int32_t window_min_ = std::numeric_limits<int32_t>::max();
  int32_t window_max_ = std::numeric_limits<int32_t>::min();
  // Non-empty buckets outside the window, ascending by index.
  std::vector<Bucket> side_;
  uint64_t total_ = 0;
  // The number of non-empty buckets; while count_stale_, only an upper
  // bound below max_buckets (a merge adds the other store's count instead
  // of checking which of its buckets are new, see Merge).
  int32_t nonempty_ = 0;
  bool count_stale_ = false;
  int32_t floor_ = std::numeric_limits<int32_t>::min();
  // Adds that missed the window since it last moved; past the cost of
  // moving it, the window is placed afresh (so a window that started around
  // an outlier does not leave the real data on the slow path for long).
  uint64_t missed_ = 0;
  int32_t max_buckets_;
};

}  // namespace internal

// The 0-based rank ⌊q·(count−1)⌋ a quantile answers, for q as written in
// decimal: QuantileRank(0.7, 91) is 63, though 0.7 · 90 in doubles is
// 62.99999999999999.
uint64_t QuantileRank(double q, uint64_t count);

class DDSketch {
 public:
  static constexpr double kDefaultRelativeAccuracy = 0.005;
  // Non-empty buckets kept per sign (see the overview).
  static constexpr int32_t kDefaultMaxBuckets = 4096;
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

  // Requires the same relative accuracy and bucket cap (asserted). Costs one
  // Add per non-empty bucket of `other` at most, and a plain loop over the
  // counts when both sketches' buckets fit.
  void Merge(const DDSketch& other);

  // q in [0, 1]; NaN when the sketch is empty or q is outside [0, 1].
  double Quantile(double q) const;
  // How many values lie above `v`, counting those in v's own bucket (whose
  // order against v is unknown) as half: the mid-rank count of the values
  // greater than v, to the sketch's accuracy. Two sketches of the same
  // distribution give the same expected share above any v, which is what
  // comparing them at a quantile of one of them needs.
  double WeightAbove(double v) const;

  uint64_t count() const { return count_; }
  // +inf / -inf / 0 when empty.
  double min() const { return min_; }
  double max() const { return max_; }
  bool empty() const { return count_ == 0; }
  double relative_accuracy() const { return relative_accuracy_; }
  int32_t max_buckets() const { return max_buckets_; }
  // Non-empty buckets of the positive / negative store (at most
  // max_buckets each), and the index range they span.
  int32_t positive_buckets() const { return positive_.buckets(); }
  int32_t negative_buckets() const { return negative_.buckets(); }
  int64_t positive_span() const { return positive_.span(); }
  int64_t negative_span() const { return negative_.span(); }
  // Heap bytes held by the two stores.
  size_t allocated_bytes() const {
    return positive_.allocated_bytes() + negative_.allocated_bytes();
  }

  // Empties the sketch but keeps its memory, so a reused pane does not
  // allocate again.
  void Clear();

  // Format 2: the relative accuracy negated (format 1 wrote it positive, so
  // the sign tells the formats apart), the format number, then the bucket
  // cap, the zero count, each store's non-empty buckets in runs of
  // consecutive indices, and min and max when not empty. Decode also
  // reads format 1 (one count per index over a store's span), which older
  // checkpoints and partials carry; the sketch it gives has the bucket cap
  // max(kDefaultMaxBuckets, the cap written), so it merges with new ones.
  static constexpr uint64_t kFormat = 2;
  void Encode(Encoder* enc) const;
  // False on malformed input (out-of-range parameters or indices, counts that
  // do not add up, truncation); `out` is only written on success.
  static bool Decode(Decoder* dec, DDSketch* out);

  // Equal parameters, buckets, count, min and max: equal encodings.
  friend bool operator==(const DDSketch& a, const DDSketch& b);

 private:
  static constexpr double kMinIndexable = std::numeric_limits<double>::min();

  double relative_accuracy_;
  int32_t max_buckets_;
  internal::LogMapping mapping_;
  internal::BucketStore positive_;
  internal::BucketStore negative_;
  uint64_t zero_count_ = 0;
  uint64_t count_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

}  // namespace vigil

#endif  // VIGIL_WINDOWS_DDSKETCH_H_
