// operators/scale_out/partial_state.h
//
// Keyed state handed over with an event partition (operators/dataflow/
// handover.h) travels on the partials topic: when an instance gives
// partitions up (a rebalance, or stopping), its publication carries, on
// every partition before the heartbeat, the state of each partition's keys in
// pieces of at most kMaxStateChunk bytes (a Kafka message is 1 MB at most
// by default). The heartbeat names the publication's hand-over id and, per
// partition, how many pieces it has. The partition's next owner reads them
// back with its offset (ReadPublished) and takes the state over when it
// resumes where the hand-over ended; a bounded merge stage closes the state
// no instance took over (merge_stage.h).
//
//   state  "VPS1" | instance | hand-over id | partition name | piece |
//          pieces | bytes
//
// Example:
//   for (const std::string& m : EncodeStateChunks("vigil-0", id, "events/1", state))
//     produce(m);
//   StateAssembler pieces;
//   PartialState s;
//   if (DecodeStateChunk(message, &s)) pieces.Add(std::move(s));
//   std::optional<std::string> whole = pieces.Take("vigil-0", id, "events/1", n);
#ifndef VIGIL_OPERATORS_SCALE_OUT_PARTIAL_STATE_H_
#define VIGIL_OPERATORS_SCALE_OUT_PARTIAL_STATE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "base/codec.h"

namespace vigil {

inline constexpr std::string_view kPartialStateMagic = "VPS1";
inline constexpr size_t kMaxStateChunk = 512 * 1024;

struct PartialState {
  std::string instance;
  uint64_t id = 0;     // the publication's hand-over id (PartialHeartbeat)
  std::string input;   // "events/1"
  uint32_t chunk = 0;  // this piece, 0-based
  uint32_t chunks = 0;
  std::string bytes;
};

// The messages carrying `state`, in order.
std::vector<std::string> EncodeStateChunks(std::string_view instance, uint64_t id,
                                           std::string_view input, std::string_view state,
                                           size_t max_bytes = kMaxStateChunk);
bool DecodeStateChunk(std::string_view message, PartialState* out);

// Puts handed-over states together from their pieces, whatever order they
// are read in.
class StateAssembler {
 public:
  void Add(PartialState piece);
  // The whole state of one hand-over of `input`, once all `chunks` pieces
  // are in (then forgotten); nullopt before.
  std::optional<std::string> Take(const std::string& instance, uint64_t id,
                                  const std::string& input, uint32_t chunks);
  bool Has(const std::string& instance, uint64_t id, const std::string& input,
           uint32_t chunks) const;
  // Forgets the pieces of the hand-overs of `input` that `drop(instance,
  // id)` says are no longer wanted.
  void Forget(const std::string& input,
              const std::function<bool(const std::string& instance, uint64_t id)>& drop);
  void Clear() { pieces_.clear(); }
  size_t bytes() const;
  // Checkpoints: every piece kept.
  void Encode(Encoder* enc) const;
  bool Decode(Decoder* dec);

 private:
  using Key = std::tuple<std::string, std::string, uint64_t>;  // input, instance, id
  std::map<Key, std::map<uint32_t, std::string>> pieces_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_SCALE_OUT_PARTIAL_STATE_H_
