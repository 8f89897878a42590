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

constexpr int64_t kInitialSlots = 128;
// A store keeps its buckets in the side list alone (16 bytes each, a binary
// search per value) while it has at most kSparseBuckets of them, or at
// most kSparseMax spread thinly (the window over them, 8 bytes a slot and
// half again as many slots as they span, would cost more than twice as
// much): a small sketch (one user's latencies, one group's few values)
// does not pay for a window spanning them.
constexpr size_t kSparseBuckets = 16;
constexpr size_t kSparseMax = 64;
// The window never spans more than this many slots (32 KiB).
constexpr int64_t kMaxWindowSlots = 4096;
// Within this many indices the window grows to new data unconditionally
// (8 KiB: a ratio of about 2.5e4 at the default accuracy).
constexpr int64_t kFreeSpan = 1024;

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

int64_t BucketStore::window_cap() const { return std::min<int64_t>(max_buckets_, kMaxWindowSlots); }

int32_t BucketStore::min_index() const {
  int32_t lowest = window_min_;
  if (!side_.empty()) lowest = std::min(lowest, side_.front().index);
  return lowest;
}

int32_t BucketStore::max_index() const {
  int32_t highest = window_max_;
  if (!side_.empty()) highest = std::max(highest, side_.back().index);
  return highest;
}

void BucketStore::NoteNewWindowBucket(int32_t index) {
  window_min_ = std::min(window_min_, index);
  window_max_ = std::max(window_max_, index);
  ++nonempty_;
  AfterNewBucket();
}

void BucketStore::AfterNewBucket() {
  if (count_stale_ && nonempty_ >= max_buckets_) Recount();
  if (nonempty_ > max_buckets_) FoldLowest();
  // A full store behaves as if it had folded already: a value below its
  // lowest bucket would be a new bucket that folds straight into it.
  if (nonempty_ == max_buckets_) floor_ = min_index();
}

void BucketStore::FoldLowest() {
  const int32_t lowest = min_index();
  uint64_t moved;
  if (!side_.empty() && side_.front().index == lowest) {
    moved = side_.front().count;
    side_.erase(side_.begin());
  } else {
    uint64_t* data = counts_.data();
    moved = data[lowest - offset_];
    data[lowest - offset_] = 0;
    int32_t next = lowest + 1;
    while (next <= window_max_ && data[next - offset_] == 0) ++next;
    if (next <= window_max_) {
      window_min_ = next;
    } else {
      window_min_ = std::numeric_limits<int32_t>::max();
      window_max_ = std::numeric_limits<int32_t>::min();
    }
  }
  --nonempty_;
  const int32_t target = min_index();
  const uint64_t slot = static_cast<uint64_t>(target - offset_);
  if (slot < counts_.size() && !window_empty() && target >= window_min_) {
    counts_[slot] += moved;
  } else {
    side_.front().count += moved;
  }
}

void BucketStore::AddInWindow(int32_t index, uint64_t weight) {
  uint64_t& count = counts_[static_cast<size_t>(index - offset_)];
  const bool fresh = count == 0;
  count += weight;
  total_ += weight;
  if (fresh) NoteNewWindowBucket(index);
}

void BucketStore::AddToSideList(int32_t index, uint64_t weight) {
  total_ += weight;
  auto it = std::lower_bound(side_.begin(), side_.end(), index,
                             [](const Bucket& b, int32_t i) { return b.index < i; });
  if (it != side_.end() && it->index == index) {
    it->count += weight;
    return;
  }
  side_.insert(it, Bucket{index, weight});
  ++nonempty_;
  AfterNewBucket();
}

