#include "runtime/evaluation.h"

namespace vigil {

bool Evaluation::Close(Dataflow& flow, AlertOperator& alerts, TimeMs frontier) {
  results_.clear();
  flow.Close(frontier, &results_);
  for (const WindowResult& r : results_) {
    out_.metrics->SetWindow(r);
    for (const auto& s : *out_.sinks) s->OnWindow(r);
  }
  out_.counters->windows += results_.size();
  if (out_.admin) out_.admin->RecordWindows(results_);
  notices_.clear();
  alerts.Advance(frontier, results_, &notices_);
  for (const AlertNotice& n : notices_) {
    out_.metrics->Transition(n);
    if (n.transition == Transition::kFiring) ++out_.counters->firing_transitions;
    for (const auto& s : *out_.sinks) s->OnAlert(n);
  }
  return !notices_.empty();
}

}  // namespace vigil
