#include "runtime/job_counters.h"

#include "base/codec.h"

namespace vigil {

// (reason name, count) pairs: a checkpoint stays readable when reasons are
// added or reordered.
std::string JobCounters::EncodeDeadLetters() const {
  Encoder enc;
  enc.PutVarint(dead_letters.size());
  for (int i = 0; i < kDeadReasonCount; ++i) {
    enc.PutString(DeadReasonName(static_cast<DeadReason>(i)));
    enc.PutVarint(dead_letters[i]);
  }
  return enc.data();
}

bool JobCounters::DecodeDeadLetters(std::string_view data) {
  Decoder dec(data);
  std::array<uint64_t, kDeadReasonCount> counts{};
  for (uint64_t n = dec.GetVarint(), i = 0; i < n && dec.ok(); ++i) {
    const std::string_view name = dec.GetString();
    const uint64_t count = dec.GetVarint();
    for (int r = 0; r < kDeadReasonCount; ++r) {
      if (DeadReasonName(static_cast<DeadReason>(r)) == name) counts[r] = count;
    }
  }
  if (!dec.ok() || !dec.done()) return false;
  dead_letters = counts;
  return true;
}

}  // namespace vigil
