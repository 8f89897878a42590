#include "windows/ddsketch.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "windows/codec.h"

namespace vigil {
namespace {

constexpr double kAlpha = DDSketch::kDefaultRelativeAccuracy;
// Rounding in the mapping and its inverse is a few ulps; the guarantee is
// checked with that much slack and no more.
constexpr double kSlack = 1e-12;

// splitmix64 with Box-Muller: the same samples with every standard library,
// unlike std::normal_distribution.
class TestRng {
 public:
  explicit TestRng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
  // Uniform in (0, 1): never 0, so log() is safe.
  double Uniform() { return (static_cast<double>(Next() >> 11) + 0.5) * 0x1.0p-53; }
  double Normal() {
    const double r = std::sqrt(-2.0 * std::log(Uniform()));
    return r * std::cos(2.0 * std::numbers::pi * Uniform());
  }
  double LogNormal(double mu, double sigma) { return std::exp(mu + sigma * Normal()); }
  double Pareto(double scale, double shape) { return scale * std::pow(Uniform(), -1.0 / shape); }

 private:
  uint64_t state_;
};

// The value of 0-based rank floor(q * (n - 1)) of `sorted`.
double ExactQuantile(const std::vector<double>& sorted, double q) {
  const auto rank = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1));
  return sorted[rank];
}

DDSketch SketchOf(const std::vector<double>& values, double alpha = kAlpha,
                  int32_t max_buckets = DDSketch::kDefaultMaxBuckets) {
  DDSketch sketch(alpha, max_buckets);
  for (double v : values) sketch.Add(v);
  return sketch;
}

std::string EncodeToString(const DDSketch& sketch) {
  Encoder enc;
  sketch.Encode(&enc);
  return enc.Release();
}

bool DecodeFrom(std::string_view bytes, DDSketch* out) {
  Decoder dec(bytes);
  return DDSketch::Decode(&dec, out);
}

void ExpectWithin(double estimate, double exact, double relative, const char* what) {
  EXPECT_LE(std::abs(estimate - exact), relative * std::abs(exact))
      << what << ": estimate " << estimate << " exact " << exact;
}

TEST(DDSketchTest, EmptySketch) {
  DDSketch sketch;
  EXPECT_TRUE(sketch.empty());
  EXPECT_EQ(sketch.count(), 0u);
  EXPECT_TRUE(std::isnan(sketch.Quantile(0.5)));
  EXPECT_TRUE(std::isnan(sketch.Quantile(0.0)));
  EXPECT_EQ(sketch.sum(), 0.0);
  EXPECT_EQ(sketch.min(), std::numeric_limits<double>::infinity());
  EXPECT_EQ(sketch.max(), -std::numeric_limits<double>::infinity());
}

