#include "base/strings.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vigil {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string Json(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

TEST(StrCatTest, MixedPieces) {
  const std::string owned = "own";
  const std::string_view view = "view";
  EXPECT_EQ(StrCat("window ", 5, "m"), "window 5m");
  EXPECT_EQ(StrCat(owned, '/', view), "own/view");
  EXPECT_EQ(StrCat(true, ",", false), "true,false");
  EXPECT_EQ(StrCat(int64_t{-42}, " ", uint64_t{18446744073709551615u}), "-42 18446744073709551615");
  EXPECT_EQ(StrCat(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
  EXPECT_EQ(StrCat(size_t{0}), "0");
}

TEST(StrCatTest, DoublesUseTheShortestRoundTripForm) {
  EXPECT_EQ(StrCat(0.5), "0.5");
  EXPECT_EQ(StrCat(0.1), "0.1");
  EXPECT_EQ(StrCat(2.0), "2");
  EXPECT_EQ(StrCat(-1.25f), "-1.25");
  EXPECT_EQ(StrCat(1e300), "1e+300");
  EXPECT_EQ(StrCat(-2.2250738585072014e-308), "-2.2250738585072014e-308");
}

TEST(AppendOneLineTest, ControlCharactersAreEscaped) {
  std::string out;
  AppendOneLine("a\nb\tc\x1b[31md\x7f \xc3\xbc", &out);
  EXPECT_EQ(out, "a\\nb\\tc\\u001b[31md\\u007f \xc3\xbc");
  EXPECT_EQ(Utf8Length("\xc3\xbc\xe2\x82\xac!"), 3u);  // ü€!
}

TEST(StrAppendTest, AppendsToExisting) {
  std::string s = "a";
  StrAppend(&s, "b", 1, 'c');
  EXPECT_EQ(s, "ab1c");
}

TEST(StrSplitTest, KeepsEmptyPieces) {
  EXPECT_THAT(StrSplit("a,,b", ','), ElementsAre("a", "", "b"));
  EXPECT_THAT(StrSplit("a,b,", ','), ElementsAre("a", "b", ""));
  EXPECT_THAT(StrSplit(",a", ','), ElementsAre("", "a"));
  EXPECT_THAT(StrSplit("abc", ','), ElementsAre("abc"));
  EXPECT_THAT(StrSplit("", ','), ElementsAre(""));
  EXPECT_THAT(StrSplit(",", ','), ElementsAre("", ""));
}

TEST(StrSplitTest, PiecesPointIntoTheInput) {
  const std::string_view input = "x|yy|zzz";
  std::vector<std::string_view> parts = StrSplit(input, '|');
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[1].data(), input.data() + 2);
  EXPECT_EQ(parts[2].data(), input.data() + 5);
}

TEST(SplitWordsTest, SplitsOnWhitespaceRuns) {
  EXPECT_THAT(SplitWords("sliding 5m every 1m"), ElementsAre("sliding", "5m", "every", "1m"));
  EXPECT_THAT(SplitWords("  a \t\n b  "), ElementsAre("a", "b"));
  EXPECT_THAT(SplitWords(""), IsEmpty());
  EXPECT_THAT(SplitWords(" \t\r\n"), IsEmpty());
  EXPECT_THAT(SplitWords("one"), ElementsAre("one"));
}

TEST(StrJoinTest, Joins) {
  EXPECT_EQ(StrJoin({"x", "y"}, ", "), "x, y");
  EXPECT_EQ(StrJoin({"x"}, ", "), "x");
  EXPECT_EQ(StrJoin({}, ", "), "");
  EXPECT_EQ(StrJoin({"", ""}, "-"), "-");
  EXPECT_EQ(StrJoin({"a", "b", "c"}, ""), "abc");
}

TEST(StripTest, RemovesSurroundingWhitespaceOnly) {
  EXPECT_EQ(Strip("  faq "), "faq");
  EXPECT_EQ(Strip("\t\na b\r\n"), "a b");
  EXPECT_EQ(Strip("   "), "");
  EXPECT_EQ(Strip(""), "");
  EXPECT_EQ(Strip("x"), "x");
}

TEST(ConsumePrefixTest, ConsumesOnlyOnMatch) {
  std::string_view s = "rules/faq.yaml";
  EXPECT_TRUE(ConsumePrefix(&s, "rules/"));
  EXPECT_EQ(s, "faq.yaml");
  EXPECT_FALSE(ConsumePrefix(&s, "rules/"));
  EXPECT_EQ(s, "faq.yaml");
  EXPECT_FALSE(ConsumePrefix(&s, "faq.yaml.bak"));
  EXPECT_EQ(s, "faq.yaml");
  EXPECT_TRUE(ConsumePrefix(&s, ""));
  EXPECT_TRUE(ConsumePrefix(&s, "faq.yaml"));
  EXPECT_EQ(s, "");
}

TEST(StringHashTest, ProbesWithStringView) {
  std::unordered_set<std::string, StringHash, StringEq> set = {"faq", "billing"};
  EXPECT_TRUE(set.find(std::string_view("faq")) != set.end());
  EXPECT_TRUE(set.find(std::string_view("nope")) == set.end());
  EXPECT_EQ(StringHash{}(std::string("abc")), StringHash{}(std::string_view("abc")));
}

std::string JsonNumber(double v) {
  std::string out;
  AppendJsonNumber(v, &out);
  return out;
}

// Shortest digits that read back, without an exponent from 1e-6 to 1e21:
// a count of 100000 is written 100000, which an integer parser takes.
TEST(AppendJsonNumberTest, PlainFromOneMillionthToTenToTheTwentyOne) {
  EXPECT_EQ(JsonNumber(0), "0");
  EXPECT_EQ(JsonNumber(100000), "100000");
  EXPECT_EQ(JsonNumber(-2500000), "-2500000");
  EXPECT_EQ(JsonNumber(1e20), "100000000000000000000");
  EXPECT_EQ(JsonNumber(0.1), "0.1");
  EXPECT_EQ(JsonNumber(1e-6), "0.000001");
  EXPECT_EQ(JsonNumber(123.456), "123.456");
  EXPECT_EQ(JsonNumber(1e21), "1e+21");
  EXPECT_EQ(JsonNumber(1.5e-7), "1.5e-07");
  EXPECT_EQ(JsonNumber(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(JsonNumber(std::nan("")), "null");
  for (double v : {0.1, 1.0 / 3, 123456789.123, 2e-6, 9.999e20}) {
    EXPECT_EQ(std::stod(JsonNumber(v)), v) << JsonNumber(v);
  }
}

TEST(AppendJsonStringTest, PlainAndEscaped) {
  EXPECT_EQ(Json(""), R"("")");
  EXPECT_EQ(Json("faq"), R"("faq")");
  EXPECT_EQ(Json("say \"hi\""), R"("say \"hi\"")");
  EXPECT_EQ(Json("a\\b"), R"("a\\b")");
  EXPECT_EQ(Json("l1\nl2\r\tx"), R"("l1\nl2\r\tx")");
  EXPECT_EQ(Json(std::string_view("\0\x01\x1f", 3)), R"("\u0000\u0001\u001f")");
  EXPECT_EQ(Json("\b\f"), R"("\u0008\u000c")");
  // '/' and DEL need no escape in JSON.
  EXPECT_EQ(Json("a/b\x7f"), "\"a/b\x7f\"");

  std::string out = "x=";
  AppendJsonString("1", &out);
  EXPECT_EQ(out, "x=\"1\"");
}

TEST(AppendJsonStringTest, ValidUtf8PassesThrough) {
  EXPECT_EQ(Json("caf\xC3\xA9"), "\"caf\xC3\xA9\"");            // é, 2 bytes
  EXPECT_EQ(Json("\xE2\x82\xAC"), "\"\xE2\x82\xAC\"");          // €, 3 bytes
  EXPECT_EQ(Json("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");  // U+1F600, 4 bytes
  EXPECT_EQ(Json("\xF4\x8F\xBF\xBF"), "\"\xF4\x8F\xBF\xBF\"");  // U+10FFFF
  EXPECT_EQ(Json("\xEF\xBF\xBD"), "\"\xEF\xBF\xBD\"");          // U+FFFD itself
}

TEST(AppendJsonStringTest, InvalidUtf8BecomesReplacementCharacter) {
  const std::string kFffd = "\xEF\xBF\xBD";
  EXPECT_EQ(Json("\xFF"), "\"" + kFffd + "\"");
  EXPECT_EQ(Json("a\x80"
                 "b"),
            "\"a" + kFffd + "b\"");                                      // lone continuation byte
  EXPECT_EQ(Json("\xC3"), "\"" + kFffd + "\"");                          // truncated sequence
  EXPECT_EQ(Json("\xC3("), "\"" + kFffd + "(\"");                        // bad continuation
  EXPECT_EQ(Json("\xC0\xAF"), "\"" + kFffd + kFffd + "\"");              // overlong '/'
  EXPECT_EQ(Json("\xE0\x80\xAF"), "\"" + kFffd + kFffd + kFffd + "\"");  // overlong
  EXPECT_EQ(Json("\xED\xA0\x80"), "\"" + kFffd + kFffd + kFffd + "\"");  // surrogate D800
  EXPECT_EQ(Json("\xF4\x90\x80\x80"), "\"" + kFffd + kFffd + kFffd + kFffd + "\"");  // > U+10FFFF
  EXPECT_EQ(Json("\xF8\x88\x80\x80\x80"),
            "\"" + kFffd + kFffd + kFffd + kFffd + kFffd + "\"");  // 5-byte form
  // A bad byte does not swallow the valid character that follows it.
  EXPECT_EQ(Json("\xE2\x82"
                 "\xC3\xA9"),
            "\"" + kFffd + kFffd + "\xC3\xA9\"");
}

TEST(ThousandsTest, GroupsTheDigitsOfTheRoundedValue) {
  EXPECT_EQ(Thousands(0), "0");
  EXPECT_EQ(Thousands(-0.0), "0");
  EXPECT_EQ(Thousands(999), "999");
  EXPECT_EQ(Thousands(1000), "1,000");
  EXPECT_EQ(Thousands(1234567), "1,234,567");
  EXPECT_EQ(Thousands(-123456), "-123,456");
  EXPECT_EQ(Thousands(-12345.6), "-12,346");
  EXPECT_EQ(Thousands(-0.4), "0");
  EXPECT_EQ(Thousands(123456789012.0), "123,456,789,012");
  EXPECT_EQ(FormatDouble("%.1f%%", 12.34), "12.3%");
}

}  // namespace
}  // namespace vigil
