#include "runtime/watermark.h"

#include <algorithm>

namespace vigil {

WatermarkTracker::WatermarkTracker(int inputs, DurationMs max_out_of_orderness,
                                   DurationMs idle_timeout, bool live)
    : inputs_(static_cast<size_t>(std::max(inputs, 1))),
      max_ooo_(max_out_of_orderness),
      idle_timeout_(idle_timeout),
      live_(live) {}

TimeMs WatermarkTracker::InputWatermark(int input) const {
  const Input& in = inputs_[input];
  if (in.ended) return kMaxTime;
  if (in.max_ts == kMinTime) return kMinTime;
  return in.max_ts - max_ooo_;
}

void WatermarkTracker::End(int input, TimeMs now) {
  inputs_[input].ended = true;
  Recompute(now);
}

int WatermarkTracker::AddInput(TimeMs now) {
  Input in;
  in.last_active = now;
  inputs_.push_back(in);
  return static_cast<int>(inputs_.size()) - 1;
}

void WatermarkTracker::SetActive(int input, bool active, TimeMs now) {
  Input& in = inputs_[input];
  if (in.inactive == !active) return;
  in.inactive = !active;
  if (active) in.last_active = now;
  Recompute(now);
}

bool WatermarkTracker::AllEnded() const {
  return std::all_of(inputs_.begin(), inputs_.end(), [](const Input& in) { return in.ended; });
}

void WatermarkTracker::Tick(TimeMs now) { Recompute(now); }

void WatermarkTracker::Recompute(TimeMs now) {
  if (created_ == kMinTime) created_ = now;
  TimeMs lowest = kMaxTime;
  bool any_active = false;
  bool any_owned = false;  // read by this job and not ended
  for (size_t i = 0; i < inputs_.size(); ++i) {
    Input& in = inputs_[i];
    if (in.ended || in.inactive) continue;
    any_owned = true;
    if (live_) {
      // Silence counts from the input's last delivery, or from when it was
      // added (or the job started); only a caught-up input can be idle.
      const TimeMs since = in.last_active != kMinTime ? in.last_active : created_;
      in.idle = in.caught_up && (in.quiet || now - since > idle_timeout_);
    }
    if (in.idle) continue;
    any_active = true;
    const TimeMs wm = InputWatermark(static_cast<int>(i));
    if (wm < lowest) {
      lowest = wm;
      min_input_ = static_cast<int>(i);
    }
  }
  TimeMs next;
  if (any_active) {
    next = lowest;
  } else if (AllEnded()) {
    next = kMaxTime;
  } else if (any_owned && hold_ == kMaxTime) {
    // Every input this job reads is caught up and idle: follow the clock.
    next = now - max_ooo_;
  } else {
    // Nothing owned, or a restored input not back yet: hold.
    next = watermark_;
  }
  watermark_ = std::max(watermark_, std::min(next, hold_));
}

TimeMs WatermarkTracker::LastTs() const {
  TimeMs last = kMinTime;
  for (const Input& in : inputs_) last = std::max(last, in.max_ts);
  return last;
}

}  // namespace vigil
