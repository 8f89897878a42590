#include "operators/archive/parquet_format.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "operators/archive/parquet_thrift.h"

namespace vigil::parquet {
namespace {

std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

std::string Hex(std::string_view s) {
  std::string out;
  char buf[4];
  for (unsigned char c : s) {
    std::snprintf(buf, sizeof buf, "%02x ", c);
    out += buf;
  }
  return out;
}

#define EXPECT_BYTES(actual, ...) EXPECT_EQ(Hex(actual), Hex(Bytes({__VA_ARGS__})))

TEST(ParquetThriftTest, VarintsAreUnsignedLeb128) {
  const std::vector<std::pair<uint64_t, std::string>> cases = {
      {0, Bytes({0x00})},
      {1, Bytes({0x01})},
      {127, Bytes({0x7F})},
      {128, Bytes({0x80, 0x01})},
      {300, Bytes({0xAC, 0x02})},
      {50399, Bytes({0xDF, 0x89, 0x03})},  // the example of the compact protocol's spec
      {UINT64_MAX, Bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01})},
  };
  for (const auto& [value, bytes] : cases) {
    ThriftWriter w;
    w.Varint(value);
    EXPECT_EQ(Hex(w.data()), Hex(bytes)) << value;
    ThriftReader r(w.data());
    EXPECT_EQ(r.Varint(), value);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r.position(), bytes.size());
  }
}

TEST(ParquetThriftTest, ZigZagFoldsSignedIntoUnsigned) {
  EXPECT_EQ(ZigZag(0), 0u);
  EXPECT_EQ(ZigZag(-1), 1u);
  EXPECT_EQ(ZigZag(1), 2u);
  EXPECT_EQ(ZigZag(-2), 3u);
  EXPECT_EQ(ZigZag(2147483647), 4294967294u);
  EXPECT_EQ(ZigZag(-2147483648LL), 4294967295u);
  EXPECT_EQ(ZigZag(INT64_MIN), UINT64_MAX);
  EXPECT_EQ(ZigZag(INT64_MAX), UINT64_MAX - 1);
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, INT64_MIN, INT64_MAX, int64_t{-300}}) {
    EXPECT_EQ(UnZigZag(ZigZag(v)), v);
  }
}

TEST(ParquetThriftTest, FieldHeadersUseDeltasUpTo15AndTheLongFormBeyond) {
  ThriftWriter w;
  w.FieldI32(1, 2);         // delta 1, i32: 0x15, zigzag(2) = 4
  w.FieldI32(3, -1);        // delta 2: 0x25, zigzag(-1) = 1
  w.FieldI64(20, 1);        // delta 17: type 0x06 then zigzag(20) = 40
  w.FieldBinary(21, "ab");  // delta 1, binary: 0x18, length 2, bytes
  w.FieldBool(22, true);    // the value is the type: 1
  w.FieldBool(23, false);   // 2
  w.FieldI16(24, -3);       // i16: 0x14, zigzag(-3) = 5
  w.FieldDouble(25, 1.0);   // double: 0x17, 8 bytes little-endian
  w.EndStruct();
  EXPECT_BYTES(w.data(), 0x15, 0x04, 0x25, 0x01, 0x06, 0x28, 0x02, 0x18, 0x02, 'a', 'b', 0x11, 0x12,
               0x14, 0x05, 0x17, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x00);

  ThriftReader r(w.data());
  ThriftField f;
  ASSERT_TRUE(r.NextField(&f));
  EXPECT_EQ(f.id, 1);
  EXPECT_EQ(r.ReadI32(f), 2);
  ASSERT_TRUE(r.NextField(&f));
  EXPECT_EQ(r.ReadI32(f), -1);
  ASSERT_TRUE(r.NextField(&f));
  EXPECT_EQ(f.id, 20);
  EXPECT_EQ(r.ReadI64(f), 1);
  ASSERT_TRUE(r.NextField(&f));
  EXPECT_EQ(r.ReadBinary(f), "ab");
  ASSERT_TRUE(r.NextField(&f));
  EXPECT_TRUE(r.ReadBool(f));
  ASSERT_TRUE(r.NextField(&f));
  EXPECT_FALSE(r.ReadBool(f));
  ASSERT_TRUE(r.NextField(&f));
  EXPECT_EQ(r.ReadI16(f), -3);
  ASSERT_TRUE(r.NextField(&f));
  EXPECT_EQ(f.id, 25);
  EXPECT_EQ(r.ReadDouble(f), 1.0);
  EXPECT_FALSE(r.NextField(&f));
  EXPECT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r.position(), w.data().size());
}

