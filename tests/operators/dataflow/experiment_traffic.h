// tests/operators/dataflow/experiment_traffic.h
//
// The experiment tests' rules and traffic: experiment e1 over arms c and t
// of `variant`, units `user`, hourly, with a ratio goal and a quantile
// guardrail, and hand-made events for it.
#ifndef VIGIL_TESTS_OPERATORS_DATAFLOW_EXPERIMENT_TRAFFIC_H_
#define VIGIL_TESTS_OPERATORS_DATAFLOW_EXPERIMENT_TRAFFIC_H_

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include "base/strings.h"
#include "tests/operators/dataflow/operator_harness.h"

namespace vigil {

constexpr TimeMs kHour = 3'600'000;

constexpr const char* kRules = R"yaml(
experiments:
  - experiment: e1
    arm: variant
    control: c
    split: {c: 0.5, t: 0.5}
    unit: user
    window: 1h
    min_effect: 0.1
    metrics:
      - {name: good, value: ratio(ok), goal: increase}
      - {name: lat, value: "quantile(0.5, ms)", guardrail: {max_regression: 10%}}
)yaml";

inline std::string Ev(const char* variant, const char* user, bool ok, int ms) {
  return StrCat("\"variant\":\"", variant, "\",\"user\":\"", user,
                "\",\"ok\":", ok ? "true" : "false", ",\"ms\":", ms);
}

struct Line {
  TimeMs ts;
  std::string json;
};

// 100 new units per arm each hour: of the treatment's events
// `treatment_ok_per_10` in 10 are ok (the control's 5), its latencies times
// `slower`.
inline std::vector<Line> Traffic(int treatment_ok_per_10, double slower, int hours,
                                 int first_hour = 0) {
  std::vector<Line> out;
  for (int hour = first_hour; hour < first_hour + hours; ++hour) {
    for (int u = 0; u < 100; ++u) {
      for (int arm = 0; arm < 2; ++arm) {
        const std::string user = StrCat(arm == 0 ? "c" : "t", hour, "-", u);
        for (int e = 0; e < 3; ++e) {
          const int k = (u * 3 + e) % 10;
          const bool ok = arm == 0 ? k < 5 : k < treatment_ok_per_10;
          const int ms =
              static_cast<int>((500 + 37 * ((u * 7 + e * 13) % 20)) * (arm == 0 ? 1.0 : slower));
          const TimeMs ts = hour * kHour + 1000 + u * 1000 + e * 100 + arm;
          out.push_back({ts, StrCat("{\"ts\":", ts, ",\"type\":\"message\",",
                                    Ev(arm == 0 ? "c" : "t", user.c_str(), ok, ms), "}")});
        }
      }
    }
  }
  return out;
}

// Every output of a run, as text with the values' bits.
inline std::vector<std::string> Lines(const std::vector<WindowResult>& results) {
  std::vector<std::string> out;
  for (const WindowResult& r : results) {
    out.push_back(StrCat(r.end, " ", r.def->name, "{", StrJoin(r.labels, ","), "} ",
                         std::bit_cast<uint64_t>(r.value)));
  }
  return out;
}

}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_DATAFLOW_EXPERIMENT_TRAFFIC_H_
