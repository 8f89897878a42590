// tests/windows/ddsketch_test_util.h
//
// Helpers shared by the DDSketch tests: a seeded generator, exact
// quantiles of a sorted input, and encode/decode round trips.
#ifndef VIGIL_TESTS_WINDOWS_DDSKETCH_TEST_UTIL_H_
#define VIGIL_TESTS_WINDOWS_DDSKETCH_TEST_UTIL_H_

#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "base/codec.h"
#include "gtest/gtest.h"
#include "windows/ddsketch.h"

namespace vigil {
namespace ddsketch_test {

inline constexpr double kAlpha = DDSketch::kDefaultRelativeAccuracy;
// Rounding in the mapping and its inverse is a few ulps; the guarantee is
// checked with that much slack and no more.
inline constexpr double kSlack = 1e-12;

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
inline double ExactQuantile(const std::vector<double>& sorted, double q) {
  const auto rank = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1));
  return sorted[rank];
}

inline DDSketch SketchOf(const std::vector<double>& values, double alpha = kAlpha,
                         int32_t max_buckets = DDSketch::kDefaultMaxBuckets) {
  DDSketch sketch(alpha, max_buckets);
  for (double v : values) sketch.Add(v);
  return sketch;
}

inline std::string EncodeToString(const DDSketch& sketch) {
  Encoder enc;
  sketch.Encode(&enc);
  return enc.Release();
}

inline bool DecodeFrom(std::string_view bytes, DDSketch* out) {
  Decoder dec(bytes);
  return DDSketch::Decode(&dec, out);
}

inline void ExpectWithin(double estimate, double exact, double relative, const char* what) {
  EXPECT_LE(std::abs(estimate - exact), relative * std::abs(exact))
      << what << ": estimate " << estimate << " exact " << exact;
}

inline double LogNormalLatency(TestRng& rng) { return rng.LogNormal(std::log(700.0), 0.6); }

inline std::vector<double> MergeTestValues() {
  TestRng rng(5);
  std::vector<double> values(100'000);
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = i % 97 == 0 ? 0.0 : (i % 11 == 0 ? -rng.Pareto(1.0, 1.2) : LogNormalLatency(rng));
  }
  return values;
}

}  // namespace ddsketch_test
}  // namespace vigil

#endif  // VIGIL_TESTS_WINDOWS_DDSKETCH_TEST_UTIL_H_
