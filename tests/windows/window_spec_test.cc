#include "windows/window_spec.h"

#include <map>
#include <string>

#include "absl/status/status.h"
#include "base/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace vigil {
namespace {

using ::testing::HasSubstr;

constexpr DurationMs kSecond = 1000;
constexpr DurationMs kMinute = 60 * kSecond;
constexpr DurationMs kHour = 60 * kMinute;

TEST(WindowSpecTest, ParseTumbling) {
  absl::StatusOr<WindowSpec> spec = WindowSpec::Parse("tumbling 1m");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->kind(), WindowSpec::Kind::kTumbling);
  EXPECT_EQ(spec->size(), kMinute);
  EXPECT_EQ(spec->slide(), kMinute);
  EXPECT_EQ(spec->pane(), kMinute);
  EXPECT_EQ(spec->panes_per_window(), 1);
  EXPECT_EQ(*spec, WindowSpec::Tumbling(kMinute));
}

TEST(WindowSpecTest, ParseSliding) {
  absl::StatusOr<WindowSpec> spec = WindowSpec::Parse("sliding 5m every 1m");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->kind(), WindowSpec::Kind::kSliding);
  EXPECT_EQ(spec->size(), 5 * kMinute);
  EXPECT_EQ(spec->slide(), kMinute);
  EXPECT_EQ(spec->pane(), kMinute);
  EXPECT_EQ(spec->panes_per_window(), 5);
  EXPECT_EQ(*spec, WindowSpec::Sliding(5 * kMinute, kMinute));
}

TEST(WindowSpecTest, PaneIsTheGcdOfSizeAndSlide) {
  absl::StatusOr<WindowSpec> spec = WindowSpec::Parse("sliding 5m every 2m");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->pane(), kMinute);
  EXPECT_EQ(spec->slide(), 2 * kMinute);
  EXPECT_EQ(spec->panes_per_window(), 5);

  spec = WindowSpec::Parse("sliding 90s every 1m");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->pane(), 30 * kSecond);
  EXPECT_EQ(spec->panes_per_window(), 3);

  spec = WindowSpec::Parse("sliding 1h30m every 1h");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->size(), 90 * kMinute);
  EXPECT_EQ(spec->pane(), 30 * kMinute);

  // Slide equal to size is a tumbling window in all but name.
  spec = WindowSpec::Parse("sliding 1m every 1m");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->panes_per_window(), 1);
}

TEST(WindowSpecTest, ParseToleratesExtraWhitespace) {
  absl::StatusOr<WindowSpec> spec = WindowSpec::Parse("  sliding\t10s   every 5s \n");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(*spec, WindowSpec::Sliding(10 * kSecond, 5 * kSecond));
}

TEST(WindowSpecTest, ParseRejectsSlideLongerThanSize) {
  absl::StatusOr<WindowSpec> spec = WindowSpec::Parse("sliding 1m every 5m");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("5m"));
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("1m"));
}

TEST(WindowSpecTest, ParseRejectsWindowsOverThePaneLimit) {
  // A day every millisecond: 86,400,000 panes of 1 ms per window.
  absl::StatusOr<WindowSpec> spec = WindowSpec::Parse("sliding 1d every 1ms");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message(),
            "window 'sliding 1d every 1ms' needs 86400000 panes of 1ms per window (the gcd of "
            "size and slide); the limit is 10000: use a longer slide");
  // The pane grid counts, not size / slide: 1h every 7s is 514 windows an
  // event lands in but 3,600 panes of 1s; 3h every 1s is 10,800 panes.
  spec = WindowSpec::Parse("sliding 3h every 1s");
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().message(),
            "window 'sliding 3h every 1s' needs 10800 panes of 1s per window (the gcd of size "
            "and slide); the limit is 10000: use a longer slide");
  spec = WindowSpec::Parse("sliding 3h every 7s");
  ASSERT_FALSE(spec.ok());
  EXPECT_THAT(std::string(spec.status().message()), HasSubstr("needs 10800 panes of 1s"));
  // At the limit and below it.
  spec = WindowSpec::Parse("sliding 10000s every 1s");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->panes_per_window(), WindowSpec::kMaxPanesPerWindow);
  spec = WindowSpec::Parse("sliding 1d every 10s");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->panes_per_window(), 8640);
  spec = WindowSpec::Parse("sliding 1h every 7s");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->panes_per_window(), 3600);
  // Tumbling windows are one pane, whatever their size.
  spec = WindowSpec::Parse("tumbling 1ms");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->panes_per_window(), 1);
}

