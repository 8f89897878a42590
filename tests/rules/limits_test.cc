// Rule-file limits and field bounds: windows over the pane limit, `limit:`
// of metrics and streams, and the `schema:` section, each error with its
// exact `file:line:col:` text.
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rules/rule_set.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using loader_test::Load;

using ::testing::ElementsAre;

std::string Diagnostics(const RuleLoadResult& r) {
  std::string s;
  for (const Diagnostic& d : r.errors) s += d.ToString() + "\n";
  return s;
}

// --- Panes per window ------------------------------------------------------

TEST(RuleLimitsTest, WindowOverThePaneLimitIsAnErrorWithThePaneCount) {
  // The rule that aborted `vigil run` with std::bad_alloc.
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    export: true
    window: sliding 1d every 1ms
    value: count()
)yaml"),
              ElementsAre("r.yaml:4:13: window 'sliding 1d every 1ms' needs 86400000 panes of "
                          "1ms per window (the gcd of size and slide); the limit is 10000: use a "
                          "longer slide"));
  // In a stream's downstream metric too.
  EXPECT_THAT(Errors(R"yaml(streams:
  - stream: s
    key: session_id
    window: session 30m
    emit:
      turns: count()
metrics:
  - metric: m
    export: true
    from: s
    window: sliding 7d every 1m
    value: avg(turns)
)yaml"),
              ElementsAre("r.yaml:11:13: window 'sliding 1w every 1m' needs 10080 panes of 1m "
                          "per window (the gcd of size and slide); the limit is 10000: use a "
                          "longer slide"));
}

TEST(RuleLimitsTest, WindowsUnderThePaneLimitLoad) {
  RuleLoadResult r = Load(R"yaml(metrics:
  - metric: m
    export: true
    window: sliding 1d every 10s
    value: count()
)yaml");
  ASSERT_TRUE(r.ok()) << Diagnostics(r);
  EXPECT_EQ(r.rules->metrics[0].window.panes_per_window(), 8640);
}

// --- limit: ------------------------------------------------------------------

TEST(RuleLimitsTest, MetricAndStreamLimits) {
  RuleLoadResult r = Load(R"yaml(streams:
  - stream: s
    key: session_id
    window: session 30m
    limit: 500
    emit:
      turns: count()
metrics:
  - metric: by_session
    export: true
    where: type == "message"
    window: tumbling 1m
    by: session_id
    limit: 2
    value: count()
  - metric: plain
    export: true
    from: s
    window: tumbling 1m
    value: avg(turns)
)yaml");
  ASSERT_TRUE(r.ok()) << Diagnostics(r);
  EXPECT_EQ(r.rules->metrics[0].limit, 2);
  EXPECT_EQ(r.rules->metrics[1].limit, kDefaultSeriesLimit);
  EXPECT_EQ(kDefaultSeriesLimit, 10000);
  EXPECT_EQ(r.rules->streams[0].limit, 500);
  EXPECT_EQ(kDefaultSessionLimit, 10'000'000);
}

TEST(RuleLimitsTest, BadLimits) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: a
    export: true
    window: tumbling 1m
    limit: 0
    value: count()
  - metric: b
    export: true
    window: tumbling 1m
    limit: lots
    value: count()
  - metric: c
    export: true
    window: tumbling 1m
    limit: 2147483648
    value: count()
  - metric: d
    export: true
    window: tumbling 1m
    limit: [1]
    value: count()
  - metric: e
    export: true
    window: tumbling 1m
    limit: 1.5
    value: count()
streams:
  - stream: s
    key: session_id
    window: session 30m
    limit: -3
    emit:
      turns: count()
)yaml"),
              ElementsAre("r.yaml:31:12: 'limit' must be a whole number from 1 to 2147483647 "
                          "(the most open sessions at once), not '-3'",
                          "r.yaml:5:12: 'limit' must be a whole number from 1 to 2147483647 (the "
                          "most groups at once), not '0'",
                          "r.yaml:10:12: 'limit' must be a whole number from 1 to 2147483647 "
                          "(the most groups at once), not 'lots'",
                          "r.yaml:15:12: 'limit' must be a whole number from 1 to 2147483647 "
                          "(the most groups at once), not '2147483648'",
                          "r.yaml:20:12: 'limit' must be a whole number from 1 to 2147483647 "
                          "(the most groups at once), not ''",
                          "r.yaml:25:12: 'limit' must be a whole number from 1 to 2147483647 "
                          "(the most groups at once), not '1.5'"));
}

// --- schema: -----------------------------------------------------------------

