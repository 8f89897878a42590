#include "rules/silence.h"

#include <gtest/gtest.h>

#include "rules/rule_set.h"

namespace vigil {
namespace {

TimeMs At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

LabelMatcher Matcher(const char* text) {
  std::string error;
  std::optional<LabelMatcher> m = ParseLabelMatcher(text, &error);
  EXPECT_TRUE(m.has_value()) << text << ": " << error;
  return m.value_or(LabelMatcher{});
}

TEST(LabelMatcherTest, TheFourOperatorsAsAlertmanagerWritesThem) {
  const Labels labels = {{"alertname", "LatencyP95High"}, {"severity", "P2"}};
  EXPECT_TRUE(Matcher("alertname=\"LatencyP95High\"").Matches(labels));
  EXPECT_FALSE(Matcher("alertname=\"LatencyP95\"").Matches(labels));
  EXPECT_TRUE(Matcher("severity!=\"P1\"").Matches(labels));
  EXPECT_TRUE(Matcher("alertname=~\"Latency.*\"").Matches(labels));
  // Anchored at both ends.
  EXPECT_FALSE(Matcher("alertname=~\"Latency\"").Matches(labels));
  EXPECT_TRUE(Matcher("severity!~\"P1|P3\"").Matches(labels));
  EXPECT_FALSE(Matcher("severity!~\"P2|P3\"").Matches(labels));
  // A missing label is "".
  EXPECT_TRUE(Matcher("team=\"\"").Matches(labels));
  EXPECT_FALSE(Matcher("team=\"chat\"").Matches(labels));
  EXPECT_TRUE(Matcher(" severity = P2 ").Matches(labels));  // unquoted
  EXPECT_EQ(Matcher("severity=~\"P3|P4\"").ToString(), "severity=~\"P3|P4\"");
}

TEST(LabelMatcherTest, MalformedMatchersAreExplained) {
  std::string error;
  EXPECT_FALSE(ParseLabelMatcher("severity", &error).has_value());
  EXPECT_EQ(error,
            "a matcher is name=\"value\", name!=\"value\", name=~\"regex\" or name!~\"regex\"; "
            "'severity' has no operator");
  EXPECT_FALSE(ParseLabelMatcher("=\"x\"", &error).has_value());
  EXPECT_EQ(error, "a matcher needs a label name");
  EXPECT_FALSE(ParseLabelMatcher("a=~\"(\"", &error).has_value());
  EXPECT_EQ(error.rfind("bad regular expression \"(\"", 0), 0u) << error;
}

TEST(LabelMatcherTest, ALongLabelValueIsMatchedInLinearTime) {
  // A backtracking engine recursed per character here and overflowed the
  // stack on a label of some 20 KB; a label may be as long as a record.
  const std::string faq = std::string(500'000, 'x') + "faq" + std::string(500'000, 'y');
  EXPECT_TRUE(Matcher("intent=~\".*faq.*\"").Matches({{"intent", faq}}));
  EXPECT_FALSE(Matcher("intent=~\".*faq.*\"").Matches({{"intent", std::string(1'000'000, 'x')}}));
  EXPECT_TRUE(Matcher("intent=~\"(x|y)*\"").Matches({{"intent", std::string(1'000'000, 'y')}}));
  EXPECT_TRUE(Matcher("intent!~\"(x|y)*\"").Matches({{"intent", faq}}));
}

TEST(TimeIntervalTest, TimesWeekdaysDaysMonthsYears) {
  TimeInterval i;
  i.minutes = {{2 * 60, 4 * 60}};  // [02:00, 04:00)
  i.weekdays = {{1, 5}};           // Monday to Friday
  // 2026-01-01 is a Thursday.
  EXPECT_TRUE(i.Contains(At("2026-01-01T02:00:00Z")));
  EXPECT_TRUE(i.Contains(At("2026-01-01T03:59:59.999Z")));
  EXPECT_FALSE(i.Contains(At("2026-01-01T04:00:00Z")));
  EXPECT_FALSE(i.Contains(At("2026-01-01T01:59:59.999Z")));
  EXPECT_FALSE(i.Contains(At("2026-01-03T02:30:00Z")));  // Saturday
  EXPECT_TRUE(i.Contains(At("2026-01-05T02:30:00Z")));   // Monday

  TimeInterval last_day;
  last_day.days_of_month = {{-1, -1}};
  EXPECT_TRUE(last_day.Contains(At("2026-02-28T12:00:00Z")));
  EXPECT_FALSE(last_day.Contains(At("2026-02-27T12:00:00Z")));
  EXPECT_TRUE(last_day.Contains(At("2028-02-29T12:00:00Z")));  // a leap year
  EXPECT_FALSE(last_day.Contains(At("2028-02-28T12:00:00Z")));

  TimeInterval q1;
  q1.months = {{1, 3}};
  q1.years = {{2026, 2026}};
  EXPECT_TRUE(q1.Contains(At("2026-03-31T23:59:59Z")));
  EXPECT_FALSE(q1.Contains(At("2026-04-01T00:00:00Z")));
  EXPECT_FALSE(q1.Contains(At("2027-01-15T00:00:00Z")));
}

TEST(TimeIntervalTest, TimesOfDayAreLocalToTheLocation) {
  TimeInterval i;
  i.minutes = {{2 * 60, 3 * 60}};
  ASSERT_TRUE(absl::LoadTimeZone("Europe/Berlin", &i.zone));
  // Winter: UTC+1, so 02:00-03:00 local is 01:00-02:00 UTC.
  EXPECT_TRUE(i.Contains(At("2026-01-10T01:30:00Z")));
  EXPECT_FALSE(i.Contains(At("2026-01-10T02:30:00Z")));
  // Summer: UTC+2.
  EXPECT_TRUE(i.Contains(At("2026-07-10T00:30:00Z")));
  // 2026-03-29 has no 02:00-03:00 local: clocks go from 02:00 to 03:00.
  EXPECT_FALSE(i.Contains(At("2026-03-29T00:59:00Z")));  // 01:59 CET
  EXPECT_FALSE(i.Contains(At("2026-03-29T01:00:00Z")));  // 03:00 CEST
}

SilenceDef Fixed(const char* matcher, const char* from, const char* to) {
  SilenceDef s;
  s.matchers = {Matcher(matcher)};
  s.starts_at = At(from);
  s.ends_at = At(to);
  return s;
}

TEST(SilenceBookTest, RuleAndAdHocSilencesMatchInsideTheirTimes) {
  SilenceBook book;
  SilenceDef nightly;
  nightly.name = "nightly";
  nightly.matchers = {Matcher("severity=~\"P3|P4\"")};
  nightly.intervals.push_back(TimeInterval{});
  nightly.intervals.back().minutes = {{0, 60}};
  book.SetRuleSilences({nightly});
  const Labels p3 = {{"alertname", "A"}, {"severity", "P3"}};
  const Labels p1 = {{"alertname", "B"}, {"severity", "P1"}};
  EXPECT_EQ(book.Match(p3, At("2026-01-01T00:30:00Z")), "nightly");
  EXPECT_EQ(book.Match(p3, At("2026-01-01T01:00:00Z")), "");
  EXPECT_EQ(book.Match(p1, At("2026-01-01T00:30:00Z")), "");

  const std::string id =
      book.Add(Fixed("alertname=\"B\"", "2026-01-01T10:00:00Z", "2026-01-01T12:00:00Z"));
  EXPECT_EQ(id, "s1");
  EXPECT_EQ(book.Match(p1, At("2026-01-01T09:59:59.999Z")), "");
  EXPECT_EQ(book.Match(p1, At("2026-01-01T10:00:00Z")), "s1");
  EXPECT_EQ(book.Match(p1, At("2026-01-01T12:00:00Z")), "");  // [start, end)
  // Expired early, at 11:00.
  EXPECT_TRUE(book.Expire("s1", At("2026-01-01T11:00:00Z")));
  EXPECT_EQ(book.Match(p1, At("2026-01-01T11:00:00Z")), "");
  EXPECT_EQ(book.Match(p1, At("2026-01-01T10:59:00Z")), "s1");
  EXPECT_FALSE(book.Expire("s9", 0));
  // Listed, until an hour after they end.
  EXPECT_EQ(book.List(At("2026-01-01T11:30:00Z")).size(), 2u);
  EXPECT_EQ(book.List(At("2026-01-01T12:00:01Z")).size(), 1u);
}

TEST(SilenceBookTest, AdHocSilencesRoundTripThroughACheckpoint) {
  SilenceBook book;
  book.Add(Fixed("alertname=~\"Latency.*\"", "2026-01-01T10:00:00Z", "2026-01-01T12:00:00Z"));
  SilenceDef commented = Fixed("severity!=\"P1\"", "2026-01-02T00:00:00Z", "2026-01-02T01:00:00Z");
  commented.comment = "db failover";
  commented.created_by = "ops";
  book.Add(commented);
  const std::string bytes = book.EncodeAdHoc();
  SilenceBook restored;
  ASSERT_TRUE(restored.DecodeAdHoc(bytes));
  EXPECT_EQ(restored.EncodeAdHoc(), bytes);
  EXPECT_EQ(restored.Match({{"alertname", "LatencyP99Critical"}}, At("2026-01-01T11:00:00Z")),
            "s1");
  // Ids continue after the restored ones.
  EXPECT_EQ(restored.Add(commented), "s3");
  for (size_t n = 0; n < bytes.size(); ++n) {
    SilenceBook b;
    EXPECT_FALSE(b.DecodeAdHoc(std::string_view(bytes).substr(0, n))) << n;
  }
}

TEST(SilenceBookTest, ASilenceWhosePatternRe2RefusesIsDroppedNotTheCheckpoint) {
  // Written by a version that matched with ECMAScript regexes, which took
  // lookahead: the other silences restore, and the job with them.
  SilenceBook book;
  SilenceDef old = Fixed("instance=\"x\"", "2026-01-01T10:00:00Z", "2026-01-01T12:00:00Z");
  old.matchers[0].op = LabelMatcher::Op::kRe;
  old.matchers[0].value = "(?!canary).*";
  book.Add(old);
  book.Add(Fixed("severity!=\"P1\"", "2026-01-02T00:00:00Z", "2026-01-02T01:00:00Z"));
  SilenceBook restored;
  ASSERT_TRUE(restored.DecodeAdHoc(book.EncodeAdHoc()));
  const std::vector<SilenceDef> left = restored.List(At("2026-01-01T10:00:00Z"));
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].name, "s2");
}

