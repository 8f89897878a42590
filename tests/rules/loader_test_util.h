// Helpers for the rule-loader tests: load one in-memory file named r.yaml
// and read its diagnostics as `file:line:col: msg`.
//
//   EXPECT_THAT(Errors("metrics:\n  - metric: x\n"),
//               ElementsAre(HasSubstr("r.yaml:2:5: ")));
#ifndef VIGIL_TESTS_RULES_LOADER_TEST_UTIL_H_
#define VIGIL_TESTS_RULES_LOADER_TEST_UTIL_H_

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"
#include "rules/rule_set.h"

namespace vigil::loader_test {

inline RuleLoadResult Load(std::string_view yaml) {
  return LoadRuleSources({{"r.yaml", std::string(yaml)}});
}

// All diagnostics of a rule file that must not load, as `file:line:col: msg`.
inline std::vector<std::string> Errors(std::string_view yaml) {
  RuleLoadResult r = Load(yaml);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.rules, nullptr);
  std::vector<std::string> out;
  for (const Diagnostic& d : r.errors) out.push_back(d.ToString());
  return out;
}

// Diagnostics one per line, for failure messages.
inline std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& e : v) s += e + "\n";
  return s;
}

// A valid metric to refer to from alerts; lines 1-5 of a file.
constexpr std::string_view kP99Metric = R"yaml(metrics:
  - metric: latency_p99_ms
    where: type == "message"
    window: tumbling 1m
    value: quantile(0.99, latency_ms)
)yaml";

inline std::string WithP99(std::string_view alerts) {
  return std::string(kP99Metric) + std::string(alerts);
}

// Two experiments alike but for their names (e1, e2): one window, arms c
// and t by `variant`, unit `user`, one ratio metric `good`.
inline std::string TwoExperiments() {
  std::string yaml = "experiments:\n";
  for (const char* name : {"e1", "e2"}) {
    yaml += std::string("  - experiment: ") + name +
            "\n    arm: variant\n    control: c\n    split: {c: 0.5, t: 0.5}\n"
            "    unit: user\n    metrics:\n"
            "      - {name: good, value: ratio(ok), goal: increase}\n";
  }
  return yaml;
}

}  // namespace vigil::loader_test

#endif  // VIGIL_TESTS_RULES_LOADER_TEST_UTIL_H_
