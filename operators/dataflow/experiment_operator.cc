#include "operators/dataflow/experiment_operator.h"

#include <cmath>

#include "operators/dataflow/metric_operator.h"

namespace vigil {
namespace {

// The usual threshold: below it the assignment is broken.
constexpr double kSrmThreshold = 0.001;

// Output indices, in kExperimentOutputs' order.
enum Output : size_t {
  kUnits,
  kSrmPValue,
  kMismatch,
  kValue,
  kDifference,
  kLower,
  kUpper,
  kPValue,
  kDecision,
  kCrossover,
};

// The confidence sequence: the running intersection of the intervals. It
// is empty only with probability α while the difference stays the same;
// when the difference moved (the treatment changed mid-run), the latest
// interval, the only one that still describes it.
std::pair<double, double> Interval(const SequentialTest& t) {
  if (t.lower() <= t.upper() || !t.last()) return {t.lower(), t.upper()};
  return {t.last()->difference - t.last()->half_width, t.last()->difference + t.last()->half_width};
}

DDSketch DecodeSketch(const std::string& bytes) {
  Decoder dec(bytes);
  DDSketch sketch;
  DDSketch::Decode(&dec, &sketch);
  return sketch;
}

std::string EncodeSketch(const DDSketch& sketch) {
  Encoder enc;
  sketch.Encode(&enc);
  return enc.Release();
}

}  // namespace

ExperimentOperator::ExperimentOperator(const RuleSet& rules, const ExperimentDef& def)
    : rules_(rules),
      def_(def),
      // "/4": units are counted once, not once per window, a unit in two
      // arms is left out, and quantiles are compared per unit; earlier
      // states do not restore. "/5": the arms' running sums are no longer
      // kept (a "/4" state is read without them). "/6": keyed by the state
      // fingerprint, the whole one stored after the key.
      state_key_(StrCat("experiment/6:", def.state_fingerprint)),
      previous_state_key_(StrCat("experiment/5:", def.fingerprint)),
      legacy_state_key_(StrCat("experiment/4:", def.fingerprint)),
      units_(def.split.size(), 0),
      metrics_(def.metrics.size()) {
  ResetTests();
}

bool ExperimentOperator::Reads(const WindowResult& r) const {
  if (r.metric == def_.units_input) return true;
  for (const ExperimentMetricDef& m : def_.metrics) {
    if (r.metric == m.input) return true;
  }
  return false;
}

int ExperimentOperator::ArmOf(std::string_view label) const {
  for (size_t a = 0; a < def_.split.size(); ++a) {
    if (def_.split[a].first == label) return static_cast<int>(a);
  }
  return -1;  // an arm the split does not declare: left out
}

namespace {

// "Worse" for a guardrail: the opposite of the goal; higher without one.
bool HigherIsWorse(const ExperimentMetricDef& m) {
  return m.goal != ExperimentMetricDef::Goal::kIncrease;
}

}  // namespace

// A quantile's shares per arm, from running sums: y counts a unit's values
// above a line, d all of them, so the sums of squares stay small and exact.
ExperimentOperator::Ratio ExperimentOperator::RatioOf(const Sums& s) {
  Ratio r;
  r.n = s.n;
  r.d = s.d;
  if (s.n <= 0 || s.d <= 0) return r;
  r.value = s.y / s.d;
  const double ym = s.y / s.n, dm = s.d / s.n;
  const double syy = s.yy / s.n - ym * ym, sdd = s.dd / s.n - dm * dm, syd = s.yd / s.n - ym * dm;
  r.var = std::max(0.0, (syy - 2 * r.value * syd + r.value * r.value * sdd) / (dm * dm));
  return r;
}

std::vector<ExperimentOperator::Ratio> ExperimentOperator::ArmRatios(const MetricState& s) const {
  const size_t arms = def_.split.size();
  std::vector<Ratio> r(arms);
  std::vector<double> y(arms, 0), squares(arms, 0);
  for (const auto& [unit, t] : s.totals) {
    r[t.arm].n += 1;
    r[t.arm].d += t.d;
    y[t.arm] += t.y;
  }
  for (size_t a = 0; a < arms; ++a) {
    if (r[a].n > 0 && r[a].d > 0) r[a].value = y[a] / r[a].d;
  }
  // The delta method's variance of a unit: the mean square of y - R·d
  // (whose mean is 0), over the squared mean of d.
  for (const auto& [unit, t] : s.totals) {
    const double e = t.y - r[t.arm].value * t.d;
    squares[t.arm] += e * e;
  }
  for (size_t a = 0; a < arms; ++a) {
    if (r[a].n <= 0 || r[a].d <= 0) continue;
    const double dm = r[a].d / r[a].n;
    r[a].var = squares[a] / r[a].n / (dm * dm);
  }
  return r;
}

std::optional<ExperimentOperator::Comparison> ExperimentOperator::Compare(
    const ExperimentMetricDef& m, const std::vector<Ratio>& ratios, const Shares& shares,
    size_t arm) const {
  Comparison c;
  const double r = m.max_regression;
  if (m.kind != ExperimentMetricDef::Kind::kQuantile) {
    const Ratio& ra = ratios[0];
    const Ratio& rb = ratios[arm];
    if (ra.n <= 0 || rb.n <= 0 || ra.d <= 0 || rb.d <= 0) return std::nullopt;
    c.value_a = ra.value;
    c.value_b = rb.value;
    c.test = {ra.n, ra.value, ra.var, rb.n, rb.value, rb.var};
    if (m.guardrail) {
      // The difference from the control moved by r towards worse, signed
      // so that a positive difference is worse.
      const double k = HigherIsWorse(m) ? 1 + r : 1 - r;
      const ArmEstimates moved{ra.n, k * ra.value, k * k * ra.var, rb.n, rb.value, rb.var};
      c.guard = HigherIsWorse(m) ? moved : ArmEstimates{moved.n_b, moved.mean_b, moved.var_b,
                                                        moved.n_a, moved.mean_a, moved.var_a};
    }
    return c;
  }
  if (shares.above.empty()) return std::nullopt;
  const Ratio ra = RatioOf(shares.above[0]);
  const Ratio rb = RatioOf(shares.above[arm]);
  if (ra.n <= 0 || rb.n <= 0 || shares.above[0].d <= 0 || shares.above[arm].d <= 0) {
    return std::nullopt;
  }
  c.value_a = shares.quantile[0];
  c.value_b = shares.quantile[arm];
  c.test = {ra.n, ra.value, ra.var, rb.n, rb.value, rb.var};
  if (m.guardrail) {
    // Higher is worse: the treatment's share above the line moved up,
    // against the control's above its quantile. Lower is worse: the shares
    // below (1 − the share above; the same variance).
    const Ratio rg = RatioOf(shares.guard[arm]);
    c.guard = HigherIsWorse(m)
                  ? ArmEstimates{ra.n, ra.value, ra.var, rg.n, rg.value, rg.var}
                  : ArmEstimates{ra.n, 1 - ra.value, ra.var, rg.n, 1 - rg.value, rg.var};
  }
  return c;
}

ExperimentOperator::Shares ExperimentOperator::QuantileShares(const ExperimentMetricDef& m,
                                                              MetricState& s) const {
  const size_t arms = def_.split.size();
  if (s.arms_stale) {
    // The same buckets as merging each window's sketches as they came,
    // unless one unit alone had more than max_buckets buckets and folded
    // its lowest (thousands of distinct magnitudes from one user).
    s.arms.assign(arms, DDSketch());
    for (const auto& [unit, v] : s.values) s.arms[v.arm].Merge(DecodeSketch(v.sketch));
    s.arms_stale = false;
  }
  const std::vector<DDSketch>& merged = s.arms;
  Shares out;
  if (merged[0].empty()) return out;
  const double line = merged[0].Quantile(m.q);
  const double guard_line = line * (HigherIsWorse(m) ? 1 + m.max_regression : 1 - m.max_regression);
  out.above.assign(arms, Sums());
  out.guard.assign(arms, Sums());
  for (const auto& [unit, v] : s.values) {
    const DDSketch k = DecodeSketch(v.sketch);
    const double d = static_cast<double>(k.count());
    out.above[v.arm].Add(k.WeightAbove(line), d, 1);
    out.guard[v.arm].Add(k.WeightAbove(guard_line), d, 1);
  }
  for (const DDSketch& k : merged) out.quantile.push_back(k.empty() ? 0 : k.Quantile(m.q));
  return out;
}

void ExperimentOperator::Publish(const WindowResult& at, size_t output,
                                 std::vector<std::string> labels, double value,
                                 std::vector<WindowResult>* out) const {
  if (!std::isfinite(value)) return;
  WindowResult r;
  r.metric = rules_.experiment_outputs[output];
  r.def = &rules_.metrics[r.metric];
  r.group = JoinGroupLabels(labels);
  r.labels = std::move(labels);
  r.start = at.start;
  r.end = at.end;
  r.value = value;
  r.partial = started_over_;
  out->push_back(std::move(r));
}

void ExperimentOperator::Assign(std::string_view unit, int arm) {
  std::string key(unit);
  auto [it, fresh] = arm_of_.try_emplace(key, arm);
  if (fresh) {
    if (arm >= 0) ++units_[arm];
    return;
  }
  const int first = it->second;
  if (first == arm || first == kCrossed) return;
  it->second = kCrossed;
  ++crossed_;
  if (first < 0) return;  // only seen in undeclared arms: nothing to take out
  --units_[first];
  for (MetricState& s : metrics_) {
    if (s.values.erase(key) > 0) s.arms_stale = true;
    auto t = s.totals.find(key);
    if (t != s.totals.end()) s.totals.erase(t);
  }
}

void ExperimentOperator::Accumulate(const WindowResult& r, int arm, std::string_view unit) {
  for (size_t i = 0; i < def_.metrics.size(); ++i) {
    if (def_.metrics[i].input != r.metric) continue;
    MetricState& s = metrics_[i];
    if (arm_of_.find(absl::string_view(unit.data(), unit.size()))->second != arm) {
      continue;  // crossed out
    }
    if (def_.metrics[i].kind == ExperimentMetricDef::Kind::kQuantile) {
      if (!r.sketch) continue;
      Values& v = s.values[std::string(unit)];
      v.arm = arm;
      DDSketch k = v.sketch.empty() ? DDSketch() : DecodeSketch(v.sketch);
      k.Merge(*r.sketch);
      v.sketch = EncodeSketch(k);
      if (!s.arms_stale) s.arms[arm].Merge(*r.sketch);
      continue;
    }
    if (r.parts.size() < 2) continue;
    Totals& t = s.totals[std::string(unit)];
    t.y += r.parts[0];
    t.d += r.parts[1];
    t.arm = arm;
  }
}

void ExperimentOperator::CloseWindow(const std::vector<const WindowResult*>& inputs,
                                     std::vector<WindowResult>* out) {
  if (inputs.empty()) return;
  // Every unit's arm first, from every input (each is by arm and unit), so
  // that a unit met in a second arm in this window adds nothing of it.
  std::string arm_scratch, unit_scratch;
  for (const WindowResult* r : inputs) {
    const int arm = ArmOf(GroupLabel(r->group, 0, &arm_scratch));
    Assign(GroupLabel(r->group, 1, &unit_scratch), arm >= 0 ? arm : kUndeclared);
  }
  for (const WindowResult* r : inputs) {
    if (r->metric == def_.units_input) continue;
    const int arm = ArmOf(GroupLabel(r->group, 0, &arm_scratch));
    if (arm >= 0) Accumulate(*r, arm, GroupLabel(r->group, 1, &unit_scratch));
  }
  const WindowResult& at = *inputs.front();
  const std::string& name = def_.name;
  std::vector<double> split;
  for (size_t a = 0; a < def_.split.size(); ++a) {
    Publish(at, kUnits, {name, def_.split[a].first}, static_cast<double>(units_[a]), out);
    split.push_back(def_.split[a].second);
  }
  const SrmResult srm =
      SampleRatioMismatch(units_.data(), split.data(), static_cast<int>(units_.size()));
  Publish(at, kSrmPValue, {name}, srm.p_value, out);
  Publish(at, kMismatch, {name}, srm.p_value < kSrmThreshold ? 1 : 0, out);
  Publish(at, kCrossover, {name}, static_cast<double>(crossed_), out);
  for (size_t i = 0; i < def_.metrics.size(); ++i) {
    const ExperimentMetricDef& m = def_.metrics[i];
    MetricState& s = metrics_[i];
    const bool quantile = m.kind == ExperimentMetricDef::Kind::kQuantile;
    const Shares shares = quantile ? QuantileShares(m, s) : Shares();
    const std::vector<Ratio> ratios = quantile ? std::vector<Ratio>() : ArmRatios(s);
    bool control_published = false;
    for (size_t arm = 1; arm < def_.split.size(); ++arm) {
      std::optional<Comparison> c = Compare(m, ratios, shares, arm);
      if (!c) continue;
      const std::string& label = def_.split[arm].first;
      if (!control_published) {
        Publish(at, kValue, {name, m.name, def_.split[0].first}, c->value_a, out);
        control_published = true;
      }
      Publish(at, kValue, {name, m.name, label}, c->value_b, out);
      const std::vector<std::string> labels = {name, m.name, label};
      // The difference is known with both arms' units; the rest needs
      // their variance (none while every unit of both arms agrees).
      Publish(at, kDifference, labels, c->test.mean_b - c->test.mean_a, out);
      SequentialTest& test = s.tests[arm - 1];
      test.Update(c->test);
      if (!test.last()) continue;
      SequentialTest& guard = s.guards[arm - 1];
      if (c->guard) guard.Update(*c->guard);
      const auto [lower, upper] = Interval(test);
      ExperimentDecision decision = ExperimentDecision::kNoDifferenceYet;
      const bool goal_up = m.goal == ExperimentMetricDef::Goal::kIncrease;
      if (m.guardrail && guard.last() && Interval(guard).first > 0) {
        decision = ExperimentDecision::kGuardrailBreached;
      } else if (m.goal != ExperimentMetricDef::Goal::kNone && lower > 0) {
        decision = goal_up ? ExperimentDecision::kTreatmentWins : ExperimentDecision::kControlWins;
      } else if (m.goal != ExperimentMetricDef::Goal::kNone && upper < 0) {
        decision = goal_up ? ExperimentDecision::kControlWins : ExperimentDecision::kTreatmentWins;
      }
      Publish(at, kLower, labels, lower, out);
      Publish(at, kUpper, labels, upper, out);
      Publish(at, kPValue, labels, test.p_value(), out);
      Publish(at, kDecision, labels, static_cast<double>(decision), out);
    }
  }
}

void ExperimentOperator::ResetTests() {
  const size_t arms = def_.split.size();
  for (size_t i = 0; i < def_.metrics.size(); ++i) {
    const ExperimentMetricDef& m = def_.metrics[i];
    MetricState& s = metrics_[i];
    s.tests.clear();
    s.guards.clear();
    for (size_t a = 1; a < arms; ++a) {
      s.tests.emplace_back(def_.alpha, m.min_effect);
      s.guards.emplace_back(def_.alpha, m.min_effect);
    }
  }
}

void ExperimentOperator::EncodeState(Encoder* enc) const {
  enc->PutString(state_key_);
  enc->PutString(def_.fingerprint);
  enc->PutVarint(started_over_ ? 1 : 0);
  for (int64_t u : units_) enc->PutSigned(u);
  enc->PutSigned(crossed_);
  for (const MetricState& s : metrics_) {
    for (const auto* tests : {&s.tests, &s.guards}) {
      for (const SequentialTest& t : *tests) {
        enc->PutDouble(t.p_value());
        enc->PutDouble(t.lower());
        enc->PutDouble(t.upper());
      }
    }
    enc->PutVarint(s.totals.size());
    for (const auto& [unit, t] : s.totals) {
      enc->PutString(unit);
      enc->PutDouble(t.y);
      enc->PutDouble(t.d);
    }
    enc->PutVarint(s.values.size());
    for (const auto& [unit, v] : s.values) {
      enc->PutString(unit);
      enc->PutVarint(static_cast<uint64_t>(v.arm));
      enc->PutString(v.sketch);
    }
  }
  enc->PutVarint(arm_of_.size());
  for (const auto& [unit, arm] : arm_of_) {
    enc->PutString(unit);
    enc->PutSigned(arm);
  }
}

bool ExperimentOperator::DecodeState(Decoder* dec) {
  const std::string_view key = dec->GetString();
  if (key != state_key_ && key != previous_state_key_ && key != legacy_state_key_) return false;
  const bool legacy = key == legacy_state_key_;
  // The earlier keys hold the whole fingerprint: the same settings.
  bool same_settings = true;
  if (key == state_key_) {
    same_settings = dec->GetString() == def_.fingerprint;
    started_over_ = started_over_ || dec->GetVarint() != 0;
  }
  for (int64_t& u : units_) u = dec->GetSigned();
  crossed_ = dec->GetSigned();
  if (crossed_ < 0) return false;
  for (int64_t u : units_) {
    if (u < 0) return false;
  }
  for (size_t i = 0; i < metrics_.size(); ++i) {
    MetricState& s = metrics_[i];
    if (legacy && def_.metrics[i].kind != ExperimentMetricDef::Kind::kQuantile) {
      // The arms' running sums (n, y, d, yy, dd, yd): now computed from
      // the totals below.
      for (size_t k = 0; k < 6 * units_.size(); ++k) dec->GetDouble();
    }
    for (auto* tests : {&s.tests, &s.guards}) {
      for (SequentialTest& t : *tests) {
        const double p = dec->GetDouble(), lo = dec->GetDouble(), hi = dec->GetDouble();
        if (same_settings) t.Restore(p, lo, hi);
      }
    }
    s.totals.clear();
    const uint64_t units = dec->GetVarint();
    for (uint64_t i = 0; i < units && dec->ok(); ++i) {
      Totals& t = s.totals[std::string(dec->GetString())];
      t.y = dec->GetDouble();
      t.d = dec->GetDouble();
    }
    s.values.clear();
    s.arms_stale = true;
    const uint64_t with_values = dec->GetVarint();
    for (uint64_t i = 0; i < with_values && dec->ok(); ++i) {
      Values& v = s.values[std::string(dec->GetString())];
      const uint64_t arm = dec->GetVarint();
      v.sketch = std::string(dec->GetString());
      Decoder bytes(v.sketch);
      DDSketch k;
      const DDSketch fresh;
      if (arm >= units_.size() || !DDSketch::Decode(&bytes, &k) || !bytes.done() || k.empty() ||
          k.relative_accuracy() != fresh.relative_accuracy() ||
          k.max_buckets() != fresh.max_buckets()) {
        return false;
      }
      v.arm = static_cast<int>(arm);
    }
  }
  arm_of_.clear();
  const uint64_t seen = dec->GetVarint();
  for (uint64_t i = 0; i < seen && dec->ok(); ++i) {
    std::string unit(dec->GetString());
    const int64_t arm = dec->GetSigned();
    if (arm < kUndeclared || arm >= static_cast<int64_t>(units_.size())) return false;
    arm_of_[std::move(unit)] = static_cast<int>(arm);
  }
  // Every unit's totals and values are in the arm it belongs to.
  for (MetricState& s : metrics_) {
    for (auto& [unit, t] : s.totals) {
      auto it = arm_of_.find(unit);
      if (it == arm_of_.end() || it->second < 0) return false;
      t.arm = it->second;
    }
    for (const auto& [unit, v] : s.values) {
      auto it = arm_of_.find(unit);
      if (it == arm_of_.end() || it->second != v.arm) return false;
    }
  }
  return dec->ok();
}

bool ExperimentOperator::AdoptState(ExperimentOperator& old) {
  if (old.state_key_ != state_key_) return false;
  units_ = std::move(old.units_);
  crossed_ = old.crossed_;
  arm_of_ = std::move(old.arm_of_);
  metrics_ = std::move(old.metrics_);
  started_over_ = old.started_over_;
  if (old.def_.fingerprint != def_.fingerprint) ResetTests();
  return true;
}

}  // namespace vigil
