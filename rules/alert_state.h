// rules/alert_state.h
//
// The alert state machine of one (alert, group), driven by event time:
// inactive -> pending -> firing -> resolved (-> inactive). It is stepped once
// per evaluation — each close of the alert's window, at the window's end —
// with whether the condition held, and follows Prometheus' semantics
// measured in event time:
//   - "held" counts evaluations: (consecutive true evaluations) x `step`, the
//     alert's evaluation interval (its window's slide; the size for a
//     tumbling window);
//   - pending from the first true evaluation while held < `for`; firing at
//     the first evaluation at which held >= `for` (with `for: 0`, at the
//     first true evaluation);
//   - a firing alert resolves when the condition stops holding — or, with a
//     `resolve:` expression (hysteresis), only when that holds — after
//     `keep_firing_for` of event time has passed since it last held (the
//     previous evaluation: one slide before the first false window's end).
// The state is plain data and serialises for checkpoints.
//
// Example (1-minute tumbling windows, for: 5m; timing.step = 1m):
//   AlertState s;
//   s.Step(true, false, 60'000, v, timing)   -> kPending  (held 1m)
//   ... 3 more true evaluations ...
//   s.Step(true, false, 300'000, v, timing)  -> kFiring   (held 5m, fired at 300000)
//   s.Step(false, false, 360'000, v, timing) -> kResolved (at 360000)
// A 10m window every 1m with for: 5m (step 1m) is pending at the end of its
// first true window and fires at the fifth consecutive true evaluation.
#ifndef VIGIL_RULES_ALERT_STATE_H_
#define VIGIL_RULES_ALERT_STATE_H_

#include <optional>
#include <string_view>

#include "base/codec.h"
#include "base/time.h"

namespace vigil {

enum class AlertPhase : uint8_t { kInactive, kPending, kFiring };

// What a step changed, if anything. kResolved means firing -> inactive;
// kInactive means pending -> inactive (the condition cleared before `for`).
enum class Transition : uint8_t { kNone, kPending, kFiring, kResolved, kInactive };
std::string_view TransitionName(Transition t);

struct AlertTiming {
  DurationMs for_duration = 0;
  DurationMs keep_firing_for = 0;
  bool has_resolve = false;
  DurationMs step = 0;          // evaluation interval: the window's slide (> 0)
  bool lower_is_worse = false;  // AlertDef::lower_is_worse: peak is the lowest value
  // Calendar windows: held time is (consecutive true evaluations) x `step`,
  // the longest window (25 hours for a day), whatever the windows' real
  // lengths; and `window_start` is the start of the window evaluated, where
  // the held time starts.
  bool calendar = false;
  TimeMs window_start = kMinTime;
};

struct AlertState {
  AlertPhase phase = AlertPhase::kInactive;
  // Start of the held time: one step before the run's first true evaluation
  // (for a tumbling or calendar window, the start of its first true window).
  TimeMs active_since = kMinTime;
  // Consecutive true evaluations up to firing (calendar windows' held
  // time); 0 when inactive, and in a state restored from before it was kept.
  uint32_t evaluations = 0;
  TimeMs fired_at = kMinTime;       // window end at which it started firing
  TimeMs cleared_since = kMinTime;  // firing, but the condition stopped (keep_firing_for)
  TimeMs last_eval = kMinTime;
  double value = 0;  // value at the latest evaluation
  double peak = 0;   // value furthest past the threshold while active (AlertTiming)
  // Value at the latest evaluation at which it fired or held while firing:
  // what its notifications render on resolve (the annotations of the last
  // firing evaluation, as Prometheus keeps them).
  double fired_value = 0;
  // Firing: whether its firing notification went out (false while an
  // inhibition or a silence holds it back; see AlertOperator).
  bool notified = false;

  // `holds`: the alert condition; `resolves`: the resolve condition (only
  // read when timing.has_resolve). `value` is the alert's value at the
  // evaluation at `end`.
  Transition Step(bool holds, bool resolves, TimeMs end, double value, const AlertTiming& timing);
  // How long the condition has held at the evaluation at `end`.
  DurationMs Held(TimeMs end, const AlertTiming& timing) const;

  void Encode(Encoder* enc) const;
  bool Decode(Decoder* dec);
  friend bool operator==(const AlertState&, const AlertState&) = default;
};

}  // namespace vigil

#endif  // VIGIL_RULES_ALERT_STATE_H_
