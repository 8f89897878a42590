// Session streams end to end through the operators: the records a stream
// emits, and the metrics that read them.
#include "operators/dataflow/session_operator.h"

#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr TimeMs kMin = 60'000;

constexpr char kRules[] = R"yaml(
streams:
  - stream: sessions
    key: session_id
    window: session 30m
    emit:
      turns: count(type == "message")
      escalated: any(type == "escalation")
      converted: any(type == "add_to_cart") and any(intent == "recommendation")
      first_intent: first(intent)
      last_intent: last(intent)
      slowest: max(latency_ms)
      all_fast: all(type != "message" or latency_ms < 1000)
      users: distinct(user_id)
metrics:
  - metric: sessions_closed
    from: sessions
    window: tumbling 1h
    value: count()
  - metric: resolution_rate
    from: sessions
    window: tumbling 1h
    value: 1 - ratio(escalated)
  - metric: escalation_by_first_intent
    from: sessions
    by: [first_intent]
    window: tumbling 1h
    value: ratio(escalated)
  - metric: avg_turns
    from: sessions
    window: tumbling 1h
    value: avg(turns)
  - metric: conversion
    from: sessions
    where: duration_ms > 0
    window: tumbling 1h
    value: ratio(converted)
  - metric: messages
    where: type == "message"
    window: tumbling 1h
    value: count()
)yaml";

std::string Message(const std::string& session, TimeMs ts, const std::string& intent, int latency,
                    const std::string& user = "u1") {
  return StrCat(R"({"ts":)", ts, R"(,"type":"message","session_id":")", session, R"(","user_id":")",
                user, R"(","intent":")", intent, R"(","latency_ms":)", latency, "}");
}
std::string Other(const std::string& session, TimeMs ts, const std::string& type,
                  const std::string& more = "") {
  return StrCat(R"({"ts":)", ts, R"(,"type":")", type, R"(","session_id":")", session, R"(")", more,
                "}");
}

class SessionStreamTest : public ::testing::Test {
 protected:
  SessionStreamTest() : h(kRules) {}
  void Feed(SessionOperator& op, const std::string& json) {
    const std::string buf = json + std::string(simdjson::SIMDJSON_PADDING, ' ');
    Event ev;
    ParseError err;
    ASSERT_TRUE(h.parser->Parse(std::string_view(buf).substr(0, json.size()), &ev, &err))
        << err.detail;
    op.Add(ev);
  }
  std::vector<std::string> Close(SessionOperator& op, TimeMs frontier) {
    std::vector<std::string> out;
    op.Close(frontier, [&](const Event& r) { out.push_back(Render(op.def(), r)); });
    return out;
  }
  std::vector<std::string> Windows(TimeMs frontier) {
    std::vector<WindowResult> results;
    std::vector<AlertNotice> notices;
    h.Close(frontier, &results, &notices);
    std::vector<std::string> out;
    for (const WindowResult& r : results) {
      out.push_back(StrCat(r.def->name, "[", r.start / kMin, "m,", r.end / kMin, "m)",
                           r.group.empty() ? "" : "{" + r.group + "}", "=", r.value));
    }
    return out;
  }
  void Chat(const std::function<void(const std::string&)>& add) {
    // s1: faq, recommendation, add to cart, a slow faq answer.
    add(Message("s1", 0, "faq", 500));
    add(Message("s1", 5 * kMin, "recommendation", 800));
    add(Other("s1", 10 * kMin, "add_to_cart", R"(,"user_id":"u1","asin":"B1","price":9.5)"));
    add(Message("s1", 12 * kMin, "faq", 1500));
    // s2: order tracking, escalated to a human.
    add(Message("s2", 2 * kMin, "order_tracking", 300, "u2"));
    add(Other("s2", 4 * kMin, "escalation", R"(,"intent":"order_tracking","reason":"x")"));
    // Not part of any session.
    add(R"({"ts":60000,"type":"circuit_breaker","service":"bedrock","state":"open"})");
  }
  OperatorHarness h;
};

