#include "operators/parse/event_parser.h"

#include <gtest/gtest.h>

#include <limits>

#include "base/strings.h"
#include "rules/expr_compiler.h"

namespace vigil {
namespace {

class EventParserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The types a rule set would infer: latency_ms a number, llm_timeout a
    // boolean, intent a string; meta.region nested.
    latency_ = fields_.Intern("latency_ms");
    ASSERT_FALSE(fields_.Expect(latency_, Type::kNumber));
    timeout_ = fields_.Intern("llm_timeout");
    ASSERT_FALSE(fields_.Expect(timeout_, Type::kBool));
    intent_ = fields_.Intern("intent");
    ASSERT_FALSE(fields_.Expect(intent_, Type::kString));
    region_ = fields_.Intern("meta.region");
    zone_ = fields_.Intern("meta.zone.name");
    ts_ = fields_.Intern("ts");
    parser_ = std::make_unique<EventParser>(fields_, 1024);
  }

  // Copies into a padded buffer as the sources do.
  bool Parse(std::string_view json) {
    buf_.assign(json);
    buf_.append(simdjson::SIMDJSON_PADDING, ' ');
    return parser_->Parse(std::string_view(buf_).substr(0, json.size()), &ev_, &err_);
  }

  FieldTable fields_;
  int latency_, timeout_, intent_, region_, zone_, ts_;
  std::unique_ptr<EventParser> parser_;
  std::string buf_;
  Event ev_;
  ParseError err_;
};

TEST_F(EventParserTest, ReadsOnlyTheFieldsRulesUse) {
  ASSERT_TRUE(Parse(R"({"ts":"2026-01-01T00:00:01.500Z","type":"message","latency_ms":812,)"
                    R"("llm_timeout":false,"intent":"faq","other":[1,2,{"x":3}],)"
                    R"("meta":{"region":"eu","zone":{"name":"a"}}})"))
      << err_.detail;
  EXPECT_EQ(ev_.ts, 1767225601500);
  EXPECT_DOUBLE_EQ(ev_.slots[latency_].num, 812);
  EXPECT_TRUE(ev_.slots[timeout_].is_bool());
  EXPECT_FALSE(ev_.slots[timeout_].b);
  EXPECT_EQ(ev_.slots[intent_].str, "faq");
  EXPECT_EQ(ev_.slots[region_].str, "eu");
  EXPECT_EQ(ev_.slots[zone_].str, "a");
  EXPECT_DOUBLE_EQ(ev_.slots[ts_].num, 1767225601500);
}

TEST_F(EventParserTest, AbsentFieldsAreMissingAndNullIsNull) {
  ASSERT_TRUE(Parse(R"({"ts":1000,"type":"feedback","latency_ms":null})"));
  EXPECT_EQ(ev_.ts, 1000);
  EXPECT_EQ(ev_.slots[latency_].kind, Value::Kind::kNull);
  EXPECT_TRUE(ev_.slots[intent_].is_missing());
  EXPECT_TRUE(ev_.slots[region_].is_missing());
}

TEST_F(EventParserTest, TimestampForms) {
  ASSERT_TRUE(Parse(R"({"ts":"2026-01-01T01:00:00+01:00","type":"m"})"));
  EXPECT_EQ(ev_.ts, 1767225600000);
  ASSERT_TRUE(Parse(R"({"ts":1767225600000.0,"type":"m"})"));
  EXPECT_EQ(ev_.ts, 1767225600000);
  EXPECT_FALSE(Parse(R"({"ts":"2026-01-01T00:00:00","type":"m"})"));  // no zone
  EXPECT_EQ(err_.reason, DeadReason::kBadTs);
  EXPECT_FALSE(Parse(R"({"ts":12.5,"type":"m"})"));
  EXPECT_EQ(err_.reason, DeadReason::kBadTs);
  EXPECT_FALSE(Parse(R"({"ts":-5,"type":"m"})"));
  EXPECT_EQ(err_.reason, DeadReason::kBadTs);
  EXPECT_FALSE(Parse(R"({"ts":99999999999999999,"type":"m"})"));
  EXPECT_EQ(err_.reason, DeadReason::kBadTs);
  EXPECT_FALSE(Parse(R"({"ts":true,"type":"m"})"));
  EXPECT_EQ(err_.reason, DeadReason::kBadTs);
}

