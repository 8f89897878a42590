#include "runtime/record_checks.h"

#include "base/strings.h"

namespace vigil {

RecordChecks::Verdict RecordChecks::Check(const Record& record, const ParseAhead::Parsed& parsed,
                                          TimeMs watermark, TimeMs now) const {
  Verdict v;
  if (record.oversized) {
    v.outcome = kDeadLetter;
    v.reason = DeadReason::kOversized;
    v.detail = StrCat("record of ", record.size, " bytes is over the limit of ",
                      options_.max_record_bytes);
    return v;
  }
  if (!parsed.ok) {
    v.outcome = kDeadLetter;
    v.reason = parsed.err.reason;
    v.detail = parsed.err.detail;
    return v;
  }
  const TimeMs ts = parsed.ev.ts;
  if (ts < options_.from || ts >= options_.to) {
    v.outcome = kSkip;
    v.ts = ts;
    v.observe = options_.max_future <= 0 || ts <= now + options_.max_future;
    return v;
  }
  if (options_.max_future > 0 && ts > now + options_.max_future) {
    v.outcome = kDeadLetter;
    v.reason = DeadReason::kFuture;
    v.detail = StrCat("event time ", FormatTimestamp(ts), " is more than ",
                      FormatDuration(options_.max_future), " ahead of the clock (",
                      FormatTimestamp(now), ")");
    v.ts = ts;
    return v;
  }
  if (watermark != kMinTime && ts < watermark - options_.allowed_lateness) {
    v.outcome = kDeadLetter;
    v.reason = DeadReason::kLate;
    v.detail = StrCat("event time ", FormatTimestamp(ts), " is behind the watermark ",
                      FormatTimestamp(watermark), " by more than the allowed lateness");
    v.ts = ts;
  }
  return v;
}

}  // namespace vigil