TEST(DDSketchTest, SmallInputByHand) {
  DDSketch sketch = SketchOf({4.0, 1.0, 100.0, 3.0, 2.0});
  EXPECT_EQ(sketch.count(), 5u);
  EXPECT_EQ(sketch.sum(), 110.0);
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

TEST(DDSketchTest, NegativeZeroAndPositive) {
  DDSketch sketch = SketchOf({10.0, -1.0, 0.0, 2.0, -0.0, -5.0});
  EXPECT_EQ(sketch.count(), 6u);
  EXPECT_EQ(sketch.Quantile(0.0), -5.0);
  ExpectWithin(sketch.Quantile(0.2), -1.0, kAlpha, "rank 1");
  EXPECT_EQ(sketch.Quantile(0.4), 0.0);
  EXPECT_EQ(sketch.Quantile(0.6), 0.0);
  ExpectWithin(sketch.Quantile(0.8), 2.0, kAlpha, "rank 4");
  EXPECT_EQ(sketch.Quantile(1.0), 10.0);
  EXPECT_EQ(sketch.sum(), 6.0);
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
  EXPECT_EQ(sketch.sum(), 16.0);
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

double LogNormalLatency(TestRng& rng) { return rng.LogNormal(std::log(700.0), 0.6); }
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
  EXPECT_LT(sketch.positive_span(), 2048) << "nothing collapsed";
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

std::vector<double> MergeTestValues() {
  TestRng rng(5);
  std::vector<double> values(100'000);
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = i % 97 == 0 ? 0.0 : (i % 11 == 0 ? -rng.Pareto(1.0, 1.2) : LogNormalLatency(rng));
  }
  return values;
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
  EXPECT_NEAR(tree.sum(), whole.sum(), 1e-9 * std::abs(whole.sum()));
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

TEST(DDSketchTest, EncodeDecodeRoundTrip) {
  const std::vector<DDSketch> cases = {DDSketch(), SketchOf({0.0}), SketchOf({-1.5, 3.0}),
                                       SketchOf(MergeTestValues()),
                                       SketchOf(MergeTestValues(), 0.02, 32)};
  for (const DDSketch& original : cases) {
    const std::string bytes = EncodeToString(original);
    Decoder dec(bytes);
    DDSketch decoded(0.1);
    ASSERT_TRUE(DDSketch::Decode(&dec, &decoded));
    EXPECT_TRUE(dec.empty());
    EXPECT_EQ(decoded, original);
    EXPECT_EQ(decoded.sum(), original.sum());
    EXPECT_EQ(EncodeToString(decoded), bytes);
    if (!original.empty()) {
      EXPECT_EQ(decoded.Quantile(0.99), original.Quantile(0.99));
    }
    // The decoded sketch keeps working.
    decoded.Add(7.0);
    DDSketch expected = original;
    expected.Add(7.0);
    EXPECT_EQ(decoded, expected);
  }
}

TEST(DDSketchTest, DecodeRejectsTruncatedInput) {
  for (const DDSketch& original : {DDSketch(), SketchOf(MergeTestValues())}) {
    const std::string bytes = EncodeToString(original);
    for (size_t n = 0; n < bytes.size(); ++n) {
      DDSketch out = SketchOf({123.0});
      EXPECT_FALSE(DecodeFrom(std::string_view(bytes).substr(0, n), &out)) << n;
      EXPECT_EQ(out, SketchOf({123.0})) << "untouched on failure";
    }
  }
}

TEST(DDSketchTest, DecodeSurvivesGarbledInput) {
  const std::string bytes = EncodeToString(SketchOf({-4.0, 0.0, 1.0, 2.0, 3.0, 1e4}));
  int rejected = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int x : {0x01, 0x80, 0xff, 0x7f}) {
      std::string garbled = bytes;
      garbled[i] = static_cast<char>(garbled[i] ^ x);
      DDSketch out;
      if (!DecodeFrom(garbled, &out)) {
        ++rejected;
        continue;
      }
      // Whatever is accepted is a usable sketch.
      EXPECT_LE(out.min(), out.max());
      for (double q : {0.0, 0.3, 0.5, 0.99, 1.0}) {
        EXPECT_GE(out.Quantile(q), out.min());
        EXPECT_LE(out.Quantile(q), out.max());
      }
      out.Add(1.0);
      out.Merge(out);
    }
  }
  EXPECT_GT(rejected, static_cast<int>(bytes.size()));
}

std::string HandMade(double alpha, uint64_t max_buckets, uint64_t zero, uint64_t span,
                     int64_t first, const std::vector<uint64_t>& counts) {
  Encoder enc;
  enc.PutDouble(alpha);
  enc.PutVarint(max_buckets);
  enc.PutVarint(zero);
  enc.PutVarint(span);
  if (span > 0) enc.PutSigned(first);
  for (uint64_t c : counts) enc.PutVarint(c);
  enc.PutVarint(0);  // negative store
  enc.PutDouble(1.0);
  enc.PutDouble(2.0);
  enc.PutDouble(3.0);
  return enc.Release();
}

TEST(DDSketchTest, DecodeRejectsInconsistentFields) {
  DDSketch out;
  ASSERT_TRUE(DecodeFrom(HandMade(0.01, 64, 0, 2, 1, {1, 1}), &out));
  EXPECT_EQ(out.count(), 2u);
  EXPECT_FALSE(DecodeFrom(HandMade(std::nan(""), 64, 0, 2, 1, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.0, 64, 0, 2, 1, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(1.0, 64, 0, 2, 1, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 0, 0, 2, 1, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, uint64_t{1} << 40, 0, 2, 1, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 65, 1, std::vector<uint64_t>(65, 1)), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 2, 1, {0, 1}), &out)) << "empty end bucket";
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 2, 1, {1, 0}), &out)) << "empty end bucket";
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 2, int64_t{1} << 40, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 2, INT64_MAX, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 2, -1'000'000, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, UINT64_MAX, 2, 1, {1, 1}), &out)) << "overflow";
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 2, 1, {UINT64_MAX, 1}), &out)) << "overflow";
  Encoder bad_minmax;
  bad_minmax.PutDouble(0.01);
  bad_minmax.PutVarint(64);
  bad_minmax.PutVarint(1);
  bad_minmax.PutVarint(0);
  bad_minmax.PutVarint(0);
  bad_minmax.PutDouble(2.0);
  bad_minmax.PutDouble(1.0);  // max < min
  bad_minmax.PutDouble(0.0);
  EXPECT_FALSE(DecodeFrom(bad_minmax.data(), &out));
}

}  // namespace
}  // namespace vigil