TEST_F(EventParserTest, RejectsEachKindOfBadRecordWithItsReason) {
  struct Case {
    const char* json;
    DeadReason reason;
  } cases[] = {
      {R"({"ts":1,"type":"m")", DeadReason::kMalformedJson},
      {R"({"ts":1,"type":"m","latency_ms":NaN})", DeadReason::kMalformedJson},
      {R"({"ts":1,"type":"m","x":Infinity})", DeadReason::kMalformedJson},
      {"{\"ts\":1,\"type\":\"\xff\xfe\"}", DeadReason::kMalformedJson},
      {R"({"ts":1,"type":"m"} trailing)", DeadReason::kMalformedJson},
      {R"([1,2,3])", DeadReason::kNotObject},
      {R"("just a string")", DeadReason::kNotObject},
      {R"({"type":"m"})", DeadReason::kMissingTs},
      {R"({"ts":1})", DeadReason::kMissingType},
      {R"({"ts":1,"type":7})", DeadReason::kMissingType},
      {R"({"ts":1,"type":"m","latency_ms":"slow"})", DeadReason::kWrongType},
      {R"({"ts":1,"type":"m","llm_timeout":1})", DeadReason::kWrongType},
      {R"({"ts":1,"type":"m","intent":{"a":1}})", DeadReason::kWrongType},
      {R"({"ts":1,"type":"m","intent":42})", DeadReason::kWrongType},
  };
  for (const Case& c : cases) {
    EXPECT_FALSE(Parse(c.json)) << c.json;
    EXPECT_EQ(DeadReasonName(err_.reason), DeadReasonName(c.reason)) << c.json;
    EXPECT_FALSE(err_.detail.empty()) << c.json;
  }
}

TEST_F(EventParserTest, WrongTypeNamesTheField) {
  ASSERT_FALSE(Parse(R"({"ts":1,"type":"m","latency_ms":"slow"})"));
  EXPECT_EQ(err_.detail, "field 'latency_ms' is a string, rules expect a number");
}

// A field a metric's last() reads takes numbers and booleans (read as 1
// or 0); a string there is no value for it, so the record is bad input,
// not one the metric passes over without a word.
TEST_F(EventParserTest, AFieldALastReadsTakesNumbersAndBooleansNotStrings) {
  const int breaker = fields_.Intern("breaker");
  ASSERT_FALSE(fields_.ExpectNotString(breaker));
  EventParser parser(fields_, 1024);
  auto parse = [&](std::string_view json) {
    buf_ = std::string(json) + std::string(simdjson::SIMDJSON_PADDING, ' ');
    return parser.Parse(std::string_view(buf_).substr(0, json.size()), &ev_, &err_);
  };
  EXPECT_TRUE(parse(R"({"ts":1,"type":"m","breaker":1})"));
  EXPECT_TRUE(parse(R"({"ts":1,"type":"m","breaker":true})"));
  EXPECT_TRUE(parse(R"({"ts":1,"type":"m","breaker":null})"));
  EXPECT_TRUE(parse(R"({"ts":1,"type":"m"})"));
  EXPECT_TRUE(parse(R"({"ts":1,"type":"m","breaker":"open","breaker":0})"));  // the last counts
  ASSERT_FALSE(parse(R"({"ts":1,"type":"m","breaker":"open"})"));
  EXPECT_EQ(err_.reason, DeadReason::kWrongType);
  EXPECT_EQ(err_.detail,
            "field 'breaker' is a string, rules expect a number or a boolean (a metric's last())");
  // And a rule that reads it as a string is an error when the rules load.
  EXPECT_EQ(fields_.Expect(breaker, Type::kString),
            "field 'breaker' is used as a string here but a metric's last() reads it as a number "
            "or a boolean elsewhere");
  EXPECT_EQ(fields_.ExpectNotString(intent_),
            "field 'intent' is used as a string elsewhere; last() in a metric keeps a number or a "
            "boolean (a session stream's last() keeps strings)");
  // Read by last() and as a number only elsewhere (sum, a schema), a
  // boolean does not fit either: the message says a number.
  ASSERT_FALSE(fields_.ExpectNotString(latency_));
  EventParser both(fields_, 1024);
  buf_ = std::string(R"({"ts":1,"type":"m","latency_ms":"slow"})") +
         std::string(simdjson::SIMDJSON_PADDING, ' ');
  ASSERT_FALSE(both.Parse(std::string_view(buf_).substr(0, 39), &ev_, &err_));
  EXPECT_EQ(err_.detail, "field 'latency_ms' is a string, rules expect a number");
  buf_ = std::string(R"({"ts":1,"type":"m","latency_ms":true})") +
         std::string(simdjson::SIMDJSON_PADDING, ' ');
  ASSERT_FALSE(both.Parse(std::string_view(buf_).substr(0, 37), &ev_, &err_));
  EXPECT_EQ(err_.detail, "field 'latency_ms' is a boolean, rules expect a number");
}

