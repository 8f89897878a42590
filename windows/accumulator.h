// windows/accumulator.h
//
// Accumulator is the mergeable partial state of one aggregate function over
// one pane or window: count, sum, avg, min, max, ratio, rate, last, distinct
// and quantile. A metric's pane holds one Accumulator per aggregate call in
// its `value:` expression. The kind is a tag, not a virtual type: the
// per-event update is a switch on plain data, and the state is trivially
// serialisable.
//
// Merging is associative and commutative (panes merged in any order give the
// same window), down to the bits: sums are exact (windows/exact_sum.h) and
// last() breaks a tie of event times by the larger value, so a window
// aggregated in one piece, by several workers or by scale-out instances
// gives the same result. Count, sum, avg, ratio and rate are also invertible:
// `Subtract` removes a pane that slides out of a window, so a long window
// with a short slide costs O(1) per fire instead of a re-merge of every pane.
//
// Example:
//   Accumulator p99(AggKind::kQuantile, 0.99);
//   p99.AddNumber(120);
//   p99.AddNumber(480);
//   Accumulator ratio(AggKind::kRatio);
//   ratio.AddPredicate(true);
//   ratio.AddPredicate(false);
//   ratio.Result(60'000);   // 0.5
#ifndef VIGIL_WINDOWS_ACCUMULATOR_H_
#define VIGIL_WINDOWS_ACCUMULATOR_H_

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "base/codec.h"
#include "base/time.h"
#include "windows/ddsketch.h"
#include "windows/distinct_sketch.h"
#include "windows/exact_sum.h"

namespace vigil {

// min and max that order -0 below 0, so that the result has the same bits
// whatever order the values came in (std::min keeps the first of equals).
inline double MinOf(double a, double b) { return b < a || (b == a && std::signbit(b)) ? b : a; }
inline double MaxOf(double a, double b) { return b > a || (b == a && !std::signbit(b)) ? b : a; }
// Whether b comes after a in that order (0 after -0): `last`'s tie.
inline bool AboveOf(double a, double b) {
  return b > a || (b == a && !std::signbit(b) && std::signbit(a));
}

enum class AggKind : uint8_t {
  kCount,     // count() or count(pred)
  kSum,       // sum(x)
  kAvg,       // avg(x)
  kMin,       // min(x)
  kMax,       // max(x)
  kRatio,     // ratio(pred): share of events for which pred holds
  kRate,      // rate() or rate(pred): events per second of window
  kLast,      // last(x): the value with the greatest event time
  kDistinct,  // distinct(x): number of distinct values
  kQuantile,  // quantile(q, x)
  // Aggregates of session streams only (rules/rule_set.h StreamDef); an
  // Accumulator never holds them.
  kFirst,  // first(x): the value with the least event time
  kAny,    // any(pred): whether pred held for some event
  kAll,    // all(pred): whether pred held for every event
};

std::string_view AggKindName(AggKind kind);
bool IsInvertible(AggKind kind);

class Accumulator {
 public:
  explicit Accumulator(AggKind kind, double quantile = 0);
  Accumulator(const Accumulator& other);
  Accumulator& operator=(const Accumulator& other);
  Accumulator(Accumulator&&) noexcept = default;
  Accumulator& operator=(Accumulator&&) noexcept = default;

  AggKind kind() const { return kind_; }
  double quantile() const { return q_; }

