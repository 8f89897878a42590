#include "windows/session_windows.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "windows/session_index.h"
#include "windows/session_pool.h"

namespace vigil {
namespace {

constexpr DurationMs kSecond = 1000;
constexpr DurationMs kMinute = 60 * kSecond;

constexpr DurationMs kGap = 30 * kMinute;

// Each session's state: the event times it holds, in arrival order.
using Times = std::vector<TimeMs>;

struct Closed {
  std::string key;
  TimeMs start, last;
  Times times;
  bool operator==(const Closed&) const = default;
};

class SessionWindowsTest : public ::testing::Test {
 protected:
  SessionWindows<Times> s{
      kGap, [](Times& into, Times&& from) { into.insert(into.end(), from.begin(), from.end()); }};
  void Add(const std::string& key, TimeMs t) {
    s.Add(key, t, [] { return Times{}; })->push_back(t);
  }
  std::vector<Closed> Close(TimeMs frontier) {
    std::vector<Closed> out;
    s.CloseUpTo(frontier, [&](std::string_view key, TimeMs start, TimeMs last, Times& t) {
      out.push_back({std::string(key), start, last, t});
    });
    return out;
  }
};

TEST_F(SessionWindowsTest, EventsLessThanTheGapApartShareASession) {
  Add("a", 0);
  Add("a", kGap - 1);  // one millisecond inside the gap
  EXPECT_EQ(s.session_count(), 1u);
  // Open until last + gap = 2 * kGap - 1.
  EXPECT_TRUE(Close(2 * kGap - 2).empty());
  EXPECT_EQ(Close(2 * kGap - 1), (std::vector<Closed>{{"a", 0, kGap - 1, {0, kGap - 1}}}));
  EXPECT_EQ(s.session_count(), 0u);
  EXPECT_EQ(s.key_count(), 0u);
}

TEST_F(SessionWindowsTest, ASilenceOfExactlyTheGapStartsANewSession) {
  Add("a", 0);
  Add("a", kGap);
  EXPECT_EQ(s.session_count(), 2u);
  EXPECT_EQ(Close(kGap), (std::vector<Closed>{{"a", 0, 0, {0}}}));
  EXPECT_EQ(Close(2 * kGap), (std::vector<Closed>{{"a", kGap, kGap, {kGap}}}));
}

TEST_F(SessionWindowsTest, AnOutOfOrderEventBridgingTwoSessionsMergesThem) {
  Add("a", 0);
  Add("a", 50 * kMinute);  // 50 minutes later: a second session
  EXPECT_EQ(s.session_count(), 2u);
  Add("a", 25 * kMinute);  // late, less than 30 minutes from both
  EXPECT_EQ(s.session_count(), 1u);
  EXPECT_EQ(s.merged_count(), 1u);
  // The first session's old end (30m) is not an end any more.
  EXPECT_TRUE(Close(30 * kMinute).empty());
  EXPECT_EQ(Close(80 * kMinute),
            (std::vector<Closed>{{"a", 0, 50 * kMinute, {0, 50 * kMinute, 25 * kMinute}}}));
}

TEST_F(SessionWindowsTest, AnEarlierEventExtendsTheStart) {
  Add("a", 40 * kMinute);
  Add("a", 20 * kMinute);  // 20 minutes earlier: same session
  Add("a", 0);             // 20 minutes before that: same again
  EXPECT_EQ(s.session_count(), 1u);
  EXPECT_EQ(Close(70 * kMinute),
            (std::vector<Closed>{{"a", 0, 40 * kMinute, {40 * kMinute, 20 * kMinute, 0}}}));
}

TEST_F(SessionWindowsTest, AnOutOfOrderEventFarFromOthersIsItsOwnSession) {
  Add("a", 100 * kMinute);
  Add("a", 0);
  EXPECT_EQ(s.session_count(), 2u);
  // The earlier session closes first although it arrived second.
  EXPECT_EQ(Close(kGap), (std::vector<Closed>{{"a", 0, 0, {0}}}));
  EXPECT_EQ(Close(130 * kMinute),
            (std::vector<Closed>{{"a", 100 * kMinute, 100 * kMinute, {100 * kMinute}}}));
}

TEST_F(SessionWindowsTest, ClosesInOrderOfEndThenKey) {
  Add("b", 0);
  Add("a", 0);
  Add("c", -kMinute);
  Add("a", 10 * kMinute);
  EXPECT_EQ(Close(kMaxTime - kGap),
            (std::vector<Closed>{{"c", -kMinute, -kMinute, {-kMinute}},
                                 {"b", 0, 0, {0}},
                                 {"a", 0, 10 * kMinute, {0, 10 * kMinute}}}));
}

TEST_F(SessionWindowsTest, KeysAreForgottenWhenTheirSessionsClose) {
  for (int i = 0; i < 1000; ++i) Add("k" + std::to_string(i), i * kSecond);
  EXPECT_EQ(s.key_count(), 1000u);
  // Sessions ending up to 499 s + gap.
  EXPECT_EQ(Close(kGap + 499 * kSecond).size(), 500u);
  EXPECT_EQ(s.key_count(), 500u);
  EXPECT_EQ(s.session_count(), 500u);
  // A key that keeps being active is never closed early.
  for (int i = 0; i < 100; ++i) Add("k999", 999 * kSecond + i * kMinute);
  EXPECT_EQ(Close(kGap + 999 * kSecond).size(), 499u);
  EXPECT_EQ(s.key_count(), 1u);
  std::vector<Closed> last = Close(kMaxTime - kGap);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].times.size(), 101u);
  EXPECT_EQ(s.key_count(), 0u);
}

