// windows/window_spec.h
//
// WindowSpec is the policy of a windowed metric: tumbling or sliding,
// aligned to the epoch, or calendar. Every event is aggregated once, into a
// pane of gcd(size, slide); a window [end - size, end) is the merge of the
// panes it covers, and window ends are the multiples of the slide.
//
// A calendar window (`calendar day|week|month`, in a time zone, UTC by
// default) is one pane from a local midnight to the next one: days start at
// local midnight (23 and 25 hour days at daylight-saving changes), weeks on
// Monday (ISO 8601), months on the 1st. Its size and slide are nominal, the
// longest such period (25h, 7d 1h, 31d 1h): the evaluation step of `for:`
// and how much history to keep; its boundaries come from PaneStart,
// NextEnd and the other functions below, which every user of a window calls
// instead of aligning to the slide.
//
// Example:
//   auto spec = WindowSpec::Parse("sliding 5m every 1m");
//   spec->pane();                 // 60000
//   spec->PaneStart(90'000);      // 60000
//   spec->panes_per_window();     // 5
//   WindowSpec::Parse("tumbling 1m")->FirstEndAfter(59'999);  // 60000
//   WindowSpec::Parse("sliding 1d every 1ms");  // error: 86400000 panes, over the limit
//   auto month = WindowSpec::Parse("calendar month")->InTimeZone("Europe/Berlin");
//   month->PaneStart(t);          // the local midnight of the 1st of t's month
//   month->NextEnd(month->PaneStart(t));  // the 1st of the next month
#ifndef VIGIL_WINDOWS_WINDOW_SPEC_H_
#define VIGIL_WINDOWS_WINDOW_SPEC_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "base/time.h"

namespace vigil {

class WindowSpec {
 public:
  enum class Kind { kTumbling, kSliding, kCalendar };
  enum class Calendar : uint8_t { kDay, kWeek, kMonth };

  // The most panes one window may span (size / gcd(size, slide)). A group
  // keeps that many panes and an event lands in up to that many windows, so
  // a window of a day every millisecond (86,400,000 panes) would exhaust
  // memory at its first event; 10,000 allows a day every 10s (8,640) or an
  // hour every second (3,600).
  static constexpr int64_t kMaxPanesPerWindow = 10000;

  static WindowSpec Tumbling(DurationMs size);
  static WindowSpec Sliding(DurationMs size, DurationMs slide);
  static WindowSpec CalendarUtc(Calendar unit);
  // "tumbling 1m", "sliding 5m every 1m" or "calendar day|week|month" (in
  // UTC). The slide may not exceed the size; panes are gcd(size, slide), so
  // every window covers whole panes, and a window may span at most
  // kMaxPanesPerWindow of them.
  static absl::StatusOr<WindowSpec> Parse(std::string_view text);
  // The same calendar window in the IANA time zone `name` (e.g.
  // Europe/Berlin), loaded from the system's tzdata; an error for a fixed
  // window or an unknown zone.
  absl::StatusOr<WindowSpec> InTimeZone(std::string_view name) const;

  Kind kind() const { return kind_; }
  bool calendar() const { return kind_ == Kind::kCalendar; }
  Calendar calendar_unit() const { return unit_; }           // of a calendar window
  const std::string& time_zone() const { return tz_name_; }  // "UTC" by default
  DurationMs size() const { return size_; }
  DurationMs slide() const { return slide_; }
  DurationMs pane() const { return pane_; }
  int64_t panes_per_window() const { return size_ / pane_; }

  TimeMs PaneStart(TimeMs t) const {
    return kind_ == Kind::kCalendar ? Floor(t) : AlignDown(t, pane_);
  }
  // The first window end strictly after `t`: the end of the earliest window
  // that can contain an event at `t`.
  TimeMs FirstEndAfter(TimeMs t) const {
    return kind_ == Kind::kCalendar ? Next(Floor(t)) : AlignDown(t, slide_) + slide_;
  }
  // The latest window end at or before `t`.
  TimeMs EndAtOrBefore(TimeMs t) const {
    return kind_ == Kind::kCalendar ? Floor(t) : AlignDown(t, slide_);
  }
  bool IsEnd(TimeMs t) const { return EndAtOrBefore(t) == t; }
  // The window end after the window end `end`, and the one before it.
  TimeMs NextEnd(TimeMs end) const { return kind_ == Kind::kCalendar ? Next(end) : end + slide_; }
  TimeMs PrevEnd(TimeMs end) const {
    return kind_ == Kind::kCalendar ? Floor(end - 1) : end - slide_;
  }
  // The end of the one-pane window (tumbling or calendar) that starts at
  // `start`.
  TimeMs OnePaneEnd(TimeMs start) const {
    return kind_ == Kind::kCalendar ? Next(start) : start + size_;
  }

  std::string ToString() const;
  friend bool operator==(const WindowSpec& a, const WindowSpec& b) {
    return a.kind_ == b.kind_ && a.size_ == b.size_ && a.slide_ == b.slide_ && a.unit_ == b.unit_ &&
           a.tz_name_ == b.tz_name_;
  }

 private:
  WindowSpec(Kind kind, DurationMs size, DurationMs slide);
  // Calendar boundaries: the latest at or before `t`, and the one after the
  // boundary `b`.
  TimeMs Floor(TimeMs t) const;
  TimeMs Next(TimeMs b) const;
  Kind kind_;
  DurationMs size_;
  DurationMs slide_;
  DurationMs pane_;
  Calendar unit_ = Calendar::kDay;
  std::string tz_name_ = "UTC";
  absl::TimeZone tz_ = absl::UTCTimeZone();
};

}  // namespace vigil

#endif  // VIGIL_WINDOWS_WINDOW_SPEC_H_
