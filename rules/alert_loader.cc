// Loading an `alerts:` entry: severity, expression, resolve condition,
// for/keep_firing_for, labels, annotations and inhibition.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>

#include "base/strings.h"
#include "rules/file_loader.h"
#include "rules/rule_set.h"
#include "rules/scopes.h"
#include "rules/yaml_errors.h"
#include "rules/yaml_keys.h"

namespace vigil {

namespace {

const std::vector<std::string> kAlertKeys = {
    "alert",       "severity",        "expr",        "resolve", "for", "labels",
    "annotations", "keep_firing_for", "inhibited_by"};

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

// Whether alert expression `source` is "VALUE < c" or "VALUE <= c" (or
// "c > VALUE", "c >= VALUE"): a number literal on one side of a comparison
// that holds for low values.
bool LowerIsWorse(const std::string& source) {
  ExprParse p = ParseExpr(source);
  if (!p.ok() || p.node->args.size() != 2) return false;
  const ExprNode& e = *p.node;
  const bool below = e.op == ExprOp::kLt || e.op == ExprOp::kLe;
  const bool above = e.op == ExprOp::kGt || e.op == ExprOp::kGe;
  auto literal = [](const ExprNode& n) {
    return n.op == ExprOp::kLiteral ||
           (n.op == ExprOp::kNeg && n.args.size() == 1 && n.args[0]->op == ExprOp::kLiteral);
  };
  return (below && literal(*e.args[1]) && !literal(*e.args[0])) ||
         (above && literal(*e.args[0]) && !literal(*e.args[1]));
}

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
  a.lower_is_worse = LowerIsWorse(*expr);
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
  // A label whose value is "" is no label (Alertmanager drops it, as the
  // notifications do).
  const auto given = [](const Labels& labels) {
    Labels out;
    for (const auto& [k, v] : labels) {
      if (!v.empty()) out.emplace(k, v);
    }
    return out;
  };
  for (const AlertDef& other : rules->alerts) {
    if (other.name == a.name && other.severity == a.severity &&
        given(other.labels) == given(a.labels) && other.group_labels == a.group_labels) {
      f.Error(n["alert"], StrCat("alert '", a.name, "' is already defined at ", other.pos.file, ":",
                                 other.pos.line, ":", other.pos.col,
                                 " with the same severity and labels; a receiver cannot tell "
                                 "their pages apart: rename one or give it another label"));
      return;
    }
  }
  a.fingerprint =
      StrCat(a.name, "|", SeverityName(a.severity), "|", CanonicalMeaning(a.expr_source), "|",
             a.has_resolve ? CanonicalMeaning(a.resolve_source) : "", "|", a.for_duration, "|",
             a.keep_firing_for, "|");
  for (const auto& [k, v] : given(a.labels)) StrAppend(&a.fingerprint, k, "=", v, ";");
  rules->alerts.push_back(std::move(a));
}

}  // namespace vigil
