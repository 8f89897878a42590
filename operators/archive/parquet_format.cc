// Encoding of the Parquet structs and the RLE/bit-packed hybrid; decoding
// is in parquet_format_decode.cc.
#include "operators/archive/parquet_format.h"

#include <bit>

#include "base/strings.h"
#include "operators/archive/parquet_thrift.h"

namespace vigil::parquet {
namespace {

int32_t Wire(auto e) { return static_cast<int32_t>(e); }

void PutStatistics(ThriftWriter& w, int16_t id, const Statistics& s) {
  w.FieldStruct(id);
  if (s.max) w.FieldBinary(1, *s.max);
  if (s.min) w.FieldBinary(2, *s.min);
  if (s.null_count) w.FieldI64(3, *s.null_count);
  if (s.max_value) w.FieldBinary(5, *s.max_value);
  if (s.min_value) w.FieldBinary(6, *s.min_value);
  if (s.is_max_value_exact) w.FieldBool(7, *s.is_max_value_exact);
  if (s.is_min_value_exact) w.FieldBool(8, *s.is_min_value_exact);
  if (s.nan_count) w.FieldI64(9, *s.nan_count);
  w.EndStruct();
}

// An empty struct as the member `id` of a union: StringType, MilliSeconds,
// TypeDefinedOrder and the like.
void PutEmptyMember(ThriftWriter& w, int16_t id) {
  w.FieldStruct(id);
  w.EndStruct();
}

void PutLogicalType(ThriftWriter& w, int16_t id, const LogicalType& t) {
  w.FieldStruct(id);
  switch (t.kind) {
    case LogicalType::Kind::kString:
      PutEmptyMember(w, 1);
      break;
    case LogicalType::Kind::kTimestamp:
      w.FieldStruct(8);  // TimestampType
      w.FieldBool(1, t.utc);
      w.FieldStruct(2);  // TimeUnit
      PutEmptyMember(w, static_cast<int16_t>(t.unit));
      w.EndStruct();
      w.EndStruct();
      break;
    case LogicalType::Kind::kOther:
      PutEmptyMember(w, static_cast<int16_t>(t.other));
      break;
  }
  w.EndStruct();
}

void PutSchemaElement(ThriftWriter& w, const SchemaElement& e) {
  w.BeginStruct();
  if (e.type) w.FieldI32(1, Wire(*e.type));
  if (e.repetition) w.FieldI32(3, Wire(*e.repetition));
  w.FieldBinary(4, e.name);
  if (e.num_children) w.FieldI32(5, *e.num_children);
  if (e.converted_type) w.FieldI32(6, Wire(*e.converted_type));
  if (e.logical_type) PutLogicalType(w, 10, *e.logical_type);
  w.EndStruct();
}

void PutColumnMetaData(ThriftWriter& w, int16_t id, const ColumnMetaData& m) {
  w.FieldStruct(id);
  w.FieldI32(1, Wire(m.type));
  w.FieldList(2, CType::kI32, m.encodings.size());
  for (Encoding e : m.encodings) w.I32(Wire(e));
  w.FieldList(3, CType::kBinary, m.path_in_schema.size());
  for (const std::string& p : m.path_in_schema) w.Binary(p);
  w.FieldI32(4, Wire(m.codec));
  w.FieldI64(5, m.num_values);
  w.FieldI64(6, m.total_uncompressed_size);
  w.FieldI64(7, m.total_compressed_size);
  w.FieldI64(9, m.data_page_offset);
  if (m.dictionary_page_offset) w.FieldI64(11, *m.dictionary_page_offset);
  if (m.statistics) PutStatistics(w, 12, *m.statistics);
  if (!m.encoding_stats.empty()) {
    w.FieldList(13, CType::kStruct, m.encoding_stats.size());
    for (const PageEncodingStats& s : m.encoding_stats) {
      w.BeginStruct();
      w.FieldI32(1, Wire(s.page_type));
      w.FieldI32(2, Wire(s.encoding));
      w.FieldI32(3, s.count);
      w.EndStruct();
    }
  }
  w.EndStruct();
}

void PutRowGroup(ThriftWriter& w, const RowGroup& g) {
  w.BeginStruct();
  w.FieldList(1, CType::kStruct, g.columns.size());
  for (const ColumnChunk& c : g.columns) {
    w.BeginStruct();
    w.FieldI64(2, c.file_offset);
    if (c.meta_data) PutColumnMetaData(w, 3, *c.meta_data);
    w.EndStruct();
  }
  w.FieldI64(2, g.total_byte_size);
  w.FieldI64(3, g.num_rows);
  if (g.file_offset) w.FieldI64(5, *g.file_offset);
  if (g.total_compressed_size) w.FieldI64(6, *g.total_compressed_size);
  if (g.ordinal) w.FieldI16(7, *g.ordinal);
  w.EndStruct();
}

template <size_t N>
std::string NameOf(int32_t value, const char* const (&names)[N], std::string_view what) {
  if (value >= 0 && static_cast<size_t>(value) < N && names[value][0] != '\0') return names[value];
  return StrCat(what, " ", value);
}

}  // namespace

std::string Name(PhysicalType t) {
  static constexpr const char* kNames[] = {
      "BOOLEAN", "INT32",  "INT64",      "INT96",
      "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  return NameOf(Wire(t), kNames, "physical type");
}

std::string Name(Repetition r) {
  static constexpr const char* kNames[] = {"REQUIRED", "OPTIONAL", "REPEATED"};
  return NameOf(Wire(r), kNames, "repetition");
}

std::string Name(Encoding e) {
  static constexpr const char* kNames[] = {"PLAIN",
                                           "",
                                           "PLAIN_DICTIONARY",
                                           "RLE",
                                           "BIT_PACKED",
                                           "DELTA_BINARY_PACKED",
                                           "DELTA_LENGTH_BYTE_ARRAY",
                                           "DELTA_BYTE_ARRAY",
                                           "RLE_DICTIONARY",
                                           "BYTE_STREAM_SPLIT"};
  return NameOf(Wire(e), kNames, "encoding");
}

std::string Name(Codec c) {
  static constexpr const char* kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                           "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
  return NameOf(Wire(c), kNames, "codec");
}

std::string Name(PageType t) {
  static constexpr const char* kNames[] = {"DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE",
                                           "DATA_PAGE_V2"};
  return NameOf(Wire(t), kNames, "page type");
}

std::string EncodeFileMetaData(const FileMetaData& meta) {
  ThriftWriter w;
  w.FieldI32(1, meta.version);
  w.FieldList(2, CType::kStruct, meta.schema.size());
  for (const SchemaElement& e : meta.schema) PutSchemaElement(w, e);
  w.FieldI64(3, meta.num_rows);
  w.FieldList(4, CType::kStruct, meta.row_groups.size());
  for (const RowGroup& g : meta.row_groups) PutRowGroup(w, g);
  if (meta.created_by) w.FieldBinary(6, *meta.created_by);
  if (!meta.column_orders.empty()) {
    w.FieldList(7, CType::kStruct, meta.column_orders.size());
    for (int order : meta.column_orders) {
      w.BeginStruct();
      PutEmptyMember(w, static_cast<int16_t>(order));
      w.EndStruct();
    }
  }
  w.EndStruct();
  return w.Release();
}

std::string EncodePageHeader(const PageHeader& h) {
  ThriftWriter w;
  w.FieldI32(1, Wire(h.type));
  w.FieldI32(2, h.uncompressed_page_size);
  w.FieldI32(3, h.compressed_page_size);
  if (h.data_page) {
    w.FieldStruct(5);
    w.FieldI32(1, h.data_page->num_values);
    w.FieldI32(2, Wire(h.data_page->encoding));
    w.FieldI32(3, Wire(h.data_page->definition_level_encoding));
    w.FieldI32(4, Wire(h.data_page->repetition_level_encoding));
    w.EndStruct();
  }
  if (h.dictionary_page) {
    w.FieldStruct(7);
    w.FieldI32(1, h.dictionary_page->num_values);
    w.FieldI32(2, Wire(h.dictionary_page->encoding));
    w.EndStruct();
  }
  w.EndStruct();
  return w.Release();
}

// The RLE/bit-packed hybrid.

int BitWidth(uint32_t max_value) { return 32 - std::countl_zero(max_value); }

namespace {

void PutVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutRleRun(uint32_t value, size_t count, int width, std::string* out) {
  PutVarint(static_cast<uint64_t>(count) << 1, out);
  for (int b = 0; b < (width + 7) / 8; ++b) out->push_back(static_cast<char>(value >> (8 * b)));
}

// Bit-packs `values` in groups of 8, the last one padded with zeros.
void PutBitPacked(std::vector<uint32_t>* values, int width, std::string* out) {
  if (values->empty()) return;
  const size_t groups = (values->size() + 7) / 8;
  values->resize(groups * 8, 0);
  PutVarint(static_cast<uint64_t>(groups) << 1 | 1, out);
  uint64_t acc = 0;
  int bits = 0;
  for (uint32_t v : *values) {
    acc |= static_cast<uint64_t>(v) << bits;
    bits += width;
    while (bits >= 8) {
      out->push_back(static_cast<char>(acc));
      acc >>= 8;
      bits -= 8;
    }
  }
  values->clear();  // 8 values of any width end on a byte boundary: nothing is left in acc
}

}  // namespace

void AppendRleBitPacked(std::span<const uint32_t> values, int width, std::string* out) {
  std::vector<uint32_t> literals;
  size_t i = 0;
  while (i < values.size()) {
    size_t run = 1;
    while (i + run < values.size() && values[i + run] == values[i]) ++run;
    // A bit-packed run must hold whole groups of 8: the repeat first tops up
    // the pending literals, and is worth a run of its own only if 8 remain.
    const size_t fill = (8 - literals.size() % 8) % 8;
    if (run >= fill + 8) {
      literals.insert(literals.end(), fill, values[i]);
      PutBitPacked(&literals, width, out);
      PutRleRun(values[i], run - fill, width, out);
    } else {
      literals.insert(literals.end(), values.begin() + i, values.begin() + i + run);
    }
    i += run;
  }
  PutBitPacked(&literals, width, out);
}

}  // namespace vigil::parquet
