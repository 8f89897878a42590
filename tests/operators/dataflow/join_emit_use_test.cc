// A join keeps only the fields something reads (JoinOperator::SetEmitUse,
// Dataflow::SetLeanJoins): what metrics see is the same, the state is
// smaller, and checkpoints move between the two packings.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "base/strings.h"
#include "operators/dataflow/join_operator.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

// `intent` and `rating` are read by a metric; `message` and `comment` only
// by the output.
const char* const kRules = R"(
joins:
  - join: rated
    left: {where: type == "message"}
    right: {where: type == "feedback"}
    on: turn_id
    within: 10s after
    emit:
      intent: left.intent
      message: left.user_message
      comment: right.comment
      rating: right.rating
metrics:
  - metric: thumbs_up_rate
    from: rated
    by: [intent]
    window: tumbling 1m
    value: ratio(rating == 1)
  - metric: last_rating
    from: rated
    window: tumbling 1m
    value: last(rating)
outputs:
  - output: labeling
    from: rated
    fields: [turn_id, message, comment, rating]
)";

const std::vector<bool> kAll = {true, true, true, true};
const std::vector<bool> kMetricsRead = {true, false, false, true};

std::string Turn(const std::string& turn, TimeMs ts, const std::string& intent,
                 const std::string& message) {
  return StrCat(R"({"ts":)", ts, R"(,"type":"message","turn_id":")", turn, R"(","intent":")",
                intent, R"(","user_message":")", message, R"("})");
}

std::string Rating(const std::string& turn, TimeMs ts, int rating, const std::string& comment) {
  return StrCat(R"({"ts":)", ts, R"(,"type":"feedback","turn_id":")", turn, R"(","rating":)",
                rating, R"(,"comment":")", comment, R"("})");
}

class JoinEmitUseTest : public ::testing::Test {
 protected:
  JoinEmitUseTest() : h(kRules) {}

  // A join keeping `kept` and ordering by `sorted` (none: the defaults).
  std::unique_ptr<JoinOperator> NewOp(const std::vector<bool>* kept = nullptr,
                                      const std::vector<bool>* sorted = nullptr) {
    auto op = std::make_unique<JoinOperator>(h.rules->streams[0]);
    if (kept != nullptr) op->SetEmitUse(*kept, *sorted);
    return op;
  }
  void Feed(JoinOperator& op, const std::vector<std::string>& events) {
    for (const std::string& json : events) op.Add(h.Parse(json));
  }
  std::vector<std::string> Close(JoinOperator& op, TimeMs frontier) {
    std::vector<std::string> out;
    op.Close(frontier, [&](const Event& r) { out.push_back(Render(op.def(), r)); });
    return out;
  }
  static std::string Encode(const JoinOperator& op) {
    Encoder enc;
    op.EncodeState(&enc);
    return enc.Release();
  }

  OperatorHarness h;
};

TEST_F(JoinEmitUseTest, ALeanJoinCarriesWhatMetricsReadAndNamesItInItsStateKey) {
  auto full = NewOp();
  auto lean = NewOp(&kMetricsRead, &kMetricsRead);
  const std::string fingerprint = StrCat("join|", h.rules->streams[0].fingerprint);
  EXPECT_EQ(full->state_key(), fingerprint);
  // The inputs in the order the emits read them: left.intent,
  // left.user_message, right.comment, right.rating.
  // A right keeps its every field (right.comment too).
  EXPECT_EQ(lean->state_key(), StrCat(fingerprint, "|packs 0,2,3|emits 0,3"));
  const std::string words(2000, 'w');
  for (int i = 0; i < 1000; ++i) {
    Feed(*full, {Turn(StrCat("t", i), 1000 + i, "faq", words)});
    Feed(*lean, {Turn(StrCat("t", i), 1000 + i, "faq", words)});
  }
  // About 2 kB less per waiting turn (the arenas grow by 256 KiB).
  EXPECT_LT(lean->memory_bytes() + 1000 * 1500, full->memory_bytes());
  Feed(*full, {Rating("t7", 2000, 1, "great")});
  Feed(*lean, {Rating("t7", 2000, 1, "great")});
  EXPECT_EQ(Close(*full, 2001), std::vector<std::string>{StrCat(
                                    "@2000 turn_id=t7 delay_ms=993 intent=faq message=", words,
                                    " comment=great rating=1")});
  EXPECT_EQ(Close(*lean, 2001),
            std::vector<std::string>{"@2000 turn_id=t7 delay_ms=993 "
                                     "intent=faq message=- comment=- rating=1"});
}

