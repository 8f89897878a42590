// ExactSum (windows/exact_sum.h): a sum rounded once, whatever the order of
// its terms and however it was split into merged parts.
#include "windows/exact_sum.h"

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "base/codec.h"
#include "base/hash.h"
#include "gtest/gtest.h"

namespace vigil {
namespace {

// The bits of a double: 0.0 and -0.0 differ.
uint64_t Bits(double d) { return std::bit_cast<uint64_t>(d); }

TEST(ExactSumTest, TheResultIsTheExactSumRoundedOnce) {
  ExactSum s;
  for (double v : {0.1, 0.2, -0.1}) s.Add(v);
  EXPECT_EQ(s.value(), 0.2);  // a plain double sum gives 0.20000000000000004
  ExactSum t;
  for (double v : {1e15, 0.3, -1e15}) t.Add(v);
  EXPECT_EQ(t.value(), 0.3);  // plain: 0.25
  ExactSum tiny;
  tiny.Add(1e-30);
  tiny.Add(-1e-30);
  EXPECT_EQ(Bits(tiny.value()), Bits(0.0));
}

// Any order and any split into merged partial sums give the same bits.
TEST(ExactSumTest, OrderAndSplitDoNotChangeTheBits) {
  std::vector<double> values;
  uint64_t h = 42;
  for (int i = 0; i < 5000; ++i) {
    h = HashInt64(static_cast<int64_t>(h));
    const double unit = static_cast<double>(h >> 11) * 0x1p-53;  // [0, 1)
    values.push_back((unit - 0.3) * std::pow(10.0, static_cast<int>(h % 9) - 2));
  }
  ExactSum whole;
  for (double v : values) whole.Add(v);
  for (int parts : {2, 3, 7}) {
    std::vector<ExactSum> partial(parts);
    for (size_t i = 0; i < values.size(); ++i)
      partial[(i * 31) % parts].Add(values[values.size() - 1 - i]);
    ExactSum merged;
    for (int p = parts - 1; p >= 0; --p) merged.Merge(partial[p]);
    EXPECT_TRUE(merged == whole) << parts;
    EXPECT_EQ(Bits(merged.value()), Bits(whole.value())) << parts;
  }
  ExactSum back = whole;
  back.Subtract(whole);
  EXPECT_EQ(Bits(back.value()), Bits(0.0));
}

TEST(ExactSumTest, OutOfRangeFallsBackToThePlainSum) {
  ExactSum s;
  s.Add(1.0);
  EXPECT_FALSE(s.overflowed());
  s.Add(1e19);  // past 2^62
  EXPECT_TRUE(s.overflowed());
  EXPECT_EQ(s.value(), 1.0 + 1e19);
  ExactSum inf;
  inf.Add(std::numeric_limits<double>::infinity());
  EXPECT_TRUE(inf.overflowed());
  EXPECT_EQ(inf.value(), std::numeric_limits<double>::infinity());
  ExactSum merged;
  merged.Add(2.0);
  merged.Merge(s);
  EXPECT_TRUE(merged.overflowed());
  s.Clear();
  EXPECT_FALSE(s.overflowed());
  EXPECT_EQ(s.value(), 0.0);
}

// `s` encoded and decoded; nullopt when the bytes do not decode.
std::optional<ExactSum> RoundTrip(const ExactSum& s) {
  Encoder enc;
  s.Encode(&enc);
  Decoder dec(enc.data());
  ExactSum back;
  if (!back.Decode(&dec)) return std::nullopt;
  return back;
}

// Values near the top of the double range: the plain sum does not pass it
// on the way, so 1e308 + 1e308 - 1e308 is 1e308 in every order and split,
// and the mean of two 1e308 is 1e308, not infinity.
TEST(ExactSumTest, SumsNearTheTopOfTheRangeDoNotOverflowOnTheWay) {
  const std::vector<std::vector<double>> orders = {
      {1e308, 1e308, -1e308}, {1e308, -1e308, 1e308}, {-1e308, 1e308, 1e308}};
  for (const std::vector<double>& order : orders) {
    ExactSum added, a, b;
    for (double v : order) added.Add(v);
    a.Add(order[0]);
    a.Add(order[1]);
    b.Add(order[2]);
    a.Merge(b);
    for (const ExactSum* s : {&added, &a}) {
      EXPECT_EQ(s->value(), 1e308);
      EXPECT_EQ(s->Mean(3), 1e308 / 3);
    }
  }
  ExactSum two;
  two.Add(1e308);
  two.Add(1e308);
  EXPECT_EQ(two.value(), std::numeric_limits<double>::infinity());  // 2e308 is past the range
  EXPECT_EQ(two.Mean(2), 1e308);
  // Read back from a checkpoint to the same sum, though unscaled it is past
  // the range.
  const std::optional<ExactSum> back = RoundTrip(two);
  ASSERT_TRUE(back);
  EXPECT_TRUE(*back == two);
  EXPECT_EQ(back->Mean(2), 1e308);
}

TEST(ExactSumTest, EncodeDecodeRoundTrips) {
  for (double extra : {0.0, 1e300}) {
    ExactSum s;
    s.Add(-123.456);
    s.Add(0.001);
    s.Add(extra);
    const std::optional<ExactSum> back = RoundTrip(s);
    ASSERT_TRUE(back);
    EXPECT_TRUE(*back == s);
    EXPECT_EQ(Bits(back->value()), Bits(s.value()));
  }
}

}  // namespace
}  // namespace vigil
