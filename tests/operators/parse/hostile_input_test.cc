// Hostile input against the event parser and the line reader, with the
// field table of the reference rules (deploy/rules/chatbot.yaml): every
// record is either accepted with exactly the values asserted here or
// rejected with exactly the reason asserted here. The large inputs are
// generated, not stored.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "base/strings.h"
#include "operators/parse/event_parser.h"
#include "operators/source/line_source.h"
#include "rules/rule_set.h"

namespace vigil {
namespace {

constexpr size_t kMaxRecord = 1 << 20;  // the default --max-record-bytes

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RuleLoadResult r = LoadRuleFiles({VIGIL_SOURCE_DIR "/deploy/rules/chatbot.yaml"});
    ASSERT_TRUE(r.ok());
    rules_ = std::move(r.rules);
    parser_ = std::make_unique<EventParser>(rules_->fields, kMaxRecord);
  }

  int Slot(std::string_view path) {
    std::optional<int> s = rules_->fields.Find(path);
    EXPECT_TRUE(s.has_value()) << path;
    return s.value_or(0);
  }
  const Value& Field(std::string_view path) { return ev_.slots[Slot(path)]; }

  // Copies into a padded buffer, as the sources do.
  bool Parse(std::string_view record) {
    buf_.assign(record);
    buf_.append(simdjson::SIMDJSON_PADDING, ' ');
    return parser_->Parse(std::string_view(buf_).substr(0, record.size()), &ev_, &err_);
  }
  // Rejected with `reason` (and a detail for the dead-letter line).
  void ExpectRejected(std::string_view record, DeadReason reason, std::string_view detail = "") {
    SCOPED_TRACE(std::string(record.substr(0, 120)));
    ASSERT_FALSE(Parse(record));
    EXPECT_EQ(DeadReasonName(err_.reason), DeadReasonName(reason)) << err_.detail;
    EXPECT_FALSE(err_.detail.empty());
    if (!detail.empty()) {
      EXPECT_EQ(err_.detail, detail);
    }
  }

  std::unique_ptr<RuleSet> rules_;
  std::unique_ptr<EventParser> parser_;
  std::string buf_;
  Event ev_;
  ParseError err_;
};

// A bot turn with `extra` members appended.
std::string Message(std::string_view extra = "") {
  return StrCat(R"({"ts":"2026-01-01T00:00:01.000Z","type":"message","session_id":"s1",)",
                R"("intent":"faq","latency_ms":250)", extra, "}");
}

constexpr char kMalformedUtf8[] = "The input is not valid UTF-8";
constexpr char kBadNumber[] =
    "a number that is malformed (01, 1., -) or out of range: beyond ±1.8e308, or an integer "
    "beyond 64 bits written without a fraction or exponent (write 1.2e29)";
constexpr char kBadString[] = "Problem while parsing a string";
constexpr char kBadStructure[] =
    "The JSON document has an improper structure: missing or superfluous commas, braces, "
    "missing keys, etc.";

TEST_F(HostileInputTest, ReferenceRulesFieldTable) {
  // The types the rules infer are what the wrong-type cases below rely on.
  EXPECT_EQ(rules_->fields.expected(Slot("latency_ms")), Type::kNumber);
  EXPECT_EQ(rules_->fields.expected(Slot("llm_timeout")), Type::kBool);
  EXPECT_EQ(rules_->fields.expected(Slot("cache_hit")), Type::kBool);
  EXPECT_EQ(rules_->fields.expected(Slot("intent")), Type::kString);
  EXPECT_EQ(rules_->fields.expected(Slot("type")), Type::kString);
  EXPECT_EQ(rules_->fields.expected(Slot("rating")), Type::kNumber);
  EXPECT_EQ(rules_->fields.expected(Slot("session_id")), Type::kAny);
  ASSERT_TRUE(Parse(Message()));
  EXPECT_EQ(ev_.ts, 1767225601000);
  EXPECT_EQ(Field("type").str, "message");
  EXPECT_EQ(Field("intent").str, "faq");
  EXPECT_EQ(Field("latency_ms").num, 250);
}

