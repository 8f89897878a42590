#include "operators/dataflow/join_operator.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

// Turns (left) and their ratings (right), within 10 s after the turn.
const char* const kRules = R"(
joins:
  - join: rated
    left: {where: type == "message"}
    right: {where: type == "feedback"}
    on: turn_id
    within: 10s after
    kind: left
    emit:
      intent: left.intent
      rating: right.rating
      rated: matched()
      rated_at: right.ts
metrics:
  - metric: thumbs_up_rate
    from: rated
    where: rated
    by: [intent]
    window: tumbling 1m
    value: ratio(rating == 1)
  - metric: unrated_turns
    from: rated
    where: not rated
    window: tumbling 1m
    value: count()
)";

std::string Turn(const std::string& turn, TimeMs ts, const std::string& intent) {
  return StrCat(R"({"ts":)", ts, R"(,"type":"message","turn_id":")", turn, R"(","intent":")",
                intent, R"("})");
}

std::string Rating(const std::string& turn, TimeMs ts, int rating) {
  return StrCat(R"({"ts":)", ts, R"(,"type":"feedback","turn_id":")", turn, R"(","rating":)",
                rating, "}");
}

class JoinOperatorTest : public ::testing::Test {
 protected:
  explicit JoinOperatorTest(const char* rules = kRules) : h(rules) {}

  std::unique_ptr<JoinOperator> NewOp() {
    return std::make_unique<JoinOperator>(h.rules->streams[0]);
  }
  void Feed(JoinOperator& op, const std::string& json) {
    const std::string buf = json + std::string(simdjson::SIMDJSON_PADDING, ' ');
    Event ev;
    ParseError err;
    ASSERT_TRUE(h.parser->Parse(std::string_view(buf).substr(0, json.size()), &ev, &err))
        << err.detail;
    op.Add(ev);
  }
  std::vector<std::string> Close(JoinOperator& op, TimeMs frontier) {
    std::vector<std::string> out;
    op.Close(frontier, [&](const Event& r) { out.push_back(Render(op.def(), r)); });
    return out;
  }
  std::string Encode(const std::vector<const KeyedOperator*>& parts) {
    Encoder enc;
    parts[0]->EncodeStates(parts, &enc);
    return enc.Release();
  }

  OperatorHarness h;
};

TEST_F(JoinOperatorTest, PairsInsideTheBoundAndNotOnePastIt) {
  auto op = NewOp();
  Feed(*op, Turn("t1", 1000, "faq"));
  Feed(*op, Rating("t1", 999, 1));     // 1 ms before the turn
  Feed(*op, Rating("t1", 10999, -1));  // bound - 1 ms
  Feed(*op, Rating("t1", 11000, 1));   // the bound itself: inclusive
  Feed(*op, Rating("t1", 11001, 1));   // bound + 1 ms
  EXPECT_EQ(op->open_sessions(), 5u);
  EXPECT_EQ(Close(*op, 20000),
            (std::vector<std::string>{
                "@10999 turn_id=t1 delay_ms=9999 intent=faq rating=-1 rated=true rated_at=10999",
                "@11000 turn_id=t1 delay_ms=10000 intent=faq rating=1 rated=true rated_at=11000",
            }));
  // The turn matched twice; the two ratings outside the bound never did.
  EXPECT_EQ(op->TakeUnmatched(), (std::pair<uint64_t, uint64_t>{0, 2}));
  EXPECT_EQ(op->open_sessions(), 0u);
  EXPECT_EQ(op->open_keys(), 0u);
  EXPECT_EQ(op->emitted(), 2u);
}

// After a wave of expiries the state gives its memory back, and the events
// still waiting pair as before.
TEST_F(JoinOperatorTest, MemoryComesBackAfterAWaveOfExpiries) {
  auto op = NewOp();
  for (int i = 0; i < 20000; ++i) Feed(*op, Turn(StrCat("w", i), 1000, "faq"));
  Feed(*op, Turn("late", 15000, "faq"));
  const size_t full = op->memory_bytes();
  EXPECT_EQ(Close(*op, 11001).size(), 20000u);  // the wave, unmatched
  EXPECT_EQ(op->open_sessions(), 1u);
  EXPECT_LT(op->memory_bytes() * 4, full) << op->memory_bytes() << " of " << full;
  Feed(*op, Rating("late", 16000, 1));
  EXPECT_EQ(Close(*op, 99999),
            (std::vector<std::string>{
                "@16000 turn_id=late delay_ms=1000 intent=faq rating=1 rated=true rated_at=16000",
            }));
  EXPECT_EQ(op->open_keys(), 0u);
}