TEST(RuleSchemaTest, BoundsAFieldAndMakesItANumber) {
  RuleLoadResult r = Load(R"yaml(schema:
  latency_ms: {min: 0, max: 3600000}
  meta.score: {max: 1.5}
  rating:
    min: -1
metrics:
  - metric: p99
    export: true
    where: type == "message"
    window: tumbling 1m
    value: quantile(0.99, latency_ms)
)yaml");
  ASSERT_TRUE(r.ok()) << Diagnostics(r);
  const RuleSet& rules = *r.rules;
  ASSERT_EQ(rules.schema.size(), 3u);
  EXPECT_EQ(rules.schema[0].path, "latency_ms");
  EXPECT_EQ(rules.schema[0].pos.line, 2);
  EXPECT_EQ(rules.schema[0].pos.col, 3);
  const int latency = *rules.fields.Find("latency_ms");
  EXPECT_EQ(rules.schema[0].slot, latency);
  ASSERT_TRUE(rules.fields.range(latency).has_value());
  EXPECT_EQ(rules.fields.range(latency)->min, 0);
  EXPECT_EQ(rules.fields.range(latency)->max, 3600000);
  EXPECT_EQ(rules.fields.expected(latency), Type::kNumber);
  // Fields no rule reads are still bounded: the parser reads them for it.
  const int score = *rules.fields.Find("meta.score");
  EXPECT_TRUE(std::isinf(rules.fields.range(score)->min));
  EXPECT_EQ(rules.fields.range(score)->max, 1.5);
  const int rating = *rules.fields.Find("rating");
  EXPECT_EQ(rules.fields.range(rating)->min, -1);
  EXPECT_TRUE(std::isinf(rules.fields.range(rating)->max));
  EXPECT_FALSE(rules.fields.range(*rules.fields.Find("type")).has_value());
}

TEST(RuleSchemaTest, Errors) {
  EXPECT_THAT(Errors(R"yaml(schema:
  latency_ms: {min: 0, maximum: 10}
  a b: {min: 0}
  ts: {min: 0}
  llm_calls: {}
  price: 5
  rating: {min: low}
  turns: {min: 10, max: 5}
  cost: {max: 1e999}
)yaml"),
              ElementsAre("r.yaml:2:24: unknown field 'maximum' in schema field 'latency_ms'; "
                          "allowed: type, min, max",
                          "r.yaml:3:3: 'a b' is not a field path (e.g. latency_ms, meta.region)",
                          "r.yaml:4:3: 'ts' cannot be bounded in 'schema'; only other numeric "
                          "fields",
                          "r.yaml:5:14: field 'llm_calls' in 'schema' needs 'type', 'min' or 'max'",
                          "r.yaml:6:10: field 'price' in 'schema': type '5' is not one of "
                          "number, string, bool",
                          "r.yaml:7:17: 'min' of field 'rating' must be a number, not 'low'",
                          "r.yaml:8:10: field 'turns' has min 10 above max 5",
                          "r.yaml:9:15: 'max' of field 'cost' must be a number, not '1e999'"));
  EXPECT_THAT(Errors("schema: [latency_ms]\n"),
              ElementsAre("r.yaml:1:9: 'schema' must be a mapping of field path: "
                          "type or {type: ..., min: ..., max: ...}"));
}

TEST(RuleSchemaTest, ABoundedFieldReadAsAStringIsAnError) {
  EXPECT_THAT(Errors(R"yaml(schema:
  intent: {min: 0}
metrics:
  - metric: faq
    export: true
    where: intent == "faq"
    window: tumbling 1m
    value: count()
)yaml"),
              ElementsAre("r.yaml:6:12: field 'intent' is declared a number in the schema "
                          "but used as a string here"));
}

TEST(RuleSchemaTest, AFieldBoundedInTwoFilesNamesTheFirst) {
  RuleLoadResult r = LoadRuleSources({{"a.yaml", "schema:\n  latency_ms: {max: 10}\n"},
                                      {"b.yaml", "\nschema:\n  latency_ms: {max: 20}\n"}});
  ASSERT_FALSE(r.ok());
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(),
            "b.yaml:3:3: field 'latency_ms' is already bounded at a.yaml:2:3");
}

TEST(RuleSchemaTest, TheReferenceRulesBoundLatency) {
  RuleLoadResult r = LoadRuleFiles({std::string(VIGIL_SOURCE_DIR) + "/deploy/rules/chatbot.yaml"});
  ASSERT_TRUE(r.ok()) << Diagnostics(r);
  const int latency = *r.rules->fields.Find("latency_ms");
  ASSERT_TRUE(r.rules->fields.range(latency).has_value());
  EXPECT_EQ(r.rules->fields.range(latency)->min, 0);
  EXPECT_EQ(r.rules->fields.range(latency)->max, 3600000);
}

}  // namespace
}  // namespace vigil
