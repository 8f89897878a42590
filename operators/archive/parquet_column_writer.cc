#include "operators/archive/parquet_column_writer.h"

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "base/strings.h"

namespace vigil::parquet {

// PLAIN is little-endian: values are copied as they are in memory.
static_assert(std::endian::native == std::endian::little);

size_t ColumnValues::PlainSize(size_t i) const {
  switch (type_) {
    case PhysicalType::kBoolean:
      return 1;  // an eighth, but a page of booleans is small either way
    case PhysicalType::kByteArray:
      return 4 + bytes(i).size();
    default:
      return 8;
  }
}

namespace {

template <typename T>
void PutFixed(T v, std::string* out) {
  char b[sizeof v];
  std::memcpy(b, &v, sizeof v);
  out->append(b, sizeof v);
}

struct Dictionary {
  std::vector<std::string_view> entries;
  std::vector<uint32_t> indices;  // one per value
};

// The dictionary of a BYTE_ARRAY column, or nullopt when it has no value or
// its distinct values take more than kMaxDictionaryBytes.
std::optional<Dictionary> BuildDictionary(const ColumnValues& v) {
  if (v.type() != PhysicalType::kByteArray || v.values() == 0) return std::nullopt;
  Dictionary d;
  absl::flat_hash_map<std::string_view, uint32_t, StringHash, StringEq> ids;
  size_t bytes = 0;
  d.indices.reserve(v.values());
  for (size_t i = 0; i < v.values(); ++i) {
    const auto [it, added] = ids.try_emplace(v.bytes(i), static_cast<uint32_t>(d.entries.size()));
    if (added) {
      d.entries.push_back(v.bytes(i));
      bytes += v.PlainSize(i);
      if (bytes > kMaxDictionaryBytes) return std::nullopt;
    }
    d.indices.push_back(it->second);
  }
  return d;
}

struct PageRange {
  size_t row_begin = 0, row_end = 0;
  size_t value_begin = 0, value_end = 0;
};

// Cuts the rows into pages of about kPageBytes of values each.
std::vector<PageRange> SplitPages(const ColumnValues& v, bool dictionary) {
  std::vector<PageRange> pages(1);
  size_t bytes = 0, value = 0;
  for (size_t row = 0; row < v.rows(); ++row) {
    if (v.defined()[row]) {
      bytes += dictionary ? 4 : v.PlainSize(value);
      ++value;
    }
    if (bytes >= kPageBytes && row + 1 < v.rows()) {
      pages.back().row_end = row + 1;
      pages.back().value_end = value;
      pages.push_back({row + 1, 0, value, 0});
      bytes = 0;
    }
  }
  pages.back().row_end = v.rows();
  pages.back().value_end = value;
  return pages;
}

void AppendPlain(const ColumnValues& v, size_t begin, size_t end, std::string* out) {
  switch (v.type()) {
    case PhysicalType::kInt64:
      for (size_t i = begin; i < end; ++i) PutFixed(v.ints()[i], out);
      break;
    case PhysicalType::kDouble:
      for (size_t i = begin; i < end; ++i) PutFixed(v.doubles()[i], out);
      break;
    case PhysicalType::kBoolean:
      // Bit-packed LSB first, as the hybrid's bit-packed runs.
      for (size_t i = begin; i < end; i += 8) {
        uint8_t byte = 0;
        for (size_t k = i; k < end && k < i + 8; ++k) byte |= v.bools()[k] << (k - i);
        out->push_back(static_cast<char>(byte));
      }
      break;
    default:
      for (size_t i = begin; i < end; ++i) {
        PutFixed(static_cast<uint32_t>(v.bytes(i).size()), out);
        out->append(v.bytes(i));
      }
  }
}

std::string DataPageBody(const ColumnValues& v, const PageRange& p, const Dictionary* dict) {
  std::string levels;
  const std::vector<uint32_t> defined(v.defined().begin() + p.row_begin,
                                      v.defined().begin() + p.row_end);
  AppendRleBitPacked(defined, 1, &levels);
  std::string body;
  PutFixed(static_cast<uint32_t>(levels.size()), &body);
  body += levels;
  if (dict != nullptr) {
    // At least 1 bit: a width of 0 is valid but not every reader takes it.
    const int width = std::max(1, BitWidth(static_cast<uint32_t>(dict->entries.size() - 1)));
    body.push_back(static_cast<char>(width));
    AppendRleBitPacked(std::span(dict->indices).subspan(p.value_begin, p.value_end - p.value_begin),
                       width, &body);
  } else {
    AppendPlain(v, p.value_begin, p.value_end, &body);
  }
  return body;
}

struct ChunkSizes {
  int64_t uncompressed = 0;
  int64_t compressed = 0;
};

absl::Status AppendPage(PageHeader header, std::string_view body, int level, std::string* file,
                        ChunkSizes* sizes) {
  std::string compressed(ZSTD_compressBound(body.size()), '\0');
  const size_t n =
      ZSTD_compress(compressed.data(), compressed.size(), body.data(), body.size(), level);
  if (ZSTD_isError(n)) {
    return absl::InternalError(StrCat("zstd: ", ZSTD_getErrorName(n)));
  }
  if (body.size() > kMaxPageBytes) {
    return absl::InvalidArgumentError(
        StrCat("a page of ", body.size(), " bytes is over the limit of ", kMaxPageBytes));
  }
  compressed.resize(n);
  header.uncompressed_page_size = static_cast<int32_t>(body.size());
  header.compressed_page_size = static_cast<int32_t>(n);
  const std::string encoded = EncodePageHeader(header);
  sizes->uncompressed += static_cast<int64_t>(encoded.size() + body.size());
  sizes->compressed += static_cast<int64_t>(encoded.size() + n);
  file->append(encoded);
  file->append(compressed);
  return absl::OkStatus();
}

absl::Status AppendDictionaryPage(const Dictionary& dict, int level, std::string* file,
                                  ChunkSizes* sizes) {
  std::string body;
  for (std::string_view e : dict.entries) {
    PutFixed(static_cast<uint32_t>(e.size()), &body);
    body.append(e);
  }
  PageHeader header;
  header.type = PageType::kDictionaryPage;
  header.dictionary_page =
      DictionaryPageHeader{static_cast<int32_t>(dict.entries.size()), Encoding::kPlain};
  return AppendPage(std::move(header), body, level, file, sizes);
}

// Min and max of the non-NaN doubles, with parquet.thrift's rule for zeros.
void DoubleStatistics(const std::vector<double>& values, Statistics* s) {
  s->nan_count = 0;
  std::optional<double> lo, hi;
  for (double d : values) {
    if (std::isnan(d)) {
      ++*s->nan_count;
      continue;
    }
    lo = lo ? std::min(*lo, d) : d;
    hi = hi ? std::max(*hi, d) : d;
  }
  if (!lo) return;
  s->min_value.emplace();
  s->max_value.emplace();
  PutFixed(*lo == 0 ? -0.0 : *lo, &*s->min_value);
  PutFixed(*hi == 0 ? 0.0 : *hi, &*s->max_value);
}

void ByteArrayStatistics(const ColumnValues& v, Statistics* s) {
  std::string_view lo = v.bytes(0), hi = v.bytes(0);
  for (size_t i = 1; i < v.values(); ++i) {
    // std::string_view compares as memcmp does: unsigned bytes.
    lo = std::min(lo, v.bytes(i));
    hi = std::max(hi, v.bytes(i));
  }
  if (lo.size() > kMaxStatisticsBytes || hi.size() > kMaxStatisticsBytes) return;
  s->min_value = std::string(lo);
  s->max_value = std::string(hi);
}

}  // namespace

Statistics ColumnStatistics(const ColumnValues& v) {
  Statistics s;
  s.null_count = static_cast<int64_t>(v.nulls());
  if (v.type() == PhysicalType::kDouble) DoubleStatistics(v.doubles(), &s);
  if (v.values() == 0) return s;
  switch (v.type()) {
    case PhysicalType::kInt64: {
      const auto [lo, hi] = std::minmax_element(v.ints().begin(), v.ints().end());
      s.min_value.emplace();
      s.max_value.emplace();
      PutFixed(*lo, &*s.min_value);
      PutFixed(*hi, &*s.max_value);
      break;
    }
    case PhysicalType::kBoolean: {
      const auto [lo, hi] = std::minmax_element(v.bools().begin(), v.bools().end());
      s.min_value = std::string(1, static_cast<char>(*lo));
      s.max_value = std::string(1, static_cast<char>(*hi));
      break;
    }
    case PhysicalType::kByteArray:
      ByteArrayStatistics(v, &s);
      break;
    default:
      break;
  }
  return s;
}

absl::StatusOr<ColumnMetaData> WriteColumnChunk(std::string_view name, const ColumnValues& values,
                                                int compression_level, std::string* file) {
  ColumnMetaData m;
  m.type = values.type();
  m.path_in_schema = {std::string(name)};
  m.codec = Codec::kZstd;
  m.num_values = static_cast<int64_t>(values.rows());
  const std::optional<Dictionary> dict = BuildDictionary(values);
  ChunkSizes sizes;
  if (dict) {
    m.dictionary_page_offset = static_cast<int64_t>(file->size());
    if (absl::Status s = AppendDictionaryPage(*dict, compression_level, file, &sizes); !s.ok()) {
      return s;
    }
    m.encoding_stats.push_back({PageType::kDictionaryPage, Encoding::kPlain, 1});
  }
  m.data_page_offset = static_cast<int64_t>(file->size());
  const Encoding encoding = dict ? Encoding::kRleDictionary : Encoding::kPlain;
  const std::vector<PageRange> pages = SplitPages(values, dict.has_value());
  for (const PageRange& p : pages) {
    PageHeader header;
    header.data_page = DataPageHeader{static_cast<int32_t>(p.row_end - p.row_begin), encoding,
                                      Encoding::kRle, Encoding::kRle};
    const std::string body = DataPageBody(values, p, dict ? &*dict : nullptr);
    if (absl::Status s = AppendPage(std::move(header), body, compression_level, file, &sizes);
        !s.ok()) {
      return s;
    }
  }
  m.encoding_stats.push_back({PageType::kDataPage, encoding, static_cast<int32_t>(pages.size())});
  m.encodings = {Encoding::kPlain, Encoding::kRle};
  if (dict) m.encodings.push_back(Encoding::kRleDictionary);
  m.total_uncompressed_size = sizes.uncompressed;
  m.total_compressed_size = sizes.compressed;
  m.statistics = ColumnStatistics(values);
  return m;
}

}  // namespace vigil::parquet
