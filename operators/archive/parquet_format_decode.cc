// Decoding of the Parquet structs (parquet_format.h) and of the RLE/bit-packed
// hybrid. Every Get* function reads the fields of a struct the reader has
// entered, up to and including its stop byte.
#include <algorithm>
#include <initializer_list>

#include "absl/status/status.h"
#include "base/strings.h"
#include "operators/archive/parquet_format.h"
#include "operators/archive/parquet_thrift.h"

namespace vigil::parquet {
namespace {

// The ids of the fields a struct has read, to check its required ones.
class Seen {
 public:
  void Add(int16_t id) {
    if (id > 0 && id < 32) bits_ |= 1u << id;
  }
  void Require(ThriftReader& r, std::string_view name, std::initializer_list<int> ids) const {
    for (int id : ids) {
      if (r.ok() && (bits_ & (1u << id)) == 0) {
        r.Fail(StrCat(name, " lacks its required field ", id));
      }
    }
  }

 private:
  uint32_t bits_ = 0;
};

template <typename E>
E ReadEnum(ThriftReader& r, const ThriftField& f) {
  return static_cast<E>(r.ReadI32(f));
}

std::string ReadString(ThriftReader& r, const ThriftField& f) {
  return std::string(r.ReadBinary(f));
}

void GetStatistics(ThriftReader& r, Statistics* s) {
  ThriftField f;
  while (r.NextField(&f)) {
    switch (f.id) {
      case 1:
        s->max = ReadString(r, f);
        break;
      case 2:
        s->min = ReadString(r, f);
        break;
      case 3:
        s->null_count = r.ReadI64(f);
        break;
      case 5:
        s->max_value = ReadString(r, f);
        break;
      case 6:
        s->min_value = ReadString(r, f);
        break;
      case 7:
        s->is_max_value_exact = r.ReadBool(f);
        break;
      case 8:
        s->is_min_value_exact = r.ReadBool(f);
        break;
      case 9:
        s->nan_count = r.ReadI64(f);
        break;
      default:
        r.Skip(f.type);
    }
  }
}

// The id of the member a union holds (its last, if a corrupt one has more).
int GetUnionMember(ThriftReader& r) {
  int member = 0;
  ThriftField f;
  while (r.NextField(&f)) {
    member = f.id;
    r.Skip(f.type);
  }
  return member;
}

void GetTimestampType(ThriftReader& r, LogicalType* t) {
  ThriftField f;
  while (r.NextField(&f)) {
    if (f.id == 1) {
      t->utc = r.ReadBool(f);
    } else if (f.id == 2 && r.EnterStruct(f)) {
      t->unit = GetUnionMember(r);
    } else {
      r.Skip(f.type);
    }
  }
}

void GetLogicalType(ThriftReader& r, LogicalType* t) {
  ThriftField f;
  while (r.NextField(&f)) {
    if (f.id == 1 && f.type == CType::kStruct) {
      t->kind = LogicalType::Kind::kString;
      r.Skip(f.type);
    } else if (f.id == 8 && f.type == CType::kStruct) {
      t->kind = LogicalType::Kind::kTimestamp;
      r.BeginStruct();
      GetTimestampType(r, t);
    } else {
      t->kind = LogicalType::Kind::kOther;
      t->other = f.id;
      r.Skip(f.type);
    }
  }
}

void GetSchemaElement(ThriftReader& r, SchemaElement* e) {
  Seen seen;
  ThriftField f;
  while (r.NextField(&f)) {
    seen.Add(f.id);
    switch (f.id) {
      case 1:
        e->type = ReadEnum<PhysicalType>(r, f);
        break;
      case 3:
        e->repetition = ReadEnum<Repetition>(r, f);
        break;
      case 4:
        e->name = ReadString(r, f);
        break;
      case 5:
        e->num_children = r.ReadI32(f);
        break;
      case 6:
        e->converted_type = ReadEnum<ConvertedType>(r, f);
        break;
      case 10:
        if (r.EnterStruct(f)) GetLogicalType(r, &e->logical_type.emplace());
        break;
      default:
        r.Skip(f.type);
    }
  }
  seen.Require(r, "SchemaElement", {4});
}

template <typename T, typename Get>
void GetStructList(ThriftReader& r, const ThriftField& f, std::vector<T>* out, Get get) {
  const size_t n = r.ReadListHeader(f, CType::kStruct);
  for (size_t i = 0; i < n && r.ok(); ++i) {
    r.BeginStruct();
    get(r, &out->emplace_back());
  }
}

void GetPageEncodingStats(ThriftReader& r, PageEncodingStats* s) {
  Seen seen;
  ThriftField f;
  while (r.NextField(&f)) {
    seen.Add(f.id);
    if (f.id == 1) {
      s->page_type = ReadEnum<PageType>(r, f);
    } else if (f.id == 2) {
      s->encoding = ReadEnum<Encoding>(r, f);
    } else if (f.id == 3) {
      s->count = r.ReadI32(f);
    } else {
      r.Skip(f.type);
    }
  }
  seen.Require(r, "PageEncodingStats", {1, 2, 3});
}

// Fields 1..4 of ColumnMetaData: the lists and enums.
bool GetColumnDescription(ThriftReader& r, const ThriftField& f, ColumnMetaData* m) {
  if (f.id == 1) {
    m->type = ReadEnum<PhysicalType>(r, f);
  } else if (f.id == 2) {
    const size_t n = r.ReadListHeader(f, CType::kI32);
    for (size_t i = 0; i < n && r.ok(); ++i) m->encodings.push_back(Encoding{r.I32()});
  } else if (f.id == 3) {
    const size_t n = r.ReadListHeader(f, CType::kBinary);
    for (size_t i = 0; i < n && r.ok(); ++i) m->path_in_schema.emplace_back(r.Binary());
  } else if (f.id == 4) {
    m->codec = ReadEnum<Codec>(r, f);
  } else {
    return false;
  }
  return true;
}

void GetColumnMetaData(ThriftReader& r, ColumnMetaData* m) {
  Seen seen;
  ThriftField f;
  while (r.NextField(&f)) {
    seen.Add(f.id);
    if (GetColumnDescription(r, f, m)) continue;
    switch (f.id) {
      case 5:
        m->num_values = r.ReadI64(f);
        break;
      case 6:
        m->total_uncompressed_size = r.ReadI64(f);
        break;
      case 7:
        m->total_compressed_size = r.ReadI64(f);
        break;
      case 9:
        m->data_page_offset = r.ReadI64(f);
        break;
      case 11:
        m->dictionary_page_offset = r.ReadI64(f);
        break;
      case 12:
        if (r.EnterStruct(f)) GetStatistics(r, &m->statistics.emplace());
        break;
      case 13:
        GetStructList(r, f, &m->encoding_stats, GetPageEncodingStats);
        break;
      default:
        r.Skip(f.type);
    }
  }
  seen.Require(r, "ColumnMetaData", {1, 2, 3, 4, 5, 6, 7, 9});
}

void GetColumnChunk(ThriftReader& r, ColumnChunk* c) {
  Seen seen;
  ThriftField f;
  while (r.NextField(&f)) {
    seen.Add(f.id);
    if (f.id == 2) {
      c->file_offset = r.ReadI64(f);
    } else if (f.id == 3) {
      if (r.EnterStruct(f)) GetColumnMetaData(r, &c->meta_data.emplace());
    } else {
      r.Skip(f.type);
    }
  }
  seen.Require(r, "ColumnChunk", {2});
}

void GetRowGroup(ThriftReader& r, RowGroup* g) {
  Seen seen;
  ThriftField f;
  while (r.NextField(&f)) {
    seen.Add(f.id);
    switch (f.id) {
      case 1:
        GetStructList(r, f, &g->columns, GetColumnChunk);
        break;
      case 2:
        g->total_byte_size = r.ReadI64(f);
        break;
      case 3:
        g->num_rows = r.ReadI64(f);
        break;
      case 5:
        g->file_offset = r.ReadI64(f);
        break;
      case 6:
        g->total_compressed_size = r.ReadI64(f);
        break;
      case 7:
        g->ordinal = r.ReadI16(f);
        break;
      default:
        r.Skip(f.type);
    }
  }
  seen.Require(r, "RowGroup", {1, 2, 3});
}

void GetFileMetaData(ThriftReader& r, FileMetaData* m) {
  Seen seen;
  ThriftField f;
  while (r.NextField(&f)) {
    seen.Add(f.id);
    if (f.id == 1) {
      m->version = r.ReadI32(f);
    } else if (f.id == 2) {
      GetStructList(r, f, &m->schema, GetSchemaElement);
    } else if (f.id == 3) {
      m->num_rows = r.ReadI64(f);
    } else if (f.id == 4) {
      GetStructList(r, f, &m->row_groups, GetRowGroup);
    } else if (f.id == 6) {
      m->created_by = ReadString(r, f);
    } else if (f.id == 7) {
      const size_t n = r.ReadListHeader(f, CType::kStruct);
      for (size_t i = 0; i < n && r.ok(); ++i) {
        r.BeginStruct();
        m->column_orders.push_back(GetUnionMember(r));
      }
    } else {
      r.Skip(f.type);
    }
  }
  seen.Require(r, "FileMetaData", {1, 2, 3, 4});
}

void GetDataPageHeader(ThriftReader& r, DataPageHeader* h) {
  Seen seen;
  ThriftField f;
  while (r.NextField(&f)) {
    seen.Add(f.id);
    if (f.id == 1) {
      h->num_values = r.ReadI32(f);
    } else if (f.id == 2) {
      h->encoding = ReadEnum<Encoding>(r, f);
    } else if (f.id == 3) {
      h->definition_level_encoding = ReadEnum<Encoding>(r, f);
    } else if (f.id == 4) {
      h->repetition_level_encoding = ReadEnum<Encoding>(r, f);
    } else {
      r.Skip(f.type);
    }
  }
  seen.Require(r, "DataPageHeader", {1, 2, 3, 4});
}

void GetDictionaryPageHeader(ThriftReader& r, DictionaryPageHeader* h) {
  Seen seen;
  ThriftField f;
  while (r.NextField(&f)) {
    seen.Add(f.id);
    if (f.id == 1) {
      h->num_values = r.ReadI32(f);
    } else if (f.id == 2) {
      h->encoding = ReadEnum<Encoding>(r, f);
    } else {
      r.Skip(f.type);
    }
  }
  seen.Require(r, "DictionaryPageHeader", {1, 2});
}

void GetPageHeader(ThriftReader& r, PageHeader* h) {
  Seen seen;
  ThriftField f;
  while (r.NextField(&f)) {
    seen.Add(f.id);
    if (f.id == 1) {
      h->type = ReadEnum<PageType>(r, f);
    } else if (f.id == 2) {
      h->uncompressed_page_size = r.ReadI32(f);
    } else if (f.id == 3) {
      h->compressed_page_size = r.ReadI32(f);
    } else if (f.id == 5) {
      if (r.EnterStruct(f)) GetDataPageHeader(r, &h->data_page.emplace());
    } else if (f.id == 7) {
      if (r.EnterStruct(f)) GetDictionaryPageHeader(r, &h->dictionary_page.emplace());
    } else {
      r.Skip(f.type);
    }
  }
  seen.Require(r, "PageHeader", {1, 2, 3});
}

}  // namespace

absl::StatusOr<FileMetaData> DecodeFileMetaData(std::string_view bytes) {
  ThriftReader r(bytes);
  FileMetaData meta;
  GetFileMetaData(r, &meta);
  if (!r.ok()) return absl::InvalidArgumentError(StrCat("corrupt footer: ", r.error()));
  return meta;
}

absl::StatusOr<PageHeader> DecodePageHeader(std::string_view bytes, size_t* size) {
  ThriftReader r(bytes);
  PageHeader header;
  GetPageHeader(r, &header);
  if (!r.ok()) return absl::InvalidArgumentError(StrCat("corrupt page header: ", r.error()));
  *size = r.position();
  return header;
}

namespace {

bool GetVarint(std::string_view in, size_t* pos, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && *pos < in.size(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>(in[(*pos)++]);
    *v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

// Unpacks `count` values of a bit-packed run starting at in[pos].
bool Unpack(std::string_view in, size_t pos, int width, uint64_t count, uint32_t max_value,
            std::vector<uint32_t>* out) {
  const uint64_t bytes = (count * static_cast<uint64_t>(width) + 7) / 8;
  if (bytes > in.size() - pos) return false;
  const uint64_t mask = (uint64_t{1} << width) - 1;
  uint64_t acc = 0;
  int bits = 0;
  for (uint64_t i = 0; i < count; ++i) {
    while (bits < width) {
      acc |= static_cast<uint64_t>(static_cast<uint8_t>(in[pos++])) << bits;
      bits += 8;
    }
    const uint64_t v = acc & mask;
    if (v > max_value) return false;
    out->push_back(static_cast<uint32_t>(v));
    acc >>= width;
    bits -= width;
  }
  return true;
}

}  // namespace

bool DecodeRleBitPacked(std::string_view in, int width, size_t n, uint32_t max_value,
                        std::vector<uint32_t>* out) {
  if (width < 0 || width > 32) return false;
  const size_t value_bytes = static_cast<size_t>(width + 7) / 8;
  size_t pos = 0;
  uint64_t done = 0;
  while (done < n) {
    uint64_t header;
    if (!GetVarint(in, &pos, &header)) return false;
    const uint64_t want = n - done;
    if (header & 1) {
      const uint64_t groups = header >> 1;
      // Only the values still wanted are read: the last run may be padded.
      const uint64_t count = groups >= (want + 7) / 8 ? want : groups * 8;
      if (count == 0 || !Unpack(in, pos, width, count, max_value, out)) return false;
      const uint64_t run_bytes = groups > in.size() ? in.size() : groups * width;
      pos += static_cast<size_t>(std::min<uint64_t>(run_bytes, in.size() - pos));
      done += count;
    } else {
      const uint64_t count = std::min<uint64_t>(header >> 1, want);
      if (count == 0 || value_bytes > in.size() - pos) return false;
      uint64_t v = 0;
      for (size_t b = 0; b < value_bytes; ++b) {
        v |= static_cast<uint64_t>(static_cast<uint8_t>(in[pos + b])) << (8 * b);
      }
      pos += value_bytes;
      if (v > max_value) return false;
      out->insert(out->end(), static_cast<size_t>(count), static_cast<uint32_t>(v));
      done += count;
    }
  }
  return true;
}

}  // namespace vigil::parquet
