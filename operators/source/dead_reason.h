// operators/source/dead_reason.h
//
// Why the job refused a record: it goes to the dead-letter output with its
// reason's name, and is counted in vigil_dead_letter_total{reason}. The
// parser decides the first six; the job the rest (too long, out of range,
// too far in the future, late, a partials message that does not decode).
//
// Example:
//   DeadReasonName(DeadReason::kLate);   // "late"
#ifndef VIGIL_OPERATORS_SOURCE_DEAD_REASON_H_
#define VIGIL_OPERATORS_SOURCE_DEAD_REASON_H_

#include <cstdint>
#include <string_view>

namespace vigil {

enum class DeadReason : uint8_t {
  kMalformedJson,
  kNotObject,
  kMissingTs,
  kBadTs,
  kMissingType,
  kWrongType,
  kOversized,
  kLate,
  kFuture,      // ahead of the processing clock by more than event_time.max_future
  kBadPartial,  // merge stage: a partials message that does not decode
  kOutOfRange,  // a numeric field outside its `schema:` range
  kUnmatched,   // a join's right event no left matched (unmatched_right: dead_letter)
};
inline constexpr int kDeadReasonCount = 12;
// "malformed_json", "not_an_object", ..., "out_of_range", "unmatched".
std::string_view DeadReasonName(DeadReason r);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_SOURCE_DEAD_REASON_H_