TEST(ParquetThriftTest, ListsHaveAShortHeaderBelow15Elements) {
  ThriftWriter w;
  w.FieldList(1, CType::kI32, 3);  // field 0x19, list header 3 << 4 | 5
  w.I32(1);
  w.I32(2);
  w.I32(-3);
  w.FieldList(2, CType::kBinary, 15);  // field 0x19, long header 0xF8 then 15
  for (int i = 0; i < 15; ++i) w.Binary("x");
  w.EndStruct();
  std::string want = Bytes({0x19, 0x35, 0x02, 0x04, 0x05, 0x19, 0xF8, 0x0F});
  for (int i = 0; i < 15; ++i) want += Bytes({0x01, 'x'});
  want += Bytes({0x00});
  EXPECT_EQ(Hex(w.data()), Hex(want));

  ThriftReader r(w.data());
  ThriftField f;
  ASSERT_TRUE(r.NextField(&f));
  ASSERT_EQ(r.ReadListHeader(f, CType::kI32), 3u);
  EXPECT_EQ(r.I32(), 1);
  EXPECT_EQ(r.I32(), 2);
  EXPECT_EQ(r.I32(), -3);
  ASSERT_TRUE(r.NextField(&f));
  ASSERT_EQ(r.ReadListHeader(f, CType::kBinary), 15u);
  for (int i = 0; i < 15; ++i) EXPECT_EQ(r.Binary(), "x");
  EXPECT_FALSE(r.NextField(&f));
  EXPECT_TRUE(r.ok()) << r.error();
}

TEST(ParquetThriftTest, NestedStructsRestartTheFieldDeltas) {
  ThriftWriter w;
  w.FieldStruct(5);  // 0x5C
  w.FieldI32(1, 7);  // 0x15 0x0E: deltas start again from 0 inside
  w.EndStruct();
  w.FieldI32(6, 1);  // 0x15 0x02: the outer struct resumes from 5
  w.EndStruct();
  EXPECT_BYTES(w.data(), 0x5C, 0x15, 0x0E, 0x00, 0x15, 0x02, 0x00);
}

TEST(ParquetFormatTest, PageHeaderBytes) {
  PageHeader h;
  h.type = PageType::kDataPage;
  h.uncompressed_page_size = 100;
  h.compressed_page_size = 50;
  h.data_page = DataPageHeader{10, Encoding::kPlain, Encoding::kRle, Encoding::kRle};
  const std::string bytes = EncodePageHeader(h);
  EXPECT_BYTES(bytes, 0x15, 0x00,  // 1: type DATA_PAGE
               0x15, 0xC8, 0x01,   // 2: 100
               0x15, 0x64,         // 3: 50
               0x2C,               // 5: data_page_header
               0x15, 0x14,         //   1: num_values 10
               0x15, 0x00,         //   2: PLAIN
               0x15, 0x06,         //   3: RLE
               0x15, 0x06,         //   4: RLE
               0x00, 0x00);
  size_t size = 0;
  absl::StatusOr<PageHeader> back = DecodePageHeader(bytes + "trailing page data", &size);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, h);
  EXPECT_EQ(size, bytes.size());
}

TEST(ParquetFormatTest, DictionaryPageHeaderRoundTrips) {
  PageHeader h;
  h.type = PageType::kDictionaryPage;
  h.uncompressed_page_size = 1 << 20;
  h.compressed_page_size = 12345;
  h.dictionary_page = DictionaryPageHeader{300, Encoding::kPlain};
  size_t size = 0;
  absl::StatusOr<PageHeader> back = DecodePageHeader(EncodePageHeader(h), &size);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, h);
}

FileMetaData SampleMetaData() {
  FileMetaData m;
  m.schema.push_back({std::nullopt, std::nullopt, "schema", 2, std::nullopt, std::nullopt});
  m.schema.push_back({PhysicalType::kInt64, Repetition::kOptional, "ts", std::nullopt,
                      ConvertedType::kTimestampMillis, LogicalType::TimestampMillisUtc()});
  m.schema.push_back({PhysicalType::kByteArray, Repetition::kOptional, "type", std::nullopt,
                      ConvertedType::kUtf8, LogicalType::String()});
  m.num_rows = 20;
  for (int g = 0; g < 2; ++g) {
    RowGroup group;
    group.num_rows = 10;
    group.total_byte_size = 1000 + g;
    group.file_offset = 4 + g * 500;
    group.total_compressed_size = 400;
    group.ordinal = static_cast<int16_t>(g);
    ColumnMetaData c;
    c.type = PhysicalType::kByteArray;
    c.encodings = {Encoding::kPlain, Encoding::kRle, Encoding::kRleDictionary};
    c.path_in_schema = {"type"};
    c.codec = Codec::kZstd;
    c.num_values = 10;
    c.total_uncompressed_size = 300;
    c.total_compressed_size = 200;
    c.data_page_offset = 100000000000;  // past 32 bits
    c.dictionary_page_offset = 4;
    Statistics s;
    s.null_count = 3;
    s.min_value = "feedback";
    s.max_value = std::string("message\0\xff", 9);
    s.nan_count = 0;
    s.is_max_value_exact = true;
    c.statistics = s;
    c.encoding_stats = {{PageType::kDictionaryPage, Encoding::kPlain, 1},
                        {PageType::kDataPage, Encoding::kRleDictionary, 2}};
    group.columns.push_back({0, c});
    group.columns.push_back({0, c});
    m.row_groups.push_back(group);
  }
  m.created_by = "vigil";
  m.column_orders = {1, 1};
  return m;
}

