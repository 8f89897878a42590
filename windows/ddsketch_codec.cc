// The encodings of a DDSketch and its bucket stores (windows/ddsketch.h):
// format 2, the sparse runs of non-empty buckets, and format 1's dense
// spans, which checkpoints written before format 2 still hold. Decoding
// checks every count, index and bound, so corrupt bytes fail rather than
// build a sketch that breaks the invariants.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "windows/ddsketch.h"

namespace vigil {
namespace internal {

void BucketStore::Encode(Encoder* enc) const {
  const std::vector<Bucket> all = Buckets();
  enc->PutVarint(all.size());
  if (all.empty()) return;
  enc->PutSigned(all.front().index);
  for (size_t i = 0; i < all.size();) {
    size_t end = i + 1;
    while (end < all.size() && all[end].index == all[end - 1].index + 1) ++end;
    enc->PutVarint(end - i);
    for (; i < end; ++i) enc->PutVarint(all[i].count);
    // Empty buckets up to the next run, less the one there always is.
    if (end < all.size()) {
      enc->PutVarint(static_cast<uint64_t>(int64_t{all[end].index} - all[end - 1].index - 2));
    }
  }
}

namespace {

// Adds counts into `total`, false on overflow.
bool AddCount(uint64_t count, uint64_t* total) {
  return !__builtin_add_overflow(*total, count, total);
}

}  // namespace

bool BucketStore::Decode(Decoder* dec, int32_t lowest, int32_t highest) {
  Clear();
  const uint64_t n = dec->GetVarint();
  if (!dec->ok()) return false;
  if (n == 0) return true;
  if (n > static_cast<uint64_t>(max_buckets_)) return false;
  int64_t index = dec->GetSigned();
  std::vector<Bucket> all;
  all.reserve(n);
  uint64_t total = 0;
  while (all.size() < n) {
    const uint64_t run = dec->GetVarint();
    if (!dec->ok() || run == 0 || run > n - all.size()) return false;
    for (uint64_t k = 0; k < run; ++k, ++index) {
      const uint64_t count = dec->GetVarint();
      if (!dec->ok() || count == 0 || index < lowest || index > highest ||
          !AddCount(count, &total)) {
        return false;
      }
      all.push_back(Bucket{static_cast<int32_t>(index), count});
    }
    if (all.size() < n) {
      const uint64_t skipped = dec->GetVarint();
      if (!dec->ok() || skipped > static_cast<uint64_t>(int64_t{highest} - lowest)) return false;
      index += static_cast<int64_t>(skipped) + 1;
    }
  }
  Rebuild(all, /*sparse=*/true);
  total_ = total;
  nonempty_ = static_cast<int32_t>(n);
  if (nonempty_ == max_buckets_) floor_ = min_index();
  return true;
}

bool BucketStore::DecodeDense(Decoder* dec, int32_t lowest, int32_t highest, uint64_t max_span) {
  Clear();
  const uint64_t span = dec->GetVarint();
  if (!dec->ok()) return false;
  if (span == 0) return true;
  const int64_t first = dec->GetSigned();
  if (!dec->ok() || span > max_span || span > static_cast<uint64_t>(max_buckets_) ||
      first < lowest || first > highest || first + static_cast<int64_t>(span) - 1 > highest) {
    return false;
  }
  std::vector<Bucket> all;
  uint64_t total = 0;
  for (uint64_t i = 0; i < span; ++i) {
    const uint64_t count = dec->GetVarint();
    // The encoding is canonical: the end buckets are the non-empty extremes.
    if (!dec->ok() || ((i == 0 || i == span - 1) && count == 0) || !AddCount(count, &total)) {
      return false;
    }
    if (count != 0)
      all.push_back(Bucket{static_cast<int32_t>(first + static_cast<int64_t>(i)), count});
  }
  Rebuild(all, /*sparse=*/true);
  total_ = total;
  nonempty_ = static_cast<int32_t>(all.size());
  if (nonempty_ == max_buckets_) floor_ = min_index();
  return true;
}

}  // namespace internal

void DDSketch::Encode(Encoder* enc) const {
  enc->PutDouble(-relative_accuracy_);
  enc->PutVarint(kFormat);
  enc->PutVarint(static_cast<uint64_t>(max_buckets_));
  enc->PutVarint(zero_count_);
  positive_.Encode(enc);
  negative_.Encode(enc);
  if (count_ == 0) return;
  enc->PutDouble(min_);
  enc->PutDouble(max_);
}

bool DDSketch::Decode(Decoder* dec, DDSketch* out) {
  double accuracy = dec->GetDouble();
  // Format 1 starts with the accuracy itself, later formats with it negated
  // and the format number.
  const bool dense = accuracy > 0.0;
  if (!dense) {
    accuracy = -accuracy;
    if (dec->GetVarint() != kFormat) return false;
  }
  const uint64_t max_buckets = dec->GetVarint();
  if (!dec->ok() || !(accuracy >= kMinRelativeAccuracy && accuracy < 1.0) ||
      max_buckets < static_cast<uint64_t>(kMinMaxBuckets) ||
      max_buckets > static_cast<uint64_t>(kMaxMaxBuckets)) {
    return false;
  }
  // A format-1 cap bounded a store's span, which is never less than its
  // non-empty buckets.
  const int32_t cap = dense ? std::max(kDefaultMaxBuckets, static_cast<int32_t>(max_buckets))
                            : static_cast<int32_t>(max_buckets);
  DDSketch sketch(accuracy, cap);
  // Every index a finite value can map to; anything outside is corrupt.
  const int32_t lowest = sketch.mapping_.Index(kMinIndexable);
  const int32_t highest = sketch.mapping_.Index(std::numeric_limits<double>::max());
  sketch.zero_count_ = dec->GetVarint();
  if (!dec->ok()) return false;
  if (dense ? !sketch.positive_.DecodeDense(dec, lowest, highest, max_buckets) ||
                  !sketch.negative_.DecodeDense(dec, lowest, highest, max_buckets)
            : !sketch.positive_.Decode(dec, lowest, highest) ||
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
    // Format 1 also carried a sum, which may legitimately have overflowed
    // to infinity (or NaN, from +inf and -inf): read and dropped.
    if (dense) dec->GetDouble();
    if (!dec->ok() || !std::isfinite(sketch.min_) || !std::isfinite(sketch.max_) ||
        sketch.min_ > sketch.max_) {
      return false;
    }
  }
  *out = std::move(sketch);
  return true;
}

}  // namespace vigil
