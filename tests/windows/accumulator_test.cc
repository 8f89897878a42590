#include "windows/accumulator.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/codec.h"
#include "base/hash.h"
#include "gtest/gtest.h"

namespace vigil {
namespace {

constexpr DurationMs kMinute = 60'000;
constexpr AggKind kAllKinds[] = {
    AggKind::kCount, AggKind::kSum,  AggKind::kAvg,  AggKind::kMin,      AggKind::kMax,
    AggKind::kRatio, AggKind::kRate, AggKind::kLast, AggKind::kDistinct, AggKind::kQuantile};

struct Sample {
  double value;
  TimeMs time;
};

// Folds one event into `acc` the way the metric operator does for its kind.
// Predicates are "value is even", so the counting kinds see hits and misses.
void Feed(Accumulator* acc, const Sample& s) {
  switch (acc->kind()) {
    case AggKind::kCount:
    case AggKind::kRatio:
    case AggKind::kRate:
      acc->AddPredicate(static_cast<int64_t>(s.value) % 2 == 0);
      break;
    case AggKind::kLast:
      acc->AddLast(s.value, s.time);
      break;
    case AggKind::kDistinct:
      acc->AddHash(HashDouble(s.value));
      break;
    default:
      acc->AddNumber(s.value);
  }
}

Accumulator Make(AggKind kind, const std::vector<Sample>& samples, double q = 0.9) {
  Accumulator acc(kind, kind == AggKind::kQuantile ? q : 0);
  for (const Sample& s : samples) Feed(&acc, s);
  return acc;
}

Accumulator Merged(Accumulator a, const Accumulator& b) {
  a.Merge(b);
  return a;
}

std::string Encoded(const Accumulator& acc) {
  Encoder enc;
  acc.Encode(&enc);
  return enc.Release();
}

// Four panes of integer-valued samples (sums of integers are exact in a
// double, so merge order cannot change them), with distinct times across
// panes and a repeated value so distinct() sees duplicates.
std::vector<std::vector<Sample>> Panes() {
  return {
      {{4, 1'000}, {-7, 2'000}, {12, 3'000}},
      {{5, 61'000}, {5, 62'000}},
      {},
      {{100, 181'000}, {-3, 150'000}, {4, 179'000}, {8, 185'000}},
  };
}

TEST(AccumulatorTest, NamesAndInvertibility) {
  EXPECT_EQ(AggKindName(AggKind::kCount), "count");
  EXPECT_EQ(AggKindName(AggKind::kQuantile), "quantile");
  EXPECT_EQ(AggKindName(AggKind::kDistinct), "distinct");
  for (AggKind kind :
       {AggKind::kCount, AggKind::kSum, AggKind::kAvg, AggKind::kRatio, AggKind::kRate}) {
    EXPECT_TRUE(IsInvertible(kind)) << AggKindName(kind);
  }
  for (AggKind kind :
       {AggKind::kMin, AggKind::kMax, AggKind::kLast, AggKind::kDistinct, AggKind::kQuantile}) {
    EXPECT_FALSE(IsInvertible(kind)) << AggKindName(kind);
  }
}

TEST(AccumulatorTest, CountCountsHits) {
  Accumulator count(AggKind::kCount);
  EXPECT_EQ(count.Result(kMinute), 0.0);
  count.AddPredicate(true);
  count.AddPredicate(false);
  count.AddPredicate(true);
  count.AddPredicate(false);
  count.AddPredicate(true);
  EXPECT_EQ(count.Result(kMinute), 3.0);
  // The window size does not enter a count.
  EXPECT_EQ(count.Result(1), 3.0);
}

// -0 and 0 are equal, but their bits are not: min gives -0 and max 0
// whatever order they come in, added or merged.
// ratio / (num / den) in one rounding: 33 hits of 1000 over 1/100 is 3.3's
// own double, where (33.0 / 1000) / 0.01 is 3.3000000000000003.
TEST(AccumulatorTest, RatioOverAFractionRoundsOnce) {
  Accumulator ratio(AggKind::kRatio);
  EXPECT_EQ(ratio.RatioOver(1, 100), std::nullopt);
  for (int i = 0; i < 1000; ++i) ratio.AddPredicate(i < 33);
  EXPECT_NE((33.0 / 1000) / 0.01, 3.3);
  EXPECT_EQ(ratio.RatioOver(1, 100), 3.3);
  EXPECT_EQ(ratio.RatioOver(1, 1), 0.033);
  EXPECT_EQ(ratio.RatioOver(5, 10'000), 66.0);  // a 99.95% objective's budget
  EXPECT_EQ(ratio.RatioOver(3, 1), 0.011);
}

TEST(AccumulatorTest, MinAndMaxOfZerosDoNotDependOnTheOrder) {
  for (const auto& [first, second] : {std::pair(0.0, -0.0), std::pair(-0.0, 0.0)}) {
    for (AggKind kind : {AggKind::kMin, AggKind::kMax}) {
      Accumulator added(kind), a(kind), b(kind);
      added.AddNumber(first);
      added.AddNumber(second);
      a.AddNumber(first);
      b.AddNumber(second);
      for (const Accumulator& acc : {added, Merged(a, b)}) {
        const double got = *acc.Result(kMinute);
        EXPECT_EQ(got, 0.0);
        EXPECT_EQ(std::signbit(got), kind == AggKind::kMin) << first << " then " << second;
      }
    }
  }
}

// last(x) at equal event times keeps 0 over -0, whether added or merged
// and in either order, as max does.
TEST(AccumulatorTest, LastOfZerosAtOneTimeDoesNotDependOnTheOrder) {
  for (const auto& [first, second] : {std::pair(0.0, -0.0), std::pair(-0.0, 0.0)}) {
    Accumulator added(AggKind::kLast), a(AggKind::kLast), b(AggKind::kLast);
    added.AddLast(first, 1000);
    added.AddLast(second, 1000);
    a.AddLast(first, 1000);
    b.AddLast(second, 1000);
    for (const Accumulator& acc : {added, Merged(a, b), Merged(b, a)}) {
      const double got = *acc.Result(kMinute);
      EXPECT_EQ(got, 0.0);
      EXPECT_FALSE(std::signbit(got)) << first << " then " << second;
    }
  }
}

TEST(AccumulatorTest, SumAndAvg) {
  Accumulator sum(AggKind::kSum);
  Accumulator avg(AggKind::kAvg);
  EXPECT_EQ(sum.Result(kMinute), 0.0);
  EXPECT_EQ(avg.Result(kMinute), std::nullopt);
  for (double v : {1.5, 2.5, -1.0, 5.0}) {
    sum.AddNumber(v);
    avg.AddNumber(v);
  }
  EXPECT_EQ(sum.Result(kMinute), 8.0);
  EXPECT_EQ(avg.Result(kMinute), 2.0);
  // NaN is not a number to aggregate: neither summed nor counted.
  sum.AddNumber(std::nan(""));
  avg.AddNumber(std::nan(""));
  EXPECT_EQ(sum.Result(kMinute), 8.0);
  EXPECT_EQ(avg.Result(kMinute), 2.0);
}

TEST(AccumulatorTest, MinAndMax) {
  Accumulator min(AggKind::kMin);
  Accumulator max(AggKind::kMax);
  EXPECT_EQ(min.Result(kMinute), std::nullopt);
  EXPECT_EQ(max.Result(kMinute), std::nullopt);
  // All values above zero: an empty state's x_ = 0 must not leak into min.
  for (double v : {3.0, 7.0, 5.0}) {
    min.AddNumber(v);
    max.AddNumber(v);
  }
  EXPECT_EQ(min.Result(kMinute), 3.0);
  EXPECT_EQ(max.Result(kMinute), 7.0);

  Accumulator negative_max(AggKind::kMax);
  negative_max.AddNumber(-4);
  negative_max.AddNumber(-9);
  EXPECT_EQ(negative_max.Result(kMinute), -4.0);
  negative_max.AddNumber(std::nan(""));
  EXPECT_EQ(negative_max.Result(kMinute), -4.0);

  Accumulator only_nan(AggKind::kMin);
  only_nan.AddNumber(std::nan(""));
  EXPECT_EQ(only_nan.Result(kMinute), std::nullopt);
}

TEST(AccumulatorTest, Ratio) {
  Accumulator ratio(AggKind::kRatio);
  EXPECT_EQ(ratio.Result(kMinute), std::nullopt);
  ratio.AddPredicate(false);
  EXPECT_EQ(ratio.Result(kMinute), 0.0);
  ratio.AddPredicate(true);
  ratio.AddPredicate(true);
  ratio.AddPredicate(false);
  EXPECT_EQ(ratio.Result(kMinute), 0.5);
  ratio.AddPredicate(true);
  EXPECT_DOUBLE_EQ(*ratio.Result(kMinute), 3.0 / 5.0);
}

TEST(AccumulatorTest, RateIsHitsPerSecondOfWindow) {
  Accumulator rate(AggKind::kRate);
  EXPECT_EQ(rate.Result(kMinute), 0.0);
  for (int i = 0; i < 4; ++i) rate.AddPredicate(true);
  rate.AddPredicate(false);
  // hits * 1000 / window_size: 4 hits in a minute, in 5 minutes, in a second.
  EXPECT_DOUBLE_EQ(*rate.Result(kMinute), 4.0 / 60.0);
  EXPECT_DOUBLE_EQ(*rate.Result(5 * kMinute), 4.0 / 300.0);
  EXPECT_EQ(rate.Result(1'000), 4.0);
  EXPECT_EQ(rate.Result(500), 8.0);
}

TEST(AccumulatorTest, LastTakesTheGreatestTime) {
  Accumulator last(AggKind::kLast);
  EXPECT_EQ(last.Result(kMinute), std::nullopt);
  last.AddLast(10, 5'000);
  EXPECT_EQ(last.Result(kMinute), 10.0);
  // An older event arriving late does not replace a newer value.
  last.AddLast(20, 3'000);
  EXPECT_EQ(last.Result(kMinute), 10.0);
  last.AddLast(30, 6'000);
  EXPECT_EQ(last.Result(kMinute), 30.0);
  // A tie in time resolves to the larger value, whatever arrives first.
  last.AddLast(40, 6'000);
  EXPECT_EQ(last.Result(kMinute), 40.0);
  last.AddLast(-1, 6'000);
  EXPECT_EQ(last.Result(kMinute), 40.0);
  // Times before the epoch are ordinary times.
  Accumulator early(AggKind::kLast);
  early.AddLast(1, -5'000);
  early.AddLast(2, -6'000);
  EXPECT_EQ(early.Result(kMinute), 1.0);
}

TEST(AccumulatorTest, LastMergeBreaksTiesByValueInEitherOrder) {
  Accumulator a(AggKind::kLast);
  Accumulator b(AggKind::kLast);
  a.AddLast(5, 10'000);
  b.AddLast(7, 10'000);
  EXPECT_EQ(Merged(a, b).Result(kMinute), 7.0);
  EXPECT_EQ(Merged(b, a).Result(kMinute), 7.0);
  EXPECT_EQ(Merged(a, b), Merged(b, a));

  Accumulator newer(AggKind::kLast);
  newer.AddLast(1, 11'000);
  EXPECT_EQ(Merged(a, newer).Result(kMinute), 1.0);
  EXPECT_EQ(Merged(newer, a).Result(kMinute), 1.0);
  // Merging an empty side changes nothing, whichever side it is on.
  Accumulator empty(AggKind::kLast);
  EXPECT_EQ(Merged(empty, a), a);
  EXPECT_EQ(Merged(a, empty), a);
}

TEST(AccumulatorTest, Distinct) {
  Accumulator distinct(AggKind::kDistinct);
  EXPECT_EQ(distinct.Result(kMinute), 0.0);
  distinct.AddHash(HashBytes("u1"));
  distinct.AddHash(HashBytes("u2"));
  distinct.AddHash(HashBytes("u1"));
  distinct.AddHash(HashDouble(3));
  distinct.AddHash(HashInt64(3));
  EXPECT_EQ(distinct.Result(kMinute), 3.0);
}

// A pane's sketch handed over to the window results leaves the accumulator
// answering nothing, not reading a sketch it no longer has.
TEST(AccumulatorTest, ATakenSketchHoldsTheValuesAndTheAccumulatorAnswersNothing) {
  Accumulator p50(AggKind::kQuantile, 0.5);
  for (double v : {10.0, 20.0, 30.0}) p50.AddNumber(v);
  std::unique_ptr<DDSketch> sketch = p50.TakeSketch();
  ASSERT_NE(sketch, nullptr);
  EXPECT_EQ(sketch->count(), 3u);
  EXPECT_NEAR(sketch->Quantile(0.5), 20.0, 20.0 * 0.01);
  EXPECT_EQ(p50.sketch(), nullptr);
  EXPECT_EQ(p50.Result(kMinute), std::nullopt);
  EXPECT_EQ(p50.QuantileAt(0.9), std::nullopt);
  EXPECT_EQ(p50.TakeSketch(), nullptr);  // once
  Accumulator count(AggKind::kCount);
  EXPECT_EQ(count.TakeSketch(), nullptr);
}

TEST(AccumulatorTest, Quantile) {
  Accumulator p50(AggKind::kQuantile, 0.5);
  Accumulator p99(AggKind::kQuantile, 0.99);
  Accumulator p0(AggKind::kQuantile, 0.0);
  Accumulator p100(AggKind::kQuantile, 1.0);
  EXPECT_EQ(p50.Result(kMinute), std::nullopt);
  EXPECT_EQ(p99.quantile(), 0.99);
  // Added in a scrambled order: 1..100.
  for (int i = 0; i < 100; ++i) {
    const double v = (i * 37) % 100 + 1;
    for (Accumulator* acc : {&p50, &p99, &p0, &p100}) acc->AddNumber(v);
  }
  // Exact values of rank floor(q * 99): 50 and 99; the sketch is within 0.5%.
  EXPECT_NEAR(*p50.Result(kMinute), 50.0, 50.0 * 0.005);
  EXPECT_NEAR(*p99.Result(kMinute), 99.0, 99.0 * 0.005);
  EXPECT_EQ(p0.Result(kMinute), 1.0);
  EXPECT_EQ(p100.Result(kMinute), 100.0);

  Accumulator only_nan(AggKind::kQuantile, 0.5);
  only_nan.AddNumber(std::nan(""));
  EXPECT_EQ(only_nan.Result(kMinute), std::nullopt);
}

TEST(AccumulatorTest, ResultsOnTheSharedPanes) {
  std::vector<Sample> all;
  for (const auto& pane : Panes()) all.insert(all.end(), pane.begin(), pane.end());
  // Values 4 -7 12 5 5 100 -3 4 8 (times: 100 at 181 s is the latest).
  EXPECT_EQ(Make(AggKind::kCount, all).Result(kMinute), 5.0);  // 4 12 100 4 8
  EXPECT_EQ(Make(AggKind::kSum, all).Result(kMinute), 128.0);
  EXPECT_DOUBLE_EQ(*Make(AggKind::kAvg, all).Result(kMinute), 128.0 / 9.0);
  EXPECT_EQ(Make(AggKind::kMin, all).Result(kMinute), -7.0);
  EXPECT_EQ(Make(AggKind::kMax, all).Result(kMinute), 100.0);
  EXPECT_DOUBLE_EQ(*Make(AggKind::kRatio, all).Result(kMinute), 5.0 / 9.0);
  EXPECT_DOUBLE_EQ(*Make(AggKind::kRate, all).Result(5 * kMinute), 5.0 / 300.0);
  EXPECT_EQ(Make(AggKind::kLast, all).Result(kMinute), 8.0);  // at 185 s
  EXPECT_EQ(Make(AggKind::kDistinct, all).Result(kMinute), 7.0);
  EXPECT_EQ(Make(AggKind::kQuantile, all, 1.0).Result(kMinute), 100.0);
  EXPECT_EQ(Make(AggKind::kQuantile, all, 0.0).Result(kMinute), -7.0);
}

// Every way of combining the panes (left fold, right fold, reversed, a
// balanced tree, with an empty pane in different positions) gives a state
// equal to feeding every sample into one accumulator.
TEST(AccumulatorTest, MergeIsAssociativeAndCommutative) {
  const std::vector<std::vector<Sample>> panes = Panes();
  for (AggKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(AggKindName(kind)));
    std::vector<Accumulator> p;
    std::vector<Sample> all;
    for (const auto& samples : panes) {
      p.push_back(Make(kind, samples));
      all.insert(all.end(), samples.begin(), samples.end());
    }
    const Accumulator direct = Make(kind, all);

    const Accumulator left = Merged(Merged(Merged(p[0], p[1]), p[2]), p[3]);
    const Accumulator right = Merged(p[0], Merged(p[1], Merged(p[2], p[3])));
    const Accumulator reversed = Merged(Merged(Merged(p[3], p[2]), p[1]), p[0]);
    const Accumulator tree = Merged(Merged(p[0], p[3]), Merged(p[2], p[1]));
    const Accumulator from_empty =
        Merged(Merged(Merged(Merged(Make(kind, {}), p[1]), p[3]), p[0]), p[2]);

    EXPECT_EQ(left, direct);
    EXPECT_EQ(right, direct);
    EXPECT_EQ(reversed, direct);
    EXPECT_EQ(tree, direct);
    EXPECT_EQ(from_empty, direct);
    EXPECT_EQ(left.Result(kMinute), direct.Result(kMinute));
    EXPECT_EQ(tree.Result(kMinute), direct.Result(kMinute));
    EXPECT_EQ(Merged(p[0], p[1]), Merged(p[1], p[0]));
    EXPECT_EQ(Merged(p[3], p[0]), Merged(p[0], p[3]));
  }
}

TEST(AccumulatorTest, EqualitySeesDifferences) {
  for (AggKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(AggKindName(kind)));
    const Accumulator a = Make(kind, {{2, 1'000}, {3, 2'000}});
    EXPECT_EQ(a, Make(kind, {{2, 1'000}, {3, 2'000}}));
    EXPECT_FALSE(a == Make(kind, {{2, 1'000}, {3, 2'000}, {4, 3'000}}));
    EXPECT_FALSE(a == Make(kind, {}));
  }
  EXPECT_FALSE(Accumulator(AggKind::kSum) == Accumulator(AggKind::kAvg));
  EXPECT_FALSE(Accumulator(AggKind::kQuantile, 0.5) == Accumulator(AggKind::kQuantile, 0.9));
}

TEST(AccumulatorTest, SubtractUndoesMerge) {
  const std::vector<std::vector<Sample>> panes = Panes();
  for (AggKind kind : kAllKinds) {
    if (!IsInvertible(kind)) continue;
    SCOPED_TRACE(std::string(AggKindName(kind)));
    const Accumulator a = Make(kind, panes[0]);
    const Accumulator b = Make(kind, panes[1]);
    const Accumulator d = Make(kind, panes[3]);

    Accumulator window = a;
    window.Merge(b);
    window.Subtract(b);
    EXPECT_EQ(window, a);

    // A window sliding over a, b, d: evicting the oldest pane leaves the
    // merge of the rest, as if it had never been there.
    window = Merged(Merged(a, b), d);
    window.Subtract(a);
    EXPECT_EQ(window, Merged(b, d));
    EXPECT_EQ(window.Result(kMinute), Merged(b, d).Result(kMinute));
    window.Subtract(b);
    EXPECT_EQ(window, d);
    window.Subtract(d);
    EXPECT_EQ(window, Make(kind, {}));
    EXPECT_EQ(window.Result(kMinute), Make(kind, {}).Result(kMinute));
  }
}

TEST(AccumulatorTest, SubtractToEmptyIsExactlyZero) {
  // 0.1 + 0.2 - 0.1 - 0.2 is not 0 in floating point; an emptied window is.
  Accumulator a(AggKind::kSum);
  Accumulator b(AggKind::kSum);
  a.AddNumber(0.1);
  b.AddNumber(0.2);
  Accumulator window(AggKind::kSum);
  window.Merge(a);
  window.Merge(b);
  window.Subtract(a);
  window.Subtract(b);
  EXPECT_EQ(window.Result(kMinute), 0.0);
  EXPECT_EQ(window, Accumulator(AggKind::kSum));

  Accumulator avg(AggKind::kAvg);
  Accumulator one(AggKind::kAvg);
  one.AddNumber(0.3);
  avg.Merge(one);
  avg.Subtract(one);
  EXPECT_EQ(avg.Result(kMinute), std::nullopt);
}

TEST(AccumulatorTest, ClearEmpties) {
  for (AggKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(AggKindName(kind)));
    Accumulator acc = Make(kind, Panes()[3]);
    ASSERT_FALSE(acc == Make(kind, {}));
    acc.Clear();
    EXPECT_EQ(acc, Make(kind, {}));
    // Usable again after Clear.
    Feed(&acc, {6, 1'000});
    EXPECT_EQ(acc, Make(kind, {{6, 1'000}}));
  }
}

TEST(AccumulatorTest, CopiesAreIndependent) {
  for (AggKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(AggKindName(kind)));
    Accumulator original = Make(kind, Panes()[0]);
    Accumulator copy(original);
    Accumulator assigned(kind);
    assigned = original;
    Feed(&original, {1'000'000, 1'000'000});
    Feed(&original, {2, 1'000'001});
    EXPECT_EQ(copy, Make(kind, Panes()[0]));
    EXPECT_EQ(assigned, Make(kind, Panes()[0]));
    EXPECT_FALSE(copy == original);
  }
}

TEST(AccumulatorTest, EncodeDecodeRoundTripsEveryKind) {
  for (AggKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(AggKindName(kind)));
    for (const std::vector<Sample>& samples : Panes()) {
      const Accumulator acc = Make(kind, samples, 0.75);
      const std::string bytes = Encoded(acc);
      Decoder dec(bytes);
      // Decode replaces whatever kind the target had.
      Accumulator out(AggKind::kCount);
      ASSERT_TRUE(Accumulator::Decode(&dec, &out));
      EXPECT_TRUE(dec.empty());
      EXPECT_EQ(out, acc);
      EXPECT_EQ(out.kind(), kind);
      EXPECT_EQ(out.quantile(), acc.quantile());
      EXPECT_EQ(out.Result(kMinute), acc.Result(kMinute));
      // The decoded state keeps working: it merges like the original.
      EXPECT_EQ(Merged(out, Make(kind, Panes()[1])), Merged(acc, Make(kind, Panes()[1])));
    }
  }
  // Extreme fields survive: negative times, kMinTime, large counts.
  Accumulator last(AggKind::kLast);
  last.AddLast(-2.5, -86'400'000);
  Encoder enc;
  last.Encode(&enc);
  Accumulator(AggKind::kLast).Encode(&enc);
  Decoder dec(enc.data());
  Accumulator a(AggKind::kCount);
  Accumulator b(AggKind::kCount);
  ASSERT_TRUE(Accumulator::Decode(&dec, &a));
  ASSERT_TRUE(Accumulator::Decode(&dec, &b));
  EXPECT_EQ(a, last);
  EXPECT_EQ(b, Accumulator(AggKind::kLast));
  EXPECT_TRUE(dec.empty());
}

TEST(AccumulatorTest, DecodeRejectsTruncatedInput) {
  for (AggKind kind : kAllKinds) {
    SCOPED_TRACE(std::string(AggKindName(kind)));
    const Accumulator acc = Make(kind, Panes()[3]);
    const std::string bytes = Encoded(acc);
    const Accumulator untouched = Make(kind, {{9, 9}});
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      Decoder dec(std::string_view(bytes).substr(0, cut));
      Accumulator out = untouched;
      EXPECT_FALSE(Accumulator::Decode(&dec, &out)) << "cut at " << cut;
      // A failed decode leaves the target as it was.
      EXPECT_EQ(out, untouched) << "cut at " << cut;
    }
  }
}

TEST(AccumulatorTest, DecodeRejectsUnknownKind) {
  std::string bytes = Encoded(Make(AggKind::kCount, {{2, 0}}));
  bytes[0] = static_cast<char>(static_cast<uint8_t>(AggKind::kQuantile) + 1);
  Decoder dec(bytes);
  Accumulator out(AggKind::kCount);
  EXPECT_FALSE(Accumulator::Decode(&dec, &out));
}

}  // namespace
}  // namespace vigil

namespace vigil {
namespace {

uint64_t Bits(double d) {
  uint64_t b;
  std::memcpy(&b, &d, sizeof b);
  return b;
}

TEST(AccumulatorTest, SumsAndAvgsMergedFromPartsMatchOnePieceToTheBit) {
  for (AggKind kind : {AggKind::kSum, AggKind::kAvg}) {
    Accumulator whole(kind);
    std::vector<Accumulator> parts(4, Accumulator(kind));
    for (int i = 0; i < 1000; ++i) {
      const double v = 0.1 * i - 7.3 / (i + 1);
      whole.AddNumber(v);
      parts[(i * 7) % 4].AddNumber(v);
    }
    Accumulator merged(kind);
    for (int p : {2, 0, 3, 1}) merged.Merge(parts[p]);
    EXPECT_EQ(Bits(*merged.Result(60'000)), Bits(*whole.Result(60'000)));
  }
}

TEST(AccumulatorTest, LastTiesResolveToTheLargerValueInAnyArrivalOrder) {
  Accumulator a(AggKind::kLast), b(AggKind::kLast);
  a.AddLast(3, 1000);
  a.AddLast(5, 1000);
  b.AddLast(5, 1000);
  b.AddLast(3, 1000);
  EXPECT_EQ(*a.Result(60'000), 5);
  EXPECT_EQ(*b.Result(60'000), 5);
  EXPECT_TRUE(a == b);
}

// Sums encoded before they were exact (a double in the fixed fields)
// decode to the same value.
TEST(AccumulatorTest, OlderSumEncodingsDecode) {
  Encoder enc;
  enc.PutByte(static_cast<uint8_t>(AggKind::kAvg));
  enc.PutDouble(0);
  enc.PutVarint(4);     // n
  enc.PutVarint(0);     // hits
  enc.PutDouble(10.5);  // the sum
  enc.PutSigned(kMinTime);
  Decoder dec(enc.data());
  Accumulator acc(AggKind::kCount);
  ASSERT_TRUE(Accumulator::Decode(&dec, &acc));
  EXPECT_EQ(acc.kind(), AggKind::kAvg);
  EXPECT_EQ(*acc.Result(60'000), 10.5 / 4);
}

}  // namespace
}  // namespace vigil
