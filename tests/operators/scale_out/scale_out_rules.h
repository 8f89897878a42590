// tests/operators/scale_out/scale_out_rules.h
//
// The rules the scale-out tests run in instances and merge alike: a
// grouped count, a sliding average and quantile, a distinct count.
#ifndef VIGIL_TESTS_OPERATORS_SCALE_OUT_SCALE_OUT_RULES_H_
#define VIGIL_TESTS_OPERATORS_SCALE_OUT_SCALE_OUT_RULES_H_

namespace vigil {

inline constexpr char kScaleOutRules[] = R"(
metrics:
  - metric: turns
    where: type == "message"
    by: [intent]
    window: tumbling 1m
    value: count()
  - metric: latency_avg
    where: type == "message"
    window: sliding 5m every 1m
    value: avg(latency_ms)
  - metric: latency_p95
    where: type == "message"
    window: sliding 5m every 1m
    value: quantile(0.95, latency_ms)
  - metric: users
    where: type == "message"
    window: tumbling 1m
    value: distinct(user_id)
)";

}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_SCALE_OUT_SCALE_OUT_RULES_H_
