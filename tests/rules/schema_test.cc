// `schema:` declaring the events' fields and types: a rule reading a field
// the schema does not name, or reading it as another type, is an error at
// the rule, with the nearest declared name; a schema of bounds only
// declares nothing. Every place a rule names an event field is checked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rules/rule_set.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using loader_test::Load;
using ::testing::ElementsAre;

constexpr std::string_view kSchema = R"yaml(schema:
  latency_ms: {type: number, min: 0, max: 3600000}
  intent: string
  cache_hit: bool
  session_id: {type: string}
  turn_id: string
  rating: number
)yaml";

std::string WithSchema(std::string_view rest) { return std::string(kSchema) + std::string(rest); }

TEST(SchemaDeclarationTest, DeclaredFieldsLoadWithTheirTypes) {
  RuleLoadResult r = Load(WithSchema(R"yaml(metrics:
  - metric: cache_hits
    export: true
    where: type == "message" and cache_hit
    by: [intent]
    window: tumbling 1m
    value: count()
)yaml"));
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  const FieldTable& fields = r.rules->fields;
  EXPECT_TRUE(fields.declaring());
  EXPECT_EQ(fields.expected(*fields.Find("cache_hit")), Type::kBool);
  EXPECT_EQ(fields.expected(*fields.Find("intent")), Type::kString);
  EXPECT_EQ(fields.expected(*fields.Find("turn_id")), Type::kString);
  EXPECT_EQ(fields.expected(*fields.Find("latency_ms")), Type::kNumber);
  EXPECT_TRUE(fields.range(*fields.Find("latency_ms")).has_value());
  EXPECT_EQ(r.rules->schema.size(), 1u);  // the one bounded field
}

TEST(SchemaDeclarationTest, AnUndeclaredFieldIsAnErrorWithTheNearestName) {
  EXPECT_THAT(Errors(WithSchema(R"yaml(metrics:
  - metric: cache_hits
    export: true
    where: type == "message" and cahce_hit
    window: tumbling 1m
    value: count()
  - metric: by_topic
    export: true
    by: [topic]
    window: tumbling 1m
    value: avg(latency_ms)
)yaml")),
              ElementsAre("r.yaml:11:34: field 'cahce_hit' is not in the schema; did you mean "
                          "'cache_hit'?",
                          "r.yaml:16:10: field 'topic' is not in the schema; declare it under "
                          "'schema:' with its type"));
}

TEST(SchemaDeclarationTest, ATypeMismatchIsReportedAtTheRule) {
  EXPECT_THAT(Errors(WithSchema(R"yaml(metrics:
  - metric: slow_share
    export: true
    where: intent > 5
    window: tumbling 1m
    value: count()
)yaml")),
              ElementsAre("r.yaml:11:12: field 'intent' is declared a string in the schema but "
                          "used as a number here"));
}

TEST(SchemaDeclarationTest, StreamKeysJoinSidesAndOutputsAreChecked) {
  EXPECT_THAT(
      Errors(WithSchema(R"yaml(streams:
  - stream: sessions
    key: sesion_id
    window: session 30m
    emit: {turns: count()}
joins:
  - join: rated
    left: {where: type == "message"}
    right: {where: type == "feedback"}
    on: turn_id
    within: 1h after
    emit: {intent: left.intnet, rating: right.rating}
outputs:
  - output: raw
    fields: [intent, latency]
)yaml")),
      ElementsAre("r.yaml:10:10: field 'sesion_id' is not in the schema; did you mean "
                  "'session_id'?",
                  "r.yaml:19:20: field 'intnet' is not in the schema; did you mean 'intent'?",
                  "r.yaml:22:22: field 'latency' is not in the schema; declare it under "
                  "'schema:' with its type"));
}

TEST(SchemaDeclarationTest, TsAndTypeAreAlwaysDeclared) {
  RuleLoadResult r = Load(WithSchema(R"yaml(metrics:
  - metric: messages
    export: true
    where: type == "message"
    window: tumbling 1m
    value: count()
)yaml"));
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
}

TEST(SchemaDeclarationTest, TypeIsAStringWithOrWithoutASchema) {
  // Every event's type is a string: compared with a number, it would make
  // the parser dead-letter every event as wrong_type.
  const std::string metric = R"yaml(metrics:
  - metric: odd
    export: true
    where: type == 5
    window: tumbling 1m
    value: count()
)yaml";
  const char* error =
      "r.yaml:4:12: field 'type' is the event's type, always a string, but is used as a number "
      "here";
  EXPECT_THAT(Errors(metric), ElementsAre(error));
  EXPECT_THAT(Errors(WithSchema(metric)),
              ElementsAre(::testing::EndsWith("field 'type' is the event's type, always a string, "
                                              "but is used as a number here")));
  // A stream's own field named type may hold anything.
  RuleLoadResult stream = LoadRuleSources({{"r.yaml", R"yaml(streams:
  - stream: s
    key: session_id
    window: session 30m
    emit:
      type: count()
metrics:
  - metric: big
    export: true
    from: s
    where: type > 3
    window: tumbling 1m
    value: sum(type)
)yaml"}});
  EXPECT_TRUE(stream.ok()) << stream.errors[0].ToString();
}

TEST(SchemaDeclarationTest, BoundsAloneDeclareNothing) {
  RuleLoadResult r = Load(R"yaml(schema:
  latency_ms: {min: 0}
metrics:
  - metric: topics
    export: true
    by: [topic]
    window: tumbling 1m
    value: avg(latency_ms)
)yaml");
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  EXPECT_FALSE(r.rules->fields.declaring());
}

TEST(SchemaDeclarationTest, ADeclarationInOneFileCoversTheOthers) {
  RuleLoadResult r = LoadRuleSources(
      {{"rules.yaml",
        "metrics:\n  - metric: m\n    export: true\n    where: cahce_hit\n    window: tumbling "
        "1m\n    value: count()\n"},
       {"events.yaml", std::string(kSchema)}});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].ToString(),
            "rules.yaml:4:12: field 'cahce_hit' is not in the schema; did you mean 'cache_hit'?");
}

TEST(SchemaDeclarationTest, BadDeclarationsAreReported) {
  EXPECT_THAT(Errors(R"yaml(schema:
  intent: text
  rating: {type: string, min: 1}
  region: {type: [string]}
)yaml"),
              ElementsAre("r.yaml:2:11: field 'intent' in 'schema': type 'text' is not one of "
                          "number, string, bool",
                          "r.yaml:3:18: field 'rating' has 'min'/'max', so it is a number, not a "
                          "string",
                          "r.yaml:4:18: field 'region' in 'schema': type '' is not one of number, "
                          "string, bool"));
}

}  // namespace
}  // namespace vigil
