#include "runtime/line_positions.h"

#include <gtest/gtest.h>

#include "base/hash.h"
#include "base/strings.h"

namespace vigil {
namespace {

// Records numbered from `first` with texts "r<line>".
std::vector<Record> Batch(uint64_t first, uint64_t count, std::vector<std::string>* texts) {
  std::vector<Record> batch;
  texts->clear();
  texts->reserve(count);
  for (uint64_t i = 0; i < count; ++i) texts->push_back(StrCat("r", first + i));
  for (uint64_t i = 0; i < count; ++i) {
    Record r;
    r.data = (*texts)[i];
    r.line = first + i;
    batch.push_back(r);
  }
  return batch;
}

TEST(LinePositionsTest, SavesTheLastRecordHandedOutAndItsHash) {
  LinePositions lines;
  EXPECT_EQ(lines.Save(0), "lines 0 0 0\n");
  std::vector<std::string> texts;
  lines.Note(Batch(1, 5, &texts));
  EXPECT_EQ(lines.Save(2), StrCat("lines 2 5 ", HashBytes("r5"), "\n"));
  lines.Note({});  // an empty batch moves nothing
  EXPECT_EQ(lines.Save(2), StrCat("lines 2 5 ", HashBytes("r5"), "\n"));
  lines.StartFile();
  EXPECT_EQ(lines.Save(3), "lines 3 0 0\n");
}

TEST(LinePositionsTest, ARestartReadsPastTheRestoredRecordsAndChecksTheLastOne) {
  std::vector<std::string> texts;
  LinePositions before;
  before.Note(Batch(1, 7, &texts));
  const std::string saved = before.Save(1);

  LinePositions after;
  uint64_t file = 99;
  ASSERT_TRUE(after.Restore(saved, &file).ok());
  EXPECT_EQ(file, 1u);
  EXPECT_TRUE(after.skipping());
  EXPECT_EQ(after.skip_to_line(), 7u);
  // A checkpoint taken before the input reaches line 7 keeps it.
  EXPECT_EQ(after.Save(1), saved);

  std::vector<Record> first = Batch(1, 4, &texts);  // lines 1..4: all read past
  ASSERT_TRUE(after.Skip("file:x", &first).ok());
  EXPECT_TRUE(first.empty());
  EXPECT_TRUE(after.skipping());
  std::vector<std::string> texts2;
  std::vector<Record> second = Batch(5, 6, &texts2);  // lines 5..10: 8..10 are new
  ASSERT_TRUE(after.Skip("file:x", &second).ok());
  ASSERT_EQ(second.size(), 3u);
  EXPECT_EQ(second[0].line, 8u);
  EXPECT_FALSE(after.skipping());
}

TEST(LinePositionsTest, AnotherInputIsRefused) {
  std::vector<std::string> texts;
  LinePositions before;
  before.Note(Batch(1, 3, &texts));
  LinePositions after;
  uint64_t file = 0;
  ASSERT_TRUE(after.Restore(before.Save(0), &file).ok());
  std::vector<Record> other = Batch(1, 5, &texts);
  texts[2] = "changed";  // line 3 differs
  other[2].data = texts[2];
  const absl::Status s = after.Skip("stdin", &other);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(s.message()).find("stdin: line 3 is not the record"), std::string::npos)
      << s;
}

TEST(LinePositionsTest, MalformedPositionsAreDataLoss) {
  LinePositions lines;
  uint64_t file = 0;
  for (const char* bad : {"", "lines 1 2", "lines a 2 3\n", "offsets 1 2 3\n", "lines 1 2 3 4\n"}) {
    EXPECT_EQ(lines.Restore(bad, &file).code(), absl::StatusCode::kDataLoss) << bad;
  }
  EXPECT_FALSE(lines.skipping());
}

}  // namespace
}  // namespace vigil
