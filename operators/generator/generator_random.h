// operators/generator/generator_random.h
//
// The random source of the traffic generator: a xoshiro256** generator seeded
// through splitmix64, and the few distributions the generator needs, all
// written here rather than taken from <random>. The standard library fixes the
// engines' output but not the distributions' algorithms, and libm's exp/log
// may differ in the last bit between implementations, so either would make a
// seed produce different traffic on different machines. Everything below uses
// integer arithmetic or IEEE operations that are exactly rounded (+, -, *, /,
// sqrt, floor, frexp, ldexp), which gives the same bits everywhere.
//
// Example:
//   generator_internal::Rng rng(42);
//   uint64_t die = rng.Below(6);             // 0..5
//   bool rare = rng.Chance(0.01);            // true about once in 100 calls
//   double z = rng.Normal();                 // standard normal
//   double ms = rng.LogNormal(700, 0.62);    // median 700
#ifndef VIGIL_OPERATORS_GENERATOR_GENERATOR_RANDOM_H_
#define VIGIL_OPERATORS_GENERATOR_GENERATOR_RANDOM_H_

#include <cstdint>

namespace vigil::generator_internal {

// splitmix64's output function: a bijection of 64-bit integers that scatters
// consecutive inputs, used for seeding and for turning counters into ids.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// exp(x), clamped to |x| <= 700, with relative error below 1e-15.
double DeterministicExp(double x);
// ln(x) for finite x > 0, with relative error below 1e-15.
double DeterministicLog(double x);

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t& word : s_) {
      word = Mix64(x);
      x += 0x9e3779b97f4a7c15ULL;
    }
  }

  // xoshiro256** (Blackman and Vigna).
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, n) for n < 2^32 by multiply-shift; the bias (n / 2^32) is
  // far below anything the traffic statistics can show.
  uint64_t Below(uint64_t n) { return ((Next() >> 32) * n) >> 32; }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // True with probability p; p is compared as a 53-bit fixed-point fraction,
  // so no rounding of a random double is involved.
  bool Chance(double p) { return (Next() >> 11) < static_cast<uint64_t>(p * 0x1.0p53); }

  // Standard normal by Marsaglia's polar method, which needs a logarithm but
  // no trigonometry. Values come in pairs; the second is kept for the next call.
  double Normal();

  // exp(N(ln median, sigma^2)).
  double LogNormal(double median, double sigma) {
    return median * DeterministicExp(sigma * Normal());
  }

  // Exponential with the given mean (inter-arrival times of rare events).
  double Exponential(double mean) { return -mean * DeterministicLog(1 - Uniform()); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  uint64_t s_[4];
  double spare_ = 0;
  bool has_spare_ = false;
};

// Draws an index with probability proportional to integer weights, by
// comparing 32 random bits against precomputed integer thresholds.
template <int kSize>
class WeightedChoice {
 public:
  explicit constexpr WeightedChoice(const int (&weights)[kSize]) {
    uint64_t total = 0;
    for (int w : weights) total += static_cast<uint64_t>(w);
    uint64_t cumulative = 0;
    for (int i = 0; i < kSize; ++i) {
      cumulative += static_cast<uint64_t>(weights[i]);
      thresholds_[i] = (cumulative << 32) / total;
    }
  }

  int Pick(Rng& rng) const {
    const uint64_t draw = rng.Next() >> 32;
    for (int i = 0; i < kSize - 1; ++i) {
      if (draw < thresholds_[i]) return i;
    }
    return kSize - 1;
  }

 private:
  uint64_t thresholds_[kSize] = {};
};

}  // namespace vigil::generator_internal

#endif  // VIGIL_OPERATORS_GENERATOR_GENERATOR_RANDOM_H_
