// operators/archive/parquet_writer.h
//
// EncodeParquetBatch turns one archive batch (the JSON records of the
// events a job accepted) into one complete Apache Parquet file, so that
// DuckDB, Athena, Spark or pandas can query the archive directly and prune
// files by their statistics. ReadParquetRecords (parquet_reader.h) turns
// such a file back into the records.
//
// Schema. One optional (nullable) top-level column per field of the
// reference events of DESIGN.md section 2 (and the text of a turn,
// user_message and response, which the generator and the escalation
// review use), in this order, then `extra`:
//
//   ts                                    INT64 TIMESTAMP(MILLIS, UTC)
//   type, session_id, user_id, turn_id,   BYTE_ARRAY STRING
//     intent
//   latency_ms                            DOUBLE
//   cache_hit, guardrail_triggered,       BOOLEAN
//     llm_timeout
//   llm_calls                             INT64
//   error_service, variant, topic,        BYTE_ARRAY STRING
//     user_message, response
//   rating                                INT64
//   comment, asin                         BYTE_ARRAY STRING
//   price                                 DOUBLE
//   reason, service, state, predicted,    BYTE_ARRAY STRING
//     actual
//   extra                                 BYTE_ARRAY STRING (a JSON object)
//
// What goes where. A top-level member whose value fits its column's type
// fills that column; JSON null, like a missing member, is a null in the
// column (the rules treat the two alike). A value that does not fit (a
// string latency, a fractional rating, an object anywhere) and every member
// that is not a column goes into `extra`, a JSON object of those members in
// record order (null when there are none). Fitting:
//   STRING   a JSON string.
//   DOUBLE   a JSON number (an integer only if a double holds it exactly).
//   INT64    an integer in the int64 range, or an integral number written
//            with a fraction or exponent (2.0, 1e3) up to 2^53 in magnitude.
//   BOOLEAN  true or false.
//   ts       an RFC 3339 string with a zone that ParseRfc3339 reads, or
//            integer epoch milliseconds (as INT64 above), whose time is in
//            years 0000..9999 UTC: the range that reads back through
//            FormatTimestamp. The column holds the instant in milliseconds,
//            so the zone offset and digits past the millisecond are not
//            kept: it reads back as "2026-01-01T10:00:00.250Z". Any other
//            ts (unparsable, out of that range, not a string or number) is
//            kept as it was in `extra`, and the ts column is null.
// When a key appears more than once, its last occurrence is the value (as
// for the event parser); for a column key the earlier ones are dropped,
// other keys keep every occurrence in `extra`. A byte order mark before the
// record is ignored.
//
// File layout (parquet_column_writer.h has the pages): row groups of
// `row_group_rows` rows (clamped to 1..kMaxRowGroupRows), rows in input
// order; zstd pages; string columns dictionary encoded; statistics (min,
// max, null count) per column chunk; created_by "vigil". An empty batch is
// a valid file with the schema and no row group.
//
// Errors: InvalidArgument naming the record (1-based) when one is not a
// JSON object (malformed JSON included); Internal if zstd fails.
//
// Example:
//   std::vector<std::string_view> records = {
//       R"({"ts":"2026-01-01T00:00:00Z","type":"message","latency_ms":812.5})",
//       R"({"ts":1767225600000,"type":"feedback","rating":1,"meta":{"a":1}})"};
//   absl::StatusOr<std::string> file = EncodeParquetBatch(records, {});
//   // second row: ts 2026-01-01 00:00:00 UTC, type "feedback", rating 1,
//   // extra {"meta":{"a":1}}
#ifndef VIGIL_OPERATORS_ARCHIVE_PARQUET_WRITER_H_
#define VIGIL_OPERATORS_ARCHIVE_PARQUET_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace vigil {

struct ParquetBatchOptions {
  int compression_level = 3;        // zstd level of every page
  size_t row_group_rows = 1 << 20;  // rows per row group (a batch is usually one group)
};

inline constexpr size_t kMaxRowGroupRows = 1 << 20;

// Encodes one archive batch, `records` being JSON objects (one event each, as accepted by the job),
// as a complete Parquet file (returned as bytes).
absl::StatusOr<std::string> EncodeParquetBatch(const std::vector<std::string_view>& records,
                                               const ParquetBatchOptions& options);

enum class ArchiveColumnType { kTimestamp, kString, kDouble, kInt64, kBool };
struct ArchiveColumn {
  std::string_view name;
  ArchiveColumnType type;
};
// The columns of every file EncodeParquetBatch writes, in order, `extra`
// (a kString) last.
std::span<const ArchiveColumn> ArchiveParquetColumns();
inline constexpr std::string_view kExtraColumn = "extra";
// The times the ts column takes: years 0000..9999 UTC, what FormatTimestamp
// writes and ParseRfc3339 reads back.
inline constexpr int64_t kParquetFirstTs = -62'167'219'200'000;  // 0000-01-01T00:00:00.000Z
inline constexpr int64_t kParquetLastTs = 253'402'300'799'999;   // 9999-12-31T23:59:59.999Z

// `v` as a JSON number that reads back as the same double, also through
// simdjson, which refuses integers past 64 bits: those are written with an
// exponent (1e+20), negative zero as -0.0. NaN and infinities as null.
void AppendJsonDouble(double v, std::string* out);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_ARCHIVE_PARQUET_WRITER_H_