TEST_F(EventParserTest, OversizedAndDeepRecords) {
  std::string big = R"({"ts":1,"type":"m","pad":")" + std::string(2000, 'x') + "\"}";
  EXPECT_FALSE(Parse(big));
  EXPECT_EQ(err_.reason, DeadReason::kOversized);
  std::string deep =
      R"({"ts":1,"type":"m","d":)" + std::string(600, '[') + std::string(600, ']') + "}";
  EventParser roomy(fields_, 1 << 20);
  buf_ = deep + std::string(simdjson::SIMDJSON_PADDING, ' ');
  // Deep nesting is either parsed (and ignored) or rejected as malformed;
  // it never crashes and never passes as a different event.
  if (!roomy.Parse(std::string_view(buf_).substr(0, deep.size()), &ev_, &err_)) {
    EXPECT_EQ(err_.reason, DeadReason::kMalformedJson);
  }
}

TEST_F(EventParserTest, RecordsLongerThanTheFirstRoomParseUpToTheLimit) {
  // The parser starts with room for 64 KiB and grows: a record of exactly
  // the limit parses with all its fields, one byte more is oversized, and
  // short records still parse after a long one.
  constexpr size_t kLimit = 300 * 1024;
  parser_ = std::make_unique<EventParser>(fields_, kLimit);
  const std::string head = R"({"ts":1000,"type":"message","intent":"faq","pad":")";
  const std::string tail = R"(","latency_ms":42})";
  const std::string exact = head + std::string(kLimit - head.size() - tail.size(), 'x') + tail;
  ASSERT_EQ(exact.size(), kLimit);
  for (size_t size : {size_t{70 * 1024}, size_t{200 * 1024}}) {
    std::string mid = head;
    mid.append(size, 'y').append(tail);
    ASSERT_TRUE(Parse(mid)) << size << ": " << err_.detail;
    EXPECT_DOUBLE_EQ(ev_.slots[latency_].num, 42);
  }
  ASSERT_TRUE(Parse(exact)) << err_.detail;
  EXPECT_EQ(ev_.ts, 1000);
  EXPECT_EQ(ev_.slots[intent_].str, "faq");
  EXPECT_DOUBLE_EQ(ev_.slots[latency_].num, 42);
  EXPECT_FALSE(Parse(head + "x" + exact.substr(head.size())));
  EXPECT_EQ(err_.reason, DeadReason::kOversized);
  ASSERT_TRUE(Parse(R"({"ts":2000,"type":"message","latency_ms":7})"));
  EXPECT_EQ(ev_.ts, 2000);
  EXPECT_DOUBLE_EQ(ev_.slots[latency_].num, 7);
}

TEST_F(EventParserTest, MinuteCacheAgreesWithTheFullParser) {
  // Consecutive timestamps in one minute take the cached path; the answers
  // must equal a full parse, across minute, hour and day boundaries and for
  // forms the cache does not handle (offsets, other fraction lengths).
  const char* stamps[] = {
      "2026-01-01T00:05:00.000Z",      "2026-01-01T00:05:59.999Z", "2026-01-01T00:05:07Z",
      "2026-01-01T00:06:00.001Z",      "2026-01-01T00:05:30.500Z", "2026-01-01T00:05:30.5Z",
      "2026-01-01T00:05:30.500+01:00", "2026-01-01T00:05:60Z",     "2026-12-31T23:59:59.999Z",
      "2027-01-01T00:00:00.000Z",      "2026-12-31T23:59:01.250Z"};
  for (const char* ts : stamps) {
    ASSERT_TRUE(Parse(StrCat(R"({"ts":")", ts, R"(","type":"m"})"))) << ts;
    EXPECT_EQ(ev_.ts, *ParseRfc3339(ts)) << ts;
  }
  EXPECT_FALSE(Parse(R"({"ts":"2026-12-31T23:59:7x.000Z","type":"m"})"));
  EXPECT_EQ(err_.reason, DeadReason::kBadTs);
}

TEST_F(EventParserTest, DuplicateKeysLastWins) {
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"m","intent":"faq","intent":"chitchat"})"));
  EXPECT_EQ(ev_.slots[intent_].str, "chitchat");
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

