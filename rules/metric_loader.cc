// Loading a `metrics:` entry: its source, filter, window, grouping and
// value, checked against the schema and the streams it reads.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <optional>

#include "base/strings.h"
#include "rules/file_loader.h"
#include "rules/metric_names.h"
#include "rules/rule_set.h"
#include "rules/scopes.h"
#include "rules/yaml_errors.h"
#include "rules/yaml_keys.h"

namespace vigil {

namespace {

const std::vector<std::string> kMetricKeys = {"metric", "help", "from",     "where",
                                              "window", "by",   "value",    "export",
                                              "limit",  "unit", "timezone", "target"};

// "< 0.05", ">= 85%": a comparison and a number (a percentage is a share).
std::optional<MetricDef::Target> ParseTarget(std::string_view s) {
  s = Strip(s);
  MetricDef::Target t;
  size_t op = 1;
  if (s.starts_with("<=")) {
    t.op = MetricDef::Target::Op::kLe;
    op = 2;
  } else if (s.starts_with(">=")) {
    t.op = MetricDef::Target::Op::kGe;
    op = 2;
  } else if (s.starts_with('<')) {
    t.op = MetricDef::Target::Op::kLt;
  } else if (s.starts_with('>')) {
    t.op = MetricDef::Target::Op::kGt;
  } else {
    return std::nullopt;
  }
  std::string_view num = Strip(s.substr(op));
  const bool percent = !num.empty() && num.back() == '%';
  if (percent) num.remove_suffix(1);
  double v = 0;
  auto r = std::from_chars(num.data(), num.data() + num.size(), v);
  if (num.empty() || r.ec != std::errc() || r.ptr != num.data() + num.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  t.value = percent ? v / 100 : v;
  return t;
}

// A metric's optional settings: help, groups, export, unit, target.
bool LoadMetricSettings(FileLoader& f, const YAML::Node& n, MetricDef* m) {
  bool ok = true;
  if (std::optional<std::string> help = f.Scalar(n, "help", false, "a metric")) m->help = *help;
  ok &= LoadLimit(f, n, "groups", &m->limit);
  if (std::optional<std::string> e = f.Scalar(n, "export", false, "a metric")) {
    if (*e != "true" && *e != "false") {
      f.Error(n["export"], "'export' must be true or false");
      ok = false;
    }
    m->exported = *e == "true";
  }
  if (std::optional<std::string> u = f.Scalar(n, "unit", false, "a metric")) {
    if (std::optional<MetricUnit> unit = ParseMetricUnit(*u)) {
      m->unit = *unit;
    } else {
      f.Error(n["unit"], StrCat("unit '", *u,
                                "' is not one of milliseconds, seconds, bytes, ratio (the unit "
                                "of the metric's values, exported in its base unit)"));
      ok = false;
    }
  }
  if (std::optional<std::string> t = f.Scalar(n, "target", false, "a metric")) {
    m->target = ParseTarget(*t);
    if (!m->target) {
      f.Error(n["target"], StrCat("target '", *t,
                                  "' is not a comparison with a number, e.g. \"< 0.05\", "
                                  "\">= 85%\""));
      ok = false;
    }
  }
  return ok;
}

// A metric's `from:`: the stream whose records it reads (m->from, *stream,
// *fields), or the events'. False when the stream is unknown (reported) or
// failed to load (reported at the stream).
bool LoadMetricFrom(FileLoader& f, const YAML::Node& n, RuleSet* rules, MetricDef* m,
                    FieldTable** fields, std::string* stream) {
  *fields = &rules->fields;
  std::optional<std::string> from = f.Scalar(n, "from", false, "a metric");
  if (!from) return true;
  std::optional<int> idx = rules->FindStream(*from);
  if (!idx && rules->failed_streams.contains(*from)) return false;
  if (!idx) {
    std::vector<std::string> names;
    for (const StreamDef& s : rules->streams) names.push_back(s.name);
    std::string s = Suggest(*from, names);
    f.Error(n["from"], StrCat("unknown stream '", *from, "'",
                              s.empty() ? "; define it under 'streams:' or 'joins:'"
                                        : StrCat("; did you mean '", s, "'?")));
    return false;
  }
  m->from = *idx;
  *fields = &rules->streams[*idx].fields;
  *stream = *from;
  return true;
}

bool LoadMetricWindow(FileLoader& f, const YAML::Node& n, MetricDef* m) {
  std::optional<std::string> window = f.Scalar(n, "window", true, "a metric");
  if (!window) return false;
  absl::StatusOr<WindowSpec> spec = WindowSpec::Parse(*window);
  if (window->rfind("session", 0) == 0) {
    f.Error(n["window"],
            "session windows are defined under 'streams:'; a metric reads the "
            "sessions with 'from: STREAM' over a tumbling or sliding window");
    return false;
  }
  if (!spec.ok()) {
    f.Error(n["window"], std::string(spec.status().message()));
    return false;
  }
  m->window = *spec;
  if (std::optional<std::string> tz = f.Scalar(n, "timezone", false, "a metric")) {
    absl::StatusOr<WindowSpec> zoned = spec->InTimeZone(*tz);
    if (!zoned.ok()) {
      f.Error(n["timezone"], std::string(zoned.status().message()));
      return false;
    }
    m->window = *zoned;
  }
  return true;
}

// A metric's `by:`: each field path's label (dots become underscores) and
// slot.
bool LoadMetricBy(FileLoader& f, const YAML::Node& by, FieldTable* fields,
                  const std::string& stream, MetricDef* m) {
  std::vector<YAML::Node> items;
  if (by.IsScalar()) {
    items.push_back(by);
  } else if (by.IsSequence()) {
    for (const auto& item : by) items.push_back(item);
  }
  if (items.empty()) f.Error(by, "'by' must be a field path or a list of field paths");
  bool ok = true;
  std::vector<std::string> paths;  // of m->by
  for (const YAML::Node& item : items) {
    std::string path = item.Scalar();
    ExprParse p = ParseExpr(path);
    if (!item.IsScalar() || !p.ok() || p.node->op != ExprOp::kName) {
      f.Error(item, StrCat("'", path, "' is not a field path (e.g. intent, meta.region)"));
      ok = false;
      continue;
    }
    std::string label = path;
    std::replace(label.begin(), label.end(), '.', '_');
    if (auto same = std::find(m->by.begin(), m->by.end(), label); same != m->by.end()) {
      const std::string& other = paths[static_cast<size_t>(same - m->by.begin())];
      f.Error(item, other == path
                        ? StrCat("'", path, "' is already in 'by'")
                        : StrCat("'", path, "' and '", other, "' would both be the label '", label,
                                 "' (dots become underscores): group by one of them"));
      ok = false;
      continue;
    }
    if (m->from >= 0 && !fields->Find(path)) {
      StreamScope scope(fields, stream);
      ExprError err;
      scope.ResolveName(*p.node, &err);
      f.Error(item, err.message);
      ok = false;
      continue;
    }
    if (std::optional<std::string> undeclared = fields->Undeclared(path)) {
      f.Error(item, *undeclared);
      ok = false;
      continue;
    }
    m->by.push_back(label);
    paths.push_back(path);
    m->by_slots.push_back(fields->Intern(path));
  }
  return ok;
}

}  // namespace

void LoadMetric(FileLoader& f, const YAML::Node& n, RuleSet* rules) {
  if (!n.IsMap()) {
    f.Error(n, "each entry of 'metrics' must be a mapping with 'metric', 'window' and 'value'");
    return;
  }
  f.CheckKeys(n, kMetricKeys, "metric");
  MetricDef m;
  std::optional<std::string> name = f.Scalar(n, "metric", true, "a metric");
  if (!name) return;
  m.name = *name;
  m.pos = f.PosOf(n["metric"]);
  const std::optional<int> dup = rules->FindMetric(m.name);
  if (!CheckDefinitionName(f, n["metric"], "metric", m.name,
                           dup ? &rules->metrics[*dup].pos : nullptr)) {
    return;
  }
  // Until it is added at the end, it failed (with its errors reported).
  rules->failed_metrics.insert(m.name);
  bool ok = LoadMetricSettings(f, n, &m);
  // The fields the metric reads: the events', or a stream's records.
  FieldTable* fields = nullptr;
  std::string stream;
  if (!LoadMetricFrom(f, n, rules, &m, &fields, &stream)) return;
  if (n["where"] && f.Scalar(n, "where", false, "a metric")) {
    if (m.from >= 0) {
      StreamScope scope(fields, stream);
      ok &= CompileExpr(f, n["where"], &scope, Type::kBool, &m.where);
    } else {
      EventScope scope(fields);
      ok &= CompileExpr(f, n["where"], &scope, Type::kBool, &m.where);
    }
    m.has_where = true;
    m.where_source = n["where"].Scalar();
  }
  ok &= LoadMetricWindow(f, n, &m);
  if (YAML::Node by = n["by"]) ok &= LoadMetricBy(f, by, fields, stream, &m);
  if (std::optional<std::string> value = f.Scalar(n, "value", true, "a metric")) {
    ValueScope scope(fields, &m.aggregates, ValueScope::Mode::kMetric, stream);
    m.value_source = *value;
    if (CompileExpr(f, n["value"], &scope, Type::kNumber, &m.value) && m.aggregates.empty()) {
      f.Error(n["value"], "a metric's value needs at least one aggregate, e.g. count()");
      ok = false;
    }
  } else {
    ok = false;
  }
  if (!ok) return;
  rules->failed_metrics.erase(m.name);
  m.fingerprint =
      StrCat(m.name, "|", stream, "|", Canonical(m.where_source), "|", m.window.ToString(), "|",
             StrJoin(m.by, ","), "|", Canonical(m.value_source));
  rules->metrics.push_back(std::move(m));
}

void CheckExportedNames(const RuleSet& rules, std::vector<Diagnostic>* errors) {
  std::map<std::string, const MetricDef*> by_name;
  for (const MetricDef& m : rules.metrics) {
    const std::string exported = ExportName(m.name, m.unit).name;
    if (exported == kWindowEndGauge) {
      errors->push_back({m.pos,
                         StrCat("metric '", m.name, "' is ", exported,
                                " on /metrics, the name of vigil's own gauge of every metric's "
                                "latest window end; rename it"),
                         false});
      continue;
    }
    auto [it, fresh] = by_name.emplace(exported, &m);
    if (fresh || it->second->name == m.name) continue;  // a name defined twice: said already
    const MetricDef& first = *it->second;
    errors->push_back({m.pos,
                       StrCat("metric '", m.name, "' is ", exported, " on /metrics, as metric '",
                              first.name, "' (", first.pos.file, ":", first.pos.line,
                              ") is: each would overwrite the other's series there; rename one"),
                       false});
  }
}

}  // namespace vigil
