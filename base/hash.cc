#include "base/hash.h"

#include <bit>
#include <cmath>
#include <cstring>

namespace vigil {
namespace {

// Fractional parts of the square roots of 2, 3, 5 and 7 (the SHA-512 initial
// values): constants with no structure for the multiplier to resonate with.
constexpr uint64_t kK0 = 0x6a09e667f3bcc908;
constexpr uint64_t kK1 = 0xbb67ae8584caa73b;
constexpr uint64_t kK2 = 0x3c6ef372fe94f82b;
constexpr uint64_t kK3 = 0xa54ff53a5f1d36f1;

// Domain tags keep the three input kinds apart: the 8 bytes of a double and
// an 8-byte string with the same content must not collide by construction.
constexpr uint64_t kDoubleDomain = 0x510e527fade682d1;
constexpr uint64_t kIntegerDomain = 0x9b05688c2b3e6c1f;

// Full 64x64->128 multiply folded by xor: the high half depends on every bit
// of both operands, which is where the mixing comes from.
inline uint64_t Mum(uint64_t a, uint64_t b) {
  const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

// Loads are little-endian regardless of the host so that hashes (and the
// sketches built from them) are identical across architectures.
inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap64(v);
  return v;
}

inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  if constexpr (std::endian::native == std::endian::big) v = __builtin_bswap32(v);
  return v;
}

inline uint64_t Byte(const char* p) { return static_cast<uint8_t>(*p); }

// Final avalanche of two 64-bit lanes and the input length.
inline uint64_t Finish(uint64_t a, uint64_t b, uint64_t length) {
  const unsigned __int128 product = static_cast<unsigned __int128>(a ^ kK1) * (b ^ kK2);
  const uint64_t lo = static_cast<uint64_t>(product);
  const uint64_t hi = static_cast<uint64_t>(product >> 64);
  return Mum(lo ^ kK0 ^ length, hi ^ kK3);
}

// Two rounds of Mum: one round leaves the low output bits dependent mostly on
// the low input bits; the second spreads them.
inline uint64_t MixWord(uint64_t word, uint64_t domain) {
  return Mum(Mum(word ^ kK0, domain ^ kK1) ^ kK2, kK3);
}

}  // namespace

uint64_t HashBytes(std::string_view bytes) {
  const char* p = bytes.data();
  const size_t n = bytes.size();
  uint64_t state = Mum(n ^ kK0, kK1);
  uint64_t a = 0;
  uint64_t b = 0;
  if (n <= 16) {
    // Short inputs are read as (possibly overlapping) words from both ends;
    // the length is mixed in separately, so "a" and "aa" still differ.
    if (n >= 8) {
      a = Load64(p);
      b = Load64(p + n - 8);
    } else if (n >= 4) {
      a = Load32(p);
      b = Load32(p + n - 4);
    } else if (n > 0) {
      a = (Byte(p) << 16) | (Byte(p + n / 2) << 8) | Byte(p + n - 1);
    }
  } else {
    size_t remaining = n;
    while (remaining > 16) {
      state = Mum(Load64(p) ^ kK1, Load64(p + 8) ^ state);
      p += 16;
      remaining -= 16;
    }
    // The last 1..16 bytes are read as the final 16 bytes of the input, which
    // re-reads some already mixed bytes but never reads outside the input.
    a = Load64(p + remaining - 16);
    b = Load64(p + remaining - 8);
  }
  return Finish(a, b ^ state, n);
}

uint64_t HashDouble(double value) {
  // Adding +0.0 turns -0.0 into +0.0 and leaves every other value unchanged.
  value += 0.0;
  uint64_t bits = std::bit_cast<uint64_t>(value);
  if (std::isnan(value)) bits = 0x7ff8000000000000;
  return MixWord(bits, kDoubleDomain);
}

uint64_t HashInt64(int64_t value) {
  const double as_double = static_cast<double>(value);
  // 2^63 is representable as a double but not as an int64, so it must be
  // excluded before the round-trip cast.
  constexpr double kTwoTo63 = 9223372036854775808.0;
  if (as_double < kTwoTo63 && static_cast<int64_t>(as_double) == value) {
    return HashDouble(as_double);
  }
  return MixWord(static_cast<uint64_t>(value), kIntegerDomain);
}

}  // namespace vigil
