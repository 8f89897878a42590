// The experiment operator on hand-written events: the per-unit sums and
// the delta-method variance computed here from the listed units, Λ and the
// confidence sequence from the paper's formula, the decisions on clear
// effects, and the same outputs to the bit when the events are split over
// partial flows or the state goes through a checkpoint.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "base/hash.h"
#include "tests/operators/dataflow/experiment_traffic.h"

namespace vigil {
namespace {

// name{labels...} -> value, for the outputs of one window end.
std::map<std::string, double> Outputs(const std::vector<WindowResult>& results) {
  std::map<std::string, double> out;
  for (const WindowResult& r : results) {
    EXPECT_NE(r.def->experiment, MetricDef::ExperimentRole::kInput) << r.def->name;
    out[StrCat(r.def->name, "{", StrJoin(r.labels, ","), "}")] = r.value;
  }
  return out;
}

// The outputs of the window ending at `end`.
std::map<std::string, double> OutputsAt(const std::vector<WindowResult>& results, TimeMs end) {
  std::vector<WindowResult> at;
  for (const WindowResult& r : results) {
    if (r.end == end) at.push_back(r);
  }
  return Outputs(at);
}

// Closes every window up to `frontier`: the results (the alerts are not
// these tests' concern).
std::vector<WindowResult> CloseAll(OperatorHarness& h, TimeMs frontier) {
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(frontier, &results, &notices);
  return results;
}

// One event of the experiment: its time, arm, unit, `ok` and `ms`.
struct Row {
  TimeMs ts;
  const char* arm;
  const char* user;
  bool ok;
  int ms;
};

void AddRows(OperatorHarness& h, std::initializer_list<Row> rows) {
  for (const Row& r : rows) h.Add(r.ts, Ev(r.arm, r.user, r.ok, r.ms));
}

TEST(ExperimentOperatorTest, ARatioIsComparedPerUnitWithTheDeltaMethodVariance) {
  OperatorHarness h(kRules);
  ASSERT_TRUE(h.rules);
  // Control: u1 (1 of 2 ok), u2 (1 of 1); treatment: u3 (2 of 2), u4 (1 of 1).
  AddRows(h, {
                 {1000, "c", "u1", true, 100},
                 {2000, "c", "u1", false, 200},
                 {3000, "c", "u2", true, 300},
                 {4000, "t", "u3", true, 400},
                 {5000, "t", "u3", true, 500},
                 {6000, "t", "u4", true, 600},
             });
  h.Add(7000, "\"user\":\"u9\",\"ok\":true");  // no arm: not in the experiment
  const std::vector<WindowResult> results = CloseAll(h, kHour);
  std::map<std::string, double> out = Outputs(results);

  EXPECT_EQ(out["experiment_units{e1,c}"], 2);
  EXPECT_EQ(out["experiment_units{e1,t}"], 2);
  EXPECT_EQ(out["experiment_srm_p_value{e1}"], 1);
  EXPECT_EQ(out["experiment_sample_ratio_mismatch{e1}"], 0);
  EXPECT_DOUBLE_EQ(out["experiment_value{e1,good,c}"], 2.0 / 3);
  EXPECT_DOUBLE_EQ(out["experiment_value{e1,good,t}"], 1.0);
  EXPECT_DOUBLE_EQ(out["experiment_difference{e1,good,t}"], 1.0 / 3);

  // The variance of one unit's contribution, by hand: control units
  // (y, d) = (1, 2), (1, 1): ȳ = 1, d̄ = 1.5, s_yy = 0, s_dd = 0.25, s_yd = 0,
  // R = 2/3, so (0 − 0 + 4/9 · 0.25) / 2.25; treatment (2, 2), (1, 1): R = 1,
  // s_yy = s_dd = s_yd = 0.25, so (0.25 − 0.5 + 0.25) / 2.25 = 0.
  const double var_c = (4.0 / 9 * 0.25) / 2.25, var_t = 0;
  const double v = var_c / 2 + var_t / 2, t2 = 0.1 * 0.1, d = 1.0 / 3;
  const double lambda = std::sqrt(v / (v + t2)) * std::exp(t2 * d * d / (2 * v * (v + t2)));
  EXPECT_NEAR(out["experiment_p_value{e1,good,t}"], std::min(1.0, 1 / lambda), 1e-12);
  const double half =
      std::sqrt(v * (v + t2) / t2 * (2 * std::log(1 / 0.05) + std::log((v + t2) / v)));
  EXPECT_NEAR(out["experiment_ci_lower{e1,good,t}"], d - half, 1e-12);
  EXPECT_NEAR(out["experiment_ci_upper{e1,good,t}"], d + half, 1e-12);
  EXPECT_EQ(out["experiment_decision{e1,good,t}"], 0);  // 0.74 wide: nothing known yet

  // Quantile: the control's median is 200 (to 0.5%); of its values 300 is
  // above and 200 in the median's bucket (half), 0.5 in all; every
  // treatment value is above: 1.0.
  EXPECT_NEAR(out["experiment_value{e1,lat,c}"], 200, 1);
  EXPECT_NEAR(out["experiment_value{e1,lat,t}"], 500, 2.5);
  EXPECT_DOUBLE_EQ(out["experiment_difference{e1,lat,t}"], 0.5);
  EXPECT_EQ(out["experiment_decision{e1,lat,t}"], 0);
}

// The same 20 users every hour for ten hours, each behaving the same every
// time: 12 in the control (7 always ok), 8 in the treatment (3 always ok).
// Each user is one unit however many windows it is active in, so the
// outputs stay those of 20 units: the split's check stays at 12 against 8,
// and the comparison at 12 and 8 observations (counted once per window,
// the same users looked like 120 against 80 and every difference like a
// certainty).
TEST(ExperimentOperatorTest, AUnitActiveInManyWindowsIsOneObservation) {
  OperatorHarness h(kRules);
  ASSERT_TRUE(h.rules);
  for (int hour = 0; hour < 10; ++hour) {
    for (int i = 0; i < 20; ++i) {
      const bool control = i < 12;
      const bool ok = control ? i < 7 : i < 15;
      h.Add(hour * kHour + i * 60'000 + 1,
            Ev(control ? "c" : "t", StrCat("u", i).c_str(), ok, 100 + 10 * i));
    }
  }
  const std::vector<WindowResult> results = CloseAll(h, 10 * kHour);
  // Per unit (y, d) = (10, 10) or (0, 10): R_c = 7/12 with s_yy = 100 · 7/12 · 5/12,
  // s_dd = s_yd = 0, d̄ = 10, so one unit's variance is 7/12 · 5/12; the
  // treatment's 3/8 · 5/8.
  const double var_c = 7.0 / 12 * 5.0 / 12, var_t = 3.0 / 8 * 5.0 / 8;
  const double v = var_c / 12 + var_t / 8, t2 = 0.1 * 0.1, d = 3.0 / 8 - 7.0 / 12;
  const double lambda = std::sqrt(v / (v + t2)) * std::exp(t2 * d * d / (2 * v * (v + t2)));
  const double half =
      std::sqrt(v * (v + t2) / t2 * (2 * std::log(1 / 0.05) + std::log((v + t2) / v)));
  for (TimeMs end = kHour; end <= 10 * kHour; end += kHour) {
    SCOPED_TRACE(end);
    std::map<std::string, double> out = OutputsAt(results, end);
    EXPECT_EQ(out["experiment_units{e1,c}"], 12);
    EXPECT_EQ(out["experiment_units{e1,t}"], 8);
    // Chi-square (12 − 10)² / 10 · 2 = 0.8, 1 degree of freedom.
    EXPECT_NEAR(out["experiment_srm_p_value{e1}"], std::erfc(std::sqrt(0.4)), 1e-12);
    EXPECT_EQ(out["experiment_sample_ratio_mismatch{e1}"], 0);
    EXPECT_DOUBLE_EQ(out["experiment_value{e1,good,c}"], 7.0 / 12);
    EXPECT_DOUBLE_EQ(out["experiment_value{e1,good,t}"], 3.0 / 8);
    EXPECT_NEAR(out["experiment_p_value{e1,good,t}"], std::min(1.0, 1 / lambda), 1e-12);
    EXPECT_NEAR(out["experiment_ci_lower{e1,good,t}"], d - half, 1e-9);
    EXPECT_NEAR(out["experiment_ci_upper{e1,good,t}"], d + half, 1e-9);
    EXPECT_EQ(out["experiment_decision{e1,good,t}"], 0);
  }
}

TEST(ExperimentOperatorTest, ADifferenceWithoutVarianceIsPublishedAloneAndTheTreatmentsUnitsFirst) {
  OperatorHarness h(kRules);
  ASSERT_TRUE(h.rules);
  // Hour 0: only control units. Hour 1: treatment units too, and every
  // unit of an arm agrees (control all not ok, treatment all ok): the
  // difference is 1, with no variance for a confidence sequence.
  AddRows(h, {{1, "c", "u1", false, 100}, {2, "c", "u2", false, 100}});
  AddRows(h, {{kHour + 1, "t", "u3", true, 100}, {kHour + 2, "t", "u4", true, 100}});
  const std::vector<WindowResult> results = CloseAll(h, 2 * kHour);
  std::map<std::string, double> first = OutputsAt(results, kHour);
  EXPECT_EQ(first["experiment_units{e1,c}"], 2);
  EXPECT_EQ(first.count("experiment_value{e1,good,c}"), 0u);  // no treatment to compare with
  EXPECT_EQ(first.count("experiment_difference{e1,good,t}"), 0u);
  std::map<std::string, double> second = OutputsAt(results, 2 * kHour);
  EXPECT_EQ(second["experiment_value{e1,good,c}"], 0);
  EXPECT_EQ(second["experiment_value{e1,good,t}"], 1);
  EXPECT_EQ(second["experiment_difference{e1,good,t}"], 1);
  for (const char* absent : {"experiment_ci_lower{e1,good,t}", "experiment_ci_upper{e1,good,t}",
                             "experiment_p_value{e1,good,t}", "experiment_decision{e1,good,t}"}) {
    EXPECT_EQ(second.count(absent), 0u) << absent;
  }
}

// A quantile is compared per unit as well. Control: u1 at 100 ms three
// times, u2 at 300 ms three times, u3 once at 200 ms; the median is 200.
// Treatment: u4 and u5 at 300 ms three times each, u6 once at 100 ms. Per
// unit, y is the values above 200 (200 itself counts half) and d the
// values: control (0, 3), (3, 3), (0.5, 1); treatment (3, 3), (3, 3),
// (0, 1). Counted as seven independent values each, the variance would be
// p (1 − p) per value; per unit it is the delta method's, and larger.
TEST(ExperimentOperatorTest, AQuantileIsComparedPerUnitToo) {
  OperatorHarness h(kRules);
  ASSERT_TRUE(h.rules);
  TimeMs ts = 1000;
  auto add = [&](const char* arm, const char* user, int ms, int times) {
    for (int i = 0; i < times; ++i) h.Add(ts++, Ev(arm, user, true, ms));
  };
  add("c", "u1", 100, 3);
  add("c", "u2", 300, 3);
  add("c", "u3", 200, 1);
  add("t", "u4", 300, 3);
  add("t", "u5", 300, 3);
  add("t", "u6", 100, 1);
  const std::vector<WindowResult> results = CloseAll(h, kHour);
  std::map<std::string, double> out = Outputs(results);
  auto delta_variance = [](const std::vector<std::pair<double, double>>& units) {
    double n = 0, y = 0, d = 0, yy = 0, dd = 0, yd = 0;
    for (auto [uy, ud] : units) {
      n += 1, y += uy, d += ud, yy += uy * uy, dd += ud * ud, yd += uy * ud;
    }
    const double r = y / d, ym = y / n, dm = d / n;
    const double syy = yy / n - ym * ym, sdd = dd / n - dm * dm, syd = yd / n - ym * dm;
    return (syy - 2 * r * syd + r * r * sdd) / (dm * dm);
  };
  const double var_c = delta_variance({{0, 3}, {3, 3}, {0.5, 1}});
  const double var_t = delta_variance({{3, 3}, {3, 3}, {0, 1}});
  const double pc = 3.5 / 7, pt = 6.0 / 7;
  ASSERT_GT(var_c, pc * (1 - pc));  // the units' values are alike within each unit
  const double v = var_c / 3 + var_t / 3, t2 = 0.1 * 0.1, d = pt - pc;
  const double lambda = std::sqrt(v / (v + t2)) * std::exp(t2 * d * d / (2 * v * (v + t2)));
  const double half =
      std::sqrt(v * (v + t2) / t2 * (2 * std::log(1 / 0.05) + std::log((v + t2) / v)));
  EXPECT_NEAR(out["experiment_value{e1,lat,c}"], 200, 1);
  EXPECT_NEAR(out["experiment_value{e1,lat,t}"], 300, 1.5);
  EXPECT_NEAR(out["experiment_difference{e1,lat,t}"], d, 1e-12);
  EXPECT_NEAR(out["experiment_p_value{e1,lat,t}"], std::min(1.0, 1 / lambda), 1e-12);
  EXPECT_NEAR(out["experiment_ci_lower{e1,lat,t}"], d - half, 1e-9);
  EXPECT_NEAR(out["experiment_ci_upper{e1,lat,t}"], d + half, 1e-9);
}

TEST(ExperimentOperatorTest, AUnitsSketchIsHandedOverOnceNotCopiedPerInput) {
  // Two quantiles of the same values share one sketch per unit and pane.
  // At the close each input result carries that very sketch, moved out of
  // the pane the store drops, with the unit's values in it.
  OperatorHarness h(R"yaml(
experiments:
  - experiment: e1
    arm: variant
    control: c
    split: {c: 0.5, t: 0.5}
    unit: user
    window: 1h
    metrics:
      - {name: p50, value: "quantile(0.5, ms)", guardrail: {max_regression: 10%}}
      - {name: p90, value: "quantile(0.9, ms)", guardrail: {max_regression: 10%}}
)yaml");
  ASSERT_TRUE(h.rules);
  AddRows(h, {{1000, "c", "u1", true, 100},
              {2000, "c", "u1", true, 200},
              {3000, "c", "u1", true, 300},
              {4000, "t", "u2", true, 400}});
  std::vector<WindowResult> inputs;
  for (const auto& op : h.flow->metric_ops()) op->Close(kHour, &inputs);
  std::map<std::string, std::vector<const WindowResult*>> sketched;  // unit -> inputs
  std::string scratch;
  for (const WindowResult& r : inputs) {
    EXPECT_TRUE(r.labels.empty());  // the group key holds arm and unit
    if (r.sketch != nullptr) sketched[std::string(GroupLabel(r.group, 1, &scratch))].push_back(&r);
  }
  ASSERT_EQ(sketched.size(), 2u);
  for (const auto& [unit, of_unit] : sketched) {
    ASSERT_EQ(of_unit.size(), 2u) << unit;  // the p50 input and the p90 input
    EXPECT_EQ(of_unit[0]->sketch, of_unit[1]->sketch) << unit;
    EXPECT_NE(of_unit[0]->metric, of_unit[1]->metric) << unit;
  }
  EXPECT_EQ(sketched["u1"][0]->sketch->count(), 3u);
  EXPECT_NEAR(sketched["u1"][0]->sketch->Quantile(0.5), 200, 2);
  EXPECT_EQ(sketched["u2"][0]->sketch->count(), 1u);
  EXPECT_NEAR(sketched["u2"][0]->sketch->Quantile(0.5), 400, 4);
}

// u1 has two control events in the first hour and a treatment event in
// the second; u5 is in both arms within the second hour; u1 comes back to
// the control in the third. Both cross over when first seen in a second
// arm, and nothing of theirs counts from then on.
TEST(ExperimentOperatorTest, AUnitSeenInTwoArmsIsLeftOut) {
  OperatorHarness h(kRules);
  ASSERT_TRUE(h.rules);
  AddRows(h, {
                 {1000, "c", "u1", true, 900},
                 {2000, "c", "u1", true, 900},
                 {3000, "c", "u2", true, 100},
                 {4000, "t", "u3", true, 100},
                 {5000, "t", "u4", false, 100},
                 {kHour + 1000, "t", "u1", false, 100},
                 {kHour + 2000, "c", "u5", false, 100},
                 {kHour + 3000, "t", "u5", false, 100},
                 {kHour + 4000, "t", "u3", true, 100},
                 {2 * kHour + 1000, "c", "u1", false, 100},
                 {2 * kHour + 2000, "c", "u2", false, 100},
             });
  const std::vector<WindowResult> results = CloseAll(h, 3 * kHour);
  // First hour: c = u1 (2 of 2), u2 (1 of 1); t = u3 (1 of 1), u4 (0 of 1).
  std::map<std::string, double> one = OutputsAt(results, kHour);
  EXPECT_EQ(one["experiment_units{e1,c}"], 2);
  EXPECT_EQ(one["experiment_units{e1,t}"], 2);
  EXPECT_EQ(one["experiment_crossover_units{e1}"], 0);
  EXPECT_DOUBLE_EQ(one["experiment_value{e1,good,c}"], 1.0);
  EXPECT_DOUBLE_EQ(one["experiment_value{e1,good,t}"], 0.5);
  EXPECT_NEAR(one["experiment_value{e1,lat,c}"], 900, 4.5);
  // Second hour: u1 and u5 crossed over; c = u2 (1 of 1), t = u3 (2 of 2),
  // u4 (0 of 1).
  std::map<std::string, double> two = OutputsAt(results, 2 * kHour);
  EXPECT_EQ(two["experiment_units{e1,c}"], 1);
  EXPECT_EQ(two["experiment_units{e1,t}"], 2);
  EXPECT_EQ(two["experiment_crossover_units{e1}"], 2);
  EXPECT_DOUBLE_EQ(two["experiment_value{e1,good,c}"], 1.0);
  EXPECT_DOUBLE_EQ(two["experiment_value{e1,good,t}"], 2.0 / 3);
  // u1's values have left the control's sketch too: only u2's 100 ms.
  EXPECT_NEAR(two["experiment_value{e1,lat,c}"], 100, 0.5);
  // Chi-square of 1 against 2 of a declared 50/50: (0.25 + 0.25) / 1.5.
  EXPECT_NEAR(two["experiment_srm_p_value{e1}"], std::erfc(std::sqrt(1.0 / 6)), 1e-12);
  // Third hour: u1 is still out; u2 is now 1 of 2.
  std::map<std::string, double> three = OutputsAt(results, 3 * kHour);
  EXPECT_EQ(three["experiment_units{e1,c}"], 1);
  EXPECT_EQ(three["experiment_crossover_units{e1}"], 2);
  EXPECT_DOUBLE_EQ(three["experiment_value{e1,good,c}"], 0.5);
  EXPECT_NEAR(three["experiment_value{e1,good,t}"], 2.0 / 3, 1e-15);
  // The confidence sequence, by hand: the control's variance is 0 in every
  // hour (its units alike, then one unit). The treatment's per-unit
  // variance is 0.25 in the first hour (units (1, 1), (0, 1): R = 0.5,
  // s_yy = 0.25, d̄ = 1) and then (1 − 2/3 + 1/9) / 2.25 (units (2, 2),
  // (0, 1): R = 2/3, ȳ = 1, d̄ = 1.5, s_yy = 1, s_dd = 0.25, s_yd = 0.5).
  // The differences are −0.5, −1/3 and 1/6.
  const double t2 = 0.1 * 0.1;
  auto half = [&](double v) {
    return std::sqrt(v * (v + t2) / t2 * (2 * std::log(1 / 0.05) + std::log((v + t2) / v)));
  };
  const double v1 = 0.25 / 2, v23 = (1 - 2.0 / 3 + 1.0 / 9) / 2.25 / 2;
  const double lower = std::max({-0.5 - half(v1), -1.0 / 3 - half(v23), 1.0 / 6 - half(v23)});
  const double upper = std::min({-0.5 + half(v1), -1.0 / 3 + half(v23), 1.0 / 6 + half(v23)});
  EXPECT_NEAR(three["experiment_difference{e1,good,t}"], 1.0 / 6, 1e-12);
  EXPECT_NEAR(three["experiment_ci_lower{e1,good,t}"], lower, 1e-9);
  EXPECT_NEAR(three["experiment_ci_upper{e1,good,t}"], upper, 1e-9);
}

// An arm the split does not declare is no arm of the experiment, but a
// unit seen in it and in a declared one has not kept its assignment
// either: u1 (control, then x) crosses over; u7, only ever in x, is not
// counted at all.
TEST(ExperimentOperatorTest, AUnitSeenInAnUndeclaredArmToo) {
  OperatorHarness h(kRules);
  ASSERT_TRUE(h.rules);
  AddRows(h, {
                 {1000, "c", "u1", true, 100},
                 {2000, "c", "u2", false, 100},
                 {3000, "t", "u3", true, 100},
                 {4000, "x", "u7", true, 100},
                 {kHour + 1000, "x", "u1", true, 100},
                 {kHour + 2000, "t", "u7", true, 100},
             });
  const std::vector<WindowResult> results = CloseAll(h, 2 * kHour);
  std::map<std::string, double> out = OutputsAt(results, 2 * kHour);
  EXPECT_EQ(out["experiment_units{e1,c}"], 1);
  EXPECT_EQ(out["experiment_units{e1,t}"], 1);
  EXPECT_EQ(out["experiment_crossover_units{e1}"], 2);
  EXPECT_DOUBLE_EQ(out["experiment_value{e1,good,c}"], 0);
  EXPECT_DOUBLE_EQ(out["experiment_value{e1,good,t}"], 1);
}

void AddTraffic(OperatorHarness& h, int treatment_ok_per_10, double slower, int hours) {
  for (const Line& l : Traffic(treatment_ok_per_10, slower, hours)) h.AddJson(l.json);
}

TEST(ExperimentOperatorTest, AClearWinAndABreachedGuardrailAreDecided) {
  OperatorHarness h(kRules);
  ASSERT_TRUE(h.rules);
  AddTraffic(h, /*treatment_ok_per_10=*/9, /*slower=*/1.5, 4);
  const std::vector<WindowResult> results = CloseAll(h, 4 * kHour);
  std::map<std::string, double> out = OutputsAt(results, 4 * kHour);
  EXPECT_EQ(out["experiment_units{e1,c}"], 400);
  EXPECT_EQ(out["experiment_units{e1,t}"], 400);
  EXPECT_DOUBLE_EQ(out["experiment_value{e1,good,c}"], 600.0 / 1200);
  EXPECT_EQ(out["experiment_decision{e1,good,t}"],
            static_cast<double>(ExperimentDecision::kTreatmentWins));
  EXPECT_LT(out["experiment_p_value{e1,good,t}"], 0.05);
  EXPECT_GT(out["experiment_ci_lower{e1,good,t}"], 0);
  EXPECT_EQ(out["experiment_decision{e1,lat,t}"],
            static_cast<double>(ExperimentDecision::kGuardrailBreached));
}

TEST(ExperimentOperatorTest, NoEffectDecidesNothingAndASkewedSplitIsAMismatch) {
  OperatorHarness h(kRules);
  ASSERT_TRUE(h.rules);
  AddTraffic(h, /*treatment_ok_per_10=*/5, /*slower=*/1.0, 2);
  // 100 more control units, half of them ok: 300 against 200 of a
  // declared 50/50, and no difference.
  for (int u = 0; u < 100; ++u)
    h.Add(2 * kHour + 10 + u, Ev("c", StrCat("x", u).c_str(), u % 2 == 0, 500));
  const std::vector<WindowResult> results = CloseAll(h, 3 * kHour);
  std::map<std::string, double> out = Outputs(results);
  EXPECT_EQ(out["experiment_decision{e1,good,t}"], 0);
  EXPECT_EQ(out["experiment_p_value{e1,good,t}"], 1);
  EXPECT_EQ(out["experiment_decision{e1,lat,t}"], 0);
  EXPECT_EQ(out["experiment_units{e1,c}"], 300);
  // Chi-square (300 − 250)² / 250 · 2 = 20, 1 degree of freedom.
  EXPECT_NEAR(out["experiment_srm_p_value{e1}"], std::erfc(std::sqrt(20.0 / 2)), 1e-9);
  EXPECT_EQ(out["experiment_sample_ratio_mismatch{e1}"], 1);  // p = 7.7e-6
}

TEST(ExperimentOperatorTest, AnEffectThatAppearsMidRunShowsTheLatestInterval) {
  OperatorHarness h(kRules);
  ASSERT_TRUE(h.rules);
  // Four hours alike, then six with no treatment event ok: the running
  // intersection of the intervals is empty by the end.
  for (const Line& l : Traffic(5, 1.0, 4)) h.AddJson(l.json);
  for (const Line& l : Traffic(0, 1.0, 6, 4)) h.AddJson(l.json);
  const std::vector<WindowResult> results = CloseAll(h, 10 * kHour);
  std::map<std::string, double> out = OutputsAt(results, 10 * kHour);
  const double lower = out["experiment_ci_lower{e1,good,t}"];
  const double upper = out["experiment_ci_upper{e1,good,t}"];
  EXPECT_LE(lower, upper);
  EXPECT_LT(upper, 0);
  EXPECT_EQ(out["experiment_decision{e1,good,t}"],
            static_cast<double>(ExperimentDecision::kControlWins));
}

TEST(ExperimentOperatorTest, PartialFlowsAndACheckpointGiveTheSameOutputsToTheBit) {
  OperatorHarness whole(kRules);
  ASSERT_TRUE(whole.rules);
  // Ten of the first hour's control units come back in the treatment in
  // the second: they cross over, and the arms' sketches are rebuilt from
  // their units'. The checkpoints after the second and third hours restore
  // them the same way, while the uninterrupted flow merges each hour into
  // them as it comes.
  constexpr int kHours = 4;
  std::vector<Line> events = Traffic(7, 1.2, kHours);
  for (int u = 0; u < 10; ++u) {
    const TimeMs ts = kHour + 500 + u * 1000;
    events.push_back({ts, StrCat("{\"ts\":", ts, ",\"type\":\"message\",",
                                 Ev("t", StrCat("c0-", u).c_str(), true, 900), "}")});
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const Line& a, const Line& b) { return a.ts < b.ts; });
  for (const Line& l : events) whole.AddJson(l.json);
  std::vector<WindowResult> expected;
  std::vector<AlertNotice> notices;
  for (int hour = 1; hour <= kHours; ++hour) whole.Close(hour * kHour, &expected, &notices);