TEST_F(HostileInputTest, DeeplyNestedJsonIsMalformed) {
  const std::string arrays = std::string(100000, '[') + std::string(100000, ']');
  const std::string too_deep =
      "The JSON document was too deep (too many nested objects and arrays)";
  ExpectRejected(Message(",\"x\":" + arrays), DeadReason::kMalformedJson, too_deep);
  ExpectRejected(arrays, DeadReason::kMalformedJson, too_deep);
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += "{\"a\":";
  objects += "1" + std::string(100000, '}');
  ExpectRejected(Message(",\"x\":" + objects), DeadReason::kMalformedJson, too_deep);
  // Unclosed: the structure is wrong before the depth is.
  ExpectRejected(Message(",\"x\":" + std::string(100000, '[')), DeadReason::kMalformedJson);
  // Nesting within the limit in a field no rule reads is ignored.
  ASSERT_TRUE(Parse(Message(",\"x\":" + std::string(1000, '[') + std::string(1000, ']'))))
      << err_.detail;
  EXPECT_EQ(Field("latency_ms").num, 250);
}

TEST_F(HostileInputTest, RecordsOverTheLimitAreOversized) {
  // A record handed over whole (a Kafka message, a Kinesis record).
  const std::string big = Message(",\"pad\":\"" + std::string(10 << 20, 'x') + "\"");
  ExpectRejected(big, DeadReason::kOversized,
                 StrCat("record of ", big.size(), " bytes is over the limit of 1048576"));
  // Exactly at the limit is still parsed.
  std::string at_limit = Message(",\"pad\":\"\"");
  at_limit.insert(at_limit.size() - 2, kMaxRecord - at_limit.size(), 'y');
  ASSERT_EQ(at_limit.size(), kMaxRecord);
  ASSERT_TRUE(Parse(at_limit)) << err_.detail;
  ExpectRejected(at_limit + " ", DeadReason::kOversized);
}

// Writes `content` to a file private to this process and reads it back
// through the file source.
std::vector<Record> ReadLines(const std::string& content, std::vector<std::string>* data) {
  const std::string path =
      StrCat(::testing::TempDir(), "/hostile_", ::getpid(), "_",
             ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".ndjson");
  std::ofstream(path, std::ios::binary) << content;
  absl::StatusOr<std::unique_ptr<RecordSource>> src = OpenFileSource(path, kMaxRecord);
  EXPECT_TRUE(src.ok()) << src.status();
  std::vector<Record> all, batch;
  while (src.ok() && (*src)->Next(&batch, 64)) {
    for (const Record& r : batch) {
      data->emplace_back(r.data);
      all.push_back(r);
    }
  }
  std::remove(path.c_str());
  return all;
}

TEST_F(HostileInputTest, TenMegabyteLineIsOneOversizedRecordBetweenItsNeighbours) {
  const std::string first = Message(), last = Message(",\"rating\":1");
  const std::string huge = Message(",\"pad\":\"" + std::string(10 << 20, 'z') + "\"");
  // Once mid-file and once at the very end without a newline.
  std::vector<std::string> data;
  std::vector<Record> recs = ReadLines(first + "\n" + huge + "\n" + last + "\n" + huge, &data);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(data[0], first);
  EXPECT_EQ(data[2], last);
  for (int i : {1, 3}) {
    SCOPED_TRACE(i);
    EXPECT_TRUE(recs[i].oversized);
    EXPECT_EQ(recs[i].size, huge.size());
    EXPECT_EQ(data[i], huge.substr(0, 256));  // the head, for the dead-letter line
  }
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_EQ(recs[1].offset, first.size() + 1);
  EXPECT_EQ(recs[2].line, 3u);
  EXPECT_EQ(recs[2].offset, first.size() + huge.size() + 2);
  EXPECT_EQ(recs[3].line, 4u);
  EXPECT_EQ(recs[3].offset, first.size() + huge.size() + last.size() + 3);
  EXPECT_FALSE(recs[0].oversized || recs[2].oversized);
  ASSERT_TRUE(Parse(data[2])) << err_.detail;
  EXPECT_EQ(Field("rating").num, 1);
}

