// base/time.h
//
// Event time in vigil is a signed count of milliseconds since the Unix epoch
// (UTC). This header holds the conversions every layer shares: parsing the
// `ts` of an event (RFC 3339 with a zone, or integer epoch milliseconds),
// formatting a time back to RFC 3339, and durations as written in rule files
// and configs ("250ms", "30s", "5m", "1h", "1d", "1w", or combinations such
// as "1h30m").
//
// Parsing never allocates and never throws; it returns nullopt on any
// malformed input so that the event path can dead-letter the record.
//
// Example:
//   ParseRfc3339("2026-11-24T12:00:00.250+01:00")   // 1795518000250
//   ParseDuration("1h30m")                           // 5400000
//   FormatTimestamp(0)                               // "1970-01-01T00:00:00.000Z"
//   FormatDuration(90000)                            // "1m30s"
#ifndef VIGIL_BASE_TIME_H_
#define VIGIL_BASE_TIME_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "absl/time/time.h"

namespace vigil {

using TimeMs = int64_t;
using DurationMs = int64_t;

inline constexpr TimeMs kMinTime = std::numeric_limits<TimeMs>::min();
inline constexpr TimeMs kMaxTime = std::numeric_limits<TimeMs>::max();

// RFC 3339 date-time with a mandatory zone ("Z" or "+hh:mm"), optional
// fractional seconds (truncated to milliseconds). Accepts 't'/'z' and a
// space in place of 'T' as RFC 3339 allows. Years are 0000-9999, and 10000,
// where the windows of the last event times of 9999 end.
std::optional<TimeMs> ParseRfc3339(std::string_view s);
// Whether an RFC 3339 time has a nonzero digit past the milliseconds, which
// ParseRfc3339 drops: the start of a range then begins at the next
// millisecond ("…59.9995Z" is after "…59.999Z").
bool BeyondMillis(std::string_view s);

// Formats as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string FormatTimestamp(TimeMs t);
// Appends the same form to `out` without intermediate allocation.
void AppendTimestamp(TimeMs t, std::string* out);
// As a JSON value: the quoted timestamp, or null for kMinTime and kMaxTime
// (none, or unbounded).
void AppendJsonTimestamp(TimeMs t, std::string* out);

// The longest duration: the span of event times (1970 to 9999). A time plus
// or minus one cannot overflow, and no window, `for:` or bound is longer.
inline constexpr DurationMs kMaxDuration = 253'402'300'799'999;

// A duration literal: one or more <integer><unit> with units ms, s, m, h, d,
// w, largest first ("1h30m"); a bare "0" is zero. At most kMaxDuration.
std::optional<DurationMs> ParseDuration(std::string_view s);
std::string FormatDuration(DurationMs d);

// A time zone by its IANA name (Europe/Berlin, UTC) from the system's
// tzdata. False for an unknown name and for the names that stand for the
// host's own setting ("localtime", "posixrules") or a file path, which
// would make calendar windows and silences differ between machines.
bool LoadIanaTimeZone(std::string_view name, absl::TimeZone* out);

// Days since 1970-01-01 for a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

// Floor division and epoch-aligned window arithmetic.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
inline TimeMs AlignDown(TimeMs t, DurationMs unit) { return FloorDiv(t, unit) * unit; }

}  // namespace vigil

#endif  // VIGIL_BASE_TIME_H_
