// The mSPRT of operators/experiment/sequential_test.h against values
// computed independently (the formulas evaluated once in double precision
// with Python's math module, checked in below), its error rates by
// simulation (A/A runs peeking after every window keep the type-I error
// under α; a known effect is found; the confidence sequence covers the true
// difference), and the sample-ratio-mismatch check against closed forms of
// the chi-square distribution.
#include "operators/experiment/sequential_test.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>

namespace vigil {
namespace {

TEST(SequentialTestTest, LambdaPValueAndIntervalAtGivenCounts) {
  struct Case {
    int64_t na, xa, nb, xb;
    double tau;
    double difference, variance, lambda, lower, upper;
  };
  for (const Case& c : {
           Case{1000, 100, 1000, 130, 0.02, 0.03, 0.0002031, 2.5226756845307112,
                -0.016562000466924159, 0.076562000466924157},
           Case{1000, 100, 1000, 100, 0.02, 0, 0.00018, 0.55708601453115558, -0.043233792844682269,
                0.043233792844682269},
           Case{5000, 500, 5000, 560, 0.02, 0.012, 3.78912e-05, 1.668837295403236,
                -0.0067094267798841756, 0.030709426779884169},
           Case{200, 20, 50, 9, 0.05, 0.08, 0.003402, 1.1308507020133152, -0.14922661695342571,
                0.30922661695342568},
       }) {
    std::optional<MsprtStep> s = MsprtAt(Proportions(c.na, c.xa, c.nb, c.xb), 0.05, c.tau);
    ASSERT_TRUE(s.has_value());
    EXPECT_NEAR(s->difference, c.difference, 1e-15);
    EXPECT_NEAR(s->variance, c.variance, 1e-15);
    EXPECT_NEAR(s->lambda, c.lambda, 1e-12 * c.lambda);
    EXPECT_NEAR(s->difference - s->half_width, c.lower, 1e-12);
    EXPECT_NEAR(s->difference + s->half_width, c.upper, 1e-12);
    SequentialTest t(0.05, c.tau);
    t.Update(Proportions(c.na, c.xa, c.nb, c.xb));
    EXPECT_NEAR(t.p_value(), std::min(1.0, 1 / c.lambda), 1e-12);
  }
  // Nothing is known before both arms have units, or while every
  // observation agrees.
  EXPECT_FALSE(MsprtAt(Proportions(0, 0, 10, 3), 0.05, 0.02).has_value());
  EXPECT_FALSE(MsprtAt(Proportions(10, 0, 10, 0), 0.05, 0.02).has_value());
}

TEST(SequentialTestTest, ThePValueOnlyFallsAndTheIntervalOnlyNarrows) {
  SequentialTest t(0.05, 0.02);
  t.Update(Proportions(1000, 100, 1000, 130));
  EXPECT_NEAR(t.p_value(), 0.39640450262080684, 1e-12);
  const double lower = t.lower(), upper = t.upper();
  // A later window that looks like no difference does not undo what was seen.
  t.Update(Proportions(2000, 200, 2000, 200));
  EXPECT_NEAR(t.p_value(), 0.39640450262080684, 1e-12);
  EXPECT_GE(t.lower(), lower);
  EXPECT_LE(t.upper(), upper);
  EXPECT_LT(t.upper() - t.lower(), upper - lower);
  EXPECT_FALSE(t.rejected());
}

// Bernoulli(p) draws from a fixed generator: the same on every platform.
class Coin {
 public:
  explicit Coin(uint64_t seed) : rng_(seed) {}
  int64_t Successes(int64_t n, double p) {
    int64_t k = 0;
    for (int64_t i = 0; i < n; ++i) k += static_cast<double>(rng_() >> 11) * 0x1p-53 < p;
    return k;
  }

