#include "runtime/history_query.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "base/strings.h"

namespace vigil {
namespace {

std::vector<std::pair<std::string, std::string>> Sorted(
    std::vector<std::pair<std::string, std::string>> labels) {
  std::sort(labels.begin(), labels.end());
  return labels;
}

std::string Number(double v) {
  if (std::isnan(v)) return "null";
  std::string out;
  AppendJsonNumber(v, &out);
  return out;
}

// A CSV cell, quoted when it must be (RFC 4180).
std::string Cell(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

}  // namespace

absl::Status ParseLabelFilter(std::string_view text,
                              std::vector<std::pair<std::string, std::string>>* out) {
  // Parts split at unescaped commas; `\,` and `\\` stand for a comma and
  // a backslash in a value.
  std::vector<std::string> parts(1);
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\\' && i + 1 < text.size() && (text[i + 1] == ',' || text[i + 1] == '\\')) {
      parts.back().push_back(text[++i]);
    } else if (c == ',') {
      parts.emplace_back();
    } else {
      parts.back().push_back(c);
    }
  }
  for (const std::string& part : parts) {
    if (part.empty()) continue;
    const size_t eq = part.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          StrCat("labels: '", part, "' is not NAME=VALUE (e.g. intent=faq,model=haiku)"));
    }
    const std::string name = part.substr(0, eq);
    for (const auto& [have, value] : *out) {
      if (have == name) {
        return absl::InvalidArgumentError(
            StrCat("labels: '", name, "' is given twice (a series has one value of each)"));
      }
    }
    out->emplace_back(name, part.substr(eq + 1));
  }
  return absl::OkStatus();
}

absl::StatusOr<HistoryQuery> ParseHistoryQuery(std::string_view query_string) {
  HistoryQuery q;
  for (std::string_view param : StrSplit(query_string, '&')) {
    if (param.empty()) continue;
    const size_t eq = param.find('=');
    const std::string_view key = param.substr(0, eq);
    std::string value;
    if (!PercentDecode(eq == std::string_view::npos ? "" : param.substr(eq + 1), &value)) {
      return absl::InvalidArgumentError(StrCat(key, ": a malformed %-escape"));
    }
    if (key == "metric") {
      q.metric = value;
    } else if (key == "labels") {
      if (absl::Status s = ParseLabelFilter(value, &q.labels); !s.ok()) return s;
    } else if (key == "from" || key == "to") {
      std::optional<TimeMs> t = ParseRfc3339(value);
      if (!t)
        return absl::InvalidArgumentError(
            StrCat(key, " needs an RFC 3339 time, not '", value, "'"));
      // Times are whole milliseconds: [from, to) holds the same ones as
      // [from rounded up, to rounded up).
      if (BeyondMillis(value)) ++*t;
      (key == "from" ? q.from : q.to) = *t;
    } else if (key == "step") {
      std::optional<DurationMs> d = ParseDuration(value);
      if (!d || *d <= 0)
        return absl::InvalidArgumentError(
            StrCat("step needs a duration such as 1h, not '", value, "'"));
      q.step = *d;
    } else {
      return absl::InvalidArgumentError(
          StrCat("unknown parameter '", key, "' (allowed: metric, labels, from, to, step)"));
    }
  }
  if (q.metric.empty()) return absl::InvalidArgumentError("metric= is required");
  if (q.from >= q.to) return absl::InvalidArgumentError("from must be before to");
  return q;
}

void HistoryResult::Add(const StoredWindow& w) {
  if (w.metric != query_.metric || w.start < query_.from || w.start >= query_.to) return;
  for (const auto& want : query_.labels) {
    auto it = std::find_if(w.labels.begin(), w.labels.end(),
                           [&](const auto& l) { return l.first == want.first; });
    if (it == w.labels.end() || it->second != want.second) return;
  }
  series_[Sorted(w.labels)][w.start] = w;
}

