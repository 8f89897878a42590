#include "runtime/tracker_report.h"

#include <cmath>
#include <cstdio>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/strings.h"
#include "base/time.h"

namespace vigil {
namespace {

absl::TimeZone Zone(const std::string& zone) {
  absl::TimeZone tz;
  if (!LoadIanaTimeZone(zone, &tz)) tz = absl::UTCTimeZone();
  return tz;
}
// The calendar month a window ending at `end` covers, in `zone`.
absl::CivilMonth MonthOf(TimeMs end, const absl::TimeZone& tz) {
  return absl::CivilMonth(absl::ToCivilSecond(absl::FromUnixMillis(end - 1), tz));
}

void AppendHtmlEscaped(std::string_view s, std::string* out) {
  for (char c : s) {
    switch (c) {
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '&':
        *out += "&amp;";
        break;
      case '"':
        *out += "&quot;";
        break;
      default:
        out->push_back(c);
    }
  }
}

// A count or any value from 1,000 up in full, with its digits grouped
// (1,234,567, not 1.235e+06); a smaller one to four significant digits.
std::string Amount(double v) {
  return std::fabs(v) >= 1000 || v == std::round(v) ? Thousands(v) : FormatDouble("%.4g", v);
}
std::string ValueText(const TrackerInfo::Column& c, double v) {
  return c.ratio ? FormatDouble("%.1f%%", v * 100) : Amount(v);
}
std::string ChangeText(const TrackerInfo::Column& c, double d) {
  if (!c.ratio) return StrCat(d >= 0 ? "+" : "", Amount(d));
  // A change that rounds to nothing reads +0.0, not -0.0.
  const double points = std::round(d * 1000) / 10 + 0.0;
  return FormatDouble("%+.1f pts", points);
}
std::string TargetText(const TrackerInfo::Column& c) {
  if (!c.target) return "-";
  return StrCat(c.target->OpText(), " ", ValueText(c, c.target->value));
}

struct CellView {
  bool present = false;
  double value = 0;
  bool partial = false;
  std::optional<bool> met;
  std::optional<double> change;
};

struct Table {
  std::vector<std::string> months;
  std::vector<std::vector<CellView>> cells;  // [row][column]
};

// One row per month from the first shown to the last, a month without data
// included (its cells "-"); a change only against the calendar month
// before, so a gap leaves the next month without one.
Table Build(const TrackerInfo& t, const TrackerData& data, TimeMs from, TimeMs to,
            TimeMs covered_from) {
  std::map<absl::CivilMonth, std::vector<CellView>> rows;
  for (size_t c = 0; c < t.columns.size(); ++c) {
    const TrackerInfo::Column& col = t.columns[c];
    const std::map<TimeMs, TrackerData::Cell>* series = data.Series(col.metric);
    if (series == nullptr) continue;
    const absl::TimeZone tz = Zone(col.zone);
    std::optional<std::pair<absl::CivilMonth, double>> previous;
    for (const auto& [end, cell] : *series) {
      const absl::CivilMonth month = MonthOf(end, tz);
      const TimeMs start = absl::ToUnixMillis(absl::FromCivil(month, tz));
      // The month before still gives the change of the first row shown.
      if (end <= from || start >= to) {
        previous = {month, cell.value};
        continue;
      }
      std::vector<CellView>& row = rows[month];
      row.resize(t.columns.size());
      CellView& v = row[c];
      v.present = true;
      v.value = cell.value;
      // A month the data covers in part is marked.
      v.partial = cell.partial || start < covered_from;
      if (col.target) v.met = col.target->Met(cell.value);
      if (previous && previous->first == month - 1) v.change = cell.value - previous->second;
      previous = {month, cell.value};
    }
  }
  Table table;
  if (rows.empty()) return table;
  const absl::CivilMonth last = rows.rbegin()->first;
  for (absl::CivilMonth m = rows.begin()->first; m <= last; ++m) {
    table.months.push_back(absl::FormatCivilTime(m));
    std::vector<CellView>& row = rows[m];
    row.resize(t.columns.size());
    table.cells.push_back(std::move(row));
  }
  return table;
}

std::string CellText(const TrackerInfo::Column& col, const CellView& v, bool markdown) {
  if (!v.present) return "-";
  std::string s = ValueText(col, v.value);
  if (v.partial) s += "*";
  if (v.met) s += *v.met ? (markdown ? " ✓ met" : " ✓") : (markdown ? " ✗ missed" : " ✗");
  if (v.change) StrAppend(&s, " (", ChangeText(col, *v.change), ")");
  return s;
}

bool AnyPartial(const Table& table) {
  for (const auto& row : table.cells) {
    for (const CellView& v : row) {
      if (v.present && v.partial) return true;
    }
  }
  return false;
}

std::string Text(const TrackerInfo& t, const Table& table) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> head = {"Month"}, target = {"Target"};
  for (const TrackerInfo::Column& c : t.columns) {
    head.push_back(c.title);
    target.push_back(TargetText(c));
  }
  rows.push_back(head);
  rows.push_back(target);
  for (size_t r = 0; r < table.months.size(); ++r) {
    std::vector<std::string> row = {table.months[r]};
    for (size_t c = 0; c < t.columns.size(); ++c) {
      row.push_back(CellText(t.columns[c], table.cells[r][c], false));
    }
    rows.push_back(std::move(row));
  }
  std::vector<size_t> width(head.size(), 0);
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      // Display width: ✓ and ✗ are three bytes each, one column.
      size_t w = 0;
      for (unsigned char ch : row[i]) w += (ch & 0xC0) != 0x80;
      width[i] = std::max(width[i], w);
    }
  }
  std::string out = StrCat(t.help.empty() ? t.name : t.help, " (", t.name, ")\n");
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      size_t w = 0;
      for (unsigned char ch : row[i]) w += (ch & 0xC0) != 0x80;
      if (i + 1 < row.size()) line.append(width[i] - w + 3, ' ');
    }
    out += line + "\n";
  }
  if (table.months.empty()) out += "(no complete or partial month in the data yet)\n";
  if (AnyPartial(table)) out += "* the data covers only part of the month\n";
  return out;
}