// Two ratings of one turn at one millisecond: ordered by what metrics read
// (the rating), not by the comment, whether the comment is kept or not. By
// default every emit orders them, in emit order: the comment first.
TEST_F(JoinEmitUseTest, RecordsOfOneTimeAreOrderedByTheFieldsMetricsReadOnly) {
  const std::vector<std::string> events = {Turn("t1", 1000, "faq", "hi"),
                                           Rating("t1", 2000, -1, "a"), Rating("t1", 2000, 1, "b")};
  auto by_all = NewOp();
  auto tapped = NewOp(&kAll, &kMetricsRead);
  auto lean = NewOp(&kMetricsRead, &kMetricsRead);
  Feed(*by_all, events);
  Feed(*tapped, events);
  Feed(*lean, events);
  EXPECT_EQ(Close(*by_all, 3000),
            (std::vector<std::string>{
                "@2000 turn_id=t1 delay_ms=1000 intent=faq message=hi comment=a rating=-1",
                "@2000 turn_id=t1 delay_ms=1000 intent=faq message=hi comment=b rating=1"}));
  // The packed numbers' bytes order 1 before -1.
  EXPECT_EQ(Close(*tapped, 3000),
            (std::vector<std::string>{
                "@2000 turn_id=t1 delay_ms=1000 intent=faq message=hi comment=b rating=1",
                "@2000 turn_id=t1 delay_ms=1000 intent=faq message=hi comment=a rating=-1"}));
  EXPECT_EQ(Close(*lean, 3000),
            (std::vector<std::string>{
                "@2000 turn_id=t1 delay_ms=1000 intent=faq message=- comment=- rating=1",
                "@2000 turn_id=t1 delay_ms=1000 intent=faq message=- comment=- rating=-1"}));
}

// A lean join restores a full state (an earlier version's, or a job that
// wrote records), and a full one a lean state: what the lean state did not
// keep is missing for the events waiting then (EmitsLackedBy).
TEST_F(JoinEmitUseTest, StatesMoveBetweenPackingsAndLackOnlyWhatOutputsRead) {
  const std::vector<std::string> first = {Turn("t1", 1000, "faq", "hi"),
                                          Turn("t2", 1500, "billing", "bill")};
  const std::vector<std::string> second = {Rating("t1", 3000, 1, "ok"),
                                           Turn("t3", 4000, "faq", "again"),
                                           Rating("t3", 5000, -1, "no"), Rating("t2", 6000, 1, "")};
  auto full = NewOp(&kAll, &kMetricsRead);
  Feed(*full, first);
  const std::string full_state = Encode(*full);
  auto lean = NewOp(&kMetricsRead, &kMetricsRead);
  ASSERT_TRUE(lean->ReadsStateOf(full->state_key()));
  Decoder dec(full_state);
  ASSERT_TRUE(lean->DecodeStateOf(full->state_key(), &dec));
  EXPECT_EQ(lean->open_sessions(), 2u);
  const std::string lean_state = Encode(*lean);
  Feed(*lean, second);
  const std::vector<std::string> lean_records = {
      "@3000 turn_id=t1 delay_ms=2000 intent=faq message=- comment=- rating=1",
      "@5000 turn_id=t3 delay_ms=1000 intent=faq message=- comment=- rating=-1",
      "@6000 turn_id=t2 delay_ms=4500 intent=billing message=- comment=- rating=1"};
  EXPECT_EQ(Close(*lean, 20000), lean_records);

  EXPECT_TRUE(lean->EmitsLackedBy(full->state_key()).empty());
  auto back = NewOp(&kAll, &kMetricsRead);
  ASSERT_TRUE(back->ReadsStateOf(lean->state_key()));
  EXPECT_EQ(back->EmitsLackedBy(lean->state_key()), (std::vector<bool>{false, true, true, false}));
  Decoder again(lean_state);
  ASSERT_TRUE(back->DecodeStateOf(lean->state_key(), &again));
  Feed(*back, second);
  EXPECT_EQ(Close(*back, 20000),
            (std::vector<std::string>{
                "@3000 turn_id=t1 delay_ms=2000 intent=faq message=- comment=ok rating=1",
                "@5000 turn_id=t3 delay_ms=1000 intent=faq message=again comment=no rating=-1",
                "@6000 turn_id=t2 delay_ms=4500 intent=billing message=- comment= rating=1"}));

  // Not another join's state, or a damaged key.
  EXPECT_FALSE(lean->ReadsStateOf("join|other"));
  EXPECT_FALSE(lean->ReadsStateOf(StrCat(full->state_key(), "|packs 0,9|emits 0,3")));
  EXPECT_FALSE(lean->ReadsStateOf(StrCat(full->state_key(), "|packs 0,3")));
}

