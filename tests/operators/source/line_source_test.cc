#include "operators/source/line_source.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <cstdio>
#include <fstream>

namespace vigil {
namespace {

std::string TempPath(const std::string& name) {
  return ::testing::TempDir() + "/vigil_line_source_" + name;
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream(path, std::ios::binary) << content;
}

std::vector<Record> ReadAll(RecordSource& src, std::vector<std::string>* copies, size_t batch) {
  std::vector<Record> all, b;
  while (src.Next(&b, batch)) {
    for (Record r : b) {
      copies->emplace_back(r.data);
      all.push_back(r);
    }
  }
  return all;
}

TEST(LineSourceTest, SplitsLinesSkipsBlanksAndKeepsPositions) {
  const std::string path = TempPath("plain.ndjson");
  WriteFile(path, "{\"a\":1}\n\n{\"b\":2}\r\n   \n{\"c\":3}");
  auto src = OpenFileSource(path, 1024);
  ASSERT_TRUE(src.ok());
  std::vector<std::string> lines;
  std::vector<Record> recs = ReadAll(**src, &lines, 2);
  ASSERT_EQ(lines, (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}", "{\"c\":3}"}));
  EXPECT_EQ(recs[0].line, 1u);
  EXPECT_EQ(recs[1].line, 3u);
  EXPECT_EQ(recs[2].line, 5u);
  EXPECT_EQ(recs[0].offset, 0u);
  EXPECT_EQ(recs[1].offset, 9u);
  EXPECT_EQ((*src)->name(), "file:" + path);
  EXPECT_TRUE((*src)->bounded());
}

TEST(LineSourceTest, OversizedLinesAreReportedNotBuffered) {
  const std::string path = TempPath("big.ndjson");
  // One line far larger than the limit (and than the read buffer), between
  // two good ones, and one oversized line at the very end without newline.
  std::string huge(9 << 20, 'x');
  WriteFile(path, "{\"a\":1}\n" + huge + "\n{\"b\":2}\n" + huge);
  auto src = OpenFileSource(path, 1000);
  ASSERT_TRUE(src.ok());
  std::vector<std::string> lines;
  std::vector<Record> recs = ReadAll(**src, &lines, 100);
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_FALSE(recs[0].oversized);
  EXPECT_TRUE(recs[1].oversized);
  EXPECT_EQ(recs[1].size, huge.size());
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_LE(lines[1].size(), 256u);
  EXPECT_EQ(lines[2], "{\"b\":2}");
  EXPECT_EQ(recs[2].line, 3u);
  EXPECT_TRUE(recs[3].oversized);
  EXPECT_EQ(recs[3].size, huge.size());
}

// The buffer starts small and grows for a line longer than it, up to
// twice the limit: a line of 13 MiB under a 16 MiB limit is read whole,
// between lines that are not, and one past the limit is still reported.
TEST(LineSourceTest, ALineLongerThanTheBufferIsReadWhole) {
  const std::string path = TempPath("long.ndjson");
  const std::string longer(13 << 20, 'y'), over((16 << 20) + 1, 'z');
  WriteFile(path, "{\"a\":1}\n" + longer + "\n{\"b\":2}\n" + over + "\n{\"c\":3}\n");
  auto src = OpenFileSource(path, 16 << 20);
  ASSERT_TRUE(src.ok());
  std::vector<std::string> lines;
  std::vector<Record> recs = ReadAll(**src, &lines, 100);
  ASSERT_EQ(recs.size(), 5u);
  EXPECT_FALSE(recs[1].oversized);
  EXPECT_EQ(lines[1], longer);
  EXPECT_EQ(lines[2], "{\"b\":2}");
  EXPECT_TRUE(recs[3].oversized);
  EXPECT_EQ(recs[3].size, over.size());
  EXPECT_EQ(lines[4], "{\"c\":3}");
  EXPECT_EQ(recs[4].line, 5u);
}

TEST(LineSourceTest, ReadsZstd) {
  const std::string path = TempPath("z.ndjson.zst");
  std::string plain;
  for (int i = 0; i < 50000; ++i) plain += "{\"i\":" + std::to_string(i) + "}\n";
  std::string z(ZSTD_compressBound(plain.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), plain.data(), plain.size(), 3));
  WriteFile(path, z);
  auto src = OpenFileSource(path, 1024);
  ASSERT_TRUE(src.ok());
  std::vector<std::string> lines;
  ReadAll(**src, &lines, 4096);
  ASSERT_EQ(lines.size(), 50000u);
  EXPECT_EQ(lines[12345], "{\"i\":12345}");
  EXPECT_TRUE((*src)->status().ok());
}

TEST(LineSourceTest, TruncatedZstdIsAnError) {
  const std::string path = TempPath("trunc.ndjson.zst");
  std::string plain(100000, 'a');
  std::string z(ZSTD_compressBound(plain.size()), '\0');
  z.resize(ZSTD_compress(z.data(), z.size(), plain.data(), plain.size(), 3));
  WriteFile(path, z.substr(0, z.size() / 2));
  auto src = OpenFileSource(path, 1 << 20);
  ASSERT_TRUE(src.ok());
  std::vector<std::string> lines;
  ReadAll(**src, &lines, 10);
  EXPECT_FALSE((*src)->status().ok());
}

TEST(LineSourceTest, MissingFileNamesThePath) {
  auto src = OpenFileSource("/nonexistent/x.ndjson", 10);
  ASSERT_FALSE(src.ok());
  EXPECT_NE(std::string(src.status().message()).find("/nonexistent/x.ndjson"), std::string::npos);
}

}  // namespace
}  // namespace vigil
