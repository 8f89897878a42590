// windows/exact_sum.h
//
// ExactSum adds doubles so that the result does not depend on the order of
// the additions or on how they were split into partial sums: each value is
// converted to a 128-bit fixed-point number with 64 fraction bits
// (rounded toward zero at 2^-64, about 5.4e-20) and the fixed-point
// numbers are added as integers, which is associative. So a pane summed by
// one worker, by several merged, or by scale-out instances merged in any
// order gives the same bits, and a window slid by subtracting panes
// returns to exactly zero when it is empty.
//
// The integer part holds up to 2^63 (about 9.2e18). A value of magnitude
// 2^62 or more, an infinity, or a sum past the range makes the sum
// overflowed: from then on it is the plain floating-point sum kept beside
// it (order-dependent in its last bits), and stays so until cleared. The
// plain sum is kept scaled by 2^-64, exactly, so that it cannot pass the
// range of a double on the way (1e308 + 1e308 - 1e308 is 1e308 in any
// order) and a mean of values within the range stays within it. A
// subtraction cannot take such a value out again exactly (the plain sum
// cancels): a sliding window merges its remaining panes afresh instead
// (windows/pane_store.h).
//
// Example:
//   ExactSum s;
//   s.Add(0.1); s.Add(0.2); s.Add(-0.1);
//   s.value();   // 0.2 exactly (the double nearest to 0.1 + 0.2 - 0.1)
#ifndef VIGIL_WINDOWS_EXACT_SUM_H_
#define VIGIL_WINDOWS_EXACT_SUM_H_

#include <cmath>
#include <cstdint>

#include "base/codec.h"

namespace vigil {

class ExactSum {
 public:
  void Add(double v) {
    plain_ += v * kScale;
    if (overflow_) return;
    __int128 f;
    if (!ToFixed(v, &f) || __builtin_add_overflow(fixed(), f, &f)) {
      overflow_ = true;
      return;
    }
    set_fixed(f);
  }
  void Merge(const ExactSum& o) {
    plain_ += o.plain_;
    __int128 f;
    if (overflow_ || o.overflow_ || __builtin_add_overflow(fixed(), o.fixed(), &f)) {
      overflow_ = true;
      return;
    }
    set_fixed(f);
  }
  // Removes `o`, merged in before.
  void Subtract(const ExactSum& o) {
    plain_ -= o.plain_;
    __int128 f;
    if (overflow_ || o.overflow_ || __builtin_sub_overflow(fixed(), o.fixed(), &f)) {
      overflow_ = true;
      return;
    }
    set_fixed(f);
  }
  void Clear() { *this = ExactSum(); }

  // The sum, rounded once to the nearest double.
  double value() const {
    if (overflow_) return plain_ / kScale;
    return std::ldexp(static_cast<double>(fixed()), -64);
  }
  // The sum over `n`: finite whenever the values are.
  double Mean(uint64_t n) const {
    if (overflow_) return plain_ / static_cast<double>(n) / kScale;
    return value() / static_cast<double>(n);
  }
  bool overflowed() const { return overflow_; }

  // The plain sum is written unscaled, as before it was scaled, unless that
  // passes the range of a double: then scaled, with bit 1 of the first byte.
  void Encode(Encoder* enc) const {
    const double unscaled = plain_ / kScale;
    const bool scaled = std::isfinite(plain_) && !std::isfinite(unscaled);
    enc->PutByte(static_cast<uint8_t>((overflow_ ? 1 : 0) | (scaled ? kScaledPlain : 0)));
    enc->PutSigned(hi_);
    enc->PutVarint(lo_);
    enc->PutDouble(scaled ? plain_ : unscaled);
  }
  bool Decode(Decoder* dec) {
    const uint8_t flags = dec->GetByte();
    overflow_ = (flags & 1) != 0;
    hi_ = dec->GetSigned();
    lo_ = dec->GetVarint();
    plain_ = dec->GetDouble();
    if ((flags & kScaledPlain) == 0) plain_ *= kScale;
    return dec->ok();
  }
  // A sum kept as a plain double (older checkpoints and partials).
  static ExactSum FromPlain(double v) {
    ExactSum s;
    s.Add(v);
    return s;
  }

  friend bool operator==(const ExactSum& a, const ExactSum& b) {
    if (a.overflow_ != b.overflow_) return false;
    return a.overflow_ ? a.plain_ == b.plain_ : a.hi_ == b.hi_ && a.lo_ == b.lo_;
  }

 private:
  // v * 2^64, rounded toward zero; false when out of range.
  static bool ToFixed(double v, __int128* out) {
    if (!std::isfinite(v) || std::fabs(v) >= 0x1p62) return false;
    int e = 0;
    const double m = std::frexp(v, &e);                            // v = m * 2^e, 0.5 <= |m| < 1
    const int64_t mant = static_cast<int64_t>(std::ldexp(m, 53));  // exact
    const int shift = e - 53 + 64;                                 // v * 2^64 = mant * 2^shift
    const int64_t magnitude = mant < 0 ? -mant : mant;
    __int128 f;
    if (shift >= 0) {
      f = static_cast<__int128>(magnitude) << shift;  // below 2^126
    } else if (shift > -64) {
      f = static_cast<__int128>(magnitude >> -shift);
    } else {
      f = 0;
    }
    *out = mant < 0 ? -f : f;
    return true;
  }
  __int128 fixed() const {
    return static_cast<__int128>(
        (static_cast<unsigned __int128>(static_cast<uint64_t>(hi_)) << 64) | lo_);
  }
  void set_fixed(__int128 f) {
    lo_ = static_cast<uint64_t>(f);
    hi_ = static_cast<int64_t>(f >> 64);
  }

  int64_t hi_ = 0;  // the fixed-point sum, high and low 64 bits
  uint64_t lo_ = 0;
  static constexpr double kScale = 0x1p-64;
  static constexpr uint8_t kScaledPlain = 2;
  double plain_ = 0;  // the floating-point sum times kScale, used once overflowed
  bool overflow_ = false;
};

}  // namespace vigil

#endif  // VIGIL_WINDOWS_EXACT_SUM_H_
