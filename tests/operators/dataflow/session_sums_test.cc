// Sums and averages in a session stream's emit: are exact, as a metric's
// are: the same bits whatever the order of the events, the merges of
// sessions an out-of-order event bridges, and checkpoints in between.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "operators/dataflow/session_operator.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr TimeMs kMin = 60'000;

class SessionSumsTest : public ::testing::Test {
 protected:
  SessionSumsTest()
      : h(R"yaml(
streams:
  - stream: s
    key: k
    window: session 30m
    emit:
      total: sum(v)
      mean: avg(v)
      n: count()
      top: max(v)
metrics:
  - metric: totals
    from: s
    window: tumbling 1d
    value: sum(total)
)yaml") {}

  void Feed(SessionOperator& op, const std::string& key, TimeMs ts, double v) {
    const std::string json =
        StrCat(R"({"ts":)", ts, R"(,"type":"m","k":")", key, R"(","v":)", v, "}") +
        std::string(simdjson::SIMDJSON_PADDING, ' ');
    Event ev;
    ParseError err;
    ASSERT_TRUE(h.parser->Parse(std::string_view(json).substr(0, json.find('}') + 1), &ev, &err))
        << err.detail;
    op.Add(ev);
  }
  // "total mean n top" of each record closed by the frontier.
  std::vector<std::string> Close(SessionOperator& op, TimeMs frontier) {
    std::vector<std::string> out;
    const StreamDef& def = op.def();
    op.Close(frontier, [&](const Event& r) {
      std::string line;
      for (const char* name : {"total", "mean", "n", "top"}) {
        const int slot = *def.fields.Find(name);
        StrAppend(&line, line.empty() ? "" : " ");
        AppendValueText(r.slots[slot], &line);
      }
      out.push_back(line);
    });
    return out;
  }
  std::unique_ptr<SessionOperator> Restore(const std::string& bytes) {
    auto op = std::make_unique<SessionOperator>(h.rules->streams[0]);
    Decoder dec(bytes);
    if (!op->DecodeState(&dec)) return nullptr;
    return op;
  }
  OperatorHarness h;
};

TEST_F(SessionSumsTest, ASumIsExactWhateverTheOrder) {
  std::vector<double> values = {0.1, 0.2, -0.1, 0.3, 1e-3, 7.7};
  std::sort(values.begin(), values.end());
  std::vector<std::string> seen;
  do {
    SessionOperator op(h.rules->streams[0]);
    for (size_t i = 0; i < values.size(); ++i)
      Feed(op, "a", static_cast<TimeMs>(i) * 1000, values[i]);
    const std::vector<std::string> got = Close(op, kMaxTime - 31 * kMin);
    ASSERT_EQ(got.size(), 1u);
    seen.push_back(got[0]);
  } while (std::next_permutation(values.begin(), values.end()));
  // 0.1 + 0.2 - 0.1 + 0.3 + 0.001 + 7.7 = 8.201, rounded once.
  EXPECT_EQ(seen[0], StrCat(8.201, " ", 8.201 / 6, " 6 7.7"));
  for (const std::string& s : seen) ASSERT_EQ(s, seen[0]);
  // In plain floating point, the order shows.
  EXPECT_NE(0.1 + 0.2 - 0.1, 0.2);
}

TEST_F(SessionSumsTest, MergedSessionsAndCheckpointsKeepTheSumExact) {
  // 0.1 and 0.2 fifty minutes apart, bridged by -0.1 at 25 minutes.
  SessionOperator op(h.rules->streams[0]);
  Feed(op, "a", 0, 0.1);
  Feed(op, "a", 50 * kMin, 0.2);
  ASSERT_EQ(op.open_sessions(), 2u);
  Encoder enc;
  op.EncodeState(&enc);
  std::unique_ptr<SessionOperator> restored = Restore(enc.Release());
  ASSERT_NE(restored, nullptr);
  Feed(*restored, "a", 25 * kMin, -0.1);
  EXPECT_EQ(restored->open_sessions(), 1u);
  EXPECT_EQ(Close(*restored, kMaxTime - 31 * kMin),
            std::vector<std::string>{StrCat(0.2, " ", 0.2 / 3, " 3 0.2")});
}

TEST_F(SessionSumsTest, ACheckpointWrittenBeforeSumsWereExactRestores) {
  // One session of key "a" as older versions wrote it: every cell a plain
  // double, a count and kind 0. Inputs in emit order: sum, avg, count, max.
  Encoder enc;
  enc.PutVarint(1);
  enc.PutString("a");
  enc.PutSigned(0);
  enc.PutSigned(2000);
  for (const auto& [x, n] : std::vector<std::pair<double, int64_t>>{
           {0.30000000000000004, 2}, {0.30000000000000004, 2}, {0, 2}, {0.2, 2}}) {
    enc.PutDouble(x);
    enc.PutSigned(n);
    enc.PutSigned(0);
    enc.PutByte(0);
  }
  std::unique_ptr<SessionOperator> op = Restore(enc.Release());
  ASSERT_NE(op, nullptr);
  Feed(*op, "a", 3000, -0.1);
  // The restored sum is exact from there on: 0.30000000000000004 - 0.1.
  ExactSum want = ExactSum::FromPlain(0.30000000000000004);
  want.Add(-0.1);
  EXPECT_EQ(Close(*op, kMaxTime - 31 * kMin),
            std::vector<std::string>{StrCat(want.value(), " ", want.value() / 3, " 3 0.2")});
}

}  // namespace
}  // namespace vigil
