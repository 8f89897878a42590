// LineWriter: a file resumed from a checkpoint is cut back to the size the
// checkpoint kept; a device such as /dev/null is written on as it is.
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "gtest/gtest.h"
#include "operators/sink/output_sinks.h"

namespace vigil {
namespace {

std::string Contents(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(LineWriterTest, AResumedFileIsCutBackToTheCheckpointedSize) {
  const std::string path = ::testing::TempDir() + "/line_writer_" + std::to_string(::getpid());
  std::ofstream(path) << "one\ntwo\nthree after the checkpoint\n";
  {
    auto out = LineWriter::Open(path, 8);
    ASSERT_TRUE(out.ok()) << out.status();
    (*out)->Write("three");
  }
  EXPECT_EQ(Contents(path), "one\ntwo\nthree\n");
  ::unlink(path.c_str());
}

// A file shorter than the checkpoint saved (rotated, moved away, removed)
// is written on from its end, never padded out with zeros.
TEST(LineWriterTest, AShorterFileIsWrittenOnNotPadded) {
  const std::string path =
      ::testing::TempDir() + "/line_writer_short_" + std::to_string(::getpid());
  for (const char* before : {"", "new\n"}) {
    ::unlink(path.c_str());
    if (*before != '\0') std::ofstream(path) << before;
    {
      auto out = LineWriter::Open(path, 4096);
      ASSERT_TRUE(out.ok()) << out.status();
      (*out)->Write("after");
    }
    EXPECT_EQ(Contents(path), std::string(before) + "after\n");
  }
  ::unlink(path.c_str());
}

TEST(LineWriterTest, ADeviceIsResumedWithoutCutting) {
  auto out = LineWriter::Open("/dev/null", 12345);
  ASSERT_TRUE(out.ok()) << out.status();
  (*out)->Write("x");
  (*out)->Flush();
}

}  // namespace
}  // namespace vigil
