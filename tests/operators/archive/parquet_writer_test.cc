#include "operators/archive/parquet_writer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "base/strings.h"
#include "operators/archive/parquet_column_writer.h"
#include "operators/archive/parquet_format.h"
#include "operators/archive/parquet_reader.h"
#include "tests/operators/archive/canonical_json.h"

namespace vigil {
namespace {

using parquet::ColumnMetaData;
using parquet::Encoding;
using parquet::FileMetaData;

std::string Encode(const std::vector<std::string>& records, ParquetBatchOptions options = {}) {
  const std::vector<std::string_view> views(records.begin(), records.end());
  absl::StatusOr<std::string> file = EncodeParquetBatch(views, options);
  EXPECT_TRUE(file.ok()) << file.status();
  return file.ok() ? *file : std::string();
}

std::vector<std::string> Read(std::string_view file) {
  std::vector<std::string> rows;
  const absl::Status s =
      ReadParquetRecords(file, [&](std::string_view r) { rows.emplace_back(r); });
  EXPECT_TRUE(s.ok()) << s;
  return rows;
}

std::vector<std::string> RoundTrip(const std::vector<std::string>& records,
                                   ParquetBatchOptions options = {}) {
  return Read(Encode(records, options));
}

std::string RoundTrip1(const std::string& record) {
  const std::vector<std::string> rows = RoundTrip({record});
  return rows.size() == 1 ? rows[0] : "<" + std::to_string(rows.size()) + " rows>";
}

FileMetaData Footer(std::string_view file) {
  absl::StatusOr<FileMetaData> meta = ReadParquetFooter(file);
  EXPECT_TRUE(meta.ok()) << meta.status();
  return meta.ok() ? *meta : FileMetaData();
}

const ColumnMetaData& Chunk(const FileMetaData& meta, std::string_view name, size_t group = 0) {
  for (const parquet::ColumnChunk& c : meta.row_groups.at(group).columns) {
    if (c.meta_data->path_in_schema[0] == name) return *c.meta_data;
  }
  static const ColumnMetaData kNone;
  ADD_FAILURE() << "no column " << name;
  return kNone;
}

std::string Int64Bytes(int64_t v) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &v, 8);
  return s;
}

std::string DoubleBytes(double v) {
  std::string s(8, '\0');
  std::memcpy(s.data(), &v, 8);
  return s;
}

TEST(ParquetWriterTest, EveryColumnTypeRoundTrips) {
  const std::string message =
      R"({"ts":"2026-03-01T12:00:00.250Z","type":"message","session_id":"s1","user_id":"u1",)"
      R"("turn_id":"t1","intent":"faq","latency_ms":812.5,"cache_hit":true,)"
      R"("guardrail_triggered":false,"llm_timeout":false,"llm_calls":3,"error_service":"bedrock",)"
      R"("variant":"b","topic":"shoes"})";
  EXPECT_EQ(RoundTrip1(message), message);
  const std::string rest =
      R"({"ts":"2026-03-01T12:00:01.000Z","type":"feedback","rating":-1,"comment":"meh",)"
      R"("asin":"B0001","price":19.99,"reason":"human","service":"bedrock","state":"half_open",)"
      R"("predicted":"faq","actual":"order_tracking"})";
  EXPECT_EQ(RoundTrip1(rest), rest);
}

TEST(ParquetWriterTest, ColumnsComeInSchemaOrderThenExtra) {
  EXPECT_EQ(RoundTrip1(R"({"zzz":1,"type":"message","meta":{"a":[1,2,{"b":null}]},)"
                       R"("ts":1767225600000,"x":"y"})"),
            R"({"ts":"2026-01-01T00:00:00.000Z","type":"message","zzz":1,)"
            R"("meta":{"a":[1,2,{"b":null}]},"x":"y"})");
  // A member named like the extra column is an extra member like any other.
  EXPECT_EQ(RoundTrip1(R"({"extra":{"k":1},"type":"t"})"), R"({"type":"t","extra":{"k":1}})");
  EXPECT_EQ(RoundTrip1(R"({})"), R"({})");
}

