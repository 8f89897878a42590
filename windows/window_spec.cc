#include "windows/window_spec.h"

#include <numeric>
#include <vector>

#include "absl/time/civil_time.h"
#include "base/strings.h"

namespace vigil {
namespace {

constexpr DurationMs kHour = 3'600'000;
constexpr DurationMs kDay = 24 * kHour;

// The longest period of each calendar unit: a 25-hour day, a week with one,
// a 31-day month with one.
DurationMs Longest(WindowSpec::Calendar unit) {
  switch (unit) {
    case WindowSpec::Calendar::kDay:
      return kDay + kHour;
    case WindowSpec::Calendar::kWeek:
      return 7 * kDay + kHour;
    case WindowSpec::Calendar::kMonth:
      break;
  }
  return 31 * kDay + kHour;
}

std::string_view UnitName(WindowSpec::Calendar unit) {
  switch (unit) {
    case WindowSpec::Calendar::kDay:
      return "day";
    case WindowSpec::Calendar::kWeek:
      return "week";
    case WindowSpec::Calendar::kMonth:
      break;
  }
  return "month";
}

// Event times are years 1970-9999 (the parser's range), so the last window
// ends in year 10000; beyond ±year 10001 (an end-of-input frontier of +inf)
// boundaries are not computed.
constexpr TimeMs kCalendarLimit = 253'433'923'200'000;  // 10001-01-01

}  // namespace

WindowSpec::WindowSpec(Kind kind, DurationMs size, DurationMs slide)
    : kind_(kind), size_(size), slide_(slide), pane_(std::gcd(size, slide)) {}

WindowSpec WindowSpec::Tumbling(DurationMs size) { return WindowSpec(Kind::kTumbling, size, size); }

WindowSpec WindowSpec::Sliding(DurationMs size, DurationMs slide) {
  return WindowSpec(Kind::kSliding, size, slide);
}

WindowSpec WindowSpec::CalendarUtc(Calendar unit) {
  WindowSpec w(Kind::kCalendar, Longest(unit), Longest(unit));
  w.unit_ = unit;
  return w;
}

absl::StatusOr<WindowSpec> WindowSpec::InTimeZone(std::string_view name) const {
  if (kind_ != Kind::kCalendar) {
    return absl::InvalidArgumentError(
        StrCat("a time zone applies to calendar windows only, not to '", ToString(), "'"));
  }
  absl::TimeZone tz;
  if (!LoadIanaTimeZone(name, &tz)) {
    return absl::InvalidArgumentError(
        StrCat("unknown time zone '", name,
               "' (an IANA name such as Europe/Berlin or America/New_York, from the system's "
               "tzdata)"));
  }
  WindowSpec w = *this;
  w.tz_ = tz;
  w.tz_name_ = std::string(name);
  return w;
}

TimeMs WindowSpec::Floor(TimeMs t) const {
  if (t >= kCalendarLimit || t <= -kCalendarLimit) return t;
  const absl::CivilSecond local = tz_.At(absl::FromUnixMillis(t)).cs;
  absl::CivilDay day(local);
  if (unit_ == Calendar::kWeek) {
    // ISO 8601: weeks start on Monday.
    day -=
        (static_cast<int>(absl::GetWeekday(day)) - static_cast<int>(absl::Weekday::monday) + 7) % 7;
  } else if (unit_ == Calendar::kMonth) {
    day = absl::CivilDay(absl::CivilMonth(local));
  }
  // Local midnight; where a daylight-saving change skips it, the first
  // instant of the day (the transition).
  const absl::TimeZone::TimeInfo midnight = tz_.At(absl::CivilSecond(day));
  const absl::Time start =
      midnight.kind == absl::TimeZone::TimeInfo::SKIPPED ? midnight.trans : midnight.pre;
  return absl::ToUnixMillis(start);
}

TimeMs WindowSpec::Next(TimeMs b) const {
  if (b >= kCalendarLimit || b <= -kCalendarLimit) return b >= kCalendarLimit ? kMaxTime : b;
  const absl::CivilDay day(tz_.At(absl::FromUnixMillis(b)).cs);
  absl::CivilDay next = day + 1;
  if (unit_ == Calendar::kWeek) next = day + 7;
  if (unit_ == Calendar::kMonth) next = absl::CivilDay(absl::CivilMonth(day) + 1);
  // The next boundary is the floor of an instant inside the next period.
  const absl::TimeZone::TimeInfo noon = tz_.At(absl::CivilSecond(next) + 12 * 3600);
  const TimeMs inside = absl::ToUnixMillis(noon.pre);
  // Past the calendar's range every window is one that never ends (Floor
  // would hand the noon back as a boundary).
  if (inside >= kCalendarLimit) return kMaxTime;
  return Floor(inside);
}

absl::StatusOr<WindowSpec> WindowSpec::Parse(std::string_view text) {
  std::vector<std::string_view> words = SplitWords(text);
  auto duration = [](std::string_view w) -> absl::StatusOr<DurationMs> {
    std::optional<DurationMs> d = ParseDuration(w);
    if (!d) {
      return absl::InvalidArgumentError(
          StrCat("bad duration '", w, "' (expected e.g. 30s, 5m, 1h, 1d)"));
    }
    if (*d <= 0) {
      return absl::InvalidArgumentError(
          StrCat("a window's size and slide must be positive, not '", w, "'"));
    }
    return *d;
  };
  if (!words.empty() && words[0] == "calendar") {
    if (words.size() == 2) {
      for (Calendar unit : {Calendar::kDay, Calendar::kWeek, Calendar::kMonth}) {
        if (words[1] == UnitName(unit)) return CalendarUtc(unit);
      }
    }
    return absl::InvalidArgumentError(StrCat(
        "bad window '", text, "' (expected 'calendar day', 'calendar week' or 'calendar month')"));
  }
  if (words.size() >= 2 && words[0] == "sliding" && words[1] == "calendar") {
    return absl::InvalidArgumentError(StrCat(
        "window '", text,
        "': calendar windows are tumbling (days, weeks and months have no fixed size to slide "
        "over); use 'calendar ",
        words.size() > 2 ? words[2] : "day", "', or a fixed-size 'sliding 30d every 1d'"));
  }
  if (words.size() == 2 && words[0] == "tumbling") {
    absl::StatusOr<DurationMs> size = duration(words[1]);
    if (!size.ok()) return size.status();
    return Tumbling(*size);
  }
  if (words.size() == 4 && words[0] == "sliding" && words[2] == "every") {
    absl::StatusOr<DurationMs> size = duration(words[1]);
    if (!size.ok()) return size.status();
    absl::StatusOr<DurationMs> slide = duration(words[3]);
    if (!slide.ok()) return slide.status();
    if (*slide > *size) {
      return absl::InvalidArgumentError(
          StrCat("slide ", words[3], " is longer than the window ", words[1]));
    }
    const WindowSpec spec = Sliding(*size, *slide);
    if (spec.panes_per_window() > kMaxPanesPerWindow) {
      return absl::InvalidArgumentError(StrCat(
          "window '", spec.ToString(), "' needs ", spec.panes_per_window(), " panes of ",
          FormatDuration(spec.pane()), " per window (the gcd of size and slide); the limit is ",
          kMaxPanesPerWindow, ": use a longer slide"));
    }
    return spec;
  }
  return absl::InvalidArgumentError(StrCat("bad window '", text,
                                           "' (expected 'tumbling <size>', 'sliding <size> every "
                                           "<slide>' or 'calendar day|week|month')"));
}

std::string WindowSpec::ToString() const {
  if (kind_ == Kind::kCalendar) {
    return StrCat("calendar ", UnitName(unit_), tz_name_ == "UTC" ? "" : StrCat(" in ", tz_name_));
  }
  if (kind_ == Kind::kTumbling) return StrCat("tumbling ", FormatDuration(size_));
  return StrCat("sliding ", FormatDuration(size_), " every ", FormatDuration(slide_));
}

}  // namespace vigil