// A field the rule file's `schema:` bounds: latency_ms in [0, 3600000], and
// meta.score (read by no rule) at most 1.
class EventParserRangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    latency_ = fields_.Intern("latency_ms");
    ASSERT_FALSE(fields_.Expect(latency_, Type::kNumber));
    fields_.SetRange(latency_, {0, 3'600'000});
    score_ = fields_.Intern("meta.score");
    fields_.SetRange(score_, {-std::numeric_limits<double>::infinity(), 1});
    intent_ = fields_.Intern("intent");
    ASSERT_FALSE(fields_.Expect(intent_, Type::kString));
    parser_ = std::make_unique<EventParser>(fields_, 1024);
  }
  bool Parse(std::string_view json) {
    buf_.assign(json);
    buf_.append(simdjson::SIMDJSON_PADDING, ' ');
    return parser_->Parse(std::string_view(buf_).substr(0, json.size()), &ev_, &err_);
  }
  void ExpectOutOfRange(std::string_view json, std::string_view detail) {
    SCOPED_TRACE(json);
    ASSERT_FALSE(Parse(json));
    EXPECT_EQ(err_.reason, DeadReason::kOutOfRange);
    EXPECT_EQ(DeadReasonName(err_.reason), "out_of_range");
    EXPECT_EQ(err_.detail, detail);
  }

  FieldTable fields_;
  int latency_, score_, intent_;
  std::unique_ptr<EventParser> parser_;
  std::string buf_;
  Event ev_;
  ParseError err_;
};

TEST_F(EventParserRangeTest, ValuesInsideTheRangeAndItsEndsPass) {
  for (const char* v : {"0", "-0", "1", "812.5", "3600000", "3.6e6"}) {
    SCOPED_TRACE(v);
    ASSERT_TRUE(Parse(StrCat(R"({"ts":1,"type":"message","latency_ms":)", v, "}"))) << err_.detail;
    EXPECT_TRUE(ev_.slots[latency_].is_number());
  }
  // Absent, null: the rules test for them; the bound is on numbers.
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message"})"));
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","latency_ms":null})"));
  EXPECT_EQ(ev_.slots[latency_].kind, Value::Kind::kNull);
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","meta":{"score":-1e300}})"));
}

TEST_F(EventParserRangeTest, ValuesOutsideAreOutOfRangeWithTheValueAndTheRange) {
  ExpectOutOfRange(R"({"ts":1,"type":"message","latency_ms":1e13})",
                   "field 'latency_ms' is 1e+13, outside the schema's range [0, 3600000]");
  ExpectOutOfRange(R"({"ts":1,"type":"message","latency_ms":3600000.5})",
                   "field 'latency_ms' is 3600000.5, outside the schema's range [0, 3600000]");
  ExpectOutOfRange(R"({"ts":1,"type":"message","latency_ms":-1})",
                   "field 'latency_ms' is -1, outside the schema's range [0, 3600000]");
  ExpectOutOfRange(R"({"ts":1,"type":"message","latency_ms":18446744073709551615})",
                   "field 'latency_ms' is 18446744073709551616, outside the schema's range "
                   "[0, 3600000]");
  // A field no rule reads is still checked, and an open end prints as such.
  ExpectOutOfRange(R"({"ts":1,"type":"message","meta":{"score":2}})",
                   "field 'meta.score' is 2, outside the schema's range (-inf, 1]");
}

TEST_F(EventParserRangeTest, TheLastOccurrenceOfAKeyIsChecked) {
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","latency_ms":1e13,"latency_ms":250})"))
      << err_.detail;
  EXPECT_EQ(ev_.slots[latency_].num, 250);
  ExpectOutOfRange(R"({"ts":1,"type":"message","latency_ms":250,"latency_ms":1e13})",
                   "field 'latency_ms' is 1e+13, outside the schema's range [0, 3600000]");
  // A nested object replaced by a later one: only the final value counts.
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","meta":{"score":5},"meta":{"score":0}})"))
      << err_.detail;
}

TEST_F(EventParserRangeTest, EarlierFaultsAreReportedFirst) {
  // A wrong type comes before a range, and a bad ts before both.
  ASSERT_FALSE(Parse(R"({"ts":1,"type":"message","latency_ms":1e13,"intent":7})"));
  EXPECT_EQ(err_.reason, DeadReason::kWrongType);
  ASSERT_FALSE(Parse(R"({"ts":"never","type":"message","latency_ms":1e13})"));
  EXPECT_EQ(err_.reason, DeadReason::kBadTs);
  // The next good record parses: no fault leaks into it.
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","latency_ms":5})")) << err_.detail;
}

TEST(DeadReasonTest, OutOfRangeIsTheLastReason) {
  EXPECT_EQ(static_cast<int>(DeadReason::kUnmatched), kDeadReasonCount - 1);
  EXPECT_EQ(DeadReasonName(DeadReason::kOutOfRange), "out_of_range");
}

}  // namespace
}  // namespace vigil
