#include "base/time.h"

#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace vigil {
namespace {

constexpr int64_t kSecond = 1000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;
constexpr int64_t kDay = 24 * kHour;

TEST(ParseRfc3339Test, UtcWithZ) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:01Z"), 1000);
  EXPECT_EQ(ParseRfc3339("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_EQ(ParseRfc3339("1900-01-01T00:00:00Z"), -2208988800000);
  EXPECT_EQ(ParseRfc3339("0001-01-01T00:00:00Z"), -62135596800000);
  EXPECT_EQ(ParseRfc3339("9999-12-31T23:59:59.999Z"), 253402300799999);
}

// Year 10000 reads back what FormatTimestamp writes for the end of a window
// holding the last event times of 9999; other five-digit years do not.
TEST(ParseRfc3339Test, DigitsPastTheMillisecondsAreSeen) {
  EXPECT_EQ(ParseRfc3339("2026-01-01T00:00:00.9995Z"), ParseRfc3339("2026-01-01T00:00:00.999Z"));
  EXPECT_TRUE(BeyondMillis("2026-01-01T00:00:00.9995Z"));
  EXPECT_TRUE(BeyondMillis("2026-01-01T00:00:00.0000001+01:00"));
  EXPECT_FALSE(BeyondMillis("2026-01-01T00:00:00.999000Z"));
  EXPECT_FALSE(BeyondMillis("2026-01-01T00:00:00Z"));
  EXPECT_FALSE(BeyondMillis("2026-01-01T00:00:00.5+05:30"));
}

TEST(ParseRfc3339Test, Year10000) {
  EXPECT_EQ(ParseRfc3339("10000-01-01T00:00:00.000Z"), 253402300800000);
  EXPECT_EQ(FormatTimestamp(253402300800000), "10000-01-01T00:00:00.000Z");
  EXPECT_EQ(ParseRfc3339("10000-01-03T08:00:00-08:00"), 253402300800000 + 2 * kDay + 16 * kHour);
  EXPECT_EQ(ParseRfc3339("10000-02-29T00:00:00Z"), 253402300800000 + 59 * kDay);
  EXPECT_EQ(ParseRfc3339("10001-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("20000-01-01T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("10000-01-01"), std::nullopt);
}

TEST(ParseRfc3339Test, Offsets) {
  // The header's own example: 12:00 at +01:00 is 11:00 UTC.
  EXPECT_EQ(ParseRfc3339("2026-11-24T12:00:00.250+01:00"), 1795518000250);
  EXPECT_EQ(ParseRfc3339("2026-11-24T11:00:00.250Z"), 1795518000250);
  // 08:30 at -05:30 is 14:00 UTC.
  EXPECT_EQ(ParseRfc3339("2026-01-15T08:30:00-05:30"), 1768485600000);
  EXPECT_EQ(ParseRfc3339("2026-01-15T14:00:00Z"), 1768485600000);
  // An offset can move the instant across a day (and year) boundary.
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:30:00+01:00"), -30 * kMinute);
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:30:00-01:00"), 30 * kMinute);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00+00:00"), 0);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00-00:00"), 0);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00+23:59"), -(23 * kHour + 59 * kMinute));
}

TEST(ParseRfc3339Test, FractionalSecondsTruncateToMilliseconds) {
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.5Z"), 500);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.25Z"), 250);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.125Z"), 125);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.1239Z"), 123);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.99999Z"), 999);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.999999Z"), 999);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.0000001Z"), 0);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.123456789Z"), 123);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.987654321+01:00"), -kHour + 987);
  // Before the epoch the fraction still adds: 23:59:59.999 is 1 ms before 0.
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:59:59.999Z"), -1);
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:59:59.0Z"), -1000);
  // A dot needs at least one digit.
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00.Z"), std::nullopt);
}

TEST(ParseRfc3339Test, LowerCaseAndSpaceSeparators) {
  EXPECT_EQ(ParseRfc3339("2026-01-15t14:00:00z"), 1768485600000);
  EXPECT_EQ(ParseRfc3339("2026-01-15 14:00:00Z"), 1768485600000);
  EXPECT_EQ(ParseRfc3339("2026-01-15t08:30:00-05:30"), 1768485600000);
  EXPECT_EQ(ParseRfc3339("2026-01-15x14:00:00Z"), std::nullopt);
}

