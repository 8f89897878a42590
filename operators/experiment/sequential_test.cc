#include "operators/experiment/sequential_test.h"

#include <algorithm>
#include <cmath>

namespace vigil {

ArmEstimates Proportions(int64_t n_a, int64_t successes_a, int64_t n_b, int64_t successes_b) {
  ArmEstimates e;
  e.n_a = static_cast<double>(n_a);
  e.n_b = static_cast<double>(n_b);
  e.mean_a = n_a > 0 ? static_cast<double>(successes_a) / e.n_a : 0;
  e.mean_b = n_b > 0 ? static_cast<double>(successes_b) / e.n_b : 0;
  e.var_a = e.mean_a * (1 - e.mean_a);
  e.var_b = e.mean_b * (1 - e.mean_b);
  return e;
}

std::optional<MsprtStep> MsprtAt(const ArmEstimates& e, double alpha, double tau) {
  if (e.n_a <= 0 || e.n_b <= 0) return std::nullopt;
  const double v = e.var_a / e.n_a + e.var_b / e.n_b;
  if (!(v > 0) || !std::isfinite(v)) return std::nullopt;
  const double t2 = tau * tau;
  MsprtStep s;
  s.difference = e.mean_b - e.mean_a;
  s.variance = v;
  // In logs: exp() of a large effect overflows long after the p-value is 0.
  const double log_lambda =
      0.5 * std::log(v / (v + t2)) + t2 * s.difference * s.difference / (2 * v * (v + t2));
  s.lambda = std::exp(std::min(log_lambda, 700.0));
  s.half_width = std::sqrt(v * (v + t2) / t2 * (2 * std::log(1 / alpha) + std::log((v + t2) / v)));
  return s;
}

void SequentialTest::Update(const ArmEstimates& e) {
  last_ = MsprtAt(e, alpha_, tau_);
  if (!last_) return;
  p_value_ = std::min(p_value_, std::min(1.0, 1 / last_->lambda));
  lower_ = std::max(lower_, last_->difference - last_->half_width);
  upper_ = std::min(upper_, last_->difference + last_->half_width);
}

namespace {

// Q(s, x) for x < s + 1: 1 − P(s, x), P from its power series
// P(s, x) = x^s e^−x / Γ(s + 1) · Σ x^k / ((s + 1)…(s + k)).
double QBySeries(double s, double x) {
  double term = 1 / s, sum = term;
  for (int k = 1; k < 1000; ++k) {
    term *= x / (s + k);
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * 1e-16) break;
  }
  const double p = sum * std::exp(-x + s * std::log(x) - std::lgamma(s));
  return std::max(0.0, 1 - p);
}

// Q(s, x) for x ≥ s + 1, from its continued fraction
// Γ(s, x) = e^−x x^s / (x + 1 − s − 1·(1 − s) / (x + 3 − s − 2·(2 − s) / …)),
// evaluated with the modified Lentz method.
double QByContinuedFraction(double s, double x) {
  constexpr double kTiny = 1e-300;
  double b = x + 1 - s, c = 1 / kTiny, d = 1 / b, h = d;
  for (int i = 1; i < 1000; ++i) {
    const double an = -i * (i - s);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-16) break;
  }
  return std::exp(-x + s * std::log(x) - std::lgamma(s)) * h;
}

}  // namespace

double UpperRegularizedGamma(double s, double x) {
  if (x <= 0) return 1;
  return x < s + 1 ? QBySeries(s, x) : QByContinuedFraction(s, x);
}

SrmResult SampleRatioMismatch(const int64_t* counts, const double* split, int arms) {
  SrmResult r;
  double total = 0;
  for (int i = 0; i < arms; ++i) total += static_cast<double>(counts[i]);
  if (arms < 2 || total <= 0) return r;
  for (int i = 0; i < arms; ++i) {
    const double expected = total * split[i];
    if (expected <= 0) continue;
    const double d = static_cast<double>(counts[i]) - expected;
    r.chi_square += d * d / expected;
  }
  r.p_value = UpperRegularizedGamma((arms - 1) / 2.0, r.chi_square / 2);
  return r;
}

}  // namespace vigil