TEST_F(SessionStreamTest, EmitsOneRecordPerClosedSessionWithItsFields) {
  SessionOperator op(h.rules->streams[0]);
  Chat([&](const std::string& e) { Feed(op, e); });
  EXPECT_EQ(op.open_sessions(), 2u);
  // s2 ends at 4m + 30m, s1 at 12m + 30m.
  EXPECT_TRUE(Close(op, 34 * kMin - 1).empty());
  EXPECT_EQ(Close(op, 34 * kMin),
            std::vector<std::string>{
                StrCat("@", 34 * kMin - 1,
                       " session_id=s2 duration_ms=120000 turns=1 escalated=true converted=false "
                       "first_intent=order_tracking last_intent=order_tracking slowest=300 "
                       "all_fast=true users=1")});
  EXPECT_EQ(Close(op, 60 * kMin),
            std::vector<std::string>{
                StrCat("@", 42 * kMin - 1,
                       " session_id=s1 duration_ms=720000 turns=3 escalated=false converted=true "
                       "first_intent=faq last_intent=faq slowest=1500 all_fast=false users=1")});
  EXPECT_EQ(op.open_sessions(), 0u);
  EXPECT_EQ(op.open_keys(), 0u);
  EXPECT_EQ(op.pooled_strings(), 0u);  // every interned intent released
}

TEST_F(SessionStreamTest, MetricsFromTheStreamAggregateItsRecords) {
  Chat([&](const std::string& e) { h.AddJson(e); });
  // At 59m both sessions have closed, but the hour window is still open.
  EXPECT_TRUE(Windows(59 * kMin).empty());
  EXPECT_EQ(Windows(60 * kMin),
            (std::vector<std::string>{"sessions_closed[0m,60m)=2", "resolution_rate[0m,60m)=0.5",
                                      "escalation_by_first_intent[0m,60m){faq}=0",
                                      "escalation_by_first_intent[0m,60m){order_tracking}=1",
                                      "avg_turns[0m,60m)=2", "conversion[0m,60m)=0.5",
                                      "messages[0m,60m)=4"}));
}

TEST_F(SessionStreamTest, ASessionClosingAtAFrontierIsInTheWindowsClosedThere) {
  // One message at 29m 59.999s: the session ends exactly at the hour, so
  // its record (at 59m 59.999s) lands in the first hour, and the hour
  // window closing at the same frontier includes it.
  h.AddJson(Message("s", 30 * kMin - 1, "faq", 100));
  EXPECT_EQ(Windows(60 * kMin),
            (std::vector<std::string>{"sessions_closed[0m,60m)=1", "resolution_rate[0m,60m)=1",
                                      "escalation_by_first_intent[0m,60m){faq}=0",
                                      "avg_turns[0m,60m)=1", "messages[0m,60m)=1"}));
}

TEST_F(SessionStreamTest, GapBoundaries) {
  SessionOperator op(h.rules->streams[0]);
  Feed(op, Message("a", 0, "faq", 1));
  Feed(op, Message("a", 30 * kMin - 1, "faq", 2));  // inside the gap: same session
  Feed(op, Message("a", 60 * kMin - 1, "faq", 3));  // exactly the gap after: a new one
  std::vector<std::string> records = Close(op, kMaxTime - 31 * kMin);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0].find("duration_ms=1799999 turns=2"), std::string::npos) << records[0];
  EXPECT_NE(records[1].find("duration_ms=0 turns=1"), std::string::npos) << records[1];
}

// Events at the same time: first keeps the smallest value, last the
// largest, in whichever order they come (as a metric's last does).
TEST_F(SessionStreamTest, TiesOfEventTimeGoByValueNotArrival) {
  for (bool swapped : {false, true}) {
    SCOPED_TRACE(swapped);
    SessionOperator op(h.rules->streams[0]);
    const std::string a = Message("s", 1000, "faq", 1), b = Message("s", 1000, "returns", 2);
    Feed(op, swapped ? b : a);
    Feed(op, swapped ? a : b);
    Feed(op, Message("s", 500, "order", 3));
    const std::vector<std::string> records = Close(op, kMaxTime - 31 * kMin);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_NE(records[0].find("first_intent=order last_intent=returns"), std::string::npos)
        << records[0];
    SessionOperator tie(h.rules->streams[0]);
    Feed(tie, swapped ? b : a);
    Feed(tie, swapped ? a : b);
    const std::vector<std::string> tied = Close(tie, kMaxTime - 31 * kMin);
    ASSERT_EQ(tied.size(), 1u);
    EXPECT_NE(tied[0].find("first_intent=faq last_intent=returns"), std::string::npos) << tied[0];
  }
}