TEST(ParquetWriterTest, NullsAndMissingFieldsAreNullColumns) {
  EXPECT_EQ(RoundTrip1(R"({"ts":0,"type":"message","error_service":null,"rating":null})"),
            R"({"ts":"1970-01-01T00:00:00.000Z","type":"message"})");
  // Null inside extra values stays.
  EXPECT_EQ(RoundTrip1(R"({"type":"x","other":null})"), R"({"type":"x","other":null})");
  const std::string file =
      Encode({R"({"type":"a","asin":null})", R"({"type":"b"})", R"({"asin":"B1","type":null})"});
  const FileMetaData meta = Footer(file);
  EXPECT_EQ(Chunk(meta, "asin").statistics->null_count, 2);
  EXPECT_EQ(Chunk(meta, "type").statistics->null_count, 1);
  EXPECT_EQ(Chunk(meta, "extra").statistics->null_count, 3);
  EXPECT_EQ(Chunk(meta, "rating").statistics->null_count, 3);
  EXPECT_FALSE(Chunk(meta, "rating").statistics->min_value.has_value());
}

TEST(ParquetWriterTest, ValuesThatDoNotFitTheirColumnGoToExtra) {
  EXPECT_EQ(RoundTrip1(R"({"latency_ms":"12","rating":1.5,"cache_hit":"yes","session_id":42,)"
                       R"("type":{"a":1},"llm_calls":18446744073709551615,"price":[1]})"),
            R"({"latency_ms":"12","rating":1.5,"cache_hit":"yes","session_id":42,)"
            R"("type":{"a":1},"llm_calls":18446744073709551615,"price":[1]})");
  // Fits: integral numbers in INT64 columns up to 2^53, integers in DOUBLE
  // columns that a double holds exactly, the int64 range.
  EXPECT_EQ(
      RoundTrip1(R"({"rating":2.0,"llm_calls":1e3,"latency_ms":7,)"
                 R"("price":9007199254740992,"comment":""})"),
      R"({"latency_ms":7,"llm_calls":1000,"rating":2,"comment":"","price":9007199254740992})");
  EXPECT_EQ(RoundTrip1(R"({"llm_calls":9223372036854775807,"rating":-9223372036854775808})"),
            R"({"llm_calls":9223372036854775807,"rating":-9223372036854775808})");
  // Does not fit: 2^53 + 1 as a double, an integral double past 2^53 as an
  // INT64, a uint64 a double cannot hold.
  EXPECT_EQ(RoundTrip1(R"({"price":9007199254740993,"rating":1e16,)"
                       R"("latency_ms":18446744073709551615})"),
            R"({"price":9007199254740993,"rating":1e+16,"latency_ms":18446744073709551615})");
  EXPECT_EQ(RoundTrip1(R"({"price":1e300,"latency_ms":-0.0,"cache_hit":true})"),
            R"({"latency_ms":-0.0,"cache_hit":true,"price":1e+300})");
}

TEST(ParquetWriterTest, TheLastOccurrenceOfAKeyCounts) {
  EXPECT_EQ(RoundTrip1(R"({"rating":"bad","rating":1})"), R"({"rating":1})");
  EXPECT_EQ(RoundTrip1(R"({"rating":1,"rating":"bad"})"), R"({"rating":"bad"})");
  EXPECT_EQ(RoundTrip1(R"({"rating":1,"rating":null})"), R"({})");
  EXPECT_EQ(RoundTrip1(R"({"x":1,"x":2})"), R"({"x":1,"x":2})");
}

TEST(ParquetWriterTest, UnicodeEscapesAndLongStrings) {
  const std::string record =
      R"({"intent":"réponse 日本語 🎉","comment":"line\nbreak \"q\" \\ \u0000 \u001f \/ \u00e9",)"
      R"("type":"\ud83d\ude00","k\u00e9y":"v"})";
  const std::string back = RoundTrip1(record);
  EXPECT_EQ(CanonicalJson(back), CanonicalJson(record)) << back;
  EXPECT_NE(back.find("日本語 🎉"), std::string::npos) << back;

  std::string big;
  while (big.size() < 100'000) big += "long é 長い \"string\" ";
  std::string record2 = R"({"type":"message","comment":)";
  AppendJsonString(big, &record2);
  record2 += R"(,"note":)";
  AppendJsonString(big, &record2);
  record2 += "}";
  EXPECT_EQ(RoundTrip1(record2), record2);
  // Statistics of byte arrays past 4 KiB are left out, the null count stays.
  const FileMetaData meta = Footer(Encode({record2}));
  EXPECT_FALSE(Chunk(meta, "comment").statistics->min_value.has_value());
  EXPECT_EQ(Chunk(meta, "comment").statistics->null_count, 0);
  EXPECT_EQ(Chunk(meta, "type").statistics->min_value, "message");
}