TEST_F(SessionWindowsTest, RestoreRebuildsWhatForEachSaw) {
  Add("a", 0);
  Add("a", 10 * kMinute);
  Add("b", 5 * kMinute);
  Add("b", 100 * kMinute);
  std::vector<Closed> saved;
  s.ForEach([&](std::string_view key, const SessionWindows<Times>::Session& ss) {
    saved.push_back({std::string(key), ss.start, ss.last, ss.state});
  });
  ASSERT_EQ(saved.size(), 3u);
  SessionWindows<Times> copy(kGap, [](Times&, Times&&) {});
  for (const Closed& c : saved) copy.Restore(c.key, c.start, c.last, c.times);
  std::vector<Closed> want = Close(kMaxTime - kGap);
  std::vector<Closed> got;
  copy.CloseUpTo(kMaxTime - kGap, [&](std::string_view key, TimeMs start, TimeMs last, Times& t) {
    got.push_back({std::string(key), start, last, t});
  });
  EXPECT_EQ(got, want);
}

TEST_F(SessionWindowsTest, KeysOfAnyLengthAreKeptApart) {
  const std::string k24(24, 'x');                      // the longest kept inline
  const std::string k25 = std::string(24, 'x') + "y";  // the shortest kept apart
  const std::string k100(100, 'z');
  Add("", 0);
  Add(k24, 1);
  Add(k25, 2);
  Add(k100, 3);
  Add(k100, 4);
  EXPECT_EQ(s.key_count(), 4u);
  std::vector<Closed> saved;
  s.ForEach([&](std::string_view key, const SessionWindows<Times>::Session& ss) {
    saved.push_back({std::string(key), ss.start, ss.last, ss.state});
  });
  EXPECT_EQ(saved.size(), 4u);
  EXPECT_EQ(Close(kMaxTime - kGap),
            (std::vector<Closed>{
                {"", 0, 0, {0}}, {k24, 1, 1, {1}}, {k25, 2, 2, {2}}, {k100, 3, 4, {3, 4}}}));
  EXPECT_EQ(s.key_count(), 0u);
}

