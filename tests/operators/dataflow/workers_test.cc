// Workers: the reference rules over generated traffic with incidents, run
// on 1 to 4 workers in batches of several sizes, give window results
// identical to the bit to one Dataflow that saw every event in order, the
// user-keyed visitors stream included; a checkpoint taken with one number
// of workers restores with another; a rule reload keeps the state.
#include "operators/dataflow/workers.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/strings.h"
#include "tests/operators/dataflow/generated_traffic.h"

namespace vigil {
namespace {

class WorkersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuleLoadResult r = LoadRuleFiles({VIGIL_SOURCE_DIR "/deploy/rules/chatbot.yaml"});
    ASSERT_TRUE(r.rules) << (r.errors.empty() ? "" : r.errors[0].ToString());
    rules_ = std::move(r.rules);
    // Two records with no session: they go round-robin.
    traffic_ = std::make_unique<GeneratedTraffic>(
        5, 100, 90 * 60'000,
        std::vector<std::string>{"latency_spike@20m+10m", "escalation_surge@50m+10m"},
        std::vector<std::string>{R"({"ts":1795518600000,"type":"bot_response","latency_ms":812})",
                                 R"({"ts":1795518600001,"type":"bot_response","latency_ms":97})"});
    records_ = traffic_->records;
  }

  // Every window result of one Dataflow taking every event in order, with
  // a frontier after every `batch` records.
  std::vector<std::string> RunOne(size_t batch) {
    EventParser parser(rules_->fields, 1 << 16);
    Dataflow flow(*rules_);
    std::vector<WindowResult> results;
    TimeMs max_ts = kMinTime;
    for (size_t i = 0; i < records_.size(); ++i) {
      Event ev;
      ParseError err;
      if (!parser.Parse(records_[i].data, &ev, &err)) {
        ADD_FAILURE() << err.detail;
        continue;
      }
      max_ts = std::max(max_ts, ev.ts);
      flow.Add(ev);
      if (i % batch == batch - 1) flow.Close(max_ts - 5'000, &results);
    }
    flow.Close(kMaxTime, &results);
    return Lines(results);
  }

  // The same on `n` workers. At record `switch_at` the run checkpoints and
  // goes on from the checkpoint with `n_after` workers (0: one Dataflow),
  // or reloads the rules when `reload`.
  std::vector<std::string> RunWorkers(int n, size_t batch, size_t switch_at = 0, int n_after = 0,
                                      bool reload = false) {
    auto main = std::make_unique<Dataflow>(*rules_);
    auto workers =
        std::make_unique<Workers>(*rules_, *main, Workers::Options{n, "session_id", 1 << 16});
    std::vector<WindowResult> results;
    TimeMs max_ts = kMinTime;
    uint64_t late = 0;
    for (size_t at = 0; at < records_.size(); at += batch) {
      const std::vector<Record> part(
          records_.begin() + static_cast<std::ptrdiff_t>(at),
          records_.begin() + static_cast<std::ptrdiff_t>(std::min(records_.size(), at + batch)));
      if (switch_at > 0 && at >= switch_at && at < switch_at + batch) {
        if (reload) {
          auto flow = std::make_unique<Dataflow>(*rules_);
          EXPECT_EQ(flow->AdoptState(*main), flow->state_count());
          main = std::move(flow);
          workers->Reload(*rules_, *main);
        } else {
          late += workers->MergePanesInto(main.get());
          const auto state = workers->EncodeState(*main);
          workers.reset();
          main = std::make_unique<Dataflow>(*rules_);
          EXPECT_EQ(main->DecodeState(state), static_cast<int>(main->state_count()));
          if (n_after > 0) {
            workers = std::make_unique<Workers>(*rules_, *main,
                                                Workers::Options{n_after, "session_id", 1 << 16});
            workers->TakeRestored(main.get());
          }
        }
      }
      if (workers) {
        workers->Parse(part);
        for (size_t i = 0; i < part.size(); ++i) {
          EXPECT_TRUE(workers->parsed(i).ok) << workers->parsed(i).err.detail;
          max_ts = std::max(max_ts, workers->parsed(i).ev.ts);
          workers->Accept(i);
        }
        workers->Aggregate();
        workers->CloseSessions(max_ts - 5'000);
        late += workers->MergePanesInto(main.get());
      } else {
        EventParser parser(rules_->fields, 1 << 16);
        for (const Record& r : part) {
          Event ev;
          ParseError err;
          EXPECT_TRUE(parser.Parse(r.data, &ev, &err)) << err.detail;
          max_ts = std::max(max_ts, ev.ts);
          main->Add(ev);
        }
      }
      main->Close(max_ts - 5'000, &results);
    }
    if (workers) {
      workers->CloseSessions(kMaxTime);
      late += workers->MergePanesInto(main.get());
    }
    main->Close(kMaxTime, &results);
    EXPECT_EQ(late, 0u);
    return Lines(results);
  }

  static std::vector<std::string> Lines(const std::vector<WindowResult>& results) {
    std::vector<std::string> out;
    for (const WindowResult& r : results) out.push_back(FormatResult(r));
    return out;
  }

  void ExpectSame(const std::vector<std::string>& got, const std::vector<std::string>& want,
                  const std::string& what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(got[i], want[i]) << what << ", result " << i;
  }

  std::unique_ptr<RuleSet> rules_;
  std::unique_ptr<GeneratedTraffic> traffic_;
  std::vector<Record> records_;
};

TEST_F(WorkersTest, AnyNumberOfWorkersGivesTheResultsOfOneFlowToTheBit) {
  const std::vector<std::string> one = RunOne(4096);
  ASSERT_GT(one.size(), 1000u);
  // The visitors stream (keyed by user_id, not by the session) is there
  // too: split by session instead of by user, its value differs
  // (merge_panes_test.cc).
  size_t visitors = 0;
  for (const std::string& line : one) visitors += line.rfind("return_visit_rate ", 0) == 0;
  EXPECT_GE(visitors, 1u);
  for (int n : {1, 2, 3, 4}) {
    ExpectSame(RunWorkers(n, 4096), one, StrCat(n, " workers"));
  }
}

TEST_F(WorkersTest, TheBatchSizeChangesNothing) {
  // A frontier follows every batch, so each batch size is compared with one
  // Dataflow closing windows at the same frontiers.
  for (size_t batch : {37u, 1000u}) {
    ExpectSame(RunWorkers(2, batch), RunOne(batch), StrCat("batches of ", batch));
  }
}

TEST_F(WorkersTest, ACheckpointTakenWithSomeWorkersRestoresWithAnyOther) {
  const std::vector<std::string> one = RunOne(4096);
  const size_t mid = 4096 * 60;  // inside the latency spike, sessions open
  ASSERT_LT(mid, records_.size());
  for (const auto& [before, after] :
       std::vector<std::pair<int, int>>{{2, 1}, {1, 2}, {2, 3}, {4, 2}, {2, 0}}) {
    ExpectSame(RunWorkers(before, 4096, mid, after), one,
               StrCat(before, " workers, then ", after, " from the checkpoint"));
  }
}

TEST_F(WorkersTest, AReloadOfTheSameRulesKeepsEveryWorkersState) {
  ExpectSame(RunWorkers(2, 4096, 4096 * 40, 0, /*reload=*/true), RunOne(4096), "reload");
}

}  // namespace
}  // namespace vigil