TEST(SilenceBookTest, AdHocIdsSkipTheNamesOfRuleFileSilences) {
  SilenceBook book;
  SilenceDef named;
  named.name = "s1";
  named.matchers = {Matcher("alertname=\"A\"")};
  SilenceDef other = named;
  other.name = "s2";
  book.SetRuleSilences({named, other});
  EXPECT_EQ(book.Add(Fixed("alertname=\"B\"", "2026-01-01T10:00:00Z", "2026-01-01T12:00:00Z")),
            "s3");
  EXPECT_EQ(book.Add(Fixed("alertname=\"C\"", "2026-01-01T10:00:00Z", "2026-01-01T12:00:00Z")),
            "s4");
  EXPECT_EQ(book.Match({{"alertname", "B"}}, At("2026-01-01T11:00:00Z")), "s3");
}

std::vector<std::string> LoadErrors(const std::string& yaml) {
  RuleLoadResult r = LoadRuleSources({{"r.yaml", yaml}});
  std::vector<std::string> out;
  for (const Diagnostic& d : r.errors) out.push_back(d.ToString());
  return out;
}

TEST(SilenceLoaderTest, RuleFileSilencesLoad) {
  RuleLoadResult r = LoadRuleSources({{"r.yaml", R"(silences:
  - silence: nightly
    matchers: ['severity=~"P3|P4"', 'alertname!="Digest"']
    time_intervals:
      - times: [{start_time: "02:00", end_time: "04:00"}]
        weekdays: ['monday:friday', sunday]
        days_of_month: ['1:5', '-1']
        months: ['january:march', '12']
        years: ['2026:2027']
        location: Europe/Berlin
    comment: reindex
  - silence: migration
    matchers: ['alertname="ErrorRateCritical"']
    starts_at: 2026-03-01T02:00:00Z
    ends_at: 2026-03-01T04:00:00Z
)"}});
  ASSERT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0].ToString());
  ASSERT_EQ(r.rules->silences.size(), 2u);
  const SilenceDef& n = r.rules->silences[0];
  EXPECT_EQ(n.name, "nightly");
  ASSERT_EQ(n.intervals.size(), 1u);
  const TimeInterval& i = n.intervals[0];
  EXPECT_EQ(i.minutes, (std::vector<std::pair<int, int>>{{120, 240}}));
  EXPECT_EQ(i.weekdays, (std::vector<std::pair<int, int>>{{1, 5}, {0, 0}}));
  EXPECT_EQ(i.days_of_month, (std::vector<std::pair<int, int>>{{1, 5}, {-1, -1}}));
  EXPECT_EQ(i.months, (std::vector<std::pair<int, int>>{{1, 3}, {12, 12}}));
  EXPECT_EQ(i.years, (std::vector<std::pair<int, int>>{{2026, 2027}}));
  EXPECT_EQ(i.location, "Europe/Berlin");
  EXPECT_EQ(n.comment, "reindex");
  const SilenceDef& m = r.rules->silences[1];
  EXPECT_TRUE(m.Active(At("2026-03-01T03:00:00Z")));
  EXPECT_FALSE(m.Active(At("2026-03-01T04:00:00Z")));
}

