// rules/history.h
//
// Functions over a metric's history in alert conditions. An alert reads its
// inputs by slot (rules/program.h); an input is either a metric's value in
// the latest closed window or one of these functions of a metric, evaluated
// over the sequence of closed windows of the alert's group, in event time:
//
//   avg_over(m, d)     mean of the windows that ended in (end - d, end]
//   stddev_over(m, d)  population standard deviation over the same windows
//   zscore(m, d)       (current - avg_over) / stddev_over; no value with
//                      fewer than 2 windows or a deviation of 0
//   offset(m, d)       value of the window that ended exactly d before `end`
//   growth(m, d)       current / offset(m, d) - 1
//   declining(m, n)    true when m fell in each of the last n windows: the
//                      windows ending at end, end - slide, ..., end - n*slide
//                      all exist and each is below the one before
//   absent(m, d)       true when m had no window for the group that ended in
//                      (now - d, now]
//
// `end` is the end of the metric's latest closed window and "current" its
// value there (no value if the group had none); `now` is the window end the
// alert is evaluated at. Only absent() looks at `now`: the others describe
// the metric, absent() the time since it last reported.
//
// MetricHistory keeps the points of one (metric, group), pruned to what the
// alerts ask for (HistoryRetention), so memory is bounded per group.
//
// Example (1-minute windows, values 10, 9, 8, 7 ending at 1m..4m):
//   MetricHistory h;
//   h.Add(60'000, 10); h.Add(120'000, 9); h.Add(180'000, 8); h.Add(240'000, 7);
//   HistoryInput d{HistoryFn::kDeclining, 0, 3};
//   const WindowSpec w = WindowSpec::Tumbling(60'000);
//   h.Eval(d, 240'000, 240'000, w);                      // Bool(true)
//   h.Eval({HistoryFn::kAvgOver, 120'000}, 240'000, 240'000, w);  // Number(7.5)
#ifndef VIGIL_RULES_HISTORY_H_
#define VIGIL_RULES_HISTORY_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string_view>
#include <vector>

#include "base/codec.h"
#include "base/time.h"
#include "rules/value.h"
#include "windows/window_spec.h"

namespace vigil {

enum class HistoryFn : uint8_t {
  kNone,  // the metric's current value
  kAvgOver,
  kStddevOver,
  kZscore,
  kOffset,
  kGrowth,
  kDeclining,
  kAbsent,
};

std::string_view HistoryFnName(HistoryFn fn);
std::optional<HistoryFn> FindHistoryFn(std::string_view name);
// All function names, for suggestions.
std::vector<std::string> HistoryFnNames();
// declining() and absent() are conditions; the others are numbers.
inline bool HistoryFnIsBool(HistoryFn fn) {
  return fn == HistoryFn::kDeclining || fn == HistoryFn::kAbsent;
}

// Windows one history input may need per group; larger requests are errors
// when the rule loads, so a typo such as `1y` on 1-minute windows cannot
// exhaust memory.
inline constexpr int64_t kMaxHistoryWindows = 100'000;

struct HistoryInput {
  HistoryFn fn = HistoryFn::kNone;
  DurationMs span = 0;  // d
  int count = 0;        // n of declining()
  friend bool operator==(const HistoryInput&, const HistoryInput&) = default;
};

// How far back before a metric's latest window end the input reads, for
// windows closing every `slide`.
DurationMs HistoryRetention(const HistoryInput& in, DurationMs slide);

// The inputs of an alert. It is the vector of metric indices that code which
// only asks "which metrics does this alert read" has always used (slot i
// reads metric (*this)[i], so a metric may appear more than once), plus what
// each slot reads of it.
struct AlertInputs : std::vector<int> {
  using std::vector<int>::vector;
  std::vector<HistoryInput> history;  // parallel; a missing entry is kNone

  const HistoryInput& Input(size_t slot) const {
    static const HistoryInput kCurrent;
    return slot < history.size() ? history[slot] : kCurrent;
  }
};

struct HistoryPoint {
  TimeMs end;
  double value;
};

class MetricHistory {
 public:
  // Ends must increase.
  void Add(TimeMs end, double value) { points_.push_back({end, value}); }
  // Drops points that ended before `oldest`.
  void Prune(TimeMs oldest) {
    while (!points_.empty() && points_.front().end < oldest) points_.pop_front();
  }
  bool empty() const { return points_.empty(); }
  // The value of the latest window kept, if any.
  std::optional<double> Last() const {
    if (points_.empty()) return std::nullopt;
    return points_.back().value;
  }
  // Checkpoints.
  void Encode(Encoder* enc) const;
  bool Decode(Decoder* dec);

  // `end`: the metric's latest window end; `now`: the evaluation time;
  // `window`: the metric's window (declining() steps back through its
  // ends, calendar ones included). Missing when the function has no value
  // (see the overview).
  Value Eval(const HistoryInput& in, TimeMs end, TimeMs now, const WindowSpec& window) const;

 private:
  std::optional<double> At(TimeMs end) const;
  bool Declining(int n, TimeMs end, const WindowSpec& window) const;
  // Count, mean and population deviation of the points ending in (lo, hi].
  struct Moments {
    int64_t n = 0;
    double mean = 0;
    double stddev = 0;
  };
  Moments Over(TimeMs lo, TimeMs hi) const;

  std::deque<HistoryPoint> points_;
};

}  // namespace vigil

#endif  // VIGIL_RULES_HISTORY_H_
