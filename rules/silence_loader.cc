// `silences:` of rule files (rules/silence.h).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>

#include "base/strings.h"
#include "base/time.h"
#include "rules/file_loader.h"
#include "rules/silence.h"

namespace vigil {
namespace {

constexpr std::array<std::string_view, 7> kWeekdays = {"sunday",   "monday", "tuesday", "wednesday",
                                                       "thursday", "friday", "saturday"};
constexpr std::array<std::string_view, 12> kMonths = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};

bool ParseWhole(std::string_view text, int* out) {
  text = Strip(text);
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && p == text.data() + text.size();
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A whole number, or (when `names` is given) a name of the list (its index
// + `first`).
std::optional<int> RangeValue(std::string_view text, const std::string_view* names, size_t count,
                              int first) {
  text = Strip(text);
  for (size_t i = 0; names != nullptr && i < count; ++i) {
    if (Lower(text) == names[i]) return static_cast<int>(i) + first;
  }
  int v = 0;
  if (!ParseWhole(text, &v)) return std::nullopt;
  return v;
}

// A list of "a" or "a:b" entries, each within [lo, hi] (and not 0 when
// negative values are allowed).
bool LoadRanges(FileLoader& f, const YAML::Node& n, std::string_view what, int lo, int hi,
                const std::string_view* names, size_t count, int first,
                std::vector<std::pair<int, int>>* out) {
  if (!n) return true;
  if (!n.IsSequence()) {
    f.Error(n, StrCat("'", what, "' must be a list"));
    return false;
  }
  bool ok = true;
  for (const YAML::Node& item : n) {
    const std::string text = item.IsScalar() ? item.Scalar() : "";
    const size_t colon = text.find(':');
    std::optional<int> a = RangeValue(text.substr(0, colon), names, count, first);
    std::optional<int> b =
        colon == std::string::npos ? a : RangeValue(text.substr(colon + 1), names, count, first);
    const bool in_range =
        a && b && *a >= lo && *a <= hi && *b >= lo && *b <= hi && ((*a != 0 && *b != 0) || lo == 0);
    // As Alertmanager's: from a day to one counted from the month's end
    // ('27:-1') is a range, the other way round is not.
    const bool forward = in_range && ((*a < 0) == (*b < 0) ? *a <= *b : *a > 0);
    if (!forward) {
      f.Error(item, StrCat("bad ", what, " entry '", text, "': ",
                           in_range ? "the range runs backwards (first:last, first before last)"
                                    : StrCat("a value from ", lo, " to ", hi,
                                             names != nullptr ? " (or a name)" : "",
                                             ", or a range 'first:last'")));
      ok = false;
      continue;
    }
    out->emplace_back(*a, *b);
  }
  return ok;
}

std::optional<int> ClockMinutes(std::string_view text) {
  const size_t colon = text.find(':');
  int h = 0, m = 0;
  if (colon == std::string::npos || !ParseWhole(text.substr(0, colon), &h) ||
      !ParseWhole(text.substr(colon + 1), &m) || h < 0 || h > 24 || m < 0 || m > 59 ||
      (h == 24 && m != 0)) {
    return std::nullopt;
  }
  return h * 60 + m;
}

bool LoadTimes(FileLoader& f, const YAML::Node& n, TimeInterval* out) {
  if (!n) return true;
  if (!n.IsSequence()) {
    f.Error(n, "'times' must be a list of {start_time: \"HH:MM\", end_time: \"HH:MM\"}");
    return false;
  }
  bool ok = true;
  for (const YAML::Node& t : n) {
    if (!t.IsMap()) {
      f.Error(t, "a times entry is {start_time: \"HH:MM\", end_time: \"HH:MM\"}");
      ok = false;
      continue;
    }
    f.CheckKeys(t, {"start_time", "end_time"}, "a times entry");
    std::optional<std::string> a = f.Scalar(t, "start_time", true, "a times entry");
    std::optional<std::string> b = f.Scalar(t, "end_time", true, "a times entry");
    if (!a || !b) {
      ok = false;
      continue;
    }
    std::optional<int> start = ClockMinutes(*a), end = ClockMinutes(*b);
    if (!start || !end || *start >= *end) {
      f.Error(t, StrCat("times [", *a, ", ", *b,
                        ") must be HH:MM times of day with start before end (end up to 24:00)"));
      ok = false;
      continue;
    }
    out->minutes.emplace_back(*start, *end);
  }
  return ok;
}

bool LoadInterval(FileLoader& f, const YAML::Node& n, TimeInterval* out) {
  if (!n.IsMap()) {
    f.Error(n,
            "a time interval is a mapping of times, weekdays, days_of_month, months, years, "
            "location");
    return false;
  }
  f.CheckKeys(n, {"times", "weekdays", "days_of_month", "months", "years", "location"},
              "a time interval");
  bool ok = LoadTimes(f, n["times"], out);
  ok &= LoadRanges(f, n["weekdays"], "weekdays", 0, 6, kWeekdays.data(), kWeekdays.size(), 0,
                   &out->weekdays);
  ok &= LoadRanges(f, n["days_of_month"], "days_of_month", -31, 31, nullptr, 0, 0,
                   &out->days_of_month);
  ok &=
      LoadRanges(f, n["months"], "months", 1, 12, kMonths.data(), kMonths.size(), 1, &out->months);
  ok &= LoadRanges(f, n["years"], "years", 1, 9999, nullptr, 0, 0, &out->years);
  if (std::optional<std::string> loc = f.Scalar(n, "location", false, "a time interval")) {
    if (!LoadIanaTimeZone(*loc, &out->zone)) {
      f.Error(n["location"], StrCat("unknown time zone '", *loc,
                                    "' (an IANA name such as Europe/Berlin, from the system's "
                                    "tzdata)"));
      ok = false;
    }
    out->location = *loc;
  }
  return ok;
}

// Whether the ranges (inclusive) cover every value of [lo, hi]; no ranges
// cover everything.
bool CoversAll(const std::vector<std::pair<int, int>>& ranges, int lo, int hi) {
  if (ranges.empty()) return true;
  for (int v = lo; v <= hi; ++v) {
    if (std::none_of(ranges.begin(), ranges.end(),
                     [v](const auto& r) { return r.first <= v && v <= r.second; })) {
      return false;
    }
  }
  return true;
}

// Whether a time interval holds at every moment: each of its parts is
// absent or covers its whole range (the day's minutes, the week, every day
// of months of any length, the year, the years of event time).
bool AlwaysHolds(const TimeInterval& t) {
  bool day = t.minutes.empty();
  if (!day) {
    std::vector<std::pair<int, int>> minutes;  // as inclusive ranges
    for (const auto& [a, b] : t.minutes) minutes.emplace_back(a, b - 1);
    day = CoversAll(minutes, 0, 24 * 60 - 1);
  }
  bool days = true;
  for (int length = 28; length <= 31 && !t.days_of_month.empty(); ++length) {
    for (int d = 1; d <= length; ++d) {
      days &= std::any_of(t.days_of_month.begin(), t.days_of_month.end(), [&](const auto& r) {
        const int first = r.first < 0 ? length + 1 + r.first : r.first;  // -1: the last day
        const int last = r.second < 0 ? length + 1 + r.second : r.second;
        return first <= d && d <= last;
      });
    }
  }
  return day && days && CoversAll(t.weekdays, 0, 6) && CoversAll(t.months, 1, 12) &&
         CoversAll(t.years, 1970, 9999);
}

bool InRanges(const std::vector<std::pair<int, int>>& ranges, int v) {
  return ranges.empty() || std::any_of(ranges.begin(), ranges.end(), [v](const auto& r) {
           return r.first <= v && v <= r.second;
         });
}

// Whether inclusive `ranges` (sorted here) cover [lo, hi], in one sweep.
bool SpanCovered(std::vector<std::pair<int, int>>* ranges, int lo, int hi) {
  std::sort(ranges->begin(), ranges->end());
  int next = lo;  // the first value not yet covered
  for (const auto& [a, b] : *ranges) {
    if (a > next) break;
    next = std::max(next, b + 1);
  }
  return next > hi;
}

// Whether time intervals of one time zone together hold at every moment:
// for every day there can be (month, the month's length, day of month,
// weekday) and every minute of it, those that hold cover every year of
// event time. Stops at the first moment none holds, which most silences
// reach at once.
bool TogetherAlwaysHold(const std::vector<TimeInterval>& intervals) {
  static constexpr int kLengths[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  std::vector<std::pair<int, int>> years;
  for (int month = 1; month <= 12; ++month) {
    for (int length = kLengths[month - 1]; length <= (month == 2 ? 29 : kLengths[month - 1]);
         ++length) {
      for (int day = 1; day <= length; ++day) {
        for (int weekday = 0; weekday < 7; ++weekday) {
          for (int minute = 0; minute < 24 * 60; ++minute) {
            years.clear();
            bool every_year = false;
            for (const TimeInterval& t : intervals) {
              const bool day_holds =
                  t.days_of_month.empty() ||
                  std::any_of(t.days_of_month.begin(), t.days_of_month.end(), [&](const auto& r) {
                    const int first = r.first < 0 ? length + 1 + r.first : r.first;
                    const int last = r.second < 0 ? length + 1 + r.second : r.second;
                    return first <= day && day <= last;
                  });
              const bool minute_holds =
                  t.minutes.empty() ||
                  std::any_of(t.minutes.begin(), t.minutes.end(), [&](const auto& r) {
                    return r.first <= minute && minute < r.second;
                  });
              if (!day_holds || !minute_holds || !InRanges(t.months, month) ||
                  !InRanges(t.weekdays, weekday)) {
                continue;
              }
              if (t.years.empty()) {
                every_year = true;
                break;
              }
              years.insert(years.end(), t.years.begin(), t.years.end());
            }
            if (!every_year && !SpanCovered(&years, 1970, 9999)) return false;
          }
        }
      }
    }
  }
  return true;
}

}  // namespace

void LoadSilence(FileLoader& f, const YAML::Node& n, RuleSet* rules) {
  if (!n.IsMap()) {
    f.Error(n, "each entry of 'silences' must be a mapping with 'silence' and 'matchers'");
    return;
  }
  f.CheckKeys(n, {"silence", "matchers", "time_intervals", "starts_at", "ends_at", "comment"},
              "a silence");
  SilenceDef s;
  std::optional<std::string> name = f.Scalar(n, "silence", true, "a silence");
  if (!name) return;
  s.name = *name;
  s.pos = f.PosOf(n["silence"]);
  bool ok = true;
  for (const SilenceDef& other : rules->silences) {
    if (other.name == s.name) {
      f.Error(n["silence"], StrCat("silence '", s.name, "' is defined twice (first at ",
                                   other.pos.file, ":", other.pos.line, ")"));
      ok = false;
    }
  }
  const YAML::Node matchers = n["matchers"];
  if (!matchers || !matchers.IsSequence() || matchers.size() == 0) {
    f.Error(
        matchers ? matchers : n,
        "a silence needs 'matchers': a list such as ['alertname=\"X\"', 'severity=~\"P3|P4\"']");
    ok = false;
  }
  for (const YAML::Node& m : matchers&& matchers.IsSequence() ? matchers : YAML::Node()) {
    std::string error;
    std::optional<LabelMatcher> lm = ParseLabelMatcher(m.IsScalar() ? m.Scalar() : "", &error);
    if (!lm) {
      f.Error(m, error);
      ok = false;
      continue;
    }
    s.matchers.push_back(std::move(*lm));
  }
  if (const YAML::Node ti = n["time_intervals"]) {
    if (!ti.IsSequence()) {
      f.Error(ti, "'time_intervals' must be a list");
      ok = false;
    }
    for (const YAML::Node& i : ti.IsSequence() ? ti : YAML::Node()) {
      TimeInterval interval;
      const bool loaded = LoadInterval(f, i, &interval);
      ok &= loaded;
      if (loaded && AlwaysHolds(interval) && !n["starts_at"] && !n["ends_at"]) {
        f.Error(i, StrCat("this time interval holds at every moment, so silence '", s.name,
                          "' would mute its alerts for good; leave times, weekdays, days, months "
                          "or years out of it, or bound it with starts_at/ends_at"));
        ok = false;
      }
      s.intervals.push_back(std::move(interval));
    }
    // Several that hold at every moment together (00:00-12:00 and
    // 12:00-24:00; weekdays and weekends), in one time zone.
    const bool one_zone =
        std::all_of(s.intervals.begin(), s.intervals.end(),
                    [&](const TimeInterval& t) { return t.location == s.intervals[0].location; });
    if (ok && s.intervals.size() > 1 && one_zone && !n["starts_at"] && !n["ends_at"] &&
        TogetherAlwaysHold(s.intervals)) {
      f.Error(ti, StrCat("these time intervals together hold at every moment, so silence '", s.name,
                         "' would mute its alerts for good; narrow them, or bound it with "
                         "starts_at/ends_at"));
      ok = false;
    }
  }
  for (const char* key : {"starts_at", "ends_at"}) {
    std::optional<std::string> t = f.Scalar(n, key, false, "a silence");
    if (!t) continue;
    std::optional<TimeMs> ms = ParseRfc3339(*t);
    if (!ms) {
      f.Error(n[key], StrCat("'", key, "' must be an RFC 3339 time such as 2026-03-01T02:00:00Z"));
      ok = false;
      continue;
    }
    (std::string_view(key) == "starts_at" ? s.starts_at : s.ends_at) = *ms;
  }
  if (s.starts_at != kMinTime && s.ends_at != kMaxTime && s.starts_at >= s.ends_at) {
    f.Error(n["ends_at"], "'ends_at' must be after 'starts_at'");
    ok = false;
  }
  if (s.intervals.empty() && s.starts_at == kMinTime && s.ends_at == kMaxTime && ok) {
    f.Error(n, StrCat("silence '", s.name,
                      "' needs time_intervals or starts_at/ends_at (a silence that always "
                      "holds would mute its alerts for good)"));
    ok = false;
  }
  if (std::optional<std::string> c = f.Scalar(n, "comment", false, "a silence")) s.comment = *c;
  if (ok) rules->silences.push_back(std::move(s));
}

}  // namespace vigil
