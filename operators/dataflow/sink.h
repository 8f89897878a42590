// operators/dataflow/sink.h
//
// What the job produces, and the interface of everything that consumes it:
// closed window results (one value per metric, group and window) and alert
// notices (state transitions of an alert for one group). Sinks receive them
// in event-time order of window end, deterministically ordered within an
// end (metric order, then group key), so a replay produces byte-identical
// output.
//
// Example:
//   class MySink : public Sink {
//     void OnWindow(const WindowResult& r) override { ... }
//     void OnAlert(const AlertNotice& a) override { ... }
//   };
#ifndef VIGIL_OPERATORS_DATAFLOW_SINK_H_
#define VIGIL_OPERATORS_DATAFLOW_SINK_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/time.h"
#include "rules/alert_state.h"
#include "rules/rule_set.h"

namespace vigil {

struct WindowResult {
  int metric = 0;
  const MetricDef* def = nullptr;
  std::string group;                // encoded group key (see GroupLabels)
  std::vector<std::string> labels;  // values of def->by, in order
  TimeMs start = 0;
  TimeMs end = 0;
  double value = 0;
};

// One transition of one alert for one group, as the alert operator decides
// it (pending, firing, resolved, ...), with a pointer to its rule. The
// notifier turns the firing and resolved ones into self-contained
// Notifications (operators/notify/notify_payload.h) to deliver and spool.
struct AlertNotice {
  const AlertDef* def = nullptr;
  Transition transition = Transition::kNone;
  TimeMs at = 0;  // event time of the transition (a window end)
  // The alert's value; on a resolved notice, the value of its last firing
  // evaluation (the one its annotations are rendered with), and the value
  // at the evaluation that resolved it is `resolved_value`.
  double value = 0;
  std::optional<double> resolved_value;
  Labels labels;  // alertname, severity, group labels, rule labels
  std::vector<std::pair<std::string, std::string>> annotations;  // rendered
  TimeMs active_since = kMinTime;
  TimeMs fired_at = kMinTime;
  double peak = 0;  // largest value since the alert became active
  std::string group;
  std::string window;  // window of the alert's first metric, e.g. "5m"
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void OnWindow(const WindowResult&) {}
  virtual void OnAlert(const AlertNotice&) {}
  virtual void Flush() {}
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_SINK_H_
