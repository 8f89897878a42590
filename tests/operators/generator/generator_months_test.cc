// Month profiles of the generator (vigil gen --month): parsing, the plan
// that meets escalation and resolution together, the quotas, and generated
// traffic whose monthly figures, tallied here from the events under the
// tracker's definitions, are the profiles' to a tenth of a point.
#include "operators/generator/generator_months.h"

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/operators/generator/generator_test_util.h"

namespace vigil {
namespace {

using generator_internal::MonthAt;
using generator_internal::MonthOf;
using generator_internal::MonthQuota;
using generator_test::element;
using generator_test::ForEachGenerated;
using generator_test::Str;
using generator_test::Ts;

TEST(MonthProfileTest, ParsesPercentagesAndFractions) {
  absl::StatusOr<MonthProfile> p =
      ParseMonthProfile("escalation=12%,resolution=0.71,thumbs_up=62%,conversion=4.1%");
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_DOUBLE_EQ(p->escalation, 0.12);
  EXPECT_DOUBLE_EQ(p->resolution, 0.71);
  EXPECT_DOUBLE_EQ(p->thumbs_up, 0.62);
  EXPECT_DOUBLE_EQ(p->conversion, 0.041);
  absl::StatusOr<MonthProfile> thumbs = ParseMonthProfile("thumbs_up=80%");
  ASSERT_TRUE(thumbs.ok());
  EXPECT_DOUBLE_EQ(thumbs->thumbs_up, 0.8);
  EXPECT_LT(thumbs->escalation, 0);
  EXPECT_LT(thumbs->conversion, 0);
}

TEST(MonthProfileTest, RejectsWhatItCannotMeet) {
  struct Case {
    const char* spec;
    const char* error;
  } cases[] = {
      {"escalation=12%", "month 'escalation=12%': escalation and resolution go together"},
      {"thumbs=62%", "'thumbs=62%' is not KEY=SHARE with KEY escalation, resolution, thumbs_up"},
      {"thumbs_up", "'thumbs_up' is not KEY=SHARE"},
      {"thumbs_up=120%", "thumbs_up '120%' is not a share such as 12% or 0.12"},
      {"conversion=-1%", "conversion '-1%' is not a share"},
      {"conversion=4.1%x", "conversion '4.1%x' is not a share"},
      {"conversion=", "conversion '' is not a share"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<MonthProfile> p = ParseMonthProfile(c.spec);
    ASSERT_FALSE(p.ok()) << c.spec;
    EXPECT_NE(std::string(p.status().message()).find(c.error), std::string::npos)
        << c.spec << ": " << p.status();
  }
}

TEST(MonthPlanTest, KeepsTheModelsAskingShareWhenTheFiguresAllowIt) {
  // 93.75% never ask, 2% of them escalate: 1.875 of the 5 points; the
  // 6.25% who ask give the rest, half of them escalated.
  const MonthPlan plan = PlanMonth(*ParseMonthProfile("escalation=5%,resolution=98%"));
  EXPECT_DOUBLE_EQ(plan.asks, 0.0625);
  EXPECT_NEAR(plan.escalates_asked, 0.5, 1e-12);
  EXPECT_NEAR(plan.escalates_never, 0.02, 1e-12);
  EXPECT_LT(plan.thumbs_up, 0);
  EXPECT_LT(plan.conversion, 0);
}

TEST(MonthPlanTest, MoreUsersAskWithoutReachingAHumanWhenResolutionIsLow) {
  // The runbook's January: 29% of those who never asked escalate, 12% of
  // all: at most 12/29 never asked.
  const MonthPlan jan = PlanMonth(*ParseMonthProfile("escalation=12%,resolution=71%"));
  EXPECT_NEAR(jan.asks, 1 - 0.12 / 0.29, 1e-12);
  EXPECT_EQ(jan.escalates_asked, 0);
  EXPECT_NEAR(jan.escalates_never, 0.29, 1e-12);
  EXPECT_NEAR((1 - jan.asks) * jan.escalates_never + jan.asks * jan.escalates_asked, 0.12, 1e-12);
}

TEST(MonthPlanTest, MoreUsersAskAndAllReachAHumanWhenEscalationIsHigh) {
  // 50% escalated, 10% of those who never asked: the model's 6.25% asking
  // cannot carry the other 40 points; (0.5 - 0.1) / 0.9 ask, all escalated.
  const MonthPlan plan = PlanMonth(*ParseMonthProfile("escalation=50%,resolution=90%"));
  EXPECT_NEAR(plan.asks, 0.4 / 0.9, 1e-12);
  EXPECT_EQ(plan.escalates_asked, 1);
  EXPECT_NEAR((1 - plan.asks) * plan.escalates_never + plan.asks, 0.5, 1e-12);
}

TEST(MonthQuotaTest, GivesTheShareToWithinOneWhateverTheCount) {
  for (double p : {0.0, 0.041, 0.29, 0.5, 0.62, 1.0}) {
    MonthQuota quota;
    int yes = 0;
    for (int n = 1; n <= 5000; ++n) {
      yes += quota.Take(p);
      ASSERT_LE(std::abs(yes - p * n), 1.0) << p << " after " << n;
    }
  }
}

TEST(MonthAtTest, CountsCalendarMonthsInUtc) {
  const TimeMs origin = *ParseRfc3339("2027-12-15T12:00:00Z");
  const auto at = [&](const char* t) { return MonthAt(origin, *ParseRfc3339(t)); };
  EXPECT_EQ(at("2027-12-01T00:00:00Z").index, 0);
  EXPECT_EQ(at("2027-11-30T23:59:59.999Z").index, -1);
  EXPECT_EQ(at("2028-01-01T00:00:00Z").index, 1);
  // February of a leap year.
  const MonthOf feb = at("2028-02-29T23:59:59.999Z");
  EXPECT_EQ(feb.index, 2);
  EXPECT_EQ(feb.begin, *ParseRfc3339("2028-02-01T00:00:00Z"));
  EXPECT_EQ(feb.end, *ParseRfc3339("2028-03-01T00:00:00Z"));
  EXPECT_EQ(at("2028-03-01T00:00:00Z").index, 3);
}

// Per calendar month, the tracker's four figures tallied from the events:
// sessions belong to the month of their end (last event + 30 min - 1 ms, as
// the reference rules' sessions stream closes them), feedback to its own.
struct MonthTally {
  int sessions = 0, escalated = 0, never_asked = 0, escalated_never_asked = 0;
  int recommended = 0, converted = 0, feedback = 0, thumbs_up = 0;
};
struct SessionTally {
  TimeMs last = 0;
  bool escalated = false, asked = false, recommended = false, converted = false;
};

std::map<std::string, MonthTally> Tally(const GeneratorOptions& options) {
  std::map<std::string, SessionTally> sessions;
  std::map<std::string, MonthTally> months;
  const auto month_of = [](TimeMs t) { return FormatTimestamp(t).substr(0, 7); };
  ForEachGenerated(options, [&](element e) {
    const std::string_view type = Str(e, "type");
    const TimeMs ts = Ts(e);
    if (type == "feedback") {
      MonthTally& m = months[month_of(ts)];
      ++m.feedback;
      m.thumbs_up += e["rating"].get_int64().value() == 1;
    }
    if (e["session_id"].error()) return;  // breakers, intent labels
    SessionTally& s = sessions[std::string(Str(e, "session_id"))];
    s.last = std::max(s.last, ts);
    s.escalated |= type == "escalation";
    s.converted |= type == "add_to_cart";
    if (type == "message") {
      s.asked |= Str(e, "intent") == "escalation";
      s.recommended |= Str(e, "intent") == "recommendation";
    }
  });
  for (const auto& [id, s] : sessions) {
    MonthTally& m = months[month_of(s.last + 30 * 60'000 - 1)];
    ++m.sessions;
    m.escalated += s.escalated;
    m.never_asked += !s.asked;
    m.escalated_never_asked += !s.asked && s.escalated;
    m.recommended += s.recommended;
    m.converted += s.recommended && s.converted;
  }
  return months;
}

double Share(int n, int of) { return static_cast<double>(n) / of; }

TEST(GeneratorMonthsTest, EachMonthMeetsItsFiguresToATenthOfAPoint) {
  GeneratorOptions options;
  options.seed = 11;
  options.start = *ParseRfc3339("2026-01-01T00:00:00Z");
  options.duration = 90 * 86'400'000LL;  // January to March
  options.rate = 0.05;
  for (const char* spec : {"escalation=12%,resolution=71%,thumbs_up=62%,conversion=4.1%",
                           "escalation=9%,resolution=76%,thumbs_up=67%,conversion=4.8%",
                           "escalation=7%,resolution=81%,thumbs_up=72%,conversion=5.3%"}) {
    options.months.push_back(*ParseMonthProfile(spec));
  }
  const std::map<std::string, MonthTally> months = Tally(options);
  const struct {
    const char* month;
    double escalation, resolution, thumbs_up, conversion;
  } want[] = {{"2026-01", 0.12, 0.71, 0.62, 0.041},
              {"2026-02", 0.09, 0.76, 0.67, 0.048},
              {"2026-03", 0.07, 0.81, 0.72, 0.053}};
  for (const auto& w : want) {
    ASSERT_TRUE(months.contains(w.month)) << w.month;
    const MonthTally& m = months.at(w.month);
    EXPECT_GT(m.sessions, 9000) << w.month;  // enough that one session is 0.01 pts
    EXPECT_NEAR(Share(m.escalated, m.sessions), w.escalation, 0.0005) << w.month;
    EXPECT_NEAR(1 - Share(m.escalated_never_asked, m.never_asked), w.resolution, 0.0005) << w.month;
    EXPECT_NEAR(Share(m.thumbs_up, m.feedback), w.thumbs_up, 0.0005) << w.month;
    EXPECT_NEAR(Share(m.converted, m.recommended), w.conversion, 0.0005) << w.month;
  }
}

// A profile with thumbs_up alone leaves escalation and carts to the model:
// the same sessions escalate and convert as without it.
TEST(GeneratorMonthsTest, AColumnLeftOutKeepsTheModelsOwnTraffic) {
  GeneratorOptions options;
  options.start = *ParseRfc3339("2026-01-01T00:00:00Z");
  options.duration = 3 * 3'600'000LL;
  options.rate = 20;
  options.months.push_back(*ParseMonthProfile("thumbs_up=90%"));
  const MonthTally m = Tally(options).at("2026-01");
  EXPECT_NEAR(Share(m.thumbs_up, m.feedback), 0.9, 0.0005);
  // The model's own escalation: under 10% of sessions, and some carts.
  EXPECT_LT(Share(m.escalated, m.sessions), 0.1);
  EXPECT_GT(m.converted, 0);
}

}  // namespace
}  // namespace vigil