// Each interval below is one literal split over lines.
// NOLINTBEGIN(bugprone-suspicious-missing-comma)
// A time interval that holds at every moment mutes for good: an error, as
// a silence with no times at all is. Bounded by starts_at/ends_at, or
// leaving any moment out, it is fine.
TEST(SilenceLoaderTest, AnIntervalThatAlwaysHoldsIsAnError) {
  auto errors = [](const std::string& interval, const std::string& extra = "") {
    return LoadErrors(StrCat("silences:\n  - silence: s\n    matchers: ['alertname=\"X\"']\n",
                             "    time_intervals: [", interval, "]\n", extra));
  };
  const std::string message =
      "r.yaml:4:22: this time interval holds at every moment, so silence 's' would mute its "
      "alerts for good; leave times, weekdays, days, months or years out of it, or bound it "
      "with starts_at/ends_at";
  for (const std::string always : {
           "{}",
           "{times: [{start_time: '00:00', end_time: '24:00'}]}",
           "{times: [{start_time: '00:00', end_time: '12:00'}, {start_time: '12:00', end_time: "
           "'24:00'}]}",
           "{weekdays: ['sunday:saturday'], months: ['1:12'], days_of_month: ['1:31']}",
           "{days_of_month: ['1:28', '-3:-1']}",
           "{years: ['1970:9999']}",
       }) {
    EXPECT_EQ(errors(always), std::vector<std::string>{message}) << always;
  }
  for (const std::string bounded : {
           "{times: [{start_time: '00:00', end_time: '23:59'}]}",
           "{weekdays: ['monday:saturday']}",
           "{days_of_month: ['1:30']}",   // not the 31st
           "{days_of_month: ['27:-1']}",  // Alertmanager's: the 27th to the month's end
           "{years: ['2026']}",
       }) {
    EXPECT_EQ(errors(bounded), std::vector<std::string>{}) << bounded;
  }
  EXPECT_EQ(errors("{}", "    starts_at: 2026-03-01T02:00:00Z\n"), std::vector<std::string>{});
  EXPECT_EQ(errors("{weekdays: ['monday:sunday']}"),
            std::vector<std::string>{"r.yaml:4:34: bad weekdays entry 'monday:sunday': the range "
                                     "runs backwards (first:last, first before last)"});
  EXPECT_EQ(errors("{days_of_month: ['-1:27']}"),
            std::vector<std::string>{"r.yaml:4:39: bad days_of_month entry '-1:27': the range "
                                     "runs backwards (first:last, first before last)"});
}