TEST(WindowSpecTest, ParseRejectsBadDurations) {
  for (const char* text : {"tumbling -1m", "tumbling 5", "tumbling m", "tumbling 1m1h",
                           "sliding 5 every 1m", "sliding 5m every 1x"}) {
    absl::StatusOr<WindowSpec> spec = WindowSpec::Parse(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(spec.status().message()), HasSubstr("bad duration")) << text;
  }
  // A zero is a duration, but no window's size or slide.
  for (const char* text :
       {"tumbling 0", "tumbling 0s", "sliding 5m every 0s", "sliding 0ms every 0ms"}) {
    absl::StatusOr<WindowSpec> spec = WindowSpec::Parse(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_THAT(std::string(spec.status().message()),
                ::testing::StartsWith("a window's size and slide must be positive, not '0"))
        << text;
  }
}

TEST(WindowSpecTest, ParseRejectsBadWords) {
  for (const char* text : {"", "tumbling", "tumbling 1m extra", "Tumbling 1m", "hopping 1m",
                           "sliding 5m", "sliding 5m every", "sliding 5m by 1m",
                           "sliding 5m every 1m more", "every 5m sliding 1m", "1m"}) {
    absl::StatusOr<WindowSpec> spec = WindowSpec::Parse(text);
    ASSERT_FALSE(spec.ok()) << text;
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_THAT(std::string(spec.status().message()), HasSubstr("bad window")) << text;
  }
}

TEST(WindowSpecTest, ToStringParsesBack) {
  EXPECT_EQ(WindowSpec::Tumbling(kMinute).ToString(), "tumbling 1m");
  EXPECT_EQ(WindowSpec::Sliding(5 * kMinute, kMinute).ToString(), "sliding 5m every 1m");
  EXPECT_EQ(WindowSpec::Sliding(90 * kMinute, 90 * kSecond).ToString(),
            "sliding 1h30m every 1m30s");
  for (const WindowSpec& spec :
       {WindowSpec::Tumbling(250), WindowSpec::Tumbling(kHour),
        WindowSpec::Sliding(5 * kMinute, 2 * kMinute), WindowSpec::Sliding(kHour, kSecond)}) {
    absl::StatusOr<WindowSpec> parsed = WindowSpec::Parse(spec.ToString());
    ASSERT_TRUE(parsed.ok()) << spec.ToString();
    EXPECT_EQ(*parsed, spec) << spec.ToString();
  }
}

TEST(WindowSpecTest, EqualityDistinguishesKind) {
  EXPECT_NE(WindowSpec::Tumbling(kMinute), WindowSpec::Sliding(kMinute, kMinute));
  EXPECT_NE(WindowSpec::Sliding(5 * kMinute, kMinute),
            WindowSpec::Sliding(5 * kMinute, 2 * kMinute));
}

TEST(WindowSpecTest, PaneStartAtBoundaries) {
  const WindowSpec tumbling = WindowSpec::Tumbling(kMinute);
  EXPECT_EQ(tumbling.PaneStart(0), 0);
  EXPECT_EQ(tumbling.PaneStart(59'999), 0);
  EXPECT_EQ(tumbling.PaneStart(60'000), 60'000);
  EXPECT_EQ(tumbling.PaneStart(60'001), 60'000);
  EXPECT_EQ(tumbling.PaneStart(-1), -60'000);
  EXPECT_EQ(tumbling.PaneStart(-60'000), -60'000);
  EXPECT_EQ(tumbling.PaneStart(-60'001), -120'000);

  const WindowSpec sliding = WindowSpec::Sliding(5 * kMinute, 2 * kMinute);  // panes of 1m
  EXPECT_EQ(sliding.PaneStart(59'999), 0);
  EXPECT_EQ(sliding.PaneStart(60'000), 60'000);
  EXPECT_EQ(sliding.PaneStart(90'000), 60'000);
  EXPECT_EQ(sliding.PaneStart(120'000), 120'000);
  EXPECT_EQ(sliding.PaneStart(-1), -60'000);
}

TEST(WindowSpecTest, FirstEndAfterAtBoundaries) {
  const WindowSpec tumbling = WindowSpec::Tumbling(kMinute);
  EXPECT_EQ(tumbling.FirstEndAfter(0), 60'000);
  EXPECT_EQ(tumbling.FirstEndAfter(59'999), 60'000);
  // An event exactly at an end belongs to the next window: ends are exclusive.
  EXPECT_EQ(tumbling.FirstEndAfter(60'000), 120'000);
  EXPECT_EQ(tumbling.FirstEndAfter(60'001), 120'000);
  EXPECT_EQ(tumbling.FirstEndAfter(-1), 0);
  EXPECT_EQ(tumbling.FirstEndAfter(-60'000), 0);
  EXPECT_EQ(tumbling.FirstEndAfter(-60'001), -60'000);

  // Ends are multiples of the slide, not of the pane.
  const WindowSpec sliding = WindowSpec::Sliding(5 * kMinute, 2 * kMinute);
  EXPECT_EQ(sliding.FirstEndAfter(59'999), 120'000);
  EXPECT_EQ(sliding.FirstEndAfter(60'000), 120'000);
  EXPECT_EQ(sliding.FirstEndAfter(119'999), 120'000);
  EXPECT_EQ(sliding.FirstEndAfter(120'000), 240'000);
  EXPECT_EQ(sliding.FirstEndAfter(-1), 0);
  EXPECT_EQ(sliding.FirstEndAfter(-120'001), -120'000);
}

// An RFC 3339 time as milliseconds since the epoch.
TimeMs T(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

WindowSpec Calendar(const char* unit, const char* zone) {
  return *WindowSpec::Parse(std::string("calendar ") + unit)->InTimeZone(zone);
}

TEST(WindowSpecTest, CalendarDaysStartAtLocalMidnightAndFollowDaylightSaving) {
  const WindowSpec day = Calendar("day", "Europe/Berlin");
  EXPECT_TRUE(day.calendar());
  EXPECT_EQ(day.ToString(), "calendar day in Europe/Berlin");
  EXPECT_EQ(day.panes_per_window(), 1);
  // 2026-03-29: clocks go from 02:00 to 03:00 CET->CEST, a 23-hour day.
  const TimeMs start = T("2026-03-29T00:00:00+01:00");
  EXPECT_EQ(day.PaneStart(T("2026-03-29T12:00:00+02:00")), start);
  EXPECT_EQ(day.PaneStart(start), start);
  EXPECT_EQ(day.PaneStart(start - 1), T("2026-03-28T00:00:00+01:00"));
  EXPECT_EQ(day.OnePaneEnd(start), T("2026-03-30T00:00:00+02:00"));
  EXPECT_EQ(day.OnePaneEnd(start) - start, 23 * 3'600'000);
  // 2026-10-25: from 03:00 CEST back to 02:00 CET, a 25-hour day.
  const TimeMs autumn = T("2026-10-25T00:00:00+02:00");
  EXPECT_EQ(day.NextEnd(autumn) - autumn, 25 * 3'600'000);
  EXPECT_EQ(day.PrevEnd(day.NextEnd(autumn)), autumn);
  // Window ends are the local midnights, and only they.
  EXPECT_TRUE(day.IsEnd(start));
  EXPECT_FALSE(day.IsEnd(T("2026-03-29T00:00:00Z")));
  EXPECT_EQ(day.EndAtOrBefore(T("2026-03-29T23:59:59.999+02:00")), start);
  EXPECT_EQ(day.FirstEndAfter(start), T("2026-03-30T00:00:00+02:00"));
  EXPECT_EQ(day.FirstEndAfter(start - 1), start);
  // In UTC, the default, a day is 24 hours from 00:00Z.
  const WindowSpec utc = *WindowSpec::Parse("calendar day");
  EXPECT_EQ(utc.ToString(), "calendar day");
  EXPECT_EQ(utc.time_zone(), "UTC");
  EXPECT_EQ(utc.PaneStart(T("2026-03-29T12:00:00+02:00")), T("2026-03-29T00:00:00Z"));
  EXPECT_EQ(utc.NextEnd(T("2026-03-29T00:00:00Z")), T("2026-03-30T00:00:00Z"));
  EXPECT_FALSE(utc == day);
}

TEST(WindowSpecTest, CalendarWeeksStartOnMondayAndMonthsOnTheFirst) {
  const WindowSpec week = Calendar("week", "America/New_York");
  // 2026-01-01 is a Thursday: its week began on Monday 2025-12-29.
  EXPECT_EQ(week.PaneStart(T("2026-01-01T12:00:00-05:00")), T("2025-12-29T00:00:00-05:00"));
  EXPECT_EQ(week.NextEnd(T("2025-12-29T00:00:00-05:00")), T("2026-01-05T00:00:00-05:00"));
  // Sunday 23:59 local is still the week before; Monday 00:00 is the next.
  EXPECT_EQ(week.PaneStart(T("2026-01-04T23:59:59-05:00")), T("2025-12-29T00:00:00-05:00"));
  EXPECT_EQ(week.PaneStart(T("2026-01-05T00:00:00-05:00")), T("2026-01-05T00:00:00-05:00"));
  // The week of the spring change (2026-03-08) is an hour short.
  const TimeMs monday = T("2026-03-02T00:00:00-05:00");
  EXPECT_EQ(week.NextEnd(monday) - monday, (7 * 24 - 1) * 3'600'000LL);

  const WindowSpec month = Calendar("month", "Europe/Berlin");
  EXPECT_EQ(month.PaneStart(T("2026-02-14T10:00:00+01:00")), T("2026-02-01T00:00:00+01:00"));
  EXPECT_EQ(month.NextEnd(T("2026-02-01T00:00:00+01:00")), T("2026-03-01T00:00:00+01:00"));
  EXPECT_EQ(month.NextEnd(T("2026-03-01T00:00:00+01:00")), T("2026-04-01T00:00:00+02:00"));
  EXPECT_EQ(month.NextEnd(T("2026-12-01T00:00:00+01:00")), T("2027-01-01T00:00:00+01:00"));
  EXPECT_EQ(month.PrevEnd(T("2026-03-01T00:00:00+01:00")), T("2026-02-01T00:00:00+01:00"));
  EXPECT_EQ(month.NextEnd(T("2026-02-01T00:00:00+01:00")) - T("2026-02-01T00:00:00+01:00"),
            28 * 86'400'000LL);
  // The evaluation step and history retention use the longest period.
  EXPECT_EQ(month.slide(), (31 * 24 + 1) * 3'600'000LL);
  // An end-of-input frontier (+inf) is no calendar date: it stays as it is.
  EXPECT_EQ(month.EndAtOrBefore(kMaxTime), kMaxTime);
}

TEST(WindowSpecTest, CalendarBoundariesAcrossAYear) {
  // New York: spring forward 2026-03-08 (a 23-hour day), fall back
  // 2026-11-01 (25 hours).
  const WindowSpec ny = Calendar("day", "America/New_York");
  EXPECT_EQ(ny.NextEnd(T("2026-03-08T00:00:00-05:00")), T("2026-03-09T00:00:00-04:00"));
  EXPECT_EQ(ny.NextEnd(T("2026-03-08T00:00:00-05:00")) - T("2026-03-08T00:00:00-05:00"),
            23 * 3'600'000);
  EXPECT_EQ(ny.NextEnd(T("2026-11-01T00:00:00-04:00")) - T("2026-11-01T00:00:00-04:00"),
            25 * 3'600'000);
  // 01:30 happens twice on 2026-11-01: both belong to that day.
  EXPECT_EQ(ny.PaneStart(T("2026-11-01T01:30:00-04:00")), T("2026-11-01T00:00:00-04:00"));
  EXPECT_EQ(ny.PaneStart(T("2026-11-01T01:30:00-05:00")), T("2026-11-01T00:00:00-04:00"));
  // Berlin in autumn, an instant in the repeated hour.
  const WindowSpec berlin = Calendar("day", "Europe/Berlin");
  EXPECT_EQ(berlin.PaneStart(T("2026-10-25T02:30:00+01:00")), T("2026-10-25T00:00:00+02:00"));
  // Every day of 2026 in Berlin: 363 of 24 hours, one of 23, one of 25.
  std::map<int64_t, int> hours;
  TimeMs d = T("2026-01-01T00:00:00+01:00");
  for (int i = 0; i < 365; ++i) {
    const TimeMs next = berlin.NextEnd(d);
    ++hours[(next - d) / 3'600'000];
    d = next;
  }
  EXPECT_EQ(d, T("2027-01-01T00:00:00+01:00"));
  EXPECT_EQ(hours, (std::map<int64_t, int>{{23, 1}, {24, 363}, {25, 1}}));
  // ISO weeks: week 1 of 2026 began on Monday 2025-12-29; 2026 has a week
  // 53 (from Monday 2026-12-28), and week 1 of 2027 begins 2027-01-04.
  const WindowSpec week = Calendar("week", "UTC");
  EXPECT_EQ(week.PaneStart(T("2026-01-01T00:00:00Z")), T("2025-12-29T00:00:00Z"));
  EXPECT_EQ(week.PaneStart(T("2027-01-03T23:59:59Z")), T("2026-12-28T00:00:00Z"));
  EXPECT_EQ(week.NextEnd(T("2026-12-28T00:00:00Z")), T("2027-01-04T00:00:00Z"));
  // February of a leap year.
  const WindowSpec month = Calendar("month", "UTC");
  EXPECT_EQ(month.NextEnd(T("2028-02-01T00:00:00Z")), T("2028-03-01T00:00:00Z"));
  EXPECT_EQ(month.NextEnd(T("2028-02-01T00:00:00Z")) - T("2028-02-01T00:00:00Z"),
            29 * 86'400'000LL);
  EXPECT_EQ(month.PaneStart(T("2028-02-29T23:59:59.999Z")), T("2028-02-01T00:00:00Z"));
}

// Event times end with year 9999; the windows holding its last days end
// where the period does, in year 10000, as a tumbling window there does.
TEST(WindowSpecTest, TheLastCalendarWindowsEndInYear10000) {
  const TimeMs last = T("9999-12-31T23:59:59.999Z");
  const WindowSpec day = Calendar("day", "UTC");
  EXPECT_EQ(day.FirstEndAfter(last), T("10000-01-01T00:00:00Z"));
  EXPECT_EQ(day.NextEnd(day.PaneStart(last)), T("10000-01-01T00:00:00Z"));
  // 9999-12-31 is a Friday: its week began on Monday 9999-12-27.
  const WindowSpec week = Calendar("week", "UTC");
  EXPECT_EQ(week.PaneStart(last), T("9999-12-27T00:00:00Z"));
  EXPECT_EQ(week.FirstEndAfter(last), T("10000-01-03T00:00:00Z"));
  const WindowSpec month = Calendar("month", "UTC");
  EXPECT_EQ(month.NextEnd(T("9999-11-01T00:00:00Z")), T("9999-12-01T00:00:00Z"));
  EXPECT_EQ(month.FirstEndAfter(last), T("10000-01-01T00:00:00Z"));
  // West of UTC the last local day ends later in UTC.
  const WindowSpec la = Calendar("day", "America/Los_Angeles");
  EXPECT_EQ(la.FirstEndAfter(last), T("10000-01-01T08:00:00Z"));
  const WindowSpec berlin = Calendar("day", "Europe/Berlin");
  EXPECT_EQ(berlin.FirstEndAfter(last), T("10000-01-01T23:00:00Z"));
  // An end-of-input frontier (+inf) stays what it is.
  EXPECT_EQ(day.EndAtOrBefore(kMaxTime), kMaxTime);
  EXPECT_EQ(day.FirstEndAfter(kMaxTime - 1), kMaxTime);
}

TEST(WindowSpecTest, CalendarWindowErrors) {
  EXPECT_THAT(std::string(WindowSpec::Parse("calendar year").status().message()),
              HasSubstr("expected 'calendar day', 'calendar week' or 'calendar month'"));
  EXPECT_EQ(std::string(WindowSpec::Parse("sliding calendar month every 1d").status().message()),
            "window 'sliding calendar month every 1d': calendar windows are tumbling (days, weeks "
            "and months have no fixed size to slide over); use 'calendar month', or a fixed-size "
            "'sliding 30d every 1d'");
  EXPECT_EQ(
      std::string(WindowSpec::Parse("calendar day")->InTimeZone("Europe/Berln").status().message()),
      "unknown time zone 'Europe/Berln' (an IANA name such as Europe/Berlin or "
      "America/New_York, from the system's tzdata)");
  // The host's own zone would make the windows differ between machines.
  for (const char* host : {"localtime", "posixrules", "/etc/localtime", "../../etc/localtime"}) {
    EXPECT_FALSE(WindowSpec::Parse("calendar day")->InTimeZone(host).ok()) << host;
  }
  EXPECT_TRUE(WindowSpec::Parse("calendar day")->InTimeZone("UTC").ok());
  EXPECT_EQ(
      std::string(WindowSpec::Parse("tumbling 1d")->InTimeZone("Europe/Berlin").status().message()),
      "a time zone applies to calendar windows only, not to 'tumbling 1d'");
}

}  // namespace
}  // namespace vigil
