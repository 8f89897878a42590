// Loading `streams:` (session windows) and metrics that read them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "rules/rule_set.h"
#include "tests/rules/loader_test_util.h"

namespace vigil {
namespace {

using loader_test::Errors;
using loader_test::Load;

using ::testing::ElementsAre;

constexpr std::string_view kSessions = R"yaml(streams:
  - stream: sessions
    help: one record per chat session
    key: session_id
    where: type != "circuit_breaker"
    window: session 30m
    emit:
      turns: count(type == "message")
      escalated: any(type == "escalation")
      all_cached: all(cache_hit)
      converted: any(type == "add_to_cart") and any(intent == "recommendation")
      first_intent: first(intent)
      slowest_ms: max(latency_ms)
metrics:
  - metric: resolution_rate
    from: sessions
    where: turns > 0
    window: tumbling 1d
    value: 1 - ratio(escalated)
  - metric: escalation_rate_by_intent
    from: sessions
    by: [first_intent]
    window: tumbling 1d
    value: ratio(escalated)
  - metric: session_turns
    from: sessions
    window: tumbling 1h
    value: avg(turns)
)yaml";

TEST(StreamLoaderTest, LoadsAStreamAndTheMetricsThatReadIt) {
  RuleLoadResult r = Load(kSessions);
  for (const Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.rules->streams.size(), 1u);
  const StreamDef& s = r.rules->streams[0];
  EXPECT_EQ(s.name, "sessions");
  EXPECT_EQ(s.gap, 30 * 60 * 1000);
  EXPECT_EQ(s.key_path, "session_id");
  EXPECT_EQ(r.rules->fields.path(s.key_slot), "session_id");
  EXPECT_TRUE(s.has_where);
  // The record's fields: key, duration, then the emits in file order.
  ASSERT_EQ(s.fields.size(), 8);
  EXPECT_EQ(s.fields.path(kStreamKeySlot), "session_id");
  EXPECT_EQ(s.fields.path(kStreamDurationSlot), "duration_ms");
  EXPECT_EQ(s.fields.path(kStreamFirstEmitSlot), "turns");
  EXPECT_EQ(s.fields.path(kStreamFirstEmitSlot + 4), "first_intent");
  ASSERT_EQ(s.emit.size(), 6u);
  EXPECT_EQ(s.emit[0].type, Type::kNumber);
  EXPECT_EQ(s.emit[1].type, Type::kBool);
  EXPECT_EQ(s.emit[2].type, Type::kBool);
  EXPECT_EQ(s.emit[3].type, Type::kBool);
  EXPECT_EQ(s.emit[3].aggregates.size(), 2u);
  EXPECT_EQ(s.emit[3].aggregates[0].kind, AggKind::kAny);
  EXPECT_EQ(s.emit[4].aggregates[0].kind, AggKind::kFirst);
  EXPECT_EQ(s.emit[5].aggregates[0].kind, AggKind::kMax);
  // Event fields the stream reads are event slots, as for metrics.
  EXPECT_TRUE(r.rules->fields.Find("cache_hit").has_value());

  const MetricDef& res = r.rules->metrics[0];
  EXPECT_EQ(res.from, 0);
  const MetricDef& by_intent = r.rules->metrics[1];
  EXPECT_EQ(by_intent.by, std::vector<std::string>{"first_intent"});
  EXPECT_EQ(by_intent.by_slots, std::vector<int>{kStreamFirstEmitSlot + 4});
  // A record field is never an event field: turns is not in the event table.
  EXPECT_FALSE(r.rules->fields.Find("turns").has_value());
}

TEST(StreamLoaderTest, FingerprintsChangeWithTheDefinition) {
  RuleLoadResult a = Load(kSessions);
  std::string changed(kSessions);
  changed.replace(changed.find("session 30m"), 11, "session 20m");
  RuleLoadResult b = Load(changed);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a.rules->streams[0].fingerprint, b.rules->streams[0].fingerprint);
  EXPECT_EQ(a.rules->metrics[0].fingerprint, b.rules->metrics[0].fingerprint);
}