TEST_F(JoinOperatorTest, EitherSideMayArriveFirst) {
  auto op = NewOp();
  Feed(*op, Rating("t2", 5000, 1));  // the rating before its turn arrives
  Feed(*op, Turn("t1", 1000, "faq"));
  Feed(*op, Turn("t2", 2000, "order_tracking"));
  Feed(*op, Rating("t1", 3000, -1));
  EXPECT_EQ(Close(*op, 4000), (std::vector<std::string>{
                                  "@3000 turn_id=t1 delay_ms=2000 intent=faq rating=-1 "
                                  "rated=true rated_at=3000",
                              }));
  EXPECT_EQ(Close(*op, 20000), (std::vector<std::string>{
                                   "@5000 turn_id=t2 delay_ms=3000 intent=order_tracking "
                                   "rating=1 rated=true rated_at=5000",
                               }));
}

TEST_F(JoinOperatorTest, AnUnmatchedTurnIsEmittedOnceWhenTheWatermarkPassesItsBound) {
  auto op = NewOp();
  Feed(*op, Turn("t1", 1000, "faq"));
  EXPECT_TRUE(Close(*op, 11000).empty());  // a rating at 11000 could still come
  EXPECT_EQ(op->open_sessions(), 1u);
  EXPECT_EQ(Close(*op, 11001), (std::vector<std::string>{
                                   "@11000 turn_id=t1 delay_ms=- intent=faq rating=- "
                                   "rated=false rated_at=-",
                               }));
  EXPECT_TRUE(Close(*op, 99999).empty());
  EXPECT_EQ(op->TakeUnmatched(), (std::pair<uint64_t, uint64_t>{1, 0}));
  EXPECT_EQ(op->open_sessions(), 0u);
}

TEST_F(JoinOperatorTest, RecordsComeOutInOrderOfTimeThenKeyWhateverTheArrival) {
  auto a = NewOp(), b = NewOp();
  const std::vector<std::string> events = {
      Turn("t2", 1000, "faq"), Turn("t1", 1000, "chitchat"), Rating("t2", 4000, 1),
      Rating("t1", 4000, -1),  Rating("t1", 2000, 1),        Turn("t3", 500, "faq"),
      Rating("t3", 4000, 1),
  };
  for (const std::string& e : events) Feed(*a, e);
  for (auto it = events.rbegin(); it != events.rend(); ++it) Feed(*b, *it);
  const std::vector<std::string> expected = {
      "@2000 turn_id=t1 delay_ms=1000 intent=chitchat rating=1 rated=true rated_at=2000",
      "@4000 turn_id=t1 delay_ms=3000 intent=chitchat rating=-1 rated=true rated_at=4000",
      "@4000 turn_id=t2 delay_ms=3000 intent=faq rating=1 rated=true rated_at=4000",
      "@4000 turn_id=t3 delay_ms=3500 intent=faq rating=1 rated=true rated_at=4000",
  };
  EXPECT_EQ(Close(*a, 5000), expected);
  EXPECT_EQ(Close(*b, 5000), expected);
}

