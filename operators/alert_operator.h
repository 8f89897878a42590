// operators/alert_operator.h
//
// AlertOperator evaluates every alert at every window end of its metrics, in
// event-time order, and steps each (alert, group) state machine
// (rules/alert_state.h). It holds the latest closed value of each metric per
// group; a group whose metric produced no window at an end has no data
// there, so its condition is false and a firing alert resolves — also when
// traffic stops, as long as the frontier keeps moving (live inputs follow
// the processing clock when idle).
//
// `$value` of an alert is the value of the first metric its expression
// names, for the group.
//
// Example:
//   AlertOperator alerts(rules);
//   std::vector<AlertNotice> notices;
//   alerts.Advance(frontier, sorted_results, &notices);
#ifndef VIGIL_OPERATORS_ALERT_OPERATOR_H_
#define VIGIL_OPERATORS_ALERT_OPERATOR_H_

#include <map>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "operators/sink.h"
#include "rules/alert_state.h"
#include "rules/rule_set.h"
#include "windows/strings.h"

namespace vigil {

class AlertOperator {
 public:
  explicit AlertOperator(const RuleSet& rules);

  // `results`: every window closed up to `frontier`, sorted by (end, metric,
  // group). Evaluates alerts at each window end up to `frontier`, including
  // ends where a metric that had data produced none. With an infinite
  // frontier (end of input) evaluation stops at the last result.
  void Advance(TimeMs frontier, const std::vector<WindowResult>& results,
               std::vector<AlertNotice>* out);

  // Current non-inactive states, for /metrics and the admin API.
  struct Active {
    const AlertDef* def;
    std::string group;
    AlertState state;
  };
  std::vector<Active> ActiveAlerts() const;
  // An active alert as a notice of its current state (pending or firing),
  // with labels and rendered annotations, for the admin API.
  AlertNotice Describe(const Active& a) const;
  int FiringCount(Severity s) const;

 private:
  struct Latest {
    double value;
    TimeMs start;
  };
  using LatestMap = absl::flat_hash_map<std::string, Latest, StringHash, StringEq>;
  void ProcessEnd(TimeMs end, const WindowResult* begin, const WindowResult* stop,
                  std::vector<AlertNotice>* out);
  // Whether metric m's next window end matters even without data: it holds
  // values or one of its alerts is not inactive.
  bool NeedsClose(int m) const;
  void Evaluate(int alert, TimeMs end, std::vector<AlertNotice>* out);
  AlertNotice MakeNotice(const AlertDef& def, const std::string& group, const AlertState& s,
                         Transition t, TimeMs at) const;

  const RuleSet& rules_;
  std::vector<LatestMap> latest_;        // per metric
  std::vector<TimeMs> last_end_;         // per metric: last window end processed
  std::vector<std::vector<int>> alerts_of_metric_;
  // Per alert, by group; only groups that are not inactive are kept.
  std::vector<std::map<std::string, AlertState>> states_;
  std::vector<Value> slots_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_ALERT_OPERATOR_H_