TEST(StreamLoaderTest, StreamErrorsPointAtTheirPlace) {
  EXPECT_THAT(Errors(R"yaml(streams:
  - stream: s
    key: session_id
    window: tumbling 1m
    emit: {n: count()}
)yaml"),
              ElementsAre("r.yaml:4:13: a stream's window is a session window, e.g. 'session "
                          "30m'; tumbling windows belong to metrics"));
  EXPECT_THAT(Errors(R"yaml(streams:
  - stream: s
    key: session_id
    window: session -5m
    emit: {n: count()}
)yaml"),
              ElementsAre("r.yaml:4:13: bad session gap '-5m': a positive duration such as 30m "
                          "or 7d"));
  EXPECT_THAT(Errors(R"yaml(streams:
  - stream: s
    key: session_id
    window: session 30m
    emit:
      n: count()
      m: rate()
      f: intent
      duration_ms: max(latency_ms)
      ts: max(latency_ms)
)yaml"),
              ElementsAre("r.yaml:7:10: 'rate' is per second of a window; over a session use "
                          "count() or count(...) / duration_ms in a metric",
                          "r.yaml:8:10: field 'intent' must be inside an aggregate, e.g. "
                          "avg(intent) or last(intent)",
                          "r.yaml:9:7: stream 's' already has a field 'duration_ms' (every "
                          "record carries its key and duration_ms)",
                          "r.yaml:10:7: 'ts' is not an emitted field: every record carries its "
                          "ts (its event time); name the field otherwise, e.g. 'last_ts'"));
  // A key named like a field every record carries would take its place.
  EXPECT_THAT(Errors(R"yaml(streams:
  - stream: s
    key: duration.ms
    window: session 30m
    emit: {n: count()}
  - stream: t
    key: ts
    window: session 30m
    emit: {n: count()}
)yaml"),
              ElementsAre("r.yaml:3:10: the key 'duration.ms' would be the field 'duration_ms' "
                          "of every record, which already carries 'duration_ms' (the "
                          "session's length); key by another field",
                          "r.yaml:7:10: the key 'ts' would be the field 'ts' of every record, "
                          "which already carries 'ts' (its event time); key by another field"));
  EXPECT_THAT(Errors(R"yaml(streams:
  - stream: s
    key: session_id
    window: session 30m
    emit:
      n: 2
)yaml"),
              ElementsAre("r.yaml:6:10: field 'n' needs an aggregate over the session's events, "
                          "e.g. count(), any(type == \"escalation\") or first(intent)"));
  EXPECT_THAT(Errors(R"yaml(streams:
  - stream: s
    key: session_id
    window: session 30m
    emitt: {n: count()}
)yaml"),
              ElementsAre("r.yaml:5:5: unknown field 'emitt' in stream; did you mean 'emit'?",
                          "r.yaml:2:5: a stream needs 'emit': a mapping of field: aggregate "
                          "expression, e.g. turns: count(type == \"message\")"));
}

// A field a stream or join passes on unchanged has the event field's type:
// read downstream as another, it is an error at the emit; read as a type
// the event field had no expectation of, the event field gets it.
TEST(StreamLoaderTest, AFieldPassedOnKeepsTheEventFieldsType) {
  EXPECT_THAT(Errors(R"yaml(schema:
  s: string
  k: string
streams:
  - stream: st
    key: k
    window: session 10s
    emit:
      first_s: first(s)
joins:
  - join: j
    left: {where: type == "a"}
    right: {where: type == "b"}
    on: k
    within: 1m after
    emit: {rs: right.s}
metrics:
  - {metric: m1, from: st, window: tumbling 1m, value: ratio(first_s)}
  - {metric: m2, from: j, window: tumbling 1m, value: avg(rs)}
)yaml"),
              // A join's emit already has its field's type where the schema
              // declares it; a stream's first() is checked once all is read.
              ElementsAre("r.yaml:19:59: 'rs' is a string, expected a number",
                          "r.yaml:9:7: field 'first_s' of stream 'st' is first(s), and the rules "
                          "read it as a boolean: field 's' is declared a string in the schema "
                          "but used as a boolean here"));
  RuleLoadResult r = Load(R"yaml(streams:
  - stream: st
    key: k
    window: session 10s
    emit: {last_x: last(x), n: count()}
metrics:
  - {metric: m, from: st, window: tumbling 1m, value: avg(last_x)}
)yaml");
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  EXPECT_EQ(r.rules->fields.expected(*r.rules->fields.Find("x")), Type::kNumber);
}

TEST(StreamLoaderTest, MetricsFromAStreamReadOnlyItsFields) {
  std::string base(kSessions.substr(0, kSessions.find("metrics:")));
  EXPECT_THAT(Errors(base + R"yaml(metrics:
  - metric: a
    from: sesions
    window: tumbling 1d
    value: count()
  - metric: b
    from: sessions
    where: latency_ms > 100
    window: tumbling 1d
    value: avg(turn)
  - metric: c
    from: sessions
    by: [intent]
    window: tumbling 1d
    value: ratio(turns)
  - metric: d
    from: sessions
    window: session 1d
    value: count()
)yaml"),
              ElementsAre("r.yaml:16:11: unknown stream 'sesions'; did you mean 'sessions'?",
                          "r.yaml:21:12: stream 'sessions' has no field 'latency_ms'; its "
                          "fields: session_id, duration_ms, turns, escalated, all_cached, "
                          "converted, first_intent, slowest_ms",
                          "r.yaml:23:16: stream 'sessions' has no field 'turn'; did you mean "
                          "'turns'?",
                          "r.yaml:26:10: stream 'sessions' has no field 'intent'; its fields: "
                          "session_id, duration_ms, turns, escalated, all_cached, converted, "
                          "first_intent, slowest_ms",
                          "r.yaml:28:18: 'turns' is a number, expected a boolean",
                          "r.yaml:31:13: session windows are defined under 'streams:'; a metric "
                          "reads the sessions with 'from: STREAM' over a tumbling or sliding "
                          "window"));
}

TEST(StreamLoaderTest, SessionAggregatesStayOutOfMetrics) {
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    window: tumbling 1m
    value: ratio(any(x))
)yaml"),
              ::testing::SizeIs(1));
  EXPECT_THAT(Errors(R"yaml(metrics:
  - metric: m
    window: tumbling 1m
    value: first(latency_ms)
)yaml"),
              ElementsAre("r.yaml:4:12: 'first' is an aggregate of session streams, not of a "
                          "metric"));
}

}  // namespace
}  // namespace vigil
