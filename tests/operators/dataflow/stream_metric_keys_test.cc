// Metrics from two streams whose records mean the same to them (session
// streams that differ only in their gap, joins that differ only in their
// bounds) keep their own panes through a checkpoint, a reload and a merge
// stage: their state keys and shape keys differ.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "base/strings.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr const char* kSessions = R"(
streams:
  - stream: short_sessions
    key: k
    window: session 10s
    emit: {n: count()}
  - stream: long_sessions
    key: k
    window: session 90s
    emit: {n: count()}
metrics:
  - {metric: short_per_5m, from: short_sessions, window: tumbling 5m, value: count()}
  - {metric: long_per_5m, from: long_sessions, window: tumbling 5m, value: count()}
)";

void AddAt(OperatorHarness& h, TimeMs ts) {
  h.AddJson(StrCat(R"({"ts":)", ts, R"(,"type":"message","k":"a"})"));
}

// Key a at 0 s, 5 s, 30 s and 38 s: two short sessions ([0, 5 s] and
// [30 s, 38 s]), one long one.
const std::vector<std::string> kWant = {"long_per_5m[0,300000)=1", "short_per_5m[0,300000)=2"};

std::vector<std::string> Sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

TEST(StreamMetricKeysTest, MetricsOfStreamsThatDifferOnlyInTheirGapHaveTheirOwnKeys) {
  OperatorHarness h(kSessions);
  std::set<std::string> states, shapes;
  for (const auto& op : h.flow->metric_ops()) {
    EXPECT_TRUE(states.insert(op->state_key()).second) << op->state_key();
    EXPECT_TRUE(shapes.insert(op->shape_key()).second) << op->shape_key();
  }
  for (TimeMs t : {0, 5'000, 30'000, 38'000}) AddAt(h, t);
  EXPECT_EQ(Sorted(h.CloseToLines(10 * 60'000)), kWant);
}

// The short stream's first session has closed into its metric's pane by the
// checkpoint; the long one's is still open. Restored, each metric gets its
// own pane (the long one once got the short one's, and counted 2).
TEST(StreamMetricKeysTest, ACheckpointGivesEachMetricItsOwnPanes) {
  OperatorHarness before(kSessions);
  for (TimeMs t : {0, 5'000, 30'000}) AddAt(before, t);
  EXPECT_EQ(before.CloseToLines(25'000), std::vector<std::string>{});
  const auto saved = before.flow->EncodeState();
  OperatorHarness after(kSessions);
  ASSERT_EQ(after.flow->DecodeState(saved), static_cast<int>(after.flow->state_count()));
  AddAt(after, 38'000);
  EXPECT_EQ(Sorted(after.CloseToLines(10 * 60'000)), kWant);
}

// A reload that lists the streams the other way round: each metric takes
// over its own stream's panes.
TEST(StreamMetricKeysTest, AReloadGivesEachMetricItsOwnPanesWhateverTheOrder) {
  std::string swapped = kSessions;
  const size_t short_at = swapped.find("  - stream: short_sessions");
  const size_t long_at = swapped.find("  - stream: long_sessions");
  const size_t metrics_at = swapped.find("metrics:");
  const std::string short_def = swapped.substr(short_at, long_at - short_at);
  const std::string long_def = swapped.substr(long_at, metrics_at - long_at);
  swapped.replace(short_at, metrics_at - short_at, long_def + short_def);
  OperatorHarness before(kSessions);
  for (TimeMs t : {0, 5'000, 30'000}) AddAt(before, t);
  EXPECT_EQ(before.CloseToLines(25'000), std::vector<std::string>{});
  OperatorHarness after(swapped);
  EXPECT_EQ(after.flow->AdoptState(*before.flow), after.flow->state_count());
  AddAt(after, 38'000);
  EXPECT_EQ(Sorted(after.CloseToLines(10 * 60'000)), kWant);
}

// Joins that differ only in their bounds: the same.
TEST(StreamMetricKeysTest, MetricsOfJoinsThatDifferOnlyInTheirBoundsHaveTheirOwnKeys) {
  OperatorHarness h(R"(
joins:
  - join: near
    left: {where: type == "message"}
    right: {where: type == "feedback"}
    on: k
    within: 10s after
    emit: {rated: matched()}
  - join: far
    left: {where: type == "message"}
    right: {where: type == "feedback"}
    on: k
    within: 60s after
    emit: {rated: matched()}
metrics:
  - {metric: near_per_5m, from: near, window: tumbling 5m, value: count()}
  - {metric: far_per_5m, from: far, window: tumbling 5m, value: count()}
)");
  std::set<std::string> states, shapes;
  for (const auto& op : h.flow->metric_ops()) {
    EXPECT_TRUE(states.insert(op->state_key()).second) << op->state_key();
    EXPECT_TRUE(shapes.insert(op->shape_key()).second) << op->shape_key();
  }
  h.AddJson(R"({"ts":0,"type":"message","k":"a"})");
  h.AddJson(R"({"ts":30000,"type":"feedback","k":"a"})");
  EXPECT_EQ(Sorted(h.CloseToLines(10 * 60'000)),
            (std::vector<std::string>{"far_per_5m[0,300000)=1"}));
}

}  // namespace
}  // namespace vigil
