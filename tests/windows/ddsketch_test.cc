#include "windows/ddsketch.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <numbers>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/codec.h"
#include "gtest/gtest.h"
#include "tests/windows/ddsketch_test_util.h"

namespace vigil {
namespace {

using namespace ddsketch_test;  // NOLINT: the shared helpers

TEST(DDSketchTest, EmptySketch) {
  DDSketch sketch;
  EXPECT_TRUE(sketch.empty());
  EXPECT_EQ(sketch.count(), 0u);
  EXPECT_TRUE(std::isnan(sketch.Quantile(0.5)));
  EXPECT_TRUE(std::isnan(sketch.Quantile(0.0)));
  EXPECT_EQ(sketch.min(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(sketch.max(), -std::numeric_limits<double>::infinity());
}

TEST(DDSketchTest, SmallInputByHand) {
  DDSketch sketch = SketchOf({4.0, 1.0, 100.0, 3.0, 2.0});
  EXPECT_EQ(sketch.count(), 5u);
  EXPECT_EQ(sketch.min(), 1.0);
  EXPECT_EQ(sketch.max(), 100.0);
  EXPECT_EQ(sketch.Quantile(0.0), 1.0);
  EXPECT_EQ(sketch.Quantile(1.0), 100.0);
  // Ranks floor(q * 4): 0.25 -> 1 (2.0), 0.5 -> 2 (3.0), 0.74 -> 2, 0.75 -> 3 (4.0).
  ExpectWithin(sketch.Quantile(0.25), 2.0, kAlpha, "q0.25");
  ExpectWithin(sketch.Quantile(0.5), 3.0, kAlpha, "q0.5");
  ExpectWithin(sketch.Quantile(0.74), 3.0, kAlpha, "q0.74");
  ExpectWithin(sketch.Quantile(0.75), 4.0, kAlpha, "q0.75");
  EXPECT_NE(sketch.Quantile(0.5), 3.0) << "a bucket value, not the input itself";
  EXPECT_TRUE(std::isnan(sketch.Quantile(-0.1)));
  EXPECT_TRUE(std::isnan(sketch.Quantile(1.5)));
  EXPECT_TRUE(std::isnan(sketch.Quantile(std::nan(""))));
}

TEST(DDSketchTest, RankIsFloorOfQTimesCountMinusOne) {
  const DDSketch two = SketchOf({20.0, 10.0});
  EXPECT_EQ(two.Quantile(0.5), 10.0);   // rank floor(0.5) = 0
  EXPECT_EQ(two.Quantile(0.99), 10.0);  // rank floor(0.99) = 0
  EXPECT_EQ(two.Quantile(1.0), 20.0);
  const DDSketch one = SketchOf({42.5});
  for (double q : {0.0, 0.5, 1.0}) EXPECT_EQ(one.Quantile(q), 42.5);
}

TEST(DDSketchTest, TheRankIsThatOfTheDecimalQ) {
  // 0.7 · 90 in doubles is 62.99999999999999; the rule means rank 63.
  EXPECT_EQ(QuantileRank(0.7, 91), 63u);
  EXPECT_EQ(QuantileRank(0.29, 101), 29u);
  EXPECT_EQ(QuantileRank(0.57, 101), 57u);
  EXPECT_EQ(QuantileRank(0.58, 101), 58u);
  EXPECT_EQ(QuantileRank(0.99, 2), 0u);
  EXPECT_EQ(QuantileRank(1.0, 7), 6u);
  // Every q of three decimals, n up to 2000, against integer arithmetic.
  for (uint64_t n = 1; n <= 2000; n += 37) {
    for (uint64_t thousandths = 0; thousandths <= 1000; ++thousandths) {
      const double q = static_cast<double>(thousandths) / 1000;
      ASSERT_EQ(QuantileRank(q, n), thousandths * (n - 1) / 1000) << q << " " << n;
    }
  }
  // The sketch answers that rank: 91 values 100·1.05^i, quantile(0.7) is
  // rank 63 (2162.35…), not rank 62 (2059.38…).
  std::vector<double> values;
  for (int i = 0; i < 91; ++i) values.push_back(100 * std::pow(1.05, i));
  const double exact = values[63];
  EXPECT_NEAR(SketchOf(values).Quantile(0.7), exact, 0.005 * exact);
}

TEST(DDSketchTest, NegativeZeroAndPositive) {
  DDSketch sketch = SketchOf({10.0, -1.0, 0.0, 2.0, -0.0, -5.0});
  EXPECT_EQ(sketch.count(), 6u);
  EXPECT_EQ(sketch.Quantile(0.0), -5.0);
  ExpectWithin(sketch.Quantile(0.2), -1.0, kAlpha, "rank 1");
  EXPECT_EQ(sketch.Quantile(0.4), 0.0);
  EXPECT_EQ(sketch.Quantile(0.6), 0.0);
  ExpectWithin(sketch.Quantile(0.8), 2.0, kAlpha, "rank 4");
  EXPECT_EQ(sketch.Quantile(1.0), 10.0);
  EXPECT_FALSE(std::signbit(SketchOf({-0.0}).min())) << "-0.0 is stored as 0.0";
}

TEST(DDSketchTest, IgnoresNonFiniteValuesAndZeroWeights) {
  DDSketch sketch;
  sketch.Add(std::nan(""));
  sketch.Add(std::numeric_limits<double>::infinity());
  sketch.Add(-std::numeric_limits<double>::infinity());
  sketch.Add(5.0, 0);
  EXPECT_TRUE(sketch.empty());
  EXPECT_EQ(sketch, DDSketch());
  sketch.Add(5.0, 3);
  sketch.Add(1.0);
  EXPECT_EQ(sketch.count(), 4u);
  ExpectWithin(sketch.Quantile(0.5), 5.0, kAlpha, "weighted median");
  EXPECT_EQ(sketch.Quantile(0.0), 1.0);
}

TEST(DDSketchTest, WeightedAddEqualsRepeatedAdd) {
  DDSketch weighted;
  DDSketch repeated;
  for (double v : {0.5, 7.0, -3.0, 0.0, 1e6}) {
    weighted.Add(v, 4);
    for (int i = 0; i < 4; ++i) repeated.Add(v);
  }
  EXPECT_EQ(weighted, repeated);
}

TEST(DDSketchTest, ExtremeMagnitudesAndSubnormals) {
  const double tiny = std::numeric_limits<double>::denorm_min();
  DDSketch sketch = SketchOf(
      {std::numeric_limits<double>::max(), std::numeric_limits<double>::min(), tiny, -tiny, 1.0});
  EXPECT_EQ(sketch.count(), 5u);
  // Subnormals are counted as zero; the exact min/max still see them.
  EXPECT_EQ(sketch.min(), -tiny);
  EXPECT_EQ(sketch.Quantile(0.25), 0.0);
  EXPECT_EQ(sketch.Quantile(1.0), std::numeric_limits<double>::max());
}

// The mapping itself: every value lies in its bucket and the bucket value is
// within alpha of it, for several accuracies and values over the whole
// double range, including values right at bucket bounds.
TEST(DDSketchTest, MappingHonoursRelativeAccuracy) {
  TestRng rng(7);
  for (double alpha : {1e-4, 0.001, 0.005, 0.01, 0.05, 0.2, 0.6}) {
    internal::LogMapping mapping(alpha);
    double worst = 0.0;
    for (int i = 0; i < 200000; ++i) {
      double v = std::exp2(rng.Uniform() * 2040.0 - 1020.0);
      if (i % 4 == 1) v = mapping.LowerBound(mapping.Index(v));  // an exclusive bound
      if (i % 4 == 2) v = std::nextafter(mapping.LowerBound(mapping.Index(v)), 1e308);
      const int32_t index = mapping.Index(v);
      ASSERT_LE(mapping.LowerBound(index), v * (1 + kSlack)) << alpha << " " << v;
      ASSERT_GE(mapping.LowerBound(index + 1), v * (1 - kSlack)) << alpha << " " << v;
      worst = std::max(worst, std::abs(mapping.Value(index) - v) / v);
    }
    EXPECT_LE(worst, alpha * (1 + kSlack)) << "alpha " << alpha;
    // Not wasteful either: the worst case comes close to the bound.
    EXPECT_GE(worst, alpha * 0.95) << "alpha " << alpha;
  }
}

struct Distribution {
  const char* name;
  double (*sample)(TestRng&);
};

double Bimodal(TestRng& rng) {
  // Cache hits around 40 ms, LLM calls around 3 s.
  return rng.Uniform() < 0.3 ? rng.LogNormal(std::log(40.0), 0.25)
                             : rng.LogNormal(std::log(3000.0), 0.35);
}
double HeavyTailed(TestRng& rng) { return rng.Pareto(100.0, 1.5); }

class DDSketchAccuracyTest : public testing::TestWithParam<Distribution> {};

TEST_P(DDSketchAccuracyTest, MillionSamplesWithinOnePercent) {
  TestRng rng(20261124);
  std::vector<double> values(1'000'000);
  for (double& v : values) v = GetParam().sample(rng);
  const DDSketch sketch = SketchOf(values);
  std::sort(values.begin(), values.end());

  EXPECT_EQ(sketch.count(), values.size());
  EXPECT_EQ(sketch.Quantile(0.0), values.front());
  EXPECT_EQ(sketch.Quantile(1.0), values.back());
  for (double q : {0.5, 0.95, 0.99}) {
    const double exact = ExactQuantile(values, q);
    ExpectWithin(sketch.Quantile(q), exact, 0.01, "1% bound");
    ExpectWithin(sketch.Quantile(q), exact, kAlpha * (1 + kSlack), "alpha bound");
  }
  for (double q : {0.001, 0.1, 0.25, 0.75, 0.9, 0.999, 0.9999}) {
    ExpectWithin(sketch.Quantile(q), ExactQuantile(values, q), kAlpha * (1 + kSlack), "alpha");
  }
  EXPECT_LT(sketch.positive_buckets(), DDSketch::kDefaultMaxBuckets) << "nothing collapsed";
}

INSTANTIATE_TEST_SUITE_P(Distributions, DDSketchAccuracyTest,
                         testing::Values(Distribution{"LogNormal", LogNormalLatency},
                                         Distribution{"Bimodal", Bimodal},
                                         Distribution{"Pareto", HeavyTailed}),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(DDSketchTest, MixedSignsAgainstExactQuantiles) {
  TestRng rng(99);
  std::vector<double> values(200'000);
  for (double& v : values) {
    const double u = rng.Uniform();
    v = u < 0.1 ? 0.0 : (u < 0.4 ? -rng.LogNormal(2.0, 1.5) : rng.LogNormal(1.0, 2.0));
  }
  const DDSketch sketch = SketchOf(values);
  std::sort(values.begin(), values.end());
  for (double q = 0.0; q <= 1.0; q += 0.01) {
    ExpectWithin(sketch.Quantile(q), ExactQuantile(values, q), kAlpha * (1 + kSlack), "mixed");
  }
}

std::vector<DDSketch> SplitInto(const std::vector<double>& values, size_t parts, double alpha,
                                int32_t max_buckets) {
  std::vector<DDSketch> sketches(parts, DDSketch(alpha, max_buckets));
  // Contiguous chunks of uneven size, so the parts cover different ranges.
  for (size_t i = 0; i < values.size(); ++i) {
    sketches[std::min(parts - 1, i * i / values.size() * parts / values.size())].Add(values[i]);
  }
  return sketches;
}

DDSketch MergeTree(const std::vector<DDSketch>& parts, size_t lo, size_t hi) {
  if (hi - lo == 1) return parts[lo];
  const size_t mid = (lo + hi) / 2;
  DDSketch left = MergeTree(parts, lo, mid);
  left.Merge(MergeTree(parts, mid, hi));
  return left;
}

void CheckMergeOrders(const std::vector<double>& values, double alpha, int32_t max_buckets) {
  const DDSketch whole = SketchOf(values, alpha, max_buckets);
  const std::vector<DDSketch> parts = SplitInto(values, 8, alpha, max_buckets);
  DDSketch forward(alpha, max_buckets);
  for (const DDSketch& p : parts) forward.Merge(p);
  DDSketch backward(alpha, max_buckets);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) backward.Merge(*it);
  DDSketch interleaved(alpha, max_buckets);
  for (size_t i : {3, 0, 7, 5, 1, 6, 2, 4}) interleaved.Merge(parts[i]);
  const DDSketch tree = MergeTree(parts, 0, parts.size());

  EXPECT_EQ(forward, whole);
  EXPECT_EQ(backward, whole);
  EXPECT_EQ(interleaved, whole);
  EXPECT_EQ(tree, whole);
  for (double q : {0.0, 0.01, 0.5, 0.95, 0.99, 1.0}) {
    EXPECT_EQ(forward.Quantile(q), whole.Quantile(q)) << q;
    EXPECT_EQ(tree.Quantile(q), whole.Quantile(q)) << q;
  }
  // Byte-identical, as checkpoints and scale-out partials need.
  const std::string bytes = EncodeToString(whole);
  EXPECT_EQ(EncodeToString(forward), bytes);
  EXPECT_EQ(EncodeToString(backward), bytes);
  EXPECT_EQ(EncodeToString(interleaved), bytes);
  EXPECT_EQ(EncodeToString(tree), bytes);
  // Parts that travelled encoded merge to the same bytes too.
  DDSketch decoded_parts(alpha, max_buckets);
  for (size_t i : {6, 2, 4, 0, 7, 1, 5, 3}) {
    DDSketch part;
    ASSERT_TRUE(DecodeFrom(EncodeToString(parts[i]), &part));
    decoded_parts.Merge(part);
  }
  EXPECT_EQ(EncodeToString(decoded_parts), bytes);
}

TEST(DDSketchTest, MergeIsAssociativeAndCommutative) {
  CheckMergeOrders(MergeTestValues(), kAlpha, DDSketch::kDefaultMaxBuckets);
}

TEST(DDSketchTest, MergeIsOrderIndependentEvenWhenCollapsing) {
  CheckMergeOrders(MergeTestValues(), 0.01, 64);
}

TEST(DDSketchTest, MergeWithEmptyAndSelf) {
  DDSketch sketch = SketchOf({1.0, 2.0, -3.0, 0.0});
  const DDSketch before = sketch;
  sketch.Merge(DDSketch());
  EXPECT_EQ(sketch, before);
  DDSketch empty;
  empty.Merge(sketch);
  EXPECT_EQ(empty, sketch);
  sketch.Merge(sketch);
  DDSketch doubled = before;
  doubled.Merge(before);
  EXPECT_EQ(sketch, doubled);
  EXPECT_EQ(sketch.count(), 8u);
}

TEST(DDSketchTest, DistantSketchesMerge) {
  // Two stores whose windows do not overlap at all.
  DDSketch low = SketchOf({1e-3, 2e-3});
  DDSketch high = SketchOf({1e3, 5e3});
  DDSketch merged = low;
  merged.Merge(high);
  EXPECT_EQ(merged, SketchOf({1e-3, 2e-3, 1e3, 5e3}));
  ExpectWithin(merged.Quantile(0.34), 2e-3, kAlpha, "low half");
  ExpectWithin(merged.Quantile(0.67), 1e3, kAlpha, "high half");
}

TEST(DDSketchTest, BucketCapCollapsesLowestBuckets) {
  // Every bucket of the range is non-empty, so the 64 kept buckets are the
  // 64 consecutive ones below the maximum's.
  constexpr int32_t kCap = 64;
  TestRng rng(11);
  std::vector<double> values(20'000);
  // Log-uniform over [1, 1e6]: about 1380 buckets at alpha = 1%, far above the cap.
  for (double& v : values) v = std::pow(10.0, 6.0 * rng.Uniform());
  DDSketch ascending(0.01, kCap);
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (double v : sorted) {
    ascending.Add(v);
    ASSERT_LE(ascending.positive_span(), kCap);
  }
  DDSketch descending(0.01, kCap);
  for (auto it = sorted.rbegin(); it != sorted.rend(); ++it) descending.Add(*it);
  const DDSketch shuffled = SketchOf(values, 0.01, kCap);

  EXPECT_EQ(ascending, shuffled);
  EXPECT_EQ(descending, shuffled);
  EXPECT_EQ(shuffled.positive_span(), kCap);
  EXPECT_EQ(shuffled.positive_buckets(), kCap);
  EXPECT_EQ(shuffled.count(), values.size());
  EXPECT_EQ(shuffled.Quantile(0.0), sorted.front());
  EXPECT_EQ(shuffled.Quantile(1.0), sorted.back());
  // 64 buckets cover a ratio of about 1.0202^64 = 3.6 below the maximum: the
  // top quantiles keep the guarantee, the lower ones are overestimated and
  // end up at the lowest bucket kept.
  for (double q : {0.95, 0.99, 0.999}) {
    ExpectWithin(shuffled.Quantile(q), ExactQuantile(sorted, q), 0.01 * (1 + kSlack), "kept");
  }
  const double lowest_kept = shuffled.Quantile(0.01);
  EXPECT_GT(lowest_kept, ExactQuantile(sorted, 0.01) * 1000);
  EXPECT_GT(lowest_kept, sorted.back() / 4.0);
  EXPECT_EQ(shuffled.Quantile(0.5), lowest_kept);
}

TEST(DDSketchTest, DriftingStreamStaysWithinCap) {
  DDSketch sketch(0.005, 256);
  for (int i = 0; i < 100'000; ++i) sketch.Add(std::exp(i * 1e-3));
  for (int i = 0; i < 100'000; ++i) sketch.Add(-std::exp(-i * 1e-3));
  EXPECT_EQ(sketch.positive_buckets(), 256);
  EXPECT_EQ(sketch.negative_buckets(), 256);
  EXPECT_LE(sketch.positive_span(), 256);
  EXPECT_LE(sketch.negative_span(), 256);
  EXPECT_EQ(sketch.count(), 200'000u);
  EXPECT_EQ(sketch.Quantile(1.0), std::exp(99'999 * 1e-3));
  ExpectWithin(sketch.Quantile(0.999), std::exp(99'799 * 1e-3), kAlpha * (1 + kSlack), "top");
}

TEST(DDSketchTest, ClearKeepsNothingButMemory) {
  DDSketch sketch = SketchOf({1.0, -2.0, 0.0, 1e9});
  sketch.Clear();
  EXPECT_TRUE(sketch.empty());
  EXPECT_EQ(sketch, DDSketch());
  EXPECT_EQ(EncodeToString(sketch), EncodeToString(DDSketch()));
  sketch.Add(42.0);
  EXPECT_EQ(sketch, SketchOf({42.0}));
}

std::vector<double> Latencies(uint64_t seed, size_t n = 1000) {
  TestRng rng(seed);
  std::vector<double> values(n);
  for (double& v : values) v = 20.0 * std::pow(250.0, rng.Uniform());
  return values;
}

// The q whose rank floor(q * (n - 1)) is r.
double QuantileOfRank(size_t r, size_t n) {
  return r + 1 >= n ? 1.0 : (static_cast<double>(r) + 0.5) / static_cast<double>(n - 1);
}

// Every rank of `values` within alpha, the extremes exact.
void ExpectEveryRankWithin(const DDSketch& sketch, std::vector<double> values, double alpha) {
  std::sort(values.begin(), values.end());
  ASSERT_EQ(sketch.count(), values.size());
  for (size_t r = 0; r < values.size(); ++r) {
    const double estimate = sketch.Quantile(QuantileOfRank(r, values.size()));
    if (r == 0 || r + 1 == values.size()) {
      ASSERT_EQ(estimate, values[r]) << "rank " << r;
    } else {
      ASSERT_LE(std::abs(estimate - values[r]), alpha * (1 + kSlack) * std::abs(values[r]))
          << "rank " << r << " estimate " << estimate << " exact " << values[r];
    }
  }
}

void ExpectP50P95P99Within(const DDSketch& sketch, std::vector<double> values) {
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.95, 0.99}) {
    ExpectWithin(sketch.Quantile(q), ExactQuantile(values, q), kAlpha * (1 + kSlack), "p");
  }
}

TEST(DDSketchTest, OneHugeValueMovesNoQuantileItDoesNotOccupy) {
  // The production case: one valid latency_ms of 1e13 in a minute used to
  // fold every real latency into one bucket and report p50 = p99 = 15,684.
  for (int poisons : {1, 7}) {
    std::vector<double> values = Latencies(14);
    for (int i = 0; i < poisons; ++i) values.insert(values.begin() + 100 * i + 50, 1e13);
    const DDSketch sketch = SketchOf(values);
    ExpectP50P95P99Within(sketch, values);
    ExpectEveryRankWithin(sketch, values, kAlpha);
    EXPECT_LT(sketch.Quantile(0.99), 5000.0);
    EXPECT_EQ(sketch.Quantile(1.0), 1e13);
  }
}

TEST(DDSketchTest, OneTinyValueMovesNoQuantileItDoesNotOccupy) {
  for (double tiny : {1e-300, 1e-250, std::numeric_limits<double>::min()}) {
    std::vector<double> values = Latencies(15);
    values.insert(values.begin() + 500, tiny);
    const DDSketch sketch = SketchOf(values);
    ExpectP50P95P99Within(sketch, values);
    ExpectEveryRankWithin(sketch, values, kAlpha);
    EXPECT_EQ(sketch.Quantile(0.0), tiny);
  }
}

TEST(DDSketchTest, ExtremesOfBothSignsKeepEveryRank) {
  constexpr double kMax = std::numeric_limits<double>::max();
  constexpr double kMin = std::numeric_limits<double>::min();
  std::vector<double> values = Latencies(16);
  for (double v : {kMax, kMin, 1e300, 1e-300, 1e13, -kMax, -kMin, -1e-250, -3.0, 0.0}) {
    values.insert(values.begin() + 37, v);
  }
  const DDSketch sketch = SketchOf(values);
  ExpectEveryRankWithin(sketch, values, kAlpha);
  // Outliers sit in the side list: the window does not stretch over the
  // ~143,000 bucket indices between them.
  EXPECT_LT(sketch.allocated_bytes(), 32u * 1024);
}

TEST(DDSketchTest, OutlierFirstOrLastGivesTheSameSketch) {
  const std::vector<double> latencies = Latencies(17, 5000);
  for (double outlier : {1e13, 1e-300, 1e300}) {
    std::vector<double> first = {outlier};
    first.insert(first.end(), latencies.begin(), latencies.end());
    std::vector<double> last = latencies;
    last.push_back(outlier);
    const DDSketch a = SketchOf(first);
    const DDSketch b = SketchOf(last);
    EXPECT_EQ(a, b);
    EXPECT_EQ(EncodeToString(a), EncodeToString(b));
    ExpectP50P95P99Within(a, last);
    EXPECT_LT(a.allocated_bytes(), 32u * 1024) << outlier;
  }
}

// The documented guarantee, checked rank by rank against the sorted input:
// each sign keeps its `cap` highest non-empty bucket indices; a rank whose
// value lies in a kept bucket is within alpha, any other reports the value of
// the lowest kept bucket of its sign (clamped to [min, max]), too large in
// magnitude. Returns how many ranks were collapsed, and in `largest` the
// largest collapsed magnitude.
size_t CheckCollapseGuarantee(const std::vector<double>& input, double alpha, int32_t cap,
                              double* largest = nullptr) {
  const DDSketch sketch = SketchOf(input, alpha, cap);
  std::vector<double> values = input;
  std::sort(values.begin(), values.end());
  const internal::LogMapping mapping(alpha);
  constexpr double kMin = std::numeric_limits<double>::min();
  const auto lowest_kept = [&](double sign) {
    std::set<int32_t> indices;
    for (double v : values) {
      if (v * sign >= kMin) indices.insert(mapping.Index(v * sign));
    }
    EXPECT_EQ(sign > 0 ? sketch.positive_buckets() : sketch.negative_buckets(),
              static_cast<int32_t>(std::min<size_t>(indices.size(), cap)));
    return indices.size() <= static_cast<size_t>(cap) ? std::numeric_limits<int32_t>::min()
                                                      : *std::next(indices.rbegin(), cap - 1);
  };
  const int32_t floor_positive = lowest_kept(1.0);
  const int32_t floor_negative = lowest_kept(-1.0);
  size_t collapsed = 0;
  if (largest != nullptr) *largest = 0.0;
  const size_t n = values.size();
  for (size_t r = 0; r < n; ++r) {
    const double v = values[r];
    const double estimate = sketch.Quantile(QuantileOfRank(r, n));
    if (r == 0 || r + 1 == n) {
      EXPECT_EQ(estimate, v) << "rank " << r;
    } else if (std::abs(v) < kMin) {
      EXPECT_EQ(estimate, 0.0) << "rank " << r;
    } else {
      const double sign = v > 0 ? 1.0 : -1.0;
      const int32_t floor = v > 0 ? floor_positive : floor_negative;
      // One failure is enough to read; stop at the first.
      if (mapping.Index(std::abs(v)) >= floor) {
        if (std::abs(estimate - v) > alpha * (1 + kSlack) * std::abs(v)) {
          ADD_FAILURE() << "kept rank " << r << " estimate " << estimate << " exact " << v;
          return collapsed;
        }
      } else {
        ++collapsed;
        if (largest != nullptr) *largest = std::max(*largest, std::abs(v));
        const double expected =
            std::clamp(sign * mapping.Value(floor), values.front(), values.back());
        if (estimate != expected || !(std::abs(estimate) > std::abs(v))) {
          ADD_FAILURE() << "collapsed rank " << r << " estimate " << estimate << " expected "
                        << expected << " exact " << v;
          return collapsed;
        }
      }
    }
  }
  return collapsed;
}

// Latencies plus `n` outliers of distinct buckets, log-spaced over
// [10^lo, 10^hi], shuffled in.
std::vector<double> WithOutliers(std::vector<double> values, size_t n, double lo, double hi) {
  for (size_t i = 0; i < n; ++i) {
    const double v = std::pow(10.0, lo + (hi - lo) * static_cast<double>(i) / (n - 1));
    values.insert(values.begin() + static_cast<ptrdiff_t>((i * 7919) % values.size()), v);
  }
  return values;
}

TEST(DDSketchTest, CapOverflowBelowTheDataKeepsEveryDataRank) {
  // 2,000 latencies fill about 280 buckets at 1%; 300 tiny outliers of
  // distinct magnitudes take the total past the cap of 512, so the lowest
  // ~70 outlier buckets fold and every latency rank keeps the guarantee.
  const std::vector<double> values = WithOutliers(Latencies(18, 2000), 300, -200.0, -3.0);
  EXPECT_GT(CheckCollapseGuarantee(values, 0.01, 512), 20u);
  const DDSketch sketch = SketchOf(values, 0.01, 512);
  std::vector<double> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  for (double q : {0.5, 0.95, 0.99}) {
    ExpectWithin(sketch.Quantile(q), ExactQuantile(sorted, q), 0.01 * (1 + kSlack), "data rank");
  }
  CheckMergeOrders(values, 0.01, 512);
}

TEST(DDSketchTest, CapOverflowAboveTheDataLosesWhatTheHeaderSays) {
  // 600 huge outliers of distinct magnitudes are more than the cap: the 512
  // kept buckets are all theirs, and every latency rank reports the lowest
  // kept bucket. Precisely what the header documents, no more.
  const std::vector<double> values = WithOutliers(Latencies(19, 2000), 600, 4.0, 200.0);
  EXPECT_GE(CheckCollapseGuarantee(values, 0.01, 512), 2000u);
  CheckMergeOrders(values, 0.01, 512);
}

TEST(DDSketchTest, CapOverflowWithBothSigns) {
  TestRng rng(20);
  std::vector<double> values(50'000);
  for (double& v : values) {
    const double u = rng.Uniform();
    v = u < 0.05 ? 0.0 : (u < 0.4 ? -rng.LogNormal(0.0, 8.0) : rng.LogNormal(2.0, 10.0));
  }
  EXPECT_GT(CheckCollapseGuarantee(values, 0.01, 64), 1000u);
  EXPECT_GT(CheckCollapseGuarantee(values, 0.005, 512), 100u);
  CheckMergeOrders(values, 0.01, 64);
}

TEST(DDSketchTest, DefaultCapKeepsSeventeenDecadesBelowTheLargest) {
  // Every bucket from 1e-10 to 1e17 non-empty: about 6,200 buckets, more
  // than the 4,096 kept. Nothing within a factor 1e17 of the largest value
  // folds.
  std::vector<double> values(30'000);
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = std::pow(10.0, -10.0 + 27.0 * static_cast<double>(i) / (values.size() - 1));
  }
  double largest_collapsed = 0.0;
  EXPECT_GT(
      CheckCollapseGuarantee(values, kAlpha, DDSketch::kDefaultMaxBuckets, &largest_collapsed),
      1000u);
  EXPECT_LT(largest_collapsed, values.back() / 1e17);
  EXPECT_GT(largest_collapsed, values.back() / 1e18) << "the bound is not loose either";
}

TEST(DDSketchTest, MergeOrderIndependentWhenOnlyTheUnionOverflows) {
  // 300 distinct buckets in ascending order: the parts hold few each, the
  // union folds.
  std::vector<double> values(300);
  for (size_t i = 0; i < values.size(); ++i) values[i] = std::pow(1.03, static_cast<double>(i));
  CheckMergeOrders(values, 0.01, 64);
  std::vector<double> poisoned = WithOutliers(Latencies(21, 5000), 40, -300.0, 300.0);
  CheckMergeOrders(poisoned, kAlpha, DDSketch::kDefaultMaxBuckets);
  CheckMergeOrders(poisoned, 0.01, 128);
}

TEST(DDSketchTest, ClearedSketchRefillsWithoutGrowing) {
  DDSketch sketch;
  const std::vector<double> values = WithOutliers(Latencies(22, 20'000), 3, -250.0, 13.0);
  for (double v : values) sketch.Add(v);
  const size_t bytes = sketch.allocated_bytes();
  for (int round = 0; round < 3; ++round) {
    sketch.Clear();
    for (auto it = values.rbegin(); it != values.rend(); ++it) sketch.Add(*it);
    EXPECT_EQ(sketch.allocated_bytes(), bytes);
  }
  EXPECT_EQ(sketch, SketchOf(values));
}

}  // namespace
}  // namespace vigil
