// DuckDB reads the files EncodeParquetBatch writes: the values, the
// metadata it would prune with, and a query over several files.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "base/strings.h"
#include "operators/archive/parquet_writer.h"
#include "tests/operators/archive/duckdb.h"

namespace vigil {
namespace {

class ParquetDuckDbTest : public testing::Test {
 protected:
  void SetUp() override {
    if (!DuckDbInstalled()) GTEST_SKIP() << kDuckDbMissing;
    std::string dir = (std::filesystem::temp_directory_path() / "vigil-parquet-XXXXXX").string();
    ASSERT_NE(::mkdtemp(dir.data()), nullptr);
    dir_ = dir;
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Writes `records` as `name`.parquet and returns its path.
  std::string Write(const std::string& name, const std::vector<std::string>& records,
                    const ParquetBatchOptions& options = {}) {
    const std::vector<std::string_view> views(records.begin(), records.end());
    absl::StatusOr<std::string> file = EncodeParquetBatch(views, options);
    EXPECT_TRUE(file.ok()) << file.status();
    const std::string path = dir_ + "/" + name + ".parquet";
    std::ofstream(path, std::ios::binary) << (file.ok() ? *file : "");
    return path;
  }

  std::vector<std::string> Query(const std::string& sql) {
    absl::StatusOr<std::vector<std::string>> rows = DuckDbQuery(sql);
    EXPECT_TRUE(rows.ok()) << rows.status();
    return rows.ok() ? *rows : std::vector<std::string>{"<error>"};
  }

  std::string dir_;
};

constexpr std::string_view kPiece = R"(ab é 長い 🎉 "q" )";  // 14 code points

TEST_F(ParquetDuckDbTest, ReadsTheExactValues) {
  std::string big;
  for (int i = 0; i < 5000; ++i) big += kPiece;  // 110 kB
  std::string feedback = R"({"ts":1767225600000,"type":"feedback","rating":-1,"comment":)";
  AppendJsonString(big, &feedback);
  feedback += R"(,"x":{"nested":[1,"two"]}})";
  const std::string path = Write(
      "exact",
      {R"({"ts":"2026-03-01T12:00:00.250Z","type":"message","session_id":"s1","user_id":"u1",)"
       R"("turn_id":"t1","intent":"réponse 日本語 🎉","latency_ms":0.1,"cache_hit":true,)"
       R"("guardrail_triggered":false,"llm_timeout":false,"llm_calls":3,"error_service":null,)"
       R"("variant":"b","topic":"shoes"})",
       feedback,
       R"({"ts":"2026-01-01T10:00:00+02:00","type":"add_to_cart","asin":"B0\"quoted\"",)"
       R"("price":1e300,"latency_ms":"slow"})",
       R"({"type":"circuit_breaker","service":"bedrock","state":"open","ts":"not a time"})"});
  const std::vector<std::string> rows = Query(StrCat(
      "SELECT file_row_number, epoch_ms(ts), ts, type, intent, latency_ms, latency_ms = 0.1, ",
      "cache_hit, guardrail_triggered, llm_calls, error_service, rating, length(comment), ",
      "comment = repeat('", kPiece, "', 5000), asin, price, service, state, extra ",
      "FROM read_parquet('", path, "', file_row_number = true) ORDER BY file_row_number"));
  const std::vector<std::string> want = {
      R"(["0","1772366400250","2026-03-01 12:00:00.25+00","message","réponse 日本語 🎉",0.1,true,)"
      R"(true,false,"3",null,null,null,null,null,null,null,null,null])",
      R"(["1","1767225600000","2026-01-01 00:00:00+00","feedback",null,null,null,null,null,null,)"
      R"(null,"-1","70000",true,null,null,null,null,"{\"x\":{\"nested\":[1,\"two\"]}}"])",
      R"(["2","1767254400000","2026-01-01 08:00:00+00","add_to_cart",null,null,null,null,null,)"
      R"(null,null,null,null,null,"B0\"quoted\"",1e+300,null,null,"{\"latency_ms\":\"slow\"}"])",
      R"(["3",null,null,"circuit_breaker",null,null,null,null,null,null,null,null,null,null,null,)"
      R"(null,"bedrock","open","{\"ts\":\"not a time\"}"])",
  };
  EXPECT_EQ(rows, want);
  EXPECT_EQ(Query(StrCat("SELECT count(*), count(ts), count(extra) FROM '", path, "'")),
            std::vector<std::string>{R"(["4","3","3"])"});
}