TEST_F(HostileInputTest, AnOversizedLastLineThatFitsTheReadBufferIsReported) {
  // Over the limit but under the 4 MiB read buffer, after a line that ends
  // the first read: the end of input is seen by a later read that finds
  // nothing more, and the line must still come back.
  const std::string first = Message();
  const std::string last(3 << 19, 'q');  // 1.5 MiB
  for (const std::string& tail : {last, last + "\r"}) {
    std::vector<std::string> data;
    std::vector<Record> recs = ReadLines(StrCat(first, "\n", tail), &data);
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(data[0], first);
    EXPECT_TRUE(recs[1].oversized);
    EXPECT_EQ(recs[1].line, 2u);
    EXPECT_EQ(recs[1].offset, first.size() + 1);
    EXPECT_EQ(recs[1].size, last.size());  // without the '\r', as for any line
    EXPECT_EQ(data[1], last.substr(0, 256));
  }
}

TEST_F(HostileInputTest, ALineOverTheLimitIsOversizedEvenWhenBlank) {
  // The same answer whether the line ends with a newline (read whole) or
  // the input ends inside it (skipped as it streams by).
  const std::string spaces((1 << 20) + 1, ' ');
  for (const std::string& content : {spaces + "\n", spaces}) {
    std::vector<std::string> data;
    std::vector<Record> recs = ReadLines(content, &data);
    ASSERT_EQ(recs.size(), 1u);
    EXPECT_TRUE(recs[0].oversized);
    EXPECT_EQ(recs[0].size, spaces.size());
  }
}

TEST_F(HostileInputTest, InvalidUtf8AnywhereIsMalformed) {
  const std::vector<std::string> cases = {
      Message(",\"comment\":\"\xff\xfe\""),        // not UTF-8 at all, in a field no rule reads
      "{\"ts\":1,\"type\":\"mess\xc3\"}",          // truncated sequence in a read field
      Message(",\"topic\":\"\xc0\xaf\""),          // overlong encoding of '/'
      Message(",\"topic\":\"\xed\xa0\x80\""),      // a surrogate encoded directly
      Message(",\"topic\":\"\xf4\x90\x80\x80\""),  // above U+10FFFF
      Message(",\"\xff\":1"),                      // in a key no rule reads
      "{\"ts\":1,\"type\":\"message\",\"inte\x80nt\":\"faq\"}",  // in a key close to a read one
      Message(",\"x\":1 \xa0"),                                  // outside any string
  };
  for (const std::string& c : cases) ExpectRejected(c, DeadReason::kMalformedJson, kMalformedUtf8);
  // Valid multi-byte UTF-8 is accepted as is.
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","intent":"r\u00e9sum\u00e9 \u65e5\u672c"})"));
  EXPECT_EQ(Field("intent").str, "r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac");
  ASSERT_TRUE(Parse("{\"ts\":1,\"type\":\"message\",\"intent\":\"\xf0\x9f\x9b\x92\"}"));
  EXPECT_EQ(Field("intent").str, "\xf0\x9f\x9b\x92");
}

TEST_F(HostileInputTest, NanAndInfinityAreMalformed) {
  for (const char* literal : {"NaN", "Infinity", "-Infinity", "nan", "inf", "-NaN"}) {
    SCOPED_TRACE(literal);
    ExpectRejected(StrCat(R"({"ts":1,"type":"message","latency_ms":)", literal, "}"),
                   DeadReason::kMalformedJson);
    ExpectRejected(Message(StrCat(",\"unread\":", literal)), DeadReason::kMalformedJson);
  }
  // As strings they are strings: not numbers for latency_ms.
  ExpectRejected(R"({"ts":1,"type":"message","latency_ms":"NaN"})", DeadReason::kWrongType,
                 "field 'latency_ms' is a string, rules expect a number");
}

