// DDSketch against a reference model written from the header's definition
// alone (every value's bucket, the cap's folding of the lowest buckets,
// format 2's runs): sketches built value by value, over parts merged in any
// order, through encodings, cleared and refilled, and small sketches that
// keep their buckets in a list, all encode as the model does.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "base/codec.h"
#include "gtest/gtest.h"
#include "tests/windows/ddsketch_test_util.h"
#include "windows/ddsketch.h"

namespace vigil {
namespace {

using namespace ddsketch_test;  // NOLINT: the shared helpers

std::string ReferenceEncoding(const std::vector<double>& values, double alpha, int32_t cap) {
  const internal::LogMapping mapping(alpha);
  constexpr double kMin = std::numeric_limits<double>::min();
  std::map<int32_t, uint64_t> positive;
  std::map<int32_t, uint64_t> negative;
  uint64_t zeros = 0;
  for (double v : values) {
    if (v >= kMin) {
      ++positive[mapping.Index(v)];
    } else if (v <= -kMin) {
      ++negative[mapping.Index(-v)];
    } else {
      ++zeros;
    }
  }
  Encoder enc;
  enc.PutDouble(-alpha);
  enc.PutVarint(2);
  enc.PutVarint(static_cast<uint64_t>(cap));
  enc.PutVarint(zeros);
  for (std::map<int32_t, uint64_t>* store : {&positive, &negative}) {
    while (store->size() > static_cast<size_t>(cap)) {
      const uint64_t count = store->begin()->second;
      store->erase(store->begin());
      store->begin()->second += count;
    }
    enc.PutVarint(store->size());
    if (store->empty()) continue;
    enc.PutSigned(store->begin()->first);
    std::vector<std::pair<int32_t, uint64_t>> buckets(store->begin(), store->end());
    for (size_t i = 0; i < buckets.size();) {
      size_t end = i + 1;
      while (end < buckets.size() && buckets[end].first == buckets[end - 1].first + 1) ++end;
      enc.PutVarint(end - i);
      for (size_t k = i; k < end; ++k) enc.PutVarint(buckets[k].second);
      if (end < buckets.size()) enc.PutVarint(buckets[end].first - buckets[end - 1].first - 2);
      i = end;
    }
  }
  if (!values.empty()) {
    enc.PutDouble(*std::min_element(values.begin(), values.end()));
    enc.PutDouble(*std::max_element(values.begin(), values.end()));
  }
  return enc.Release();
}

// Values of a few kinds, in runs: clusters of random width anywhere in the
// double range, drifts, single far outliers, zeros.
std::vector<double> MixedValues(TestRng& rng, size_t n) {
  std::vector<double> values;
  while (values.size() < n) {
    const double kind = rng.Uniform();
    const double sign = rng.Uniform() < 0.3 ? -1.0 : 1.0;
    const double center = std::exp2(rng.Uniform() * 1600.0 - 800.0);
    const size_t run = 1 + static_cast<size_t>(rng.Uniform() * 400);
    for (size_t i = 0; i < run && values.size() < n; ++i) {
      if (kind < 0.5) {
        values.push_back(sign * center * std::exp2(rng.Normal() * rng.Uniform() * 6.0));
      } else if (kind < 0.7) {
        values.push_back(sign * center * std::exp2(static_cast<double>(i) * 0.05));
      } else if (kind < 0.95) {
        values.push_back(sign * std::exp2(rng.Uniform() * 2000.0 - 1000.0));
        break;
      } else {
        values.push_back(0.0);
      }
    }
  }
  return values;
}

TEST(DDSketchTest, MatchesTheReferenceModel) {
  TestRng rng(23);
  for (int trial = 0; trial < 60; ++trial) {
    const double alpha = trial % 3 == 0 ? 0.01 : kAlpha;
    const int32_t cap = std::vector<int32_t>{8, 16, 64, 300, 4096}[trial % 5];
    const std::vector<double> values = MixedValues(rng, 200 + trial * 150);
    const std::string expected = ReferenceEncoding(values, alpha, cap);
    SCOPED_TRACE(testing::Message() << "trial " << trial << " cap " << cap);

    // Added one by one.
    const DDSketch whole = SketchOf(values, alpha, cap);
    ASSERT_EQ(EncodeToString(whole), expected);
    // Scattered over parts, some of which travel encoded or are cleared and
    // refilled first, then merged in a random order.
    std::vector<DDSketch> parts(1 + trial % 7, DDSketch(alpha, cap));
    std::vector<std::vector<double>> shares(parts.size());
    for (double v : values) {
      const size_t i = static_cast<size_t>(rng.Uniform() * static_cast<double>(parts.size()));
      parts[i].Add(v);
      shares[i].push_back(v);
    }
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i % 3 == 1) {
        parts[i].Clear();
        for (double v : shares[i]) parts[i].Add(v);
      }
      if (i % 2 == 1) {
        ASSERT_TRUE(DecodeFrom(EncodeToString(parts[i]), &parts[i]));
      }
      ASSERT_EQ(EncodeToString(parts[i]), ReferenceEncoding(shares[i], alpha, cap));
    }
    DDSketch merged(alpha, cap);
    std::vector<double> so_far;
    while (!parts.empty()) {
      const size_t i = static_cast<size_t>(rng.Uniform() * static_cast<double>(parts.size()));
      merged.Merge(parts[i]);
      so_far.insert(so_far.end(), shares[i].begin(), shares[i].end());
      ASSERT_EQ(EncodeToString(merged), ReferenceEncoding(so_far, alpha, cap));
      parts.erase(parts.begin() + static_cast<ptrdiff_t>(i));
      shares.erase(shares.begin() + static_cast<ptrdiff_t>(i));
      // A value after a merge, which may be a new bucket of a full store.
      const double extra = std::exp2(rng.Uniform() * 200.0 - 100.0);
      merged.Add(extra);
      so_far.push_back(extra);
      ASSERT_EQ(EncodeToString(merged), ReferenceEncoding(so_far, alpha, cap));
    }
    const DDSketch direct = SketchOf(so_far, alpha, cap);
    ASSERT_EQ(merged, direct);
    ASSERT_EQ(merged.positive_buckets(), direct.positive_buckets());
    ASSERT_EQ(merged.negative_buckets(), direct.negative_buckets());
  }
}

