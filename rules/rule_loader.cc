// Loading rule files: YAML structure, positions and diagnostics. The
// expression and template work is delegated to the compiler and scopes.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <set>

#include "base/files.h"
#include "base/strings.h"
#include "rules/file_loader.h"
#include "rules/rule_set.h"
#include "rules/scopes.h"
#include "rules/type_classes.h"
#include "rules/yaml_errors.h"
#include "rules/yaml_keys.h"

namespace vigil {

std::string Diagnostic::ToString() const {
  if (pos.line == 0) return StrCat(pos.file, ": ", message);
  return StrCat(pos.file, ":", pos.line, ":", pos.col, ": ", warning ? "warning: " : "", message);
}

std::string_view SeverityName(Severity s) {
  static constexpr std::string_view kNames[] = {"", "P1", "P2", "P3", "P4"};
  return kNames[static_cast<int>(s)];
}

DurationMs RuleSet::EvaluationStep(const AlertDef& a) const {
  return a.metrics.empty() ? 0 : metrics[a.metrics[0]].window.slide();
}

std::optional<int> RuleSet::FindMetric(std::string_view name) const {
  for (size_t i = 0; i < metrics.size(); ++i) {
    if (metrics[i].name == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

namespace {

const std::vector<std::string> kTopKeys = {"schema",      "metrics", "alerts",   "streams",
                                           "joins",       "outputs", "silences", "slos",
                                           "experiments", "trackers"};
const std::vector<std::string> kMetricKeys = {"metric", "help", "from",     "where",
                                              "window", "by",   "value",    "export",
                                              "limit",  "unit", "timezone", "target"};
const std::vector<std::string> kAlertKeys = {
    "alert",       "severity",        "expr",        "resolve", "for", "labels",
    "annotations", "keep_firing_for", "inhibited_by"};

}  // namespace

// Whether alert expression `source` names a metric that failed to load.
bool ReadsFailedMetric(const std::string& source, const RuleSet& rules) {
  if (rules.failed_metrics.empty()) return false;
  ExprParse p = ParseExpr(source);
  if (!p.ok()) return false;
  std::vector<const ExprNode*> todo = {p.node.get()};
  while (!todo.empty()) {
    const ExprNode* e = todo.back();
    todo.pop_back();
    if (e->op == ExprOp::kName && rules.failed_metrics.contains(e->text)) return true;
    for (const auto& arg : e->args) todo.push_back(arg.get());
  }
  return false;
}

namespace {

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

}  // namespace

namespace {

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

namespace {

std::optional<Severity> ParseSeverity(std::string_view s) {
  if (s.size() == 2 && (s[0] == 'P' || s[0] == 'p') && s[1] >= '1' && s[1] <= '4') {
    return static_cast<Severity>(s[1] - '0');
  }
  return std::nullopt;
}

std::optional<DurationMs> DurationField(FileLoader& f, const YAML::Node& n, const char* key) {
  YAML::Node d = n[key];
  if (!d) return 0;
  if (d.IsNull() || !d.IsScalar()) {
    // An empty value's position is where the next token starts: report
    // at the key.
    for (const auto& kv : n) {
      if (kv.first.Scalar() != key) continue;
      f.Error(kv.first,
              StrCat("'", key, "' ",
                     d.IsNull() ? "has no value" : "must be one duration, not a list or mapping",
                     ": give a duration such as 0, 30s, 5m, 1h"));
      break;
    }
    return std::nullopt;
  }
  std::optional<DurationMs> v = ParseDuration(d.Scalar());
  if (!v) {
    f.Error(d, StrCat("bad duration '", d.Scalar(), "' for '", key, "' (e.g. 0, 30s, 5m, 1h)"));
  }
  return v;
}

// Every referenced metric must group by the same labels, so that the
// condition compares values of one group.
bool CheckGroups(FileLoader& f, const YAML::Node& expr, const RuleSet& rules, AlertDef* a) {
  for (int idx : a->metrics) {
    const MetricDef& m = rules.metrics[idx];
    if (idx == a->metrics[0]) {
      a->group_labels = m.by;
      continue;
    }
    if (m.by != a->group_labels) {
      const MetricDef& first = rules.metrics[a->metrics[0]];
      std::vector<std::string> x = m.by, y = first.by;
      std::sort(x.begin(), x.end());
      std::sort(y.begin(), y.end());
      f.Error(expr, StrCat("metrics '", first.name, "' (by [", StrJoin(first.by, ", "), "]) and '",
                           m.name, "' (by [", StrJoin(m.by, ", "), "]) group ",
                           x == y ? "by the same labels in another order; list them in one "
                                    "order in both (a group is its labels' values in order)"
                                  : "differently; an alert compares one group's values"));
      return false;
    }
  }
  return true;
}

void LoadLabelsAndAnnotations(FileLoader& f, const YAML::Node& n, AlertDef* a) {
  if (YAML::Node labels = n["labels"]) {
    if (!labels.IsMap()) f.Error(labels, "'labels' must be a mapping of name: value");
    for (const auto& kv : labels.IsMap() ? labels : YAML::Node()) {
      std::string key = kv.first.Scalar();
      if (!ValidLabelName(key)) {
        f.Error(kv.first, StrCat("bad label name '", key, "'"));
      } else if (key == "alertname" || key == "severity" ||
                 std::find(a->group_labels.begin(), a->group_labels.end(), key) !=
                     a->group_labels.end()) {
        f.Error(kv.first, StrCat("label '", key, "' is set by vigil and cannot be overridden"));
      } else if (!kv.second.IsScalar()) {
        f.Error(kv.second, StrCat("label '", key, "' must have a single value"));
      } else {
        a->labels[key] = kv.second.Scalar();
      }
    }
  }
  std::vector<std::string> known = a->group_labels;
  known.push_back("alertname");
  known.push_back("severity");
  for (const auto& [k, v] : a->labels) known.push_back(k);
  if (YAML::Node ann = n["annotations"]) {
    if (!ann.IsMap()) f.Error(ann, "'annotations' must be a mapping of name: template");
    for (const auto& kv : ann.IsMap() ? ann : YAML::Node()) {
      if (!kv.second.IsScalar()) {
        // `summary: {{ $value }}` unquoted reads as a mapping in a mapping.
        f.Error(kv.second, kv.second.IsMap() ? "an annotation must be a string; YAML reads an "
                                               "unquoted '{{ ... }}' as a mapping: put the "
                                               "template in quotes"
                                             : "an annotation must be a string");
        continue;
      }
      // `runbook` is an alias of the documented `runbook_url`.
      std::string name = kv.first.Scalar();
      if (name == "runbook") {
        if (ann["runbook_url"]) {
          f.Error(kv.first, "'runbook' is an alias of 'runbook_url'; give only one of them");
          continue;
        }
        name = "runbook_url";
      }
      ExprError err;
      std::optional<Template> t = Template::Parse(kv.second.Scalar(), known, &err);
      if (!t) {
        f.ErrorAt(kv.second, err.pos, err.message);
        continue;
      }
      a->annotations.emplace_back(std::move(name), std::move(*t));
    }
  }
}

}  // namespace

void LoadAlert(FileLoader& f, const YAML::Node& n, RuleSet* rules) {
  if (!n.IsMap()) {
    f.Error(n, "each entry of 'alerts' must be a mapping with 'alert', 'severity' and 'expr'");
    return;
  }
  f.CheckKeys(n, kAlertKeys, "alert");
  AlertDef a;
  std::optional<std::string> name = f.Scalar(n, "alert", true, "an alert");
  if (!name) return;
  a.name = *name;
  a.pos = f.PosOf(n["alert"]);
  bool ok = ValidLabelName(a.name);
  if (!ok)
    f.Error(n["alert"], StrCat("alert name '", a.name,
                               "' must be a valid label value "
                               "of letters, digits and '_'"));
  if (std::optional<std::string> sev = f.Scalar(n, "severity", true, "an alert")) {
    std::optional<Severity> s = ParseSeverity(*sev);
    if (!s) {
      f.Error(n["severity"], StrCat("severity '", *sev, "' must be one of P1, P2, P3, P4"));
      ok = false;
    } else {
      a.severity = *s;
    }
  } else {
    ok = false;
  }
  std::optional<DurationMs> for_d = DurationField(f, n, "for");
  std::optional<DurationMs> keep = DurationField(f, n, "keep_firing_for");
  ok &= for_d.has_value() && keep.has_value();
  a.for_duration = for_d.value_or(0);
  a.for_pos = n["for"] ? f.PosOf(n["for"]) : a.pos;
  a.keep_firing_for = keep.value_or(0);
  std::optional<std::string> expr = f.Scalar(n, "expr", true, "an alert");
  if (!expr) return;
  // One mistake, one error: an alert over a metric that did not load (its
  // errors are reported) is left out without "unknown metric" on top.
  for (const char* key : {"expr", "resolve"}) {
    if (n[key] && n[key].IsScalar() && ReadsFailedMetric(n[key].Scalar(), *rules)) return;
  }
  a.expr_source = *expr;
  a.expr_pos = f.PosInScalar(n["expr"], 0);
  if (n["resolve"] && n["resolve"].IsScalar()) a.resolve_pos = f.PosInScalar(n["resolve"], 0);
  AlertScope scope(&rules->metrics, &a.metrics);
  if (!CompileExpr(f, n["expr"], &scope, Type::kBool, &a.expr)) return;
  a.expr_slots = a.metrics.size();
  if (a.metrics.empty()) {
    // Evaluated at the window ends of the first metric it names: none, never.
    f.Error(n["expr"], StrCat("'", *expr,
                              "' names no metric, so it is never evaluated: an alert is "
                              "evaluated at the window ends of the first metric its expr names"));
    return;
  }
  if (n["resolve"] && f.Scalar(n, "resolve", false, "an alert")) {
    a.has_resolve = true;
    a.resolve_source = n["resolve"].Scalar();
    ok &= CompileExpr(f, n["resolve"], &scope, Type::kBool, &a.resolve);
  }
  if (!CheckGroups(f, n["expr"], *rules, &a)) return;
  LoadLabelsAndAnnotations(f, n, &a);
  LoadInhibitions(f, n["inhibited_by"], &a);
  if (!ok) return;
  // Alerts may share a name (a warning and a page of one condition), but
  // not all their labels: a receiver tells pages apart by labels, so one's
  // resolution would close the other's page.
  for (const AlertDef& other : rules->alerts) {
    if (other.name == a.name && other.severity == a.severity && other.labels == a.labels &&
        other.group_labels == a.group_labels) {
      f.Error(n["alert"], StrCat("alert '", a.name, "' is already defined at ", other.pos.file, ":",
                                 other.pos.line, ":", other.pos.col,
                                 " with the same severity and labels; a receiver cannot tell "
                                 "their pages apart: rename one or give it another label"));
      return;
    }
  }
  rules->alerts.push_back(std::move(a));
}

namespace {

struct PendingSections {
  std::vector<Pending> schemas, streams, joins, metrics, slos, experiments, trackers, alerts,
      outputs, silences;
};

void ReadTopLevel(FileLoader& f, const YAML::Node& doc, PendingSections* out) {
  if (!doc || doc.IsNull()) return;
  if (!doc.IsMap()) {
    f.Error(doc, "a rule file is a mapping with 'metrics' and 'alerts'");
    return;
  }
  f.CheckKeys(doc, kTopKeys, "a rule file");
  if (YAML::Node schema = doc["schema"]; schema && !schema.IsNull()) {
    out->schemas.push_back({&f, schema});
  }
  for (const char* key : {"streams", "joins", "metrics", "slos", "experiments", "trackers",
                          "alerts", "outputs", "silences"}) {
    YAML::Node list = doc[key];
    if (!list || list.IsNull()) continue;
    if (!list.IsSequence()) {
      f.Error(list, StrCat("'", key, "' must be a list"));
      continue;
    }
    for (const auto& item : list) {
      const std::string_view k(key);
      (k == "streams"       ? out->streams
       : k == "joins"       ? out->joins
       : k == "metrics"     ? out->metrics
       : k == "slos"        ? out->slos
       : k == "experiments" ? out->experiments
       : k == "trackers"    ? out->trackers
       : k == "alerts"      ? out->alerts
       : k == "outputs"     ? out->outputs
                            : out->silences)
          .push_back({&f, item});
    }
  }
}

}  // namespace

RuleLoadResult LoadRuleSources(const std::vector<RuleSource>& sources) {
  RuleLoadResult result;
  auto rules = std::make_unique<RuleSet>();
  rules->fields.DeclareEventType();
  std::vector<std::unique_ptr<FileLoader>> files;
  PendingSections pending;
  std::vector<YAML::Node> docs;
  for (const RuleSource& src : sources) {
    rules->files.push_back(src.name);
    files.push_back(std::make_unique<FileLoader>(src.name, src.content, &result.errors));
    std::optional<YamlSyntaxError> second;
    try {
      docs.push_back(LoadOneDocument(src.content, &second));
    } catch (const YAML::ParserException& e) {
      const YamlSyntaxError err = ExplainYamlError(e, src.content);
      result.errors.push_back({{src.name, err.line, err.col}, err.message, false});
      continue;
    }
    if (second)
      result.errors.push_back({{src.name, second->line, second->col}, second->message, false});
    for (const DuplicateKey& d : FindDuplicateKeys(docs.back())) {
      result.errors.push_back(
          {{src.name, d.second.line, d.second.col}, DuplicateKeyMessage(d), false});
    }
    ReadTopLevel(*files.back(), docs.back(), &pending);
  }
  // Schemas, streams, joins, then metrics, then alerts, each from every
  // file: a metric may read a stream or join and an alert a metric of any
  // file, and a bounded field is a number wherever a rule reads it.
  for (const Pending& p : pending.schemas) LoadSchema(*p.file, p.node, rules.get());
  for (const Pending& p : pending.streams) LoadStream(*p.file, p.node, rules.get());
  for (const Pending& p : pending.joins) LoadJoin(*p.file, p.node, rules.get());
  for (const Pending& p : pending.metrics) LoadMetric(*p.file, p.node, rules.get());
  // An SLO's metrics and alerts; alerts of `alerts:` may read its metrics.
  for (const Pending& p : pending.slos) LoadSlo(*p.file, p.node, rules.get());
  for (const Pending& p : pending.experiments) LoadExperiment(*p.file, p.node, rules.get());
  for (const Pending& p : pending.trackers) LoadTracker(*p.file, p.node, rules.get());
  for (const Pending& p : pending.alerts) LoadAlert(*p.file, p.node, rules.get());
  ResolveInhibitions(rules.get(), &result.errors);
  CheckPassedOnTypes(rules.get(), &result.errors);
  for (const Pending& p : pending.outputs) LoadOutput(*p.file, p.node, rules.get());
  for (const Pending& p : pending.silences) LoadSilence(*p.file, p.node, rules.get());
  // A quote left open swallows the keys after it, and the errors it causes
  // are far from it or say only that a field is missing: it goes first.
  for (const RuleSource& src : sources) {
    auto first = std::find_if(result.errors.begin(), result.errors.end(), [&](const Diagnostic& d) {
      return d.pos.file == src.name && !d.warning;
    });
    if (first == result.errors.end()) continue;
    if (std::optional<RunawayQuote> q = FindRunawayQuote(src.content)) {
      result.errors.insert(first, {{src.name, q->line, q->col}, q->message, false});
    }
  }
  if (result.errors.empty()) {
    AssignTypeClasses(rules.get());
    result.rules = std::move(rules);
  }
  return result;
}

RuleLoadResult LoadRuleFiles(const std::vector<std::string>& paths) {
  std::vector<RuleSource> sources;
  RuleLoadResult failed;
  for (const std::string& path : paths) {
    absl::StatusOr<std::string> text = ReadWholeFile(path);
    if (!text.ok()) {
      Diagnostic d;
      d.pos.file = path;
      d.message = StrCat("cannot read the rule file: ", std::string(text.status().message()));
      failed.errors.push_back(std::move(d));
      continue;
    }
    sources.push_back({path, std::move(*text)});
  }
  if (!failed.errors.empty()) return failed;
  return LoadRuleSources(sources);
}

}  // namespace vigil
