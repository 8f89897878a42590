// rules/metric_names.h
//
// How a rule metric is named on /metrics, and what Prometheus' naming
// conventions (the lint of `promtool check metrics`) say about that name.
//
// A metric is exported as vigil_metric_<name>. With `unit:`, its values are
// exported in the unit's base unit and the name says so: the name's own
// spelling of the unit (a `_ms` part for milliseconds) makes way for the
// base unit's suffix, and the values are scaled:
//
//   unit           name part(s) dropped      suffix     value
//   milliseconds   ms, msec, milliseconds    _seconds   / 1000
//   seconds        s, sec, secs, seconds     _seconds
//   bytes          b, bytes                  _bytes
//   ratio          ratio                     _ratio
//
// so latency_p99_ms with `unit: milliseconds` is vigil_metric_latency_p99_seconds.
// Rules, results, alerts and the status page keep the metric's own name and
// values; only /metrics changes.
//
// Example:
//   ExportedName e = ExportName("latency_p99_ms", MetricUnit::kMilliseconds);
//   // e.name == "vigil_metric_latency_p99_seconds", e.scale == 0.001
//   PrometheusNameProblems("vigil_metric_feedback_count");
//   // {"'_count' is reserved for histograms and summaries"}
#ifndef VIGIL_RULES_METRIC_NAMES_H_
#define VIGIL_RULES_METRIC_NAMES_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

enum class MetricUnit { kNone, kMilliseconds, kSeconds, kBytes, kRatio };

// "milliseconds", "seconds", "bytes", "ratio"; nullopt for another word.
std::optional<MetricUnit> ParseMetricUnit(std::string_view name);

struct ExportedName {
  std::string name;  // vigil_metric_...
  double scale = 1;  // exported value = value * scale
};
ExportedName ExportName(std::string_view metric, MetricUnit unit);

// vigil's own gauge of each rule metric's latest window end, under the
// same prefix as the rule metrics: no rule metric may be exported as it.
inline constexpr std::string_view kWindowEndGauge = "vigil_metric_window_end_timestamp_seconds";

// What Prometheus' naming conventions object to in the name of a gauge:
// abbreviated units (ms, s, kb, ...), units that are not base units
// (milliseconds, minutes, ...) and the suffixes reserved for counters,
// histograms and summaries (_total, _count, _sum, _bucket). Empty: clean.
std::vector<std::string> PrometheusNameProblems(std::string_view name);

}  // namespace vigil

#endif  // VIGIL_RULES_METRIC_NAMES_H_
