// operators/archive/parquet_format.h
//
// The pieces of the Apache Parquet format that the archive's writer and
// reader (parquet_writer.h, parquet_reader.h) need, from parquet.thrift and
// Encodings.md of apache/parquet-format:
//
//   file     := "PAR1" column-chunk* footer len:u32le "PAR1"
//   footer   := FileMetaData (Thrift compact protocol, parquet_thrift.h)
//   chunk    := [dictionary page] data-page+
//   page     := PageHeader (compact protocol) then compressed_page_size bytes
//   data page v1 body (before compression), for an optional flat column:
//               len:u32le RLE/bit-packed hybrid definition levels (width 1)
//               values: PLAIN, or RLE_DICTIONARY = width:u8 then the hybrid
//                       dictionary indices (no length prefix)
//
// The structs below hold only the fields vigil writes or reads; decoding
// skips every other field and fails (with a message naming the struct)
// when a required one is missing or the bytes are corrupt. Encoding writes
// fields in id order, optional ones only when set.
//
// The RLE/bit-packed hybrid: runs of `varint(count << 1)` then the value in
// ceil(width / 8) little-endian bytes, or `varint(groups << 1 | 1)` then
// groups * 8 values packed LSB first in `width` bits each.
//
// Example:
//   FileMetaData meta = ...;
//   std::string footer = EncodeFileMetaData(meta);
//   absl::StatusOr<FileMetaData> back = DecodeFileMetaData(footer);
//   const std::vector<uint32_t> defined = {1, 1, 1, 1, 1, 1, 1, 1, 0};
//   std::string levels;
//   AppendRleBitPacked(defined, 1, &levels);  // 0x10 0x01 0x03 0x00: eight 1s, a packed 0
#ifndef VIGIL_OPERATORS_ARCHIVE_PARQUET_FORMAT_H_
#define VIGIL_OPERATORS_ARCHIVE_PARQUET_FORMAT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace vigil::parquet {

inline constexpr std::string_view kMagic = "PAR1";
// The largest page body (uncompressed) vigil writes or reads: a bound on
// what a corrupt header can make a reader allocate.
inline constexpr size_t kMaxPageBytes = size_t{256} << 20;

// Enum values are the wire values; a decoded value may be one not listed.
enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};
enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };
enum class ConvertedType : int32_t { kUtf8 = 0, kTimestampMillis = 9 };
enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kRleDictionary = 8,
};
enum class Codec : int32_t { kUncompressed = 0, kSnappy = 1, kGzip = 2, kZstd = 6 };
enum class PageType : int32_t {
  kDataPage = 0,
  kIndexPage = 1,
  kDictionaryPage = 2,
  kDataPageV2 = 3,
};

// The LogicalType union, for the two members vigil uses; any other member
// decodes as kOther.
struct LogicalType {
  enum class Kind { kString, kTimestamp, kOther };
  Kind kind = Kind::kOther;
  bool utc = false;  // TIMESTAMP: isAdjustedToUTC
  int unit = 0;      // TIMESTAMP: the TimeUnit member: 1 MILLIS, 2 MICROS, 3 NANOS
  int other = 0;     // kOther: the union's field id

  static LogicalType String() { return {Kind::kString}; }
  static LogicalType TimestampMillisUtc() { return {Kind::kTimestamp, true, 1}; }
  bool operator==(const LogicalType&) const = default;
};

// Min and max are PLAIN-encoded values (byte arrays without their length).
struct Statistics {
  std::optional<std::string> max;  // deprecated signed-order fields, read only
  std::optional<std::string> min;
  std::optional<int64_t> null_count;
  std::optional<std::string> max_value;
  std::optional<std::string> min_value;
  std::optional<bool> is_max_value_exact;
  std::optional<bool> is_min_value_exact;
  std::optional<int64_t> nan_count;
  bool operator==(const Statistics&) const = default;
};