TEST_F(SessionWindowsTest, MemoryShrinksAfterAWaveOfClosesAndIsGoneWhenAllClose) {
  EXPECT_EQ(s.reserved_bytes(), 0u);
  // 100 000 keys, one session each, ending a second apart.
  for (int i = 0; i < 100'000; ++i) Add("key" + std::to_string(i), i * kSecond);
  const size_t peak = s.reserved_bytes();
  // Close all but the last 1000.
  EXPECT_EQ(Close(kGap + 98'999 * kSecond).size(), 99'000u);
  EXPECT_EQ(s.key_count(), 1000u);
  EXPECT_LT(s.reserved_bytes(), peak / 8);
  // The survivors, renamed by the shrink, are still found: an event joins
  // each one's session instead of opening another.
  for (int i = 99'000; i < 100'000; ++i) Add("key" + std::to_string(i), i * kSecond + 1);
  EXPECT_EQ(s.session_count(), 1000u);
  EXPECT_EQ(s.key_count(), 1000u);
  std::vector<Closed> rest = Close(kMaxTime - kGap);
  ASSERT_EQ(rest.size(), 1000u);
  EXPECT_EQ(rest.front(), (Closed{"key99000",
                                  99'000 * kSecond,
                                  99'000 * kSecond + 1,
                                  {99'000 * kSecond, 99'000 * kSecond + 1}}));
  EXPECT_EQ(rest.back(), (Closed{"key99999",
                                 99'999 * kSecond,
                                 99'999 * kSecond + 1,
                                 {99'999 * kSecond, 99'999 * kSecond + 1}}));
  EXPECT_EQ(s.reserved_bytes(), 0u);
  // And it starts over.
  Add("again", 0);
  EXPECT_EQ(Close(kMaxTime - kGap), (std::vector<Closed>{{"again", 0, 0, {0}}}));
}

TEST_F(SessionWindowsTest, ClosingKeysOneByOneKeepsTheOthersFindable) {
  // Keys closing in an order unrelated to their slots in the index: each
  // close moves probe runs back, and every key left must still be found.
  constexpr int kKeys = 5000;
  for (int i = 0; i < kKeys; ++i) Add("k" + std::to_string(i), (i * 7919 % kKeys) * kSecond);
  for (int step = 0; step < kKeys; step += 250) {
    EXPECT_EQ(Close(kGap + (step + 249) * kSecond).size(), 250u);
    for (int i = 0; i < kKeys; ++i) {
      if (i * 7919 % kKeys > step + 249) Add("k" + std::to_string(i), (i * 7919 % kKeys) * kSecond);
    }
    EXPECT_EQ(s.key_count(), static_cast<size_t>(kKeys - step - 250));
    EXPECT_EQ(s.session_count(), s.key_count());
  }
}

TEST(SessionIndexTest, CollidingHashesAreFoundAfterErasesAndWrapAround) {
  SessionIndex index;
  std::map<uint32_t, uint64_t> hashes;
  auto find = [&](uint64_t h, uint32_t want) {
    return index.Find(h, [&](uint32_t id) { return id == want; });
  };
  // Ten ids whose hashes all start probing at the last slot of 16 (top
  // four bits set), so the run wraps around to the front; the next 28 bits
  // tell them apart.
  for (uint32_t id = 0; id < 10; ++id) {
    hashes[id] = (0xF0000000ULL | (id + 1)) << 32;
    index.Insert(hashes[id], id);
  }
  EXPECT_EQ(index.capacity(), 16u);
  EXPECT_EQ(index.size(), 10u);
  for (uint32_t id = 0; id < 10; ++id) EXPECT_EQ(find(hashes[id], id), id);
  EXPECT_EQ(find(0xF0000063ULL << 32, 99), SessionIndex::kNone);
  // A hash that differs only in bits below the top 32 is the same to the
  // index: the caller's check tells the keys apart.
  EXPECT_EQ(find(hashes[3] | 1, 3), 3u);
  index.Erase(hashes[0], 0);  // the head of the run
  index.Erase(hashes[5], 5);  // its middle
  hashes.erase(0);
  hashes.erase(5);
  EXPECT_EQ(index.size(), 8u);
  for (const auto& [id, h] : hashes) EXPECT_EQ(find(h, id), id);
  EXPECT_EQ(find(0xF0000001ULL << 32, 0), SessionIndex::kNone);
  EXPECT_EQ(find(0xF0000006ULL << 32, 5), SessionIndex::kNone);
}

TEST(SessionIndexTest, ReplaceRenamesAnIdInItsSlot) {
  SessionIndex index;
  auto find = [&](uint64_t h, uint32_t want) {
    return index.Find(h, [&](uint32_t id) { return id == want; });
  };
  // Three colliding hashes in one run that wraps around.
  const uint64_t h[] = {0xF0000001ULL << 32, 0xF0000002ULL << 32, 0xF0000003ULL << 32};
  for (uint32_t id = 0; id < 3; ++id) index.Insert(h[id], id);
  index.Replace(h[1], 1, 41);  // the middle of the run
  EXPECT_EQ(index.size(), 3u);
  EXPECT_EQ(find(h[1], 1), SessionIndex::kNone);
  EXPECT_EQ(find(h[1], 41), 41u);
  EXPECT_EQ(find(h[0], 0), 0u);
  EXPECT_EQ(find(h[2], 2), 2u);
  // The renamed id erases like any other, and the run stays whole.
  index.Erase(h[1], 41);
  EXPECT_EQ(find(h[1], 41), SessionIndex::kNone);
  EXPECT_EQ(find(h[2], 2), 2u);
  EXPECT_EQ(index.size(), 2u);
}

TEST(SessionIndexTest, GrowsAtThreeQuartersAndShrinksBelowASixteenth) {
  SessionIndex index;
  std::vector<uint64_t> hashes;
  for (uint32_t id = 0; id < 1000; ++id) {
    hashes.push_back((uint64_t{id} * 0x9E3779B97F4A7C15ULL));
    index.Insert(hashes[id], id);
  }
  EXPECT_EQ(index.capacity(), 2048u);  // 1000 > 3/4 of 1024
  for (uint32_t id = 0; id < 1000; id += 1) {
    if (id >= 100) index.Erase(hashes[id], id);
  }
  EXPECT_EQ(index.size(), 100u);
  EXPECT_EQ(index.capacity(), 256u);  // shrunk to twice the size at 127 left, then to 256
  for (uint32_t id = 0; id < 100; ++id) {
    EXPECT_EQ(index.Find(hashes[id], [&](uint32_t i) { return i == id; }), id);
  }
}

TEST(SessionPoolTest, ReusesFreedBlocksZeroedAndReleasesOnClear) {
  SessionPool<double> pool(3);
  const uint32_t a = pool.Alloc(), b = pool.Alloc();
  EXPECT_EQ(a, 0u);
  EXPECT_EQ(b, 1u);
  pool.At(a)[2] = 1.5;
  pool.At(b)[0] = 2.5;
  EXPECT_EQ(pool.At(b)[0], 2.5);  // blocks do not overlap
  EXPECT_EQ(pool.At(a)[2], 1.5);
  pool.Free(a);
  EXPECT_EQ(pool.live(), 1u);
  const uint32_t c = pool.Alloc();
  EXPECT_EQ(c, a);
  EXPECT_EQ(pool.At(c)[2], 0.0);
  EXPECT_EQ(pool.capacity(), SessionPool<double>::kChunkBlocks);
  for (uint32_t i = 0; i < SessionPool<double>::kChunkBlocks; ++i) pool.Alloc();
  EXPECT_EQ(pool.capacity(), 2 * SessionPool<double>::kChunkBlocks);
  pool.Clear();
  EXPECT_EQ(pool.capacity(), 0u);
  EXPECT_EQ(pool.live(), 0u);
}

}  // namespace
}  // namespace vigil
