// Workers and the limits of metrics over a stream's records: which records
// a metric's `limit:` drops follows from the records in order of event
// time, then key, as one operator holding every session would emit them,
// whatever the number of workers, the batches, the closes between them and
// the threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "operators/dataflow/workers.h"
#include "tests/operators/dataflow/record_lines.h"

namespace vigil {
namespace {

constexpr const char* kRules = R"(
streams:
  - stream: sessions
    key: session_id
    window: session 10s
    emit:
      intent: first(intent)
metrics:
  - metric: per_intent
    from: sessions
    window: tumbling 1m
    by: [intent]
    limit: 2
    value: count()
)";

// Session k is one event at k seconds with intent "i<3k mod 5>", so its
// record's time is k s + 9.999 s. Records 0..50 fall in the first minute:
// the first two intents there, i0 (k = 0, 5, ..., 50: 11 records) and i3
// (k = 1, 6, ..., 46: 10), take the limit's two places and the others are
// dropped. From record 51 (60.999 s) on, the first minute's groups are due
// and count no more: i3 (k = 51, ..., 76: 6) and i1 (k = 52, ..., 77: 6)
// take the second minute.
TEST(WorkersStreamLimitsTest, RecordsTakeTheLimitInOrderOfTimeThenKeyWhateverTheWorkers) {
  constexpr int kSessions = 80;
  RecordLines lines;
  for (int k = 0; k < kSessions; ++k) {
    lines.Add(StrCat(R"({"ts":)", k * 1000, R"(,"type":"message","session_id":"s)", k,
                     R"(","intent":"i)", k * 3 % 5, R"("})"));
  }
  const std::vector<Record>& records = lines.records();
  RuleLoadResult r = LoadRuleSources({{"t.yaml", kRules}});
  ASSERT_TRUE(r.rules) << (r.errors.empty() ? "" : r.errors[0].ToString());
  const std::vector<std::string> want = {"0 i0=11", "0 i3=10", "60000 i1=6", "60000 i3=6"};
  for (int n : {1, 2, 4}) {
    // 80: every record comes at the last close, at the end of the input.
    for (size_t batch : {1, 3, 7, 80}) {
      for (int round = 0; round < 3; ++round) {
        Dataflow main(*r.rules, OperatorLimits{1'000'000});
        Workers workers(*r.rules, main, Workers::Options{n, "session_id", 1 << 16});
        std::vector<WindowResult> results;
        TimeMs watermark = kMinTime;  // 5 s of out-of-orderness
        for (size_t at = 0; at < records.size(); at += batch) {
          const size_t end = std::min(records.size(), at + batch);
          const std::vector<Record> part(records.begin() + static_cast<std::ptrdiff_t>(at),
                                         records.begin() + static_cast<std::ptrdiff_t>(end));
          workers.Parse(part);
          for (size_t i = 0; i < part.size(); ++i) {
            workers.Accept(i, watermark);
            watermark = std::max<TimeMs>(watermark, static_cast<TimeMs>(at + i) * 1000 - 5'000);
          }
          workers.Aggregate(watermark);
          workers.MergePanesInto(&main);
          main.Close(watermark, &results);
        }
        workers.CloseSessions(kMaxTime);
        workers.MergePanesInto(&main);
        main.Close(kMaxTime, &results);
        std::vector<std::string> got;
        for (const WindowResult& w : results)
          got.push_back(StrCat(w.start, " ", w.group, "=", w.value));
        EXPECT_EQ(got, want) << n << " workers, batches of " << batch;
      }
    }
  }
}

}  // namespace
}  // namespace vigil
