#include "base/codec.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "gtest/gtest.h"

namespace vigil {
namespace {

TEST(CodecTest, HeaderExampleRoundTrips) {
  Encoder enc;
  enc.PutVarint(42);
  enc.PutDouble(0.5);
  enc.PutString("faq");
  Decoder dec(enc.data());
  EXPECT_EQ(dec.GetVarint(), 42u);
  EXPECT_EQ(dec.GetDouble(), 0.5);
  EXPECT_EQ(dec.GetString(), "faq");
  EXPECT_TRUE(dec.ok());
  EXPECT_TRUE(dec.empty());
}

TEST(CodecTest, VarintBytesAreLeb128) {
  Encoder enc;
  enc.PutVarint(0);
  enc.PutVarint(127);
  enc.PutVarint(128);
  enc.PutVarint(300);
  EXPECT_EQ(enc.data(), std::string("\x00\x7f\x80\x01\xac\x02", 6));

  Encoder max;
  max.PutVarint(std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(max.data().size(), 10u);
}

TEST(CodecTest, SignedIsZigZag) {
  // Small magnitudes of either sign take one byte.
  for (int64_t v : {0, -1, 1, -64, 63}) {
    Encoder enc;
    enc.PutSigned(v);
    EXPECT_EQ(enc.data().size(), 1u) << v;
  }
  Encoder enc;
  enc.PutSigned(-1);
  enc.PutSigned(1);
  enc.PutSigned(-2);
  EXPECT_EQ(enc.data(), std::string("\x01\x02\x03", 3));
}

TEST(CodecTest, IntegerExtremesRoundTrip) {
  const uint64_t unsigned_values[] = {0,     1,        127,        128,       16383,
                                      16384, 1u << 31, 1ull << 63, ~0ull - 1, ~0ull};
  const int64_t signed_values[] = {0,
                                   1,
                                   -1,
                                   63,
                                   -64,
                                   64,
                                   -65,
                                   std::numeric_limits<int64_t>::max(),
                                   std::numeric_limits<int64_t>::min(),
                                   std::numeric_limits<int64_t>::min() + 1};
  Encoder enc;
  for (uint64_t v : unsigned_values) enc.PutVarint(v);
  for (int64_t v : signed_values) enc.PutSigned(v);
  Decoder dec(enc.data());
  for (uint64_t v : unsigned_values) EXPECT_EQ(dec.GetVarint(), v);
  for (int64_t v : signed_values) EXPECT_EQ(dec.GetSigned(), v);
  EXPECT_TRUE(dec.ok());
  EXPECT_TRUE(dec.empty());
}

TEST(CodecTest, DoublesRoundTripBitForBit) {
  const double values[] = {0.0,
                           -0.0,
                           1.5,
                           -1e-300,
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max(),
                           std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity()};
  Encoder enc;
  for (double v : values) enc.PutDouble(v);
  enc.PutDouble(std::nan(""));
  EXPECT_EQ(enc.data().size(), 9 * sizeof(double));
  Decoder dec(enc.data());
  for (double v : values) {
    const double got = dec.GetDouble();
    EXPECT_EQ(got, v);
    EXPECT_EQ(std::signbit(got), std::signbit(v));
  }
  EXPECT_TRUE(std::isnan(dec.GetDouble()));
  EXPECT_TRUE(dec.ok());
}

TEST(CodecTest, StringsAndBytes) {
  Encoder enc;
  enc.PutString("");
  enc.PutString(std::string_view("a\0b", 3));
  enc.PutString(std::string(300, 'x'));
  enc.PutByte(0);
  enc.PutByte(255);
  Decoder dec(enc.data());
  EXPECT_EQ(dec.GetString(), "");
  EXPECT_EQ(dec.GetString(), std::string_view("a\0b", 3));
  EXPECT_EQ(dec.GetString(), std::string(300, 'x'));
  EXPECT_EQ(dec.GetByte(), 0);
  EXPECT_EQ(dec.GetByte(), 255);
  EXPECT_TRUE(dec.ok());
  EXPECT_TRUE(dec.empty());
}

TEST(CodecTest, ReleaseHandsOverTheBuffer) {
  Encoder enc;
  enc.PutByte(7);
  std::string bytes = enc.Release();
  EXPECT_EQ(bytes, "\x07");
}

TEST(DecoderTest, EmptyInputFailsEveryRead) {
  {
    Decoder dec("");
    EXPECT_TRUE(dec.ok());
    EXPECT_TRUE(dec.empty());
    dec.GetVarint();
    EXPECT_FALSE(dec.ok());
  }
  {
    Decoder dec("");
    dec.GetDouble();
    EXPECT_FALSE(dec.ok());
  }
  {
    Decoder dec("");
    dec.GetByte();
    EXPECT_FALSE(dec.ok());
  }
  {
    Decoder dec("");
    dec.GetString();
    EXPECT_FALSE(dec.ok());
  }
}

TEST(DecoderTest, TruncationFailsAtEveryCut) {
  Encoder enc;
  enc.PutVarint(1ull << 40);
  enc.PutSigned(-123456789);
  enc.PutDouble(2.5);
  enc.PutString("hello");
  enc.PutByte(9);
  const std::string& full = enc.data();
  for (size_t cut = 0; cut < full.size(); ++cut) {
    Decoder dec(std::string_view(full).substr(0, cut));
    dec.GetVarint();
    dec.GetSigned();
    dec.GetDouble();
    dec.GetString();
    dec.GetByte();
    EXPECT_FALSE(dec.ok()) << "cut at " << cut;
  }
  Decoder dec(full);
  EXPECT_EQ(dec.GetVarint(), 1ull << 40);
  EXPECT_EQ(dec.GetSigned(), -123456789);
  EXPECT_EQ(dec.GetDouble(), 2.5);
  EXPECT_EQ(dec.GetString(), "hello");
  EXPECT_EQ(dec.GetByte(), 9);
  EXPECT_TRUE(dec.ok());
}

TEST(DecoderTest, FailureIsSticky) {
  // A string claiming 5 bytes with only 2 present.
  Decoder dec(
      std::string_view("\x05"
                       "ab"
                       "\x01",
                       4));
  EXPECT_EQ(dec.GetString(), "");
  EXPECT_FALSE(dec.ok());
  // Later reads do not resume on the remaining bytes.
  EXPECT_EQ(dec.GetByte(), 0);
  EXPECT_EQ(dec.GetVarint(), 0u);
  EXPECT_FALSE(dec.ok());
  EXPECT_TRUE(dec.empty());
}

TEST(DecoderTest, OverlongVarintFails) {
  // Eleven continuation bytes: no 64-bit value needs more than ten.
  const std::string bytes(11, '\x80');
  Decoder dec(bytes);
  dec.GetVarint();
  EXPECT_FALSE(dec.ok());
}

TEST(DecoderTest, FailMarksInputMalformed) {
  Decoder dec("\x01\x02");
  EXPECT_EQ(dec.GetByte(), 1);
  EXPECT_EQ(dec.Fail(), 0u);
  EXPECT_FALSE(dec.ok());
  EXPECT_TRUE(dec.empty());
}

}  // namespace
}  // namespace vigil