TEST(ParquetWriterTest, TimestampsAsStringsAndIntegers) {
  // ts, and the column's value read back.
  const std::vector<std::pair<std::string, std::string>> in_column = {
      {R"("2026-01-01T10:00:00.250+02:00")", R"("2026-01-01T08:00:00.250Z")"},
      {R"("2026-01-01T00:00:00.123456Z")", R"("2026-01-01T00:00:00.123Z")"},
      {R"("2026-06-30T23:59:60Z")", R"("2026-06-30T23:59:59.000Z")"},
      {R"(1767225600000)", R"("2026-01-01T00:00:00.000Z")"},
      {R"(1767225600001.0)", R"("2026-01-01T00:00:00.001Z")"},
      {R"(-1)", R"("1969-12-31T23:59:59.999Z")"},
      {R"("0000-01-01T00:00:00Z")", R"("0000-01-01T00:00:00.000Z")"},
      {R"("9999-12-31T23:59:59.999Z")", R"("9999-12-31T23:59:59.999Z")"},
      {R"(253402300799999)", R"("9999-12-31T23:59:59.999Z")"},
  };
  for (const auto& [ts, want] : in_column) {
    EXPECT_EQ(RoundTrip1(R"({"type":"x","ts":)" + ts + "}"), R"({"ts":)" + want + R"(,"type":"x"})")
        << ts;
  }
  // Kept as they were, in extra: not a time, outside years 0000..9999, not
  // integral, not a string or number.
  for (std::string ts :
       {R"("yesterday")", R"("2026-01-01T00:00:00")", R"("9999-12-31T23:59:59.999-01:00")",
        R"(253402300800000)", R"(-62167219200001)", R"(1.5)", R"(true)", R"({"at":1})"}) {
    EXPECT_EQ(RoundTrip1(R"({"ts":)" + ts + R"(,"type":"x"})"), R"({"type":"x","ts":)" + ts + "}");
  }
  EXPECT_EQ(RoundTrip1(R"({"ts":null})"), "{}");
}

TEST(ParquetWriterTest, AByteOrderMarkIsIgnored) {
  EXPECT_EQ(RoundTrip1("\xEF\xBB\xBF{\"type\":\"x\"}"), R"({"type":"x"})");
}

