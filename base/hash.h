// base/hash.h
//
// Deterministic 64-bit hashing for sketches whose state leaves the process.
// A distinct-count sketch built on one instance is merged with sketches from
// other instances and restored from checkpoints written by earlier runs, so
// the hash of a value must be the same in every process, on every machine,
// in every build. absl::Hash is seeded per process and cannot be used here.
//
// The functions are pure: no seed, no state, the same result on little- and
// big-endian hosts. They are fast and well mixed (every output bit depends on
// every input bit), which is what HyperLogLog needs; they are not
// cryptographic and must not be used where an adversary chooses the input to
// provoke collisions.
//
// Numbers hash by value, not by representation: an integer field that one
// producer writes as 3 and another as 3.0 counts as one distinct value, and so
// do -0.0 and 0.0. Strings, doubles and non-representable integers are hashed
// in separate domains, so the string "3" and the number 3 differ.
//
// Example:
//   HashBytes("faq")                          // 0x37fea1c2ee65f5fc
//   HashDouble(3) == HashDouble(3.0)          // true
//   HashDouble(-0.0) == HashDouble(0.0)       // true
//   HashInt64(3) == HashDouble(3.0)           // true
//   HashBytes("3") == HashDouble(3.0)         // false
#ifndef VIGIL_BASE_HASH_H_
#define VIGIL_BASE_HASH_H_

#include <cstdint>
#include <string_view>

namespace vigil {

// Hash of a byte string (UTF-8 text, identifiers, raw bytes).
uint64_t HashBytes(std::string_view bytes);

// Hash of a number. -0.0 hashes as 0.0 and every NaN as one canonical NaN.
uint64_t HashDouble(double value);

// Hash of an integer, equal to HashDouble(value) whenever the integer is
// exactly representable as a double (|value| <= 2^53 and many beyond), so a
// field parsed as an integer in one event and as a double in another yields
// one distinct value.
uint64_t HashInt64(int64_t value);

}  // namespace vigil

#endif  // VIGIL_BASE_HASH_H_
