#include "runtime/prometheus_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "base/strings.h"

namespace vigil {

namespace {

void AppendValue(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, static_cast<size_t>(end - buf));
  }
}

// `escape_quote`: label values escape `"` as well; HELP text does not.
void AppendEscaped(std::string_view s, bool escape_quote, std::string* out) {
  for (char c : s) {
    if (c == '\\') {
      out->append("\\\\");
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '"' && escape_quote) {
      out->append("\\\"");
    } else {
      out->push_back(c);
    }
  }
}

// One sample line: NAME SUFFIX{LABELS[,EXTRA="EXTRA_VALUE"]} VALUE [TIMESTAMP]
void AppendSample(const std::string& name, std::string_view suffix,
                  const prometheus::ClientMetric& m, std::string_view extra,
                  std::string_view extra_value, double value, std::string* out) {
  StrAppend(out, name, suffix);
  if (!m.label.empty() || !extra.empty()) {
    out->push_back('{');
    bool first = true;
    for (const prometheus::ClientMetric::Label& l : m.label) {
      if (!first) out->push_back(',');
      first = false;
      StrAppend(out, l.name, "=\"");
      AppendEscaped(l.value, true, out);
      out->push_back('"');
    }
    if (!extra.empty()) {
      if (!first) out->push_back(',');
      StrAppend(out, extra, "=\"", extra_value, "\"");
    }
    out->push_back('}');
  }
  out->push_back(' ');
  AppendValue(value, out);
  if (m.timestamp_ms != 0) StrAppend(out, " ", m.timestamp_ms);
  out->push_back('\n');
}

std::string_view TypeName(prometheus::MetricType t) {
  switch (t) {
    case prometheus::MetricType::Counter:
      return "counter";
    case prometheus::MetricType::Gauge:
      return "gauge";
    case prometheus::MetricType::Summary:
      return "summary";
    case prometheus::MetricType::Histogram:
      return "histogram";
    case prometheus::MetricType::Untyped:
      break;
  }
  return "untyped";
}

void AppendMetric(const prometheus::MetricFamily& f, const prometheus::ClientMetric& m,
                  std::string* out) {
  std::string bound;
  switch (f.type) {
    case prometheus::MetricType::Counter:
      AppendSample(f.name, "", m, "", "", m.counter.value, out);
      break;
    case prometheus::MetricType::Gauge:
      AppendSample(f.name, "", m, "", "", m.gauge.value, out);
      break;
    case prometheus::MetricType::Untyped:
      AppendSample(f.name, "", m, "", "", m.untyped.value, out);
      break;
    case prometheus::MetricType::Summary:
      for (const prometheus::ClientMetric::Quantile& q : m.summary.quantile) {
        bound.clear();
        AppendValue(q.quantile, &bound);
        AppendSample(f.name, "", m, "quantile", bound, q.value, out);
      }
      AppendSample(f.name, "_sum", m, "", "", m.summary.sample_sum, out);
      AppendSample(f.name, "_count", m, "", "", static_cast<double>(m.summary.sample_count), out);
      break;
    case prometheus::MetricType::Histogram: {
      bool has_inf = false;
      for (const prometheus::ClientMetric::Bucket& b : m.histogram.bucket) {
        bound.clear();
        AppendValue(b.upper_bound, &bound);
        has_inf = has_inf || std::isinf(b.upper_bound);
        AppendSample(f.name, "_bucket", m, "le", bound, static_cast<double>(b.cumulative_count),
                     out);
      }
      if (!has_inf) {
        AppendSample(f.name, "_bucket", m, "le", "+Inf",
                     static_cast<double>(m.histogram.sample_count), out);
      }
      AppendSample(f.name, "_sum", m, "", "", m.histogram.sample_sum, out);
      AppendSample(f.name, "_count", m, "", "", static_cast<double>(m.histogram.sample_count), out);
      break;
    }
  }
}

}  // namespace

std::string PrometheusText(const std::vector<prometheus::MetricFamily>& families) {
  std::string out;
  for (const prometheus::MetricFamily& f : families) {
    if (!f.help.empty()) {
      StrAppend(&out, "# HELP ", f.name, " ");
      AppendEscaped(f.help, false, &out);
      out.push_back('\n');
    }
    StrAppend(&out, "# TYPE ", f.name, " ", TypeName(f.type), "\n");
    for (const prometheus::ClientMetric& m : f.metric) AppendMetric(f, m, &out);
  }
  return out;
}

}  // namespace vigil
