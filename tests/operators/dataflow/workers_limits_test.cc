// Workers and group limits: a group new to the job takes one place of a
// metric's `limit:` (and of limits.max_series) however many workers see it
// in the same batch, so groups within the limit keep every event, with any
// number of workers.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "operators/dataflow/workers.h"
#include "tests/operators/dataflow/record_lines.h"

namespace vigil {
namespace {

constexpr const char* kRules = R"(
metrics:
  - metric: per_intent
    window: tumbling 1m
    by: [intent]
    limit: LIMIT
    value: count()
)";

class WorkersLimitsTest : public ::testing::Test {
 protected:
  // `sessions` sessions, each with one event of every intent in `intents`
  // a second, for a minute: every worker sees every intent.
  void Generate(int sessions, const std::vector<std::string>& intents) {
    for (int sec = 0; sec < 60; ++sec) {
      for (int s = 0; s < sessions; ++s) {
        for (const std::string& intent : intents) {
          lines_.Add(StrCat(R"({"ts":)", sec * 1000, R"(,"type":"message","session_id":"s)", s,
                            R"(","intent":")", intent, R"("})"));
        }
      }
    }
    records_ = lines_.records();
  }

  // group -> count of each window, over `n` workers in batches of `batch`.
  std::map<std::string, double> Run(const std::string& limit, size_t max_series, int n,
                                    size_t batch) {
    std::string yaml = kRules;
    yaml.replace(yaml.find("LIMIT"), 5, limit);
    RuleLoadResult r = LoadRuleSources({{"t.yaml", yaml}});
    EXPECT_TRUE(r.rules) << (r.errors.empty() ? "" : r.errors[0].ToString());
    if (!r.rules) return {};
    Dataflow main(*r.rules, OperatorLimits{max_series});
    Workers workers(*r.rules, main, Workers::Options{n, "session_id", 1 << 16});
    std::vector<WindowResult> results;
    for (size_t at = 0; at < records_.size(); at += batch) {
      const std::vector<Record> part(
          records_.begin() + static_cast<std::ptrdiff_t>(at),
          records_.begin() + static_cast<std::ptrdiff_t>(std::min(records_.size(), at + batch)));
      workers.Parse(part);
      for (size_t i = 0; i < part.size(); ++i) workers.Accept(i);
      workers.Aggregate();
      workers.MergePanesInto(&main);
      main.Close(0, &results);
    }
    workers.CloseSessions(kMaxTime);
    workers.MergePanesInto(&main);
    main.Close(kMaxTime, &results);
    std::map<std::string, double> out;
    for (const WindowResult& w : results) out[w.group] = w.value;
    return out;
  }

  RecordLines lines_;
  std::vector<Record> records_;
};

TEST_F(WorkersLimitsTest, GroupsWithinTheLimitKeepEveryEvent) {
  Generate(16, {"a", "b"});
  const std::map<std::string, double> want = {{"a", 16 * 60}, {"b", 16 * 60}};
  for (int n : {1, 2, 4}) {
    for (size_t batch : {7, 64, 4096}) {
      for (int round = 0; round < 5; ++round) {
        EXPECT_EQ(Run("2", 1'000'000, n, batch), want) << n << " workers, batch " << batch;
        EXPECT_EQ(Run("10", 2, n, batch), want) << "max_series 2, " << n << " workers";
      }
    }
  }
}

TEST_F(WorkersLimitsTest, OverTheLimitEveryGroupHeldIsExact) {
  Generate(16, {"a", "b", "c", "d"});
  for (int n : {1, 2, 4}) {
    for (int round = 0; round < 5; ++round) {
      const std::map<std::string, double> got = Run("2", 1'000'000, n, 64);
      // The job holds the two groups one worker holds, each with all of
      // its events, however many workers and whichever thread runs first.
      EXPECT_EQ(got, (std::map<std::string, double>{{"a", 16 * 60}, {"b", 16 * 60}}))
          << n << " workers";
    }
  }
}

// A message of intent `g` in session "s" + `g` at `ts`.
std::string IntentMessage(TimeMs ts, std::string_view g) {
  return StrCat(R"({"ts":)", ts, R"(,"type":"message","session_id":"s)", g, R"(","intent":")", g,
                R"("})");
}

