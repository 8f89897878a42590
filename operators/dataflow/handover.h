// operators/dataflow/handover.h
//
// Handing keyed state over with a source partition. When a scale-out
// instance gives a partition up (a rebalance, or stopping), the open
// sessions and waiting join events of the keys whose latest event came
// from it (KeyOrigins) leave with it: ExtractKeyedState removes them from
// the instance's Dataflows, and the partition's next owner adds them to
// its own with AdoptKeyedState before it reads the partition on. A session
// that spans the move is then one session, as in one instance reading
// every partition, and a turn waiting in a join still meets its rating.
//
// The state travels in the checkpoint encoding of each operator
// (KeyedOperator::EncodeStates), so what is handed over is exactly what a
// checkpoint would restore.
//
// Example:
//   std::map<int, HandedOver> out = ExtractKeyedState({&flow}, {2});
//   std::string wire = EncodeHandedOver(out[2]);
//   ...                                   // on the partition's next owner
//   HandedOver in;
//   DecodeHandedOver(wire, &in);
//   AdoptKeyedState(&other_flow, in, /*input=*/0, &unknown);
#ifndef VIGIL_OPERATORS_DATAFLOW_HANDOVER_H_
#define VIGIL_OPERATORS_DATAFLOW_HANDOVER_H_

#include <cstddef>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operators/dataflow/dataflow.h"

namespace vigil {

struct HandedOver {
  struct Stream {
    std::string state_key;  // KeyedOperator::state_key
    std::string state;      // the keys' state, as a checkpoint holds it
  };
  std::vector<Stream> streams;
  size_t keys = 0;  // distinct keys, over all streams
};

// Removes from `flows` (the Dataflows of one rule set, each holding other
// keys: a job's and its workers') the state of every key whose latest
// event came from one of `inputs`, and returns it per input. Inputs none
// of whose keys has state are absent. The flows must track origins.
std::map<int, HandedOver> ExtractKeyedState(const std::vector<Dataflow*>& flows,
                                            const std::set<int>& inputs);

// Adds `state`, handed over with input `input`, to `flow`'s operators,
// with `input` as the origin of every key in it. A stream `flow`'s rules do
// not have is skipped and counted in *unknown. Returns the keys added, or
// -1 when a state does not decode (nothing of that stream is added).
// Workers: adopt into the job's Dataflow, then Workers::TakeRestored hands
// the keys out.
long long AdoptKeyedState(Dataflow* flow, const HandedOver& state, int input, size_t* unknown);

std::string EncodeHandedOver(const HandedOver& state);
bool DecodeHandedOver(std::string_view data, HandedOver* out);

// The origins of restored keys, by input name (a partition's, which stays
// while its index in a process does not): (stream state key, key) pairs.
using NamedOrigins = std::map<std::string, std::vector<std::pair<std::string, std::string>>>;

// A scale-out instance's checkpoint keeps its keys' origins, so that after
// a restart (kill -9 included) it still hands the restored state of a
// partition's keys over with the partition. EncodeOrigins writes those of
// `flows` (`name` gives an input's name) and `pending`, restored ones whose
// partition is not back yet; DecodeOrigins reads them back.
std::string EncodeOrigins(const std::vector<Dataflow*>& flows,
                          const std::function<std::string(int input)>& name,
                          const NamedOrigins& pending);
bool DecodeOrigins(std::string_view data, NamedOrigins* out);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_HANDOVER_H_
