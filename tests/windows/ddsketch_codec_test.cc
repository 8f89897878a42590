// DDSketch encodings: round trips, both formats byte by byte, and decoding
// of truncated, garbled and inconsistent input (windows/ddsketch.h).
#include <string>
#include <vector>

#include "base/codec.h"
#include "gtest/gtest.h"
#include "tests/windows/ddsketch_test_util.h"
#include "windows/ddsketch.h"

namespace vigil {
namespace {

using namespace ddsketch_test;  // NOLINT: the shared helpers

TEST(DDSketchTest, EncodeDecodeRoundTrip) {
  const std::vector<DDSketch> cases = {DDSketch(), SketchOf({0.0}), SketchOf({-1.5, 3.0}),
                                       SketchOf(MergeTestValues()),
                                       SketchOf(MergeTestValues(), 0.02, 32)};
  for (const DDSketch& original : cases) {
    const std::string bytes = EncodeToString(original);
    Decoder dec(bytes);
    DDSketch decoded(0.1);
    ASSERT_TRUE(DDSketch::Decode(&dec, &decoded));
    EXPECT_TRUE(dec.empty());
    EXPECT_EQ(decoded, original);
    EXPECT_EQ(EncodeToString(decoded), bytes);
    if (!original.empty()) {
      EXPECT_EQ(decoded.Quantile(0.99), original.Quantile(0.99));
    }
    // The decoded sketch keeps working.
    decoded.Add(7.0);
    DDSketch expected = original;
    expected.Add(7.0);
    EXPECT_EQ(decoded, expected);
  }
}

TEST(DDSketchTest, DecodeRejectsTruncatedInput) {
  for (const DDSketch& original : {DDSketch(), SketchOf(MergeTestValues())}) {
    const std::string bytes = EncodeToString(original);
    for (size_t n = 0; n < bytes.size(); ++n) {
      DDSketch out = SketchOf({123.0});
      EXPECT_FALSE(DecodeFrom(std::string_view(bytes).substr(0, n), &out)) << n;
      EXPECT_EQ(out, SketchOf({123.0})) << "untouched on failure";
    }
  }
}

// Written by the format-1 encoder for {-4, 0, 1, 1, 1.03, 1.1} at the default
// accuracy and its span cap of 2048, and for {1, 2, 3, 1.1, 1.12, 1.14, 1.16,
// 1.18, 1.2} at accuracy 0.01 with a span cap of 8, which folded every value
// into the lowest bucket kept.
constexpr std::string_view kFormat1Default(
    "\x7b\x14\xae\x47\xe1\x7a\x74\x3f\x80\x10\x01\x0b\x00\x02\x00\x00\x01\x00\x00\x00"
    "\x00\x00\x00\x01\x01\x98\x02\x01\x00\x00\x00\x00\x00\x00\x10\xc0\x9a\x99\x99\x99"
    "\x99\x99\xf1\x3f\xa8\x70\x3d\x0a\xd7\xa3\xc0\x3f",
    52);
constexpr std::string_view kFormat1Folded(
    "\x7b\x14\xae\x47\xe1\x7a\x84\x3f\x08\x00\x08\x62\x08\x00\x00\x00\x00\x00\x00\x01"
    "\x00\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00\x08\x40\xcc\xcc\xcc"
    "\xcc\xcc\xcc\x29\x40",
    45);

TEST(DDSketchTest, DecodeSurvivesGarbledInput) {
  for (const std::string& bytes :
       {EncodeToString(SketchOf({-4.0, 0.0, 1.0, 2.0, 3.0, 1e4, 1e200, -1e-200})),
        std::string(kFormat1Default)}) {
    int rejected = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
      for (int x : {0x01, 0x80, 0xff, 0x7f}) {
        std::string garbled = bytes;
        garbled[i] = static_cast<char>(garbled[i] ^ x);
        DDSketch out;
        if (!DecodeFrom(garbled, &out)) {
          ++rejected;
          continue;
        }
        // Whatever is accepted is a usable sketch.
        EXPECT_LE(out.min(), out.max());
        for (double q : {0.0, 0.3, 0.5, 0.99, 1.0}) {
          EXPECT_GE(out.Quantile(q), out.min());
          EXPECT_LE(out.Quantile(q), out.max());
        }
        out.Add(1.0);
        out.Merge(out);
      }
    }
    EXPECT_GT(rejected, static_cast<int>(bytes.size()));
  }
}

// Format 1, as sketches were encoded before format 2: the accuracy (positive),
// the span cap, the zero count, per store the span, the first index and one
// count per index, then min, max and sum.
std::string HandMade(double alpha, uint64_t max_buckets, uint64_t zero, uint64_t span,
                     int64_t first, const std::vector<uint64_t>& counts) {
  Encoder enc;
  enc.PutDouble(alpha);
  enc.PutVarint(max_buckets);
  enc.PutVarint(zero);
  enc.PutVarint(span);
  if (span > 0) enc.PutSigned(first);
  for (uint64_t c : counts) enc.PutVarint(c);
  enc.PutVarint(0);  // negative store
  enc.PutDouble(1.0);
  enc.PutDouble(2.0);
  enc.PutDouble(3.0);
  return enc.Release();
}

TEST(DDSketchTest, DecodeRejectsInconsistentFormat1Fields) {
  DDSketch out;
  ASSERT_TRUE(DecodeFrom(HandMade(0.01, 64, 0, 2, 1, {1, 1}), &out));
  EXPECT_EQ(out.count(), 2u);
  EXPECT_FALSE(DecodeFrom(HandMade(std::nan(""), 64, 0, 2, 1, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.0, 64, 0, 2, 1, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(1.0, 64, 0, 2, 1, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 0, 0, 2, 1, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, uint64_t{1} << 40, 0, 2, 1, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 65, 1, std::vector<uint64_t>(65, 1)), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 2, 1, {0, 1}), &out)) << "empty end bucket";
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 2, 1, {1, 0}), &out)) << "empty end bucket";
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 2, int64_t{1} << 40, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 2, INT64_MAX, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 2, -1'000'000, {1, 1}), &out));
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, UINT64_MAX, 2, 1, {1, 1}), &out)) << "overflow";
  EXPECT_FALSE(DecodeFrom(HandMade(0.01, 64, 0, 2, 1, {UINT64_MAX, 1}), &out)) << "overflow";
  Encoder bad_minmax;
  bad_minmax.PutDouble(0.01);
  bad_minmax.PutVarint(64);
  bad_minmax.PutVarint(1);
  bad_minmax.PutVarint(0);
  bad_minmax.PutVarint(0);
  bad_minmax.PutDouble(2.0);
  bad_minmax.PutDouble(1.0);  // max < min
  bad_minmax.PutDouble(0.0);
  EXPECT_FALSE(DecodeFrom(bad_minmax.data(), &out));
}

