#include "operators/notify_spool.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/operators/notify_test_util.h"

namespace vigil {
namespace {

using testing_util::TempDir;

std::unique_ptr<NotifySpool> Open(const std::string& path, size_t max_bytes = 1 << 20,
                                  int keep_per_key = 1) {
  absl::StatusOr<std::unique_ptr<NotifySpool>> s =
      NotifySpool::Open({.path = path, .max_bytes = max_bytes, .keep_per_key = keep_per_key});
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? std::move(*s) : nullptr;
}

std::vector<std::string> Data(const NotifySpool& s) {
  std::vector<std::string> out;
  for (const auto& [id, e] : s.entries()) out.push_back(e.data);
  return out;
}

using Strings = std::vector<std::string>;

TEST(NotifySpoolTest, Crc32cMatchesTheStandardCheckValue) {
  EXPECT_EQ(Crc32c("123456789"), 0xe3069283u);  // RFC 3720 B.4
}

TEST(NotifySpoolTest, AppendRemoveKeepFifoOrder) {
  TempDir dir;
  auto s = Open(dir.file("t.spool"));
  ASSERT_TRUE(s->Append({{"a", "1"}, {"b", "2"}}).status.ok());
  ASSERT_TRUE(s->Append({{"c", "3"}}).status.ok());
  EXPECT_EQ(Data(*s), (Strings{"1", "2", "3"}));
  const uint64_t first = s->entries().begin()->first;
  ASSERT_TRUE(s->Remove(first + 1).ok());
  EXPECT_EQ(Data(*s), (Strings{"1", "3"}));
  ASSERT_TRUE(s->Remove(12345).ok());  // unknown: ignored
  EXPECT_EQ(s->size(), 2u);
}

TEST(NotifySpoolTest, ARestartReloadsWhatWasLeftInOrderWithTheSameIds) {
  TempDir dir;
  const std::string path = dir.file("t.spool");
  std::vector<uint64_t> ids;
  {
    auto s = Open(path);
    s->Append({{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}});
    EXPECT_TRUE(s->Remove(s->entries().begin()->first).ok());
    for (const auto& [id, e] : s->entries()) ids.push_back(id);
  }
  auto s = Open(path);
  EXPECT_EQ(Data(*s), (Strings{"2", "3", "4"}));
  std::vector<uint64_t> reloaded;
  for (const auto& [id, e] : s->entries()) reloaded.push_back(id);
  EXPECT_EQ(reloaded, ids);
  EXPECT_EQ(s->torn_bytes(), 0u);
  // New ids continue after the old ones.
  s->Append({{"e", "5"}});
  EXPECT_GT(s->entries().rbegin()->first, ids.back());
  EXPECT_EQ(s->entries().at(ids[0]).key, "b");
}

TEST(NotifySpoolTest, ATornTailRecordIsDetectedAndSkipped) {
  TempDir dir;
  const std::string path = dir.file("t.spool");
  {
    auto s = Open(path);
    s->Append({{"a", "first"}, {"b", "second"}});
  }
  const auto full = std::filesystem::file_size(path);
  {
    auto s = Open(path);
    s->Append({{"c", std::string(100, 'x')}});
  }
  // A crash mid-write: only part of the third record reached the disk.
  std::filesystem::resize_file(path, full + 30);
  {
    auto s = Open(path);
    EXPECT_EQ(Data(*s), (Strings{"first", "second"}));
    EXPECT_EQ(s->torn_bytes(), 30u);
    s->Append({{"d", "fourth"}});
  }
  auto s = Open(path);
  EXPECT_EQ(Data(*s), (Strings{"first", "second", "fourth"}));
  EXPECT_EQ(s->torn_bytes(), 0u);
}

TEST(NotifySpoolTest, ACorruptedRecordFailsItsChecksum) {
  TempDir dir;
  const std::string path = dir.file("t.spool");
  {
    auto s = Open(path);
    s->Append({{"a", "first"}, {"b", "second"}});
  }
  {
    // Flip one byte in the payload of the last record.
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-2, std::ios::end);
    f.put('?');
  }
  auto s = Open(path);
  EXPECT_EQ(Data(*s), (Strings{"first"}));
  EXPECT_GT(s->torn_bytes(), 0u);
}

TEST(NotifySpoolTest, RefusesAFileThatIsNotASpool) {
  TempDir dir;
  const std::string path = dir.file("t.spool");
  std::ofstream(path) << "hello, I am a config file\n";
  absl::StatusOr<std::unique_ptr<NotifySpool>> s = NotifySpool::Open({.path = path});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("not a vigil spool file"), std::string::npos);
}