TEST_F(HostileInputTest, NumbersOutsideTheDoubleRangeAreMalformed) {
  for (const char* n : {"1e400", "-1e400", "123456789012345678901234567890",
                        "-123456789012345678901234567890", "18446744073709551616"}) {
    SCOPED_TRACE(n);
    ExpectRejected(StrCat(R"({"ts":1,"type":"message","latency_ms":)", n, "}"),
                   DeadReason::kMalformedJson, kBadNumber);
    ExpectRejected(StrCat(R"({"ts":1,"type":"message","unread":)", n, "}"),
                   DeadReason::kMalformedJson, kBadNumber);
  }
  // What fits is a number (integers beyond 2^53 round to the nearest double).
  struct Fits {
    const char* text;
    double value;
  } fits[] = {{"18446744073709551615", 18446744073709551615.0},
              {"-9223372036854775808", -9223372036854775808.0},
              {"1.7976931348623157e308", 1.7976931348623157e308},
              {"1e-400", 0.0},
              {"-0", 0.0},
              {"4.9e-324", 4.9e-324}};
  // llm_calls: a number the reference rules read without a schema bound
  // (latency_ms is bounded to 0..1h, so most of these are out_of_range there).
  for (const Fits& f : fits) {
    SCOPED_TRACE(f.text);
    ASSERT_TRUE(Parse(StrCat(R"({"ts":1,"type":"message","llm_calls":)", f.text, "}")))
        << err_.detail;
    EXPECT_EQ(Field("llm_calls").num, f.value);
    EXPECT_TRUE(std::isfinite(Field("llm_calls").num));
  }
  ExpectRejected(R"({"ts":1,"type":"message","latency_ms":1.7976931348623157e308})",
                 DeadReason::kOutOfRange,
                 "field 'latency_ms' is 1.7976931348623157e+308, outside the schema's range "
                 "[0, 3600000]");
  // Malformed number syntax.
  for (const char* n : {"01", "1.", ".5", "+1", "1e", "0x10", "1_000"}) {
    SCOPED_TRACE(n);
    ExpectRejected(StrCat(R"({"ts":1,"type":"message","latency_ms":)", n, "}"),
                   DeadReason::kMalformedJson);
  }
}

TEST_F(HostileInputTest, DuplicateKeysTheLastOccurrenceWins) {
  // As in JSON.parse and Python's json: one rule for every key, `ts` and
  // `type` included, so the event the rules see is the event a consumer of
  // the same record in another language sees.
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","intent":"faq","intent":"chitchat"})"));
  EXPECT_EQ(Field("intent").str, "chitchat");
  ASSERT_TRUE(Parse(R"({"ts":1000,"type":"message","ts":"2026-01-01T00:00:00Z"})"));
  EXPECT_EQ(ev_.ts, 1767225600000);
  ASSERT_TRUE(Parse(R"({"type":"feedback","ts":1,"type":"message"})"));
  EXPECT_EQ(Field("type").str, "message");
  // A bad earlier value does not count once a later one replaces it...
  ASSERT_TRUE(Parse(R"({"ts":"never","type":7,"latency_ms":"slow","latency_ms":12,)"
                    R"("session_id":{"a":1},"session_id":"s2","ts":5,"type":"message"})"))
      << err_.detail;
  EXPECT_EQ(ev_.ts, 5);
  EXPECT_EQ(Field("latency_ms").num, 12);
  EXPECT_EQ(Field("session_id").str, "s2");
  // ...and a bad later value is what the record holds.
  ExpectRejected(R"({"ts":1,"type":"message","ts":"never"})", DeadReason::kBadTs);
  ExpectRejected(R"({"ts":1,"type":"message","type":null})", DeadReason::kMissingType);
  ExpectRejected(R"({"ts":1,"type":"message","latency_ms":12,"latency_ms":"slow"})",
                 DeadReason::kWrongType, "field 'latency_ms' is a string, rules expect a number");
  ExpectRejected(R"({"ts":1,"type":"message","session_id":"s","session_id":[1]})",
                 DeadReason::kWrongType,
                 "field 'session_id' is an array, rules expect a string, number or boolean");
  // A later null replaces an earlier value: null, not the value.
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","error_service":"bedrock","error_service":null})"));
  EXPECT_EQ(Field("error_service").kind, Value::Kind::kNull);
}