TEST(ParquetWriterTest, RecordsThatAreNotObjectsAreRejected) {
  for (std::string_view bad : {"[1,2]", "\"x\"", "{bad", "", "1", "{\"a\":1} {\"b\":2}"}) {
    const std::vector<std::string_view> records = {R"({"type":"ok"})", bad};
    absl::StatusOr<std::string> file = EncodeParquetBatch(records, {});
    ASSERT_FALSE(file.ok()) << bad;
    EXPECT_EQ(file.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(std::string(file.status().message()).starts_with("record 2 is not a JSON object"))
        << file.status();
  }
}

TEST(ParquetWriterTest, AnEmptyBatchIsAFileWithTheSchemaAndNoRows) {
  const std::string file = Encode({});
  EXPECT_TRUE(file.starts_with("PAR1"));
  EXPECT_TRUE(file.ends_with("PAR1"));
  EXPECT_TRUE(Read(file).empty());
  const FileMetaData meta = Footer(file);
  EXPECT_EQ(meta.num_rows, 0);
  EXPECT_TRUE(meta.row_groups.empty());
  EXPECT_EQ(meta.schema.size(), ArchiveParquetColumns().size() + 1);
}

TEST(ParquetWriterTest, FooterDescribesTheSchema) {
  const FileMetaData meta = Footer(Encode({R"({"type":"x"})"}));
  EXPECT_EQ(meta.version, 1);
  EXPECT_EQ(meta.created_by, "vigil");
  ASSERT_EQ(meta.schema.size(), 27u);
  EXPECT_EQ(meta.schema[0].num_children, 26);
  const std::span<const ArchiveColumn> columns = ArchiveParquetColumns();
  ASSERT_EQ(columns.size(), 26u);
  EXPECT_EQ(columns.back().name, "extra");
  for (size_t i = 0; i < columns.size(); ++i) {
    const parquet::SchemaElement& e = meta.schema[i + 1];
    EXPECT_EQ(e.name, columns[i].name);
    EXPECT_EQ(e.repetition, parquet::Repetition::kOptional);
  }
  const parquet::SchemaElement& ts = meta.schema[1];
  EXPECT_EQ(ts.type, parquet::PhysicalType::kInt64);
  EXPECT_EQ(ts.logical_type, parquet::LogicalType::TimestampMillisUtc());
  EXPECT_EQ(ts.converted_type, parquet::ConvertedType::kTimestampMillis);
  EXPECT_EQ(meta.schema[2].logical_type, parquet::LogicalType::String());
  EXPECT_EQ(meta.column_orders, std::vector<int>(26, 1));
  const ColumnMetaData& type = Chunk(meta, "type");
  EXPECT_EQ(type.codec, parquet::Codec::kZstd);
  EXPECT_EQ(type.num_values, 1);
}

TEST(ParquetWriterTest, StatisticsHoldMinMaxAndNullCounts) {
  const std::string file = Encode({
      R"({"ts":"2026-01-01T00:00:05Z","type":"message","latency_ms":250.5,"llm_calls":3,)"
      R"("cache_hit":true,"intent":"zeta"})",
      R"({"ts":"2026-01-01T00:00:01Z","type":"feedback","latency_ms":-3,"llm_calls":-7,)"
      R"("cache_hit":true,"intent":"\u00e9"})",
      R"({"ts":"2026-01-01T00:00:09Z","type":"message","latency_ms":0,"cache_hit":false,)"
      R"("intent":"Alpha"})",
      R"({"ts":"bad","type":"message"})",
  });
  const FileMetaData meta = Footer(file);
  const parquet::Statistics& ts = *Chunk(meta, "ts").statistics;
  EXPECT_EQ(ts.min_value, Int64Bytes(1767225601000));
  EXPECT_EQ(ts.max_value, Int64Bytes(1767225609000));
  EXPECT_EQ(ts.null_count, 1);
  const parquet::Statistics& latency = *Chunk(meta, "latency_ms").statistics;
  EXPECT_EQ(latency.min_value, DoubleBytes(-3));
  EXPECT_EQ(latency.max_value, DoubleBytes(250.5));
  EXPECT_EQ(latency.nan_count, 0);
  EXPECT_EQ(latency.null_count, 1);
  const parquet::Statistics& calls = *Chunk(meta, "llm_calls").statistics;
  EXPECT_EQ(calls.min_value, Int64Bytes(-7));  // signed order
  EXPECT_EQ(calls.max_value, Int64Bytes(3));
  EXPECT_EQ(calls.null_count, 2);
  const parquet::Statistics& hit = *Chunk(meta, "cache_hit").statistics;
  EXPECT_EQ(hit.min_value, std::string(1, '\0'));
  EXPECT_EQ(hit.max_value, std::string(1, '\1'));
  // Unsigned bytewise: "Alpha" < "zeta" < "é" (0xC3 0xA9).
  const parquet::Statistics& intent = *Chunk(meta, "intent").statistics;
  EXPECT_EQ(intent.min_value, "Alpha");
  EXPECT_EQ(intent.max_value, "\u00e9");
  EXPECT_EQ(Chunk(meta, "extra").statistics->min_value, R"({"ts":"bad"})");

  // Zeros: the min is written -0.0 and the max +0.0.
  const FileMetaData zeros = Footer(Encode({R"({"price":0})", R"({"price":-0.0})"}));
  const parquet::Statistics& price = *Chunk(zeros, "price").statistics;
  EXPECT_EQ(price.min_value, DoubleBytes(-0.0));
  EXPECT_EQ(price.max_value, DoubleBytes(0.0));
}

TEST(ParquetWriterTest, RepetitiveStringsUseADictionary) {
  std::vector<std::string> records;
  const char* intents[] = {"faq", "order_tracking", "product_question"};
  for (int i = 0; i < 3000; ++i) {
    records.push_back(StrCat(R"({"type":"message","session_id":"s-)", i, R"(","intent":")",
                             intents[i % 3], R"(","latency_ms":)", i, "}"));
  }
  const std::string file = Encode(records);
  const FileMetaData meta = Footer(file);
  const ColumnMetaData& intent = Chunk(meta, "intent");
  ASSERT_TRUE(intent.dictionary_page_offset.has_value());
  EXPECT_LT(*intent.dictionary_page_offset, intent.data_page_offset);
  EXPECT_EQ(intent.encodings,
            (std::vector<Encoding>{Encoding::kPlain, Encoding::kRle, Encoding::kRleDictionary}));
  EXPECT_EQ(intent.encoding_stats,
            (std::vector<parquet::PageEncodingStats>{
                {parquet::PageType::kDictionaryPage, Encoding::kPlain, 1},
                {parquet::PageType::kDataPage, Encoding::kRleDictionary, 1}}));
  // Three 1-2 bit codes a row and zstd: far below the PLAIN size.
  EXPECT_LT(intent.total_compressed_size, 400);
  const ColumnMetaData& latency = Chunk(meta, "latency_ms");
  EXPECT_FALSE(latency.dictionary_page_offset.has_value());
  EXPECT_EQ(latency.encodings, (std::vector<Encoding>{Encoding::kPlain, Encoding::kRle}));
  EXPECT_EQ(RoundTrip(records), records);
}