 private:
  std::mt19937_64 rng_;
};

struct Simulation {
  int rejected = 0;          // runs whose p-value fell to α at some window
  int missed_the_truth = 0;  // runs whose interval excluded the true difference
};

// `runs` experiments of `windows` windows of `per_window` units per arm,
// checked after every window.
Simulation Simulate(int runs, int windows, int64_t per_window, double p_a, double p_b) {
  Coin coin(20261203);
  Simulation out;
  for (int r = 0; r < runs; ++r) {
    SequentialTest t(0.05, 0.02);
    int64_t n = 0, xa = 0, xb = 0;
    bool rejected = false, missed = false;
    for (int w = 0; w < windows; ++w) {
      n += per_window;
      xa += coin.Successes(per_window, p_a);
      xb += coin.Successes(per_window, p_b);
      t.Update(Proportions(n, xa, n, xb));
      rejected |= t.rejected();
      missed |= p_b - p_a < t.lower() || p_b - p_a > t.upper();
    }
    out.rejected += rejected;
    out.missed_the_truth += missed;
  }
  return out;
}

TEST(SequentialTestTest, PeekingAfterEveryWindowKeepsTheTypeOneErrorUnderAlpha) {
  // 2,000 A/A experiments, 30 looks each. A fixed-horizon z-test checked
  // this often rejects far more than 5% of them; the mSPRT may not.
  const Simulation s = Simulate(2000, 30, 200, 0.10, 0.10);
  EXPECT_LE(s.rejected, 100) << "of 2000";  // α = 5%
  EXPECT_LE(s.missed_the_truth, 100) << "of 2000";
  // A z-test at every look, for contrast: the peeking problem is real here.
  Coin coin(7);
  int naive = 0;
  for (int r = 0; r < 2000; ++r) {
    int64_t n = 0, xa = 0, xb = 0;
    bool rejected = false;
    for (int w = 0; w < 30; ++w) {
      n += 200;
      xa += coin.Successes(200, 0.10);
      xb += coin.Successes(200, 0.10);
      const ArmEstimates e = Proportions(n, xa, n, xb);
      const double v = e.var_a / e.n_a + e.var_b / e.n_b;
      rejected |= v > 0 && std::fabs(e.mean_b - e.mean_a) / std::sqrt(v) > 1.959964;
    }
    naive += rejected;
  }
  EXPECT_GT(naive, 200) << "of 2000";
}

TEST(SequentialTestTest, AKnownEffectIsFoundAndCovered) {
  // 10% against 13%, 500 units per arm a window for 20 windows.
  const Simulation s = Simulate(300, 20, 500, 0.10, 0.13);
  EXPECT_GE(s.rejected, 270) << "of 300: power";
  EXPECT_LE(s.missed_the_truth, 15) << "of 300: coverage of the true difference";
}

TEST(SequentialTestTest, UpperIncompleteGammaMatchesClosedForms) {
  for (double x : {0.01, 0.5, 1.0, 2.5, 7.0, 30.0, 200.0}) {
    EXPECT_NEAR(UpperRegularizedGamma(1, x), std::exp(-x), 1e-14 + 1e-12 * std::exp(-x)) << x;
    EXPECT_NEAR(UpperRegularizedGamma(0.5, x), std::erfc(std::sqrt(x)),
                1e-14 + 1e-10 * std::erfc(std::sqrt(x)))
        << x;
    const double q15 = std::erfc(std::sqrt(x)) + 2 * std::sqrt(x / M_PI) * std::exp(-x);
    EXPECT_NEAR(UpperRegularizedGamma(1.5, x), q15, 1e-14 + 1e-10 * q15) << x;
    const double q3 = std::exp(-x) * (1 + x + x * x / 2);
    EXPECT_NEAR(UpperRegularizedGamma(3, x), q3, 1e-14 + 1e-10 * q3) << x;
  }
  EXPECT_EQ(UpperRegularizedGamma(2, 0), 1);
}

TEST(SequentialTestTest, SampleRatioMismatch) {
  // A 90/10 split served as 85/15: unmistakable.
  const double split[] = {0.9, 0.1};
  const int64_t skewed[] = {8500, 1500};
  SrmResult r = SampleRatioMismatch(skewed, split, 2);
  EXPECT_NEAR(r.chi_square, 277.77777777777777, 1e-9);
  EXPECT_NEAR(r.p_value, 2.2901484625243377e-62, 1e-72);
  // 9040/960 is within chance.
  const int64_t fine[] = {9040, 960};
  r = SampleRatioMismatch(fine, split, 2);
  EXPECT_NEAR(r.chi_square, 1.777777777777778, 1e-12);
  EXPECT_NEAR(r.p_value, 0.18242243945173575, 1e-12);
  // Three arms: two degrees of freedom, p = e^(−χ²/2).
  const double thirds[] = {0.5, 0.25, 0.25};
  const int64_t three[] = {520, 230, 250};
  r = SampleRatioMismatch(three, thirds, 3);
  EXPECT_NEAR(r.chi_square, 400.0 / 500 + 400.0 / 250 + 0, 1e-12);
  EXPECT_NEAR(r.p_value, std::exp(-r.chi_square / 2), 1e-12);
}

}  // namespace
}  // namespace vigil