TEST_F(ParquetDuckDbTest, MetadataShowsZstdDictionariesAndStatistics) {
  std::vector<std::string> records;
  const char* intents[] = {"faq", "order_tracking", "product_question"};
  for (int i = 0; i < 500; ++i) {
    std::string r = StrCat(R"({"ts":)", 1767225600000 + i * 1000, R"(,"type":"message","intent":")",
                           intents[i % 3], R"(","latency_ms":)", 1 + i * 0.5, R"(,"llm_calls":)",
                           i - 100, R"(,"cache_hit":)", i % 2 == 0 ? "true" : "false");
    if (i % 10 == 0) StrAppend(&r, R"(,"comment":"c)", i, R"(")");
    records.push_back(r + "}");
  }
  const std::string path = Write("meta", records);
  EXPECT_EQ(
      Query(StrCat("SELECT path_in_schema, type, compression, encodings, ",
                   "dictionary_page_offset IS NOT NULL, stats_min_value, stats_max_value, ",
                   "stats_null_count, num_values FROM parquet_metadata('", path,
                   "') WHERE path_in_schema IN ('ts', 'intent', 'latency_ms', 'llm_calls', ",
                   "'cache_hit', 'comment', 'asin') ORDER BY column_id")),
      (std::vector<std::string>{
          R"(["ts","INT64","ZSTD","PLAIN, RLE",false,"2026-01-01 00:00:00+00",)"
          R"("2026-01-01 00:08:19+00","0","500"])",
          R"(["intent","BYTE_ARRAY","ZSTD","PLAIN, RLE, RLE_DICTIONARY",true,"faq",)"
          R"("product_question","0","500"])",
          R"(["latency_ms","DOUBLE","ZSTD","PLAIN, RLE",false,"1.0","250.5","0","500"])",
          R"(["cache_hit","BOOLEAN","ZSTD","PLAIN, RLE",false,"false","true","0","500"])",
          R"(["llm_calls","INT64","ZSTD","PLAIN, RLE",false,"-100","399","0","500"])",
          R"(["comment","BYTE_ARRAY","ZSTD","PLAIN, RLE, RLE_DICTIONARY",true,"c0","c90","450",)"
          R"("500"])",
          R"(["asin","BYTE_ARRAY","ZSTD","PLAIN, RLE",false,null,null,"500","500"])",
      }));
  EXPECT_EQ(
      Query(StrCat("SELECT name, type, repetition_type, converted_type, logical_type ",
                   "FROM parquet_schema('", path, "') WHERE name IN ('ts', 'intent', ",
                   "'llm_calls', 'extra') ORDER BY name")),
      (std::vector<std::string>{
          R"x(["extra","BYTE_ARRAY","OPTIONAL","UTF8","StringType()"])x",
          R"x(["intent","BYTE_ARRAY","OPTIONAL","UTF8","StringType()"])x",
          R"(["llm_calls","INT64","OPTIONAL",null,null])",
          R"x(["ts","INT64","OPTIONAL","TIMESTAMP_MILLIS","TimestampType(isAdjustedToUTC=1, )x"
          R"x(unit=TimeUnit(MILLIS=MilliSeconds(), MICROS=<null>, NANOS=<null>))"])x",
      }));
  EXPECT_EQ(Query(StrCat("SELECT created_by, num_rows, num_row_groups FROM ",
                         "parquet_file_metadata('", path, "')")),
            std::vector<std::string>{R"(["vigil","500","1"])"});
  // DuckDB prunes with the statistics: with every page overwritten, a
  // filter they rule out still answers (the row group is never read), one
  // they do not rule out fails.
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  uint32_t footer;
  std::memcpy(&footer, bytes.data() + bytes.size() - 8, 4);
  std::fill(bytes.begin() + 4, bytes.end() - 8 - footer, '\xff');
  const std::string broken = dir_ + "/broken.parquet";
  std::ofstream(broken, std::ios::binary) << bytes;
  for (const char* filter : {"ts > TIMESTAMPTZ '2026-01-01 00:08:19+00'", "llm_calls < -100",
                             "intent > 'zzz'", "latency_ms > 250.5"}) {
    EXPECT_EQ(Query(StrCat("SELECT count(*) FROM '", broken, "' WHERE ", filter)),
              std::vector<std::string>{R"(["0"])"})
        << filter;
  }
  EXPECT_FALSE(
      DuckDbQuery(StrCat("SELECT count(*) FROM '", broken, "' WHERE llm_calls < -99")).ok());
}

