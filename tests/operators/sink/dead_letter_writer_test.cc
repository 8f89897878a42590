#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "operators/sink/output_sinks.h"

namespace vigil {
namespace {

std::string DeadLetterOf(const Record& record) {
  const std::string path =
      ::testing::TempDir() + "dead_letter_writer_test_" + std::to_string(record.size);
  {
    auto out = LineWriter::Open(path);
    EXPECT_TRUE(out.ok()) << out.status();
    DeadLetterWriter writer(std::move(*out));
    writer.Write(DeadReason::kOversized, "too long", "file", record);
    writer.Flush();
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::remove(path.c_str());
  return text.str();
}

// An oversized record keeps its first 256 bytes; "truncated" says that
// bytes were cut, so a record that is too long but fits in them whole is
// not marked.
TEST(DeadLetterWriterTest, TruncatedOnlyWhenBytesWereCut) {
  const std::string whole(108, 'a');
  Record fits;
  fits.data = whole;
  fits.size = whole.size();
  fits.oversized = true;
  const std::string kept(256, 'b');
  Record cut;
  cut.data = kept;
  cut.size = 5000;
  cut.oversized = true;
  const std::string a = DeadLetterOf(fits);
  const std::string b = DeadLetterOf(cut);
  EXPECT_NE(a.find("\"reason\":\"oversized\""), std::string::npos) << a;
  EXPECT_NE(a.find("\"size\":108"), std::string::npos) << a;
  EXPECT_EQ(a.find("truncated"), std::string::npos) << a;
  EXPECT_NE(b.find("\"size\":5000,\"truncated\":true,\"record\":\"" + kept + "\"}"),
            std::string::npos)
      << b;
}

}  // namespace
}  // namespace vigil
