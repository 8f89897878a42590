// One mistake gives one error: what depends on a broken definition is not
// reported again.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using ::testing::ElementsAre;

TEST(RuleLoaderCascadeTest, ABadWindowIsOneErrorNotOnePerAlertOverTheMetric) {
  EXPECT_THAT(Errors("metrics:\n"
                     "  - metric: p99\n"
                     "    window: tumbling 1 minute\n"
                     "    value: quantile(0.99, latency_ms)\n"
                     "alerts:\n"
                     "  - alert: Slow\n"
                     "    severity: P1\n"
                     "    expr: p99 > 10000\n"
                     "  - alert: SlowAndRising\n"
                     "    severity: P2\n"
                     "    expr: p99 > 5000 and increase(p99, 10m) > 0\n"
                     "    resolve: p99 < 4000\n"),
              ElementsAre(::testing::StartsWith("r.yaml:3:13: ")));
}

TEST(RuleLoaderCascadeTest, AnUnknownMetricIsStillAnError) {
  // A name that no definition has, broken or not, is the mistake itself.
  EXPECT_THAT(Errors("metrics:\n"
                     "  - metric: p99\n"
                     "    window: tumbling 1 minute\n"
                     "    value: quantile(0.99, latency_ms)\n"
                     "alerts:\n"
                     "  - alert: Slow\n"
                     "    severity: P1\n"
                     "    expr: p99 > 10000 and p90 > 1\n"),
              ElementsAre(::testing::StartsWith("r.yaml:3:13: ")));
  EXPECT_THAT(Errors("metrics:\n"
                     "  - metric: p99\n"
                     "    window: tumbling 1m\n"
                     "    value: quantile(0.99, latency_ms)\n"
                     "alerts:\n"
                     "  - alert: Slow\n"
                     "    severity: P1\n"
                     "    expr: p90 > 10000\n"),
              ElementsAre("r.yaml:8:11: unknown metric 'p90'; did you mean 'p99'?"));
}

TEST(RuleLoaderCascadeTest, ABrokenJoinOrStreamIsOneErrorNotOnePerReader) {
  EXPECT_THAT(Errors("joins:\n"
                     "  - join: rated\n"
                     "    left: {where: type == \"message\"}\n"
                     "    right: {where: type == \"feedback\"}\n"
                     "    on: turn_id\n"
                     "    within: 1x after\n"
                     "    emit: {intent: left.intent}\n"
                     "streams:\n"
                     "  - stream: sessions\n"
                     "    key: session_id\n"
                     "    window: session 30 minutes\n"
                     "    emit: {turns: count()}\n"
                     "metrics:\n"
                     "  - metric: rated_turns\n"
                     "    from: rated\n"
                     "    window: tumbling 1m\n"
                     "    value: count()\n"
                     "  - metric: long_sessions\n"
                     "    from: sessions\n"
                     "    window: tumbling 1m\n"
                     "    value: count()\n"
                     "  - metric: other\n"
                     "    from: ratde\n"
                     "    window: tumbling 1m\n"
                     "    value: count()\n"
                     "alerts:\n"
                     "  - alert: FewRated\n"
                     "    severity: P3\n"
                     "    expr: rated_turns < 1\n"
                     "outputs:\n"
                     "  - output: queue\n"
                     "    from: rated\n"),
              ::testing::UnorderedElementsAre(
                  ::testing::StartsWith("r.yaml:6:13: bad join bound '1x'"),
                  ::testing::StartsWith("r.yaml:11:13: "),
                  // A name no definition has, broken or not, is the mistake itself.
                  ::testing::StartsWith("r.yaml:23:11: unknown stream 'ratde'")));
}

}  // namespace
}  // namespace vigil
