#include "operators/dataflow/fifo_arena.h"

#include <deque>
#include <random>
#include <string>

#include "gtest/gtest.h"

namespace vigil {
namespace {

TEST(FifoArenaTest, CopiesStayPutUntilReleased) {
  FifoArena arena(/*chunk_bytes=*/64);
  std::string a = "first";
  auto [ca, va] = arena.Put(a);
  a = "changed";  // the arena holds its own copy
  auto [cb, vb] = arena.Put("second");
  EXPECT_EQ(va, "first");
  EXPECT_EQ(vb, "second");
  EXPECT_EQ(ca, cb);  // side by side in one chunk
  EXPECT_EQ(arena.bytes(), 64u);
  arena.Release(ca);
  EXPECT_EQ(vb, "second");
  arena.Release(cb);
}

TEST(FifoArenaTest, TwoPartsAreOneCopySideBySide) {
  FifoArena arena(/*chunk_bytes=*/64);
  auto [c1, v1] = arena.Put("turn-7", "fields");
  auto [c2, v2] = arena.Put("", "only");
  auto [c3, v3] = arena.Put("only", "");
  EXPECT_EQ(v1, "turn-7fields");
  EXPECT_EQ(v2, "only");
  EXPECT_EQ(v3, "only");
  EXPECT_EQ(v2.data() + 4, v3.data());  // appended in order, one chunk
  // A pair over a quarter of the chunk gets a chunk of its own, as one
  // string does.
  auto [c4, v4] = arena.Put(std::string(10, 'k'), std::string(10, 'v'));
  EXPECT_EQ(v4, std::string(10, 'k') + std::string(10, 'v'));
  EXPECT_NE(c4, c1);
  for (uint32_t c : {c1, c2, c3, c4}) arena.Release(c);
  EXPECT_EQ(arena.bytes(), 64u);  // the current chunk is kept for reuse
}

TEST(FifoArenaTest, AnEmptyStringTakesNoChunk) {
  FifoArena arena(64);
  auto [c, v] = arena.Put("");
  EXPECT_EQ(c, FifoArena::kNone);
  EXPECT_TRUE(v.empty());
  EXPECT_EQ(arena.bytes(), 0u);
  arena.Release(c);  // nothing to release
}

TEST(FifoArenaTest, AChunkIsFreedWhenItsLastCopyIsReleased) {
  FifoArena arena(64);
  // Four 15-byte strings fill 60 bytes of a 64-byte chunk; the fifth does
  // not fit and opens a second chunk.
  std::vector<uint32_t> chunks;
  for (int i = 0; i < 5; ++i) chunks.push_back(arena.Put(std::string(15, 'a' + i)).first);
  EXPECT_EQ(chunks[0], chunks[3]);
  EXPECT_NE(chunks[3], chunks[4]);
  EXPECT_EQ(arena.chunks(), 2u);
  EXPECT_EQ(arena.bytes(), 128u);
  for (int i = 0; i < 3; ++i) arena.Release(chunks[i]);
  EXPECT_EQ(arena.chunks(), 2u);  // one copy still holds the first chunk
  arena.Release(chunks[3]);
  EXPECT_EQ(arena.chunks(), 1u);
  EXPECT_EQ(arena.bytes(), 64u);
  // The current chunk, once empty, is written again from its start.
  arena.Release(chunks[4]);
  EXPECT_EQ(arena.chunks(), 1u);
  auto [c, v] = arena.Put("again");
  EXPECT_EQ(c, chunks[4]);
  EXPECT_EQ(v, "again");
}

TEST(FifoArenaTest, ALargeStringGetsAChunkOfItsOwn) {
  FifoArena arena(64);
  auto [small, vs] = arena.Put("small");
  auto [large, vl] = arena.Put(std::string(40, 'x'));  // over a quarter of 64
  EXPECT_NE(small, large);
  EXPECT_EQ(vl, std::string(40, 'x'));
  EXPECT_EQ(arena.bytes(), 64u + 40u);
  arena.Release(large);
  EXPECT_EQ(arena.bytes(), 64u);
  // Small strings still go to the current chunk.
  EXPECT_EQ(arena.Put("next").first, small);
  EXPECT_EQ(vs, "small");
}

// Strings released in about the order they were put, as a join's waiting
// events expire: every view reads its own bytes until released, and the
// memory held follows what is live.
TEST(FifoArenaTest, NearlyInOrderReleasesKeepEveryCopyIntactAndMemoryBounded) {
  FifoArena arena(4096);
  std::mt19937 rng(7);
  struct Live {
    uint32_t chunk;
    std::string_view view;
    std::string want;
  };
  std::deque<Live> live;
  size_t max_bytes = 0;
  for (int i = 0; i < 100000; ++i) {
    std::string s(1 + rng() % 300, static_cast<char>('a' + i % 26));
    s += std::to_string(i);
    auto [c, v] = arena.Put(s);
    live.push_back({c, v, std::move(s)});
    // Keep about 500 live; release from the oldest few, out of order.
    while (live.size() > 500) {
      const size_t k = rng() % 4;
      ASSERT_EQ(live[k].view, live[k].want);
      arena.Release(live[k].chunk);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(k));
    }
    max_bytes = std::max(max_bytes, arena.bytes());
  }
  for (const Live& l : live) ASSERT_EQ(l.view, l.want);
  // 500 live strings of at most ~306 bytes are at most ~153 KiB; chunks
  // partly released add at most a few chunks more.
  EXPECT_LE(max_bytes, 500u * 310u + 8u * 4096u);
  for (const Live& l : live) arena.Release(l.chunk);
  EXPECT_LE(arena.bytes(), 4096u);  // only the current chunk is kept
}

}  // namespace
}  // namespace vigil
