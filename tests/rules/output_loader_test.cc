// Loading `outputs:`: records of a stream or join, or events, written out.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rules/rule_set.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using loader_test::Load;

using ::testing::ElementsAre;

const std::string kJoin = R"yaml(joins:
  - join: rated
    left: {where: type == "message"}
    right: {where: type == "feedback"}
    on: turn_id
    within: 1h after
    emit: {intent: left.intent, rating: right.rating}
)yaml";

TEST(OutputLoaderTest, OutputsOfAJoinAndOfEvents) {
  RuleLoadResult r = Load(kJoin + R"yaml(outputs:
  - output: labeling-queue
    from: rated
    where: rating == -1
    fields: [turn_id, intent, rating]
  - output: all_rated
    from: rated
  - output: escalations
    where: type == "escalation"
    fields: [session_id, meta.reason]
)yaml");
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.rules->outputs.size(), 3u);
  const OutputDef& q = r.rules->outputs[0];
  EXPECT_EQ(q.name, "labeling-queue");
  EXPECT_EQ(q.from, 0);
  EXPECT_TRUE(q.has_where);
  EXPECT_EQ(q.fields, (std::vector<std::string>{"turn_id", "intent", "rating"}));
  EXPECT_EQ(q.slots, (std::vector<int>{kStreamKeySlot, 2, 3}));
  // Without fields: every field of the join's records.
  EXPECT_EQ(r.rules->outputs[1].fields,
            (std::vector<std::string>{"turn_id", "delay_ms", "intent", "rating"}));
  const OutputDef& e = r.rules->outputs[2];
  EXPECT_EQ(e.from, -1);
  EXPECT_EQ(r.rules->fields.path(e.slots[1]), "meta.reason");
}

TEST(OutputLoaderTest, OutputErrorsPointAtTheirPlace) {
  EXPECT_THAT(Errors(kJoin + R"yaml(outputs:
  - output: q
    from: rate
)yaml"),
              ElementsAre("r.yaml:10:11: unknown stream or join 'rate'; did you mean 'rated'?"));
  EXPECT_THAT(Errors(kJoin + R"yaml(outputs:
  - output: q
    from: rated
    fields: [intent, latency_ms, ts]
)yaml"),
              ElementsAre(::testing::StartsWith("r.yaml:11:22: stream 'rated' has no field "
                                                "'latency_ms'"),
                          "r.yaml:11:34: 'ts' is not a field name (every record carries its ts)"));
  EXPECT_THAT(Errors(kJoin + R"yaml(outputs:
  - output: q
    where: type == "escalation"
)yaml"),
              ElementsAre("r.yaml:9:5: an output of events needs 'fields': the event fields to "
                          "write, e.g. [session_id, intent]"));
  EXPECT_THAT(Errors(kJoin + R"yaml(outputs:
  - output: labeling queue
    from: rated
  - output: q
    from: rated
  - output: q
    from: rated
    where: rating = 1
)yaml"),
              ElementsAre("r.yaml:9:13: output name 'labeling queue' must be letters, digits, '_' "
                          "and '-', starting with a letter or digit (it names a directory or "
                          "topic)",
                          "r.yaml:13:13: output 'q' is already defined at r.yaml:11:13"));
}

TEST(OutputLoaderTest, ANameIsNotAFlagAndAFieldIsWrittenOnce) {
  EXPECT_THAT(Errors(kJoin + R"yaml(outputs:
  - output: "-"
    from: rated
  - output: -q
    from: rated
  - output: 2-q_
    from: rated
    fields: [intent, rating, intent]
  - output: e
    fields: [session_id, meta.reason, session_id]
)yaml"),
              ElementsAre("r.yaml:9:13: output name '-' must be letters, digits, '_' and '-', "
                          "starting with a letter or digit (it names a directory or topic)",
                          "r.yaml:11:13: output name '-q' must be letters, digits, '_' and '-', "
                          "starting with a letter or digit (it names a directory or topic)",
                          "r.yaml:15:30: field 'intent' is already in 'fields'; a record holds "
                          "each field once",
                          "r.yaml:17:39: field 'session_id' is already in 'fields'; a record "
                          "holds each field once"));
}

}  // namespace
}  // namespace vigil
