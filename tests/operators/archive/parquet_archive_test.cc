// The archive writer with format parquet: a Parquet file per batch, listed
// in the manifest like zstd NDJSON batches, read back as the same events.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "operators/archive/archive_store.h"
#include "operators/archive/archive_writer.h"
#include "tests/operators/archive/canonical_json.h"
#include "tests/operators/archive/duckdb.h"
#include "tests/operators/notify/notify_test_util.h"

namespace vigil {
namespace {

using testing_util::TempDir;
using Strings = std::vector<std::string>;

TimeMs T(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

Strings Canonical(const Strings& records) {
  Strings out;
  for (const std::string& r : records) out.push_back(CanonicalJson(r));
  return out;
}

class ParquetArchiveTest : public ::testing::Test {
 protected:
  std::unique_ptr<ArchiveWriter> Open(ArchivePartitioning partitioning) {
    ArchiveOptions o;
    o.location = dir_.path();
    o.format = ArchiveFormat::kParquet;
    o.partitioning = partitioning;
    o.clock = [] { return TimeMs{0}; };
    absl::StatusOr<std::unique_ptr<ArchiveWriter>> w = ArchiveWriter::Open(std::move(o));
    EXPECT_TRUE(w.ok()) << w.status();
    return w.ok() ? std::move(*w) : nullptr;
  }
  std::string Root() const { return dir_.path() + "/events"; }

  TempDir dir_;
};

TEST_F(ParquetArchiveTest, EachBatchIsAParquetFileThatReadsBackAsItsRecords) {
  auto w = Open(ArchivePartitioning::kHourly);
  const Strings hour0 = {
      R"({"ts":"2026-01-01T00:10:00Z","type":"message","session_id":"s1","latency_ms":812.5,"cache_hit":true})",
      R"({"ts":"2026-01-01T00:20:00.250Z","type":"feedback","rating":-1,"comment":"naïve \"quote\"","meta":{"k":[1,2]}})",
  };
  const Strings hour1 = {
      R"({"ts":"2026-01-01T01:05:00Z","type":"escalation","reason":"wrong_answer"})"};
  w->Add(hour0[0], T("2026-01-01T00:10:00Z"));
  w->Add(hour1[0], T("2026-01-01T01:05:00Z"));
  w->Add(hour0[1], T("2026-01-01T00:20:00.250Z"));
  ASSERT_TRUE(w->Flush().ok());
  absl::StatusOr<ArchiveManifest> m = ReadArchiveManifest(Root());
  ASSERT_TRUE(m.ok());
  const std::vector<ArchiveEntry> files = m->Files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "2026/01/01/00/0000000001-20260101T001000.000Z.parquet");
  EXPECT_EQ(files[1].path, "2026/01/01/01/0000000002-20260101T010500.000Z.parquet");
  EXPECT_EQ(files[0].records, 2u);
  EXPECT_EQ(files[0].bytes, hour0[0].size() + hour0[1].size() + 2);
  const std::string path = Root() + "/" + files[0].path;
  EXPECT_EQ(files[0].size, std::filesystem::file_size(path));
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_EQ(ss.str().substr(0, 4), "PAR1");
  EXPECT_EQ(ss.str().substr(ss.str().size() - 4), "PAR1");

  // Read back: the same events (ts in UTC with milliseconds, members in
  // column order, then the rest).
  absl::StatusOr<std::string> text = ReadArchiveBatch(path);
  ASSERT_TRUE(text.ok()) << text.status();
  Strings got;
  for (std::string_view line : StrSplit(*text, '\n')) {
    if (!line.empty()) got.emplace_back(line);
  }
  EXPECT_EQ(
      Canonical(got),
      Canonical(
          {R"({"ts":"2026-01-01T00:10:00.000Z","type":"message","session_id":"s1","latency_ms":812.5,"cache_hit":true})",
           R"({"ts":"2026-01-01T00:20:00.250Z","type":"feedback","rating":-1,"comment":"naïve \"quote\"","meta":{"k":[1,2]}})"}));

  // DuckDB, apart from vigil's code, reads the same rows.
  if (!DuckDbInstalled()) GTEST_SKIP() << kDuckDbMissing;
  absl::StatusOr<std::vector<std::string>> rows = DuckDbQuery(
      "SELECT epoch_ms(ts), type, session_id, latency_ms, cache_hit, rating, comment, "
      "extra FROM read_parquet('" +
      path + "')");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(
      *rows,
      (std::vector<std::string>{
          R"(["1767226200000","message","s1",812.5,true,null,null,null])",
          R"(["1767226800250","feedback",null,null,null,"-1","naïve \"quote\"","{\"meta\":{\"k\":[1,2]}}"])"}));
}

TEST_F(ParquetArchiveTest, HivePartitionsArePrunedByDuckDb) {
  auto w = Open(ArchivePartitioning::kHive);
  for (int h = 0; h < 3; ++h) {
    for (int i = 0; i < 10; ++i) {
      const TimeMs t = T("2026-03-09T22:00:00Z") + h * 3600000LL + i * 1000;
      w->Add(StrCat(R"({"ts":)", t, R"(,"type":"message","latency_ms":)", h * 100 + i, "}"), t);
    }
  }
  ASSERT_TRUE(w->Flush().ok());
  EXPECT_TRUE(std::filesystem::exists(Root() + "/dt=2026-03-10/hour=00"));
  if (!DuckDbInstalled()) GTEST_SKIP() << kDuckDbMissing;
  absl::StatusOr<std::vector<std::string>> rows = DuckDbQuery(
      "SELECT dt, hour, count(*), max(latency_ms) FROM read_parquet('" + Root() +
      "/*/*/*.parquet', hive_partitioning = true) WHERE dt = '2026-03-10' GROUP BY dt, hour");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(*rows, (std::vector<std::string>{R"(["2026-03-10","00","10",209])"}));
}

}  // namespace
}  // namespace vigil
