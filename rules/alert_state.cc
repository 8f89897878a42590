#include "rules/alert_state.h"

#include <algorithm>

namespace vigil {

std::string_view TransitionName(Transition t) {
  switch (t) {
    case Transition::kNone:
      return "none";
    case Transition::kPending:
      return "pending";
    case Transition::kFiring:
      return "firing";
    case Transition::kResolved:
      return "resolved";
    case Transition::kInactive:
      return "inactive";
  }
  return "?";
}

Transition AlertState::Step(bool holds, bool resolves, TimeMs end, double v,
                            const AlertTiming& timing) {
  // The condition last held at the previous evaluation, one step ago unless
  // evaluations were skipped.
  const TimeMs previous_eval = last_eval == kMinTime ? end - timing.step : last_eval;
  last_eval = end;
  value = v;
  switch (phase) {
    case AlertPhase::kInactive:
      if (!holds) return Transition::kNone;
      active_since = timing.calendar ? timing.window_start : end - timing.step;
      evaluations = 1;
      peak = v;
      if (Held(end, timing) >= timing.for_duration) {
        phase = AlertPhase::kFiring;
        fired_at = end;
        fired_value = v;
        return Transition::kFiring;
      }
      phase = AlertPhase::kPending;
      return Transition::kPending;
    case AlertPhase::kPending:
      if (!holds) {
        phase = AlertPhase::kInactive;
        active_since = kMinTime;
        evaluations = 0;
        return Transition::kInactive;
      }
      peak = timing.lower_is_worse ? std::min(peak, v) : std::max(peak, v);
      if (evaluations != 0) ++evaluations;  // 0: restored from before it was kept
      if (Held(end, timing) >= timing.for_duration) {
        phase = AlertPhase::kFiring;
        fired_at = end;
        fired_value = v;
        return Transition::kFiring;
      }
      return Transition::kNone;
    case AlertPhase::kFiring: {
      const bool stopped = timing.has_resolve ? resolves : !holds;
      if (!stopped) {
        cleared_since = kMinTime;
        peak = timing.lower_is_worse ? std::min(peak, v) : std::max(peak, v);
        if (holds) fired_value = v;
        return Transition::kNone;
      }
      if (cleared_since == kMinTime) cleared_since = previous_eval;
      if (end - cleared_since < timing.keep_firing_for) return Transition::kNone;
      phase = AlertPhase::kInactive;
      active_since = cleared_since = kMinTime;
      evaluations = 0;
      return Transition::kResolved;
    }
  }
  return Transition::kNone;
}

DurationMs AlertState::Held(TimeMs end, const AlertTiming& timing) const {
  // A state restored from before evaluations were kept counts by time.
  if (timing.calendar && evaluations != 0) return evaluations * timing.step;
  return end - active_since;
}

// Since fired_value: the phase byte carries kWithFiredValue, and the value
// and a flags byte (bit 0: notified) follow the others. States encoded
// before decode with fired_value = value, notified.
constexpr uint8_t kWithFiredValue = 0x80;
// Since evaluations: the phase byte also carries kWithEvaluations, and the
// count follows the flags byte. States encoded before decode with 0.
constexpr uint8_t kWithEvaluations = 0x40;

void AlertState::Encode(Encoder* enc) const {
  enc->PutByte(static_cast<uint8_t>(phase) | kWithFiredValue | kWithEvaluations);
  enc->PutSigned(active_since);
  enc->PutSigned(fired_at);
  enc->PutSigned(cleared_since);
  enc->PutSigned(last_eval);
  enc->PutDouble(value);
  enc->PutDouble(peak);
  enc->PutDouble(fired_value);
  enc->PutByte(notified ? 1 : 0);
  enc->PutVarint(evaluations);
}

bool AlertState::Decode(Decoder* dec) {
  uint8_t p = dec->GetByte();
  const bool with_fired_value = (p & kWithFiredValue) != 0;
  const bool with_evaluations = (p & kWithEvaluations) != 0;
  p = static_cast<uint8_t>(p & ~(kWithFiredValue | kWithEvaluations));
  if (p > static_cast<uint8_t>(AlertPhase::kFiring)) return false;
  phase = static_cast<AlertPhase>(p);
  active_since = dec->GetSigned();
  fired_at = dec->GetSigned();
  cleared_since = dec->GetSigned();
  last_eval = dec->GetSigned();
  value = dec->GetDouble();
  peak = dec->GetDouble();
  fired_value = with_fired_value ? dec->GetDouble() : value;
  notified = with_fired_value ? (dec->GetByte() & 1) != 0 : true;
  const uint64_t n = with_evaluations ? dec->GetVarint() : 0;
  evaluations = static_cast<uint32_t>(std::min<uint64_t>(n, UINT32_MAX));
  return dec->ok();
}

}  // namespace vigil