// --- Outliers and the bucket cap -------------------------------------------

// n latencies in [20, 5000] ms, log-uniform.

TEST(DDSketchTest, DecodesFormat1) {
  DDSketch decoded;
  ASSERT_TRUE(DecodeFrom(kFormat1Default, &decoded));
  const DDSketch fresh = SketchOf({-4.0, 0.0, 1.0, 1.0, 1.03, 1.1});
  EXPECT_EQ(decoded.max_buckets(), DDSketch::kDefaultMaxBuckets);
  EXPECT_EQ(decoded, fresh);
  EXPECT_EQ(EncodeToString(decoded), EncodeToString(fresh));
  // The answer the format-1 sketch gave.
  EXPECT_EQ(decoded.Quantile(0.5), 0.99518017510044943);
  decoded.Merge(SketchOf({2.0}));
  EXPECT_EQ(decoded, SketchOf({-4.0, 0.0, 1.0, 1.0, 1.03, 1.1, 2.0}));

  // A folded format-1 sketch keeps its folded counts, under the default cap.
  DDSketch folded;
  ASSERT_TRUE(DecodeFrom(kFormat1Folded, &folded));
  EXPECT_EQ(folded.max_buckets(), DDSketch::kDefaultMaxBuckets);
  EXPECT_EQ(folded.relative_accuracy(), 0.01);
  EXPECT_EQ(folded.count(), 9u);
  EXPECT_EQ(folded.min(), 1.0);
  EXPECT_EQ(folded.max(), 3.0);
  EXPECT_EQ(folded.positive_buckets(), 2) << "3.0's and the one everything else folded into";
  EXPECT_EQ(folded.Quantile(0.5), 2.611675333080806);
  DDSketch again;
  ASSERT_TRUE(DecodeFrom(EncodeToString(folded), &again));
  EXPECT_EQ(again, folded);

  for (std::string_view bytes : {kFormat1Default, kFormat1Folded}) {
    for (size_t n = 0; n < bytes.size(); ++n) {
      DDSketch out;
      EXPECT_FALSE(DecodeFrom(bytes.substr(0, n), &out)) << n;
    }
  }
}

