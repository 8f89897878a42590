#include "windows/distinct_sketch.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "base/codec.h"
#include "base/hash.h"
#include "gtest/gtest.h"

namespace vigil {
namespace {

// Distinct values [lo, hi), hashed as the engine would hash integer fields.
DistinctSketch SketchOfRange(int64_t lo, int64_t hi) {
  DistinctSketch sketch;
  for (int64_t i = lo; i < hi; ++i) sketch.Add(HashInt64(i));
  return sketch;
}

std::string EncodeToString(const DistinctSketch& sketch) {
  Encoder enc;
  sketch.Encode(&enc);
  return enc.Release();
}

bool DecodeFrom(std::string_view bytes, DistinctSketch* out) {
  Decoder dec(bytes);
  return DistinctSketch::Decode(&dec, out);
}

double RelativeError(double estimate, double exact) { return std::abs(estimate - exact) / exact; }

TEST(DistinctSketchTest, EmptySketch) {
  DistinctSketch sketch;
  EXPECT_TRUE(sketch.empty());
  EXPECT_TRUE(sketch.exact());
  EXPECT_EQ(sketch.Estimate(), 0.0);
  EXPECT_EQ(sketch, DistinctSketch());
}

TEST(DistinctSketchTest, ExactBelowTheBound) {
  DistinctSketch sketch;
  sketch.Add(HashBytes("u1"));
  sketch.Add(HashBytes("u2"));
  sketch.Add(HashBytes("u1"));
  EXPECT_EQ(sketch.Estimate(), 2.0);
  // The hash 0 is a value like any other (it marks empty slots internally).
  sketch.Add(0);
  sketch.Add(0);
  EXPECT_EQ(sketch.Estimate(), 3.0);
  for (int round = 0; round < 3; ++round) {
    for (int64_t i = 0; i < 1000; ++i) sketch.Add(HashInt64(i));
  }
  EXPECT_TRUE(sketch.exact());
  EXPECT_EQ(sketch.Estimate(), 1003.0);
}

TEST(DistinctSketchTest, SwitchesToHyperLogLogPastTheBound) {
  DistinctSketch sketch = SketchOfRange(0, DistinctSketch::kExactLimit);
  EXPECT_TRUE(sketch.exact());
  EXPECT_EQ(sketch.Estimate(), 1024.0);
  sketch.Add(HashInt64(5));  // a duplicate does not switch
  EXPECT_TRUE(sketch.exact());
  sketch.Add(HashInt64(1024));
  EXPECT_FALSE(sketch.exact());
  EXPECT_FALSE(sketch.empty());
  EXPECT_LT(RelativeError(sketch.Estimate(), 1025.0), 0.03) << sketch.Estimate();
  EXPECT_EQ(sketch, SketchOfRange(0, 1025));
}

TEST(DistinctSketchTest, HyperLogLogAccuracyAcrossCardinalities) {
  // Includes the 2.5m..5m range (40k..80k) where raw HyperLogLog is biased
  // and a linear-counting switchover would jump.
  for (int64_t n : {2'000, 5'000, 20'000, 40'000, 60'000, 100'000, 300'000, 1'000'000}) {
    const DistinctSketch sketch = SketchOfRange(n * 7, n * 8);
    EXPECT_FALSE(sketch.exact());
    EXPECT_LT(RelativeError(sketch.Estimate(), static_cast<double>(n)), 0.03)
        << n << " distinct: " << sketch.Estimate();
  }
}

TEST(DistinctSketchTest, HyperLogLogOfStringsAndDuplicates) {
  DistinctSketch sketch;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 100'000; ++i) sketch.Add(HashBytes("session-" + std::to_string(i)));
  }
  EXPECT_LT(RelativeError(sketch.Estimate(), 100'000.0), 0.03) << sketch.Estimate();
}

TEST(DistinctSketchTest, MergeOfOverlappingSetsInHyperLogLogMode) {
  DistinctSketch a = SketchOfRange(0, 60'000);
  const DistinctSketch b = SketchOfRange(40'000, 100'000);
  DistinctSketch ba = b;
  ba.Merge(a);
  a.Merge(b);
  EXPECT_EQ(a, ba);
  EXPECT_EQ(a, SketchOfRange(0, 100'000));
  EXPECT_LT(RelativeError(a.Estimate(), 100'000.0), 0.03) << a.Estimate();
}

TEST(DistinctSketchTest, MergeOfOverlappingExactSetsStaysExact) {
  DistinctSketch a = SketchOfRange(0, 600);
  a.Merge(SketchOfRange(300, 900));
  EXPECT_TRUE(a.exact());
  EXPECT_EQ(a.Estimate(), 900.0);
  EXPECT_EQ(a, SketchOfRange(0, 900));
}

TEST(DistinctSketchTest, MergeCrossesFromExactToHyperLogLog) {
  DistinctSketch a = SketchOfRange(0, 700);
  const DistinctSketch b = SketchOfRange(500, 1200);
  ASSERT_TRUE(a.exact() && b.exact());
  a.Merge(b);
  EXPECT_FALSE(a.exact());
  EXPECT_EQ(a, SketchOfRange(0, 1200));
  EXPECT_LT(RelativeError(a.Estimate(), 1200.0), 0.03) << a.Estimate();
}

TEST(DistinctSketchTest, MergeOfExactIntoHyperLogLogAndBack) {
  const DistinctSketch small = SketchOfRange(0, 100);
  const DistinctSketch large = SketchOfRange(50, 5'000);
  DistinctSketch small_first = small;
  small_first.Merge(large);
  DistinctSketch large_first = large;
  large_first.Merge(small);
  EXPECT_EQ(small_first, large_first);
  EXPECT_EQ(small_first, SketchOfRange(0, 5'000));
  large_first.Merge(large_first);
  EXPECT_EQ(large_first, small_first) << "self-merge is a no-op";
}

TEST(DistinctSketchTest, MergeTreesAgree) {
  // Eight parts of 300 distinct values each, half overlapping the next: the
  // union crosses the exact bound part-way through every merge order.
  std::vector<DistinctSketch> parts;
  for (int64_t p = 0; p < 8; ++p) parts.push_back(SketchOfRange(p * 150, p * 150 + 300));
  const DistinctSketch whole = SketchOfRange(0, 7 * 150 + 300);
  DistinctSketch forward;
  for (const auto& p : parts) forward.Merge(p);
  DistinctSketch backward;
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) backward.Merge(*it);
  DistinctSketch left = parts[0];
  for (int i : {1, 2, 3}) left.Merge(parts[i]);
  DistinctSketch right = parts[4];
  for (int i : {5, 6, 7}) right.Merge(parts[i]);
  right.Merge(left);
  EXPECT_EQ(forward, whole);
  EXPECT_EQ(backward, whole);
  EXPECT_EQ(right, whole);
  EXPECT_FALSE(whole.exact());
}

TEST(DistinctSketchTest, EqualityIgnoresInsertionOrder) {
  DistinctSketch up;
  DistinctSketch down;
  for (int64_t i = 0; i < 500; ++i) {
    up.Add(HashInt64(i));
    down.Add(HashInt64(499 - i));
  }
  EXPECT_EQ(up, down);
  EXPECT_EQ(EncodeToString(up), EncodeToString(down));
  down.Add(HashInt64(1000));
  EXPECT_FALSE(up == down);
  up.Add(HashInt64(1001));
  EXPECT_FALSE(up == down) << "same size, different sets";
}

TEST(DistinctSketchTest, EncodeDecodeRoundTrip) {
  DistinctSketch with_zero = SketchOfRange(0, 10);
  with_zero.Add(0);
  for (const DistinctSketch& original :
       {DistinctSketch(), with_zero, SketchOfRange(0, 1024), SketchOfRange(0, 50'000)}) {
    const std::string bytes = EncodeToString(original);
    Decoder dec(bytes);
    DistinctSketch decoded = SketchOfRange(100, 200);
    ASSERT_TRUE(DistinctSketch::Decode(&dec, &decoded));
    EXPECT_TRUE(dec.empty());
    EXPECT_EQ(decoded, original);
    EXPECT_EQ(decoded.Estimate(), original.Estimate());
    EXPECT_EQ(EncodeToString(decoded), bytes);
    decoded.Add(HashInt64(-1));
    DistinctSketch expected = original;
    expected.Add(HashInt64(-1));
    EXPECT_EQ(decoded, expected);
  }
}

TEST(DistinctSketchTest, DecodeRejectsTruncatedAndGarbledInput) {
  for (const DistinctSketch& original : {SketchOfRange(0, 300), SketchOfRange(0, 3000)}) {
    const std::string bytes = EncodeToString(original);
    for (size_t n = 0; n < bytes.size(); n += (n < 64 ? 1 : 97)) {
      DistinctSketch out = SketchOfRange(0, 3);
      EXPECT_FALSE(DecodeFrom(std::string_view(bytes).substr(0, n), &out)) << n;
      EXPECT_EQ(out, SketchOfRange(0, 3));
    }
  }
  const std::string exact = EncodeToString(SketchOfRange(0, 20));
  for (size_t i = 0; i < exact.size(); ++i) {
    std::string garbled = exact;
    garbled[i] = static_cast<char>(garbled[i] ^ 0x80);
    DistinctSketch out;
    if (DecodeFrom(garbled, &out)) {
      EXPECT_LE(out.Estimate(), 1024.0);
    }
  }
  std::string bad_mode = exact;
  bad_mode[0] = 7;
  DistinctSketch out;
  EXPECT_FALSE(DecodeFrom(bad_mode, &out));

  Encoder too_many;
  too_many.PutByte(0);
  too_many.PutVarint(DistinctSketch::kExactLimit + 1);
  for (uint32_t i = 0; i <= DistinctSketch::kExactLimit; ++i) too_many.PutVarint(1);
  EXPECT_FALSE(DecodeFrom(too_many.data(), &out));
  Encoder repeated;
  repeated.PutByte(0);
  repeated.PutVarint(2);
  repeated.PutVarint(5);
  repeated.PutVarint(0);  // the same hash twice
  EXPECT_FALSE(DecodeFrom(repeated.data(), &out));
  Encoder wrapping;
  wrapping.PutByte(0);
  wrapping.PutVarint(2);
  wrapping.PutVarint(UINT64_MAX);
  wrapping.PutVarint(1);  // would wrap to 0
  EXPECT_FALSE(DecodeFrom(wrapping.data(), &out));

  std::string registers(DistinctSketch::kRegisters, '\0');
  auto hll = [&](uint8_t precision) {
    Encoder enc;
    enc.PutByte(1);
    enc.PutByte(precision);
    enc.PutString(registers);
    return enc.Release();
  };
  EXPECT_TRUE(DecodeFrom(hll(14), &out));
  EXPECT_EQ(out.Estimate(), 0.0);
  EXPECT_FALSE(DecodeFrom(hll(12), &out));
  registers[77] = static_cast<char>(DistinctSketch::kMaxRank + 1);
  EXPECT_FALSE(DecodeFrom(hll(14), &out));
  registers[77] = static_cast<char>(DistinctSketch::kMaxRank);
  EXPECT_TRUE(DecodeFrom(hll(14), &out));
}

TEST(DistinctSketchTest, ClearReturnsToExactMode) {
  DistinctSketch sketch = SketchOfRange(0, 5000);
  sketch.Clear();
  EXPECT_TRUE(sketch.exact());
  EXPECT_TRUE(sketch.empty());
  EXPECT_EQ(sketch, DistinctSketch());
  for (int64_t i = 0; i < 2000; ++i) sketch.Add(HashInt64(i));
  EXPECT_EQ(sketch, SketchOfRange(0, 2000));
}

}  // namespace
}  // namespace vigil