TEST(HostileNestedInputTest, ARepeatedObjectKeyReplacesTheWholeObject) {
  FieldTable fields;
  const int region = fields.Intern("meta.region");
  const int zone = fields.Intern("meta.zone.name");
  ASSERT_FALSE(fields.Expect(zone, Type::kString));
  EventParser parser(fields, 4096);
  Event ev;
  ParseError err;
  std::string buf;
  auto parse = [&](std::string_view json) {
    buf.assign(json);
    buf.append(simdjson::SIMDJSON_PADDING, ' ');
    return parser.Parse(std::string_view(buf).substr(0, json.size()), &ev, &err);
  };
  ASSERT_TRUE(parse(R"({"ts":1,"type":"m","meta":{"region":"eu","zone":{"name":"a"}},)"
                    R"("meta":{"region":"us"}})"));
  EXPECT_EQ(ev.slots[region].str, "us");
  EXPECT_TRUE(ev.slots[zone].is_missing());
  ASSERT_TRUE(parse(R"({"ts":1,"type":"m","meta":{"region":"eu"},"meta":5})"));
  EXPECT_TRUE(ev.slots[region].is_missing());
  // A wrong type in the replaced object no longer counts.
  ASSERT_TRUE(parse(R"({"ts":1,"type":"m","meta":{"zone":{"name":7}},"meta":{"region":"x"}})"))
      << err.detail;
  EXPECT_EQ(ev.slots[region].str, "x");
  ASSERT_FALSE(parse(R"({"ts":1,"type":"m","meta":{"region":"x"},"meta":{"zone":{"name":7}}})"));
  EXPECT_EQ(err.detail, "field 'meta.zone.name' is a number, rules expect a string");
  // The same key at another depth is another field.
  ASSERT_TRUE(parse(R"({"ts":1,"type":"m","meta":{"region":"eu","ts":"x","type":5}})"));
  EXPECT_EQ(ev.ts, 1);
}

TEST_F(HostileInputTest, WrongTypesForFieldsTheRulesRead) {
  struct Case {
    std::string record;
    DeadReason reason;
    std::string detail;
  } cases[] = {
      {R"({"ts":1,"type":"message","latency_ms":"250"})", DeadReason::kWrongType,
       "field 'latency_ms' is a string, rules expect a number"},
      {R"({"ts":1,"type":"message","latency_ms":true})", DeadReason::kWrongType,
       "field 'latency_ms' is a boolean, rules expect a number"},
      {R"({"ts":1,"type":"message","latency_ms":[250]})", DeadReason::kWrongType,
       "field 'latency_ms' is an array, rules expect a number"},
      {R"({"ts":1,"type":"message","session_id":{"id":"s1"}})", DeadReason::kWrongType,
       "field 'session_id' is an object, rules expect a string, number or boolean"},
      {R"({"ts":1,"type":"message","llm_timeout":1})", DeadReason::kWrongType,
       "field 'llm_timeout' is a number, rules expect a boolean"},
      {R"({"ts":1,"type":"message","cache_hit":"true"})", DeadReason::kWrongType,
       "field 'cache_hit' is a string, rules expect a boolean"},
      {R"({"ts":1,"type":"feedback","rating":"-1"})", DeadReason::kWrongType,
       "field 'rating' is a string, rules expect a number"},
      {R"({"ts":1,"type":"message","intent":42})", DeadReason::kWrongType,
       "field 'intent' is a number, rules expect a string"},
      {R"({"ts":true,"type":"message"})", DeadReason::kBadTs,
       "ts must be integer epoch milliseconds or an RFC 3339 string"},
      {R"({"ts":{"ms":1},"type":"message"})", DeadReason::kBadTs,
       "ts must be integer epoch milliseconds or an RFC 3339 string"},
      {R"({"ts":null,"type":"message"})", DeadReason::kBadTs,
       "ts must be integer epoch milliseconds or an RFC 3339 string"},
      {R"({"ts":1,"type":["message"]})", DeadReason::kMissingType, "no string 'type' field"},
      {R"({"ts":1,"type":null})", DeadReason::kMissingType, "no string 'type' field"},
  };
  for (const Case& c : cases) ExpectRejected(c.record, c.reason, c.detail);
  // Null and absent fit any type: the rules test for them.
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","latency_ms":null,"intent":null})"));
  EXPECT_EQ(Field("latency_ms").kind, Value::Kind::kNull);
  EXPECT_EQ(Field("intent").kind, Value::Kind::kNull);
  EXPECT_EQ(Field("cache_hit").kind, Value::Kind::kMissing);
  // Fields no rule reads may hold anything.
  ASSERT_TRUE(Parse(Message(R"(,"asin":{"deep":[1,{"x":null}]},"turn_id":false)")));
  // user_id is a session-stream key (visitors): a value, never an object.
  ExpectRejected(Message(R"(,"user_id":{"id":"u1"})"), DeadReason::kWrongType,
                 "field 'user_id' is an object, rules expect a string, number or boolean");
}

