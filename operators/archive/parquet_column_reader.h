// operators/archive/parquet_column_reader.h
//
// Decodes one column chunk of a Parquet file (an optional flat column, as
// parquet_column_writer.h writes it) into a definition flag per row and the
// values of the defined rows, for parquet_reader.cc. Pages may be v1 data
// pages (PLAIN, RLE_DICTIONARY or PLAIN_DICTIONARY values, RLE levels) after
// at most one dictionary page (PLAIN), ZSTD-compressed or not. Everything
// else, and every inconsistency (a page past the chunk, fewer or more
// values than rows, an index past the dictionary), fails with
// InvalidArgument naming the column.
//
// Example:
//   ColumnChunkData data;
//   absl::Status s = ReadColumnChunk(file, footer_start, meta, group.num_rows, "ts", &data);
//   for (size_t row = 0, v = 0; row < data.defined.size(); ++row)
//     if (data.defined[row]) Use(data.ints[v++]);
#ifndef VIGIL_OPERATORS_ARCHIVE_PARQUET_COLUMN_READER_H_
#define VIGIL_OPERATORS_ARCHIVE_PARQUET_COLUMN_READER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "operators/archive/parquet_format.h"

namespace vigil::parquet {

// Values of one physical type; only the vector of that type is used.
struct ColumnValuesRead {
  std::vector<int64_t> ints;
  std::vector<double> doubles;
  std::vector<uint8_t> bools;
  std::vector<std::string_view> strings;  // into the file or ColumnChunkData::pages

  size_t size(PhysicalType type) const;
  // Appends value `i` of `from` (of the same type).
  void AppendFrom(const ColumnValuesRead& from, size_t i, PhysicalType type);
};

struct ColumnChunkData {
  std::vector<uint32_t> defined;  // per row: 1 when it has a value
  ColumnValuesRead values;        // of the defined rows, in row order
  // Decompressed pages, which `values.strings` may point into (a deque:
  // adding one moves none).
  std::deque<std::string> pages;
};

// Reads the chunk `meta` of a row group of `num_rows` rows from `file`,
// whose column data ends at `data_end` (where the footer starts).
absl::Status ReadColumnChunk(std::string_view file, size_t data_end, const ColumnMetaData& meta,
                             int64_t num_rows, std::string_view name, ColumnChunkData* out);

}  // namespace vigil::parquet

#endif  // VIGIL_OPERATORS_ARCHIVE_PARQUET_COLUMN_READER_H_
