// Session streams through the binary: the reference rules over generated
// normal traffic page nothing and report per-session metrics in range.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "base/strings.h"
#include "test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

std::string Temp(const std::string& name) { return TempPath("sessions_e2e_", name); }

// The values of `metric` in a results file, in order.
std::vector<double> Values(const std::vector<std::string>& lines, const std::string& metric) {
  std::vector<double> out;
  const std::string tag = StrCat("{\"metric\":\"", metric, "\"");
  for (const std::string& l : lines) {
    if (l.rfind(tag, 0) != 0) continue;
    const size_t at = l.rfind("\"value\":");
    out.push_back(std::stod(l.substr(at + 8)));
  }
  return out;
}

TEST(SessionsE2eTest, NormalTrafficPagesNothingAndSessionMetricsAreInRange) {
  const std::string events = Temp("normal.ndjson");
  const std::string results = Temp("results.ndjson");
  ASSERT_EQ(Sh(StrCat(kVigil, " gen --seed 11 --rate 100 --duration 3h --out ", events)).exit_code,
            0);
  Result r = Sh(
      StrCat(kVigil, " run --input ", events, " --results ", results, " --no-progress --http off"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // The only page is the runbook's absolute one: more than ten thumbs-down
  // a week on an FAQ topic, which a week of traffic at this rate exceeds
  // (one per topic, when the week closes at the end of the input).
  for (const std::string& line : Lines(r.out)) {
    EXPECT_NE(line.find("FaqTopicNegativeFeedback"), std::string::npos) << line;
  }
  const std::vector<std::string> lines = Lines(ReadFile(results));

  // Ten sessions or more close in every hour window after the first half
  // hour; the generator's sessions have 3 to 7 turns and about one in
  // twelve escalates.
  const std::vector<double> closed = Values(lines, "sessions_closed");
  const std::vector<double> resolution = Values(lines, "resolution_rate");
  const std::vector<double> turns = Values(lines, "session_turns");
  ASSERT_GE(closed.size(), 30u);
  ASSERT_EQ(resolution.size(), closed.size());
  ASSERT_EQ(turns.size(), closed.size());
  for (size_t i = 0; i < closed.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_GT(closed[i], 0);
    EXPECT_GE(resolution[i], 0.85);
    EXPECT_LE(resolution[i], 1.0);
    EXPECT_GE(turns[i], 2.5);  // sessions escalated early end before their third turn
    EXPECT_LE(turns[i], 7.0);
  }
  // Recommendation sessions convert now and then.
  const std::vector<double> conversion = Values(lines, "conversion_rate");
  ASSERT_FALSE(conversion.empty());
  EXPECT_GT(conversion.back(), 0.0);
  EXPECT_LT(conversion.back(), 1.0);
  // About three in ten sessions come from a returning user; the runs of
  // visits close at the end of the input, seven days of event time later.
  const std::vector<double> returns = Values(lines, "return_visit_rate");
  ASSERT_FALSE(returns.empty());
  EXPECT_GT(returns.back(), 0.05);
  EXPECT_LT(returns.back(), 0.6);
  // Escalation rate by first intent: one series per intent that starts
  // sessions, each a share.
  size_t by_intent = 0;
  for (const std::string& l : lines) {
    if (l.rfind("{\"metric\":\"escalation_rate_by_intent\"", 0) != 0) continue;
    ++by_intent;
    EXPECT_NE(l.find("\"labels\":{\"first_intent\":\""), std::string::npos) << l;
  }
  EXPECT_GE(by_intent, 5u);
}

TEST(SessionsE2eTest, ReplayOfTheSameFileGivesTheSameSessionMetrics) {
  const std::string events = Temp("replay.ndjson");
  ASSERT_EQ(Sh(StrCat(kVigil, " gen --seed 12 --rate 50 --duration 2h --jitter 20s ",
                      "--incident escalation_surge@40m+20m --out ", events))
                .exit_code,
            0);
  // Events out of order by up to 20 s, with a matching bound: sessions
  // merge as out-of-order events arrive, and the result must not depend on
  // how the input is batched.
  const std::string a = Temp("a.ndjson"), b = Temp("b.ndjson");
  ASSERT_EQ(Sh(StrCat(kVigil, " run --input ", events, " --results ", a,
                      " --max-out-of-orderness 20s --no-console --no-progress --http off"))
                .exit_code,
            0);
  ASSERT_EQ(Sh(StrCat("cat ", events, " | ", kVigil, " run --input - --results ", b,
                      " --max-out-of-orderness 20s --no-console --no-progress --http off"))
                .exit_code,
            0);
  const std::vector<std::string> first = Lines(ReadFile(a));
  EXPECT_EQ(first, Lines(ReadFile(b)));
  EXPECT_FALSE(Values(first, "resolution_rate").empty());
}

}  // namespace
}  // namespace vigil
