#include "base/hash.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <unordered_set>
#include <vector>

#include "gtest/gtest.h"

namespace vigil {
namespace {

// Hashes end up in checkpoints and in sketches exchanged between instances,
// so these values must never change: a failure here means every stored
// distinct-count sketch would silently double count after an upgrade.
TEST(HashTest, ValuesAreStableAcrossBuildsAndMachines) {
  EXPECT_EQ(HashBytes(""), 0x6f803ef3e4401fa5u);
  EXPECT_EQ(HashBytes("a"), 0x3dda92aa704b8664u);
  EXPECT_EQ(HashBytes("faq"), 0x37fea1c2ee65f5fcu);
  EXPECT_EQ(HashBytes("order_tracking"), 0x2af230d0105f7314u);
  EXPECT_EQ(HashBytes("0123456789abcdef"), 0x427992b5487e84bfu);
  EXPECT_EQ(HashBytes("0123456789abcdefg"), 0x4fb67ade9ead191eu);
  EXPECT_EQ(HashBytes("The quick brown fox jumps over the lazy dog, repeatedly, until the end."),
            0x63c2c8a61ba815f8u);
  EXPECT_EQ(HashDouble(0.0), 0x3eb296b970479f9cu);
  EXPECT_EQ(HashDouble(3.0), 0x97113140d6bef571u);
  EXPECT_EQ(HashDouble(-1.5), 0x28f152dd5085f6f0u);
  EXPECT_EQ(HashDouble(700.25), 0xa6a3b9d7737fdb0bu);
  EXPECT_EQ(HashDouble(1e300), 0x0fa3526f5f8104b1u);
  EXPECT_EQ(HashInt64((int64_t{1} << 60) + 1), 0x0ee012b4287a1203u);
  EXPECT_EQ(HashInt64(-42), 0x868085786ba41f20u);
}

TEST(HashTest, NumbersHashByValue) {
  EXPECT_EQ(HashDouble(3), HashDouble(3.0));
  EXPECT_EQ(HashDouble(-0.0), HashDouble(0.0));
  EXPECT_EQ(HashInt64(3), HashDouble(3.0));
  EXPECT_EQ(HashInt64(0), HashDouble(-0.0));
  EXPECT_EQ(HashInt64(-42), HashDouble(-42.0));
  EXPECT_EQ(HashInt64(int64_t{1} << 53), HashDouble(9007199254740992.0));
  EXPECT_EQ(HashInt64(std::numeric_limits<int64_t>::min()), HashDouble(-9223372036854775808.0));
  EXPECT_EQ(HashDouble(std::nan("")), HashDouble(-std::nan("1")));
  EXPECT_NE(HashDouble(3.0), HashDouble(3.0000000000000004));
  EXPECT_NE(HashDouble(1.0), HashDouble(-1.0));
  EXPECT_NE(HashDouble(std::numeric_limits<double>::infinity()),
            HashDouble(-std::numeric_limits<double>::infinity()));
  // 2^53 + 1 is not a double: it must not collide with 2^53.
  EXPECT_NE(HashInt64((int64_t{1} << 53) + 1), HashInt64(int64_t{1} << 53));
  EXPECT_NE(HashInt64(std::numeric_limits<int64_t>::max()),
            HashInt64(std::numeric_limits<int64_t>::max() - 1));
}

TEST(HashTest, DomainsAreSeparate) {
  double three = 3.0;
  char bytes[sizeof three];
  std::memcpy(bytes, &three, sizeof three);
  EXPECT_NE(HashBytes(std::string_view(bytes, sizeof bytes)), HashDouble(3.0));
  EXPECT_NE(HashBytes("3"), HashDouble(3.0));
  EXPECT_NE(HashBytes("3"), HashInt64(3));
}

TEST(HashTest, LengthAndEveryByteMatter) {
  std::unordered_set<uint64_t> seen;
  std::string s;
  for (int len = 0; len <= 70; ++len) {
    EXPECT_TRUE(seen.insert(HashBytes(s)).second) << "length " << len;
    s.push_back('a');
  }
  EXPECT_NE(HashBytes(std::string_view("\0", 1)), HashBytes(""));
  EXPECT_NE(HashBytes(std::string_view("\0\0", 2)), HashBytes(std::string_view("\0", 1)));
  for (int len : {1, 3, 7, 8, 9, 16, 17, 31, 32, 33, 64, 100}) {
    const std::string base(static_cast<size_t>(len), 'x');
    for (int i = 0; i < len; ++i) {
      std::string changed = base;
      changed[static_cast<size_t>(i)] = 'y';
      EXPECT_NE(HashBytes(changed), HashBytes(base)) << "length " << len << " byte " << i;
    }
  }
}

TEST(HashTest, NoCollisionsAmongManyKeys) {
  std::unordered_set<uint64_t> seen;
  for (int i = 0; i < 200'000; ++i) {
    ASSERT_TRUE(seen.insert(HashBytes("session-" + std::to_string(i))).second) << i;
    ASSERT_TRUE(seen.insert(HashInt64(i)).second) << i;
  }
}

uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

// Flipping any input bit flips every output bit with probability ~1/2, the
// property HyperLogLog relies on. With 2000 samples the standard deviation of
// one pair is 0.011; 0.08 leaves room for noise but not for a weak mixer.
void ExpectAvalanche(const std::function<uint64_t(const std::string&)>& hash, size_t len) {
  constexpr int kSamples = 2000;
  uint64_t rng = 1234 + len;
  std::vector<int> flips(len * 8 * 64, 0);
  double total_flipped = 0;
  for (int n = 0; n < kSamples; ++n) {
    std::string input(len, '\0');
    for (char& c : input) c = static_cast<char>(SplitMix(&rng));
    const uint64_t base = hash(input);
    for (size_t bit = 0; bit < len * 8; ++bit) {
      std::string flipped = input;
      flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
      const uint64_t diff = base ^ hash(flipped);
      total_flipped += __builtin_popcountll(diff);
      for (int out = 0; out < 64; ++out)
        flips[bit * 64 + out] += static_cast<int>((diff >> out) & 1);
    }
  }
  for (size_t i = 0; i < flips.size(); ++i) {
    ASSERT_NEAR(flips[i] / double{kSamples}, 0.5, 0.08)
        << "length " << len << " input bit " << i / 64 << " output bit " << i % 64;
  }
  EXPECT_NEAR(total_flipped / (kSamples * static_cast<double>(len) * 8.0), 32.0, 0.5)
      << "length " << len;
}

TEST(HashTest, BytesAvalanche) {
  for (size_t len : {2, 3, 4, 6, 8, 12, 16, 17, 40}) {
    ExpectAvalanche([](const std::string& s) { return HashBytes(s); }, len);
  }
}

TEST(HashTest, NumbersAvalanche) {
  ExpectAvalanche(
      [](const std::string& s) {
        int64_t v;
        std::memcpy(&v, s.data(), sizeof v);
        return HashInt64(v);
      },
      8);
  ExpectAvalanche(
      [](const std::string& s) {
        double v;
        std::memcpy(&v, s.data(), sizeof v);
        return HashDouble(v);
      },
      8);
}

TEST(HashTest, SequentialIntegersSpreadEvenly) {
  // The top bits choose HyperLogLog registers; small consecutive integers
  // (ids, counters) must spread over them evenly.
  std::vector<int> buckets(256, 0);
  constexpr int kN = 256 * 4000;
  for (int64_t i = 0; i < kN; ++i) ++buckets[HashInt64(i) >> 56];
  double chi2 = 0;
  for (int b : buckets) chi2 += (b - 4000.0) * (b - 4000.0) / 4000.0;
  // 255 degrees of freedom: mean 255, standard deviation 22.6.
  EXPECT_LT(chi2, 255 + 6 * 22.6);
}

}  // namespace
}  // namespace vigil
