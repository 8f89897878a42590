#include "operators/archive/parquet_column_reader.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "absl/status/statusor.h"
#include "base/strings.h"

namespace vigil::parquet {

size_t ColumnValuesRead::size(PhysicalType type) const {
  switch (type) {
    case PhysicalType::kInt64:
      return ints.size();
    case PhysicalType::kDouble:
      return doubles.size();
    case PhysicalType::kBoolean:
      return bools.size();
    default:
      return strings.size();
  }
}

void ColumnValuesRead::AppendFrom(const ColumnValuesRead& from, size_t i, PhysicalType type) {
  switch (type) {
    case PhysicalType::kInt64:
      ints.push_back(from.ints[i]);
      break;
    case PhysicalType::kDouble:
      doubles.push_back(from.doubles[i]);
      break;
    case PhysicalType::kBoolean:
      bools.push_back(from.bools[i]);
      break;
    default:
      strings.push_back(from.strings[i]);
  }
}

namespace {

uint32_t LoadU32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // little-endian hosts, as the writer
  return v;
}

template <typename V>
bool DecodeFixed(std::string_view in, size_t n, std::vector<V>* out) {
  if (n > in.size() / sizeof(V)) return false;
  for (size_t i = 0; i < n; ++i) {
    V v;
    std::memcpy(&v, in.data() + i * sizeof(V), sizeof(V));
    out->push_back(v);
  }
  return true;
}

// Decodes `n` PLAIN values of `type` from `in`; false when `in` is short.
bool DecodePlain(std::string_view in, PhysicalType type, size_t n, ColumnValuesRead* out) {
  switch (type) {
    case PhysicalType::kInt64:
      return DecodeFixed(in, n, &out->ints);
    case PhysicalType::kDouble:
      return DecodeFixed(in, n, &out->doubles);
    case PhysicalType::kBoolean:
      if (n > in.size() * 8) return false;
      for (size_t i = 0; i < n; ++i) out->bools.push_back((in[i / 8] >> (i % 8)) & 1);
      return true;
    case PhysicalType::kByteArray: {
      size_t pos = 0;
      for (size_t i = 0; i < n; ++i) {
        if (in.size() - pos < 4) return false;
        const uint32_t len = LoadU32(in.data() + pos);
        pos += 4;
        if (len > in.size() - pos) return false;
        out->strings.push_back(in.substr(pos, len));
        pos += len;
      }
      return true;
    }
    default:
      return false;
  }
}

class ChunkReader {
 public:
  ChunkReader(const ColumnMetaData& meta, int64_t num_rows, std::string_view name,
              ColumnChunkData* out)
      : meta_(meta), num_rows_(num_rows), name_(name), out_(out) {}

  absl::Status Read(std::string_view file, size_t data_end);

 private:
  absl::Status Error(std::string_view what) const {
    return absl::InvalidArgumentError(StrCat("column '", name_, "': ", what));
  }
  absl::Status ReadPage(const PageHeader& h, std::string_view raw);
  absl::StatusOr<std::string_view> PageBody(const PageHeader& h, std::string_view raw);
  absl::Status ReadDictionaryPage(const PageHeader& h, std::string_view raw);
  absl::Status ReadDataPage(const PageHeader& h, std::string_view raw);
  absl::Status ReadDictionaryIndices(std::string_view in, size_t n);

