// tests/runtime/rule_test_e2e.h
//
// What the `vigil test` end-to-end tests share: a fresh directory holding
// a rule file for one test.
//
// Example:
//   const std::string dir = DirWithRules("diffs", "metrics: ...");
//   Sh(kVigil + " test " + dir + "/cases.yaml");
#ifndef VIGIL_TESTS_RUNTIME_RULE_TEST_E2E_H_
#define VIGIL_TESTS_RUNTIME_RULE_TEST_E2E_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace vigil {

// A fresh directory for one test, holding `rules` as rules.yaml.
inline std::string DirWithRules(const std::string& name, const std::string& rules) {
  std::string dir =
      ::testing::TempDir() + "/vigil_ruletest_" + name + "_" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/rules.yaml") << rules;
  return dir;
}

}  // namespace vigil

#endif  // VIGIL_TESTS_RUNTIME_RULE_TEST_E2E_H_
