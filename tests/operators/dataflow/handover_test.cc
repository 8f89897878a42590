// Hand-over of keyed state with a partition: the reference rules (session
// streams and joins) over generated traffic spread over four partitions by
// session, read by two instances; mid-run one gives a partition to the
// other with the state of its keys. The merged windows are those of one
// Dataflow that read every event, to the bit, with and without workers on
// either side; without the hand-over they are not.
#include "operators/dataflow/handover.h"

#include <gtest/gtest.h>

#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "base/hash.h"
#include "base/strings.h"
#include "operators/dataflow/workers.h"
#include "tests/operators/dataflow/generated_traffic.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr int kPartitions = 4;
constexpr size_t kBatch = 2000;
constexpr DurationMs kLag = 5'000;

// One instance: a Dataflow, with workers or not, tracking key origins.
struct Instance {
  Instance(const RuleSet& rules, int workers) : main(std::make_unique<Dataflow>(rules)) {
    main->TrackOrigins();
    if (workers > 0) {
      pool =
          std::make_unique<Workers>(rules, *main, Workers::Options{workers, "session_id", 1 << 16});
      for (Dataflow* f : pool->flows()) f->TrackOrigins();
    }
  }
  void Add(const std::vector<Record>& batch, EventParser* parser) {
    if (batch.empty()) return;
    if (pool) {
      pool->Parse(batch);
      for (size_t i = 0; i < batch.size(); ++i) {
        ASSERT_TRUE(pool->parsed(i).ok);
        pool->Accept(i);
      }
      pool->Aggregate();
      return;
    }
    for (const Record& r : batch) {
      Event ev;
      ParseError err;
      ASSERT_TRUE(parser->Parse(r.data, &ev, &err)) << err.detail;
      main->Add(ev);
      main->NoteOrigins(r.input, ev);
    }
  }
  void CloseSessions(TimeMs frontier) {
    if (pool) {
      pool->CloseSessions(frontier);
      late += pool->MergePanesInto(main.get());
    }
    main->CloseSessions(frontier);
  }
  std::vector<Dataflow*> flows() {
    std::vector<Dataflow*> out = {main.get()};
    if (pool) {
      for (Dataflow* f : pool->flows()) out.push_back(f);
    }
    return out;
  }
  std::unique_ptr<Dataflow> main;
  std::unique_ptr<Workers> pool;
  uint64_t late = 0;
};

class HandoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuleLoadResult r = LoadRuleFiles({VIGIL_SOURCE_DIR "/deploy/rules/chatbot.yaml"});
    ASSERT_TRUE(r.rules) << (r.errors.empty() ? "" : r.errors[0].ToString());
    rules_ = std::move(r.rules);
    traffic_ = std::make_unique<GeneratedTraffic>(
        11, 30, 60 * 60'000, std::vector<std::string>{"escalation_surge@20m+10m"});
    const std::regex session("\"session_id\":\"([^\"]*)\"");
    for (Record rec : traffic_->records) {
      std::match_results<std::string_view::const_iterator> m;
      // Keyed by session, as the generator writes to Kafka.
      if (std::regex_search(rec.data.begin(), rec.data.end(), m, session)) {
        rec.input = static_cast<int>(HashBytes(m[1].str()) % kPartitions);
      }
      records_.push_back(rec);
    }
  }

  // One Dataflow reading everything, closing windows after every batch.
  std::vector<std::string> RunOne() {
    EventParser parser(rules_->fields, 1 << 16);
    Dataflow flow(*rules_);
    std::vector<WindowResult> results;
    TimeMs max_ts = kMinTime;
    for (size_t i = 0; i < records_.size(); ++i) {
      Event ev;
      ParseError err;
      EXPECT_TRUE(parser.Parse(records_[i].data, &ev, &err));
      max_ts = std::max(max_ts, ev.ts);
      flow.Add(ev);
      if (i % kBatch == kBatch - 1) flow.Close(max_ts - kLag, &results);
    }
    flow.Close(kMaxTime, &results);
    return Lines(results);
  }

  // Instances a (partitions 0 and 1) and b (2 and 3); from record
  // `switch_at` on, partition 1 is b's, its keys' state handed over (or
  // not) at the switch. The merge adds up both instances' panes and closes
  // the windows at the same frontiers as RunOne.
  // `reload_a`: a's rules are reloaded just before the switch (its state
  // and the origins of its keys kept).
  std::vector<std::string> RunTwo(int workers_a, int workers_b, size_t switch_at, bool hand_over,
                                  bool reload_a = false) {
    EventParser parser(rules_->fields, 1 << 16);
    Instance a(*rules_, workers_a), b(*rules_, workers_b);
    Dataflow merge(*rules_);
    std::vector<WindowResult> results;
    TimeMs max_ts = kMinTime;
    uint64_t late = 0;
    for (size_t at = 0; at < records_.size(); at += kBatch) {
      if (at == switch_at) {
        handed_keys_ = 0;
        if (reload_a) {
          auto flow = std::make_unique<Dataflow>(*rules_);
          EXPECT_EQ(flow->AdoptState(*a.main), flow->state_count());
          a.main = std::move(flow);
          if (a.pool) a.pool->Reload(*rules_, *a.main);
        }
        if (hand_over) {
          std::map<int, HandedOver> out = ExtractKeyedState(a.flows(), {1});
          EXPECT_EQ(out.size(), 1u);
          HandedOver in;
          EXPECT_TRUE(DecodeHandedOver(EncodeHandedOver(out[1]), &in));
          size_t unknown = 0;
          const long long added = AdoptKeyedState(b.main.get(), in, 1, &unknown);
          EXPECT_EQ(added, static_cast<long long>(in.keys));
          EXPECT_EQ(unknown, 0u);
          handed_keys_ = in.keys;
          if (b.pool) b.pool->TakeRestored(b.main.get());
        }
      }
      std::vector<Record> to_a, to_b;
      const size_t end = std::min(records_.size(), at + kBatch);
      for (size_t i = at; i < end; ++i) {
        const int p = records_[i].input;
        const bool a_owns = p == 0 || (p == 1 && at < switch_at);
        (a_owns ? to_a : to_b).push_back(records_[i]);
        Event ev;
        ParseError err;
        EXPECT_TRUE(parser.Parse(records_[i].data, &ev, &err));
        max_ts = std::max(max_ts, ev.ts);
      }
      a.Add(to_a, &parser);
      b.Add(to_b, &parser);
      const TimeMs frontier = end == records_.size() ? kMaxTime : max_ts - kLag;
      for (Instance* in : {&a, &b}) {
        in->CloseSessions(frontier);
        late += merge.MergePanesFrom(*in->main);
      }
      merge.Close(frontier, &results);
    }
    EXPECT_EQ(late + a.late + b.late, 0u);
    return Lines(results);
  }

  static std::vector<std::string> Lines(const std::vector<WindowResult>& results) {
    std::vector<std::string> out;
    for (const WindowResult& r : results) out.push_back(FormatResult(r));
    return out;
  }

  std::unique_ptr<RuleSet> rules_;
  std::unique_ptr<GeneratedTraffic> traffic_;
  std::vector<Record> records_;
  size_t handed_keys_ = 0;
};

// Visitors are keyed by user: a user's sessions live in several
// partitions, so that stream is per instance whatever is handed over.
std::vector<std::string> WithoutVisitors(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const std::string& l : lines) {
    if (l.rfind("return_visit_rate ", 0) != 0) out.push_back(l);
  }
  return out;
}

TEST_F(HandoverTest, APartitionHandedOverWithItsKeysGivesTheWindowsOfOneFlow) {
  const std::vector<std::string> one = WithoutVisitors(RunOne());
  ASSERT_GT(one.size(), 500u);
  const size_t mid = kBatch * 25;  // sessions and joins open
  ASSERT_LT(mid, records_.size());
  for (const auto& [wa, wb] : std::vector<std::pair<int, int>>{{0, 0}, {2, 0}, {0, 3}, {2, 2}}) {
    const std::vector<std::string> two = WithoutVisitors(RunTwo(wa, wb, mid, true));
    EXPECT_GT(handed_keys_, 20u);
    ASSERT_EQ(two.size(), one.size()) << wa << " and " << wb << " workers";
    for (size_t i = 0; i < one.size(); ++i) {
      ASSERT_EQ(two[i], one[i]) << wa << " and " << wb << " workers, result " << i;
    }
  }
}

TEST_F(HandoverTest, ARuleReloadKeepsTheOriginsOfTheKeys) {
  const std::vector<std::string> one = WithoutVisitors(RunOne());
  for (int workers : {0, 2}) {
    EXPECT_EQ(WithoutVisitors(RunTwo(workers, 0, kBatch * 25, true, /*reload_a=*/true)), one)
        << workers << " workers";
    EXPECT_GT(handed_keys_, 20u);
  }
}

