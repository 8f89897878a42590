#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "operators/sink/output_sinks.h"

namespace vigil {
namespace {

std::string DeadLetterOf(const Record& record, bool lines = true, bool offsets = true) {
  const std::string path =
      ::testing::TempDir() + "dead_letter_writer_test_" + std::to_string(record.size);
  {
    auto out = LineWriter::Open(path);
    EXPECT_TRUE(out.ok()) << out.status();
    DeadLetterWriter writer(std::move(*out), lines, offsets);
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

// A cut that splits a character keeps the bytes before it: the record ends
// in whole characters, not in replacement characters. "é" is 2 bytes, "€"
// 3, "😀" 4; each cut one byte short of its end.
TEST(DeadLetterWriterTest, ACutKeepsWholeCharacters) {
  for (const std::string ch : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
    const std::string kept = std::string(250, 'a') + ch;
    Record cut;
    cut.data = std::string_view(kept).substr(0, kept.size() - 1);
    cut.size = 5000;
    cut.line = 7;
    cut.oversized = true;
    const std::string line = DeadLetterOf(cut);
    EXPECT_NE(line.find("\"truncated\":true,\"record\":\"" + std::string(250, 'a') + "\"}"),
              std::string::npos)
        << line;
  }
  Record whole;
  const std::string text = std::string(250, 'a') + "\xE2\x82\xAC";
  whole.data = text;
  whole.size = 5000;
  EXPECT_NE(DeadLetterOf(whole).find("\"record\":\"" + text + "\"}"), std::string::npos);
}

// A Kafka message has no line: its dead letter gives the partition (the
// source) and the offset only.
TEST(DeadLetterWriterTest, NoLineWithoutLines) {
  Record r;
  r.data = "x";
  r.size = 1;
  r.line = 41;
  r.offset = 41;
  EXPECT_NE(DeadLetterOf(r).find("\"input\":0,\"line\":41,\"offset\":41,"), std::string::npos);
  EXPECT_NE(DeadLetterOf(r, /*lines=*/false).find("\"input\":0,\"offset\":41,"), std::string::npos);
  // A Kinesis record: its shard and number, no offset.
  EXPECT_NE(DeadLetterOf(r, /*lines=*/true, /*offsets=*/false)
                .find("\"input\":0,\"line\":41,\"size\":1,"),
            std::string::npos);
}

}  // namespace
}  // namespace vigil