TEST_F(JoinOperatorTest, ACheckpointMidStreamGivesTheUninterruptedRecords) {
  const std::vector<std::string> first = {Turn("t1", 1000, "faq"), Turn("t2", 1500, "faq"),
                                          Rating("t1", 3000, 1), Rating("t9", 3500, 1)};
  const std::vector<std::string> second = {Rating("t2", 6000, -1), Rating("t1", 7000, 1),
                                           Turn("t3", 8000, "chitchat")};
  auto whole = NewOp();
  std::vector<std::string> expected;
  for (const std::string& e : first) Feed(*whole, e);
  for (const std::string& r : Close(*whole, 2000)) expected.push_back(r);
  for (const std::string& e : second) Feed(*whole, e);
  for (const std::string& r : Close(*whole, 30000)) expected.push_back(r);

  auto before = NewOp();
  std::vector<std::string> got;
  for (const std::string& e : first) Feed(*before, e);
  for (const std::string& r : Close(*before, 2000)) got.push_back(r);
  const std::string bytes = Encode({before.get()});
  auto after = NewOp();
  Decoder dec(bytes);
  ASSERT_TRUE(after->DecodeState(&dec));
  EXPECT_EQ(after->open_sessions(), before->open_sessions());
  EXPECT_EQ(after->pending_records(), 1u);  // t1's first rating, at 3000
  for (const std::string& e : second) Feed(*after, e);
  for (const std::string& r : Close(*after, 30000)) got.push_back(r);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(expected.size(), 4u);  // t1 twice, t2, and t3 unmatched
}

// One key with several turns and ratings, in mixed order, expiring from the
// front, middle and end of what the key holds: each pair comes once,
// through a checkpoint or not.
TEST_F(JoinOperatorTest, ManyTurnsAndRatingsOfOneKeyPairOnceEach) {
  const std::vector<std::string> first = {Rating("k", 5000, 1), Turn("k", 1000, "a"),
                                          Turn("k", 4000, "b")};
  const std::vector<std::string> second = {Rating("k", 12000, -1)};
  const std::vector<std::string> third = {Turn("k", 13000, "c"), Rating("k", 20000, 1)};
  auto run = [&](bool checkpoint) {
    auto op = NewOp();
    std::vector<std::string> got;
    for (const std::string& e : first) Feed(*op, e);
    EXPECT_TRUE(Close(*op, 4500).empty());
    if (checkpoint) {
      const std::string bytes = Encode({op.get()});
      op = NewOp();
      Decoder dec(bytes);
      EXPECT_TRUE(op->DecodeState(&dec));
    }
    for (const std::string& e : second) Feed(*op, e);
    for (const std::string& r : Close(*op, 11500)) got.push_back(r);  // the first turn expires
    EXPECT_EQ(op->open_sessions(), 2u);                               // and the first rating
    for (const std::string& e : third) Feed(*op, e);
    for (const std::string& r : Close(*op, 99999)) got.push_back(r);
    EXPECT_EQ(op->TakeUnmatched(), (std::pair<uint64_t, uint64_t>{0, 0}));
    EXPECT_EQ(op->open_keys(), 0u);
    return got;
  };
  const std::vector<std::string> expected = {
      "@5000 turn_id=k delay_ms=4000 intent=a rating=1 rated=true rated_at=5000",
      "@5000 turn_id=k delay_ms=1000 intent=b rating=1 rated=true rated_at=5000",
      "@12000 turn_id=k delay_ms=8000 intent=b rating=-1 rated=true rated_at=12000",
      "@20000 turn_id=k delay_ms=7000 intent=c rating=1 rated=true rated_at=20000",
  };
  EXPECT_EQ(run(false), expected);
  EXPECT_EQ(run(true), expected);
}

TEST_F(JoinOperatorTest, StateSplitByKeyEncodesAsOneOperatorAndRestoresOnAnySplit) {
  const std::vector<std::string> events = {Turn("t1", 1000, "faq"), Turn("t2", 1500, "faq"),
                                           Rating("t1", 3000, 1), Rating("t9", 3500, 1),
                                           Turn("t4", 2000, "chitchat")};
  auto one = NewOp();
  auto odd = NewOp(), even = NewOp();
  auto owner = [](std::string_view key) { return (key.back() - '0') % 2; };
  for (const std::string& e : events) {
    Feed(*one, e);
    const char digit = e[e.find("\"turn_id\":\"t") + 12];
    Feed((digit - '0') % 2 ? *odd : *even, e);
  }
  const std::string whole = Encode({one.get()});
  EXPECT_EQ(Encode({odd.get(), even.get()}), whole);
  EXPECT_EQ(Encode({even.get(), odd.get()}), whole);
  // Restored on two workers, by key: each holds its keys only.
  auto w0 = NewOp(), w1 = NewOp();
  Decoder d0(whole), d1(whole);
  ASSERT_TRUE(w0->DecodeState(&d0, [&](std::string_view k) { return owner(k) == 0; }));
  ASSERT_TRUE(w1->DecodeState(&d1, [&](std::string_view k) { return owner(k) == 1; }));
  EXPECT_EQ(w0->open_keys(), 2u);  // t2, t4
  EXPECT_EQ(w1->open_keys(), 2u);  // t1, and t9's rating
  EXPECT_EQ(w0->pending_records() + w1->pending_records(), 1u);
  EXPECT_EQ(Encode({w0.get(), w1.get()}), whole);
}