std::string Markdown(const TrackerInfo& t, const Table& table) {
  std::string out = StrCat("### ", t.help.empty() ? t.name : t.help, "\n\n| Month |");
  for (const TrackerInfo::Column& c : t.columns) StrAppend(&out, " ", c.title, " |");
  out += "\n|---|";
  for (size_t c = 0; c < t.columns.size(); ++c) out += "---|";
  out += "\n| **Target** |";
  for (const TrackerInfo::Column& c : t.columns) StrAppend(&out, " ", TargetText(c), " |");
  out += "\n";
  for (size_t r = 0; r < table.months.size(); ++r) {
    StrAppend(&out, "| ", table.months[r], " |");
    for (size_t c = 0; c < t.columns.size(); ++c) {
      StrAppend(&out, " ", CellText(t.columns[c], table.cells[r][c], true), " |");
    }
    out += "\n";
  }
  if (AnyPartial(table)) out += "\n\\* the data covers only part of the month\n";
  return out;
}

std::string Html(const std::vector<TrackerInfo>& infos, const std::vector<Table>& tables) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>vigil: "
      "tracker</title>\n<style>body{font-family:sans-serif}table{border-collapse:collapse}"
      "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,"
      "td:first-child{text-align:left}.met{color:#176b1e}.missed{color:#a11}"
      "</style></head><body>\n";
  for (size_t i = 0; i < infos.size(); ++i) {
    const TrackerInfo& t = infos[i];
    out += "<h2>";
    AppendHtmlEscaped(t.help.empty() ? t.name : t.help, &out);
    out += "</h2>\n<table><tr><th>Month</th>";
    for (const TrackerInfo::Column& c : t.columns) {
      out += "<th>";
      AppendHtmlEscaped(c.title, &out);
      out += "</th>";
    }
    out += "</tr>\n<tr><th>Target</th>";
    for (const TrackerInfo::Column& c : t.columns) {
      out += "<th>";
      AppendHtmlEscaped(TargetText(c), &out);
      out += "</th>";
    }
    out += "</tr>\n";
    for (size_t r = 0; r < tables[i].months.size(); ++r) {
      StrAppend(&out, "<tr><td>", tables[i].months[r], "</td>");
      for (size_t c = 0; c < t.columns.size(); ++c) {
        const CellView& v = tables[i].cells[r][c];
        const char* cls = !v.met ? "" : *v.met ? " class=\"met\"" : " class=\"missed\"";
        StrAppend(&out, "<td", cls, ">");
        AppendHtmlEscaped(CellText(t.columns[c], v, true), &out);
        out += "</td>";
      }
      out += "</tr>\n";
    }
    out += "</table>\n";
    if (AnyPartial(tables[i])) out += "<p>* the data covers only part of the month</p>\n";
  }
  out += "</body></html>\n";
  return out;
}