TEST(ParquetWriterTest, ALargeDictionaryFallsBackToPlainAndPagesSplit) {
  std::vector<std::string> records;
  for (int i = 0; i < 3000; ++i) {
    records.push_back(StrCat(R"({"comment":")", i, std::string(1000, 'a' + i % 26), R"("})"));
  }
  const std::string file = Encode(records);
  const FileMetaData meta = Footer(file);
  const ColumnMetaData& comment = Chunk(meta, "comment");
  EXPECT_FALSE(comment.dictionary_page_offset.has_value());
  ASSERT_EQ(comment.encoding_stats.size(), 1u);
  EXPECT_EQ(comment.encoding_stats[0].encoding, Encoding::kPlain);
  EXPECT_EQ(comment.encoding_stats[0].count, 3);  // about 3 MB in pages of 1 MiB
  EXPECT_EQ(Read(file), records);
}

TEST(ParquetWriterTest, RowGroupsKeepTheOrderOfRows) {
  std::vector<std::string> records;
  for (int i = 0; i < 10; ++i) records.push_back(StrCat(R"({"llm_calls":)", i, "}"));
  const std::string file = Encode(records, {.compression_level = 1, .row_group_rows = 3});
  const FileMetaData meta = Footer(file);
  ASSERT_EQ(meta.row_groups.size(), 4u);
  EXPECT_EQ(meta.num_rows, 10);
  EXPECT_EQ(meta.row_groups[3].num_rows, 1);
  EXPECT_EQ(meta.row_groups[3].ordinal, 3);
  EXPECT_EQ(Chunk(meta, "llm_calls", 1).statistics->min_value, Int64Bytes(3));
  EXPECT_EQ(Read(file), records);
}

TEST(ParquetWriterTest, JsonDoublesReadBackExactly) {
  auto text = [](double v) {
    std::string s;
    AppendJsonDouble(v, &s);
    return s;
  };
  EXPECT_EQ(text(0.1), "0.1");
  EXPECT_EQ(text(5), "5");
  EXPECT_EQ(text(-0.0), "-0.0");
  EXPECT_EQ(text(1e21), "1e+21");
  EXPECT_EQ(text(18446744073709551616.0), "1.8446744073709552e+19");
  EXPECT_EQ(text(123456789012345680.0), "123456789012345680");
  EXPECT_EQ(text(5e-324), "5e-324");
  EXPECT_EQ(text(std::numeric_limits<double>::quiet_NaN()), "null");
  for (double v :
       {0.1, 1.0 / 3, 1e21, 18446744073709551616.0, 1.7976931348623157e308, 5e-324, -123.456e-7}) {
    char want[40];
    std::snprintf(want, sizeof want, "%.17g", v);
    EXPECT_EQ(CanonicalJson(text(v)), CanonicalJson(want)) << v;
  }
}

