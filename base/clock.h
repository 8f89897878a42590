// base/clock.h
//
// The clocks vigil reads: the wall clock (processing time, milliseconds
// since the Unix epoch: what idleness, checkpoint intervals and
// max_future are measured against) and a monotonic clock for durations.
//
// Example:
//   TimeMs now = WallClockMs();
//   int64_t t0 = MonotonicMs();  ...  int64_t took = MonotonicMs() - t0;
#ifndef VIGIL_BASE_CLOCK_H_
#define VIGIL_BASE_CLOCK_H_

#include <chrono>
#include <cstdint>

#include "base/time.h"

namespace vigil {

inline TimeMs WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace vigil

#endif  // VIGIL_BASE_CLOCK_H_