std::string Json(const std::vector<TrackerInfo>& infos, const std::vector<Table>& tables) {
  std::string out = "{\"trackers\":[";
  for (size_t i = 0; i < infos.size(); ++i) {
    const TrackerInfo& t = infos[i];
    if (i) out.push_back(',');
    out += "{\"tracker\":";
    AppendJsonString(t.name, &out);
    out += ",\"columns\":[";
    for (size_t c = 0; c < t.columns.size(); ++c) {
      if (c) out.push_back(',');
      out += "{\"metric\":";
      AppendJsonString(t.columns[c].metric, &out);
      out += ",\"title\":";
      AppendJsonString(t.columns[c].title, &out);
      out += ",\"target\":";
      if (t.columns[c].target) {
        out += "{\"op\":";
        AppendJsonString(t.columns[c].target->OpText(), &out);
        out += ",\"value\":";
        AppendJsonNumber(t.columns[c].target->value, &out);
        out += "}";
      } else {
        out += "null";
      }
      out += "}";
    }
    out += "],\"rows\":[";
    for (size_t r = 0; r < tables[i].months.size(); ++r) {
      if (r) out.push_back(',');
      out += "{\"month\":";
      AppendJsonString(tables[i].months[r], &out);
      out += ",\"cells\":[";
      for (size_t c = 0; c < t.columns.size(); ++c) {
        const CellView& v = tables[i].cells[r][c];
        if (c) out.push_back(',');
        if (!v.present) {
          out += "null";
          continue;
        }
        out += "{\"value\":";
        AppendJsonNumber(v.value, &out);
        out += ",\"met\":";
        out += !v.met ? "null" : *v.met ? "true" : "false";
        out += ",\"change\":";
        if (v.change) {
          AppendJsonNumber(*v.change, &out);
        } else {
          out += "null";
        }
        StrAppend(&out, ",\"partial\":", v.partial ? "true" : "false", "}");
      }
      out += "]}";
    }
    out += "]}";
  }
  out += "]}\n";
  return out;
}

}  // namespace

std::vector<TrackerInfo> TrackerInfos(const RuleSet& rules) {
  std::vector<TrackerInfo> out;
  for (const TrackerDef& t : rules.trackers) {
    TrackerInfo info{t.name, t.help, {}};
    for (const TrackerDef::Column& c : t.columns) {
      const MetricDef& m = rules.metrics[c.metric];
      info.columns.push_back(
          {m.name, c.title, m.unit == MetricUnit::kRatio, m.target, m.window.time_zone()});
    }
    out.push_back(std::move(info));
  }
  return out;
}

void AppendTrackersJson(const std::vector<TrackerInfo>& infos, std::string* json) {
  json->push_back('[');
  for (size_t i = 0; i < infos.size(); ++i) {
    if (i) json->push_back(',');
    json->append("{\"tracker\":");
    AppendJsonString(infos[i].name, json);
    json->append(",\"help\":");
    AppendJsonString(infos[i].help, json);
    json->append(",\"columns\":[");
    for (size_t c = 0; c < infos[i].columns.size(); ++c) {
      const TrackerInfo::Column& col = infos[i].columns[c];
      if (c) json->push_back(',');
      json->append("{\"metric\":");
      AppendJsonString(col.metric, json);
      json->append(",\"title\":");
      AppendJsonString(col.title, json);
      StrAppend(json, ",\"ratio\":", col.ratio ? "true" : "false", ",\"timezone\":");
      AppendJsonString(col.zone, json);
      json->append(",\"target\":");
      if (col.target) {
        json->append("{\"op\":");
        AppendJsonString(col.target->OpText(), json);
        json->append(",\"value\":");
        AppendJsonNumber(col.target->value, json);
        json->push_back('}');
      } else {
        json->append("null");
      }
      json->push_back('}');
    }
    json->append("]}");
  }
  json->push_back(']');
}

