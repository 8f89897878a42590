// tests/operators/scale_out/heartbeats.h
//
// A heartbeat message of the partials topic for the scale-out tests.
#ifndef VIGIL_TESTS_OPERATORS_SCALE_OUT_HEARTBEATS_H_
#define VIGIL_TESTS_OPERATORS_SCALE_OUT_HEARTBEATS_H_

#include <string>
#include <utility>
#include <vector>

#include "operators/scale_out/partials.h"

namespace vigil {

inline std::string Heartbeat(const std::string& instance, TimeMs watermark,
                             std::vector<PartialHeartbeat::Input> inputs, bool leaving = false,
                             std::vector<std::string> all_inputs = {}) {
  PartialHeartbeat hb;
  hb.instance = instance;
  hb.watermark = watermark;
  hb.leaving = leaving;
  hb.inputs = std::move(inputs);
  hb.all_inputs = std::move(all_inputs);
  return EncodeHeartbeat(hb);
}

}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_SCALE_OUT_HEARTBEATS_H_