// A sketch of a few values (one user's latencies) keeps its buckets in a
// list, not a window spanning them; past 16 buckets it lays the window, and
// either way it is the reference model's sketch, alone and merged.
TEST(DDSketchTest, AFewBucketsStayInAListAndGrowIntoTheWindow) {
  DDSketch few;
  std::vector<double> values;
  for (int i = 0; i < 10; ++i) values.push_back(100.0 * std::pow(1.6, i));  // 100 ms .. 6.9 s
  for (double v : values) few.Add(v);
  EXPECT_LE(few.allocated_bytes(), 16u * 16);
  EXPECT_EQ(EncodeToString(few), ReferenceEncoding(values, kAlpha, 4096));
  EXPECT_DOUBLE_EQ(few.WeightAbove(values[4]), 5.5);
  // 40 latencies spread over 0.1 to 10 s fill 40 of some 470 indices: still
  // a list (a window over them would take 5.6 KiB). 40 between 500 and
  // 900 ms fill most of theirs: a window. Both are the model's sketch.
  std::vector<double> spread_values, dense_values;
  for (int i = 0; i < 40; ++i) {
    spread_values.push_back(100.0 * std::pow(100.0, i / 39.0));
    dense_values.push_back(500.0 + 10.0 * i);
  }
  const DDSketch spread = SketchOf(spread_values);
  EXPECT_LE(spread.allocated_bytes(), 64u * 16);
  EXPECT_EQ(EncodeToString(spread), ReferenceEncoding(spread_values, kAlpha, 4096));
  EXPECT_EQ(EncodeToString(SketchOf(dense_values)), ReferenceEncoding(dense_values, kAlpha, 4096));
  TestRng rng(5);
  for (int trial = 0; trial < 200; ++trial) {
    SCOPED_TRACE(trial);
    const std::vector<double> all = MixedValues(rng, 1 + (trial * 7) % 150);
    DDSketch merged;
    for (size_t start = 0; start < all.size(); start += 3) {
      DDSketch part;
      for (size_t i = start; i < std::min(all.size(), start + 3); ++i) part.Add(all[i]);
      merged.Merge(part);
    }
    const std::string expected = ReferenceEncoding(all, kAlpha, 4096);
    ASSERT_EQ(EncodeToString(SketchOf(all)), expected);
    ASSERT_EQ(EncodeToString(merged), expected);
    Encoder enc;
    merged.Encode(&enc);
    Decoder dec(enc.data());
    DDSketch restored;
    ASSERT_TRUE(DDSketch::Decode(&dec, &restored));
    ASSERT_EQ(EncodeToString(restored), expected);
    for (double q : {0.0, 0.3, 0.5, 0.99, 1.0}) ASSERT_EQ(restored.Quantile(q), merged.Quantile(q));
  }
}

TEST(DDSketchTest, FoldsAtTheCapRightAfterAMerge) {
  // Overlapping stores merged under the cap (40 buckets, 30 + 25 counted),
  // then new buckets one by one, above or below, until well past the cap:
  // every step as defined.
  std::vector<double> values;
  DDSketch a(0.01, 64);
  DDSketch b(0.01, 64);
  for (int k = 0; k < 40; ++k) {
    const double v = std::pow(1.03, k);
    if (k < 30) a.Add(v);
    if (k >= 15) b.Add(v);
    values.insert(values.end(), k >= 15 && k < 30 ? 2 : 1, v);
  }
  for (bool below : {false, true}) {
    DDSketch merged = a;
    merged.Merge(b);
    std::vector<double> all = values;
    ASSERT_EQ(EncodeToString(merged), ReferenceEncoding(all, 0.01, 64));
    for (int i = 1; i <= 40; ++i) {
      const double v = below ? std::pow(1.03, -i) : std::pow(1.03, 39 + i);
      merged.Add(v);
      all.push_back(v);
      ASSERT_EQ(EncodeToString(merged), ReferenceEncoding(all, 0.01, 64)) << i;
      ASSERT_EQ(merged.positive_buckets(), std::min(64, 40 + i)) << i;
    }
  }
}

}  // namespace
}  // namespace vigil