// Which events a limit drops follows from the input in order, as with one
// worker: with `limit: 2`, c at 00:00:12 finds a and b live and is dropped,
// c at 00:01:10 too (a and b are live until the frontier passes 00:01),
// and b at 00:01:13, whose only window is due, finds a and c live. Whatever
// the workers, the batches and the closes between them.
TEST(WorkersLimitsOrderTest, DropsFollowTheInputOrderWhateverTheWorkersAndBatches) {
  const std::vector<std::pair<TimeMs, std::string>> events = {
      {10'000, "a"}, {11'000, "b"}, {12'000, "c"}, {70'000, "c"},
      {71'000, "a"}, {72'000, "c"}, {73'000, "b"}};
  RecordLines lines;
  for (const auto& [ts, g] : events) lines.Add(IntentMessage(ts, g));
  const std::vector<Record>& records = lines.records();
  RuleLoadResult r = LoadRuleSources({{"t.yaml", R"(
metrics:
  - metric: per_intent
    window: tumbling 1m
    by: [intent]
    limit: 2
    value: count()
)"}});
  ASSERT_TRUE(r.rules);
  const std::vector<std::string> want = {"0 a=1", "0 b=1", "60000 a=1", "60000 c=1"};
  for (int n : {1, 2, 4}) {
    for (size_t batch : {1, 3, 7}) {
      Dataflow main(*r.rules, OperatorLimits{1'000'000});
      Workers workers(*r.rules, main, Workers::Options{n, "session_id", 1 << 16});
      std::vector<WindowResult> results;
      TimeMs watermark = kMinTime;  // 5 s of out-of-orderness
      for (size_t at = 0; at < records.size(); at += batch) {
        const std::vector<Record> part(
            records.begin() + static_cast<std::ptrdiff_t>(at),
            records.begin() + static_cast<std::ptrdiff_t>(std::min(records.size(), at + batch)));
        workers.Parse(part);
        for (size_t i = 0; i < part.size(); ++i) {
          workers.Accept(i, watermark);
          watermark = std::max(watermark, events[at + i].first - 5'000);
        }
        workers.Aggregate();
        workers.MergePanesInto(&main);
        main.Close(watermark, &results);
      }
      workers.MergePanesInto(&main);
      main.Close(kMaxTime, &results);
      std::vector<std::string> got;
      for (const WindowResult& w : results)
        got.push_back(StrCat(w.start, " ", w.group, "=", w.value));
      EXPECT_EQ(got, want) << n << " workers, batches of " << batch;
    }
  }
}

// Groups the workers took in batches the job has not merged yet (its
// frontier stood still) take their places of the limits when the next
// batch comes: with room for five series, a..d in the first batch and e, f
// and g in the second keep a..e, whatever the workers. (The second batch
// once ran in parallel, as if nothing were taken: which of e..g kept its
// event then depended on the threads.)
TEST(WorkersLimitsOrderTest, GroupsTakenSinceTheLastMergeCountInTheNextBatch) {
  RecordLines lines;
  for (const char* g : {"a", "b", "c", "d", "e", "f", "g"}) lines.Add(IntentMessage(1000, g));
  const std::vector<Record>& records = lines.records();
  RuleLoadResult r = LoadRuleSources({{"t.yaml", R"(
metrics:
  - metric: per_intent
    window: tumbling 1m
    by: [intent]
    value: count()
)"}});
  ASSERT_TRUE(r.rules);
  const std::vector<std::string> want = {"a=1", "b=1", "c=1", "d=1", "e=1"};
  for (int n : {1, 2, 4}) {
    for (int round = 0; round < 50; ++round) {
      Dataflow main(*r.rules, OperatorLimits{5});
      Workers workers(*r.rules, main, Workers::Options{n, "session_id", 1 << 16});
      for (const auto& [from, to] : {std::pair<size_t, size_t>{0, 4}, {4, 7}}) {
        workers.Parse(std::vector<Record>(records.begin() + static_cast<std::ptrdiff_t>(from),
                                          records.begin() + static_cast<std::ptrdiff_t>(to)));
        for (size_t i = 0; i < to - from; ++i) workers.Accept(i);
        workers.Aggregate();
      }
      workers.MergePanesInto(&main);
      std::vector<WindowResult> results;
      main.Close(kMaxTime, &results);
      std::vector<std::string> got;
      for (const WindowResult& w : results) got.push_back(StrCat(w.group, "=", w.value));
      ASSERT_EQ(got, want) << n << " workers, round " << round;
    }
  }
}

// A checkpoint restored under rules that read the same panes with other
// aggregates gives the job's metric new panes: the workers' limits count
// the restored groups there. With `limit: 1`, a held before the checkpoint
// keeps b out of the same minute after it.
TEST(WorkersLimitsRestoreTest, TheWorkersCountTheGroupsOfARestoredRemappedMetric) {
  RecordLines lines;
  for (const auto& [ts, g] : std::vector<std::pair<int, std::string>>{
           {1'000, "a"}, {2'000, "b"}, {3'000, "a"}, {4'000, "b"}}) {
    lines.Add(StrCat(R"({"ts":)", ts, R"(,"type":"message","session_id":"s)", g, R"(","intent":")",
                     g, R"(","latency_ms":10})"));
  }
  const std::vector<Record>& records = lines.records();
  const std::string before = R"(
metrics:
  - metric: per_intent
    window: tumbling 1m
    by: [intent]
    limit: 1
    value: count()
)";
  RuleLoadResult a = LoadRuleSources({{"a.yaml", before}});
  RuleLoadResult b = LoadRuleSources({{"b.yaml", before + R"(
  - metric: latency_by_intent
    window: tumbling 1m
    by: [intent]
    limit: 1
    value: sum(latency_ms)
)"}});
  ASSERT_TRUE(a.rules && b.rules);
  const auto feed = [](Workers& workers, const std::vector<Record>& part) {
    workers.Parse(part);
    for (size_t i = 0; i < part.size(); ++i) workers.Accept(i);
    workers.Aggregate();
  };
  std::vector<std::pair<std::string, std::string>> saved;
  {
    Dataflow main(*a.rules, OperatorLimits{1'000'000});
    Workers workers(*a.rules, main, Workers::Options{2, "session_id", 1 << 16});
    feed(workers, {records[0], records[1]});
    workers.MergePanesInto(&main);
    saved = workers.EncodeState(main);
  }
  Dataflow main(*b.rules, OperatorLimits{1'000'000});
  Workers workers(*b.rules, main, Workers::Options{2, "session_id", 1 << 16});
  std::vector<int> restarted;
  ASSERT_EQ(main.DecodeState(saved, &restarted), 1);  // one operator, its panes remapped
  workers.TakeRestored(&main);
  feed(workers, {records[2], records[3]});
  workers.MergePanesInto(&main);
  std::vector<WindowResult> results;
  main.Close(kMaxTime, &results);
  std::vector<std::string> got;
  for (const WindowResult& w : results)
    got.push_back(StrCat(w.def->name, " ", w.group, "=", w.value));
  EXPECT_EQ(got, (std::vector<std::string>{"per_intent a=2", "latency_by_intent a=10"}));
}

}  // namespace
}  // namespace vigil
