// operators/archive/parquet_reader.h
//
// Reads back the Parquet files of the archive (EncodeParquetBatch,
// parquet_writer.h) as the JSON records they hold, for replays.
//
// A row becomes one JSON object: the typed columns that are not null, in
// schema order, then the members of `extra` as they were stored. Values:
// strings as JSON strings (escaped as RFC 8259 asks), INT64 as integers,
// DOUBLE in the shortest form that reads back to the same double
// (AppendJsonDouble), BOOLEAN as true/false, and a TIMESTAMP(MILLIS) as
// FormatTimestamp's RFC 3339 ("2026-01-01T00:00:00.250Z"; a time outside
// years 0000..9999, which vigil never writes, as integer milliseconds).
//
// What it reads: a flat schema of optional columns, each BOOLEAN, INT64
// (plain or TIMESTAMP in milliseconds), DOUBLE or BYTE_ARRAY (STRING or no
// logical type), the BYTE_ARRAY column `extra` holding a JSON object; v1
// data pages, PLAIN or dictionary encoded, with RLE definition levels;
// ZSTD or uncompressed pages; row groups of at most kMaxRowGroupRows rows.
// Anything else is refused with InvalidArgument naming what is not
// supported (a column's codec, encoding, type or repetition, a page type).
// Corrupt input (truncated, bad offsets, bad Thrift, short pages, indices
// out of range, an `extra` that is not a JSON object) is InvalidArgument
// too: the reader checks every length and offset before it reads.
//
// Rows are emitted as soon as their row group is decoded, so an error in a
// later row group comes after the rows of the earlier ones.
//
// Example:
//   absl::Status s = ReadParquetRecords(bytes, [&](std::string_view record) {
//     out.append(record).push_back('\n');
//   });
#ifndef VIGIL_OPERATORS_ARCHIVE_PARQUET_READER_H_
#define VIGIL_OPERATORS_ARCHIVE_PARQUET_READER_H_

#include <functional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "operators/archive/parquet_format.h"

namespace vigil {

// Calls `emit` with each row of a Parquet file written by EncodeParquetBatch, rebuilt as a JSON
// object (the typed columns that are not null, in schema order, then the members of `extra`), in
// row order.
absl::Status ReadParquetRecords(std::string_view file,
                                const std::function<void(std::string_view record)>& emit);

// The footer of a Parquet file (after checking both magics and its length).
absl::StatusOr<parquet::FileMetaData> ReadParquetFooter(std::string_view file);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_ARCHIVE_PARQUET_READER_H_
