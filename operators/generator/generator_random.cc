#include "operators/generator/generator_random.h"

#include <array>
#include <bit>
#include <cmath>

// Fusing a*b+c into one FMA changes the rounding, and with it the traffic of a
// seed. GCC never contracts in ISO C++ mode (the build uses -std=c++20);
// Clang contracts within an expression unless told not to.
#if defined(__clang__)
#pragma clang fp contract(off)
#endif

namespace vigil::generator_internal {
namespace {

// 1/k! for k = 0..13, computed by the compiler: k! is exact in a double up to
// 13!, and one correctly rounded division gives each coefficient.
constexpr int kExpTerms = 14;
constexpr std::array<double, kExpTerms> kInverseFactorials = [] {
  std::array<double, kExpTerms> c{};
  double factorial = 1;
  for (int k = 0; k < kExpTerms; ++k) {
    if (k > 0) factorial *= k;
    c[k] = 1 / factorial;
  }
  return c;
}();

}  // namespace

// Range reduction by ln 2 (split in two parts so that k * ln 2 is exact to
// 2^-60), a degree-13 Taylor polynomial on |r| <= 0.35, and an exact scaling
// by 2^k, built from its exponent bits: |k| <= 1010 keeps 2^k a normal double.
double DeterministicExp(double x) {
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  if (x > 700) x = 700;
  if (x < -700) x = -700;
  const double k = std::floor(x * kLog2e + 0.5);
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double p = kInverseFactorials[kExpTerms - 1];
  for (int i = kExpTerms - 2; i >= 0; --i) p = p * r + kInverseFactorials[i];
  const auto biased = static_cast<uint64_t>(static_cast<int64_t>(k) + 1023);
  return p * std::bit_cast<double>(biased << 52);
}

// x = m * 2^e with m in [sqrt(1/2), sqrt(2)), and ln(m) = 2 atanh(s) with
// s = (m - 1) / (m + 1), |s| <= 0.172, summed to s^21.
double DeterministicLog(double x) {
  constexpr double kLn2 = 0.6931471805599453;
  constexpr double kSqrtHalf = 0.7071067811865476;
  // For a normal double the exponent and mantissa are read off its bits (the
  // same split frexp makes); subnormals take the library's exact frexp.
  const auto bits = std::bit_cast<uint64_t>(x);
  const auto biased = static_cast<int>((bits >> 52) & 0x7ff);
  int e = biased - 1022;
  double m = std::bit_cast<double>((bits & ((uint64_t{1} << 52) - 1)) | (uint64_t{1022} << 52));
  if (biased == 0) m = std::frexp(x, &e);
  if (m < kSqrtHalf) {
    m *= 2;
    --e;
  }
  const double s = (m - 1) / (m + 1);
  const double s2 = s * s;
  double p = 1.0 / 21;
  for (int k = 19; k >= 1; k -= 2) p = p * s2 + 1.0 / k;
  return e * kLn2 + 2 * s * p;
}

double Rng::Normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2 * Uniform() - 1;
    v = 2 * Uniform() - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  const double factor = std::sqrt(-2 * DeterministicLog(s) / s);
  spare_ = v * factor;
  has_spare_ = true;
  return u * factor;
}

}  // namespace vigil::generator_internal
