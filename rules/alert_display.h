// rules/alert_display.h
//
// How an alert and its metrics are shown to a person (the status page, the
// admin API): the threshold its expression compares a metric with, and the
// format of values — the one its `summary:` annotation applies to `$value`
// (humanizePercentage, humanizeDuration), else the metric's `unit:`.
//
// The threshold is the first comparison in the expression, in source
// order, between a metric name and a number: `error_rate > 0.05` and
// `zscore(escalation_rate, 6h) > 3 and escalation_rate > 0.05` both give
// {escalation_rate/error_rate, ">", 0.05}; `0.5 > cache_hit_rate` is read
// as `cache_hit_rate < 0.5`; `declining(conversion_rate, 3)` has none.
//
// Example:
//   DisplayFormats formats = DisplayFormats::Of(rules);
//   formats.metric[m];                       // ValueFormat::kPercent
//   FormatValue(0.0712, ValueFormat::kPercent);          // "7.12%"
//   FormatValue(2500, ValueFormat::kMilliseconds);       // "2.5s"
//   std::optional<AlertThreshold> t = FindThreshold(rules, rules.alerts[0]);
#ifndef VIGIL_RULES_ALERT_DISPLAY_H_
#define VIGIL_RULES_ALERT_DISPLAY_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/rule_set.h"

namespace vigil {

enum class ValueFormat : uint8_t {
  kNumber,        // {{ $value | humanize }}: 0.5, 12, 1.234k
  kPercent,       // a ratio as {{ $value | humanizePercentage }}: 7.12%
  kSeconds,       // {{ $value | humanizeDuration }}: 2.5s, 1m 30s
  kMilliseconds,  // milliseconds, shown as the duration they are
  kBytes,         // {{ $value | humanize1024 }}B: 1.5kiB
};
std::string_view ValueFormatName(ValueFormat f);  // "number", "percent", …

// `v` as a person reads it, with the same functions annotation templates
// use (rules/template.h), so the page and the summary agree.
std::string FormatValue(double v, ValueFormat f);

struct DisplayFormats {
  std::vector<ValueFormat> metric;  // per RuleSet::metrics
  std::vector<ValueFormat> alert;   // per RuleSet::alerts: of its $value
  static DisplayFormats Of(const RuleSet& rules);
};

struct AlertThreshold {
  int metric = -1;  // index into RuleSet::metrics
  std::string op;   // ">", ">=", "<", "<=", "==", "!=", with the metric on the left
  double value = 0;
};
std::optional<AlertThreshold> FindThreshold(const RuleSet& rules, const AlertDef& alert);

// The metric whose current value is the alert's $value (its first input,
// when that is not a history function), or -1.
int ValueMetric(const AlertDef& alert);

}  // namespace vigil

#endif  // VIGIL_RULES_ALERT_DISPLAY_H_
