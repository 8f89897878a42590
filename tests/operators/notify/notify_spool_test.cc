#include "operators/notify/notify_spool.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/operators/notify/notify_test_util.h"

namespace vigil {
namespace {

using testing_util::TempDir;
using testing_util::TinyFs;

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

// A receiver down while alerts flap: nothing is delivered, so the bound's
// removals are what compacts the file, which stays near the live size.
TEST(NotifySpoolTest, DuringAnOutageTheFileStaysNearTheBound) {
  TempDir dir;
  const std::string path = dir.file("t.spool");
  auto s = Open(path, 4096, /*keep_per_key=*/2);
  const std::string payload(100, 'p');
  for (int i = 0; i < 3000; ++i) {
    s->Append({{"fp" + std::to_string(i % 3), payload + std::to_string(i)}});
  }
  EXPECT_LE(s->live_bytes(), 4096u);
  EXPECT_LE(std::filesystem::file_size(path), 2 * 4096u + 4096 + 512);
  EXPECT_EQ(std::filesystem::file_size(path), s->file_bytes());
  // The newest states, in order, as a restart finds them.
  const Strings live = Data(*s);
  ASSERT_GE(live.size(), 6u);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(live[live.size() - 6 + i], payload + std::to_string(2994 + i));
  s.reset();
  EXPECT_EQ(Data(*Open(path)), live);
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

std::vector<std::string> Keys(const std::vector<NotifySpool::Saved>& saved) {
  std::vector<std::string> out;
  for (const NotifySpool::Saved& s : saved) out.push_back(s.key);
  return out;
}

#define REQUIRE_TINY_FS(fs) \
  if (!(fs).ok()) GTEST_SKIP() << "mounting a tmpfs needs root"

TEST(NotifySpoolTest, AFullDiskKeepsTheEntriesInMemoryInOrderUntilItHasRoom) {
  TinyFs fs;
  REQUIRE_TINY_FS(fs);
  const std::string path = fs.file("t.spool");
  const std::string big(5000, 'x');  // more than a page: never fits in the file's last one
  auto s = Open(path);
  ASSERT_TRUE(s->Append({{"a", "1"}}).status.ok());
  EXPECT_TRUE(s->healthy());
  const size_t good = s->file_bytes();
  fs.Fill();

  NotifySpool::AppendResult r = s->Append({{"b", big + "b"}});
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message().find("No space left on device"), std::string::npos) << r.status;
  ASSERT_FALSE(s->Append({{"c", big + "c"}}).status.ok());
  EXPECT_EQ(Data(*s), (Strings{"1", big + "b", big + "c"}));
  EXPECT_FALSE(s->healthy());
  EXPECT_EQ(s->memory_entries(), 2u);
  EXPECT_EQ(s->write_failures(), 2u);
  EXPECT_NE(s->last_error().find("No space left on device"), std::string::npos);
  // The half-written record was cut off: the file ends at the last good one.
  EXPECT_EQ(s->file_bytes(), good);
  EXPECT_EQ(std::filesystem::file_size(path), good);
  EXPECT_EQ(Keys(s->MemoryOnly()), (Strings{"b", "c"}));
  EXPECT_FALSE(s->Retry().ok());
  EXPECT_EQ(s->write_failures(), 3u);

  fs.Free();
  EXPECT_TRUE(s->Retry().ok());
  EXPECT_TRUE(s->healthy());
  EXPECT_EQ(s->memory_entries(), 0u);
  EXPECT_TRUE(s->MemoryOnly().empty());
  std::vector<uint64_t> ids;
  for (const auto& [id, e] : s->entries()) ids.push_back(id);
  s.reset();
  auto again = Open(path);
  EXPECT_EQ(Data(*again), (Strings{"1", big + "b", big + "c"}));
  std::vector<uint64_t> reloaded;
  for (const auto& [id, e] : again->entries()) reloaded.push_back(id);
  EXPECT_EQ(reloaded, ids);
  EXPECT_EQ(again->torn_bytes(), 0u);
}

TEST(NotifySpoolTest, WhatACheckpointKeptIsRestoredAfterTheFileOnceOnly) {
  TinyFs fs;
  REQUIRE_TINY_FS(fs);
  const std::string path = fs.file("t.spool");
  const std::string big(5000, 'x');
  std::vector<NotifySpool::Saved> saved;
  {
    auto s = Open(path);
    ASSERT_TRUE(s->Append({{"a", "1"}}).status.ok());
    fs.Fill();
    ASSERT_FALSE(s->Append({{"b", big}, {"c", big}}).status.ok());
    saved = s->MemoryOnly();  // what a checkpoint keeps
  }  // the process dies: what was held in memory only is gone from the spool
  ASSERT_EQ(saved.size(), 2u);
  EXPECT_EQ(saved[0], (NotifySpool::Saved{2, "b", big}));
  EXPECT_EQ(saved[1], (NotifySpool::Saved{3, "c", big}));

  // Restarted on the disk that is still full.
  auto s = Open(path);
  EXPECT_EQ(Data(*s), (Strings{"1"}));
  EXPECT_TRUE(s->healthy());
  EXPECT_FALSE(s->Restore(saved).status.ok());
  EXPECT_EQ(Data(*s), (Strings{"1", big, big}));
  EXPECT_EQ(Keys(s->MemoryOnly()), (Strings{"b", "c"}));
  fs.Free();
  ASSERT_TRUE(s->Retry().ok());
  // They are on disk now with the same ids: the same checkpoint again adds nothing.
  NotifySpool::AppendResult r = s->Restore(saved);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(s->size(), 3u);
  s.reset();
  EXPECT_EQ(Data(*Open(path)), (Strings{"1", big, big}));
}

TEST(NotifySpoolTest, ASpoolOpensOnAFullDisk) {
  TinyFs fs;
  REQUIRE_TINY_FS(fs);
  fs.Fill();
  auto s = Open(fs.file("t.spool"));
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->healthy());
  EXPECT_FALSE(s->Append({{"a", "1"}}).status.ok());
  EXPECT_FALSE(s->healthy());
  EXPECT_EQ(s->memory_entries(), 1u);
  fs.Free();
  EXPECT_TRUE(s->Retry().ok());
  s.reset();
  EXPECT_EQ(Data(*Open(fs.file("t.spool"))), (Strings{"1"}));
}

TEST(NotifySpoolTest, EntriesHeldInMemoryAreBoundedOldestDroppedFirst) {
  // Without a path every entry is held in memory only.
  absl::StatusOr<std::unique_ptr<NotifySpool>> s = NotifySpool::Open(
      {.path = "", .max_bytes = 1 << 20, .keep_per_key = 1, .max_memory_entries = 3});
  ASSERT_TRUE(s.ok());
  NotifySpool& spool = **s;
  EXPECT_TRUE(spool.healthy());  // nothing is expected on disk
  size_t dropped = 0, coalesced = 0;
  for (const char* k : {"a", "b", "c", "d", "e"}) {
    NotifySpool::AppendResult r = spool.Append({{k, k}});
    dropped += r.dropped_memory;
    coalesced += r.coalesced;
  }
  EXPECT_EQ(Data(spool), (Strings{"c", "d", "e"}));
  EXPECT_EQ(dropped, 2u);
  // Superseded states go before anything is dropped.
  NotifySpool::AppendResult r = spool.Append({{"d", "d2"}});
  EXPECT_EQ(r.coalesced, 1u);
  EXPECT_EQ(r.dropped_memory, 0u);
  EXPECT_EQ(Data(spool), (Strings{"c", "e", "d2"}));
  // The entry being delivered stays.
  spool.set_protected_upto(spool.entries().begin()->first);
  r = spool.Append({{"f", "f"}});
  EXPECT_EQ(r.dropped_memory, 1u);
  EXPECT_EQ(Data(spool), (Strings{"c", "d2", "f"}));
  EXPECT_EQ(spool.memory_entries(), 3u);
  EXPECT_EQ(coalesced, 0u);
}

}  // namespace
}  // namespace vigil