TEST_F(HostileInputTest, TimestampsFarInThePastAreBad) {
  struct Case {
    const char* ts;
    const char* detail;
  } cases[] = {
      {R"("0001-01-01T00:00:00Z")", "ts -62135596800000 is outside years 1970..9999"},
      {R"("1969-12-31T23:59:59.999Z")", "ts -1 is outside years 1970..9999"},
      {R"("1970-01-01T00:30:00+01:00")", "ts -1800000 is outside years 1970..9999"},
      {"-1", "ts -1 is outside years 1970..9999"},
      {"-9223372036854775808", "ts -9223372036854775808 is outside years 1970..9999"},
      {"-1e15", "ts -1000000000000000 is outside years 1970..9999"},
      {R"("-0001-01-01T00:00:00Z")",
       "ts '-0001-01-01T00:00:00Z' is not an RFC 3339 time with a zone (e.g. "
       "2026-11-24T12:00:00Z)"},
  };
  for (const Case& c : cases) {
    ExpectRejected(StrCat(R"({"type":"message","ts":)", c.ts, "}"), DeadReason::kBadTs, c.detail);
  }
  ASSERT_TRUE(Parse(R"({"type":"message","ts":"1970-01-01T00:00:00Z"})"));
  EXPECT_EQ(ev_.ts, 0);
  ASSERT_TRUE(Parse(R"({"type":"message","ts":0})"));
  EXPECT_EQ(ev_.ts, 0);
}

TEST_F(HostileInputTest, TimestampsFarInTheFuture) {
  struct Case {
    const char* ts;
    const char* detail;
  } cases[] = {
      {"1000000000000000000", "ts 1000000000000000000 is outside years 1970..9999"},
      {"253402300800000", "ts 253402300800000 is outside years 1970..9999"},
      {"9223372036854775807", "ts 9223372036854775807 is outside years 1970..9999"},
      {"9223372036854775808", "ts is out of range"},
      {"18446744073709551615", "ts is out of range"},
      {"1e18", "ts must be integer epoch milliseconds or an RFC 3339 string"},
      {R"("9999-12-31T23:59:59.999-00:01")", "ts 253402300859999 is outside years 1970..9999"},
      // Year 10000 is read (window ends lie there) but is no event time.
      {R"("10000-01-01T00:00:00Z")", "ts 253402300800000 is outside years 1970..9999"},
      {R"("10001-01-01T00:00:00Z")",
       "ts '10001-01-01T00:00:00Z' is not an RFC 3339 time with a zone (e.g. "
       "2026-11-24T12:00:00Z)"},
  };
  for (const Case& c : cases) {
    ExpectRejected(StrCat(R"({"type":"message","ts":)", c.ts, "}"), DeadReason::kBadTs, c.detail);
  }
  // The last millisecond of year 9999 is a valid event time (see docs/windows-and-time.md:
  // such an event moves the watermark there).
  ASSERT_TRUE(Parse(R"({"type":"message","ts":"9999-12-31T23:59:59.999Z"})"));
  EXPECT_EQ(ev_.ts, 253402300799999);
  ASSERT_TRUE(Parse(R"({"type":"message","ts":253402300799999})"));
  EXPECT_EQ(ev_.ts, 253402300799999);
  ASSERT_TRUE(Parse(R"({"type":"message","ts":2.53402300799999e14})"));
  EXPECT_EQ(ev_.ts, 253402300799999);
}

TEST_F(HostileInputTest, EmptyAndBlankLinesAreNotRecords) {
  std::vector<std::string> data;
  const std::string event = Message();
  std::vector<Record> recs = ReadLines("\n\n   \n\t\n\r\n" + event + "\n \t \r\n\n" + event, &data);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].line, 6u);
  EXPECT_EQ(recs[1].line, 9u);
  EXPECT_EQ(data[0], event);
  EXPECT_EQ(data[1], event);
  // Handed to the parser directly (an empty Kafka message), they are malformed.
  ExpectRejected("", DeadReason::kMalformedJson,
                 "no JSON: the record is empty or holds only whitespace or a byte order mark");
  ExpectRejected("  \t ", DeadReason::kMalformedJson,
                 "no JSON: the record is empty or holds only whitespace or a byte order mark");
}

