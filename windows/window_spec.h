// windows/window_spec.h
//
// WindowSpec is the policy of a windowed metric: tumbling or sliding,
// aligned to the epoch. Every event is aggregated once, into a pane of
// gcd(size, slide); a window [end - size, end) is the merge of the panes it
// covers, and window ends are the multiples of the slide.
//
// Example:
//   auto spec = WindowSpec::Parse("sliding 5m every 1m");
//   spec->pane();                 // 60000
//   spec->PaneStart(90'000);      // 60000
//   spec->panes_per_window();     // 5
//   WindowSpec::Parse("tumbling 1m")->FirstEndAfter(59'999);  // 60000
//   WindowSpec::Parse("sliding 1d every 1ms");  // error: 86400000 panes, over the limit
#ifndef VIGIL_WINDOWS_WINDOW_SPEC_H_
#define VIGIL_WINDOWS_WINDOW_SPEC_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "base/time.h"

namespace vigil {

class WindowSpec {
 public:
  enum class Kind { kTumbling, kSliding };

  // The most panes one window may span (size / gcd(size, slide)). A group
  // keeps that many panes and an event lands in up to that many windows, so
  // a window of a day every millisecond (86,400,000 panes) would exhaust
  // memory at its first event; 10,000 allows a day every 10s (8,640) or an
  // hour every second (3,600).
  static constexpr int64_t kMaxPanesPerWindow = 10000;

  static WindowSpec Tumbling(DurationMs size);
  static WindowSpec Sliding(DurationMs size, DurationMs slide);
  // "tumbling 1m" or "sliding 5m every 1m". The slide may not exceed the
  // size; panes are gcd(size, slide), so every window covers whole panes,
  // and a window may span at most kMaxPanesPerWindow of them.
  static absl::StatusOr<WindowSpec> Parse(std::string_view text);

  Kind kind() const { return kind_; }
  DurationMs size() const { return size_; }
  DurationMs slide() const { return slide_; }
  DurationMs pane() const { return pane_; }
  int64_t panes_per_window() const { return size_ / pane_; }

  TimeMs PaneStart(TimeMs t) const { return AlignDown(t, pane_); }
  // The first window end strictly after `t`: the end of the earliest window
  // that can contain an event at `t`.
  TimeMs FirstEndAfter(TimeMs t) const { return AlignDown(t, slide_) + slide_; }

  std::string ToString() const;
  friend bool operator==(const WindowSpec&, const WindowSpec&) = default;

 private:
  WindowSpec(Kind kind, DurationMs size, DurationMs slide);
  Kind kind_;
  DurationMs size_;
  DurationMs slide_;
  DurationMs pane_;
};

}  // namespace vigil

#endif  // VIGIL_WINDOWS_WINDOW_SPEC_H_