// Corrupt input must give an error, never a crash or a read out of bounds.
TEST(ParquetReaderTest, CorruptFilesGiveErrors) {
  const std::string file =
      Encode({R"({"ts":1,"type":"message","intent":"faq","latency_ms":1.5,"cache_hit":true,)"
              R"("llm_calls":2,"x":[1]})",
              R"({"ts":2,"type":"feedback","intent":"faq","rating":1})"});
  auto read = [](std::string_view f) { return ReadParquetRecords(f, [](std::string_view) {}); };
  ASSERT_TRUE(read(file).ok());
  for (size_t n = 0; n < file.size(); ++n) {
    EXPECT_FALSE(read(file.substr(0, n)).ok()) << "the first " << n << " bytes";
  }
  for (size_t i = 0; i < file.size(); ++i) {
    for (int flip : {0x01, 0x80, 0xFF}) {
      std::string bad = file;
      bad[i] = static_cast<char>(bad[i] ^ flip);
      (void)read(bad);
    }
  }
  EXPECT_EQ(read("PAR1").message(), "not a Parquet file: 4 bytes is too short");
  EXPECT_EQ(read("PAR1xxxxxxxxPAR2").message(), "not a Parquet file: no PAR1 at its start and end");
  EXPECT_EQ(read(std::string("PAR1\xff\xff\xff\x0fPAR1", 12)).message(),
            "corrupt Parquet file: a footer of 268435455 bytes in 12");
}

// Rewrites the footer of `file` with `change` applied.
std::string WithFooter(const std::string& file, const std::function<void(FileMetaData*)>& change) {
  FileMetaData meta = Footer(file);
  change(&meta);
  uint32_t old_size;
  std::memcpy(&old_size, file.data() + file.size() - 8, 4);
  std::string out = file.substr(0, file.size() - 8 - old_size);
  const std::string footer = parquet::EncodeFileMetaData(meta);
  out += footer;
  const uint32_t size = static_cast<uint32_t>(footer.size());
  out.append(reinterpret_cast<const char*>(&size), 4);
  out += "PAR1";
  return out;
}

TEST(ParquetReaderTest, WhatItDoesNotReadIsNamed) {
  const std::string file = Encode({R"({"ts":1,"type":"message"})"});
  auto error = [&](const std::function<void(FileMetaData*)>& change) {
    return std::string(
        ReadParquetRecords(WithFooter(file, change), [](std::string_view) {}).message());
  };
  EXPECT_EQ(error([](FileMetaData*) {}), "");
  EXPECT_EQ(error([](FileMetaData* m) {
              for (auto& c : m->row_groups[0].columns) c.meta_data->codec = parquet::Codec::kSnappy;
            }),
            "column 'ts': compression codec SNAPPY is not supported (only ZSTD and UNCOMPRESSED)");
  EXPECT_EQ(
      error([](FileMetaData* m) { m->schema[2].repetition = parquet::Repetition::kRequired; }),
      "unsupported Parquet file: column 'type' is REQUIRED (only OPTIONAL columns are read)");
  EXPECT_EQ(error([](FileMetaData* m) { m->schema[1].type = parquet::PhysicalType::kInt96; }),
            "unsupported Parquet file: column 'ts' is of physical type INT96 (only BOOLEAN, INT64, "
            "DOUBLE and BYTE_ARRAY are read)");
  EXPECT_EQ(error([](FileMetaData* m) { m->schema[1].logical_type->unit = 2; }),
            "unsupported Parquet file: column 'ts' is an INT64 of a logical type other than "
            "TIMESTAMP(MILLIS)");
  EXPECT_EQ(error([](FileMetaData* m) { m->schema[0].num_children = 3; }),
            "unsupported Parquet file: its schema is not a flat list of columns");
  EXPECT_EQ(error([](FileMetaData* m) { m->num_rows = 2; }),
            "corrupt Parquet file: its row groups hold 1 rows, its footer says 2");
  EXPECT_EQ(error([](FileMetaData* m) { m->row_groups[0].columns[0].meta_data->num_values = 5; }),
            "column 'ts': 5 values in a row group of 1 rows");
  EXPECT_EQ(error([](FileMetaData* m) {
              m->row_groups[0].columns[0].meta_data->total_compressed_size = 1 << 30;
            }),
            "column 'ts': its pages (1073741824 bytes at 4) lie outside the column data");
}

}  // namespace
}  // namespace vigil
