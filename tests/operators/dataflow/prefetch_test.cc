// Prefetch hints (Dataflow::Prefetch) fetch state and change none: a flow
// hinted each event four ahead, and hinted events it never gets, gives the
// same windows as one never hinted, over a store of many groups (where the
// metric operators act on hints) and a small one (where they do not).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

const char* const kRules = R"yaml(
metrics:
  - metric: per_user
    where: type == "message"
    window: tumbling 1m
    by: [variant, user]
    value: avg(ms)
  - metric: per_user_p50
    where: type == "message"
    window: tumbling 1m
    by: [variant, user]
    value: quantile(0.5, ms)
  - metric: per_variant
    window: sliding 2m every 1m
    by: [variant]
    value: count()
)yaml";

TEST(PrefetchTest, HintsChangeNoWindow) {
  OperatorHarness plain(kRules), hinted(kRules);
  ASSERT_TRUE(plain.rules && hinted.rules);
  // 6,000 users (past the operators' threshold for acting on hints), each
  // with a few messages over three minutes; every seventh event is a
  // feedback, which the per-user metrics do not take.
  std::vector<std::string> events;
  for (int i = 0; i < 30'000; ++i) {
    const int user = (i * 7919) % 6'000;
    const char* type = i % 7 == 0 ? "feedback" : "message";
    events.push_back(StrCat(R"({"ts":)", i * 6, R"(,"type":")", type, R"(","variant":")",
                            user % 2 ? "A" : "B", R"(","user":"u)", user, R"(","ms":)",
                            100 + (i * 37) % 900, "}"));
  }
  constexpr size_t kAhead = Dataflow::kPrefetchDistance;
  for (size_t i = 0; i < events.size(); ++i) {
    plain.AddJson(events[i]);
    if (i + kAhead < events.size()) hinted.flow->Prefetch(hinted.Parse(events[i + kAhead]));
    // And an event that never comes, of a user not seen yet.
    if (i % 1000 == 0) {
      hinted.flow->Prefetch(hinted.Parse(
          StrCat(R"({"ts":1,"type":"message","variant":"A","user":"ghost)", i, R"(","ms":1})")));
    }
    hinted.AddJson(events[i]);
  }
  EXPECT_EQ(hinted.flow->series(), plain.flow->series());
  const std::vector<std::string> want = plain.CloseToLines(kMaxTime);
  EXPECT_GT(want.size(), 12'000u);
  EXPECT_EQ(hinted.CloseToLines(kMaxTime), want);
}

}  // namespace
}  // namespace vigil