  const ColumnMetaData& meta_;
  const int64_t num_rows_;
  const std::string_view name_;
  ColumnChunkData* out_;
  bool has_dictionary_ = false;
  ColumnValuesRead dictionary_;
  int64_t rows_read_ = 0;
};

absl::Status ChunkReader::Read(std::string_view file, size_t data_end) {
  if (meta_.codec != Codec::kZstd && meta_.codec != Codec::kUncompressed) {
    return Error(StrCat("compression codec ", Name(meta_.codec),
                        " is not supported (only ZSTD and UNCOMPRESSED)"));
  }
  if (meta_.num_values != num_rows_) {
    return Error(StrCat(meta_.num_values, " values in a row group of ", num_rows_, " rows"));
  }
  const int64_t start = meta_.dictionary_page_offset.value_or(meta_.data_page_offset);
  const int64_t size = meta_.total_compressed_size;
  const auto end = static_cast<int64_t>(data_end);
  if (start < static_cast<int64_t>(kMagic.size()) || start > end || size < 0 ||
      size > end - start) {
    return Error(StrCat("its pages (", size, " bytes at ", start, ") lie outside the column data"));
  }
  const std::string_view chunk = file.substr(static_cast<size_t>(start), static_cast<size_t>(size));
  size_t pos = 0;
  while (rows_read_ < num_rows_) {
    if (pos >= chunk.size()) {
      return Error(StrCat("its pages end after ", rows_read_, " of ", num_rows_, " rows"));
    }
    size_t header_size = 0;
    absl::StatusOr<PageHeader> h = DecodePageHeader(chunk.substr(pos), &header_size);
    if (!h.ok()) return Error(std::string(h.status().message()));
    pos += header_size;
    if (h->compressed_page_size < 0 ||
        static_cast<size_t>(h->compressed_page_size) > chunk.size() - pos) {
      return Error(StrCat("a page of ", h->compressed_page_size, " bytes runs past the chunk"));
    }
    const std::string_view raw = chunk.substr(pos, static_cast<size_t>(h->compressed_page_size));
    pos += raw.size();
    if (absl::Status s = ReadPage(*h, raw); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status ChunkReader::ReadPage(const PageHeader& h, std::string_view raw) {
  switch (h.type) {
    case PageType::kDictionaryPage:
      return ReadDictionaryPage(h, raw);
    case PageType::kDataPage:
      return ReadDataPage(h, raw);
    case PageType::kIndexPage:
      return absl::OkStatus();  // never written by anyone; meant to be skipped
    default:
      return Error(StrCat("page type ", Name(h.type), " is not supported (only DATA_PAGE and ",
                          "DICTIONARY_PAGE)"));
  }
}

absl::StatusOr<std::string_view> ChunkReader::PageBody(const PageHeader& h, std::string_view raw) {
  if (h.uncompressed_page_size < 0 ||
      static_cast<size_t>(h.uncompressed_page_size) > kMaxPageBytes) {
    return Error(StrCat("a page of ", h.uncompressed_page_size, " bytes (the limit is ",
                        kMaxPageBytes, ")"));
  }
  const auto size = static_cast<size_t>(h.uncompressed_page_size);
  if (meta_.codec == Codec::kUncompressed) {
    if (raw.size() != size) return Error("an uncompressed page whose two sizes differ");
    return raw;
  }
  const unsigned long long content = ZSTD_getFrameContentSize(raw.data(), raw.size());
  if (content == ZSTD_CONTENTSIZE_ERROR ||
      (content != ZSTD_CONTENTSIZE_UNKNOWN && content != size)) {
    return Error("a page that is not the zstd frame its header announces");
  }
  std::string& body = out_->pages.emplace_back(size, '\0');
  const size_t n = ZSTD_decompress(body.data(), body.size(), raw.data(), raw.size());
  if (ZSTD_isError(n) || n != size) {
    return Error(StrCat("a page that does not decompress (",
                        ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short", ")"));
  }
  return std::string_view(body);
}

absl::Status ChunkReader::ReadDictionaryPage(const PageHeader& h, std::string_view raw) {
  if (has_dictionary_ || rows_read_ > 0) {
    return Error("a dictionary page after the first page");
  }
  if (!h.dictionary_page) return Error("a dictionary page without its header");
  const DictionaryPageHeader& d = *h.dictionary_page;
  if (d.encoding != Encoding::kPlain && d.encoding != Encoding::kPlainDictionary) {
    return Error(StrCat("dictionary encoding ", Name(d.encoding), " is not supported"));
  }
  absl::StatusOr<std::string_view> body = PageBody(h, raw);
  if (!body.ok()) return body.status();
  if (d.num_values < 0 ||
      !DecodePlain(*body, meta_.type, static_cast<size_t>(d.num_values), &dictionary_)) {
    return Error(StrCat("a dictionary page that does not hold its ", d.num_values, " values"));
  }
  has_dictionary_ = true;
  return absl::OkStatus();
}

absl::Status ChunkReader::ReadDataPage(const PageHeader& h, std::string_view raw) {
  if (!h.data_page) return Error("a data page without its header");
  const DataPageHeader& d = *h.data_page;
  if (d.num_values < 0 || d.num_values > num_rows_ - rows_read_) {
    return Error(StrCat("a page of ", d.num_values, " values where ", num_rows_ - rows_read_,
                        " rows remain"));
  }
  if (d.definition_level_encoding != Encoding::kRle) {
    return Error(StrCat("definition levels in ", Name(d.definition_level_encoding),
                        " are not supported (only RLE)"));
  }
  if (d.encoding != Encoding::kPlain && d.encoding != Encoding::kRleDictionary &&
      d.encoding != Encoding::kPlainDictionary) {
    return Error(StrCat("page encoding ", Name(d.encoding),
                        " is not supported (only PLAIN and RLE_DICTIONARY)"));
  }
  absl::StatusOr<std::string_view> body = PageBody(h, raw);
  if (!body.ok()) return body.status();
  const auto rows = static_cast<size_t>(d.num_values);
  if (body->size() < 4 || LoadU32(body->data()) > body->size() - 4) {
    return Error("a page shorter than its definition levels");
  }
  const size_t levels_size = LoadU32(body->data());
  const size_t first = out_->defined.size();
  if (!DecodeRleBitPacked(body->substr(4, levels_size), 1, rows, 1, &out_->defined)) {
    return Error("corrupt definition levels");
  }
  const auto values = static_cast<size_t>(
      std::count(out_->defined.begin() + static_cast<ptrdiff_t>(first), out_->defined.end(), 1u));
  const std::string_view data = body->substr(4 + levels_size);
  if (d.encoding == Encoding::kPlain) {
    if (!DecodePlain(data, meta_.type, values, &out_->values)) {
      return Error(StrCat("a page that does not hold its ", values, " values"));
    }
  } else if (absl::Status s = ReadDictionaryIndices(data, values); !s.ok()) {
    return s;
  }
  rows_read_ += d.num_values;
  return absl::OkStatus();
}

absl::Status ChunkReader::ReadDictionaryIndices(std::string_view in, size_t n) {
  if (n == 0) return absl::OkStatus();
  if (!has_dictionary_) return Error("a dictionary-encoded page without a dictionary page");
  const size_t entries = dictionary_.size(meta_.type);
  if (entries == 0 || in.empty() || static_cast<uint8_t>(in[0]) > 32) {
    return Error("corrupt dictionary indices");
  }
  std::vector<uint32_t> indices;
  indices.reserve(n);
  const auto max_index = static_cast<uint32_t>(std::min<size_t>(entries - 1, UINT32_MAX));
  if (!DecodeRleBitPacked(in.substr(1), static_cast<uint8_t>(in[0]), n, max_index, &indices)) {
    return Error("corrupt dictionary indices, or one past the dictionary");
  }
  for (uint32_t i : indices) out_->values.AppendFrom(dictionary_, i, meta_.type);
  return absl::OkStatus();
}

}  // namespace

absl::Status ReadColumnChunk(std::string_view file, size_t data_end, const ColumnMetaData& meta,
                             int64_t num_rows, std::string_view name, ColumnChunkData* out) {
  return ChunkReader(meta, num_rows, name, out).Read(file, data_end);
}

}  // namespace vigil::parquet