struct SchemaElement {
  std::optional<PhysicalType> type;
  std::optional<Repetition> repetition;
  std::string name;
  std::optional<int32_t> num_children;
  std::optional<ConvertedType> converted_type;
  std::optional<LogicalType> logical_type;
  bool operator==(const SchemaElement&) const = default;
};

struct DataPageHeader {
  int32_t num_values = 0;  // nulls included
  Encoding encoding = Encoding::kPlain;
  Encoding definition_level_encoding = Encoding::kRle;
  Encoding repetition_level_encoding = Encoding::kRle;
  bool operator==(const DataPageHeader&) const = default;
};

struct DictionaryPageHeader {
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
  bool operator==(const DictionaryPageHeader&) const = default;
};

struct PageHeader {
  PageType type = PageType::kDataPage;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  std::optional<DataPageHeader> data_page;
  std::optional<DictionaryPageHeader> dictionary_page;
  bool operator==(const PageHeader&) const = default;
};

struct PageEncodingStats {
  PageType page_type = PageType::kDataPage;
  Encoding encoding = Encoding::kPlain;
  int32_t count = 0;
  bool operator==(const PageEncodingStats&) const = default;
};

struct ColumnMetaData {
  PhysicalType type = PhysicalType::kBoolean;
  std::vector<Encoding> encodings;
  std::vector<std::string> path_in_schema;
  Codec codec = Codec::kUncompressed;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;  // pages with their headers
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> dictionary_page_offset;
  std::optional<Statistics> statistics;
  std::vector<PageEncodingStats> encoding_stats;
  bool operator==(const ColumnMetaData&) const = default;
};

struct ColumnChunk {
  int64_t file_offset = 0;  // deprecated: 0, the metadata is in the footer only
  std::optional<ColumnMetaData> meta_data;
  bool operator==(const ColumnChunk&) const = default;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  int64_t total_byte_size = 0;
  int64_t num_rows = 0;
  std::optional<int64_t> file_offset;
  std::optional<int64_t> total_compressed_size;
  std::optional<int16_t> ordinal;
  bool operator==(const RowGroup&) const = default;
};

struct FileMetaData {
  int32_t version = 1;
  std::vector<SchemaElement> schema;  // the root first, then its children
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::optional<std::string> created_by;
  // One per leaf column: the ColumnOrder union's member id (1 TYPE_ORDER).
  std::vector<int> column_orders;
  bool operator==(const FileMetaData&) const = default;
};

// parquet.thrift's names ("ZSTD", "RLE_DICTIONARY"), for messages; a value
// not listed above as "<what> <number>".
std::string Name(PhysicalType t);
std::string Name(Repetition r);
std::string Name(Encoding e);
std::string Name(Codec c);
std::string Name(PageType t);

std::string EncodeFileMetaData(const FileMetaData& meta);
std::string EncodePageHeader(const PageHeader& header);
// Decoders fail with InvalidArgument naming the struct and the problem.
absl::StatusOr<FileMetaData> DecodeFileMetaData(std::string_view bytes);
// Decodes the header at the start of `bytes`; `*size` is its length.
absl::StatusOr<PageHeader> DecodePageHeader(std::string_view bytes, size_t* size);

// Appends `values` (each below 2^width, width 0..32) in the hybrid encoding,
// without the 4-byte length prefix: RLE runs for repeats of 8 or more,
// bit-packed groups of 8 for the rest (the last group padded with zeros).
void AppendRleBitPacked(std::span<const uint32_t> values, int width, std::string* out);
// Decodes exactly `n` values of `width` bits from `in` into `out` (appended);
// false when `in` ends first, a run is malformed, or a value does not fit
// `max_value` (so that a dictionary index is always in range).
bool DecodeRleBitPacked(std::string_view in, int width, size_t n, uint32_t max_value,
                        std::vector<uint32_t>* out);
// The bits needed for values up to `max_value` (0 for 0).
int BitWidth(uint32_t max_value);

}  // namespace vigil::parquet

#endif  // VIGIL_OPERATORS_ARCHIVE_PARQUET_FORMAT_H_