TEST_F(HandoverTest, WithoutTheHandOverTheSessionsSplit) {
  const std::vector<std::string> one = WithoutVisitors(RunOne());
  EXPECT_NE(WithoutVisitors(RunTwo(0, 0, kBatch * 25, false)), one);
}

TEST_F(HandoverTest, AStreamTheRulesDoNotHaveIsCountedNotAdded) {
  Dataflow flow(*rules_);
  HandedOver in;
  in.streams.push_back({"session|no such stream", "x"});
  size_t unknown = 0;
  EXPECT_EQ(AdoptKeyedState(&flow, in, 0, &unknown), 0);
  EXPECT_EQ(unknown, 1u);
  // A damaged state of a stream it has: nothing added.
  in.streams[0].state_key = flow.stream(0).state_key();
  EXPECT_EQ(AdoptKeyedState(&flow, in, 0, &unknown), -1);
  EXPECT_EQ(flow.stream(0).open_sessions(), 0u);
}

// State handed over that closes after the windows its records belong to
// (the sessions a merge stage closes for instances that left, behind the
// windows it closed on the others' partitions): those records are late,
// counted, and no window is written a second time.
TEST(HandoverLateTest, RecordsOfStateClosedLateAreCountedNotAdded) {
  const std::string rules = R"(
streams:
  - stream: visits
    key: session_id
    window: session 10m
    emit: {turns: count()}
metrics:
  - metric: sessions
    from: visits
    window: tumbling 10m
    value: count()
  - metric: turns
    from: visits
    window: tumbling 1h
    value: sum(turns)
)";
  OperatorHarness instance(rules), merge(rules);
  instance.flow->TrackOrigins();
  // Session s1 on input 0: turns at 1m and 2m; its record is due at 12m
  // (last turn plus the gap), in [10m, 20m) and [0, 1h).
  for (TimeMs ts : {60'000, 120'000}) {
    const Event ev =
        instance.Parse(StrCat("{\"ts\":", ts, ",\"type\":\"message\",\"session_id\":\"s1\"}"));
    instance.flow->Add(ev);
    instance.flow->NoteOrigins(0, ev);
  }
  // The merge has closed up to 30m on the other inputs' data.
  merge.AddJson(R"({"ts":1500000,"type":"message","session_id":"s2"})");
  EXPECT_TRUE(merge.CloseToLines(30 * 60'000).empty());
  std::map<int, HandedOver> out = ExtractKeyedState({instance.flow.get()}, {0});
  HandedOver in;
  ASSERT_TRUE(DecodeHandedOver(EncodeHandedOver(out[0]), &in));
  size_t unknown = 0;
  EXPECT_EQ(AdoptKeyedState(merge.flow.get(), in, 0, &unknown), 1);
  // s1's record: [10m, 20m) has fired, so `sessions` refuses it; the hour
  // is open and takes it. s2's record (25m + 10m) is on time.
  EXPECT_EQ(merge.CloseToLines(kMaxTime),
            (std::vector<std::string>{"sessions[1800000,2400000)=1", "turns[0,3600000)=3"}));
  EXPECT_EQ(merge.flow->TakeLateRecords(), 1u);
  EXPECT_EQ(merge.flow->TakeLateRecords(), 0u);
}

// A checkpoint keeps the keys' origins by input name, with those still
// waiting for their input: decoded, the same pairs.
TEST_F(HandoverTest, OriginsRoundTripByInputName) {
  Dataflow flow(*rules_);
  flow.TrackOrigins();
  flow.origins(0).Set("s-1", 0);
  flow.origins(0).Set("s-2", 3);
  const NamedOrigins pending = {{"events/7", {{"other|stream", "s-9"}}}};
  const std::string bytes = EncodeOrigins(
      {&flow}, [](int input) { return StrCat("events/", input); }, pending);
  NamedOrigins back;
  ASSERT_TRUE(DecodeOrigins(bytes, &back));
  const std::string& key = flow.stream(0).state_key();
  EXPECT_EQ(back, (NamedOrigins{{"events/0", {{key, "s-1"}}},
                                {"events/3", {{key, "s-2"}}},
                                {"events/7", {{"other|stream", "s-9"}}}}));
  EXPECT_FALSE(DecodeOrigins(bytes.substr(0, bytes.size() - 1), &back));
}

}  // namespace
}  // namespace vigil
