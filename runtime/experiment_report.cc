#include "runtime/experiment_report.h"

#include <cmath>
#include <cstdio>

#include "base/strings.h"
#include "base/time.h"

namespace vigil {
namespace {

std::string Key(std::string_view metric, std::string_view experiment, std::string_view exp_metric,
                std::string_view arm) {
  return StrCat(metric, "\x1f", experiment, "\x1f", exp_metric, "\x1f", arm);
}

// thumbs_up_rate -> Thumbs up rate
std::string Title(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '_') c = ' ';
  }
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

std::string PValue(double p) {
  if (p < 0.001) return "p < 0.001";
  return StrCat("p = ", FormatDouble("%.3f", p));
}

struct Row {
  const ExperimentInfo::Metric* metric = nullptr;
  std::string control, arm;
  std::optional<double> control_value, value, difference, lower, upper, p;
  // None until the comparison has a variance (while every unit of both arms
  // agrees, or before both arms have units).
  std::optional<int> decision;
};

// A value in the metric's terms: ratios as percentages.
std::string ValueText(const ExperimentInfo::Metric& m, std::optional<double> v) {
  if (!v) return "-";
  return m.kind == "ratio" ? FormatDouble("%.1f%%", *v * 100) : FormatDouble("%.1f", *v);
}
// A difference: points for ratios and for quantiles' shares.
std::string DiffText(const ExperimentInfo::Metric& m, double v) {
  if (m.kind == "mean") return FormatDouble("%+.1f", v);
  return FormatDouble("%+.1f", v * 100);
}
std::string DiffUnit(const ExperimentInfo::Metric& m) { return m.kind == "mean" ? "" : " pts"; }

std::string DecisionText(std::optional<int> d) {
  if (!d) return "not enough data yet";
  return std::string(ExperimentDecisionName(static_cast<ExperimentDecision>(*d)));
}

std::vector<Row> Rows(const ExperimentInfo& e, const ExperimentResults& r) {
  std::vector<Row> rows;
  for (const ExperimentInfo::Metric& m : e.metrics) {
    for (size_t a = 1; a < e.split.size(); ++a) {
      Row row;
      row.metric = &m;
      row.control = e.split[0].first;
      row.arm = e.split[a].first;
      row.control_value = r.Get("experiment_value", e.name, m.name, row.control);
      row.value = r.Get("experiment_value", e.name, m.name, row.arm);
      row.difference = r.Get("experiment_difference", e.name, m.name, row.arm);
      row.lower = r.Get("experiment_ci_lower", e.name, m.name, row.arm);
      row.upper = r.Get("experiment_ci_upper", e.name, m.name, row.arm);
      row.p = r.Get("experiment_p_value", e.name, m.name, row.arm);
      if (std::optional<double> d = r.Get("experiment_decision", e.name, m.name, row.arm)) {
        row.decision = static_cast<int>(*d);
      }
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::string Interval(const Row& row, double alpha) {
  if (!row.lower || !row.upper) return "-";
  return StrCat(FormatDouble("%.0f", (1 - alpha) * 100), "% CS [",
                DiffText(*row.metric, *row.lower), ", ", DiffText(*row.metric, *row.upper), "]");
}

std::string Header(const ExperimentInfo& e, const ExperimentResults& r, bool markdown) {
  std::vector<std::string> split, units;
  for (const auto& [arm, share] : e.split) {
    split.push_back(StrCat(arm, " (", FormatDouble("%g", share * 100), "%)"));
    std::optional<double> n = r.Get("experiment_units", e.name, "", arm);
    units.push_back(StrCat(arm, " ", n ? Thousands(*n) : "-"));
  }
  std::string out = StrCat(markdown ? "### Experiment " : "Experiment ", e.name, ": arm ", e.arm,
                           ", unit ", e.unit, ", control ", StrJoin(split, " vs "), "\n");
  if (markdown) out += "\n";
  const std::optional<double> srm = r.Get("experiment_srm_p_value", e.name);
  const bool mismatch = r.Get("experiment_sample_ratio_mismatch", e.name).value_or(0) > 0;
  StrAppend(&out, markdown ? "" : "  ", "units: ", StrJoin(units, " · "), "; ",
            !srm       ? "sample ratio not known yet"
            : mismatch ? StrCat("SAMPLE RATIO MISMATCH (", PValue(*srm),
                                "): the assignment is broken, do not trust the comparisons")
                       : StrCat("sample ratio ok (", PValue(*srm), ")"),
            "");
  const double crossed = r.Get("experiment_crossover_units", e.name).value_or(0);
  if (crossed > 0) {
    StrAppend(&out, "; ", Thousands(crossed), crossed == 1 ? " unit" : " units",
              " seen in more than one arm, left out");
  }
  out += "\n";
  return out;
}

std::string Text(const std::vector<ExperimentInfo>& infos, const ExperimentResults& r) {
  // Whatever the results hold: experiment windows of other rules are not these.
  if (infos.empty()) return "no experiments in the rules\n";
  std::string out;
  for (const ExperimentInfo& e : infos) {
    if (!out.empty()) out += "\n";
    out += Header(e, r, false);
    for (const Row& row : Rows(e, r)) {
      const ExperimentInfo::Metric& m = *row.metric;
      StrAppend(&out, "  ", Title(m.name), ": ", row.control, " ", ValueText(m, row.control_value),
                " vs ", row.arm, " ", ValueText(m, row.value));
      if (row.difference && row.p) {
        StrAppend(&out, " (", DiffText(m, *row.difference), DiffUnit(m),
                  m.kind == "quantile"
                      ? StrCat(" above ", row.control, "'s p", FormatDouble("%g", m.q * 100))
                      : "",
                  ", ", Interval(row, e.alpha), ", ", PValue(*row.p), ") → ",
                  Title(DecisionText(row.decision)));
      } else if (row.difference) {
        // Every unit of both arms agrees: a difference, but no spread to
        // judge it by.
        StrAppend(&out, " (", DiffText(m, *row.difference), DiffUnit(m),
                  ", no spread between units yet: not enough data)");
      } else {
        out += " (not enough data yet)";
      }
      out += "\n";
    }
  }
  if (r.as_of() != kMinTime)
    StrAppend(&out, "\nas of the window ending ", FormatTimestamp(r.as_of()), "\n");
  return out.empty() ? "no experiments in the rules\n" : out;
}

std::string Markdown(const std::vector<ExperimentInfo>& infos, const ExperimentResults& r) {
  std::string out;
  for (const ExperimentInfo& e : infos) {
    if (!out.empty()) out += "\n";
    out += Header(e, r, true);
    out += "\n| Metric | Control | Treatment | Difference | Confidence sequence | p | Decision |\n";
    out += "|---|---|---|---|---|---|---|\n";
    for (const Row& row : Rows(e, r)) {
      const ExperimentInfo::Metric& m = *row.metric;
      StrAppend(&out, "| ", Title(m.name), " | ", row.control, " ", ValueText(m, row.control_value),
                " | ", row.arm, " ", ValueText(m, row.value), " | ",
                row.difference ? StrCat(DiffText(m, *row.difference), DiffUnit(m)) : "-", " | ",
                Interval(row, e.alpha), " | ", row.p ? PValue(*row.p) : "-", " | ",
                DecisionText(row.decision), " |\n");
    }
  }
  return out.empty() ? "no experiments in the rules\n" : out;
}

void AppendOptional(std::string_view key, std::optional<double> v, std::string* out) {
  StrAppend(out, ",\"", key, "\":");
  if (v) {
    AppendJsonNumber(*v, out);
  } else {
    out->append("null");
  }
}

std::string Json(const std::vector<ExperimentInfo>& infos, const ExperimentResults& r) {
  std::string out = "{\"as_of\":";
  if (r.as_of() != kMinTime) {
    AppendJsonString(FormatTimestamp(r.as_of()), &out);
  } else {
    out += "null";
  }
  out += ",\"experiments\":[";
  for (size_t i = 0; i < infos.size(); ++i) {
    const ExperimentInfo& e = infos[i];
    if (i) out.push_back(',');
    out += "{\"experiment\":";
    AppendJsonString(e.name, &out);
    out += ",\"units\":{";
    for (size_t a = 0; a < e.split.size(); ++a) {
      if (a) out.push_back(',');
      AppendJsonString(e.split[a].first, &out);
      out.push_back(':');
      std::optional<double> n = r.Get("experiment_units", e.name, "", e.split[a].first);
      if (n) {
        AppendJsonNumber(*n, &out);
      } else {
        out.append("null");
      }
    }
    out.push_back('}');
    AppendOptional("srm_p_value", r.Get("experiment_srm_p_value", e.name), &out);
    AppendOptional("crossover_units", r.Get("experiment_crossover_units", e.name), &out);
    StrAppend(&out, ",\"sample_ratio_mismatch\":",
              r.Get("experiment_sample_ratio_mismatch", e.name).value_or(0) > 0 ? "true" : "false",
              ",\"comparisons\":[");
    bool first = true;
    for (const Row& row : Rows(e, r)) {
      if (!first) out.push_back(',');
      first = false;
      out += "{\"metric\":";
      AppendJsonString(row.metric->name, &out);
      out += ",\"kind\":";
      AppendJsonString(row.metric->kind, &out);
      out += ",\"control\":";
      AppendJsonString(row.control, &out);
      out += ",\"arm\":";
      AppendJsonString(row.arm, &out);
      AppendOptional("control_value", row.control_value, &out);
      AppendOptional("value", row.value, &out);
      AppendOptional("difference", row.difference, &out);
      AppendOptional("ci_lower", row.lower, &out);
      AppendOptional("ci_upper", row.upper, &out);
      AppendOptional("p_value", row.p, &out);
      out += ",\"decision\":";
      if (row.decision) {
        AppendJsonString(DecisionText(row.decision), &out);
      } else {
        out += "null";
      }
      out.push_back('}');
    }
    out += "]}";
  }
  out += "]}\n";
  return out;
}

}  // namespace

std::vector<ExperimentInfo> ExperimentInfos(const RuleSet& rules) {
  std::vector<ExperimentInfo> out;
  for (const ExperimentDef& e : rules.experiments) {
    ExperimentInfo info{e.name, e.arm, e.unit, e.split, e.alpha, {}};
    for (const ExperimentMetricDef& m : e.metrics) {
      ExperimentInfo::Metric im;
      im.name = m.name;
      im.kind = m.kind == ExperimentMetricDef::Kind::kRatio  ? "ratio"
                : m.kind == ExperimentMetricDef::Kind::kMean ? "mean"
                                                             : "quantile";
      im.goal = m.goal == ExperimentMetricDef::Goal::kIncrease   ? "increase"
                : m.goal == ExperimentMetricDef::Goal::kDecrease ? "decrease"
                                                                 : "";
      im.q = m.q;
      im.guardrail = m.guardrail;
      im.max_regression = m.max_regression;
      info.metrics.push_back(std::move(im));
    }
    out.push_back(std::move(info));
  }
  return out;
}

void AppendExperimentsJson(const std::vector<ExperimentInfo>& infos, std::string* json) {
  json->push_back('[');
  for (size_t i = 0; i < infos.size(); ++i) {
    const ExperimentInfo& e = infos[i];
    if (i) json->push_back(',');
    json->append("{\"experiment\":");
    AppendJsonString(e.name, json);
    json->append(",\"arm\":");
    AppendJsonString(e.arm, json);
    json->append(",\"unit\":");
    AppendJsonString(e.unit, json);
    json->append(",\"alpha\":");
    AppendJsonNumber(e.alpha, json);
    json->append(",\"split\":[");
    for (size_t a = 0; a < e.split.size(); ++a) {
      if (a) json->push_back(',');
      json->append("{\"arm\":");
      AppendJsonString(e.split[a].first, json);
      json->append(",\"share\":");
      AppendJsonNumber(e.split[a].second, json);
      json->push_back('}');
    }
    json->append("],\"metrics\":[");
    for (size_t k = 0; k < e.metrics.size(); ++k) {
      const ExperimentInfo::Metric& m = e.metrics[k];
      if (k) json->push_back(',');
      json->append("{\"name\":");
      AppendJsonString(m.name, json);
      json->append(",\"kind\":");
      AppendJsonString(m.kind, json);
      json->append(",\"goal\":");
      AppendJsonString(m.goal, json);
      json->append(",\"q\":");
      AppendJsonNumber(m.q, json);
      StrAppend(json, ",\"guardrail\":", m.guardrail ? "true" : "false", ",\"max_regression\":");
      AppendJsonNumber(m.max_regression, json);
      json->push_back('}');
    }
    json->append("]}");
  }
  json->push_back(']');
}

bool ParseExperimentInfos(simdjson::dom::element array, std::vector<ExperimentInfo>* out) {
  simdjson::dom::array items;
  if (array.get(items) != simdjson::SUCCESS) return false;
  auto str = [](simdjson::dom::element e, const char* key) {
    std::string_view v;
    return e[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
  };
  auto num = [](simdjson::dom::element e, const char* key) {
    double v = 0;
    return e[key].get(v) == simdjson::SUCCESS ? v : 0.0;
  };
  for (simdjson::dom::element e : items) {
    ExperimentInfo info{
        str(e, "experiment"), str(e, "arm"), str(e, "unit"), {}, num(e, "alpha"), {}};
    simdjson::dom::array split, metrics;
    if (e["split"].get(split) != simdjson::SUCCESS ||
        e["metrics"].get(metrics) != simdjson::SUCCESS) {
      return false;
    }
    for (simdjson::dom::element s : split) info.split.emplace_back(str(s, "arm"), num(s, "share"));
    for (simdjson::dom::element m : metrics) {
      bool guardrail = false;
      if (m["guardrail"].get(guardrail) != simdjson::SUCCESS) guardrail = false;
      info.metrics.push_back({str(m, "name"), str(m, "kind"), str(m, "goal"), num(m, "q"),
                              guardrail, num(m, "max_regression")});
    }
    out->push_back(std::move(info));
  }
  return true;
}

void ExperimentResults::Add(std::string_view metric,
                            const std::map<std::string, std::string>& labels, double value,
                            TimeMs end) {
  auto get = [&](const char* k) {
    auto it = labels.find(k);
    return it == labels.end() ? std::string_view() : std::string_view(it->second);
  };
  Latest& latest = values_[Key(metric, get("experiment"), get("metric"), get("arm"))];
  if (end >= latest.end) latest = {value, end};
  auto [it, fresh] = experiment_end_.emplace(get("experiment"), end);
  if (!fresh) it->second = std::max(it->second, end);
  as_of_ = std::max(as_of_, end);
}

void ExperimentResults::Add(const WindowResult& r) {
  std::map<std::string, std::string> labels;
  for (size_t i = 0; i < r.labels.size() && i < r.def->by.size(); ++i) {
    labels[r.def->by[i]] = r.labels[i];
  }
  Add(r.def->name, labels, r.value, r.end);
}

bool ExperimentResults::AddApiMetrics(simdjson::dom::element array) {
  simdjson::dom::array items;
  if (array.get(items) != simdjson::SUCCESS) return false;
  for (simdjson::dom::element e : items) {
    std::string_view metric, end;
    double value = 0;
    simdjson::dom::object labels;
    if (e["metric"].get(metric) != simdjson::SUCCESS || metric.rfind("experiment_", 0) != 0 ||
        e["value"].get(value) != simdjson::SUCCESS ||
        e["labels"].get(labels) != simdjson::SUCCESS) {
      continue;
    }
    std::map<std::string, std::string> by;
    for (auto [k, v] : labels) {
      std::string_view s;
      if (v.get(s) == simdjson::SUCCESS) by[std::string(k)] = std::string(s);
    }
    std::optional<TimeMs> at =
        e["end"].get(end) == simdjson::SUCCESS ? ParseRfc3339(end) : std::nullopt;
    Add(metric, by, value, at.value_or(kMinTime));
  }
  return true;
}

std::optional<double> ExperimentResults::Get(std::string_view metric, std::string_view experiment,
                                             std::string_view exp_metric,
                                             std::string_view arm) const {
  auto it = values_.find(Key(metric, experiment, exp_metric, arm));
  if (it == values_.end()) return std::nullopt;
  auto end = experiment_end_.find(experiment);
  if (end != experiment_end_.end() && it->second.end < end->second) return std::nullopt;
  return it->second.value;
}

std::string ExperimentReport(const std::vector<ExperimentInfo>& infos,
                             const ExperimentResults& results, std::string_view format) {
  if (format == "json") return Json(infos, results);
  if (format == "markdown") return Markdown(infos, results);
  return Text(infos, results);
}

}  // namespace vigil
