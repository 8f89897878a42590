#include "base/files.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace vigil {
namespace {

TEST(FilesTest, ReadsEveryByteOrSaysItCannot) {
  const std::string path = ::testing::TempDir() + "/vigil_files_" + std::to_string(::getpid());
  const std::string bytes("a: 1\n\0b\r\n\xff", 10);
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_EQ(ReadWholeFile(path), bytes);
  { std::ofstream truncate(path, std::ios::trunc); }
  EXPECT_EQ(ReadWholeFile(path), "");
  EXPECT_EQ(ReadWholeFile(path + ".missing"), std::nullopt);
  EXPECT_EQ(ReadWholeFile(::testing::TempDir()), std::nullopt);  // a directory
  ::unlink(path.c_str());
}

}  // namespace
}  // namespace vigil
