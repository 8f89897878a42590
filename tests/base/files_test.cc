#include "base/files.h"

#include <unistd.h>

#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace vigil {
namespace {

TEST(FilesTest, ReadsEveryByteOrSaysWhyNot) {
  const std::string path = ::testing::TempDir() + "/vigil_files_" + std::to_string(::getpid());
  const std::string bytes("a: 1\n\0b\r\n\xff", 10);
  std::ofstream(path, std::ios::binary) << bytes;
  EXPECT_EQ(ReadWholeFile(path).value(), bytes);
  { std::ofstream truncate(path, std::ios::trunc); }
  EXPECT_EQ(ReadWholeFile(path).value(), "");
  EXPECT_EQ(ReadWholeFile(path + ".missing").status().message(), "No such file or directory");
  EXPECT_EQ(ReadWholeFile(::testing::TempDir()).status().message(), "it is a directory");
  ::unlink(path.c_str());
}

TEST(FilesTest, StopsPastTheLimit) {
  const std::string path = ::testing::TempDir() + "/vigil_files_big_" + std::to_string(::getpid());
  std::ofstream(path, std::ios::binary) << std::string(2048, 'x');
  EXPECT_EQ(ReadWholeFile(path, 2048).value().size(), 2048u);
  EXPECT_EQ(ReadWholeFile(path, 2047).status().message(), "it is larger than 2047 bytes");
  EXPECT_EQ(ReadWholeFile(path, 1024).status().message(), "it is larger than 1 KiB");
  ::unlink(path.c_str());
  // A device without an end: the read stops at the limit.
  EXPECT_EQ(ReadWholeFile("/dev/zero").status().message(), "it is larger than 16 MiB");
}

}  // namespace
}  // namespace vigil