  // Per-event updates; which one applies depends on the kind (asserted).
  // Inline: they run once per event per aggregate.
  void AddNumber(double v) {  // sum, avg, min, max, quantile
    if (std::isnan(v)) return;
    switch (kind_) {
      case AggKind::kSum:
      case AggKind::kAvg:
        sum_.Add(v);
        break;
      case AggKind::kMin:
        x_ = n_ == 0 ? v : MinOf(x_, v);
        break;
      case AggKind::kMax:
        x_ = n_ == 0 ? v : MaxOf(x_, v);
        break;
      case AggKind::kQuantile:
        sketch_->Add(v);
        return;
      default:
        assert(false && "AddNumber on a non-numeric aggregate");
        return;
    }
    ++n_;
  }
  void AddPredicate(bool holds) {  // count, ratio, rate
    assert(kind_ == AggKind::kCount || kind_ == AggKind::kRatio || kind_ == AggKind::kRate);
    ++n_;
    hits_ += holds ? 1 : 0;
  }
  void AddHash(uint64_t hash) {  // distinct
    assert(kind_ == AggKind::kDistinct);
    distinct_->Add(hash);
  }
  void AddLast(double v, TimeMs t) {  // last
    assert(kind_ == AggKind::kLast);
    // Equal times resolve to the larger value, as in Merge: the result does
    // not depend on the order of arrival.
    if (n_ == 0 || t > t_ || (t == t_ && AboveOf(x_, v))) {
      x_ = v;
      t_ = t;
    }
    ++n_;
  }

  // Prefetching hints: the sketch object (quantile, distinct), then the
  // table an update reads first (a distinct sketch's; the object itself
  // for a quantile). Null when there is none. Reading the table reads the
  // object, so fetch that first.
  // The quantile sketch (kQuantile), else null.
  const DDSketch* sketch() const { return sketch_.get(); }
  // The quantile sketch, moved out (null when there is none): for the
  // owner of a pane it drops next. After it Result and QuantileAt answer
  // nothing, and the accumulator may only be destroyed: Merge and Encode
  // need the sketch.
  std::unique_ptr<DDSketch> TakeSketch() { return std::move(sketch_); }
  // The distinct sketch (kDistinct), else null.
  const DistinctSketch* distinct_sketch() const { return distinct_.get(); }
  const void* sketch_object() const {
    if (sketch_) return sketch_.get();
    return distinct_.get();
  }
  const void* sketch_table() const {
    if (sketch_) return sketch_.get();
    return distinct_ ? distinct_->table() : nullptr;
  }

  void Merge(const Accumulator& other);
  // Removes `other`, previously merged in. Only for IsInvertible kinds.
  // A sum that overflowed its exact range (ExactSum) is left inexact by a
  // subtraction: see exact().
  void Subtract(const Accumulator& other);
  // False once a sum or average overflowed its exact range: subtracting
  // from it no longer gives the sum of what remains.
  bool exact() const { return !sum_.overflowed(); }
  void Clear();

  // The aggregate over a window of `window_size`; nullopt when undefined
  // (no numbers for avg/min/max/quantile/last, no events for ratio).
  std::optional<double> Result(DurationMs window_size) const;
  // For a ratio: the ratio divided by num / den, hits·den / (n·num), in one
  // rounding where the products fit in 53 bits (always for SLO budgets of
  // up to 12 decimals and counts below 2^53 / 10^12 after reduction), so a
  // quotient that is exactly a decimal such as 3.3 is that decimal's double.
  // nullopt without events.
  std::optional<double> RatioOver(uint64_t num, uint64_t den) const;
  // For a quantile accumulator shared by several quantiles of one field:
  // the q-quantile, whatever quantile() it was built with.
  std::optional<double> QuantileAt(double q) const;

  void Encode(Encoder* enc) const;
  static bool Decode(Decoder* dec, Accumulator* out);
  friend bool operator==(const Accumulator& a, const Accumulator& b);

 private:
  AggKind kind_;
  double q_ = 0;
  // count: n_; sum/avg: sum_ + n_; min/max: x_ + n_; ratio: hits_ / n_;
  // rate: hits_; last: x_ at t_.
  uint64_t n_ = 0;
  uint64_t hits_ = 0;
  double x_ = 0;
  TimeMs t_ = kMinTime;
  ExactSum sum_;
  std::unique_ptr<DDSketch> sketch_;
  std::unique_ptr<DistinctSketch> distinct_;
};

}  // namespace vigil

#endif  // VIGIL_WINDOWS_ACCUMULATOR_H_