TEST(ParseRfc3339Test, LeapDays) {
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00Z").has_value());
  EXPECT_TRUE(ParseRfc3339("2000-02-29T23:59:59.999Z").has_value());
  EXPECT_EQ(ParseRfc3339("2000-02-29T23:59:59.999Z"), 951868799999);
  // Not leap years: not divisible by 4, or a century not divisible by 400.
  EXPECT_EQ(ParseRfc3339("2023-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("1900-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2100-02-29T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2024-02-30T00:00:00Z"), std::nullopt);
  // The day after a leap day is 1 March, 24 h later.
  EXPECT_EQ(*ParseRfc3339("2024-03-01T00:00:00Z") - *ParseRfc3339("2024-02-29T00:00:00Z"), kDay);
}

TEST(ParseRfc3339Test, RejectsOutOfRangeFields) {
  EXPECT_EQ(ParseRfc3339("2026-00-10T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-13-10T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-00T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-32T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-04-31T00:00:00Z"), std::nullopt);
  EXPECT_TRUE(ParseRfc3339("2026-04-30T00:00:00Z").has_value());
  EXPECT_TRUE(ParseRfc3339("2026-12-31T23:59:59Z").has_value());
  EXPECT_EQ(ParseRfc3339("2026-01-10T24:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T23:60:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T23:59:61Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00:00+24:00"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00:00+01:60"), std::nullopt);
}

TEST(ParseRfc3339Test, LeapSecondFoldsIntoThePreviousSecond) {
  EXPECT_EQ(ParseRfc3339("2016-12-31T23:59:60Z"), ParseRfc3339("2016-12-31T23:59:59Z"));
  EXPECT_EQ(ParseRfc3339("2016-12-31T23:59:60.5Z"), ParseRfc3339("2016-12-31T23:59:59.5Z"));
}

TEST(ParseRfc3339Test, RequiresZone) {
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00:00"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00:00.123"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00:00+0100"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00:00+01"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00:00+01:0"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00:00UTC"), std::nullopt);
}

TEST(ParseRfc3339Test, RejectsMalformedAndTrailingInput) {
  EXPECT_EQ(ParseRfc3339(""), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00:00Zjunk"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00:00Z "), std::nullopt);
  EXPECT_EQ(ParseRfc3339(" 2026-01-10T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00:00+01:00:00"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00:00+01:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-1-10T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026/01/10T00:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("2026-01-10T0a:00:00Z"), std::nullopt);
  EXPECT_EQ(ParseRfc3339("1700000000000"), std::nullopt);
}

TEST(FormatTimestampTest, Examples) {
  EXPECT_EQ(FormatTimestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(1795518000250), "2026-11-24T11:00:00.250Z");
  EXPECT_EQ(FormatTimestamp(1709164800000 + kDay - 1), "2024-02-29T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatTimestamp(-1000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(FormatTimestamp(-kDay), "1969-12-31T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(-2208988800000), "1900-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestamp(253402300799999), "9999-12-31T23:59:59.999Z");

  std::string out = "ts=";
  AppendTimestamp(60'000, &out);
  EXPECT_EQ(out, "ts=1970-01-01T00:01:00.000Z");
}

TEST(FormatTimestampTest, RoundTripsThroughParse) {
  const TimeMs fixed[] = {0,
                          1,
                          -1,
                          999,
                          -999,
                          1000,
                          -1000,
                          59'999,
                          60'000,
                          -60'001,
                          kDay - 1,
                          -kDay,
                          951868799999,
                          -62135596800000,
                          253402300799999};
  for (TimeMs t : fixed) {
    EXPECT_EQ(ParseRfc3339(FormatTimestamp(t)), t) << t;
  }
  // Years 0001 to 9999, the range the four-digit form can express.
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<TimeMs> dist(-62135596800000, 253402300799999);
  for (int i = 0; i < 20000; ++i) {
    const TimeMs t = dist(rng);
    const std::string s = FormatTimestamp(t);
    ASSERT_EQ(ParseRfc3339(s), t) << s;
  }
}

TEST(DaysFromCivilTest, KnownDates) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1) - DaysFromCivil(2000, 2, 28), 2);
  EXPECT_EQ(DaysFromCivil(1900, 3, 1) - DaysFromCivil(1900, 2, 28), 1);
  EXPECT_EQ(DaysFromCivil(2024, 2, 29) * kDay, 1709164800000);
}

TEST(ParseDurationTest, SingleUnits) {
  EXPECT_EQ(ParseDuration("250ms"), 250);
  EXPECT_EQ(ParseDuration("30s"), 30 * kSecond);
  EXPECT_EQ(ParseDuration("5m"), 5 * kMinute);
  EXPECT_EQ(ParseDuration("1h"), kHour);
  EXPECT_EQ(ParseDuration("1d"), kDay);
  EXPECT_EQ(ParseDuration("2w"), 14 * kDay);
  EXPECT_EQ(ParseDuration("0"), 0);
  EXPECT_EQ(ParseDuration("0s"), 0);
  EXPECT_EQ(ParseDuration("0ms"), 0);
}

TEST(ParseDurationTest, Combinations) {
  EXPECT_EQ(ParseDuration("1h30m"), 5'400'000);
  EXPECT_EQ(ParseDuration("1m30s"), 90'000);
  EXPECT_EQ(ParseDuration("1s500ms"), 1'500);
  EXPECT_EQ(ParseDuration("1w2d3h4m5s6ms"), 9 * kDay + 3 * kHour + 4 * kMinute + 5 * kSecond + 6);
  // Components need not be normalised, only ordered.
  EXPECT_EQ(ParseDuration("90m"), 90 * kMinute);
  EXPECT_EQ(ParseDuration("1d24h"), 2 * kDay);
}

TEST(ParseDurationTest, Rejects) {
  EXPECT_EQ(ParseDuration(""), std::nullopt);
  EXPECT_EQ(ParseDuration("5"), std::nullopt);  // a unit is required except for "0"
  EXPECT_EQ(ParseDuration("00"), std::nullopt);
  EXPECT_EQ(ParseDuration("m"), std::nullopt);
  EXPECT_EQ(ParseDuration("ms"), std::nullopt);
  EXPECT_EQ(ParseDuration("1m1h"), std::nullopt);  // largest unit first
  EXPECT_EQ(ParseDuration("1ms1s"), std::nullopt);
  EXPECT_EQ(ParseDuration("1m1m"), std::nullopt);  // each unit once
  EXPECT_EQ(ParseDuration("-1s"), std::nullopt);
  EXPECT_EQ(ParseDuration("+1s"), std::nullopt);
  EXPECT_EQ(ParseDuration("1.5s"), std::nullopt);
  EXPECT_EQ(ParseDuration("1y"), std::nullopt);
  EXPECT_EQ(ParseDuration("1 m"), std::nullopt);
  EXPECT_EQ(ParseDuration(" 1m"), std::nullopt);
  EXPECT_EQ(ParseDuration("1m "), std::nullopt);
  EXPECT_EQ(ParseDuration("1M"), std::nullopt);
  EXPECT_EQ(ParseDuration("1h30"), std::nullopt);
  // No longer than event times span (1970 to 9999): 418,985 weeks fit.
  EXPECT_EQ(ParseDuration("418985w"), 418'985 * 7 * kDay);
  EXPECT_EQ(ParseDuration("418986w"), std::nullopt);
  EXPECT_EQ(ParseDuration("418985w3d"), std::nullopt);
  EXPECT_EQ(ParseDuration("9223372036854775807ms"), std::nullopt);
}

TEST(ParseDurationTest, RejectsOverflow) {
  EXPECT_EQ(ParseDuration("253402300799999ms"), kMaxDuration);
  EXPECT_EQ(ParseDuration("253402300800000ms"), std::nullopt);
  EXPECT_EQ(ParseDuration("9223372036854775808ms"), std::nullopt);
  EXPECT_EQ(ParseDuration("99999999999999999999ms"), std::nullopt);
  EXPECT_EQ(ParseDuration("15250284452w"), std::nullopt);
  // Each term fits but the sum does not.
  EXPECT_EQ(ParseDuration("253402300799s1000ms"), std::nullopt);
  EXPECT_EQ(ParseDuration("253402300799s999ms"), kMaxDuration);
}

TEST(FormatDurationTest, Examples) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(250), "250ms");
  EXPECT_EQ(FormatDuration(90'000), "1m30s");
  EXPECT_EQ(FormatDuration(5'400'000), "1h30m");
  EXPECT_EQ(FormatDuration(kDay), "1d");
  EXPECT_EQ(FormatDuration(8 * kDay + 1), "1w1d1ms");
  EXPECT_EQ(FormatDuration(1'500), "1s500ms");
  EXPECT_EQ(FormatDuration(-90'000), "-1m30s");
}

TEST(FormatDurationTest, RoundTripsThroughParse) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<DurationMs> dist(1, 100 * 7 * kDay);
  for (int i = 0; i < 5000; ++i) {
    const DurationMs d = dist(rng);
    ASSERT_EQ(ParseDuration(FormatDuration(d)), d) << FormatDuration(d);
  }
  EXPECT_EQ(ParseDuration(FormatDuration(0)), 0);
}

TEST(FloorDivTest, RoundsTowardsNegativeInfinity) {
  EXPECT_EQ(FloorDiv(7, 2), 3);
  EXPECT_EQ(FloorDiv(-7, 2), -4);
  EXPECT_EQ(FloorDiv(7, -2), -4);
  EXPECT_EQ(FloorDiv(-7, -2), 3);
  EXPECT_EQ(FloorDiv(-6, 2), -3);
  EXPECT_EQ(FloorDiv(0, 5), 0);
  EXPECT_EQ(FloorDiv(-1, 60'000), -1);
  EXPECT_EQ(FloorDiv(kMaxTime, 1), kMaxTime);
}

TEST(AlignDownTest, AlignsToEpochMultiples) {
  EXPECT_EQ(AlignDown(0, kMinute), 0);
  EXPECT_EQ(AlignDown(59'999, kMinute), 0);
  EXPECT_EQ(AlignDown(60'000, kMinute), 60'000);
  EXPECT_EQ(AlignDown(60'001, kMinute), 60'000);
  // Negative times align down, not towards zero.
  EXPECT_EQ(AlignDown(-1, kMinute), -60'000);
  EXPECT_EQ(AlignDown(-60'000, kMinute), -60'000);
  EXPECT_EQ(AlignDown(-60'001, kMinute), -120'000);
  EXPECT_EQ(AlignDown(1795518000250, kHour), 1795518000000);
  EXPECT_EQ(AlignDown(kMaxTime, kMinute) % kMinute, 0);
  EXPECT_GT(AlignDown(kMaxTime, kMinute), kMaxTime - kMinute);
}

}  // namespace
}  // namespace vigil