TEST(DDSketchTest, Format2ByHand) {
  // {1, 1, 1.015, 2, 100}: runs of consecutive non-empty buckets.
  const internal::LogMapping mapping(0.01);
  const int32_t one = mapping.Index(1.0);
  ASSERT_EQ(mapping.Index(1.015), one + 1);
  const DDSketch sketch = SketchOf({1.0, 1.0, 1.015, 2.0, 100.0}, 0.01, 64);
  Encoder enc;
  enc.PutDouble(-0.01);
  enc.PutVarint(2);   // format
  enc.PutVarint(64);  // cap
  enc.PutVarint(0);   // zeros
  enc.PutVarint(4);   // positive buckets
  enc.PutSigned(one);
  enc.PutVarint(2);  // run of 2: counts 2, 1
  enc.PutVarint(2);
  enc.PutVarint(1);
  enc.PutVarint(static_cast<uint64_t>(mapping.Index(2.0) - (one + 1) - 2));
  enc.PutVarint(1);
  enc.PutVarint(1);
  enc.PutVarint(static_cast<uint64_t>(mapping.Index(100.0) - mapping.Index(2.0) - 2));
  enc.PutVarint(1);
  enc.PutVarint(1);
  enc.PutVarint(0);  // negative buckets
  enc.PutDouble(1.0);
  enc.PutDouble(100.0);
  EXPECT_EQ(EncodeToString(sketch), enc.data());
}

// Format 2 with a positive store of `buckets` buckets from index `first`,
// `rest` its runs (length, counts, skipped buckets less one, ...), and no
// negative values.
std::string Format2(uint64_t format, uint64_t cap, uint64_t buckets, int64_t first,
                    const std::vector<uint64_t>& rest) {
  Encoder enc;
  enc.PutDouble(-0.01);
  enc.PutVarint(format);
  enc.PutVarint(cap);
  enc.PutVarint(0);
  enc.PutVarint(buckets);
  enc.PutSigned(first);
  for (uint64_t v : rest) enc.PutVarint(v);
  enc.PutVarint(0);
  enc.PutDouble(1.0);
  enc.PutDouble(2.0);
  return enc.Release();
}

TEST(DDSketchTest, DecodeRejectsInconsistentFormat2Fields) {
  DDSketch out;
  // Runs {10, 11} and {13}: lengths, counts, and one skipped bucket less one.
  ASSERT_TRUE(DecodeFrom(Format2(2, 64, 3, 10, {2, 1, 1, 0, 1, 5}), &out));
  EXPECT_EQ(out.count(), 7u);
  EXPECT_EQ(out.positive_buckets(), 3);
  EXPECT_EQ(out.positive_span(), 4);
  EXPECT_FALSE(DecodeFrom(Format2(3, 64, 3, 10, {2, 1, 1, 0, 1, 5}), &out)) << "format";
  EXPECT_FALSE(DecodeFrom(Format2(2, 2, 3, 10, {2, 1, 1, 0, 1, 5}), &out)) << "cap below 8";
  EXPECT_FALSE(DecodeFrom(Format2(2, 8, 9, 10, {9, 1, 1, 1, 1, 1, 1, 1, 1, 1}), &out))
      << "more buckets than the cap";
  EXPECT_FALSE(DecodeFrom(Format2(2, 64, 3, 10, {0, 1, 1, 0, 1, 5}), &out)) << "empty run";
  EXPECT_FALSE(DecodeFrom(Format2(2, 64, 3, 10, {4, 1, 1, 1, 1}), &out)) << "run too long";
  EXPECT_FALSE(DecodeFrom(Format2(2, 64, 3, 10, {2, 1, 0, 0, 1, 5}), &out)) << "empty bucket";
  EXPECT_FALSE(DecodeFrom(Format2(2, 64, 3, 1'000'000, {2, 1, 1, 0, 1, 5}), &out)) << "index";
  EXPECT_FALSE(DecodeFrom(Format2(2, 64, 3, 10, {2, 1, 1, uint64_t{1} << 40, 1, 5}), &out))
      << "gap past the index range";
  EXPECT_FALSE(DecodeFrom(Format2(2, 64, 2, 10, {1, UINT64_MAX, 0, 1, 5}), &out)) << "overflow";
}

// The logical definition, computed from the multiset alone and written in
// format 2 by hand: every value's bucket, each sign cut to its `cap`
// highest non-empty buckets with the rest added to the lowest of those.

}  // namespace
}  // namespace vigil