void BucketStore::AddOutsideWindow(int32_t index, uint64_t weight) {
  if (counts_.empty()) {
    // Sparse until it has more buckets than kSparseBuckets; then the window
    // is laid over them.
    AddToSideList(index, weight);
    const size_t n = side_.size();
    if (n > kSparseBuckets) {
      const int64_t span = int64_t{side_.back().index} - side_.front().index + 1;
      if (n > kSparseMax || static_cast<int64_t>(n) * 8 >= span * 3) {
        Rebuild(Buckets(), /*sparse=*/false);
      }
    }
    return;
  }
  if (window_empty()) {
    MoveWindow(int64_t{index} - static_cast<int64_t>(counts_.size() / 2));
    AddInWindow(index, weight);
    return;
  }
  const int64_t lo = std::min(window_min_, index);
  const int64_t hi = std::max(window_max_, index);
  const int64_t span = hi - lo + 1;
  const int64_t gap =
      index < window_min_ ? int64_t{window_min_} - index : int64_t{index} - window_max_;
  const int64_t covered = int64_t{window_max_} - window_min_ + 1;
  // The window grows to data next to what it covers, or anywhere within
  // kFreeSpan; a far outlier goes to the side list instead of stretching
  // the window (and its memory) over the empty span between.
  if (span <= window_cap() && (span <= kFreeSpan || gap <= covered)) {
    int64_t size = static_cast<int64_t>(counts_.size());
    if (span > size) {
      size = std::min(window_cap(), span + span / 2);
      counts_.resize(static_cast<size_t>(size), 0);
    }
    // Spare slots go on the side the data grows towards, so a drifting
    // stream moves the window O(log span) times rather than on every new
    // extreme.
    MoveWindow(index < window_min_ ? hi - size + 1 : lo);
    AddInWindow(index, weight);
    return;
  }
  AddToSideList(index, weight);
  if (++missed_ > counts_.size() + side_.size()) Rebuild(Buckets(), /*sparse=*/false);
}

void BucketStore::MoveWindow(int64_t new_offset) {
  missed_ = 0;
  uint64_t* data = counts_.data();
  const size_t size = counts_.size();
  if (!window_empty() && new_offset != offset_) {
    const size_t len = static_cast<size_t>(int64_t{window_max_} - window_min_ + 1);
    const size_t src = static_cast<size_t>(window_min_ - offset_);
    const size_t dst = static_cast<size_t>(window_min_ - new_offset);
    std::memmove(data + dst, data + src, len * sizeof(uint64_t));
    std::fill(data, data + dst, 0);
    std::fill(data + dst + len, data + size, 0);
  }
  offset_ = new_offset;
  // Side-list buckets the window now covers move into it.
  const auto covered = [this, size](const Bucket& b) {
    return static_cast<uint64_t>(b.index - offset_) < size;
  };
  auto first = std::find_if(side_.begin(), side_.end(), covered);
  auto last = std::find_if_not(first, side_.end(), covered);
  for (auto it = first; it != last; ++it) {
    data[it->index - offset_] = it->count;
    window_min_ = std::min(window_min_, it->index);
    window_max_ = std::max(window_max_, it->index);
  }
  side_.erase(first, last);
}

void BucketStore::Rebuild(const std::vector<Bucket>& all, bool sparse) {
  missed_ = 0;
  if (sparse && counts_.empty() && all.size() <= kSparseMax &&
      (all.size() <= kSparseBuckets ||
       static_cast<int64_t>(all.size()) * 8 <
           (int64_t{all.back().index} - all.front().index + 1) * 3)) {
    side_ = all;
    return;
  }
  if (!window_empty()) {
    std::fill(counts_.begin() + (window_min_ - offset_),
              counts_.begin() + (window_max_ - offset_) + 1, 0);
  }
  window_min_ = std::numeric_limits<int32_t>::max();
  window_max_ = std::numeric_limits<int32_t>::min();
  side_.clear();
  if (all.empty()) return;
  // The run of buckets within `reach` indices that holds the most weight.
  const int64_t reach =
      std::min(window_cap(), std::max(static_cast<int64_t>(counts_.size()), kFreeSpan));
  size_t best_lo = 0;
  size_t best_hi = 0;
  uint64_t best = 0;
  uint64_t weight = 0;
  for (size_t lo = 0, hi = 0; hi < all.size(); ++hi) {
    weight += all[hi].count;
    while (int64_t{all[hi].index} - all[lo].index + 1 > reach) weight -= all[lo++].count;
    if (weight > best) {
      best = weight;
      best_lo = lo;
      best_hi = hi;
    }
  }
  const int64_t span = int64_t{all[best_hi].index} - all[best_lo].index + 1;
  int64_t size = static_cast<int64_t>(counts_.size());
  if (span > size) {
    size = std::min(window_cap(), std::max(kInitialSlots, span + span / 2));
    counts_.resize(static_cast<size_t>(size), 0);
  }
  offset_ = all[best_lo].index - (size - span) / 2;
  for (const Bucket& b : all) {
    const uint64_t slot = static_cast<uint64_t>(b.index - offset_);
    if (slot < counts_.size()) {
      counts_[slot] = b.count;
      window_min_ = std::min(window_min_, b.index);
      window_max_ = std::max(window_max_, b.index);
    } else {
      side_.push_back(b);
    }
  }
}

