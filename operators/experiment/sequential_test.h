// operators/experiment/sequential_test.h
//
// Always-valid inference for A/B experiments that are watched continuously
// (after every window) without the peeking problem: the mixture sequential
// probability ratio test (mSPRT) of Johari, Koomen, Pekelis and Walsh,
// "Always Valid Inference: Continuous Monitoring of A/B Tests" (Operations
// Research 70(3), 2022; the method of Optimizely's Stats Engine), for a
// difference of means with a normal approximation:
//
//   Δ̂ = mean_B − mean_A,   V = var_A / n_A + var_B / n_B
//   (for proportions var = p̂(1 − p̂)), and a normal mixture N(0, τ²) over
//   the true difference:
//
//   Λ = sqrt(V / (V + τ²)) · exp(τ² Δ̂² / (2 V (V + τ²)))
//
// Λ is the likelihood ratio of "difference θ ~ N(0, τ²)" against "θ = 0",
// averaged over the mixture; it is a martingale under the null, so
// P(Λ ever ≥ 1/α) ≤ α (Ville's inequality). The always-valid p-value is the
// running minimum of min(1, 1/Λ), and the (1 − α) confidence sequence is
// the running intersection of
//
//   Δ̂ ± sqrt( V (V + τ²) / τ² · (2 log(1/α) + log((V + τ²) / V)) ),
//
// the θ0 that Λ computed at Δ̂ − θ0 does not reject. τ is chosen from the
// smallest effect worth detecting (`min_effect:`): τ = min_effect, so the
// mixture puts its weight where the effects of interest are.
//
// A SequentialTest is fed the cumulative counts after each window and keeps
// the running minimum and intersection; it is the state an experiment keeps
// per metric (its counts are mergeable and checkpointed by the operator).
//
// Example:
//   SequentialTest t(/*alpha=*/0.05, /*tau=*/0.02);
//   t.Update(Proportions(1000, 100, 1000, 130));
//   t.last().lambda;     // 2.5227
//   t.p_value();         // 0.3964
//   t.lower(); t.upper();  // the always-valid interval of the difference
#ifndef VIGIL_OPERATORS_EXPERIMENT_SEQUENTIAL_TEST_H_
#define VIGIL_OPERATORS_EXPERIMENT_SEQUENTIAL_TEST_H_

#include <cstdint>
#include <optional>

namespace vigil {

// The two arms' estimates: A is the control, B the treatment.
struct ArmEstimates {
  double n_a = 0, mean_a = 0, var_a = 0;  // var: of one observation
  double n_b = 0, mean_b = 0, var_b = 0;
};

// Successes out of trials per arm, as means and Bernoulli variances.
ArmEstimates Proportions(int64_t n_a, int64_t successes_a, int64_t n_b, int64_t successes_b);

struct MsprtStep {
  double difference = 0;  // Δ̂
  double variance = 0;    // V
  double lambda = 1;      // Λ
  double half_width = 0;  // of this step's interval
};

// One evaluation; nullopt while either arm is empty or V is 0 (nothing is
// known yet, or every observation agrees).
std::optional<MsprtStep> MsprtAt(const ArmEstimates& e, double alpha, double tau);

class SequentialTest {
 public:
  SequentialTest(double alpha, double tau) : alpha_(alpha), tau_(tau) {}

  // After a window: the cumulative estimates so far.
  void Update(const ArmEstimates& e);

  double p_value() const { return p_value_; }
  bool rejected() const { return p_value_ <= alpha_; }
  // The confidence sequence: empty (lower > upper) only by chance of α.
  double lower() const { return lower_; }
  double upper() const { return upper_; }
  const std::optional<MsprtStep>& last() const { return last_; }
  double alpha() const { return alpha_; }
  // Checkpoints: the running minimum and intersection are the whole state
  // (with last(), which Restore leaves empty until the next Update).
  void Restore(double p_value, double lower, double upper) {
    p_value_ = p_value;
    lower_ = lower;
    upper_ = upper;
  }

 private:
  double alpha_;
  double tau_;
  double p_value_ = 1;
  double lower_ = -1e308;
  double upper_ = 1e308;
  std::optional<MsprtStep> last_;
};

// Sample-ratio mismatch: Pearson's chi-square of the units each arm got
// against the declared split (weights summing to 1), and its p-value with
// k − 1 degrees of freedom. A p-value below 0.001 (the usual threshold) says
// the assignment is broken and no comparison of the arms can be trusted.
struct SrmResult {
  double chi_square = 0;
  double p_value = 1;
};
SrmResult SampleRatioMismatch(const int64_t* counts, const double* split, int arms);

// The regularised upper incomplete gamma function Q(s, x) = Γ(s, x) / Γ(s):
// the chi-square survival function is Q(df / 2, x / 2).
double UpperRegularizedGamma(double s, double x);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_EXPERIMENT_SEQUENTIAL_TEST_H_
