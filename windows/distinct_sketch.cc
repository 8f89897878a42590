#include "windows/distinct_sketch.h"

#include <array>
#include <cmath>
#include <limits>
#include <string_view>

namespace vigil {
namespace {

constexpr size_t kInitialSlots = 16;
constexpr uint8_t kModeExact = 0;
constexpr uint8_t kModeRegisters = 1;

// sigma(x) = x + sum_{k>=1} x^(2^k) 2^(k-1), for x = fraction of empty
// registers; it diverges at x = 1 (no register set), which callers exclude.
double Sigma(double x) {
  double y = 1.0;
  double z = x;
  for (;;) {
    x *= x;
    const double previous = z;
    z += x * y;
    y += y;
    if (z == previous) return z;
  }
}

// tau(x) = (1 - x - sum_{k>=1} (1 - x^(2^-k))^2 2^-k) / 3, for x = fraction
// of registers below the maximum rank.
double Tau(double x) {
  if (x == 0.0 || x == 1.0) return 0.0;
  double y = 1.0;
  double z = 1.0 - x;
  for (;;) {
    x = std::sqrt(x);
    const double previous = z;
    y *= 0.5;
    z -= (1.0 - x) * (1.0 - x) * y;
    if (z == previous) return z / 3.0;
  }
}

// The register arrays of two distinct sketches never alias; saying so lets
// the compiler turn the loop into a byte-wise vector max at -O2 (~10x).
void MaxInto(uint8_t* __restrict mine, const uint8_t* __restrict theirs) {
  for (size_t i = 0; i < DistinctSketch::kRegisters; ++i) mine[i] = std::max(mine[i], theirs[i]);
}

}  // namespace

void DistinctSketch::AddExact(uint64_t hash) {
  if (hash == 0 ? has_zero_ : ContainsExact(hash)) return;
  if (exact_size_ == kExactLimit) {
    SwitchToRegisters();
    AddToRegisters(hash);
    return;
  }
  if (hash == 0) {
    has_zero_ = true;
  } else {
    const size_t stored = exact_size_ - (has_zero_ ? 1 : 0);
    if (2 * (stored + 1) > slots_.size()) GrowSlots();
    InsertSlot(hash);
  }
  ++exact_size_;
}

bool DistinctSketch::ContainsExact(uint64_t hash) const {
  if (slots_.empty()) return false;
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    if (slots_[i] == hash) return true;
    if (slots_[i] == 0) return false;
  }
}

void DistinctSketch::InsertSlot(uint64_t hash) {
  const size_t mask = slots_.size() - 1;
  size_t i = hash & mask;
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = hash;
}

void DistinctSketch::GrowSlots() {
  std::vector<uint64_t> old;
  old.swap(slots_);
  slots_.assign(old.empty() ? kInitialSlots : 2 * old.size(), 0);
  for (uint64_t h : old) {
    if (h != 0) InsertSlot(h);
  }
}

void DistinctSketch::SwitchToRegisters() {
  registers_.assign(kRegisters, 0);
  hll_ = true;
  ForEachExact([this](uint64_t h) { AddToRegisters(h); });
  // The set is dead weight from now on; its 16 KiB are returned.
  std::vector<uint64_t>().swap(slots_);
  exact_size_ = 0;
  has_zero_ = false;
}

void DistinctSketch::Merge(const DistinctSketch& other) {
  if (&other == this) return;
  if (!other.hll_) {
    other.ForEachExact([this](uint64_t h) { Add(h); });
    return;
  }
  if (!hll_) SwitchToRegisters();
  MaxInto(registers_.data(), other.registers_.data());
}

double DistinctSketch::Estimate() const {
  if (!hll_) return static_cast<double>(exact_size_);
  std::array<uint32_t, kMaxRank + 1> histogram{};
  for (uint8_t r : registers_) ++histogram[r];
  const double m = static_cast<double>(kRegisters);
  if (histogram[0] == kRegisters) return 0.0;
  // z = m * tau(1 - C[q+1]/m) * 2^-q + sum_{k=1..q} C[k] 2^-k, evaluated
  // by Horner's rule from the top rank down, plus m * sigma(C[0]/m).
  double z = m * Tau(1.0 - histogram[kMaxRank] / m);
  for (int k = kMaxRank - 1; k >= 1; --k) z = 0.5 * (z + histogram[k]);
  z += m * Sigma(histogram[0] / m);
  return m * m / (2.0 * std::log(2.0) * z);
}

void DistinctSketch::Clear() {
  std::fill(slots_.begin(), slots_.end(), 0);
  exact_size_ = 0;
  has_zero_ = false;
  hll_ = false;
  registers_.clear();
}

void DistinctSketch::Encode(Encoder* enc) const {
  if (hll_) {
    enc->PutByte(kModeRegisters);
    enc->PutByte(kPrecision);
    enc->PutString(
        std::string_view(reinterpret_cast<const char*>(registers_.data()), registers_.size()));
    return;
  }
  // Sorted so that the bytes depend on the set only, not on the slot layout;
  // the gaps are then small enough to save a little as varints.
  std::vector<uint64_t> hashes;
  hashes.reserve(exact_size_);
  ForEachExact([&hashes](uint64_t h) { hashes.push_back(h); });
  std::sort(hashes.begin(), hashes.end());
  enc->PutByte(kModeExact);
  enc->PutVarint(hashes.size());
  uint64_t previous = 0;
  for (uint64_t h : hashes) {
    enc->PutVarint(h - previous);
    previous = h;
  }
}

bool DistinctSketch::Decode(Decoder* dec, DistinctSketch* out) {
  DistinctSketch sketch;
  const uint8_t mode = dec->GetByte();
  if (!dec->ok()) return false;
  if (mode == kModeRegisters) {
    const uint8_t precision = dec->GetByte();
    const std::string_view bytes = dec->GetString();
    if (!dec->ok() || precision != kPrecision || bytes.size() != kRegisters) return false;
    sketch.registers_.assign(bytes.begin(), bytes.end());
    for (uint8_t r : sketch.registers_) {
      if (r > kMaxRank) return false;
    }
    sketch.hll_ = true;
  } else if (mode == kModeExact) {
    const uint64_t n = dec->GetVarint();
    if (!dec->ok() || n > kExactLimit) return false;
    uint64_t hash = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const uint64_t gap = dec->GetVarint();
      // Strictly increasing: every gap after the first is positive.
      if (!dec->ok() || (i > 0 && gap == 0) || __builtin_add_overflow(hash, gap, &hash)) {
        return false;
      }
      sketch.AddExact(hash);
    }
  } else {
    return false;
  }
  *out = std::move(sketch);
  return true;
}

bool operator==(const DistinctSketch& a, const DistinctSketch& b) {
  if (a.hll_ != b.hll_) return false;
  if (a.hll_) return a.registers_ == b.registers_;
  if (a.exact_size_ != b.exact_size_ || a.has_zero_ != b.has_zero_) return false;
  bool same = true;
  a.ForEachExact([&](uint64_t h) {
    if (h != 0 && !b.ContainsExact(h)) same = false;
  });
  return same;
}

}  // namespace vigil
