#include "rules/metric_names.h"

#include <algorithm>
#include <array>
#include <utility>

#include "base/strings.h"

namespace vigil {
namespace {

std::vector<std::string> Parts(std::string_view name) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= name.size()) {
    const size_t end = std::min(name.find('_', start), name.size());
    out.emplace_back(name.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct UnitSpelling {
  MetricUnit unit;
  std::vector<std::string> parts;  // dropped from the name
  const char* suffix;
  double scale;
};

const std::array<UnitSpelling, 4>& Spellings() {
  static const std::array<UnitSpelling, 4> kSpellings = {{
      {MetricUnit::kMilliseconds, {"ms", "msec", "milliseconds"}, "seconds", 0.001},
      {MetricUnit::kSeconds, {"s", "sec", "secs", "seconds"}, "seconds", 1},
      {MetricUnit::kBytes, {"b", "bytes"}, "bytes", 1},
      {MetricUnit::kRatio, {"ratio"}, "ratio", 1},
  }};
  return kSpellings;
}

}  // namespace

std::optional<MetricUnit> ParseMetricUnit(std::string_view name) {
  if (name == "milliseconds") return MetricUnit::kMilliseconds;
  if (name == "seconds") return MetricUnit::kSeconds;
  if (name == "bytes") return MetricUnit::kBytes;
  if (name == "ratio") return MetricUnit::kRatio;
  return std::nullopt;
}

ExportedName ExportName(std::string_view metric, MetricUnit unit) {
  ExportedName out{StrCat("vigil_metric_", std::string(metric)), 1};
  for (const UnitSpelling& s : Spellings()) {
    if (s.unit != unit) continue;
    std::string name = "vigil_metric";
    for (const std::string& part : Parts(metric)) {
      if (std::find(s.parts.begin(), s.parts.end(), part) == s.parts.end()) {
        StrAppend(&name, "_", part);
      }
    }
    StrAppend(&name, "_", s.suffix);
    out = {name, s.scale};
  }
  return out;
}

std::vector<std::string> PrometheusNameProblems(std::string_view name) {
  static const std::array<const char*, 14> kAbbreviations = {
      "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d"};
  static const std::array<std::pair<const char*, const char*>, 11> kNonBase = {{
      {"milliseconds", "seconds"},
      {"microseconds", "seconds"},
      {"nanoseconds", "seconds"},
      {"minutes", "seconds"},
      {"hours", "seconds"},
      {"days", "seconds"},
      {"weeks", "seconds"},
      {"bits", "bytes"},
      {"kilobytes", "bytes"},
      {"megabytes", "bytes"},
      {"gigabytes", "bytes"},
  }};
  std::vector<std::string> out;
  for (const std::string& part : Parts(name)) {
    if (std::find(kAbbreviations.begin(), kAbbreviations.end(), part) != kAbbreviations.end()) {
      out.push_back(StrCat("abbreviated unit '", part, "'"));
    }
    for (const auto& [unit, base] : kNonBase) {
      if (part == unit) out.push_back(StrCat("use the base unit '", base, "', not '", unit, "'"));
    }
  }
  if (EndsWith(name, "_total")) out.push_back("'_total' is reserved for counters");
  for (const char* suffix : {"_count", "_sum"}) {
    if (EndsWith(name, suffix)) {
      out.push_back(StrCat("'", suffix, "' is reserved for histograms and summaries"));
    }
  }
  if (EndsWith(name, "_bucket")) out.push_back("'_bucket' is reserved for histograms");
  return out;
}

}  // namespace vigil
