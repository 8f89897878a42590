// runtime/watermark.h
//
// WatermarkTracker holds event-time progress. Each input (a file, a Kafka
// partition, a Kinesis shard) has its own watermark: the largest event time
// seen minus the maximum out-of-orderness. The job watermark is the minimum
// over inputs that are active; a live input that is caught up (read to its
// head) and has delivered nothing for longer than the idle timeout stops
// holding it back, and when every assigned input is idle the watermark
// follows the processing clock (minus the out-of-orderness) so windows still
// close and alerts still resolve when traffic stops. Bounded inputs
// (replays) never consult the clock: their end is event time +inf.
//
// What never advances the watermark: an input that is behind its head,
// however long it has been silent (a backlog being read, a consumer waiting
// for its fetch); a job that owns no input at all (no partition assigned
// yet, or all taken away): it holds where it is; and a hold (SetHold), the
// watermark of inputs a restored checkpoint covered that are not back yet.
//
// The watermark never moves backwards.
//
// Example:
//   WatermarkTracker wm(/*inputs=*/2, /*max_out_of_orderness=*/5000, /*idle=*/30000,
//                       /*live=*/true);
//   wm.Observe(0, 100'000, now);
//   wm.Observe(1, 50'000, now);
//   wm.Current();                 // 45000: input 1 holds it back
//   wm.SetCaughtUp(1, true);      // input 1 is read to its head
//   wm.Tick(now + 31'000);        // input 1 idle now: input 0 alone holds it
#ifndef VIGIL_RUNTIME_WATERMARK_H_
#define VIGIL_RUNTIME_WATERMARK_H_

#include <algorithm>
#include <vector>

#include "base/time.h"

namespace vigil {

class WatermarkTracker {
 public:
  WatermarkTracker(int inputs, DurationMs max_out_of_orderness, DurationMs idle_timeout, bool live);

  // An event at `ts` from `input`, seen at processing time `now` (ms).
  void Observe(int input, TimeMs ts, TimeMs now) {
    Input& in = inputs_[input];
    in.last_active = now;
    in.quiet = false;
    if (created_ == kMinTime) created_ = now;
    if (ts > in.max_ts) {
      in.max_ts = ts;
      if (in.idle || input == min_input_) Recompute(now);
    }
  }
  // The input has ended (bounded inputs only): it no longer holds the job back.
  void End(int input, TimeMs now);
  // Adds an input (a partition assigned or a shard found later) and returns
  // its index. It holds the watermark from `now`: until it delivers or goes
  // idle.
  int AddInput(TimeMs now);
  // An input this instance no longer reads (a revoked partition) stops
  // holding the watermark; made active again when it comes back.
  void SetActive(int input, bool active, TimeMs now);
  // Whether the input is read to its head (Kafka: at the partition's end;
  // Kinesis: nothing behind the shard's tip). Only a caught-up input can
  // go idle. New inputs start not caught up.
  void SetCaughtUp(int input, bool caught_up) { inputs_[input].caught_up = caught_up; }
  // The input is known to have nothing more for now (a scale-out instance
  // took it over from one that read it to its end): idle as soon as it is
  // caught up, without waiting for the idle timeout, until it delivers.
  void SetQuiet(int input) { inputs_[input].quiet = true; }
  // The watermark may not pass `hold` (kMaxTime: no hold), and while a hold
  // is set it never follows the clock.
  void SetHold(TimeMs hold) { hold_ = hold; }
  TimeMs hold() const { return hold_; }
  // Checkpoint restore: the input's largest event time and the job
  // watermark as they were saved.
  void RestoreInput(int input, TimeMs max_ts) { inputs_[input].max_ts = max_ts; }
  void RestoreWatermark(TimeMs watermark) { watermark_ = std::max(watermark_, watermark); }
  TimeMs InputMaxTs(int input) const { return inputs_[input].max_ts; }
  // The latest event time seen over all inputs (kMinTime before any).
  TimeMs LastTs() const;
  // Re-evaluates idleness and the processing-clock rule (live jobs).
  void Tick(TimeMs now);

  TimeMs Current() const { return watermark_; }
  bool AllEnded() const;
  TimeMs InputWatermark(int input) const;
  int input_count() const { return static_cast<int>(inputs_.size()); }
  bool idle(int input) const { return inputs_[input].idle; }

 private:
  struct Input {
    TimeMs max_ts = kMinTime;
    TimeMs last_active = kMinTime;
    bool idle = false;
    bool ended = false;
    bool inactive = false;
    bool caught_up = false;
    bool quiet = false;  // SetQuiet, until an event
  };
  void Recompute(TimeMs now);

  std::vector<Input> inputs_;
  DurationMs max_ooo_;
  DurationMs idle_timeout_;
  bool live_;
  TimeMs watermark_ = kMinTime;
  TimeMs created_ = kMinTime;  // processing time of the first Tick/Observe
  TimeMs hold_ = kMaxTime;
  int min_input_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_WATERMARK_H_