// first(x) and last(x) skip an event whose x is null as they skip one
// without x: a producer writing "intent": null or leaving it out makes the
// same record.
TEST_F(SessionStreamTest, FirstAndLastSkipNullAsTheySkipAMissingField) {
  SessionOperator op(h.rules->streams[0]);
  for (const char* blank : {"", R"(,"intent":null)"}) {
    const std::string tail = StrCat(R"(","user_id":"u1","latency_ms":5)", blank, "}");
    const std::string id = *blank ? "null" : "missing";
    // Blank first, then faq, then blank last.
    Feed(op, StrCat(R"({"ts":0,"type":"message","session_id":")", id, tail));
    Feed(op, Message(id, kMin, "faq", 5));
    Feed(op, StrCat(R"({"ts":120000,"type":"message","session_id":")", id, tail));
  }
  std::vector<std::string> got = Close(op, 200 * kMin);
  ASSERT_EQ(got.size(), 2u);
  for (const std::string& r : got) {
    EXPECT_NE(r.find(" first_intent=faq last_intent=faq "), std::string::npos) << r;
  }
  EXPECT_EQ(got[0].substr(got[0].find(" duration_ms")), got[1].substr(got[1].find(" duration_ms")));
}

TEST_F(SessionStreamTest, OutOfOrderEventsMergeSessions) {
  SessionOperator op(h.rules->streams[0]);
  Feed(op, Message("a", 0, "faq", 100));
  Feed(op, Message("a", 50 * kMin, "recommendation", 200));
  EXPECT_EQ(op.open_sessions(), 2u);
  // Late, 25 minutes from both: one session, the first intent still faq.
  Feed(op, Message("a", 25 * kMin, "chitchat", 300));
  EXPECT_EQ(op.open_sessions(), 1u);
  EXPECT_EQ(op.merged_sessions(), 1u);
  EXPECT_EQ(Close(op, 80 * kMin),
            std::vector<std::string>{
                StrCat("@", 80 * kMin - 1,
                       " session_id=a duration_ms=3e+06 turns=3 escalated=false converted=false "
                       "first_intent=faq last_intent=recommendation slowest=300 all_fast=true "
                       "users=1")});
  // An event that arrives before the first one, far enough to be its own.
  Feed(op, Message("b", 100 * kMin, "faq", 1));
  Feed(op, Message("b", 60 * kMin, "returns", 1));
  EXPECT_EQ(Close(op, 200 * kMin).size(), 2u);
}

TEST_F(SessionStreamTest, StateSurvivesAnEncodeDecodeRoundTrip) {
  std::vector<std::string> events;
  Chat([&](const std::string& e) { events.push_back(e); });
  SessionOperator uninterrupted(h.rules->streams[0]);
  for (const std::string& e : events) Feed(uninterrupted, e);
  SessionOperator first(h.rules->streams[0]);
  for (size_t i = 0; i < 3; ++i) Feed(first, events[i]);
  std::unique_ptr<SessionOperator> restored = RestoredSessions(first);
  ASSERT_NE(restored, nullptr);
  SessionOperator& second = *restored;
  for (size_t i = 3; i < events.size(); ++i) Feed(second, events[i]);
  EXPECT_EQ(Close(second, kMaxTime - 31 * kMin), Close(uninterrupted, kMaxTime - 31 * kMin));
  // A truncated state is refused and leaves the operator as it was.
  Encoder enc;
  first.EncodeState(&enc);
  const std::string bytes = enc.Release();
  Decoder bad(std::string_view(bytes).substr(0, bytes.size() / 2));
  SessionOperator third(h.rules->streams[0]);
  Feed(third, events[0]);
  EXPECT_FALSE(third.DecodeState(&bad));
  EXPECT_EQ(third.open_sessions(), 1u);
}

TEST_F(SessionStreamTest, ReloadKeepsSessionsOfAnUnchangedStream) {
  OperatorHarness next(kRules);
  h.AddJson(Message("s", 0, "faq", 100));
  EXPECT_EQ(next.flow->AdoptState(*h.flow), h.flow->state_count());
  next.AddJson(Message("s", 10 * kMin, "faq", 100));
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  next.Close(60 * kMin, &results, &notices);
  ASSERT_FALSE(results.empty());
  EXPECT_EQ(results[0].def->name, "sessions_closed");
  EXPECT_EQ(results[0].value, 1);
  // avg_turns: one session with both messages.
  auto it = std::find_if(results.begin(), results.end(),
                         [](const WindowResult& r) { return r.def->name == "avg_turns"; });
  ASSERT_NE(it, results.end());
  EXPECT_EQ(it->value, 2);
}

// A stream whose definition a reload (or a restore) changes starts over:
// the sessions open then are lost or cut short, and the metrics reading it
// are named with the gap, for their windows to that far past the last
// event read to be partial. A metric over events is not among them.
TEST_F(SessionStreamTest, AChangedStreamNamesTheMetricsReadingItWithItsGap) {
  std::string changed = kRules;
  changed.replace(changed.find("      users: distinct(user_id)\n"), 0,
                  "      fastest: min(latency_ms)\n");
  h.AddJson(Message("s", 0, "faq", 100));
  const std::vector<std::pair<std::string, std::string>> saved = h.flow->EncodeState();
  std::vector<std::pair<int, DurationMs>> want;
  for (int m = 0; m < 5; ++m) want.emplace_back(m, 30 * kMin);  // all but `messages`
  auto started_over = [](const OperatorHarness& flow) {
    std::vector<std::pair<int, DurationMs>> got = flow.flow->StreamsStartedOver();
    std::sort(got.begin(), got.end());
    return got;
  };
  {
    OperatorHarness before(kRules), unchanged(kRules);
    before.AddJson(Message("s", 0, "faq", 100));
    unchanged.flow->AdoptState(*before.flow);
    EXPECT_TRUE(started_over(unchanged).empty());
  }
  {
    OperatorHarness before(kRules), next(changed);
    before.AddJson(Message("s", 0, "faq", 100));
    next.flow->AdoptState(*before.flow);
    EXPECT_EQ(started_over(next), want);
  }
  // A restore from a checkpoint of the old definition: the same.
  OperatorHarness restored(changed), same(kRules);
  EXPECT_GE(restored.flow->DecodeState(saved), 0);
  EXPECT_EQ(started_over(restored), want);
  EXPECT_GE(same.flow->DecodeState(saved), 0);
  EXPECT_TRUE(started_over(same).empty());
}

// What a metric over a changed stream read before the change stays in its
// panes: a new gap, a join's new bound or an emit it does not read changes
// which records come, not what the fields it reads hold. A changed `where:`
// of a session stream, or a new definition of a field it reads, does: that
// metric starts over.
TEST_F(SessionStreamTest, AMetricOverAChangedStreamKeepsWhatItRead) {
  const std::string stream =
      "streams:\n  - stream: s\n    key: session_id\n    window: session 1m\n"
      "    emit:\n      turns: count()\n";
  const std::string metric =
      "metrics:\n  - metric: turns_closed\n    from: s\n    window: tumbling 10m\n"
      "    value: sum(turns)\n    export: true\n";
  // Session a (two turns) closes at 1m10s, into [0, 10m); b comes after
  // the change.
  auto run = [&](const std::string& changed) {
    OperatorHarness before(stream + metric), next(changed + metric);
    before.AddJson(Message("a", 0, "faq", 100));
    before.AddJson(Message("a", 10'000, "faq", 100));
    std::vector<WindowResult> results;
    std::vector<AlertNotice> notices;
    before.Close(2 * kMin, &results, &notices);
    next.flow->AdoptState(*before.flow);
    next.AddJson(Message("b", 3 * kMin, "faq", 100));
    results.clear();
    next.Close(20 * kMin, &results, &notices);
    return results.empty() ? -1.0 : results[0].value;
  };
  std::string gap = stream, other_emit = stream, where = stream, redefined = stream;
  gap.replace(gap.find("session 1m"), 10, "session 2m");
  other_emit += "      slowest: max(latency_ms)\n";
  where.replace(where.find("    window:"), 0, "    where: type == \"message\"\n");
  redefined.replace(redefined.find("count()"), 7, "count(type == \"message\")");
  EXPECT_EQ(run(stream), 3);
  EXPECT_EQ(run(gap), 3);
  EXPECT_EQ(run(other_emit), 3);
  EXPECT_EQ(run(where), 1);
  EXPECT_EQ(run(redefined), 1);

  // A checkpoint of an earlier version keyed the metric by the stream's
  // whole definition: it still restores.
  OperatorHarness saved_by(stream + metric), restored(stream + metric);
  saved_by.AddJson(Message("a", 0, "faq", 100));
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  saved_by.Close(2 * kMin, &results, &notices);
  std::vector<std::pair<std::string, std::string>> saved = saved_by.flow->EncodeState();
  const std::string key =
      StrCat("from ",
             MetricOperator::RecordFieldsKey(saved_by.rules->streams[0],
                                             {{saved_by.rules->metrics.data(), 0}}),
             "|");
  int renamed = 0;
  for (auto& [k, bytes] : saved) {
    if (!k.starts_with(key)) continue;
    k = StrCat("from ", saved_by.rules->streams[0].fingerprint, "|", k.substr(key.size()));
    ++renamed;
  }
  ASSERT_EQ(renamed, 1);
  std::vector<int> restarted;
  EXPECT_GE(restored.flow->DecodeState(saved, &restarted), 0);
  EXPECT_TRUE(restarted.empty());
  results.clear();
  restored.Close(20 * kMin, &results, &notices);
  ASSERT_FALSE(results.empty());
  EXPECT_EQ(results[0].value, 1);
}

TEST_F(SessionStreamTest, SessionsLeftAfterAWaveOfClosesKeepTheirState) {
  // 10 000 sessions a second apart, two messages each; the last 100 also
  // see a third message after most sessions have closed and the pools
  // have shrunk around them.
  constexpr int kSessions = 10'000;
  // Intents of up to 14 bytes are kept in the session's cells, longer ones
  // in the stream's string pool: both kinds are here.
  const std::string intents[] = {"faq", "returns", "order_tracking_and_delivery"};
  SessionOperator op(h.rules->streams[0]);
  auto id = [](int i) { return "s" + std::to_string(i); };
  for (int i = 0; i < kSessions; ++i) {
    Feed(op, Message(id(i), i * 1000, intents[i % 3], i % 500, "u" + std::to_string(i % 7)));
    Feed(op, Message(id(i), i * 1000 + 60'000, "chitchat", 10, "u" + std::to_string(i % 5)));
  }
  const size_t peak = op.reserved_bytes();
  EXPECT_EQ(op.pooled_strings(), 1u);  // the long intent, once
  // Sessions end at i s + 1 min + 30 min: close all but the last 100.
  EXPECT_EQ(Close(op, (kSessions - 101) * 1000 + 31 * kMin).size(), kSessions - 100u);
  EXPECT_EQ(op.open_sessions(), 100u);
  EXPECT_LT(op.reserved_bytes(), peak / 8);
  for (int i = kSessions - 100; i < kSessions; ++i) {
    Feed(op, Message(id(i), i * 1000 + 120'000, "returns", 2000, "u9"));
  }
  // A checkpoint taken now restores the same sessions.
  std::unique_ptr<SessionOperator> restored_op = RestoredSessions(op);
  ASSERT_NE(restored_op, nullptr);
  SessionOperator& restored = *restored_op;
  std::vector<std::string> rest = Close(op, kMaxTime - 31 * kMin);
  ASSERT_EQ(rest.size(), 100u);
  const int first = kSessions - 100;  // 9900: faq, from u2 then u0 then u9
  EXPECT_EQ(rest.front(),
            StrCat("@", first * 1000 + 120'000 + 30 * kMin - 1, " session_id=s", first,
                   " duration_ms=120000 turns=3 escalated=false converted=false "
                   "first_intent=faq last_intent=returns slowest=2000 "
                   "all_fast=false users=3"));
  // s9902: a pooled first intent, an inline last one.
  EXPECT_NE(rest[2].find(" session_id=s9902 "), std::string::npos) << rest[2];
  EXPECT_NE(rest[2].find(" first_intent=order_tracking_and_delivery last_intent=returns "),
            std::string::npos)
      << rest[2];
  EXPECT_EQ(Close(restored, kMaxTime - 31 * kMin), rest);
  EXPECT_EQ(op.open_sessions(), 0u);
  EXPECT_EQ(op.open_keys(), 0u);
  EXPECT_EQ(op.pooled_strings(), 0u);
  EXPECT_EQ(op.reserved_bytes(), 0u);
}

TEST_F(SessionStreamTest, PrefetchHintsNeverChangeResults) {
  // Two operators get the same events, out of order and merging sessions,
  // with closes in between; one is also hinted, kPrefetchDistance events
  // ahead as the job does, and with events it never gets.
  SessionOperator plain(h.rules->streams[0]);
  SessionOperator hinted(h.rules->streams[0]);
  EventParser hint_parser(h.rules->fields, 1 << 16);
  auto hint = [&](const std::string& json) {
    const std::string buf = json + std::string(simdjson::SIMDJSON_PADDING, ' ');
    Event ev;
    ParseError err;
    ASSERT_TRUE(hint_parser.Parse(std::string_view(buf).substr(0, json.size()), &ev, &err));
    hinted.Prefetch(ev);
  };
  hint(Message("never-added", 0, "faq", 1));  // on an empty table
  // 50 keys, one event each per 40-minute round (a new session each
  // time); every third round a late event 20 minutes back bridges the
  // key's last two sessions into one.
  std::vector<std::string> events;
  const TimeMs base = 600 * kMin;
  for (int i = 0; i < 3000; ++i) {
    const std::string key = "s" + std::to_string(i % 50);
    const TimeMs t = base + (i / 50) * 40 * kMin;
    events.push_back(i % 5 == 0 ? Other(key, t, "escalation")
                                : Message(key, t, "faq", i % 900, "u" + std::to_string(i % 13)));
    if ((i / 50) % 3 == 2) events.push_back(Message(key, t - 20 * kMin, "returns", 7));
  }
  const size_t ahead = SessionOperator::kPrefetchDistance;
  for (size_t i = 0; i < ahead; ++i) hint(events[i]);
  std::vector<std::string> out_plain, out_hinted;
  for (size_t i = 0; i < events.size(); ++i) {
    if (i + ahead < events.size()) hint(events[i + ahead]);
    if (i % 97 == 0) hint(Message("s" + std::to_string(i % 211), 1, "x", 1));  // never added
    Feed(plain, events[i]);
    Feed(hinted, events[i]);
    if (i % 500 == 499) {
      const TimeMs frontier = base + static_cast<TimeMs>(i / 60) * 40 * kMin - 120 * kMin;
      for (std::string& r : Close(plain, frontier)) out_plain.push_back(std::move(r));
      for (std::string& r : Close(hinted, frontier)) out_hinted.push_back(std::move(r));
    }
  }
  for (std::string& r : Close(plain, kMaxTime - 31 * kMin)) out_plain.push_back(std::move(r));
  for (std::string& r : Close(hinted, kMaxTime - 31 * kMin)) out_hinted.push_back(std::move(r));
  EXPECT_GT(out_plain.size(), 50u * 20);  // keys had many sessions each
  EXPECT_EQ(out_hinted, out_plain);
  EXPECT_GT(plain.merged_sessions(), 0u);
  EXPECT_EQ(hinted.merged_sessions(), plain.merged_sessions());
  EXPECT_EQ(hinted.open_keys(), 0u);
}

TEST(SessionLimitTest, EventsThatWouldOpenASessionOverTheLimitAreDroppedAndCounted) {
  OperatorHarness h(R"yaml(
streams:
  - stream: sessions
    key: session_id
    window: session 30m
    limit: 2
    emit:
      turns: count()
metrics:
  - metric: sessions_closed
    from: sessions
    window: tumbling 1h
    value: count()
)yaml");
  SessionOperator op(h.rules->streams[0]);
  auto feed = [&](const std::string& session, TimeMs ts) {
    const std::string json =
        StrCat(R"({"ts":)", ts, R"(,"type":"message","session_id":")", session, R"("})");
    const std::string buf = json + std::string(simdjson::SIMDJSON_PADDING, ' ');
    Event ev;
    ParseError err;
    ASSERT_TRUE(h.parser->Parse(std::string_view(buf).substr(0, json.size()), &ev, &err));
    op.Add(ev);
  };
  feed("s1", 0);
  feed("s2", kMin);
  feed("s3", 2 * kMin);   // a third open session: dropped
  feed("s1", 3 * kMin);   // extends s1: taken
  feed("s3", 4 * kMin);   // dropped again
  feed("s2", 40 * kMin);  // s2's gap has passed: a new session of s2, dropped
  EXPECT_EQ(op.open_sessions(), 2u);
  EXPECT_EQ(op.TakeDropped(), 3u);
  EXPECT_EQ(op.TakeDropped(), 0u);
  std::vector<std::string> records;
  op.Close(31 * kMin, [&](const Event& r) { records.push_back(Render(op.def(), r)); });
  EXPECT_EQ(records, std::vector<std::string>{
                         StrCat("@", 31 * kMin - 1, " session_id=s2 duration_ms=0 turns=1")});
  // One session closed: the next new one is taken.
  feed("s3", 32 * kMin);
  feed("s4", 32 * kMin);  // s1 (to 33m) and s3 open: dropped
  EXPECT_EQ(op.TakeDropped(), 1u);
  records.clear();
  op.Close(kMaxTime, [&](const Event& r) { records.push_back(Render(op.def(), r)); });
  EXPECT_EQ(records, (std::vector<std::string>{
                         StrCat("@", 33 * kMin - 1, " session_id=s1 duration_ms=180000 turns=2"),
                         StrCat("@", 62 * kMin - 1, " session_id=s3 duration_ms=0 turns=1")}));
}

// At the limit, sessions past their gap as of the event (the frontier the
// job gives with each event) make room, whether or not a Close has
// reached them: where batches end changes nothing.
TEST(SessionLimitTest, SessionsPastTheirGapMakeRoomBeforeAnyClose) {
  OperatorHarness h(R"yaml(
streams:
  - stream: s
    key: k
    window: session 10s
    limit: 2
    emit:
      n: count()
)yaml");
  const std::vector<std::pair<std::string, TimeMs>> input = {
      {"a", 0}, {"b", 1000}, {"c", 2000}, {"a", 3000}, {"c", 20000}, {"d", 21000}, {"e", 22000}};
  // close_at: a Close after that event, at the frontier as of the next.
  auto run = [&](size_t close_at, uint64_t* dropped) {
    SessionOperator op(h.rules->streams[0]);
    std::vector<std::string> records;
    auto collect = [&](const Event& r) { records.push_back(Render(op.def(), r)); };
    op.SetDownstream(collect);
    TimeMs max_ts = kMinTime;
    for (size_t i = 0; i < input.size(); ++i) {
      // The watermark as of the previous event, 5 s of out-of-orderness.
      op.SetFrontier(max_ts == kMinTime ? kMinTime : max_ts - 5000);
      const std::string json =
          StrCat(R"({"ts":)", input[i].second, R"(,"type":"m","k":")", input[i].first, R"("})");
      const std::string buf = json + std::string(simdjson::SIMDJSON_PADDING, ' ');
      Event ev;
      ParseError err;
      EXPECT_TRUE(h.parser->Parse(std::string_view(buf).substr(0, json.size()), &ev, &err));
      op.Add(ev);
      max_ts = std::max(max_ts, input[i].second);
      if (i == close_at) op.Close(max_ts - 5000, collect);
    }
    op.Close(kMaxTime, collect);
    *dropped = op.TakeDropped();
    return records;
  };
  // c at 2 s finds a and b open; so does c at 20 s (the frontier, 3 s - 5 s,
  // has passed neither). At d (frontier 15 s) a and b have ended: d and e
  // open sessions.
  const std::vector<std::string> want = {
      "@10999 k=b duration_ms=0 n=1", "@12999 k=a duration_ms=3000 n=2",
      "@30999 k=d duration_ms=0 n=1", "@31999 k=e duration_ms=0 n=1"};
  for (size_t close_at : {size_t{99}, size_t{0}, size_t{3}, size_t{4}, size_t{5}}) {
    uint64_t dropped = 0;
    EXPECT_EQ(run(close_at, &dropped), want) << "a Close after event " << close_at;
    EXPECT_EQ(dropped, 2u) << "a Close after event " << close_at;
  }
}

TEST(SessionLimitTest, TheDefaultLimitAndAnUnlimitedStreamDropNothing) {
  OperatorHarness h{std::string(kRules)};
  EXPECT_EQ(h.rules->streams[0].limit, kDefaultSessionLimit);
  SessionOperator op(h.rules->streams[0]);
  EXPECT_EQ(op.TakeDropped(), 0u);
}

}  // namespace
}  // namespace vigil
