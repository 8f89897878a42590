#include "operators/source/dead_reason.h"

namespace vigil {

std::string_view DeadReasonName(DeadReason r) {
  switch (r) {
    case DeadReason::kMalformedJson:
      return "malformed_json";
    case DeadReason::kNotObject:
      return "not_an_object";
    case DeadReason::kMissingTs:
      return "missing_ts";
    case DeadReason::kBadTs:
      return "bad_ts";
    case DeadReason::kMissingType:
      return "missing_type";
    case DeadReason::kWrongType:
      return "wrong_type";
    case DeadReason::kOversized:
      return "oversized";
    case DeadReason::kLate:
      return "late";
    case DeadReason::kFuture:
      return "future_ts";
    case DeadReason::kBadPartial:
      return "bad_partial";
    case DeadReason::kOutOfRange:
      return "out_of_range";
    case DeadReason::kUnmatched:
      return "unmatched";
  }
  return "?";
}

}  // namespace vigil
