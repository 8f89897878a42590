#include "rules/lint.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "base/strings.h"
#include "rules/expr_parser.h"
#include "rules/metric_names.h"
#include "rules/silence.h"

namespace vigil {
namespace {

bool IsComparison(ExprOp op) {
  return op == ExprOp::kLt || op == ExprOp::kLe || op == ExprOp::kGt || op == ExprOp::kGe ||
         op == ExprOp::kEq || op == ExprOp::kNe;
}

bool IsRatioMetric(const MetricDef& m) {
  // An SLO's budget exhaustion forecast (seconds) has a stand-in value.
  if (m.forecast) return false;
  ExprParse p = ParseExpr(m.value_source);
  return p.ok() && p.node->op == ExprOp::kCall && p.node->text == "ratio";
}

void Warn(std::vector<Diagnostic>* out, const SourcePos& pos, std::string msg) {
  out->push_back({pos, std::move(msg), true});
}

// Comparisons of a ratio metric with a number outside [0, 1], anywhere in
// the expression.
// `at`: where the expression starts in the file; on one line, the warning
// points at the number itself.
void LintThresholds(const ExprNode& n, const RuleSet& rules, const AlertDef& a, const SourcePos& at,
                    bool one_line, std::vector<Diagnostic>* out) {
  if (IsComparison(n.op)) {
    for (int side = 0; side < 2; ++side) {
      const ExprNode& name = *n.args[side];
      const ExprNode& lit = *n.args[1 - side];
      if (name.op != ExprOp::kName || lit.op != ExprOp::kLiteral || !lit.literal.is_number()) {
        continue;
      }
      std::optional<int> m = rules.FindMetric(name.text);
      const double v = lit.literal.num;
      if (m && IsRatioMetric(rules.metrics[*m]) && (v < 0 || v > 1)) {
        SourcePos pos = at;
        if (one_line) pos.col += static_cast<int>(lit.pos);
        Warn(out, pos,
             StrCat("alert '", a.name, "' compares ratio metric '", name.text,
                    "' (always between 0 and 1) with ", v,
                    v > 1 && v <= 100 ? StrCat("; did you mean ", v / 100, "?") : std::string()));
      }
    }
  }
  for (const auto& arg : n.args) LintThresholds(*arg, rules, a, at, one_line, out);
}

// Calendar days and weeks count `for:` in their longest period (25 h, a
// week and an hour), so `for: 2d` is two days, as the docs write it. Whole
// days (weeks) are judged as days: fine where they are the evaluations, a
// warning from 25 days (24 × 25 h) on. True when judged here.
bool LintCalendarFor(const AlertDef& a, const MetricDef& m, DurationMs step, int64_t evaluations,
                     std::vector<Diagnostic>* out) {
  if (!m.window.calendar() || m.window.calendar_unit() == WindowSpec::Calendar::kMonth) {
    return false;
  }
  constexpr DurationMs kOneDay = 86'400'000;
  const bool days = m.window.calendar_unit() == WindowSpec::Calendar::kDay;
  const DurationMs nominal = days ? kOneDay : 7 * kOneDay;
  if (a.for_duration % nominal != 0) return false;
  const int64_t wanted = a.for_duration / nominal;
  if (evaluations == wanted) return true;
  // In days, as calendar days are written (25d, not 3w4d).
  auto in_days = [&](DurationMs d) {
    const DurationMs rest = d % kOneDay;
    return StrCat(d / kOneDay, "d", rest > 0 ? FormatDuration(rest) : "");
  };
  Warn(out, a.for_pos,
       StrCat("alert '", a.name, "' has for: ", in_days(a.for_duration), ": calendar ",
              days ? "days" : "weeks", " count as their longest, ", in_days(step),
              ", so it fires after ", evaluations, " windows, not ", wanted,
              "; write for: ", in_days((wanted - 1) * step + 3'600'000), " for ", wanted));
  return true;
}

// Held time counts evaluations (rules/alert_state.h), so a `for:` that is
// no multiple of the evaluation interval is rounded up, and one shorter than
// it fires at the first true evaluation.
void LintFor(const RuleSet& rules, const AlertDef& a, std::vector<Diagnostic>* out) {
  const DurationMs step = rules.EvaluationStep(a);
  if (a.for_duration <= 0 || step <= 0) return;
  const MetricDef& m = rules.metrics[a.metrics[0]];
  const int64_t evaluations = (a.for_duration + step - 1) / step;
  if (LintCalendarFor(a, m, step, evaluations, out)) return;
  if (a.for_duration % step == 0) return;
  const std::string interval =
      StrCat("its ", FormatDuration(step), " evaluation interval (the ",
             m.window.slide() == m.window.size() ? "window" : "slide", " of '", m.name, "')");
  if (evaluations == 1) {
    Warn(out, a.for_pos,
         StrCat("alert '", a.name, "' has for: ", FormatDuration(a.for_duration), ", shorter than ",
                interval,
                ": its first true evaluation already holds it, so it fires at once and is "
                "never pending; use for: 0 or for: ",
                FormatDuration(2 * step), " (two evaluations)"));
    return;
  }
  Warn(out, a.for_pos,
       StrCat("alert '", a.name, "' has for: ", FormatDuration(a.for_duration),
              ", not a multiple of ", interval, ": it fires after ", evaluations,
              " consecutive true evaluations (", FormatDuration(evaluations * step),
              "); write for: ", FormatDuration(evaluations * step)));
}

// The name on /metrics against Prometheus' naming conventions, as
// `promtool check metrics` lints it, with the `unit:` that fixes it.
void LintExportName(const MetricDef& m, std::vector<Diagnostic>* out) {
  const std::string exported = ExportName(m.name, m.unit).name;
  const std::vector<std::string> problems = PrometheusNameProblems(exported);
  if (problems.empty()) return;
  std::string msg = StrCat("metric '", m.name, "' is exported as ", exported,
                           ", against Prometheus naming (promtool check metrics): ");
  for (size_t i = 0; i < problems.size(); ++i) StrAppend(&msg, i ? "; " : "", problems[i]);
  // The unit its name abbreviates, if that is what is wrong.
  std::optional<MetricUnit> unit;
  std::string_view unit_name;
  for (const auto& [part, u, word] :
       {std::tuple("_ms", MetricUnit::kMilliseconds, "milliseconds"),
        std::tuple("_msec", MetricUnit::kMilliseconds, "milliseconds"),
        std::tuple("_milliseconds", MetricUnit::kMilliseconds, "milliseconds"),
        std::tuple("_sec", MetricUnit::kSeconds, "seconds"),
        std::tuple("_s", MetricUnit::kSeconds, "seconds"),
        std::tuple("_b", MetricUnit::kBytes, "bytes")}) {
    const std::string name = StrCat(m.name, "_");
    if (m.unit == MetricUnit::kNone && name.find(StrCat(part, "_")) != std::string::npos) {
      unit = u;
      unit_name = word;
      break;
    }
  }
  if (unit && PrometheusNameProblems(ExportName(m.name, *unit).name).empty()) {
    StrAppend(&msg, "; add 'unit: ", unit_name, "' to export it as ",
              ExportName(m.name, *unit).name);
  } else {
    msg += "; rename the metric";
  }
  Warn(out, m.pos, msg);
}

// The panes a grouped metric may hold at once are its limit of groups times
// its panes per window: within the limits, and still gigabytes when both
// are large (sliding 10s every 1ms by session_id).
void LintPaneBound(const MetricDef& m, std::vector<Diagnostic>* out) {
  constexpr int64_t kManyPanes = 50'000'000;
  if (m.by.empty() || m.window.calendar()) return;
  const int64_t panes = m.window.panes_per_window();
  if (panes <= 1 || m.limit * panes <= kManyPanes) return;
  Warn(out, m.pos,
       StrCat("metric '", m.name, "' may hold ", m.limit * panes, " panes at once (", m.limit,
              " groups, its limit:, times ", panes, " panes of ", FormatDuration(m.window.pane()),
              " per window): gigabytes when its groups are many; set a lower limit: or a longer "
              "slide"));
}

// The same for an SLO's metrics, once per SLO: what fixes them is another
// SLO name.
void LintSloExportName(const MetricDef& m, std::set<std::string>* named,
                       std::vector<Diagnostic>* out) {
  const std::string exported = ExportName(m.name, m.unit).name;
  const std::vector<std::string> problems = PrometheusNameProblems(exported);
  const std::string slo = m.pane_group.substr(4);
  if (problems.empty() || !named->insert(slo).second) return;
  std::string msg = StrCat("SLO '", slo, "' names its metrics on /metrics like ", exported,
                           ", against Prometheus naming (promtool check metrics): ");
  for (size_t i = 0; i < problems.size(); ++i) StrAppend(&msg, i ? "; " : "", problems[i]);
  Warn(out, m.pos, StrCat(msg, "; rename the SLO"));
}

}  // namespace

// Whether an alert of `a` could match every matcher of `s`: on its name,
// severity and static labels, and on any value of its group labels.
bool SilenceCanMatch(const SilenceDef& s, const AlertDef& a) {
  Labels known = a.labels;
  known["alertname"] = a.name;
  known["severity"] = std::string(SeverityName(a.severity));
  return std::all_of(s.matchers.begin(), s.matchers.end(), [&](const LabelMatcher& m) {
    const bool grouped =
        std::find(a.group_labels.begin(), a.group_labels.end(), m.name) != a.group_labels.end();
    return grouped || m.Matches(known);
  });
}

// Alert labels are not templates (annotations are): `{{ ... }}` there
// stays as written on every page.
// The numbers written in an expression.
void CollectNumbers(const ExprNode& n, std::vector<double>* out) {
  if (n.op == ExprOp::kLiteral && n.literal.is_number()) out->push_back(n.literal.num);
  for (const auto& arg : n.args) CollectNumbers(*arg, out);
}

// Values to try for a numeric input of an alert: the numbers both
// expressions are written with, and 0, the midpoints between them and one
// beyond the largest, then each number's neighbours on either side (last,
// so that a message shows a round value where one serves); negative ones
// only when a number written is negative, [0, 1] only for a ratio.
std::vector<double> TrialNumbers(std::vector<double> written, bool ratio) {
  const bool negative = std::any_of(written.begin(), written.end(), [](double v) { return v < 0; });
  written.push_back(0);
  std::sort(written.begin(), written.end());
  written.erase(std::unique(written.begin(), written.end()), written.end());
  std::vector<double> out = written;
  for (size_t i = 0; i + 1 < written.size(); ++i) {
    out.push_back(written[i] + (written[i + 1] - written[i]) / 2);
  }
  out.push_back(written.back() * 2 + 1);
  if (ratio) out.push_back(1);
  if (negative) out.push_back(written.front() * 2 - 1);
  for (double v : written) {
    out.insert(out.end(), {std::nextafter(v, -HUGE_VAL), std::nextafter(v, HUGE_VAL)});
  }
  std::erase_if(out, [&](double v) {
    return !std::isfinite(v) || (v < 0 && !negative) || (ratio && (v < 0 || v > 1));
  });
  std::vector<double> unique;
  for (double v : out) {
    if (std::find(unique.begin(), unique.end(), v) == unique.end()) unique.push_back(v);
  }
  return unique;
}

// The input of slot i as the expressions name it, for a message.
std::string SlotName(const RuleSet& rules, const AlertDef& a, size_t i) {
  const std::string& metric = rules.metrics[a.metrics[i]].name;
  const HistoryFn fn = a.metrics.Input(i).fn;
  if (fn == HistoryFn::kNone) return metric;
  return StrCat(HistoryFnName(fn), "(", metric, ")");
}

// A `resolve:` that holds where `expr:` holds too: a firing alert resolves
// at such an evaluation and, since its condition still holds, fires again at
// the next (after `for:`), paging on every round. Tries every combination
// of trial values for the alert's inputs (up to a bound) and warns with the
// first one both expressions accept, at which some input has a value (an
// evaluation without any resolves anyway).
void LintResolveOverlap(const RuleSet& rules, const AlertDef& a, std::vector<Diagnostic>* out) {
  if (!a.has_resolve) return;
  ExprParse expr = ParseExpr(a.expr_source), resolve = ParseExpr(a.resolve_source);
  if (!expr.ok() || !resolve.ok()) return;
  std::vector<double> written;
  CollectNumbers(*expr.node, &written);
  CollectNumbers(*resolve.node, &written);
  std::vector<std::vector<Value>> trials(a.metrics.size());
  size_t combinations = 1;
  constexpr size_t kMaxCombinations = 200'000;
  for (size_t i = 0; i < a.metrics.size(); ++i) {
    std::vector<Value>& t = trials[i];
    t.push_back(Value::Missing());
    if (HistoryFnIsBool(a.metrics.Input(i).fn)) {
      t.insert(t.end(), {Value::Bool(false), Value::Bool(true)});
    } else {
      const bool ratio =
          a.metrics.Input(i).fn == HistoryFn::kNone && IsRatioMetric(rules.metrics[a.metrics[i]]);
      for (double v : TrialNumbers(written, ratio)) t.push_back(Value::Number(v));
    }
    combinations *= t.size();
    if (combinations > kMaxCombinations) return;
  }
  std::vector<size_t> at(trials.size(), 0);
  std::vector<Value> slots(trials.size());
  for (size_t n = 0; n < combinations; ++n) {
    bool any = false;
    for (size_t i = 0; i < trials.size(); ++i) {
      slots[i] = trials[i][at[i]];
      any |= !slots[i].is_nullish();
    }
    if (any && a.expr.EvalBool(slots.data()) && a.resolve.EvalBool(slots.data())) {
      std::string witness;
      for (size_t i = 0; i < slots.size(); ++i) {
        if (slots[i].is_missing()) continue;
        if (!witness.empty()) witness += ", ";
        witness += StrCat(
            SlotName(rules, a, i), " = ",
            slots[i].is_bool() ? std::string(slots[i].b ? "true" : "false") : StrCat(slots[i].num));
      }
      Warn(out, a.resolve_pos,
           StrCat("alert '", a.name, "': resolve: holds where expr: holds too (", witness,
                  "), so a firing alert resolves there and, its condition still holding, fires "
                  "again at the next evaluation: a page on every round; resolve: should hold "
                  "only once the condition has cleared, e.g. the opposite of expr: with a "
                  "margin"));
      return;
    }
    for (size_t i = 0; i < at.size() && ++at[i] == trials[i].size(); ++i) at[i] = 0;
  }
}

void LintLabelTemplates(const AlertDef& a, std::vector<Diagnostic>* out) {
  for (const auto& [name, value] : a.labels) {
    if (value.find("{{") == std::string::npos) continue;
    Warn(out, a.pos,
         StrCat("alert '", a.name, "': label '", name, "' holds a template (", value,
                "), but labels are sent as written; put it in an annotation, or group the "
                "metric by the field (by:) to get a label per value"));
  }
}

std::vector<Diagnostic> LintRules(const RuleSet& rules) {
  std::vector<Diagnostic> out;
  for (const std::string& file : rules.empty_files) {
    Warn(&out, {file, 1, 1},
         "the rule file defines no rules (it is empty, or has only comments or empty sections)");
  }
  std::vector<bool> used(rules.metrics.size(), false);
  for (const AlertDef& a : rules.alerts) {
    for (int m : a.metrics) used[m] = true;
    LintFor(rules, a, &out);
    LintLabelTemplates(a, &out);
    LintResolveOverlap(rules, a, &out);
    for (const auto& [src, at] :
         {std::pair(&a.expr_source, &a.expr_pos), std::pair(&a.resolve_source, &a.resolve_pos)}) {
      if (src->empty()) continue;
      ExprParse p = ParseExpr(*src);
      const bool one_line = src->find('\n') == std::string::npos;
      if (p.ok()) LintThresholds(*p.node, rules, a, *at, one_line, &out);
    }
  }
  for (const TrackerDef& t : rules.trackers) {
    for (const TrackerDef::Column& c : t.columns) used[c.metric] = true;
  }
  std::set<std::string> slos_named;
  for (size_t i = 0; i < rules.metrics.size(); ++i) {
    const MetricDef& m = rules.metrics[i];
    if (m.internal()) continue;  // an experiment's input: never exported
    LintPaneBound(m, &out);
    if (m.pane_group.starts_with("slo:")) {
      // An SLO's metrics take their names from it, and have no unit: key.
      LintSloExportName(m, &slos_named, &out);
    } else {
      LintExportName(m, &out);
    }
    if (!used[i] && !m.exported) {
      Warn(&out, m.pos,
           StrCat("metric '", m.name,
                  "' is not used by any alert; add 'export: true' if it is "
                  "meant for dashboards or the results feed"));
    }
  }
  for (const SloDef& slo : rules.slos) {
    // A pair written in the file that cannot fire, or reads a window longer
    // than the SLO's, is an error when it loads; these are the default
    // table's.
    for (const BurnRateRule& r : slo.burn_rates) {
      if (r.long_window <= slo.window) continue;
      Warn(&out, slo.pos,
           StrCat("SLO '", slo.name, "': the default ", r.page ? "page" : "ticket", " pair (",
                  FormatDuration(r.long_window), "/", FormatDuration(r.short_window), " above ",
                  r.factor, ") reads a window longer than the SLO's (", FormatDuration(slo.window),
                  "), and its factor is meant for a 30-day budget; set burn_rates: for this "
                  "window"));
    }
    for (const BurnRateRule& r : slo.burn_rates) {
      if (slo.CanFire(r.factor)) continue;
      Warn(&out, slo.pos,
           StrCat("SLO '", slo.name, "': with objective ", slo.objective * 100,
                  "% a burn rate is at most ", 1 / slo.ErrorBudget(), ", so the default ",
                  r.page ? "page" : "ticket", " pair (", FormatDuration(r.long_window), "/",
                  FormatDuration(r.short_window), " above ", r.factor,
                  ") can never fire; set burn_rates: for this objective"));
    }
  }
  for (const SilenceDef& silence : rules.silences) {
    if (std::any_of(rules.alerts.begin(), rules.alerts.end(),
                    [&](const AlertDef& a) { return SilenceCanMatch(silence, a); })) {
      continue;
    }
    Warn(&out, silence.pos,
         StrCat("silence '", silence.name,
                "' matches no alert of these rules (by name, severity, static and grouping "
                "labels); check its matchers for a misspelt name or value"));
  }
  for (const StreamDef& st : rules.streams) {
    const bool read = std::any_of(
        rules.metrics.begin(), rules.metrics.end(),
        [&](const MetricDef& m) { return m.from >= 0 && rules.streams[m.from].name == st.name; });
    const bool written = std::any_of(
        rules.outputs.begin(), rules.outputs.end(),
        [&](const OutputDef& o) { return o.from >= 0 && rules.streams[o.from].name == st.name; });
    if (!read && !written) {
      const bool join = st.kind == StreamKind::kJoin;
      Warn(&out, st.pos,
           StrCat(join ? "join '" : "stream '", st.name,
                  "' is not read by any metric or output (from: ", st.name, "); it keeps ",
                  join ? "events waiting for a match" : "sessions", " for nothing"));
    }
  }
  return out;
}

}  // namespace vigil
