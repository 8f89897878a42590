// runtime/latest_windows.h
//
// LatestWindows keeps the complete windows of each metric's latest window
// end: what /metrics and /api/metrics show. A checkpoint carries them, so
// that a job restored from one shows every metric at once instead of
// after each metric's next window (an hour, a week or a month away for
// long windows). Only a metric whose definition is unchanged (name and
// fingerprint) gets its windows back, after a restart as after a reload.
//
// Example:
//   LatestWindows latest;
//   latest.Update(results);                    // after each close
//   data->panes.emplace_back(LatestWindows::kStateKey, latest.Encode());
//   ...
//   LatestWindows restored;
//   if (!restored.Decode(bytes, rules)) return DataLoss;
//   metrics.SetWindows(restored.All());
#ifndef VIGIL_RUNTIME_LATEST_WINDOWS_H_
#define VIGIL_RUNTIME_LATEST_WINDOWS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "operators/dataflow/sink.h"
#include "rules/rule_set.h"

namespace vigil {

// The scope whose latest window end makes a series current: its metric,
// or, for an experiment's outputs, the experiment across all its
// experiment_* metrics. A window with events of the experiment publishes
// every output that has a value (a comparison whose control arm has no
// units any more has none, and its older values are not current); one
// without publishes nothing, and the last values stay. "m<index>" or
// "e<experiment>".
std::string SeriesScope(const WindowResult& r);

class LatestWindows {
 public:
  static constexpr std::string_view kStateKey = "vigil.latest-windows";

  // Per scope (SeriesScope) with a complete window in `results`: its
  // complete results at the latest end there replace what was kept
  // (partial ones are skipped, as /metrics skips them).
  void Update(const std::vector<WindowResult>& results);
  // After a reload to `rules`: keeps the metrics defined alike there.
  void Rebind(const RuleSet& rules);
  // Every kept result, by metric index, in the order they were closed.
  std::vector<WindowResult> All() const;

  std::string Encode() const;
  // Replaces what is kept with `bytes`' windows of the metrics `rules`
  // defines alike; false if `bytes` is unreadable.
  bool Decode(std::string_view bytes, const RuleSet& rules);

 private:
  // By metric index; a result's sketch and parts are not kept.
  std::map<int, std::vector<WindowResult>> by_metric_;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_LATEST_WINDOWS_H_
