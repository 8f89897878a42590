#include "operators/archive/parquet_reader.h"

#include <simdjson.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "operators/archive/parquet_column_reader.h"
#include "operators/archive/parquet_writer.h"

namespace vigil {
namespace {

using parquet::ColumnChunkData;
using parquet::PhysicalType;

absl::Status Unsupported(std::string_view what) {
  return absl::InvalidArgumentError(StrCat("unsupported Parquet file: ", what));
}

enum class Kind { kTimestamp, kInt64, kDouble, kBool, kString, kExtra };

struct Column {
  std::string name;
  PhysicalType type;
  Kind kind;
};

struct Footer {
  parquet::FileMetaData meta;
  size_t data_end = 0;  // where the footer starts
};

absl::StatusOr<Footer> ReadFooter(std::string_view file) {
  const size_t magic = parquet::kMagic.size();
  if (file.size() < 2 * magic + 4) {
    return absl::InvalidArgumentError(
        StrCat("not a Parquet file: ", file.size(), " bytes is too short"));
  }
  if (file.substr(0, magic) != parquet::kMagic ||
      file.substr(file.size() - magic) != parquet::kMagic) {
    return absl::InvalidArgumentError("not a Parquet file: no PAR1 at its start and end");
  }
  uint32_t length;
  std::memcpy(&length, file.data() + file.size() - magic - 4, 4);
  if (length > file.size() - 2 * magic - 4) {
    return absl::InvalidArgumentError(
        StrCat("corrupt Parquet file: a footer of ", length, " bytes in ", file.size()));
  }
  Footer f;
  f.data_end = file.size() - magic - 4 - length;
  absl::StatusOr<parquet::FileMetaData> meta =
      parquet::DecodeFileMetaData(file.substr(f.data_end, length));
  if (!meta.ok()) {
    return absl::InvalidArgumentError(
        StrCat("corrupt Parquet file: ", std::string(meta.status().message())));
  }
  f.meta = *std::move(meta);
  return f;
}

// How an INT64 column reads back: a timestamp in milliseconds or an integer.
absl::StatusOr<Kind> Int64Kind(const parquet::SchemaElement& e) {
  if (e.logical_type) {
    const parquet::LogicalType& t = *e.logical_type;
    if (t.kind == parquet::LogicalType::Kind::kTimestamp && t.unit == 1) return Kind::kTimestamp;
    return Unsupported(
        StrCat("column '", e.name, "' is an INT64 of a logical type other than TIMESTAMP(MILLIS)"));
  }
  if (!e.converted_type) return Kind::kInt64;
  if (*e.converted_type == parquet::ConvertedType::kTimestampMillis) return Kind::kTimestamp;
  return Unsupported(StrCat("column '", e.name, "' is an INT64 of converted type ",
                            static_cast<int>(*e.converted_type)));
}

absl::StatusOr<Kind> ByteArrayKind(const parquet::SchemaElement& e) {
  const bool string =
      (!e.logical_type || e.logical_type->kind == parquet::LogicalType::Kind::kString) &&
      (!e.converted_type || *e.converted_type == parquet::ConvertedType::kUtf8);
  if (!string) {
    return Unsupported(StrCat("column '", e.name, "' is a BYTE_ARRAY that is not a STRING"));
  }
  return e.name == kExtraColumn ? Kind::kExtra : Kind::kString;
}

absl::StatusOr<Column> LeafColumn(const parquet::SchemaElement& e) {
  if (!e.type || e.num_children.value_or(0) != 0) {
    return Unsupported(StrCat("column '", e.name, "' is a group: nested columns"));
  }
  if (e.repetition != parquet::Repetition::kOptional) {
    return Unsupported(StrCat("column '", e.name, "' is ",
                              e.repetition ? Name(*e.repetition) : "without a repetition",
                              " (only OPTIONAL columns are read)"));
  }
  absl::StatusOr<Kind> kind = Kind::kBool;
  switch (*e.type) {
    case PhysicalType::kBoolean:
      break;
    case PhysicalType::kDouble:
      kind = Kind::kDouble;
      break;
    case PhysicalType::kInt64:
      kind = Int64Kind(e);
      break;
    case PhysicalType::kByteArray:
      kind = ByteArrayKind(e);
      break;
    default:
      return Unsupported(StrCat("column '", e.name, "' is of physical type ", Name(*e.type),
                                " (only BOOLEAN, INT64, DOUBLE and BYTE_ARRAY are read)"));
  }
  if (!kind.ok()) return kind.status();
  return Column{e.name, *e.type, *kind};
}

absl::StatusOr<std::vector<Column>> Columns(const parquet::FileMetaData& meta) {
  if (meta.schema.empty() || meta.schema[0].type ||
      meta.schema[0].num_children.value_or(-1) != static_cast<int64_t>(meta.schema.size()) - 1) {
    return Unsupported("its schema is not a flat list of columns");
  }
  std::vector<Column> columns;
  for (size_t i = 1; i < meta.schema.size(); ++i) {
    absl::StatusOr<Column> c = LeafColumn(meta.schema[i]);
    if (!c.ok()) return c.status();
    columns.push_back(*std::move(c));
  }
  return columns;
}

absl::Status CheckRowGroups(const parquet::FileMetaData& meta, const std::vector<Column>& columns) {
  int64_t rows = 0;
  for (size_t g = 0; g < meta.row_groups.size(); ++g) {
    const parquet::RowGroup& group = meta.row_groups[g];
    if (group.num_rows < 0 || group.num_rows > static_cast<int64_t>(kMaxRowGroupRows)) {
      return Unsupported(StrCat("row group ", g, " has ", group.num_rows, " rows (at most ",
                                kMaxRowGroupRows, " are read)"));
    }
    if (group.columns.size() != columns.size()) {
      return absl::InvalidArgumentError(StrCat("corrupt Parquet file: row group ", g, " has ",
                                               group.columns.size(), " column chunks for ",
                                               columns.size(), " columns"));
    }
    for (size_t c = 0; c < columns.size(); ++c) {
      const std::optional<parquet::ColumnMetaData>& m = group.columns[c].meta_data;
      if (!m || m->type != columns[c].type || m->path_in_schema.size() != 1 ||
          m->path_in_schema[0] != columns[c].name) {
        return absl::InvalidArgumentError(
            StrCat("corrupt Parquet file: the chunk of column '", columns[c].name,
                   "' in row group ", g, " lacks its metadata or does not match the schema"));
      }
    }
    rows += group.num_rows;
  }
  if (rows != meta.num_rows) {
    return absl::InvalidArgumentError(StrCat("corrupt Parquet file: its row groups hold ", rows,
                                             " rows, its footer says ", meta.num_rows));
  }
  return absl::OkStatus();
}

void AppendValue(Kind kind, const parquet::ColumnValuesRead& v, size_t i, std::string* out) {
  switch (kind) {
    case Kind::kTimestamp: {
      const int64_t t = v.ints[i];
      if (t < kParquetFirstTs || t > kParquetLastTs) {
        StrAppend(out, t);
      } else {
        out->push_back('"');
        AppendTimestamp(t, out);
        out->push_back('"');
      }
      break;
    }
    case Kind::kInt64:
      StrAppend(out, v.ints[i]);
      break;
    case Kind::kDouble:
      AppendJsonDouble(v.doubles[i], out);
      break;
    case Kind::kBool:
      out->append(v.bools[i] ? "true" : "false");
      break;
    default:
      AppendJsonString(v.strings[i], out);
  }
}

// The members of an `extra` value, the text between its braces, after
// checking that it is a JSON object (`row` is 1-based, for the message).
absl::StatusOr<std::string_view> ExtraMembers(std::string_view extra, size_t row,
                                              simdjson::dom::parser& parser) {
  simdjson::dom::element doc;
  const size_t open = extra.find('{');
  const size_t close = extra.rfind('}');
  if (parser.parse(extra.data(), extra.size()).get(doc) || !doc.is_object() ||
      open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return absl::InvalidArgumentError(
        StrCat("corrupt Parquet file: the extra of row ", row, " is not a JSON object"));
  }
  return Strip(extra.substr(open + 1, close - open - 1));
}

// Rebuilds and emits the rows of one decoded row group.
absl::Status EmitRows(const std::vector<Column>& columns, const std::vector<ColumnChunkData>& data,
                      size_t rows, size_t first_row,
                      const std::function<void(std::string_view)>& emit) {
  std::vector<size_t> next(columns.size(), 0);
  simdjson::dom::parser parser;
  std::string record;
  for (size_t row = 0; row < rows; ++row) {
    record.clear();
    record.push_back('{');
    for (size_t c = 0; c < columns.size(); ++c) {
      if (!data[c].defined[row]) continue;
      const size_t i = next[c]++;
      if (columns[c].kind == Kind::kExtra) {
        absl::StatusOr<std::string_view> members =
            ExtraMembers(data[c].values.strings[i], first_row + row + 1, parser);
        if (!members.ok()) return members.status();
        if (members->empty()) continue;
        if (record.size() > 1) record.push_back(',');
        record.append(*members);
      } else {
        if (record.size() > 1) record.push_back(',');
        AppendJsonString(columns[c].name, &record);
        record.push_back(':');
        AppendValue(columns[c].kind, data[c].values, i, &record);
      }
    }
    record.push_back('}');
    emit(record);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<parquet::FileMetaData> ReadParquetFooter(std::string_view file) {
  absl::StatusOr<Footer> f = ReadFooter(file);
  if (!f.ok()) return f.status();
  return std::move(f->meta);
}

absl::Status ReadParquetRecords(std::string_view file,
                                const std::function<void(std::string_view record)>& emit) {
  absl::StatusOr<Footer> footer = ReadFooter(file);
  if (!footer.ok()) return footer.status();
  const parquet::FileMetaData& meta = footer->meta;
  absl::StatusOr<std::vector<Column>> columns = Columns(meta);
  if (!columns.ok()) return columns.status();
  if (absl::Status s = CheckRowGroups(meta, *columns); !s.ok()) return s;
  size_t first_row = 0;
  for (const parquet::RowGroup& group : meta.row_groups) {
    std::vector<ColumnChunkData> data(columns->size());
    for (size_t c = 0; c < columns->size(); ++c) {
      absl::Status s = parquet::ReadColumnChunk(file, footer->data_end, *group.columns[c].meta_data,
                                                group.num_rows, (*columns)[c].name, &data[c]);
      if (!s.ok()) return s;
    }
    const auto rows = static_cast<size_t>(group.num_rows);
    if (absl::Status s = EmitRows(*columns, data, rows, first_row, emit); !s.ok()) return s;
    first_row += rows;
  }
  return absl::OkStatus();
}

}  // namespace vigil
