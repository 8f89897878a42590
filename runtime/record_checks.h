// runtime/record_checks.h
//
// The checks every record passes, in this order, before it reaches the
// dataflow: not over the size limit (oversized), parsed (the parser's
// reason), inside the configured time range (else skipped, not refused),
// not too far ahead of the processing clock (future; Kafka and Kinesis
// only), not behind the watermark by more than the allowed lateness
// (late). The first check a record fails decides; the job dead-letters it
// with the reason and detail, or skips it.
//
// The watermark is the caller's: the job's (as of the previous record, in
// input order), or the record's input's on a scale-out instance.
//
// Example:
//   RecordChecks checks({.max_record_bytes = 1 << 20, .allowed_lateness = 0});
//   RecordChecks::Verdict v = checks.Check(record, parsed, watermark, now);
//   if (v.outcome == RecordChecks::kDeadLetter) DeadLetter(v.reason, v.detail, record, v.ts);
#ifndef VIGIL_RUNTIME_RECORD_CHECKS_H_
#define VIGIL_RUNTIME_RECORD_CHECKS_H_

#include <string>

#include "base/time.h"
#include "operators/parse/parse_ahead.h"
#include "operators/source/dead_reason.h"
#include "operators/source/record_source.h"

namespace vigil {

class RecordChecks {
 public:
  struct Options {
    size_t max_record_bytes = 0;
    TimeMs from = kMinTime;  // the time range, [from, to)
    TimeMs to = kMaxTime;
    DurationMs max_future = 0;  // 0: event times ahead of the clock are fine
    DurationMs allowed_lateness = 0;
  };
  enum Outcome { kAccept, kSkip, kDeadLetter };
  struct Verdict {
    Outcome outcome = kAccept;
    DeadReason reason = DeadReason::kMalformedJson;  // kDeadLetter: why
    std::string detail;                              // kDeadLetter: for the dead-letter line
    TimeMs ts = kMinTime;  // the event time, when it was read before the refusal
    // kSkip: the event still moves the watermark (it is no future one), so
    // that a range judges lateness as the run that read every event did.
    bool observe = false;
  };

  explicit RecordChecks(const Options& options) : options_(options) {}

  // `parsed`: the record as parsed (not read when it is oversized).
  // `watermark`: kMinTime when there is none yet.
  Verdict Check(const Record& record, const ParseAhead::Parsed& parsed, TimeMs watermark,
                TimeMs now) const;

 private:
  Options options_;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_RECORD_CHECKS_H_