// Several intervals that together hold at every moment mute for good too:
// the halves of the day, weekdays and weekends, years split in two.
TEST(SilenceLoaderTest, IntervalsThatTogetherAlwaysHoldAreAnError) {
  auto errors = [](const std::string& intervals) {
    return LoadErrors(StrCat("silences:\n  - silence: s\n    matchers: ['alertname=\"X\"']\n",
                             "    time_intervals: [", intervals, "]\n"));
  };
  const std::string message =
      "r.yaml:4:21: these time intervals together hold at every moment, so silence 's' would "
      "mute its alerts for good; narrow them, or bound it with starts_at/ends_at";
  for (const std::string always : {
           "{times: [{start_time: '00:00', end_time: '12:00'}]}, "
           "{times: [{start_time: '12:00', end_time: '24:00'}]}",
           "{weekdays: ['monday:friday']}, {weekdays: ['saturday', 'sunday']}",
           "{years: ['1970:2026']}, {years: ['2027:9999']}",
           "{days_of_month: ['1:15']}, {days_of_month: ['16:-1']}",
           "{months: ['1:6'], times: [{start_time: '00:00', end_time: '24:00'}]}, "
           "{months: ['7:12']}",
       }) {
    EXPECT_EQ(errors(always), std::vector<std::string>{message}) << always;
  }
  for (const std::string bounded : {
           "{times: [{start_time: '00:00', end_time: '12:00'}]}, "
           "{times: [{start_time: '12:01', end_time: '24:00'}]}",
           "{weekdays: ['monday:friday']}, {weekdays: ['saturday']}",
           "{days_of_month: ['1:15']}, {days_of_month: ['16:30']}",  // not the 31st
           "{weekdays: ['monday:friday']}, {weekdays: ['saturday', 'sunday'], location: "
           "Europe/Berlin}",  // zones apart: not judged together
       }) {
    EXPECT_EQ(errors(bounded), std::vector<std::string>{}) << bounded;
  }
}
// NOLINTEND(bugprone-suspicious-missing-comma)

