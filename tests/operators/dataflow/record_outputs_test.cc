// Record outputs (outputs: in a rule file): the lines the dataflow writes
// for the events and records an output takes.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr TimeMs kMin = 60'000;

// Closes every window of the first ten minutes; the lines the outputs took.
std::vector<std::string> TappedLines(OperatorHarness& h) {
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  h.Close(10 * kMin, &results, &notices);
  std::vector<TappedRecord> tapped;
  h.flow->TakeTapped(&tapped);
  std::vector<std::string> lines;
  for (const TappedRecord& t : tapped) lines.push_back(t.line);
  return lines;
}

TEST(RecordOutputsTest, OutputsAreTappedOnlyWhileSomethingWritesThem) {
  const std::string yaml = R"(
streams:
  - stream: sessions
    key: session_id
    window: session 1m
    emit:
      turns: count()
outputs:
  - output: slow-turns
    where: latency_ms > 100
    fields: [session_id, latency_ms]
  - output: closed-sessions
    from: sessions
    fields: [turns]
)";
  auto feed = [](OperatorHarness& h) {
    h.Add(1000, R"("session_id":"s1","latency_ms":200)");
    h.Add(2000, R"("session_id":"s1","latency_ms":50)");
    return TappedLines(h);
  };
  OperatorHarness on(yaml);
  EXPECT_TRUE(on.flow->tapping());
  EXPECT_EQ(feed(on), (std::vector<std::string>{
                          R"({"ts":"1970-01-01T00:00:01.000Z","session_id":"s1","latency_ms":200})",
                          R"({"ts":"1970-01-01T00:01:01.999Z","turns":2})",
                      }));
  OperatorHarness off(yaml);
  off.flow->SetTapping(false);
  EXPECT_FALSE(off.flow->untapped());
  EXPECT_TRUE(feed(off).empty());
  EXPECT_TRUE(off.flow->untapped());  // the job says once that it writes them nowhere
  // Off, and no event or record an output would take: nothing to say.
  OperatorHarness quiet(yaml);
  quiet.flow->SetTapping(false);
  quiet.Add(1000, R"("latency_ms":50)");  // no session id: no session, and fast
  std::vector<WindowResult> results;
  std::vector<AlertNotice> notices;
  quiet.Close(10 * kMin, &results, &notices);
  EXPECT_FALSE(quiet.flow->untapped());
  // A worker's part follows the flow it aggregates for.
  Dataflow part(*off.rules);
  PaneStore::FreshGroups fresh[8];
  std::atomic<size_t> fresh_all{0};
  part.SetWhole(*off.flow, fresh, &fresh_all);
  EXPECT_FALSE(part.tapping());
}

// A record's numbers are JSON a program reads back: a whole number is
// written whole (100000, not 1e+05, which a parser wanting an integer
// refuses), booleans as true/false.
TEST(RecordOutputsTest, RecordLinesWriteWholeNumbersWithoutAnExponent) {
  OperatorHarness h(R"(
outputs:
  - output: turns
    fields: [latency_ms, cache_hit, intent]
)");
  h.Add(1000, R"("latency_ms":100000,"cache_hit":true,"intent":"faq")");
  h.Add(2000, R"("latency_ms":2500000.5,"cache_hit":false)");
  h.Add(3000, R"("latency_ms":1e21)");
  EXPECT_EQ(
      TappedLines(h),
      (std::vector<std::string>{
          R"({"ts":"1970-01-01T00:00:01.000Z","latency_ms":100000,"cache_hit":true,"intent":"faq"})",
          R"({"ts":"1970-01-01T00:00:02.000Z","latency_ms":2500000.5,"cache_hit":false,"intent":null})",
          R"({"ts":"1970-01-01T00:00:03.000Z","latency_ms":1e+21,"cache_hit":null,"intent":null})",
      }));
}

}  // namespace
}  // namespace vigil