TEST_F(JoinOperatorTest, ADamagedStateIsRefusedAndTheOldOneKept) {
  auto op = NewOp();
  Feed(*op, Turn("t1", 1000, "faq"));
  std::string bytes = Encode({op.get()});
  bytes.resize(bytes.size() - 2);
  auto other = NewOp();
  Feed(*other, Turn("t7", 1000, "faq"));
  Decoder dec(bytes);
  EXPECT_FALSE(other->DecodeState(&dec));
  EXPECT_EQ(other->open_keys(), 1u);
}

TEST_F(JoinOperatorTest, JoinedRecordsFeedMetricsInTheWindowOfTheirTime) {
  // Two faq turns rated up and down, a chitchat turn rated up twice, and a
  // turn nobody rated: the rates are per intent of the rated turn.
  h.AddJson(Turn("a", 1000, "faq"));
  h.AddJson(Turn("b", 2000, "faq"));
  h.AddJson(Turn("c", 3000, "chitchat"));
  h.AddJson(Turn("d", 55000, "faq"));
  h.AddJson(Rating("a", 5000, 1));
  h.AddJson(Rating("b", 6000, -1));
  h.AddJson(Rating("c", 9000, 1));
  h.AddJson(Rating("c", 9500, 1));
  h.AddJson(Rating("d", 59000, 1));  // lands in the first minute too
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(60000, &results, &notices);
  std::vector<std::string> got;
  for (const WindowResult& r : results) {
    got.push_back(StrCat(r.def->name, "{", r.group, "}=", r.value));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"thumbs_up_rate{chitchat}=1",
                                           "thumbs_up_rate{faq}=0.6666666666666666"}));
  // d's bound ends at 65000: no unrated turn until then.
  results.clear();
  h.AddJson(Turn("e", 61000, "faq"));
  h.Close(120000, &results, &notices);
  got.clear();
  for (const WindowResult& r : results) {
    got.push_back(StrCat(r.def->name, "{", r.group, "}=", r.value));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"unrated_turns{}=1"}));  // e, at 71000
}

TEST_F(JoinOperatorTest, AReloadKeepsTheStateOfAJoinDefinedTheSameWay) {
  auto old = NewOp();
  Feed(*old, Turn("t1", 1000, "faq"));
  Feed(*old, Rating("t1", 2000, 1));  // a record not yet emitted
  // The same rules loaded again: the new operator takes the waiting turn
  // and the pending record over.
  OperatorHarness same(kRules);
  JoinOperator adopted(same.rules->streams[0]);
  ASSERT_TRUE(adopted.AdoptState(*old));
  EXPECT_EQ(adopted.open_sessions(), 2u);
  EXPECT_EQ(adopted.pending_records(), 1u);
  const std::string json = Rating("t1", 3000, -1);
  const std::string buf = json + std::string(simdjson::SIMDJSON_PADDING, ' ');
  Event ev;
  ParseError err;
  ASSERT_TRUE(same.parser->Parse(std::string_view(buf).substr(0, json.size()), &ev, &err));
  adopted.Add(ev);
  std::vector<std::string> out;
  adopted.Close(20000, [&](const Event& r) { out.push_back(Render(adopted.def(), r)); });
  EXPECT_EQ(out, (std::vector<std::string>{
                     "@2000 turn_id=t1 delay_ms=1000 intent=faq rating=1 rated=true rated_at=2000",
                     "@3000 turn_id=t1 delay_ms=2000 intent=faq rating=-1 rated=true rated_at=3000",
                 }));
  // A join defined otherwise (another bound) starts empty.
  std::string changed(kRules);
  changed.replace(changed.find("10s after"), 9, "20s after");
  OperatorHarness other(changed);
  JoinOperator fresh(other.rules->streams[0]);
  auto again = NewOp();
  Feed(*again, Turn("t1", 1000, "faq"));
  EXPECT_FALSE(fresh.AdoptState(*again));
  EXPECT_EQ(fresh.open_sessions(), 0u);
}

