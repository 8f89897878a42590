// runtime/evaluation.h
//
// The job's last step at each frontier: the windows the frontier has passed
// close (Dataflow::Close returns them by window end, then metric, then
// group: the order the alert operator and the sinks rely on), each result
// goes to /metrics, to every sink and to the admin API, and then the alert
// operator evaluates them and its transitions go to /metrics and to every
// sink. So a sink sees a window's result before any alert it causes, and
// the counters (windows, firing transitions) count both. A window an ended
// input does not cover (InputEnd) is marked partial: the sinks get it so
// marked, and neither /metrics, the admin API's history nor the alerts see
// it.
//
// Example:
//   Evaluation eval({&metrics, &sinks, admin, &counters});
//   if (eval.Close(flow, alert_op, frontier)) PublishAlerts();  // alerts were evaluated
#ifndef VIGIL_RUNTIME_EVALUATION_H_
#define VIGIL_RUNTIME_EVALUATION_H_

#include <memory>
#include <vector>

#include "operators/dataflow/alert_operator.h"
#include "operators/dataflow/dataflow.h"
#include "operators/dataflow/sink.h"
#include "runtime/admin_api.h"
#include "runtime/job_counters.h"
#include "runtime/job_metrics.h"
#include "runtime/latest_windows.h"

namespace vigil {

class Evaluation {
 public:
  struct Outputs {
    JobMetrics* metrics = nullptr;
    const std::vector<std::unique_ptr<Sink>>* sinks = nullptr;
    AdminApi* admin = nullptr;  // may be null
    JobCounters* counters = nullptr;
    LatestWindows* latest = nullptr;  // may be null
  };
  explicit Evaluation(const Outputs& outputs) : out_(outputs) {}

  // Closes the windows of `flow` that end by `frontier` and evaluates the
  // alerts on them. Returns whether what the active alerts show may have
  // changed: an alert changed state, or a complete window was evaluated
  // (a firing alert's value is that of its latest evaluation).
  bool Close(Dataflow& flow, AlertOperator& alerts, TimeMs frontier, const InputEnd& input = {});

  // What the last Close emitted, in the order delivered.
  const std::vector<WindowResult>& results() const { return results_; }
  const std::vector<AlertNotice>& notices() const { return notices_; }

 private:
  Outputs out_;
  std::vector<WindowResult> results_;
  std::vector<AlertNotice> notices_;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_EVALUATION_H_
