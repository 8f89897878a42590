#include "operators/archive/parquet_writer.h"

#include <simdjson.h>

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "base/strings.h"
#include "base/time.h"
#include "operators/archive/parquet_column_writer.h"
#include "operators/archive/parquet_format.h"

namespace vigil {
namespace {

using T = ArchiveColumnType;
using parquet::ColumnValues;
using parquet::PhysicalType;
using Element = simdjson::dom::element;
using JsonType = simdjson::dom::element_type;

constexpr ArchiveColumn kColumns[] = {
    {"ts", T::kTimestamp},      {"type", T::kString},       {"session_id", T::kString},
    {"user_id", T::kString},    {"turn_id", T::kString},    {"intent", T::kString},
    {"latency_ms", T::kDouble}, {"cache_hit", T::kBool},    {"guardrail_triggered", T::kBool},
    {"llm_timeout", T::kBool},  {"llm_calls", T::kInt64},   {"error_service", T::kString},
    {"variant", T::kString},    {"topic", T::kString},      {"user_message", T::kString},
    {"response", T::kString},   {"rating", T::kInt64},      {"comment", T::kString},
    {"asin", T::kString},       {"price", T::kDouble},      {"reason", T::kString},
    {"service", T::kString},    {"state", T::kString},      {"predicted", T::kString},
    {"actual", T::kString},     {kExtraColumn, T::kString},
};
constexpr size_t kNumColumns = std::size(kColumns);
constexpr size_t kNumTyped = kNumColumns - 1;  // all but extra
constexpr size_t kExtra = kNumTyped;

// 2^53: integers up to this magnitude are exact in a double.
constexpr double kExactDouble = 9007199254740992.0;

PhysicalType Physical(T type) {
  switch (type) {
    case T::kTimestamp:
    case T::kInt64:
      return PhysicalType::kInt64;
    case T::kDouble:
      return PhysicalType::kDouble;
    case T::kBool:
      return PhysicalType::kBoolean;
    case T::kString:
      break;
  }
  return PhysicalType::kByteArray;
}

int ColumnIndex(std::string_view key) {
  static const auto* index = [] {
    auto* m = new absl::flat_hash_map<std::string, int, StringHash, StringEq>;
    for (size_t i = 0; i < kNumTyped; ++i)
      (*m)[std::string(kColumns[i].name)] = static_cast<int>(i);
    return m;
  }();
  const auto it = index->find(key);
  return it == index->end() ? -1 : it->second;
}

// An integer value of `e` for an INT64 column (see the header), if it has one.
std::optional<int64_t> AsInt64(Element e) {
  if (e.type() == JsonType::INT64) return e.get_int64().value_unsafe();
  if (e.type() == JsonType::DOUBLE) {
    const double d = e.get_double().value_unsafe();
    if (d == std::floor(d) && std::fabs(d) <= kExactDouble) return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

std::optional<double> AsDouble(Element e) {
  switch (e.type()) {
    case JsonType::DOUBLE:
      return e.get_double().value_unsafe();
    case JsonType::INT64: {
      // Exact when converting back gives v (2^63, where the largest values
      // round to, is out of the range of the conversion).
      const int64_t v = e.get_int64().value_unsafe();
      const double d = static_cast<double>(v);
      if (d < 9223372036854775808.0 && static_cast<int64_t>(d) == v) return d;
      return std::nullopt;
    }
    case JsonType::UINT64: {
      const uint64_t v = e.get_uint64().value_unsafe();
      const double d = static_cast<double>(v);
      if (d < 18446744073709551616.0 && static_cast<uint64_t>(d) == v) return d;
      return std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

std::optional<TimeMs> AsTimestamp(Element e) {
  std::optional<TimeMs> t;
  if (e.type() == JsonType::STRING) {
    t = ParseRfc3339(e.get_string().value_unsafe());
  } else {
    t = AsInt64(e);
  }
  if (t && (*t < kParquetFirstTs || *t > kParquetLastTs)) t.reset();
  return t;
}

// Adds `e` to column `c` if it fits the column's type (see the header).
bool AddTyped(size_t c, Element e, ColumnValues* column) {
  switch (kColumns[c].type) {
    case T::kTimestamp:
      if (std::optional<TimeMs> t = AsTimestamp(e)) {
        column->AddInt64(*t);
        return true;
      }
      return false;
    case T::kString:
      if (e.type() != JsonType::STRING) return false;
      column->AddBytes(e.get_string().value_unsafe());
      return true;
    case T::kDouble:
      if (std::optional<double> d = AsDouble(e)) {
        column->AddDouble(*d);
        return true;
      }
      return false;
    case T::kInt64:
      if (std::optional<int64_t> v = AsInt64(e)) {
        column->AddInt64(*v);
        return true;
      }
      return false;
    case T::kBool:
      if (e.type() != JsonType::BOOL) return false;
      column->AddBool(e.get_bool().value_unsafe());
      return true;
  }
  return false;
}

void AppendJsonElement(Element e, std::string* out) {
  switch (e.type()) {
    case JsonType::STRING:
      AppendJsonString(e.get_string().value_unsafe(), out);
      break;
    case JsonType::INT64:
      StrAppend(out, e.get_int64().value_unsafe());
      break;
    case JsonType::UINT64:
      StrAppend(out, e.get_uint64().value_unsafe());
      break;
    case JsonType::DOUBLE:
      AppendJsonDouble(e.get_double().value_unsafe(), out);
      break;
    case JsonType::BOOL:
      out->append(e.get_bool().value_unsafe() ? "true" : "false");
      break;
    case JsonType::NULL_VALUE:
      out->append("null");
      break;
    case JsonType::ARRAY: {
      out->push_back('[');
      bool first = true;
      const simdjson::dom::array items = e.get_array().value_unsafe();
      for (Element item : items) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonElement(item, out);
      }
      out->push_back(']');
      break;
    }
    case JsonType::OBJECT: {
      out->push_back('{');
      bool first = true;
      const simdjson::dom::object fields = e.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair field : fields) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonString(field.key, out);
        out->push_back(':');
        AppendJsonElement(field.value, out);
      }
      out->push_back('}');
      break;
    }
  }
}

// Collects the columns of one row group, a record at a time.
class RowGroupBuilder {
 public:
  RowGroupBuilder() {
    columns_.reserve(kNumColumns);
    for (const ArchiveColumn& c : kColumns) columns_.emplace_back(Physical(c.type));
  }

  absl::Status Add(std::string_view record, size_t index);
  const std::vector<ColumnValues>& columns() const { return columns_; }
  size_t rows() const { return columns_[0].rows(); }

 private:
  void AddExtra(std::string_view key, Element value) {
    extra_.push_back(extra_.empty() ? '{' : ',');
    AppendJsonString(key, &extra_);
    extra_.push_back(':');
    AppendJsonElement(value, &extra_);
  }

  simdjson::dom::parser parser_;
  std::vector<ColumnValues> columns_;
  std::string extra_;
  std::vector<int> columns_of_;
};

absl::Status RowGroupBuilder::Add(std::string_view record, size_t index) {
  // RFC 8259 (section 8.1) lets a parser ignore a byte order mark, as the
  // event parser does.
  if (record.size() >= 3 && std::memcmp(record.data(), "\xEF\xBB\xBF", 3) == 0) {
    record.remove_prefix(3);
  }
  Element doc;
  simdjson::dom::object obj;
  if (auto e = parser_.parse(record.data(), record.size()).get(doc)) {
    return absl::InvalidArgumentError(
        StrCat("record ", index + 1, " is not a JSON object: ", simdjson::error_message(e)));
  }
  if (doc.get_object().get(obj)) {
    return absl::InvalidArgumentError(StrCat("record ", index + 1, " is not a JSON object"));
  }
  // Only the last occurrence of a column's key counts: find it first.
  std::array<size_t, kNumTyped> last;
  last.fill(SIZE_MAX);
  size_t position = 0;
  columns_of_.clear();  // each member's column, looked up once
  for (simdjson::dom::key_value_pair field : obj) {
    const int c = ColumnIndex(field.key);
    columns_of_.push_back(c);
    if (c >= 0) last[c] = position;
    ++position;
  }
  std::array<bool, kNumTyped> set{};
  extra_.clear();
  position = 0;
  for (simdjson::dom::key_value_pair field : obj) {
    const int c = columns_of_[position];
    if (c < 0) {
      AddExtra(field.key, field.value);
    } else if (last[c] == position && !field.value.is_null()) {
      set[c] = AddTyped(c, field.value, &columns_[c]);
      if (!set[c]) AddExtra(field.key, field.value);
    }
    ++position;
  }
  for (size_t c = 0; c < kNumTyped; ++c) {
    if (!set[c]) columns_[c].AddNull();
  }
  if (extra_.empty()) {
    columns_[kExtra].AddNull();
  } else {
    extra_.push_back('}');
    columns_[kExtra].AddBytes(extra_);
  }
  return absl::OkStatus();
}

parquet::SchemaElement ColumnSchema(const ArchiveColumn& c) {
  parquet::SchemaElement e;
  e.type = Physical(c.type);
  e.repetition = parquet::Repetition::kOptional;
  e.name = std::string(c.name);
  if (c.type == T::kString) {
    e.converted_type = parquet::ConvertedType::kUtf8;
    e.logical_type = parquet::LogicalType::String();
  } else if (c.type == T::kTimestamp) {
    e.converted_type = parquet::ConvertedType::kTimestampMillis;
    e.logical_type = parquet::LogicalType::TimestampMillisUtc();
  }
  return e;
}

parquet::FileMetaData FileSchema() {
  parquet::FileMetaData meta;
  parquet::SchemaElement root;
  root.name = "schema";
  root.num_children = static_cast<int32_t>(kNumColumns);
  meta.schema.push_back(root);
  for (const ArchiveColumn& c : kColumns) meta.schema.push_back(ColumnSchema(c));
  meta.created_by = "vigil";
  meta.column_orders.assign(kNumColumns, 1);  // TYPE_ORDER
  return meta;
}

absl::StatusOr<parquet::RowGroup> WriteRowGroup(const RowGroupBuilder& rows, int level,
                                                std::string* file) {
  parquet::RowGroup group;
  group.num_rows = static_cast<int64_t>(rows.rows());
  group.file_offset = static_cast<int64_t>(file->size());
  int64_t compressed = 0;
  for (size_t c = 0; c < kNumColumns; ++c) {
    absl::StatusOr<parquet::ColumnMetaData> meta =
        parquet::WriteColumnChunk(kColumns[c].name, rows.columns()[c], level, file);
    if (!meta.ok()) return meta.status();
    group.total_byte_size += meta->total_uncompressed_size;
    compressed += meta->total_compressed_size;
    group.columns.push_back({0, *std::move(meta)});
  }
  group.total_compressed_size = compressed;
  return group;
}

}  // namespace

std::span<const ArchiveColumn> ArchiveParquetColumns() { return kColumns; }

void AppendJsonDouble(double v, std::string* out) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  if (v == 0 && std::signbit(v)) {
    out->append("-0.0");
    return;
  }
  char buf[40];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  const std::string_view text(buf, static_cast<size_t>(end - buf));
  // Integral doubles come out as plain digits; past 18 of them simdjson
  // may refuse the integer, so they take an exponent instead.
  if (text.find_first_of(".eE") == std::string_view::npos && text.size() > 18) {
    end = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific).ptr;
  }
  out->append(buf, static_cast<size_t>(end - buf));
}

absl::StatusOr<std::string> EncodeParquetBatch(const std::vector<std::string_view>& records,
                                               const ParquetBatchOptions& options) {
  const size_t group_rows = std::clamp<size_t>(options.row_group_rows, 1, kMaxRowGroupRows);
  parquet::FileMetaData meta = FileSchema();
  std::string file(parquet::kMagic);
  for (size_t begin = 0; begin < records.size(); begin += group_rows) {
    RowGroupBuilder rows;
    const size_t end = std::min(records.size(), begin + group_rows);
    for (size_t i = begin; i < end; ++i) {
      if (absl::Status s = rows.Add(records[i], i); !s.ok()) return s;
    }
    absl::StatusOr<parquet::RowGroup> group = WriteRowGroup(rows, options.compression_level, &file);
    if (!group.ok()) return group.status();
    if (meta.row_groups.size() <= INT16_MAX) {
      group->ordinal = static_cast<int16_t>(meta.row_groups.size());
    }
    meta.num_rows += group->num_rows;
    meta.row_groups.push_back(*std::move(group));
  }
  const std::string footer = parquet::EncodeFileMetaData(meta);
  file += footer;
  const uint32_t size = static_cast<uint32_t>(footer.size());
  char le[4] = {static_cast<char>(size), static_cast<char>(size >> 8),
                static_cast<char>(size >> 16), static_cast<char>(size >> 24)};
  file.append(le, 4);
  file += parquet::kMagic;
  return file;
}

}  // namespace vigil
