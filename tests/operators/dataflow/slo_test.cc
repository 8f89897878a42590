// SLOs on the dataflow: burn rates, budget and forecast against values
// computed by hand from a synthetic stream with a known share of bad
// events, and the burn-rate alerts at the event times the SRE Workbook's
// arithmetic predicts.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr TimeMs kT = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
constexpr TimeMs kMin = 60'000;

std::string Slo(const std::string& name, const std::string& objective) {
  return "  - slo: " + name + "\n    objective: " + objective +
         "\n    good: latency_ms < 5000\n    valid: type == \"message\"\n";
}

// Adds an event with latency 100 (good) or 9000 (bad).
void AddEvent(OperatorHarness& h, TimeMs ts, bool bad) {
  h.Add(ts, bad ? "\"latency_ms\":9000" : "\"latency_ms\":100");
}

// The value of `metric` at window end `end` among `results` (NaN if none).
double ValueAt(const std::vector<WindowResult>& results, const std::string& metric, TimeMs end) {
  for (const WindowResult& r : results) {
    if (r.def->name == metric && r.end == end) return r.value;
  }
  return NAN;
}

TEST(SloTest, BurnRatesBudgetAndForecastMatchTheHandComputedValues) {
  OperatorHarness h("slos:\n" + Slo("chat", "99%") + Slo("loose", "90%"));
  ASSERT_NE(h.rules, nullptr);
  ASSERT_EQ(h.rules->slos.size(), 2u);
  // Every metric of one SLO in one operator, one pane store.
  ASSERT_EQ(h.flow->metric_ops().size(), 2u);
  EXPECT_EQ(h.rules->slos[0].pane, 5 * kMin);
  // 720 events, one every 10 s for two hours; every 20th is bad (5%).
  for (int i = 0; i < 720; ++i) AddEvent(h, kT + i * 10'000, i % 20 == 19);
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  const TimeMs end = kT + 120 * kMin;
  h.Close(end, &results, &notices);

  // The last hour: events 360..719, 18 of them bad.
  EXPECT_DOUBLE_EQ(ValueAt(results, "slo_chat_burn_rate_1h", end), 18.0 / 360 / 0.01);
  // The last 5 minutes: events 690..719, bad 699 and 719.
  EXPECT_DOUBLE_EQ(ValueAt(results, "slo_chat_burn_rate_5m", end), 2.0 / 30 / 0.01);
  // The last 30 minutes: 180 events, 9 bad; 6 hours and 3 days: all 720, 36 bad.
  EXPECT_DOUBLE_EQ(ValueAt(results, "slo_chat_burn_rate_30m", end), 9.0 / 180 / 0.01);
  EXPECT_DOUBLE_EQ(ValueAt(results, "slo_chat_burn_rate_6h", end), 36.0 / 720 / 0.01);
  EXPECT_DOUBLE_EQ(ValueAt(results, "slo_chat_burn_rate_3d", end), 36.0 / 720 / 0.01);
  EXPECT_DOUBLE_EQ(ValueAt(results, "slo_chat_burn_rate_1d", end), 36.0 / 720 / 0.01);
  EXPECT_DOUBLE_EQ(ValueAt(results, "slo_chat_sli", end), 684.0 / 720);
  EXPECT_DOUBLE_EQ(ValueAt(results, "slo_chat_error_budget_remaining", end), 1 - 36.0 / 720 / 0.01);
  // Spent (remaining below 0): exhausted now.
  EXPECT_EQ(ValueAt(results, "slo_chat_budget_exhaustion_seconds", end), 0);
  // 90%: half the budget left, burning at 0.5 over the last hour: it lasts
  // another 0.5 × 30 days / 0.5 = 30 days.
  const double burn_1h = 18.0 / 360 / 0.1;
  const double remaining = 1 - 36.0 / 720 / 0.1;
  EXPECT_DOUBLE_EQ(ValueAt(results, "slo_loose_burn_rate_1h", end), burn_1h);
  EXPECT_DOUBLE_EQ(ValueAt(results, "slo_loose_error_budget_remaining", end), remaining);
  EXPECT_NEAR(ValueAt(results, "slo_loose_budget_exhaustion_seconds", end),
              remaining * 30 * 86400 / burn_1h, 1e-6);
  // Every window of the SLO ends on the 5-minute panes.
  for (const WindowResult& r : results) EXPECT_EQ((r.end - kT) % (5 * kMin), 0) << r.def->name;
}

TEST(SloTest, ASpentBudgetForecastsZeroAlsoWhenTheLastHourHadNoEvents) {
  OperatorHarness h("slos:\n" + Slo("chat", "99%") + Slo("loose", "90%"));
  // 30 minutes of one event a minute, one in ten bad (10%): chat's budget
  // (1%) is spent ten times over, loose's (10%) exactly; then nothing for
  // two hours.
  for (int i = 0; i < 30; ++i) AddEvent(h, kT + i * kMin, i % 10 == 9);
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(kT + 150 * kMin, &results, &notices);
  // At 2 h the last hour is empty: no burn rate over it, and the budget
  // over 30 days still spent.
  const TimeMs end = kT + 120 * kMin;
  EXPECT_TRUE(std::isnan(ValueAt(results, "slo_chat_burn_rate_1h", end)));
  EXPECT_DOUBLE_EQ(ValueAt(results, "slo_chat_error_budget_remaining", end), 1 - 0.1 / 0.01);
  EXPECT_EQ(ValueAt(results, "slo_chat_budget_exhaustion_seconds", end), 0);
  EXPECT_EQ(ValueAt(results, "slo_loose_error_budget_remaining", end), 0);
  EXPECT_EQ(ValueAt(results, "slo_loose_budget_exhaustion_seconds", end), 0);
  // At 30 minutes both burn and the forecast is 0 as well.
  EXPECT_EQ(ValueAt(results, "slo_chat_budget_exhaustion_seconds", kT + 30 * kMin), 0);
}

// `by:` gives one SLO per group: each intent burns its own budget, and
// only the failing one pages.
TEST(SloTest, ByGivesEachGroupItsOwnBudgetAndAlerts) {
  OperatorHarness h("slos:\n" + Slo("chat", "99%") + "    by: [intent]\n");
  ASSERT_NE(h.rules, nullptr);
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  // An hour of both intents every 10 s; from 00:50 every "cart" turn fails.
  for (int i = 0; i < 360; ++i) {
    const TimeMs t = kT + i * 10'000;
    h.Add(t, "\"intent\":\"faq\",\"latency_ms\":100");
    h.Add(t, t >= kT + 50 * kMin ? "\"intent\":\"cart\",\"latency_ms\":9000"
                                 : "\"intent\":\"cart\",\"latency_ms\":100");
  }
  const TimeMs end = kT + 60 * kMin;
  h.Close(end, &results, &notices);
  std::map<std::string, double> burn_1h;
  for (const WindowResult& r : results) {
    if (r.def->name == "slo_chat_burn_rate_1h" && r.end == end) burn_1h[r.labels.at(0)] = r.value;
  }
  EXPECT_EQ(burn_1h.at("faq"), 0);
  // 60 of the hour's 360 cart turns failed.
  EXPECT_DOUBLE_EQ(burn_1h.at("cart"), 60.0 / 360 / 0.01);
  std::vector<std::string> paged;
  for (const AlertNotice& n : notices) {
    if (n.transition == Transition::kFiring)
      paged.push_back(n.def->name + " " + n.labels.at("intent"));
  }
  // At 00:55: 30/330 of the hour (burn 9.1) is below 14.4, but the other
  // paging pair holds (9.1 over 6 hours and 30/180 over 30 minutes, both
  // above 6), and so does the ticket pair (9.1 over 3 days and 6 hours).
  EXPECT_EQ(paged, (std::vector<std::string>{"ChatFastBurn cart", "ChatSlowBurn cart"}));
}

// A 100% outage under a 99.9% objective: the 1-hour burn rate passes 14.4
// once 14.4 × 0.1% of the hour, 51.84 s, is bad. One event a second, six
// hours of good traffic first (so that the 6-hour pair stays below 6);
// windows end every 5 minutes.
std::vector<std::string> FastBurnFirings(TimeMs outage_start) {
  OperatorHarness h("slos:\n" + Slo("chat", "99.9%"));
  EXPECT_NE(h.rules, nullptr);
  if (!h.rules) return {};
  std::vector<std::string> firings;
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  for (TimeMs t = kT - 360 * kMin; t < kT + 11 * kMin; t += 1000) {
    if ((t - kT) % (5 * kMin) == 0) {
      results.clear();
      notices.clear();
      h.Close(t, &results, &notices);
      for (const AlertNotice& n : notices) {
        if (n.transition == Transition::kFiring) {
          firings.push_back(n.def->name + "@" + std::to_string((n.at - kT) / 1000));
        }
      }
    }
    AddEvent(h, t, t >= outage_start);
  }
  return firings;
}

TEST(SloTest, AFullOutagePagesAtTheWindowEndAfter51point84Seconds) {
  // From 00:04:08, 52 bad events by 00:05:00: 52/3600 > 1.44%. The 3-day
  // and 6-hour windows burn faster than 1 too: the ticket fires with it.
  EXPECT_EQ(FastBurnFirings(kT + 248'000),
            (std::vector<std::string>{"ChatFastBurn@300", "ChatSlowBurn@300"}));
  // From 00:04:09, 51 are not enough (51/3600 < 1.44%): the page waits for
  // the next window end; the ticket (6 hours, 51/21600 > 0.1%) does not.
  EXPECT_EQ(FastBurnFirings(kT + 249'000),
            (std::vector<std::string>{"ChatSlowBurn@300", "ChatFastBurn@600"}));
}

// One event a minute for 30 days; every `nth` is bad.
std::map<std::string, std::vector<TimeMs>> ThirtyDays(int nth) {
  OperatorHarness h("slos:\n" + Slo("chat", "99%"));
  std::map<std::string, std::vector<TimeMs>> out;
  if (!h.rules) return out;
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  for (int i = 0; i < 30 * 1440; ++i) {
    const TimeMs t = kT + i * kMin;
    if (i % 5 == 0) {
      results.clear();
      notices.clear();
      h.Close(t, &results, &notices);
      for (const AlertNotice& n : notices) {
        out[std::string(TransitionName(n.transition)) + " " + n.def->name].push_back(n.at);
      }
    }
    AddEvent(h, t, i % nth == nth - 1);
  }
  return out;
}

TEST(SloTest, ATwiceTooFastBurnTicketsAndNeverPages) {
  // 2% bad: the first bad event (minute 49) makes both the 3-day and the
  // 6-hour window 1/50 = 2 × the budget at 00:50; it stays so for 30 days.
  const auto t = ThirtyDays(50);
  EXPECT_EQ(t.size(), 1u);
  ASSERT_TRUE(t.contains("firing ChatSlowBurn"));
  EXPECT_EQ(t.at("firing ChatSlowBurn"), std::vector<TimeMs>{kT + 50 * kMin});
}

TEST(SloTest, AHalfSpeedBurnNeverAlertsIn30Days) { EXPECT_TRUE(ThirtyDays(200).empty()); }

// A burn of exactly the factor is not faster than it: 3 bad turns of 30 with
// a 10% budget burn at 1, not at 1.0000000000000002 (1 - 0.9 computed in
// binary is 0.09999999999999998).
TEST(SloTest, ABurnOfExactlyTheFactorDoesNotFire) {
  OperatorHarness h(R"(slos:
  - slo: lat
    objective: 90%
    window: 1h
    good: latency_ms < 5000
    valid: type == "message"
    burn_rates:
      - {long: 30m, short: 10m, factor: 1, alert: ticket}
)");
  ASSERT_NE(h.rules, nullptr);
  // One event a minute; bad at minutes 40, 42 and 44, then 52 and 54.
  std::vector<std::string> firings;
  for (int i = 0; i <= 60; ++i) {
    if (i % 10 == 0) {
      std::vector<WindowResult> results;
      std::vector<AlertNotice> notices;
      h.Close(kT + i * kMin, &results, &notices);
      for (const AlertNotice& n : notices) firings.push_back(StrCat(n.def->name, "@", i));
      if (i == 50) {
        // Minutes 20..49: 3 of 30 bad; 40..49: 3 of 10.
        EXPECT_EQ(ValueAt(results, "slo_lat_burn_rate_30m", kT + 50 * kMin), 1);
        EXPECT_EQ(ValueAt(results, "slo_lat_burn_rate_10m", kT + 50 * kMin), 3);
      }
    }
    if (i < 60) AddEvent(h, kT + i * kMin, i == 40 || i == 42 || i == 44 || i == 52 || i == 54);
  }
  // At 60: 5 of 30 and 2 of 10, both faster than 1.
  EXPECT_EQ(firings, std::vector<std::string>{"LatSlowBurn@60"});
}

// The same with a factor that is no binary fraction: 33 bad turns of 1000
// with a 1% budget burn at exactly 3.3, which (33 / 1000) / 0.01 in doubles
// makes 3.3000000000000003. The burn rate is computed in one rounding, so
// it is 3.3's own double; 34 bad turns fire.
std::vector<std::string> BurnAtThreePointThree(int bad, double* burn_1h, double* burn_5m) {
  OperatorHarness h(R"(slos:
  - slo: x
    objective: 99%
    good: latency_ms < 5000
    valid: type == "message"
    burn_rates:
      - {long: 1h, short: 5m, factor: 3.3, alert: page}
)");
  EXPECT_NE(h.rules, nullptr);
  if (h.rules == nullptr) return {};
  // 750 good turns over the first 55 minutes, 250 over the last 5, of
  // which the last `bad` are bad.
  for (int i = 0; i < 750; ++i) AddEvent(h, kT + i * 4'400, false);
  for (int i = 0; i < 250; ++i) AddEvent(h, kT + 55 * kMin + i * 1'200, i >= 250 - bad);
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(kT + 60 * kMin, &results, &notices);
  *burn_1h = ValueAt(results, "slo_x_burn_rate_1h", kT + 60 * kMin);
  *burn_5m = ValueAt(results, "slo_x_burn_rate_5m", kT + 60 * kMin);
  std::vector<std::string> firings;
  for (const AlertNotice& n : notices) firings.push_back(n.def->name);
  return firings;
}

TEST(SloTest, ABurnOfExactlyADecimalFactorDoesNotFire) {
  double burn_1h = 0, burn_5m = 0;
  EXPECT_TRUE(BurnAtThreePointThree(33, &burn_1h, &burn_5m).empty());
  EXPECT_EQ(burn_1h, 3.3);
  EXPECT_EQ(burn_5m, 13.2);
  EXPECT_EQ(BurnAtThreePointThree(34, &burn_1h, &burn_5m), std::vector<std::string>{"XFastBurn"});
  EXPECT_EQ(burn_1h, 3.4);
  EXPECT_EQ(burn_5m, 13.6);
}

}  // namespace
}  // namespace vigil