TEST_F(HostileInputTest, LoneSurrogatesInEscapesAreMalformed) {
  for (const char* s : {R"(\ud800)", R"(\udfff)", R"(\udc00\ud800)", R"(\ud800\u0041)",
                        R"(\ud800x)", R"(\ud83d)"}) {
    SCOPED_TRACE(s);
    ExpectRejected(StrCat(R"({"ts":1,"type":"message","intent":")", s, "\"}"),
                   DeadReason::kMalformedJson, kBadString);
    ExpectRejected(StrCat(R"({"ts":1,"type":"message","unread":")", s, "\"}"),
                   DeadReason::kMalformedJson, kBadString);
    ExpectRejected(StrCat(R"({"ts":1,"type":"message",")", s, "\":1}"), DeadReason::kMalformedJson,
                   kBadString);
  }
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","intent":"\ud83d\uded2"})"));
  EXPECT_EQ(Field("intent").str, "\xf0\x9f\x9b\x92");
}

TEST_F(HostileInputTest, NulBytes) {
  using namespace std::string_literals;
  ExpectRejected("{\"ts\":1,\"type\":\"mess\0age\"}"s, DeadReason::kMalformedJson,
                 "Within strings, some characters must be escaped, we found unescaped characters");
  ExpectRejected(Message() + "\0"s, DeadReason::kMalformedJson, kBadStructure);
  ExpectRejected("\0"s + Message(), DeadReason::kMalformedJson);
  ExpectRejected("\0\0\0\0"s, DeadReason::kMalformedJson);
  // Escaped, NUL is an ordinary character of the string.
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","intent":"fa\u0000q"})"));
  EXPECT_EQ(Field("intent").str, "fa\0q"s);
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","int\u0000ent":"faq"})"));
  EXPECT_TRUE(Field("intent").is_missing());
  // A line holding NUL bytes is one record: only '\n' ends a line.
  std::vector<std::string> data;
  std::vector<Record> recs = ReadLines("{\"a\":\"\0\"}\n\0\n"s + Message(), &data);
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(data[0], "{\"a\":\"\0\"}"s);
  EXPECT_EQ(data[1], "\0"s);
}

TEST_F(HostileInputTest, ALeadingByteOrderMarkIsIgnored) {
  // RFC 8259 section 8.1 lets a parser ignore it; editors on Windows write
  // one at the start of a file.
  const std::string bom = "\xef\xbb\xbf";
  ASSERT_TRUE(Parse(bom + Message())) << err_.detail;
  EXPECT_EQ(Field("intent").str, "faq");
  std::vector<std::string> data;
  std::vector<Record> recs = ReadLines(bom + Message() + "\n" + Message(), &data);
  ASSERT_EQ(recs.size(), 2u);
  ASSERT_TRUE(Parse(data[0])) << err_.detail;
  // Anywhere else it is not JSON.
  ExpectRejected(bom + bom + Message(), DeadReason::kMalformedJson, kBadStructure);
  ExpectRejected(" " + bom + Message(), DeadReason::kMalformedJson, kBadStructure);
  ExpectRejected(Message() + bom, DeadReason::kMalformedJson, kBadStructure);
  ExpectRejected("\xfe\xff" + Message(), DeadReason::kMalformedJson, kMalformedUtf8);
  ExpectRejected(bom, DeadReason::kMalformedJson,
                 "no JSON: the record is empty or holds only whitespace or a byte order mark");
  // Inside a string it is a character like any other.
  ASSERT_TRUE(Parse(R"({"ts":1,"type":"message","intent":")" + bom + "faq\"}"));
  EXPECT_EQ(Field("intent").str, bom + "faq");
}

TEST_F(HostileInputTest, TrailingGarbageIsMalformed) {
  for (const char* tail : {" x", "{}", ",", "]", "}", " {\"ts\":2}", " 1", " null", "\"\""}) {
    SCOPED_TRACE(tail);
    ExpectRejected(Message() + tail, DeadReason::kMalformedJson, kBadStructure);
  }
  ASSERT_TRUE(Parse(Message() + " \t\r\n "));
}

TEST_F(HostileInputTest, TopLevelNonObjectsAreNotObjects) {
  for (const char* doc : {"[]", R"([{"ts":1,"type":"message"}])", R"("message")", "1", "-1.5",
                          "true", "false", "null", "0"}) {
    ExpectRejected(doc, DeadReason::kNotObject, "a record must be a JSON object");
  }
  ExpectRejected("{}", DeadReason::kMissingTs, "no 'ts' field");
}

}  // namespace
}  // namespace vigil