TEST_F(ParquetDuckDbTest, AQuantileOverSeveralFilesMatchesTheRecords) {
  std::vector<double> latencies;
  std::vector<std::string> paths;
  size_t rows = 0;
  uint64_t state = 12345;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return state >> 33;
  };
  for (int f = 0; f < 3; ++f) {
    std::vector<std::string> records;
    for (int i = 0; i < 1234 + f * 111; ++i) {
      std::string r =
          StrCat(R"({"ts":)", 1767225600000 + (f * 10000 + i) * 250, R"(,"type":"message")");
      const uint64_t kind = next() % 20;
      if (kind == 0) {
        r += R"(,"latency_ms":"timeout")";  // into extra: NULL for DuckDB
      } else if (kind == 1) {
        r += R"(,"latency_ms":null)";
      } else if (kind != 2) {  // 2: no latency at all
        const double latency = static_cast<double>(next() % 5'000'000) / 1000;
        latencies.push_back(latency);
        StrAppend(&r, R"(,"latency_ms":)", latency);
      }
      records.push_back(r + "}");
    }
    rows += records.size();
    paths.push_back("'" + Write(StrCat("part-", f), records) + "'");
  }
  std::sort(latencies.begin(), latencies.end());
  // quantile_disc(x, 0.99): the smallest value whose share of values at or
  // below it reaches 0.99, index ceil(0.99 n) - 1.
  const size_t n = latencies.size();
  const size_t index = (n * 99 + 99) / 100 - 1;
  std::string p99;
  AppendJsonDouble(latencies[index], &p99);
  EXPECT_EQ(Query(StrCat("SELECT count(*), count(latency_ms), quantile_disc(latency_ms, 0.99), ",
                         "min(latency_ms), max(latency_ms) FROM read_parquet([",
                         StrJoin(paths, ", "), "])")),
            std::vector<std::string>{StrCat(R"([")", rows, R"(",")", n, R"(",)", p99, ",",
                                            latencies.front(), ",", latencies.back(), "]")});
}

TEST_F(ParquetDuckDbTest, ReadsSeveralRowGroups) {
  std::vector<std::string> records;
  int64_t calls = 0;
  for (int i = 0; i < 3000; ++i) {
    // About 1.5 MB of distinct comments, in three row groups.
    records.push_back(StrCat(R"({"llm_calls":)", i, R"(,"cache_hit":)",
                             i % 7 == 0 ? "true" : "false", R"(,"comment":")",
                             std::string(500, static_cast<char>('a' + i % 26)), i, R"("})"));
    calls += i;
  }
  const std::string path = Write("groups", records, {.row_group_rows = 1000});
  EXPECT_EQ(Query(StrCat("SELECT count(*), sum(llm_calls), count(*) FILTER (cache_hit), ",
                         "sum(length(comment)), min(comment), max(comment) FROM '", path, "'")),
            std::vector<std::string>{StrCat(R"([")", records.size(), R"(",")", calls,
                                            R"(","429","1510890",")", std::string(500, 'a'), "0",
                                            R"(",")", std::string(500, 'z'), "987", R"("])")});
  EXPECT_EQ(Query(StrCat("SELECT count(DISTINCT row_group_id), sum(num_values) FROM ",
                         "parquet_metadata('", path, "') WHERE path_in_schema = 'comment'")),
            std::vector<std::string>{R"(["3","3000"])"});
}

}  // namespace
}  // namespace vigil