TEST(NotifySpoolTest, CompactionKeepsTheFileNearTheLiveSize) {
  TempDir dir;
  const std::string path = dir.file("t.spool");
  auto s = Open(path, 64 << 20);
  const std::string payload(200, 'p');
  for (int i = 0; i < 200; ++i) {
    s->Append({{std::to_string(i), payload}});
    if (i >= 10) {  // keep about 10 live
      EXPECT_TRUE(s->Remove(s->entries().begin()->first).ok());
    }
  }
  EXPECT_EQ(s->size(), 10u);
  EXPECT_LT(std::filesystem::file_size(path), 2 * s->live_bytes() + 8192);
  EXPECT_EQ(std::filesystem::file_size(path), s->file_bytes());
  const std::vector<std::string> live = Data(*s);
  s.reset();
  auto again = Open(path);
  EXPECT_EQ(Data(*again), live);
  // Emptied: the log starts over.
  while (!again->empty()) EXPECT_TRUE(again->Remove(again->entries().begin()->first).ok());
  EXPECT_EQ(std::filesystem::file_size(path), 8u);
}

TEST(NotifySpoolTest, AFileHasOneOwnerAtATime) {
  TempDir dir;
  const std::string path = dir.file("t.spool");
  auto s = Open(path);
  absl::StatusOr<std::unique_ptr<NotifySpool>> second = NotifySpool::Open({.path = path});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("in use"), std::string::npos);
  s.reset();
  EXPECT_TRUE(NotifySpool::Open({.path = path}).ok());
}

TEST(NotifySpoolTest, OverTheBoundTheLatestStatePerKeyIsKept) {
  TempDir dir;
  auto s = Open(dir.file("t.spool"), 4096, /*keep_per_key=*/1);
  const std::string payload(200, 'p');
  // 3 alerts flapping: 30 entries of ~120 bytes do not fit in 4 KiB.
  for (int i = 0; i < 30; ++i) {
    NotifySpool::AppendResult r =
        s->Append({{"fp" + std::to_string(i % 3), payload + std::to_string(i)}});
    EXPECT_EQ(r.dropped, 0u);
  }
  EXPECT_LE(s->live_bytes(), 4096u);
  // Every key keeps its newest state; nothing was dropped outright.
  std::map<std::string, std::string> latest;
  for (const auto& [id, e] : s->entries()) latest[e.key] = e.data;
  EXPECT_EQ(latest.size(), 3u);
  EXPECT_EQ(latest["fp0"], payload + "27");
  EXPECT_EQ(latest["fp1"], payload + "28");
  EXPECT_EQ(latest["fp2"], payload + "29");
}

TEST(NotifySpoolTest, PairsAreKeptForTriggerAndResolve) {
  auto s = Open("", 500, /*keep_per_key=*/2);  // in memory
  const std::string payload(100, 'p');
  size_t coalesced = 0;
  for (int i = 0; i < 8; ++i)
    coalesced += s->Append({{"fp", payload + std::to_string(i)}}).coalesced;
  EXPECT_EQ(Data(*s), (Strings{payload + "6", payload + "7"}));
  EXPECT_GT(coalesced, 0u);
}

TEST(NotifySpoolTest, AsALastResortTheOldestAreDroppedAndCounted) {
  TempDir dir;
  const std::string path = dir.file("t.spool");
  auto s = Open(path, 4096, 1);
  const std::string payload(100, 'p');
  size_t dropped = 0;
  for (int i = 0; i < 100; ++i) dropped += s->Append({{"fp" + std::to_string(i), payload}}).dropped;
  EXPECT_LE(s->live_bytes(), 4096u);
  EXPECT_EQ(dropped + s->size(), 100u);
  EXPECT_GT(dropped, 0u);
  EXPECT_EQ(s->entries().rbegin()->second.key, "fp99");  // the newest survive
  // The entry being delivered is never removed by the bound.
  const uint64_t head = s->entries().begin()->first;
  s->set_protected_upto(head);
  for (int i = 0; i < 100; ++i) s->Append({{"new" + std::to_string(i), payload}});
  EXPECT_EQ(s->entries().begin()->first, head);
  // The bound and its removals survive a restart.
  std::vector<std::string> keys;
  for (const auto& [id, e] : s->entries()) keys.push_back(e.key);
  s.reset();
  auto again = Open(path, 4096, 1);
  std::vector<std::string> reloaded;
  for (const auto& [id, e] : again->entries()) reloaded.push_back(e.key);
  EXPECT_EQ(reloaded, keys);
}

}  // namespace
}  // namespace vigil
