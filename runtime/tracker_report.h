// runtime/tracker_report.h
//
// `vigil report tracker` and the status page's tracker: the runbook's
// monthly improvement table. One row per calendar month, one column per
// metric of a `trackers:` entry (rules/rule_set.h, TrackerDef), a Target
// row, each cell marked met (✓) or missed (✗) against the metric's
// `target:` with its change from the month before, e.g.
//
//   Month      Escalation Rate      Resolution Rate      ...
//   Target     < 5.0%               > 85.0%
//   2026-01    12.0% ✗              71.0% ✗
//   2026-02     9.0% ✗ (-3.0 pts)   76.0% ✗ (+5.0 pts)
//
// Shares (`unit: ratio`) read as percentages and their changes in points.
// The values come from a replay (TrackerSink) or from a running job's
// /api/rules and /api/metrics?history=N. A month the data covers only in
// part is marked with '*'.
//
// Example:
//   TrackerData data;
//   data.Add("escalation_rate_monthly", end, 0.12, /*partial=*/false);
//   std::string text = TrackerReport(TrackerInfos(rules), data, "text");
#ifndef VIGIL_RUNTIME_TRACKER_REPORT_H_
#define VIGIL_RUNTIME_TRACKER_REPORT_H_

#include <simdjson.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "operators/dataflow/sink.h"
#include "rules/rule_set.h"

namespace vigil {

// What the report needs of a tracker's definition; /api/rules carries it
// under "trackers".
struct TrackerInfo {
  struct Column {
    std::string metric, title;
    bool ratio = false;  // unit: ratio
    std::optional<MetricDef::Target> target;
    std::string zone = "UTC";  // of the metric's calendar months
  };
  std::string name, help;
  std::vector<Column> columns;
};
std::vector<TrackerInfo> TrackerInfos(const RuleSet& rules);
void AppendTrackersJson(const std::vector<TrackerInfo>& infos, std::string* json);
bool ParseTrackerInfos(simdjson::dom::element array, std::vector<TrackerInfo>* out);

// Each tracker metric's monthly values, by window end.
class TrackerData {
 public:
  struct Cell {
    double value = 0;
    bool partial = false;
  };
  void Add(const std::string& metric, TimeMs end, double value, bool partial);
  // The series of /api/metrics?history=N; false when it is not its array.
  bool AddApiMetrics(simdjson::dom::element array, const std::set<std::string>& metrics);
  const std::map<TimeMs, Cell>* Series(const std::string& metric) const;

 private:
  std::map<std::string, std::map<TimeMs, Cell>> series_;
};

// Collects the windows of the trackers' metrics in a replay.
class TrackerSink : public Sink {
 public:
  TrackerSink(std::set<std::string> metrics, TrackerData* out)
      : metrics_(std::move(metrics)), out_(out) {}
  // A replay from `from`: the windows of `from_streams` (metrics of
  // session streams and joins) that start by it miss the sessions that
  // began before it, so they are partial.
  void CutAt(TimeMs from, std::set<std::string> from_streams) {
    cut_at_ = from;
    cut_ = std::move(from_streams);
  }
  void OnWindow(const WindowResult& r) override {
    if (r.labels.empty() && metrics_.contains(r.def->name)) {
      const bool cut = cut_at_ != kMinTime && r.start <= cut_at_ && cut_.contains(r.def->name);
      out_->Add(r.def->name, r.end, r.value, r.partial || cut);
    }
  }
  void OnAlert(const AlertNotice&) override {}

 private:
  std::set<std::string> metrics_;
  TrackerData* out_;
  TimeMs cut_at_ = kMinTime;
  std::set<std::string> cut_;
};

// `format`: text, markdown, json or html. Rows whose month starts before
// `to` and ends after `from`. A month is marked partial when its results
// say so, or when it starts before `covered_from` (a replay from --from
// has none of its events before then).
std::string TrackerReport(const std::vector<TrackerInfo>& infos, const TrackerData& data,
                          std::string_view format, TimeMs from = kMinTime, TimeMs to = kMaxTime,
                          TimeMs covered_from = kMinTime);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_TRACKER_REPORT_H_
