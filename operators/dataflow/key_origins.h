// operators/dataflow/key_origins.h
//
// KeyOrigins remembers, for the keys of one keyed operator (a session
// stream or a join), the input (source partition) their latest event came
// from. A scale-out instance whose partitions move in a rebalance hands the
// state of a partition's keys over with the partition (handover.h); this is
// how it knows which keys those are. Only such an instance tracks origins:
// a Dataflow does not unless asked (Dataflow::TrackOrigins).
//
// Keys whose state has closed are forgotten in batches: when the table has
// doubled since the last pass, the keys the operator no longer holds are
// dropped, so memory follows the open keys, amortised O(1) per event.
//
// Example:
//   KeyOrigins origins;
//   origins.Note("s-17", 2, op);   // the latest event of s-17 came from input 2
//   origins.Of("s-17");            // 2
#ifndef VIGIL_OPERATORS_DATAFLOW_KEY_ORIGINS_H_
#define VIGIL_OPERATORS_DATAFLOW_KEY_ORIGINS_H_

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "base/strings.h"
#include "operators/dataflow/keyed_operator.h"

namespace vigil {

class KeyOrigins {
 public:
  static constexpr int kUnknown = -1;

  // `key`'s latest event came from `input`; `op` holds the keys' state.
  void Note(std::string_view key, int input, const KeyedOperator& op) {
    auto it = inputs_.find(key);
    if (it != inputs_.end()) {
      it->second = input;
      return;
    }
    inputs_.emplace(std::string(key), input);
    if (inputs_.size() >= next_prune_) {
      Prune(op);
      next_prune_ = std::max(kMinPrune, 2 * inputs_.size());
    }
  }
  void Set(std::string_view key, int input) { inputs_[std::string(key)] = input; }
  // The input of `key`'s latest event, or kUnknown (state restored from a
  // checkpoint and not touched since, or no state).
  int Of(std::string_view key) const {
    auto it = inputs_.find(key);
    return it == inputs_.end() ? kUnknown : it->second;
  }
  // Whether some key's latest event came from `input`.
  bool Has(int input) const {
    return std::any_of(inputs_.begin(), inputs_.end(),
                       [&](const auto& entry) { return entry.second == input; });
  }
  void Erase(std::string_view key) {
    auto it = inputs_.find(key);
    if (it != inputs_.end()) inputs_.erase(it);
  }
  // Forgets the keys `op` holds no state of.
  void Prune(const KeyedOperator& op) {
    absl::erase_if(inputs_, [&](const auto& entry) { return !op.HasState(entry.first); });
  }
  size_t size() const { return inputs_.size(); }
  // f(key, input) for every key.
  template <class F>
  void ForEach(const F& f) const {
    for (const auto& [key, input] : inputs_) f(std::string_view(key), input);
  }

 private:
  static constexpr size_t kMinPrune = 4096;
  absl::flat_hash_map<std::string, int, StringHash, StringEq> inputs_;
  size_t next_prune_ = kMinPrune;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_KEY_ORIGINS_H_