  // The same events over three partial flows (by user), merged at each
  // frontier; after the first hour the main flow's state goes through a
  // checkpoint into a new flow.
  OperatorHarness split(kRules);
  std::vector<std::unique_ptr<Dataflow>> parts;
  for (int i = 0; i < 3; ++i) parts.push_back(std::make_unique<Dataflow>(*split.rules));
  std::vector<WindowResult> got;
  size_t next = 0;
  for (int hour = 1; hour <= kHours; ++hour) {
    for (; next < events.size() && events[next].ts < hour * kHour; ++next) {
      const std::string& json = events[next].json;
      const std::string buf = json + std::string(simdjson::SIMDJSON_PADDING, ' ');
      Event ev;
      ParseError err;
      ASSERT_TRUE(split.parser->Parse(std::string_view(buf).substr(0, json.size()), &ev, &err));
      parts[HashBytes(json) % 3]->Add(ev);
    }
    for (auto& p : parts) {
      p->CloseSessions(hour * kHour);
      split.flow->MergePanesFrom(*p);
    }
    split.flow->Close(hour * kHour, &got);
    if (hour == 2 || hour == 3) {
      auto restored = std::make_unique<Dataflow>(*split.rules);
      ASSERT_GT(restored->DecodeState(split.flow->EncodeState()), 0);
      split.flow = std::move(restored);
    }
  }
  EXPECT_EQ(Lines(got), Lines(expected));
  bool crossed = false;
  for (const WindowResult& r : expected) {
    crossed |=
        r.def->name == "experiment_crossover_units" && r.end == kHours * kHour && r.value == 10;
  }
  EXPECT_TRUE(crossed);
}

std::string JsonNumber(double v) {
  std::string s;
  AppendJsonNumber(v, &s);
  return s;
}

// An average of values far larger than their spread: control units 0 and 2,
// treatment 10 and 12, all moved by `offset`. Each arm's unit variance is 1
// whatever the offset, V = 1/2 + 1/2 and τ = 5, so the interval is
// 10 ± √(1 · 26/25 · (2 ln 20 + ln 26)) at every offset. Sums of squares
// in doubles lost it: from 1e8 on the interval widened, from 1e9 on the
// variance was 0 and nothing was published.
TEST(ExperimentOperatorTest, AnAverageOfLargeValuesKeepsItsVariance) {
  const char* const rules = R"yaml(
experiments:
  - experiment: e1
    arm: variant
    control: c
    split: {c: 0.5, t: 0.5}
    unit: user
    window: 1h
    metrics:
      - {name: v, value: avg(v), goal: decrease, min_effect: 5}
)yaml";
  const double half = std::sqrt(26.0 / 25 * (2 * std::log(20.0) + std::log(26.0)));
  for (double offset : {0.0, 1e6, 1e8, 1e9, 1e12}) {
    SCOPED_TRACE(offset);
    OperatorHarness h(rules);
    ASSERT_TRUE(h.rules);
    int ts = 1000;
    for (auto [arm, user, v] :
         {std::tuple{"c", "u1", 0}, {"c", "u2", 2}, {"t", "u3", 10}, {"t", "u4", 12}}) {
      h.Add(ts += 1000, StrCat("\"variant\":\"", arm, "\",\"user\":\"", user,
                               "\",\"v\":", JsonNumber(offset + v)));
    }
    std::map<std::string, double> out = Outputs(CloseAll(h, kHour));
    // The difference of two means near 1e12 is known to their ulp, 1.2e-4.
    const double ulp = std::max(1e-12, offset * 2.3e-16);
    EXPECT_NEAR(out["experiment_difference{e1,v,t}"], 10, 4 * ulp);
    EXPECT_NEAR(out["experiment_ci_lower{e1,v,t}"], 10 - half, 1e-9 + 4 * ulp);
    EXPECT_NEAR(out["experiment_ci_upper{e1,v,t}"], 10 + half, 1e-9 + 4 * ulp);
    EXPECT_EQ(out.count("experiment_decision{e1,v,t}"), 1u);
    EXPECT_EQ(out["experiment_decision{e1,v,t}"],
              static_cast<double>(ExperimentDecision::kControlWins));
  }
}

// A checkpoint of the previous encoding ("experiment/4:", which kept each
// arm's running sums) restores: the sums are skipped, the arms' estimates
// come from the units' totals, and the outputs are those of a flow that
// never stopped. (The quantile metric had no sums.)
}  // namespace
}  // namespace vigil
