#include "runtime/evaluation.h"

namespace vigil {

bool Evaluation::Close(Dataflow& flow, AlertOperator& alerts, TimeMs frontier,
                       const InputEnd& input) {
  results_.clear();
  flow.Close(frontier, &results_);
  bool any_partial = false, any_complete = false;
  for (WindowResult& r : results_) {
    // (An experiment that started over marks its outputs partial itself.)
    r.partial = r.partial || !input.Covers(r.end) || !alerts.Covers(r.metric, r.start);
    any_partial |= r.partial;
    any_complete |= !r.partial;
    for (const auto& s : *out_.sinks) s->OnWindow(r);
  }
  out_.metrics->SetWindows(results_);
  if (out_.latest) out_.latest->Update(results_);
  out_.counters->windows += results_.size();
  if (out_.admin) {
    if (!any_partial) {
      out_.admin->RecordWindows(results_);
    } else {
      std::vector<WindowResult> complete;
      for (const WindowResult& r : results_) {
        if (!r.partial) complete.push_back(r);
      }
      out_.admin->RecordWindows(complete);
    }
  }
  notices_.clear();
  alerts.Advance(frontier, results_, &notices_, input);
  for (const AlertNotice& n : notices_) {
    // A release (an inhibited or silenced alert notified when that ends)
    // is a notification, not a transition: the alert fired before.
    if (!n.released) {
      out_.metrics->Transition(n);
      if (n.transition == Transition::kFiring) ++out_.counters->firing_transitions;
    }
    for (const auto& s : *out_.sinks) s->OnAlert(n);
  }
  if (out_.admin) out_.admin->RecordTransitions(notices_);
  // The active alerts' values change with every complete window, not only
  // with a transition.
  return !notices_.empty() || any_complete;
}

}  // namespace vigil