bool ParseTrackerInfos(simdjson::dom::element array, std::vector<TrackerInfo>* out) {
  simdjson::dom::array items;
  if (array.get(items) != simdjson::SUCCESS) return false;
  auto str = [](simdjson::dom::element e, const char* key) {
    std::string_view v;
    return e[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
  };
  for (simdjson::dom::element e : items) {
    TrackerInfo info{str(e, "tracker"), str(e, "help"), {}};
    simdjson::dom::array columns;
    if (e["columns"].get(columns) != simdjson::SUCCESS) return false;
    for (simdjson::dom::element c : columns) {
      TrackerInfo::Column col;
      col.metric = str(c, "metric");
      col.title = str(c, "title");
      col.zone = str(c, "timezone");
      if (col.zone.empty()) col.zone = "UTC";
      bool ratio = false;
      if (c["ratio"].get(ratio) == simdjson::SUCCESS) col.ratio = ratio;
      simdjson::dom::object target;
      if (c["target"].get(target) == simdjson::SUCCESS) {
        MetricDef::Target t;
        const std::string op = str(c["target"].value_unsafe(), "op");
        t.op = op == "<"    ? MetricDef::Target::Op::kLt
               : op == "<=" ? MetricDef::Target::Op::kLe
               : op == ">"  ? MetricDef::Target::Op::kGt
                            : MetricDef::Target::Op::kGe;
        double v = 0;
        if (target["value"].get(v) == simdjson::SUCCESS) t.value = v;
        col.target = t;
      }
      info.columns.push_back(std::move(col));
    }
    out->push_back(std::move(info));
  }
  return true;
}

void TrackerData::Add(const std::string& metric, TimeMs end, double value, bool partial) {
  series_[metric][end] = {value, partial};
}

bool TrackerData::AddApiMetrics(simdjson::dom::element array,
                                const std::set<std::string>& metrics) {
  simdjson::dom::array items;
  if (array.get(items) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element e : items) {
    std::string_view metric;
    simdjson::dom::array history;
    if (e["metric"].get(metric) != simdjson::SUCCESS || !metrics.contains(std::string(metric)) ||
        e["history"].get(history) != simdjson::SUCCESS) {
      continue;
    }
    for (simdjson::dom::element h : history) {
      std::string_view end;
      double value = 0;
      if (h["end"].get(end) != simdjson::SUCCESS || h["value"].get(value) != simdjson::SUCCESS) {
        continue;
      }
      if (std::optional<TimeMs> t = ParseRfc3339(end)) Add(std::string(metric), *t, value, false);
    }
  }
  return true;
}

const std::map<TimeMs, TrackerData::Cell>* TrackerData::Series(const std::string& metric) const {
  auto it = series_.find(metric);
  return it == series_.end() ? nullptr : &it->second;
}

std::string TrackerReport(const std::vector<TrackerInfo>& infos, const TrackerData& data,
                          std::string_view format, TimeMs from, TimeMs to, TimeMs covered_from) {
  std::vector<Table> tables;
  for (const TrackerInfo& t : infos) tables.push_back(Build(t, data, from, to, covered_from));
  if (format == "json") return Json(infos, tables);
  if (format == "html") return Html(infos, tables);
  if (infos.empty()) return "no trackers in the rules\n";
  std::string out;
  for (size_t i = 0; i < infos.size(); ++i) {
    if (i) out += "\n";
    out += format == "markdown" ? Markdown(infos[i], tables[i]) : Text(infos[i], tables[i]);
  }
  return out;
}

}  // namespace vigil
