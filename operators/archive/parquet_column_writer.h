// operators/archive/parquet_column_writer.h
//
// Writes one column chunk of a Parquet file (the values of one optional,
// flat column in one row group) and returns its ColumnMetaData, for
// parquet_writer.cc, which shreds the records into ColumnValues.
//
// Pages. Data pages are v1: the definition levels (RLE/bit-packed hybrid,
// width 1, with their 4-byte length) then the values, the whole body
// compressed with zstd at the given level. A page closes once its values
// take about kPageBytes (as PLAIN). BYTE_ARRAY columns are dictionary
// encoded when their distinct values take at most kMaxDictionaryBytes: one
// PLAIN dictionary page first, then RLE_DICTIONARY data pages; otherwise,
// and for every other type, the data pages are PLAIN. A chunk of nulls only
// is one PLAIN page of definition levels.
//
// Statistics. Every chunk has null_count; min_value and max_value when it
// has a value, in the column's sort order (signed for INT64 and DOUBLE,
// false < true, unsigned bytewise for BYTE_ARRAY); a DOUBLE chunk has
// nan_count, NaN is left out of min/max, and a zero min is written -0.0 and
// a zero max +0.0 as parquet.thrift asks. Byte arrays longer than
// kMaxStatisticsBytes leave out min/max (as parquet-cpp does), rather than
// a truncated bound some readers would take as a value.
//
// Example:
//   ColumnValues v(PhysicalType::kInt64);
//   v.AddInt64(5);
//   v.AddNull();
//   absl::StatusOr<ColumnMetaData> meta = WriteColumnChunk("llm_calls", v, 3, &file);
#ifndef VIGIL_OPERATORS_ARCHIVE_PARQUET_COLUMN_WRITER_H_
#define VIGIL_OPERATORS_ARCHIVE_PARQUET_COLUMN_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "operators/archive/parquet_format.h"

namespace vigil::parquet {

inline constexpr size_t kPageBytes = 1 << 20;
inline constexpr size_t kMaxDictionaryBytes = 1 << 20;
inline constexpr size_t kMaxStatisticsBytes = 4096;

// The values of one column in one row group, in row order: a definition
// flag per row, and the values of the defined rows in the vector of the
// column's type.
class ColumnValues {
 public:
  explicit ColumnValues(PhysicalType type) : type_(type) {}

  void AddNull() {
    defined_.push_back(0);
    ++nulls_;
  }
  void AddInt64(int64_t v) {
    defined_.push_back(1);
    ints_.push_back(v);
  }
  void AddDouble(double v) {
    defined_.push_back(1);
    doubles_.push_back(v);
  }
  void AddBool(bool v) {
    defined_.push_back(1);
    bools_.push_back(v ? 1 : 0);
  }
  void AddBytes(std::string_view v) {
    defined_.push_back(1);
    bytes_.append(v);
    ends_.push_back(bytes_.size());
  }

  PhysicalType type() const { return type_; }
  size_t rows() const { return defined_.size(); }
  size_t values() const { return rows() - nulls(); }
  size_t nulls() const { return nulls_; }
  const std::vector<uint8_t>& defined() const { return defined_; }
  const std::vector<int64_t>& ints() const { return ints_; }
  const std::vector<double>& doubles() const { return doubles_; }
  const std::vector<uint8_t>& bools() const { return bools_; }
  std::string_view bytes(size_t i) const {
    const size_t begin = i == 0 ? 0 : ends_[i - 1];
    return std::string_view(bytes_).substr(begin, ends_[i] - begin);
  }
  // The PLAIN size of value i.
  size_t PlainSize(size_t i) const;

 private:
  PhysicalType type_;
  std::vector<uint8_t> defined_;
  std::vector<int64_t> ints_;
  std::vector<double> doubles_;
  std::vector<uint8_t> bools_;
  std::string bytes_;  // byte arrays back to back, ends_ after each
  std::vector<size_t> ends_;
  size_t nulls_ = 0;
};

// Appends the pages of `values` to `file` (their offsets are file
// positions) and returns the chunk's metadata. Fails only when a page
// passes kMaxPageBytes (a value of about that size) or zstd fails.
absl::StatusOr<ColumnMetaData> WriteColumnChunk(std::string_view name, const ColumnValues& values,
                                                int compression_level, std::string* file);

// The chunk's statistics, as WriteColumnChunk stores them.
Statistics ColumnStatistics(const ColumnValues& values);

}  // namespace vigil::parquet

#endif  // VIGIL_OPERATORS_ARCHIVE_PARQUET_COLUMN_WRITER_H_