TEST(ParquetFormatTest, FileMetaDataRoundTrips) {
  const FileMetaData m = SampleMetaData();
  absl::StatusOr<FileMetaData> back = DecodeFileMetaData(EncodeFileMetaData(m));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, m);
}

TEST(ParquetFormatTest, DecodingSkipsFieldsItDoesNotKnow) {
  // A PageHeader with fields the decoder skips: 4 (crc), 6 (a struct with a
  // list of lists, a map and a double) and 30 (a list of bools).
  ThriftWriter w;
  w.FieldI32(1, 0);
  w.FieldI32(2, 8);
  w.FieldI32(3, 8);
  w.FieldI32(4, 12345);
  w.FieldStruct(6);
  w.FieldList(1, CType::kList, 2);
  w.ListHeader(CType::kI64, 1);
  w.I64(-5);
  w.ListHeader(CType::kBinary, 0);
  w.FieldDouble(2, 2.5);
  w.EndStruct();
  w.FieldList(30, CType::kBoolTrue, 3);
  std::string bytes = w.Release();
  bytes += Bytes({0x01, 0x02, 0x00});              // true, false, false (0, as old writers)
  bytes += Bytes({0x3B, 0x01, 0x55, 0x02, 0x04});  // field 33: a map<i32, i32> {1: 2}
  bytes += Bytes({0x00});
  size_t size = 0;
  absl::StatusOr<PageHeader> h = DecodePageHeader(bytes, &size);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->uncompressed_page_size, 8);
  EXPECT_EQ(size, bytes.size());
}

TEST(ParquetFormatTest, CorruptBytesFailWithAMessage) {
  const std::string good = EncodeFileMetaData(SampleMetaData());
  for (size_t n = 0; n < good.size(); ++n) {
    absl::StatusOr<FileMetaData> m = DecodeFileMetaData(good.substr(0, n));
    EXPECT_FALSE(m.ok()) << "a prefix of " << n << " bytes";
  }
  // Every single-byte change decodes or fails cleanly.
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x5A);
    (void)DecodeFileMetaData(bad);
  }
  EXPECT_EQ(DecodeFileMetaData(Bytes({0x00})).status().message(),
            "corrupt footer: FileMetaData lacks its required field 1 at byte 1");
  // A list announcing more elements than there are bytes.
  EXPECT_FALSE(DecodeFileMetaData(Bytes({0x15, 0x02, 0x19, 0xFC, 0xFF, 0xFF, 0xFF, 0x0F})).ok());
  // Structs nested past the limit.
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += Bytes({0x8C});  // field +8, a struct
  absl::Status s = DecodeFileMetaData(deep).status();
  EXPECT_NE(s.message().find("nested too deep"), absl::string_view::npos) << s;
  // A field of the wrong type.
  s = DecodeFileMetaData(Bytes({0x18, 0x00, 0x00})).status();
  EXPECT_NE(s.message().find("field 1 has type 8, expected 5"), absl::string_view::npos) << s;
}

TEST(ParquetRleTest, BitWidth) {
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(2), 2);
  EXPECT_EQ(BitWidth(3), 2);
  EXPECT_EQ(BitWidth(255), 8);
  EXPECT_EQ(BitWidth(256), 9);
  EXPECT_EQ(BitWidth(UINT32_MAX), 32);
}

std::string Rle(std::vector<uint32_t> values, int width) {
  std::string out;
  AppendRleBitPacked(values, width, &out);
  return out;
}

