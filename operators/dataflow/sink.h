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

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/time.h"
#include "rules/alert_state.h"
#include "rules/rule_set.h"
#include "windows/ddsketch.h"

namespace vigil {

struct WindowResult {
  int metric = 0;
  const MetricDef* def = nullptr;
  std::string group;  // encoded group key (see GroupLabels)
  // Values of def->by, in order; none for an experiment's input (its group
  // key holds its arm and unit: GroupLabel).
  std::vector<std::string> labels;
  TimeMs start = 0;
  TimeMs end = 0;
  double value = 0;
  // Closed by the end of a bounded input before the input covered it (see
  // InputEnd): in the results, marked "partial"; never in /metrics history
  // nor an alert.
  bool partial = false;
  // An experiment's input (MetricDef::internal()): the values of its
  // aggregates in order, and a quantile aggregate's sketch.
  std::vector<double> parts;
  std::shared_ptr<const DDSketch> sketch;
};

// How far a bounded input that has ended covers event time: to its latest
// event. At the end of a file, stdin or a topic read with --exit-at-end the
// watermark jumps to +inf and closes every open window; one that ends after
// the last event (this week's, after a one-hour file) is partial. kMaxTime
// (the input has not ended, or `--close-partial-windows`) covers every
// window. A live input that goes quiet is not "ended": its windows close by
// the processing clock and are complete.
struct InputEnd {
  TimeMs last = kMaxTime;
  bool Covers(TimeMs window_end) const { return last == kMaxTime || window_end - 1 <= last; }
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
  double peak = 0;  // furthest past the threshold since the alert became active (AlertTiming)
  std::string group;
  std::string window;  // window of the alert's first metric, e.g. "5m"
  // Whether receivers get it (the Notifier). False for a firing alert
  // while an inhibition or a silence holds (it keeps its state), and for
  // the resolution of one whose firing never went out.
  bool notify = true;
  std::string inhibited_by;  // the firing alert that inhibits it, if any
  std::string silenced_by;   // the silence that mutes it, if any
  // A firing alert notified late: its inhibition or silence ended while it
  // still fired (`at` is then, fired_at when it fired).
  bool released = false;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual void OnWindow(const WindowResult&) {}
  virtual void OnAlert(const AlertNotice&) {}
  // At the end of a run, before Flush: each alert still pending or firing,
  // as it stands (transition kNone; its peak so far), for sinks that sum up
  // episodes.
  virtual void OnStillActive(const AlertNotice&) {}
  virtual void Flush() {}
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_SINK_H_
