// operators/metric_operator.h
//
// MetricOperator runs one windowed metric over the event stream: filter
// (`where:`), key-by (`by:`), and one update per aggregate into the event's
// pane; at the frontier it closes windows and computes the metric's value
// from the merged aggregates. All per-event work uses compiled programs and
// slot indices; the group key is built into a reused buffer.
//
// Example:
//   MetricOperator op(rules.metrics[0], 0);
//   op.Add(event);
//   std::vector<WindowResult> out;
//   op.Close(watermark, &out);
#ifndef VIGIL_OPERATORS_METRIC_OPERATOR_H_
#define VIGIL_OPERATORS_METRIC_OPERATOR_H_

#include <string>
#include <vector>

#include "operators/event_parser.h"
#include "operators/sink.h"
#include "rules/rule_set.h"
#include "windows/pane_store.h"

namespace vigil {

// The group key joins the `by:` values with this separator.
inline constexpr char kGroupSeparator = '\x1f';
std::vector<std::string> GroupLabels(std::string_view group, size_t n);

// FilterBank evaluates each distinct `where:` of a rule set once per event,
// however many metrics share it (most reference metrics filter on
// `type == "message"`).
class FilterBank {
 public:
  // Returns the filter's index; metrics with the same filter text share one.
  int Register(const MetricDef& def);
  void Evaluate(const Event& ev) {
    for (size_t i = 0; i < programs_.size(); ++i) passed_[i] = programs_[i]->EvalBool(ev.slots.data());
  }
  bool passed(int id) const { return passed_[id] != 0; }

 private:
  std::vector<const Program*> programs_;
  std::vector<std::string> sources_;
  std::vector<uint8_t> passed_;
};

class MetricOperator {
 public:
  // With a bank, Add reads the filter result the bank computed for the
  // event (call bank->Evaluate first); without one it evaluates `where`.
  MetricOperator(const MetricDef& def, int index, FilterBank* bank = nullptr);

  void Add(const Event& ev);
  // Appends the results of every window with end <= frontier.
  void Close(TimeMs frontier, std::vector<WindowResult>* out);

  const MetricDef& def() const { return def_; }
  PaneStore& store() { return store_; }
  uint64_t events_matched() const { return matched_; }

 private:
  const MetricDef& def_;
  int index_;
  const FilterBank* bank_;
  int filter_ = -1;
  PaneStore store_;
  std::string key_;
  std::vector<Value> agg_values_;
  uint64_t matched_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_METRIC_OPERATOR_H_