class JoinLimitTest : public JoinOperatorTest {
 protected:
  JoinLimitTest()
      : JoinOperatorTest(R"(
joins:
  - join: rated
    left: {where: type == "message"}
    right: {where: type == "feedback"}
    on: turn_id
    within: -1s .. 1s
    limit: 2
    emit: {rating: right.rating}
)") {}
};

TEST_F(JoinLimitTest, OverTheLimitAnEventStillPairsButIsNotKept) {
  auto op = NewOp();
  Feed(*op, Turn("t1", 1000, "faq"));
  Feed(*op, Turn("t2", 1000, "faq"));
  Feed(*op, Rating("t1", 500, 1));     // pairs with t1, not kept
  Feed(*op, Turn("t1", 1200, "faq"));  // not kept: never pairs with the rating
  EXPECT_EQ(op->TakeDropped(), 2u);
  EXPECT_EQ(op->open_sessions(), 2u);
  EXPECT_EQ(Close(*op, 5000),
            (std::vector<std::string>{"@1000 turn_id=t1 delay_ms=-500 rating=1"}));
  // An inner join emits no unmatched turn; t2 is counted.
  EXPECT_EQ(op->TakeUnmatched(), (std::pair<uint64_t, uint64_t>{1, 0}));
}

// At the limit, events that can no longer match (as of the frontier the
// job gives with each event) make room before any Close expires them.
TEST_F(JoinLimitTest, EventsPastTheirBoundMakeRoomBeforeAnyClose) {
  for (bool close_between : {false, true}) {
    auto op = NewOp();
    Feed(*op, Turn("t1", 1000, "faq"));
    Feed(*op, Turn("t2", 1000, "faq"));
    if (close_between) {
      EXPECT_EQ(Close(*op, 2001), std::vector<std::string>{});
    }
    // Both turns wait until 2 s (1 s + within 1 s); the frontier is past it.
    op->SetFrontier(2001);
    Feed(*op, Turn("t3", 3000, "faq"));
    Feed(*op, Rating("t3", 3500, 4));
    EXPECT_EQ(op->TakeDropped(), 0u) << close_between;
    EXPECT_EQ(Close(*op, 5000),
              (std::vector<std::string>{"@3500 turn_id=t3 delay_ms=500 rating=4"}))
        << close_between;
  }
}

// Making room may let go of the waiting events of the key being added,
// the first of its chain among them: the event is then kept at the head of
// what is left of the chain (the job once hung here, looking for the chain
// start it had found before the expiry).
TEST_F(JoinLimitTest, RoomMadeByTheKeysOwnEventsKeepsTheEvent) {
  // t1's first event waits until 2 s (a turn: 1 s + 1 s; a rating: the
  // same, as the bound reaches 1 s back); t2's turn until 2.5 s.
  for (bool right_first : {false, true}) {
    auto op = NewOp();
    Feed(*op, right_first ? Rating("t1", 1000, 2) : Turn("t1", 1000, "faq"));
    Feed(*op, Turn("t2", 1500, "faq"));
    op->SetFrontier(2001);
    Feed(*op, Rating("t1", 3000, 5));  // t1's first event makes room: kept
    // At the limit again (t2 waits until 2.5 s): not kept, but it finds
    // the rating where the chain of t1 starts now, and pairs.
    Feed(*op, Turn("t1", 3500, "faq"));
    EXPECT_EQ(op->TakeDropped(), 1u) << right_first;
    EXPECT_EQ(op->open_sessions(), 2u) << right_first;
    EXPECT_EQ(Close(*op, 10000),
              (std::vector<std::string>{"@3500 turn_id=t1 delay_ms=-500 rating=5"}))
        << right_first;
  }
}

