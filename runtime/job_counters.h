// runtime/job_counters.h
//
// The job's counters, one set: the job thread counts into it, the
// end-of-run summary prints it, checkpoints carry it (so totals continue
// across restarts) and /metrics shows it (JobMetrics::SetCounters). A
// record is counted once, in `records`, and then in exactly one of
// `processed`, `skipped` or `dead_lettered` (its reason in
// `dead_letters`; a late record is also counted in `late`). At the merge
// stage a record is a partials message, and one that comes after its
// windows closed is processed and counted in `late`.
//
// Example:
//   JobCounters c;
//   c.records += batch.size();
//   c.DeadLetter(DeadReason::kLate);   // dead_lettered, dead_letters[kLate], late
//   metrics.SetCounters(c);
#ifndef VIGIL_RUNTIME_JOB_COUNTERS_H_
#define VIGIL_RUNTIME_JOB_COUNTERS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "operators/source/dead_reason.h"

namespace vigil {

struct JobCounters {
  uint64_t records = 0;        // read from the source
  uint64_t processed = 0;      // accepted into the dataflow
  uint64_t dead_lettered = 0;  // refused, every reason
  uint64_t late = 0;           // refused as late (also in dead_lettered)
  uint64_t skipped = 0;        // outside the configured time range (--from/--to)
  uint64_t windows = 0;        // window results emitted
  uint64_t firing_transitions = 0;
  std::array<uint64_t, kDeadReasonCount> dead_letters{};  // by DeadReason

  void DeadLetter(DeadReason reason) {
    ++dead_lettered;
    ++dead_letters[static_cast<int>(reason)];
    if (reason == DeadReason::kLate) ++late;
  }
  // A join's unmatched right event written to the dead-letter output: the
  // event was processed (it is in `processed`), so only its reason counts.
  void UnmatchedToDeadLetter() { ++dead_letters[static_cast<int>(DeadReason::kUnmatched)]; }
  uint64_t dead_letters_for(DeadReason reason) const {
    return dead_letters[static_cast<int>(reason)];
  }

  // The per-reason counts, for a checkpoint (the totals have fields of
  // their own there). Decode returns false on a malformed string and
  // leaves the counts unchanged; reasons it does not know are ignored.
  std::string EncodeDeadLetters() const;
  bool DecodeDeadLetters(std::string_view data);
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_JOB_COUNTERS_H_