// The 27th to the last day of the month, as Alertmanager reads '27:-1'.
TEST(TimeIntervalTest, FromADayToTheMonthsEnd) {
  RuleLoadResult r = LoadRuleSources({{"r.yaml", R"(silences:
  - silence: s
    matchers: ['alertname="X"']
    time_intervals: [{days_of_month: ['27:-1']}]
)"}});
  ASSERT_TRUE(r.ok()) << r.errors[0].ToString();
  const SilenceDef& s = r.rules->silences[0];
  EXPECT_FALSE(s.Active(At("2026-02-26T12:00:00Z")));
  EXPECT_TRUE(s.Active(At("2026-02-27T00:00:00Z")));
  EXPECT_TRUE(s.Active(At("2026-02-28T23:59:59Z")));
  EXPECT_FALSE(s.Active(At("2026-03-01T00:00:00Z")));
  EXPECT_TRUE(s.Active(At("2026-03-31T12:00:00Z")));
}

// Each message is one literal split over lines.
// NOLINTBEGIN(bugprone-suspicious-missing-comma)
TEST(SilenceLoaderTest, MistakesAreReportedWithTheirPosition) {
  EXPECT_EQ(LoadErrors(R"(silences:
  - silence: a
    matchers: ['severity']
    time_intervals:
      - weekdays: [funday]
        times: [{start_time: "04:00", end_time: "02:00"}]
        location: Mars/Olympus
  - silence: b
    matchers: ['alertname="X"']
  - silence: b
    matchers: []
    starts_at: yesterday
)"),
            (std::vector<std::string>{
                "r.yaml:3:16: a matcher is name=\"value\", name!=\"value\", name=~\"regex\" or "
                "name!~\"regex\"; 'severity' has no operator",
                "r.yaml:6:17: times [04:00, 02:00) must be HH:MM times of day with start before "
                "end (end up to 24:00)",
                "r.yaml:5:20: bad weekdays entry 'funday': a value from 0 to 6 (or a name), or a "
                "range 'first:last'",
                "r.yaml:7:19: unknown time zone 'Mars/Olympus' (an IANA name such as "
                "Europe/Berlin, from the system's tzdata)",
                "r.yaml:8:5: silence 'b' needs time_intervals or starts_at/ends_at (a silence "
                "that always holds would mute its alerts for good)",
                "r.yaml:11:15: a silence needs 'matchers': a list such as ['alertname=\"X\"', "
                "'severity=~\"P3|P4\"']",
                "r.yaml:12:16: 'starts_at' must be an RFC 3339 time such as 2026-03-01T02:00:00Z",
            }));
}
// NOLINTEND(bugprone-suspicious-missing-comma)

}  // namespace
}  // namespace vigil
