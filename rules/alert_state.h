// rules/alert_state.h
//
// The alert state machine of one (alert, group), driven by event time:
// inactive -> pending -> firing -> resolved (-> inactive). It is stepped once
// per closed window of the alert's metrics, with the window's [start, end)
// and whether the condition held, and follows Prometheus' semantics measured
// in event time:
//   - "held" is the event time the consecutive true windows cover, from the
//     first true window's start to the latest true window's end;
//   - pending while held < `for`; firing once held >= `for` (with `for: 0`,
//     at the first true window);
//   - a firing alert resolves when the condition stops holding — or, with a
//     `resolve:` expression (hysteresis), only when that holds — after
//     `keep_firing_for` of event time has passed since it last held (the
//     previous evaluation: one slide before the first false window's end).
// The state is plain data and serialises for checkpoints.
//
// Example (1-minute windows, for: 5m):
//   AlertState s;
//   s.Step(cond_true, 0, 60'000, ...)        -> kPending  (held 1m)
//   ... 4 more true windows ...
//   s.Step(cond_true, 240'000, 300'000, ...) -> kFiring   (held 5m, fired at 300000)
//   s.Step(cond_false, 300'000, 360'000,...) -> kResolved (at 360000)
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
};

struct AlertState {
  AlertPhase phase = AlertPhase::kInactive;
  TimeMs active_since = kMinTime;   // start of the first true window of the run
  TimeMs fired_at = kMinTime;       // window end at which it started firing
  TimeMs cleared_since = kMinTime;  // firing, but the condition stopped (keep_firing_for)
  TimeMs last_eval = kMinTime;
  double value = 0;  // value at the latest evaluation
  double peak = 0;   // largest value while active

  // `holds`: the alert condition; `resolves`: the resolve condition (only
  // read when timing.has_resolve). `value` is the alert's value at `end`.
  Transition Step(bool holds, bool resolves, TimeMs start, TimeMs end, double value,
                  const AlertTiming& timing);

  void Encode(Encoder* enc) const;
  bool Decode(Decoder* dec);
  friend bool operator==(const AlertState&, const AlertState&) = default;
};

}  // namespace vigil

#endif  // VIGIL_RULES_ALERT_STATE_H_
