// Session streams' first(x) and last(x) at equal event times.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "operators/dataflow/session_operator.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr TimeMs kMin = 60'000;

// -0 and 0 at one event time: first(x) keeps -0 and last(x) 0, in either
// order (as min and max order them), so the record's bits do not depend on
// the order of arrival or on how the events were spread over workers.
TEST(SessionStreamZeroTest, ZeroAndMinusZeroTieByTheirSign) {
  OperatorHarness h(R"yaml(
streams:
  - stream: s
    key: session_id
    window: session 30m
    emit:
      lo: first(latency_ms)
      hi: last(latency_ms)
)yaml");
  ASSERT_NE(h.rules, nullptr);
  for (bool swapped : {false, true}) {
    SCOPED_TRACE(swapped);
    SessionOperator op(h.rules->streams[0]);
    const std::string zero = R"({"ts":1000,"type":"message","session_id":"s","latency_ms":0})";
    const std::string minus = R"({"ts":1000,"type":"message","session_id":"s","latency_ms":-0.0})";
    op.Add(h.Parse(swapped ? minus : zero));
    op.Add(h.Parse(swapped ? zero : minus));
    std::vector<std::pair<bool, bool>> signs;  // (lo, hi) negative
    op.Close(kMaxTime - 31 * kMin, [&](const Event& r) {
      const Value& lo = r.slots[*h.rules->streams[0].fields.Find("lo")];
      const Value& hi = r.slots[*h.rules->streams[0].fields.Find("hi")];
      ASSERT_TRUE(lo.is_number() && hi.is_number());
      EXPECT_EQ(lo.num, 0.0);
      EXPECT_EQ(hi.num, 0.0);
      signs.emplace_back(std::signbit(lo.num), std::signbit(hi.num));
    });
    EXPECT_EQ(signs, (std::vector<std::pair<bool, bool>>{{true, false}}));
  }
}

}  // namespace
}  // namespace vigil