TEST(ParquetRleTest, HandComputedEncodings) {
  // A run of eight 1s, then a lone 0 bit-packed in one padded group.
  EXPECT_BYTES(Rle({1, 1, 1, 1, 1, 1, 1, 1, 0}, 1), 0x10, 0x01, 0x03, 0x00);
  // Encodings.md's example: 0..7 in 3 bits, one group.
  EXPECT_BYTES(Rle({0, 1, 2, 3, 4, 5, 6, 7}, 3), 0x03, 0x88, 0xC6, 0xFA);
  // 100 fives: one RLE run (100 << 1 = 200 as a varint), the value in a byte.
  EXPECT_BYTES(Rle(std::vector<uint32_t>(100, 5), 3), 0xC8, 0x01, 0x05);
  // A 9-bit value takes two little-endian bytes.
  EXPECT_BYTES(Rle(std::vector<uint32_t>(10, 300), 9), 0x14, 0x2C, 0x01);
  // Literals top up their group of 8 from the following run, which keeps the
  // rest: [0 1 0 1 0 2 2 2] packed in 2 bits, then nine 2s.
  std::vector<uint32_t> mixed = {0, 1, 0, 1, 0};
  mixed.insert(mixed.end(), 12, 2);
  EXPECT_BYTES(Rle(mixed, 2), 0x03, 0x44, 0xA8, 0x12, 0x02);
  // Width 0: a run holds no value bytes.
  EXPECT_BYTES(Rle(std::vector<uint32_t>(20, 0), 0), 0x28);
  EXPECT_EQ(Rle({}, 1), "");
}

TEST(ParquetRleTest, DecodesWhatItEncodesAtEveryWidth) {
  std::mt19937 rng(7);
  for (int width = 0; width <= 32; ++width) {
    for (size_t n : {size_t{1}, size_t{7}, size_t{8}, size_t{9}, size_t{100}, size_t{1000}}) {
      const uint32_t max = width == 0 ? 0 : static_cast<uint32_t>((uint64_t{1} << width) - 1);
      std::vector<uint32_t> values;
      while (values.size() < n) {
        const uint32_t v = rng() & max;
        const size_t repeat = rng() % 3 == 0 ? rng() % 20 : 1;  // some runs
        values.insert(values.end(), std::min(repeat, n - values.size()), v);
      }
      const std::string bytes = Rle(values, width);
      std::vector<uint32_t> back;
      ASSERT_TRUE(DecodeRleBitPacked(bytes, width, n, max, &back)) << width << " " << n;
      EXPECT_EQ(back, values) << width << " " << n;
      // Input cut short fails, or (when only padding was cut) decodes the
      // same values; asking for more values than were written fails.
      for (size_t cut = 0; n <= 100 && cut < bytes.size(); ++cut) {
        back.clear();
        if (DecodeRleBitPacked(bytes.substr(0, cut), width, n, max, &back)) {
          EXPECT_EQ(back, values) << width << " " << n << " " << cut;
        }
      }
      back.clear();
      EXPECT_FALSE(DecodeRleBitPacked(bytes, width, n + 9, max, &back)) << width << " " << n;
    }
  }
}

TEST(ParquetRleTest, DecodingChecksRangesAndRuns) {
  std::vector<uint32_t> out;
  // An index past max_value.
  EXPECT_FALSE(DecodeRleBitPacked(Rle({0, 1, 2, 3}, 2), 2, 4, 2, &out));
  EXPECT_FALSE(DecodeRleBitPacked(Rle(std::vector<uint32_t>(9, 3), 2), 2, 9, 2, &out));
  // A run of length 0, and an unfinished varint.
  EXPECT_FALSE(DecodeRleBitPacked(Bytes({0x00, 0x01}), 1, 1, 1, &out));
  EXPECT_FALSE(DecodeRleBitPacked(Bytes({0x80}), 1, 1, 1, &out));
  // A huge run announced in few bytes only yields the values asked for.
  out.clear();
  ASSERT_TRUE(DecodeRleBitPacked(Bytes({0xFE, 0xFF, 0xFF, 0xFF, 0x0F, 0x01}), 1, 5, 1, &out));
  EXPECT_EQ(out, std::vector<uint32_t>(5, 1));
  // Reading fewer values than the padded group holds.
  out.clear();
  ASSERT_TRUE(DecodeRleBitPacked(Rle({1, 0, 1}, 1), 1, 3, 1, &out));
  EXPECT_EQ(out, (std::vector<uint32_t>{1, 0, 1}));
  EXPECT_FALSE(DecodeRleBitPacked("", 33, 1, 1, &out));
}

TEST(ParquetFormatTest, NamesForMessages) {
  EXPECT_EQ(Name(Codec::kZstd), "ZSTD");
  EXPECT_EQ(Name(Codec{7}), "LZ4_RAW");
  EXPECT_EQ(Name(Codec{42}), "codec 42");
  EXPECT_EQ(Name(Encoding::kRleDictionary), "RLE_DICTIONARY");
  EXPECT_EQ(Name(Encoding{1}), "encoding 1");
  EXPECT_EQ(Name(PhysicalType::kInt96), "INT96");
  EXPECT_EQ(Name(PageType::kDataPageV2), "DATA_PAGE_V2");
  EXPECT_EQ(Name(Repetition::kRepeated), "REPEATED");
}

}  // namespace
}  // namespace vigil::parquet
