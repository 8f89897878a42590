// ParseAhead: records come back parsed exactly as one parser would parse
// them, in order, with each good event hinted `ahead` records before its
// turn.
#include "operators/parse/parse_ahead.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "operators/dataflow/dataflow.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {
namespace {

constexpr char kRules[] = R"yaml(
metrics:
  - metric: by_intent
    by: [intent]
    window: tumbling 1m
    value: count()
)yaml";

// Records over one buffer, each followed by simdjson's padding.
struct Batch {
  explicit Batch(const std::vector<std::string>& jsons) {
    for (const std::string& j : jsons) {
      starts.push_back(buf.size());
      buf += j + std::string(simdjson::SIMDJSON_PADDING, ' ');
    }
    for (size_t i = 0; i < jsons.size(); ++i) {
      Record r;
      r.data = std::string_view(buf).substr(starts[i], jsons[i].size());
      r.line = i + 1;
      r.size = jsons[i].size();
      records.push_back(r);
    }
  }
  std::string buf;
  std::vector<size_t> starts;
  std::vector<Record> records;
};

std::string Good(int i) {
  return StrCat(R"({"ts":)", i * 1000, R"(,"type":"message","intent":"i)", i, R"("})");
}

std::string Describe(const ParseAhead::Parsed& p, const FieldTable& fields) {
  if (!p.ok) return StrCat("error ", DeadReasonName(p.err.reason), ": ", p.err.detail);
  std::string out = StrCat("@", p.ev.ts);
  for (int s = 0; s < fields.size(); ++s) {
    StrAppend(&out, " ", fields.path(s), "=");
    AppendValueText(p.ev.slots[s], &out);
  }
  return out;
}

class ParseAheadTest : public ::testing::TestWithParam<size_t> {
 protected:
  ParseAheadTest() : h(kRules) {}
  OperatorHarness h;
};

TEST_P(ParseAheadTest, ParsesEveryRecordAsOneParserWouldAndHintsAheadOfItsTurn) {
  const size_t ahead = GetParam();
  std::vector<std::string> jsons;
  for (int i = 0; i < 12; ++i) jsons.push_back(Good(i));
  jsons[3] = R"({"ts":3000,"type":)";               // malformed
  jsons[7] = R"({"type":"message","intent":"x"})";  // no ts
  Batch batch(jsons);
  batch.records[9].oversized = true;  // never parsed

  ParseAhead parse(h.rules->fields, 1 << 16, ahead);
  for (int round = 0; round < 2; ++round) {  // a second batch reuses the ring
    std::vector<TimeMs> hinted;
    for (size_t i = 0; i < batch.records.size(); ++i) {
      const ParseAhead::Parsed& p =
          parse.Next(batch.records, i, [&](const Event& ev) { hinted.push_back(ev.ts); });
      // Every good record up to i + ahead has been hinted, in order.
      std::vector<TimeMs> want;
      for (size_t j = 0; j <= std::min(i + ahead, batch.records.size() - 1); ++j) {
        if (j != 3 && j != 7 && j != 9) want.push_back(static_cast<TimeMs>(j) * 1000);
      }
      EXPECT_EQ(hinted, want) << "at record " << i;
      if (i == 9) {
        EXPECT_FALSE(p.ok);
        continue;
      }
      // What a lone parser makes of the same record.
      EventParser lone(h.rules->fields, 1 << 16);
      ParseAhead::Parsed expected;
      expected.ok = lone.Parse(batch.records[i].data, &expected.ev, &expected.err);
      EXPECT_EQ(Describe(p, h.rules->fields), Describe(expected, h.rules->fields))
          << "record " << i;
    }
  }
}

TEST_P(ParseAheadTest, ABatchShorterThanTheDistance) {
  Batch batch({Good(1), Good(2)});
  ParseAhead parse(h.rules->fields, 1 << 16, GetParam());
  int hints = 0;
  EXPECT_EQ(parse.Next(batch.records, 0, [&](const Event&) { ++hints; }).ev.ts, 1000);
  EXPECT_EQ(hints, 2);
  EXPECT_EQ(parse.Next(batch.records, 1, [&](const Event&) { ++hints; }).ev.ts, 2000);
  EXPECT_EQ(hints, 2);
}

INSTANTIATE_TEST_SUITE_P(Distances, ParseAheadTest,
                         ::testing::Values(size_t{1}, size_t{3}, Dataflow::kPrefetchDistance));

}  // namespace
}  // namespace vigil
