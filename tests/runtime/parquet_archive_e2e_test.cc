// The Parquet archive end to end: `vigil run --archive DIR --archive-format
// parquet` over a million generated events with 0.2% bad lines, read by
// DuckDB (which shares no code with vigil) against the zstd NDJSON archive
// of the same run's input, and replayed by vigil.
#include <simdjson.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "operators/archive/archive_manifest.h"
#include "tests/operators/archive/duckdb.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

std::string Path(const std::string& name) {
  return TempPath(std::string("parquet_") +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                  name);
}

std::vector<std::string> Query(const std::string& sql) {
  absl::StatusOr<std::vector<std::string>> rows = DuckDbQuery(sql);
  EXPECT_TRUE(rows.ok()) << rows.status() << "\n" << sql;
  return rows.ok() ? *rows : std::vector<std::string>{};
}

// The columns the test compares, as DuckDB prints them (see duckdb.h).
constexpr const char* kColumns[] = {
    "type",       "session_id", "user_id",   "turn_id",       "intent",
    "latency_ms", "cache_hit",  "llm_calls", "error_service", "guardrail_triggered",
    "variant",    "topic",      "rating",    "comment",       "asin",
    "price",      "reason"};

// One NDJSON record as DuckDB prints the row `epoch_ms(ts), kColumns...`:
// integers as strings, doubles and booleans as JSON values, absent as null.
std::string AsDuckDbRow(const std::string& record) {
  simdjson::dom::parser parser;
  simdjson::dom::object o = parser.parse(record).get_object().value();
  std::string out = "[";
  const TimeMs ts = *ParseRfc3339(std::string(o["ts"].get_string().value()));
  out += "\"" + std::to_string(ts) + "\"";
  for (const char* c : kColumns) {
    out += ",";
    simdjson::dom::element v;
    if (o[c].get(v) != simdjson::SUCCESS || v.is_null()) {
      out += "null";
    } else if (v.is_string()) {
      out += simdjson::to_string(v);
    } else if (v.is_bool()) {
      out += v.get_bool().value() ? "true" : "false";
    } else if (std::string(c) == "llm_calls" || std::string(c) == "rating") {
      out += "\"" + std::to_string(v.get_int64().value()) + "\"";
    } else {
      // A double, as JavaScript prints it: integral values as integers,
      // others in the shortest form that reads back.
      char buf[40];
      const double d = v.get_double().value();
      if (d == static_cast<double>(static_cast<int64_t>(d)) && std::abs(d) < 1e15) {
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(d));
      } else {
        for (int precision = 1; precision <= 17; ++precision) {
          std::snprintf(buf, sizeof buf, "%.*g", precision, d);
          if (std::strtod(buf, nullptr) == d) break;
        }
      }
      out += buf;
    }
  }
  return out + "]";
}