template <typename Visitor>
void BucketStore::Visit(bool descending, Visitor&& visit) const {
  // Side-list buckets lie either below the window or above it.
  const auto below_end =
      std::lower_bound(side_.begin(), side_.end(), offset_,
                       [](const Bucket& b, int64_t offset) { return b.index < offset; });
  const uint64_t* data = counts_.data();
  if (!descending) {
    for (auto it = side_.begin(); it != below_end; ++it) {
      if (visit(it->index, it->count)) return;
    }
    for (int32_t i = window_min_; !window_empty() && i <= window_max_; ++i) {
      if (data[i - offset_] != 0 && visit(i, data[i - offset_])) return;
    }
    for (auto it = below_end; it != side_.end(); ++it) {
      if (visit(it->index, it->count)) return;
    }
    return;
  }
  for (auto it = side_.end(); it != below_end;) {
    --it;
    if (visit(it->index, it->count)) return;
  }
  for (int32_t i = window_max_; !window_empty() && i >= window_min_; --i) {
    if (data[i - offset_] != 0 && visit(i, data[i - offset_])) return;
  }
  for (auto it = below_end; it != side_.begin();) {
    --it;
    if (visit(it->index, it->count)) return;
  }
}

std::vector<BucketStore::Bucket> BucketStore::Buckets() const {
  std::vector<Bucket> all;
  all.reserve(static_cast<size_t>(nonempty_));
  Visit(/*descending=*/false, [&all](int32_t index, uint64_t count) {
    all.push_back(Bucket{index, count});
    return false;
  });
  return all;
}

void BucketStore::Merge(const BucketStore& other) {
  assert(&other != this);
  if (other.total_ == 0) return;
  // When both stores' buckets fit under the cap, nothing folds during the
  // merge and the window part is a plain loop over the counts once the
  // window covers both of other's window extremes.
  int64_t bound = int64_t{nonempty_} + other.nonempty_;
  if (bound > max_buckets_ && (count_stale_ || other.count_stale_)) {
    Recount();
    bound = int64_t{nonempty_} + other.buckets();
  }
  const bool fits = bound <= max_buckets_;
  // Whatever path each bucket takes, all of other's weight arrives.
  const uint64_t total = total_ + other.total_;
  for (const Bucket& b : other.side_) Add(b.index, b.count);
  if (!other.window_empty()) {
    const int32_t lo = other.window_min_;
    const int32_t hi = other.window_max_;
    Add(hi, other.counts_[static_cast<size_t>(hi - other.offset_)]);
    if (lo != hi) Add(lo, other.counts_[static_cast<size_t>(lo - other.offset_)]);
    // theirs[k] and mine[k] count index lo + k.
    const uint64_t* theirs = other.counts_.data() + (lo - other.offset_);
    const uint64_t size = counts_.size();
    const int32_t n = hi - lo;
    if (fits && static_cast<uint64_t>(lo - offset_) < size &&
        static_cast<uint64_t>(hi - offset_) < size) {
      uint64_t* mine = counts_.data() + (lo - offset_);
      for (int32_t k = 1; k < n; ++k) mine[k] += theirs[k];
      // Which of these buckets are new is left uncounted: the sum bounds
      // the count until a bucket might be one too many.
      nonempty_ = static_cast<int32_t>(bound);
      count_stale_ = true;
      if (nonempty_ >= max_buckets_) {
        Recount();
        if (nonempty_ == max_buckets_) floor_ = min_index();
      }
    } else {
      for (int32_t k = 1; k < n; ++k) {
        if (theirs[k] != 0) Add(lo + k, theirs[k]);
      }
    }
  }
  total_ = total;
}

int32_t BucketStore::buckets() const {
  if (!count_stale_) return nonempty_;
  int32_t n = static_cast<int32_t>(side_.size());
  for (int32_t i = window_min_; !window_empty() && i <= window_max_; ++i) {
    n += counts_[static_cast<size_t>(i - offset_)] != 0 ? 1 : 0;
  }
  return n;
}