size_t HistoryResult::windows() const {
  size_t n = 0;
  for (const auto& [labels, windows] : Result()) n += windows.size();
  return n;
}

HistoryResult::Series HistoryResult::Result() const {
  if (query_.step <= 0) return series_;
  Series out;
  for (const auto& [labels, windows] : series_) {
    // The last window to end in each step; keyed by step, then by start.
    std::map<TimeMs, const StoredWindow*> last;
    for (const auto& [start, w] : windows) {
      const TimeMs step = (w.end - 1) / query_.step - ((w.end - 1) % query_.step < 0 ? 1 : 0);
      const StoredWindow*& kept = last[step];
      if (kept == nullptr || kept->end <= w.end) kept = &w;
    }
    auto& kept = out[labels];
    for (const auto& [step, w] : last) kept[w->start] = *w;
  }
  return out;
}

std::string HistoryResult::ToText() const {
  const Series series = Result();
  if (series.empty()) return StrCat("no windows of ", query_.metric, " in the range\n");
  std::string out;
  for (const auto& [labels, windows] : series) {
    out += query_.metric;
    if (!labels.empty()) {
      out += "{";
      for (size_t i = 0; i < labels.size(); ++i) {
        StrAppend(&out, i ? "," : "", labels[i].first, "=");
        AppendJsonString(labels[i].second, &out);
      }
      out += "}";
    }
    out += "\n";
    for (const auto& [start, w] : windows) {
      StrAppend(&out, "  ", FormatTimestamp(w.end), "  ", Number(w.value),
                w.partial ? "  partial" : "", "\n");
    }
  }
  return out;
}

std::string HistoryResult::ToJson() const {
  std::string out = "{\"metric\":";
  AppendJsonString(query_.metric, &out);
  out += ",\"series\":[";
  bool first = true;
  for (const auto& [labels, windows] : Result()) {
    if (!first) out += ",";
    first = false;
    out += "{\"labels\":";
    AppendJsonObject(labels, &out);
    out += ",\"windows\":[";
    bool first_window = true;
    for (const auto& [start, w] : windows) {
      StrAppend(&out, first_window ? "" : ",", "{\"start\":\"", FormatTimestamp(w.start),
                "\",\"end\":\"", FormatTimestamp(w.end), "\",\"value\":", Number(w.value),
                w.partial ? ",\"partial\":true}" : "}");
      first_window = false;
    }
    out += "]}";
  }
  return out + "]}";
}

std::string HistoryResult::ToCsv() const {
  const Series series = Result();
  std::set<std::string> names;
  for (const auto& [labels, windows] : series) {
    for (const auto& [k, v] : labels) names.insert(k);
  }
  // A label named like a fixed column is headed label_NAME, so that a reader
  // that keys by header gets both.
  std::set<std::string> taken = {"metric", "start", "end", "value", "partial"};
  taken.insert(names.begin(), names.end());
  std::string out = "metric";
  for (const std::string& n : names) {
    std::string head = n;
    if (head == "metric" || head == "start" || head == "end" || head == "value" ||
        head == "partial") {
      do {
        head.insert(0, "label_");
      } while (!taken.insert(head).second);
    }
    StrAppend(&out, ",", Cell(head));
  }
  out += ",start,end,value,partial\n";
  for (const auto& [labels, windows] : series) {
    std::string prefix = Cell(query_.metric);
    for (const std::string& n : names) {
      auto it =
          std::find_if(labels.begin(), labels.end(), [&](const auto& l) { return l.first == n; });
      StrAppend(&prefix, ",", it == labels.end() ? "" : Cell(it->second));
    }
    for (const auto& [start, w] : windows) {
      StrAppend(&out, prefix, ",", FormatTimestamp(w.start), ",", FormatTimestamp(w.end), ",",
                std::isnan(w.value) ? "" : Number(w.value), ",", w.partial ? "true" : "false",
                "\n");
    }
  }
  return out;
}

}  // namespace vigil
