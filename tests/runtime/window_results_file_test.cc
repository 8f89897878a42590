// Reading window results files: every field of a line, labels in order, a
// null value, partial windows, zstd files, lines that are no window result,
// and telling a results file from an event file.
#include "runtime/window_results_file.h"

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const char kLines[] =
    "{\"metric\":\"latency_p95_ms\",\"start\":\"2026-03-01T00:00:00.000Z\","
    "\"end\":\"2026-03-01T00:05:00.000Z\",\"labels\":{\"intent\":\"billing\",\"model\":\"b\"},"
    "\"value\":812.5}\n"
    "\n"
    "{\"ts\":\"2026-03-01T00:00:00Z\",\"type\":\"message\"}\n"
    "{\"metric\":\"error_rate\",\"start\":\"2026-03-01T00:05:00.000Z\","
    "\"end\":\"2026-03-01T00:10:00.000Z\",\"labels\":{},\"value\":null,\"partial\":true}\n";

std::vector<StoredWindow> ReadAll(const std::string& path, uint64_t* bad) {
  std::vector<StoredWindow> out;
  absl::Status s = ReadWindowResults(
      path, [&](const StoredWindow& w) { out.push_back(w); }, bad);
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(WindowResultsFileTest, ReadsEveryFieldAndCountsOtherLines) {
  const std::string path = TempPath("window_results_", "r.ndjson");
  std::ofstream(path) << kLines;
  uint64_t bad = 0;
  std::vector<StoredWindow> w = ReadAll(path, &bad);
  EXPECT_EQ(bad, 1u);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].metric, "latency_p95_ms");
  EXPECT_EQ(w[0].start, 1772323200000);
  EXPECT_EQ(w[0].end, 1772323500000);
  using L = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(w[0].labels, (L{{"intent", "billing"}, {"model", "b"}}));
  EXPECT_EQ(w[0].value, 812.5);
  EXPECT_FALSE(w[0].partial);
  EXPECT_EQ(w[1].metric, "error_rate");
  EXPECT_TRUE(w[1].labels.empty());
  EXPECT_TRUE(std::isnan(w[1].value));
  EXPECT_TRUE(w[1].partial);
  EXPECT_EQ(*IsWindowResultsFile(path), true);
}

TEST(WindowResultsFileTest, ReadsZstdFiles) {
  const std::string plain = TempPath("window_results_", "z.ndjson");
  std::ofstream(plain) << kLines;
  ASSERT_EQ(Sh("zstd -q -f " + plain + " -o " + plain + ".zst").exit_code, 0);
  uint64_t bad = 0;
  std::vector<StoredWindow> w = ReadAll(plain + ".zst", &bad);
  EXPECT_EQ(bad, 1u);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w[0].value, 812.5);
}

TEST(WindowResultsFileTest, TellsEventFilesApart) {
  const std::string events = TempPath("window_results_", "events.ndjson");
  std::ofstream(events) << "{\"ts\":\"2026-03-01T00:00:00Z\",\"type\":\"message\","
                           "\"metric\":\"x\"}\n";
  EXPECT_EQ(*IsWindowResultsFile(events), false);
  EXPECT_FALSE(
      IsWindowResultLine("{\"metric\":\"x\",\"start\":\"yesterday\",\"end\":\"2026-03-01T"
                         "00:00:00Z\",\"value\":1}"));
  EXPECT_FALSE(
      IsWindowResultLine("{\"metric\":\"x\",\"start\":\"2026-03-01T00:00:00Z\",\"end\":"
                         "\"2026-03-01T00:01:00Z\",\"value\":\"high\"}"));
  EXPECT_TRUE(
      IsWindowResultLine("{\"metric\":\"x\",\"start\":\"2026-03-01T00:00:00Z\",\"end\":"
                         "\"2026-03-01T00:01:00Z\",\"value\":1}"));
  const std::string empty = TempPath("window_results_", "empty.ndjson");
  std::ofstream(empty) << "";
  EXPECT_EQ(*IsWindowResultsFile(empty), false);
  EXPECT_EQ(*HoldsNoRecord(empty), true);
  EXPECT_EQ(*HoldsNoRecord(events), false);
  EXPECT_FALSE(IsWindowResultsFile(TempPath("window_results_", "missing")).ok());
}

}  // namespace
}  // namespace vigil