void BucketStore::Recount() {
  nonempty_ = buckets();
  count_stale_ = false;
}

void BucketStore::Clear() {
  if (!window_empty()) {
    std::fill(counts_.begin() + (window_min_ - offset_),
              counts_.begin() + (window_max_ - offset_) + 1, 0);
  }
  window_min_ = std::numeric_limits<int32_t>::max();
  window_max_ = std::numeric_limits<int32_t>::min();
  side_.clear();
  total_ = 0;
  nonempty_ = 0;
  count_stale_ = false;
  floor_ = std::numeric_limits<int32_t>::min();
  missed_ = 0;
}

int32_t BucketStore::IndexOfRank(uint64_t rank, bool descending) const {
  uint64_t seen = 0;
  int32_t found = descending ? min_index() : max_index();
  Visit(descending, [&](int32_t index, uint64_t count) {
    seen += count;
    if (rank < seen) {
      found = index;
      return true;
    }
    return false;
  });
  return found;
}

void BucketStore::CountsBelowAndAt(int32_t index, uint64_t* below, uint64_t* at) const {
  *below = 0;
  *at = 0;
  Visit(/*descending=*/false, [&](int32_t i, uint64_t count) {
    if (i > index) return true;
    (i < index ? *below : *at) += count;
    return false;
  });
}

size_t BucketStore::allocated_bytes() const {
  return counts_.capacity() * sizeof(uint64_t) + side_.capacity() * sizeof(Bucket);
}

bool operator==(const BucketStore& a, const BucketStore& b) {
  return a.total_ == b.total_ && a.Buckets() == b.Buckets();
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
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

uint64_t QuantileRank(double q, uint64_t count) {
  if (count == 0) return 0;
  const double r = q * static_cast<double>(count - 1);
  // q is a decimal (0.7) held in binary, and the product rounds once more:
  // 0.7 · 90 is 62.99999999999999, an ulp below the rank 63 the rule means.
  // A product within a few ulps of an integer is that integer; a decimal q
  // of up to 12 digits never lands that close to one otherwise.
  const double k = std::nearbyint(r);
  const double rank =
      std::fabs(r - k) <= 4 * std::numeric_limits<double>::epsilon() * std::max(r, 1.0)
          ? k
          : std::floor(r);
  return std::min(static_cast<uint64_t>(rank), count - 1);
}

double DDSketch::Quantile(double q) const {
  if (count_ == 0 || !(q >= 0.0 && q <= 1.0)) return std::numeric_limits<double>::quiet_NaN();
  const uint64_t rank = QuantileRank(q, count_);
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

double DDSketch::WeightAbove(double v) const {
  if (count_ == 0 || std::isnan(v) || v == std::numeric_limits<double>::infinity()) return 0;
  if (v == -std::numeric_limits<double>::infinity()) return static_cast<double>(count_);
  uint64_t below = 0, at = 0;
  const uint64_t positives = positive_.total();
  if (v >= kMinIndexable) {
    positive_.CountsBelowAndAt(mapping_.Index(v), &below, &at);
    return static_cast<double>(positives - below - at) + 0.5 * static_cast<double>(at);
  }
  if (v > -kMinIndexable) {
    return static_cast<double>(positives) + 0.5 * static_cast<double>(zero_count_);
  }
  // Negative: a smaller magnitude is a greater value.
  negative_.CountsBelowAndAt(mapping_.Index(-v), &below, &at);
  return static_cast<double>(positives + zero_count_ + below) + 0.5 * static_cast<double>(at);
}

void DDSketch::Clear() {
  positive_.Clear();
  negative_.Clear();
  zero_count_ = 0;
  count_ = 0;
  min_ = std::numeric_limits<double>::infinity();
  max_ = -std::numeric_limits<double>::infinity();
}

bool operator==(const DDSketch& a, const DDSketch& b) {
  if (a.relative_accuracy_ != b.relative_accuracy_ || a.max_buckets_ != b.max_buckets_ ||
      a.count_ != b.count_ || a.zero_count_ != b.zero_count_ || !(a.positive_ == b.positive_) ||
      !(a.negative_ == b.negative_)) {
    return false;
  }
  if (a.count_ == 0) return true;
  return a.min_ == b.min_ && a.max_ == b.max_;
}

}  // namespace vigil