TEST(ParquetArchiveE2eTest, DuckDbReadsEveryAcceptedEventAsTheNdjsonArchiveHoldsIt) {
  if (!DuckDbInstalled()) GTEST_SKIP() << kDuckDbMissing;
  const std::string events = Path("events.ndjson"), input = Path("input.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --seed 11 --rate 100 --count 1000000 --incident " +
               "latency_spike@60m+10m --out " + events)
                .exit_code,
            0);
  // 0.2% bad lines among them, which the job dead-letters: never archived.
  std::vector<std::string> lines = Lines(ReadFile(events));
  ASSERT_EQ(lines.size(), 1000000u);
  {
    std::ofstream out(input);
    for (size_t i = 0; i < lines.size(); ++i) {
      out << lines[i] << "\n";
      if (i % 500 == 250) {
        out << (i % 1000 == 250 ? "{\"type\":\"message\",\"latency_ms\":" : "{\"latency_ms\":5}")
            << "\n";
      }
    }
  }
  const std::string ndjson = Path("ndjson"), parquet = Path("parquet");
  for (const auto& [dir, flags] :
       {std::pair{ndjson, std::string()},
        std::pair{parquet, std::string(" --archive-format parquet "
                                       "--archive-partitioning hive")}}) {
    Result run = Sh(kVigil + " run --input " + input + " --archive " + dir + flags +
                    " --dead-letter " + dir + ".dead --no-console --http off --no-progress 2>&1");
    ASSERT_EQ(run.exit_code, 0) << run.out;
    EXPECT_EQ(Lines(ReadFile(dir + ".dead")).size(), 2000u);
  }

  // The same batches in both archives: same records, same order.
  absl::StatusOr<ArchiveManifest> mn = ReadArchiveManifest(ndjson + "/events");
  absl::StatusOr<ArchiveManifest> mp = ReadArchiveManifest(parquet + "/events");
  ASSERT_TRUE(mn.ok() && mp.ok());
  const std::vector<ArchiveEntry> fn = mn->Files(), fp = mp->Files();
  ASSERT_EQ(fn.size(), fp.size());
  ASSERT_GT(fn.size(), 10u);
  for (size_t i = 0; i < fn.size(); ++i) {
    EXPECT_EQ(fn[i].records, fp[i].records) << fp[i].path;
    EXPECT_EQ(fp[i].path.substr(0, 3), "dt=");
    EXPECT_TRUE(fp[i].path.ends_with(".parquet")) << fp[i].path;
  }

  // Row counts and a quantile, DuckDB over each archive.
  const std::string all_parquet = "read_parquet('" + parquet + "/events/*/*/*.parquet')";
  const std::string all_ndjson =
      "read_json('" + ndjson +
      "/events/*/*/*/*/*.ndjson.zst', format = 'newline_delimited', compression = 'zstd', "
      "columns = {latency_ms: 'DOUBLE', type: 'VARCHAR'})";
  const std::string stats =
      "SELECT count(*), count(latency_ms), quantile_disc(latency_ms, 0.99) FROM ";
  const std::vector<std::string> from_parquet = Query(stats + all_parquet);
  ASSERT_EQ(from_parquet.size(), 1u);
  EXPECT_EQ(from_parquet, Query(stats + all_ndjson));
  EXPECT_EQ(from_parquet[0].substr(0, 12), "[\"1000000\",\"") << from_parquet[0];
  // Per file, exact counts.
  const std::vector<std::string> per_file =
      Query("SELECT count(*) FROM read_parquet('" + parquet +
            "/events/*/*/*.parquet', filename = true) GROUP BY filename ORDER BY filename");
  ASSERT_EQ(per_file.size(), fp.size());

  // 20 sampled rows, every column, against the NDJSON archive's records.
  std::mt19937 rng(7);
  std::string columns;
  for (const char* c : kColumns) columns += std::string(", ") + c;
  for (int sample = 0; sample < 20; ++sample) {
    const size_t file = rng() % fn.size();
    const size_t row = rng() % fn[file].records;
    const Result text = Sh("zstd -dcq " + ndjson + "/events/" + fn[file].path);
    const std::vector<std::string> records = Lines(text.out);
    ASSERT_EQ(records.size(), fn[file].records);
    const std::vector<std::string> got =
        Query("SELECT epoch_ms(ts)" + columns + ", extra FROM read_parquet('" + parquet +
              "/events/" + fp[file].path +
              "', file_row_number = true) WHERE file_row_number = " + std::to_string(row));
    ASSERT_EQ(got.size(), 1u);
    std::string expected = AsDuckDbRow(records[row]);
    expected.insert(expected.size() - 1, ",null");  // no member beyond the columns
    EXPECT_EQ(got[0], expected) << fp[file].path << " row " << row;
  }

  // vigil replays the Parquet archive as it replays its input.
  const std::string rp = Path("rp.ndjson"), ri = Path("ri.ndjson");
  Result a = Sh(kVigil + " replay --output json --no-progress --results " + rp + " " + parquet +
                " 2>/dev/null");
  Result b = Sh(kVigil + " replay --output json --no-progress --results " + ri + " " + input +
                " 2>/dev/null");
  ASSERT_EQ(a.exit_code, 0);
  EXPECT_EQ(a.out, b.out);
  EXPECT_TRUE(ReadFile(rp) == ReadFile(ri)) << "the window results differ";
}

}  // namespace
}  // namespace vigil
