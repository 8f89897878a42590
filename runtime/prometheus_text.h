// runtime/prometheus_text.h
//
// The Prometheus text exposition format (version 0.0.4) of a registry's
// families, as /metrics serves it. It differs from prometheus-cpp's own
// TextSerializer in two ways that readers notice:
//   - HELP text is escaped (`\` as `\\`, a line break as `\n`), so a rule's
//     multi-line `help:` cannot break the page for the scraper;
//   - values are written in the shortest form that reads back as the same
//     double (the results file's form), not rounded to 16 digits.
// Label values escape `\`, `"` and line breaks; infinities and NaN are
// written `+Inf`, `-Inf` and `NaN`.
//
// Example:
//   PrometheusText(registry->Collect())
//   // # HELP vigil_events_in_total Records read from the source
//   // # TYPE vigil_events_in_total counter
//   // vigil_events_in_total 142
#ifndef VIGIL_RUNTIME_PROMETHEUS_TEXT_H_
#define VIGIL_RUNTIME_PROMETHEUS_TEXT_H_

#include <string>
#include <vector>

#include "prometheus/metric_family.h"

namespace vigil {

std::string PrometheusText(const std::vector<prometheus::MetricFamily>& families);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_PROMETHEUS_TEXT_H_
