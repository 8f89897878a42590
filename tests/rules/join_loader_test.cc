// Loading `joins:` (interval joins) and metrics that read them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rules/rule_set.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using loader_test::Load;

using ::testing::ElementsAre;

constexpr std::string_view kJoin = R"yaml(joins:
  - join: rated_turns
    help: each rated turn with its rating
    left:  {where: type == "message"}
    right: {where: type == "feedback"}
    on: turn_id
    within: 24h after
    kind: left
    emit: {intent: left.intent, latency_ms: left.latency_ms, rating: right.rating,
           rated: matched(), slow: left.latency_ms > 5000, waited_ms: right.ts - left.ts}
metrics:
  - metric: thumbs_up_rate
    from: rated_turns
    where: rated
    by: [intent]
    window: tumbling 1h
    value: ratio(rating == 1)
)yaml";

// A join with `within:` and `emit:` replaced.
std::string Join(std::string_view within, std::string_view emit, std::string_view extra = "") {
  return std::string(
             "joins:\n  - join: j\n    left: {where: type == \"message\"}\n"
             "    right: {where: type == \"feedback\"}\n    on: turn_id\n"
             "    within: ") +
         std::string(within) + "\n    emit: " + std::string(emit) + "\n" + std::string(extra);
}

TEST(JoinLoaderTest, LoadsAJoinAndTheMetricsThatReadIt) {
  RuleLoadResult r = Load(kJoin);
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.rules->streams.size(), 1u);
  const StreamDef& s = r.rules->streams[0];
  EXPECT_EQ(s.kind, StreamKind::kJoin);
  EXPECT_EQ(s.name, "rated_turns");
  EXPECT_EQ(s.key_path, "turn_id");
  EXPECT_EQ(s.join.lower, 0);
  EXPECT_EQ(s.join.upper, 24 * 3600 * 1000);
  EXPECT_TRUE(s.join.keep_unmatched_left);
  EXPECT_FALSE(s.join.dead_letter_unmatched_right);
  EXPECT_EQ(s.limit, kDefaultJoinLimit);
  EXPECT_TRUE(Load(Join("1m after", "{r: right.rating}", "    unmatched_right: dead_letter\n"))
                  .rules->streams[0]
                  .join.dead_letter_unmatched_right);
  ASSERT_EQ(s.fields.size(), 8);
  EXPECT_EQ(s.fields.path(kStreamKeySlot), "turn_id");
  EXPECT_EQ(s.fields.path(kJoinDelaySlot), "delay_ms");
  EXPECT_EQ(s.fields.path(2), "intent");
  EXPECT_EQ(s.fields.path(7), "waited_ms");
  // One pair slot per distinct name: left.intent, left.latency_ms,
  // right.rating, matched(), right.ts, left.ts.
  ASSERT_EQ(s.join.inputs.size(), 6u);
  EXPECT_EQ(s.join.inputs[0].kind, PairInput::Kind::kLeftField);
  EXPECT_EQ(r.rules->fields.path(s.join.inputs[0].event_slot), "intent");
  EXPECT_EQ(s.join.inputs[2].kind, PairInput::Kind::kRightField);
  EXPECT_EQ(s.join.inputs[3].kind, PairInput::Kind::kMatched);
  EXPECT_EQ(s.join.inputs[4].kind, PairInput::Kind::kRightTs);
  EXPECT_EQ(s.join.inputs[5].kind, PairInput::Kind::kLeftTs);
  EXPECT_EQ(s.emit[3].type, Type::kBool);
  EXPECT_EQ(s.emit[4].type, Type::kBool);
  EXPECT_EQ(s.emit[5].type, Type::kNumber);
  // The emits' use types the event fields: latency_ms is a number.
  EXPECT_EQ(r.rules->fields.expected(*r.rules->fields.Find("latency_ms")), Type::kNumber);
  EXPECT_EQ(r.rules->metrics[0].from, 0);
  EXPECT_EQ(r.rules->metrics[0].by_slots, std::vector<int>{2});
}

TEST(JoinLoaderTest, BoundsInEveryForm) {
  auto bounds = [](std::string_view within) {
    RuleLoadResult r = Load(Join(within, "{r: right.rating}"));
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
    if (!r.ok()) return std::pair<DurationMs, DurationMs>{-1, -1};
    return std::pair{r.rules->streams[0].join.lower, r.rules->streams[0].join.upper};
  };
  EXPECT_EQ(bounds("2m after"), (std::pair<DurationMs, DurationMs>{0, 120000}));
  EXPECT_EQ(bounds("5m before"), (std::pair<DurationMs, DurationMs>{-300000, 0}));
  EXPECT_EQ(bounds("-1m .. 24h"), (std::pair<DurationMs, DurationMs>{-60000, 86400000}));
  EXPECT_EQ(bounds("0 .. 0"), (std::pair<DurationMs, DurationMs>{0, 0}));
  EXPECT_EQ(bounds("1m .. 5m"), (std::pair<DurationMs, DurationMs>{60000, 300000}));
}

TEST(JoinLoaderTest, FingerprintsChangeWithTheDefinition) {
  RuleLoadResult a = Load(Join("2m after", "{r: right.rating}"));
  RuleLoadResult b = Load(Join("3m after", "{r: right.rating}"));
  RuleLoadResult c = Load(Join("2m after", "{r: right.rating}", "    kind: left\n"));
  RuleLoadResult d = Load(Join("2m after", "{r: right.rating}"));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok() && d.ok());
  EXPECT_NE(a.rules->streams[0].fingerprint, b.rules->streams[0].fingerprint);
  EXPECT_NE(a.rules->streams[0].fingerprint, c.rules->streams[0].fingerprint);
  EXPECT_EQ(a.rules->streams[0].fingerprint, d.rules->streams[0].fingerprint);
}

