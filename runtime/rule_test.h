// runtime/rule_test.h
//
// `vigil test`: unit tests for rule files, over raw timestamped events. A
// test file names rule files and holds test cases; each case feeds events
// (listed one by one, or as series such as "every 10s for 7m") through the
// same job `vigil run` runs, then compares the alert transitions and window
// values it produced with the expected ones:
//
//   rule_files: [../chatbot.yaml]        # relative to this file
//   tests:
//     - name: slow p99 pages after five minutes
//       start: 2026-01-01T00:00:00Z     # offsets below count from here
//       events:
//         - {at: 30s, type: message, latency_ms: 800}
//       series:
//         - {every: 10s, from: 1m, for: 7m, event: {type: message, latency_ms: 12000}}
//       expect_alerts:
//         - {at: 6m, alert: LatencyP99Critical, state: firing}
//         - {at: 8m, alert: LatencyP99Critical, state: resolved}
//       expect_metrics:
//         - {at: 2m, metric: latency_p99_ms, value: 12000, tolerance: 0.01}
//
// The input of a case covers event time to the end of its last series
// (`from` + `for`) or its last event, or to `until:` (an offset) when
// given: windows ending after that are partial, as at the end of a replay
// (never alert; see docs/windows-and-time.md "Partial windows").
//
// Every expected transition must happen. Every firing or resolved
// transition that happened must be expected (an unexpected page fails the
// test); pending and inactive transitions are checked only where listed.
// Labels and annotations listed must match; others are ignored. An expected
// alert may also give `value:` (the value it fired with; a resolved alert
// keeps it, with the annotations of its last firing evaluation) and, when
// resolved, `resolved_value:` (the value at the evaluation that resolved
// it), `notify:` (whether receivers get it: false while inhibited or
// silenced), `inhibited_by:` and `silenced_by:`.
#ifndef VIGIL_RUNTIME_RULE_TEST_H_
#define VIGIL_RUNTIME_RULE_TEST_H_

#include <string>
#include <vector>

namespace vigil {

// One case's outcome, or a whole file's failure (no name: the file could
// not be read or loaded, or its rule files have errors).
struct RuleTestCase {
  std::string file;
  std::string name;  // empty: the file failed as a whole
  int line = 0;      // of the case in the file
  bool passed = false;
  std::vector<std::string> messages;  // what differs, one line each
};

struct RuleTestReport {
  int passed = 0;
  int failed = 0;
  std::string text;  // per-test lines and diffs, as `vigil test` prints them
  std::vector<RuleTestCase> cases;
  // {"passed":1,"failed":1,"cases":[{"file":"t.yaml","name":"busy","line":3,
  //   "passed":false,"messages":["missing:    at 2m firing Busy  (busy_test.yaml:7:9)"]},...]}
  std::string ToJson() const;
};

// Runs every test file; errors in a test file count as a failed test.
RuleTestReport RunRuleTests(const std::vector<std::string>& files);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_RULE_TEST_H_