namespace vigil {
namespace {

class JoinDeadLetterTest : public JoinOperatorTest {
 protected:
  JoinDeadLetterTest()
      : JoinOperatorTest(R"(
joins:
  - join: rated
    left: {where: type == "message"}
    right: {where: type == "feedback"}
    on: turn_id
    within: 10s after
    unmatched_right: dead_letter
    emit: {intent: left.intent, rating: right.rating, rated_at: right.ts}
)") {}
};

TEST_F(JoinDeadLetterTest, AnUnmatchedRightIsKeptForTheDeadLetterOutputWhenItExpires) {
  auto op = NewOp();
  Feed(*op, Turn("t1", 1000, "faq"));
  Feed(*op, Rating("t1", 2000, 1));   // matches
  Feed(*op, Rating("t9", 3000, -1));  // its turn never comes
  Feed(*op, Rating("t1", 500, -1));   // before its turn: outside the bound
  std::vector<JoinOperator::UnmatchedRight> out;
  // A right waits for a left up to 10 s before it, so until the watermark
  // passes its own time: the early rating goes first, t9's at 3001.
  EXPECT_EQ(Close(*op, 3000).size(), 1u);
  op->TakeUnmatchedRights(&out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ts, 500);
  EXPECT_EQ(out[0].key, "t1");
  EXPECT_EQ(out[0].json, R"({"ts":"1970-01-01T00:00:00.500Z","turn_id":"t1","rating":-1})");
  out.clear();
  Close(*op, 3001);
  op->TakeUnmatchedRights(&out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].ts, 3000);
  EXPECT_EQ(out[0].key, "t9");
  EXPECT_EQ(out[0].json, R"({"ts":"1970-01-01T00:00:03.000Z","turn_id":"t9","rating":-1})");
  EXPECT_EQ(op->TakeUnmatched(), (std::pair<uint64_t, uint64_t>{0, 2}));
  out.clear();
  Close(*op, 99999);
  op->TakeUnmatchedRights(&out);
  EXPECT_TRUE(out.empty());  // each once
}

TEST_F(JoinOperatorTest, WithoutDeadLetteringUnmatchedRightsAreOnlyCounted) {
  auto op = NewOp();
  Feed(*op, Rating("t9", 3000, -1));
  Close(*op, 99999);
  std::vector<JoinOperator::UnmatchedRight> out;
  op->TakeUnmatchedRights(&out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(op->TakeUnmatched(), (std::pair<uint64_t, uint64_t>{0, 1}));
}

}  // namespace
}  // namespace vigil

// A left join whose emits are only side fields and matched() packs each
// record without evaluating anything: matched() must still say which
// records found their right.
class JoinMatchedOnlyTest : public JoinOperatorTest {
 protected:
  JoinMatchedOnlyTest()
      : JoinOperatorTest(R"(
joins:
  - join: escalated
    left: {where: type == "message"}
    right: {where: type == "feedback"}
    on: turn_id
    within: 10s after
    kind: left
    emit:
      rated: matched()
      intent: left.intent
)") {}
};

TEST_F(JoinMatchedOnlyTest, MatchedIsTrueForAPairAndFalseForAnUnmatchedLeft) {
  auto op = NewOp();
  Feed(*op, Turn("t1", 1000, "faq"));
  Feed(*op, Turn("t2", 2000, "billing"));
  Feed(*op, Rating("t1", 4000, 1));
  EXPECT_EQ(Close(*op, 99999), (std::vector<std::string>{
                                   "@4000 turn_id=t1 delay_ms=3000 rated=true intent=faq",
                                   "@12000 turn_id=t2 delay_ms=- rated=false intent=billing",
                               }));
  EXPECT_EQ(op->TakeUnmatched(), (std::pair<uint64_t, uint64_t>{1, 0}));
}

}  // namespace
}  // namespace vigil