// A rating waiting in a lean join keeps its comment, which no metric
// reads: a reload that turns `unmatched_right: dead_letter` on while it
// waits dead-letters it whole.
TEST_F(JoinEmitUseTest, ARightKeepsEveryFieldForTheDeadLetter) {
  auto lean = NewOp(&kMetricsRead, &kMetricsRead);
  Feed(*lean, {Rating("t9", 2000, -1, "never answered")});
  const std::string state = Encode(*lean);
  std::string rules = kRules;
  const std::string within = "    within: 10s after\n";
  rules.replace(rules.find(within), within.size(), within + "    unmatched_right: dead_letter\n");
  OperatorHarness reloaded(rules);
  JoinOperator op(reloaded.rules->streams[0]);
  op.SetEmitUse(kMetricsRead, kMetricsRead);
  ASSERT_TRUE(op.ReadsStateOf(lean->state_key()));
  Decoder dec(state);
  ASSERT_TRUE(op.DecodeStateOf(lean->state_key(), &dec));
  op.Close(20'000, [](const Event&) {});
  std::vector<JoinOperator::UnmatchedRight> unmatched;
  op.TakeUnmatchedRights(&unmatched);
  ASSERT_EQ(unmatched.size(), 1u);
  EXPECT_EQ(unmatched[0].key, "t9");
  EXPECT_NE(unmatched[0].json.find(R"("comment":"never answered")"), std::string::npos)
      << unmatched[0].json;
  EXPECT_NE(unmatched[0].json.find(R"("rating":-1)"), std::string::npos) << unmatched[0].json;
}

// A join holding state re-packs it when told to keep less (a worker's part
// built before it follows its whole).
TEST_F(JoinEmitUseTest, KeepingLessWithStateHeldRepacksIt) {
  auto op = NewOp();
  Feed(*op, {Turn("t1", 1000, "faq", std::string(500, 'x'))});
  const size_t before = Encode(*op).size();
  op->SetEmitUse(kMetricsRead, kMetricsRead);
  EXPECT_EQ(op->open_sessions(), 1u);
  EXPECT_LT(Encode(*op).size() + 500, before);
  Feed(*op, {Rating("t1", 2000, 1, "fine")});
  EXPECT_EQ(Close(*op, 3000),
            std::vector<std::string>{
                "@2000 turn_id=t1 delay_ms=1000 intent=faq message=- comment=- rating=1"});
}

// The dataflow of a job that writes no records: the same windows, a smaller
// join, and checkpoints that restore either way.
TEST_F(JoinEmitUseTest, ADataflowWritingNoRecordsGivesTheSameWindows) {
  std::vector<std::string> events;
  for (int i = 0; i < 300; ++i) {
    const TimeMs t = 1000 + i * 400;
    events.push_back(Turn(StrCat("t", i), t, i % 3 == 0 ? "faq" : "billing", "a question"));
    if (i % 2 == 0) events.push_back(Rating(StrCat("t", i), t + 3000, i % 4 == 0 ? 1 : -1, "c"));
  }
  const size_t half = events.size() / 2;
  auto run = [&](bool lean, bool restart_flipped) {
    OperatorHarness job(kRules);
    auto configure = [lean](Dataflow& flow, bool flipped) {
      flow.SetTapping(lean == flipped);
      flow.SetLeanJoins(lean != flipped);
    };
    configure(*job.flow, false);
    std::vector<std::string> lines;
    for (size_t i = 0; i < half; ++i) job.AddJson(events[i]);
    for (const std::string& l : job.CloseToLines(60'000)) lines.push_back(l);
    if (restart_flipped) {
      const auto saved = job.flow->EncodeState();
      auto flow = std::make_unique<Dataflow>(*job.rules);
      configure(*flow, true);
      EXPECT_EQ(flow->DecodeState(saved, nullptr), static_cast<int>(saved.size()) - 1);
      EXPECT_TRUE(flow->StreamsStartedOver().empty());
      job.flow = std::move(flow);
    }
    for (size_t i = half; i < events.size(); ++i) job.AddJson(events[i]);
    for (const std::string& l : job.CloseToLines(10 * 60'000)) lines.push_back(l);
    return lines;
  };
  const std::vector<std::string> expected = run(false, false);
  // Three minutes of ratings: two intents and the last rating in each.
  EXPECT_EQ(expected.size(), 9u);
  EXPECT_EQ(run(true, false), expected);
  EXPECT_EQ(run(true, true), expected);   // lean, then restarted writing records
  EXPECT_EQ(run(false, true), expected);  // writing records, then restarted lean

  OperatorHarness tapped(kRules), lean(kRules);
  lean.flow->SetTapping(false);
  lean.flow->SetLeanJoins(true);
  for (const std::string& e : events) {
    tapped.AddJson(e);
    lean.AddJson(e);
  }
  // The turns waiting keep no message: "a question" less in each.
  auto state_bytes = [](const OperatorHarness& job) {
    Encoder enc;
    job.flow->stream(0).EncodeState(&enc);
    return enc.data().size();
  };
  EXPECT_LT(state_bytes(lean) + 300 * 10, state_bytes(tapped));
  EXPECT_NE(lean.flow->stream(0).state_key(), tapped.flow->stream(0).state_key());
}

// A metric added over an emit the restored state did not keep is partial
// for the join's bound: the records of the turns that waited lack it. The
// join and its other metrics go on.
TEST_F(JoinEmitUseTest, AMetricOverAnEmitTheRestoredStateLackedIsPartialForTheBound) {
  OperatorHarness before(kRules);
  before.flow->SetTapping(false);
  before.flow->SetLeanJoins(true);
  before.AddJson(Turn("t1", 1000, "faq", "hi"));
  // The rules again, with a metric over the message.
  std::string rules = kRules;
  rules.insert(rules.find("outputs:"), R"(  - metric: messages_rated
    from: rated
    where: message != null
    window: tumbling 1m
    value: count()
)");
  OperatorHarness after(rules);
  after.flow->SetTapping(false);
  after.flow->SetLeanJoins(true);
  std::vector<int> restarted;
  ASSERT_GE(after.flow->DecodeState(before.flow->EncodeState(), &restarted), 1);
  EXPECT_EQ(restarted, std::vector<int>{2});  // the new metric has no panes
  EXPECT_EQ(after.flow->StreamsStartedOver(),
            (std::vector<std::pair<int, DurationMs>>{{2, 10'000}}));
  after.AddJson(Rating("t1", 2000, 1, "ok"));
  // The turn waited without its message: no record passes the new where:.
  EXPECT_EQ(after.CloseToLines(60'000),
            (std::vector<std::string>{"thumbs_up_rate[0,60000)faq=1", "last_rating[0,60000)=1"}));
}

// Off, an output whose where: reads an emit no metric reads still notes
// that nothing writes its records: the join keeps what the where: reads.
TEST_F(JoinEmitUseTest, AnOutputsWhereIsKeptForTheNoteThatNothingWritesIt) {
  std::string rules = kRules;
  rules.insert(rules.find("    fields: [turn_id"), "    where: comment == \"bad\"\n");
  OperatorHarness job(rules);
  job.flow->SetTapping(false);
  job.flow->SetLeanJoins(true);
  EXPECT_NE(job.flow->stream(0).state_key().find("|emits 0,2,3"), std::string::npos)
      << job.flow->stream(0).state_key();
  job.AddJson(Turn("t1", 1000, "faq", "hi"));
  job.AddJson(Rating("t1", 2000, -1, "fine"));
  job.CloseToLines(60'000);
  EXPECT_FALSE(job.flow->untapped());
  job.AddJson(Turn("t2", 61'000, "faq", "hi"));
  job.AddJson(Rating("t2", 62'000, -1, "bad"));
  job.CloseToLines(120'000);
  EXPECT_TRUE(job.flow->untapped());
}

}  // namespace
}  // namespace vigil
