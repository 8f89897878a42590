// runtime/rule_test_input.h
//
// What a rule test case reads (runtime/rule_test.cc): its keys, checked
// against the ones it knows (a misspelt one is an error at its position,
// not an expectation never checked), durations, offsets, numbers, labels,
// and its events as NDJSON lines in the order the job reads them, each with
// the line of the test file it comes from (for the dead-letter report).
//
// Example:
//   TimeMs last;
//   std::vector<CaseEvent> events = BuildEvents(test, "t.yaml", start, false, &last);
//   ... run the job over the lines, dead letters to `dead.ndjson` ...
//   for (const std::string& d : DeadLettered("dead.ndjson", events, start)) ...
//   // "dead-lettered: the event at 1s (t.yaml:7:7): out_of_range: ..."
#ifndef VIGIL_RUNTIME_RULE_TEST_INPUT_H_
#define VIGIL_RUNTIME_RULE_TEST_INPUT_H_

#include <yaml-cpp/yaml.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "rules/rule_set.h"

namespace vigil::rule_test {

// A mistake in a test file: "LINE:COL: message" (the caller adds the file).
class TestError : public std::runtime_error {
 public:
  TestError(const YAML::Node& n, const std::string& msg)
      : std::runtime_error(StrCat(n.Mark().line + 1, ":", n.Mark().column + 1, ": ", msg)) {}
};

// Throws TestError at the first key of `map` not in `allowed` ("unknown
// key 'lables' in an expected alert; did you mean 'labels'?").
void CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
               std::string_view what);
// `node` (map[key]), or a TestError at `map` saying `what` needs `key`.
const YAML::Node& Required(const YAML::Node& map, const char* key, std::string_view what,
                           const YAML::Node& node);
double Number(const YAML::Node& n);
bool Bool(const YAML::Node& n);
DurationMs Duration(const YAML::Node& n);
// An `at:` or `from:`: an offset from the case's start, or an RFC 3339 time.
TimeMs At(const YAML::Node& n, TimeMs start);
Labels ReadLabels(const YAML::Node& n);
// "FILE:LINE:COL" of `n` in the test file `file`, as diff lines cite it.
std::string Where(std::string_view file, const YAML::Node& n);

struct CaseEvent {
  TimeMs ts;
  std::string line;   // NDJSON
  std::string where;  // FILE:LINE:COL of its event or series in the test file
};

// The events of a test case and how far they cover event time (*last,
// inclusive): to the end of the last series or the last event, or to
// `until:`. `in_listed_order`: `events:` keep the order they are listed in
// (a test of late events), the series' events go in by time before the
// first listed event later than them; else every event is in time order.
std::vector<CaseEvent> BuildEvents(const YAML::Node& test, std::string_view file, TimeMs start,
                                   bool in_listed_order, TimeMs* last);

// The events the job dead-lettered (its dead-letter file at `path`), one
// line each with where the test file has them.
std::vector<std::string> DeadLettered(const std::string& path, const std::vector<CaseEvent>& events,
                                      TimeMs start);

}  // namespace vigil::rule_test

#endif  // VIGIL_RUNTIME_RULE_TEST_INPUT_H_