TEST(JoinLoaderTest, JoinErrorsPointAtTheirPlace) {
  EXPECT_THAT(Errors(Join("24h later", "{r: right.rating}")),
              ElementsAre("r.yaml:6:13: bad join bound '24h later': write 'D after' (right.ts in "
                          "[left.ts, left.ts + D]), 'D before' (right.ts in [left.ts - D, "
                          "left.ts]) or 'A .. B' (right.ts - left.ts in [A, B], e.g. -1m .. 24h)"));
  EXPECT_THAT(Errors(Join("5m .. 1m", "{r: right.rating}")),
              ElementsAre("r.yaml:6:13: join bound '5m .. 1m' is empty: the first end must not "
                          "be after the second"));
  EXPECT_THAT(Errors(Join("400d after", "{r: right.rating}")),
              ElementsAre("r.yaml:6:13: join bound '400d after' spans more than 366d; a join "
                          "holds each event that long"));
  EXPECT_THAT(Errors(Join("1m after", "{r: rating}")),
              ElementsAre("r.yaml:7:15: 'rating' is not a side's field: write left.rating or "
                          "right.rating (a join's emit reads both events)"));
  EXPECT_THAT(Errors(Join("1m after", "{r: count()}")),
              ElementsAre("r.yaml:7:15: unknown function 'count' in a join's emit; it reads "
                          "left.FIELD, right.FIELD, left.ts, right.ts and matched() (aggregate "
                          "the join's records in a metric with from:)"));
  EXPECT_THAT(Errors(Join("1m after", "{r: matched(1)}")),
              ElementsAre("r.yaml:7:15: matched() takes no arguments"));
  EXPECT_THAT(Errors(Join("1m after", "{r: right.ts == \"x\"}")),
              ElementsAre("r.yaml:7:15: 'right.ts' is a number, expected a string"));
  EXPECT_THAT(Errors(Join("1m after", "{delay_ms: right.rating}")),
              ElementsAre("r.yaml:7:12: join 'j' already has a field 'delay_ms' (every record "
                          "carries its key and delay_ms)"));
  std::string on_delay = Join("1m after", "{r: right.rating}");
  on_delay.replace(on_delay.find("on: turn_id"), 11, "on: delay_ms");
  EXPECT_THAT(Errors(on_delay),
              ElementsAre("r.yaml:5:9: the key 'delay_ms' would be the field 'delay_ms' of every "
                          "record, which already carries 'delay_ms' (right.ts - left.ts); "
                          "key by another field"));
  // A second "ts" in each record would hide its event time from JSON readers.
  EXPECT_THAT(Errors(Join("1m after", "{ts: left.ts}")),
              ElementsAre("r.yaml:7:12: 'ts' is not an emitted field: every record carries its "
                          "ts (its event time); name the field otherwise, e.g. 'left_ts'"));
  EXPECT_THAT(Errors(Join("1m after", "{r: right.rating}", "    kind: outer\n")),
              ElementsAre("r.yaml:8:11: a join's kind is 'inner' (pairs only) or 'left' (also "
                          "each left event no right matched), not 'outer'"));
  EXPECT_THAT(Errors(Join("1m after", "{r: right.rating}", "    unmatched_right: drop\n")),
              ElementsAre("r.yaml:8:22: unmatched_right is 'count' (vigil_join_unmatched_total "
                          "only) or 'dead_letter' (also to the dead-letter output), not 'drop'"));
  EXPECT_THAT(Errors(R"yaml(joins:
  - join: j
    right: {where: type == "feedback"}
    on: turn_id
    within: 1m after
    emit: {r: right.rating}
)yaml"),
              ElementsAre("r.yaml:2:5: a join needs 'left': the events of that side, e.g. "
                          "left: {where: type == \"message\"}"));
  EXPECT_THAT(
      Errors(R"yaml(joins:
  - join: j
    left: {where: type == "message", when: x}
    right: {where: type = "feedback"}
    on: turn id
    within: 1m after
)yaml"),
      ElementsAre("r.yaml:3:38: unknown field 'when' in a join's left; did you mean 'where'?",
                  "r.yaml:4:25: unexpected '='; use '==' to compare",
                  "r.yaml:5:9: 'turn id' is not a field path (e.g. turn_id); both sides are "
                  "joined on it"));
  // A join and a stream share the names metrics read `from:`.
  EXPECT_THAT(Errors(std::string("streams:\n  - stream: j\n    key: session_id\n"
                                 "    window: session 30m\n    emit: {n: count()}\n") +
                     Join("1m after", "{r: right.rating}")),
              ElementsAre("r.yaml:7:11: join 'j' is already defined at r.yaml:2:13"));
}

TEST(JoinLoaderTest, MetricsFromAJoinReadOnlyItsFields) {
  EXPECT_THAT(Errors(Join("1m after", "{r: right.rating}") + R"yaml(metrics:
  - metric: m
    from: j
    window: tumbling 1m
    value: avg(latency_ms)
)yaml"),
              ElementsAre(::testing::HasSubstr("stream 'j' has no field 'latency_ms'")));
}

}  // namespace
}  // namespace vigil
