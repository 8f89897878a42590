#include "operators/dataflow/alert_operator.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "operators/dataflow/metric_operator.h"
#include "rules/expr_parser.h"

namespace vigil {

AlertOperator::AlertOperator(const RuleSet& rules, const SilenceBook* silences)
    : rules_(rules),
      latest_(rules.metrics.size()),
      last_end_(rules.metrics.size(), kMinTime),
      partial_through_(rules.metrics.size(), kMinTime),
      history_(rules.metrics.size()),
      retention_(rules.metrics.size(), -1),
      keeps_groups_(rules.metrics.size(), false),
      alerts_of_metric_(rules.metrics.size()),
      states_(rules.alerts.size()),
      carried_(rules.alerts.size(), false),
      silences_(silences),
      suppressible_(silences != nullptr) {
  for (size_t a = 0; a < rules.alerts.size(); ++a) {
    suppressible_ |= !rules.alerts[a].inhibited_by.empty();
    const AlertInputs& inputs = rules.alerts[a].metrics;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int m = inputs[i];
      // A metric read by several slots of one alert still evaluates it once.
      std::vector<int>& of = alerts_of_metric_[m];
      if (of.empty() || of.back() != static_cast<int>(a)) of.push_back(static_cast<int>(a));
      const HistoryInput& in = inputs.Input(i);
      if (in.fn == HistoryFn::kNone) continue;
      const DurationMs keep = HistoryRetention(in, rules.metrics[m].window.slide());
      retention_[m] = std::max(retention_[m], keep);
      if (in.fn == HistoryFn::kAbsent) keeps_groups_[m] = true;
    }
  }
}

void AlertOperator::Advance(TimeMs frontier, const std::vector<WindowResult>& results,
                            std::vector<AlertNotice>* out, const InputEnd& input) {
  TimeMs cap = frontier;
  if (frontier == kMaxTime) {
    cap = results.empty() ? kMinTime : results.back().end;
    // Every end a bounded input covers is evaluated, with data or without:
    // a group that stopped reporting before the input's end (or a rule
    // test's `until:`) resolves there, as it would live.
    if (input.last != kMaxTime) cap = std::max(cap, input.last + 1);
  }
  size_t i = 0;
  while (true) {
    TimeMs next = i < results.size() ? results[i].end : kMaxTime;
    // A metric that still holds values must close its next window even if
    // that window is empty, so its alerts see the data stop. Not past the
    // end of a bounded input: those windows are partial and change nothing
    // (ProcessEnd), and a calendar window past the calendar's range ends
    // only at kMaxTime, so the empty windows up to the cap never run out.
    for (size_t m = 0; m < latest_.size(); ++m) {
      if (!NeedsClose(static_cast<int>(m)) || last_end_[m] == kMinTime) continue;
      const TimeMs boundary = rules_.metrics[m].window.NextEnd(last_end_[m]);
      if (boundary <= cap && input.Covers(boundary)) next = std::min(next, boundary);
    }
    if (next == kMaxTime || next > cap) break;
    size_t j = i;
    while (j < results.size() && results[j].end == next) ++j;
    ProcessEnd(next, results.data() + i, results.data() + j, input, out);
    i = j;
  }
}

bool AlertOperator::NeedsClose(int m) const {
  if (!latest_[m].empty() || !history_[m].empty()) return true;
  for (int a : alerts_of_metric_[m]) {
    if (!states_[a].empty()) return true;
  }
  return false;
}

void AlertOperator::ProcessEnd(TimeMs end, const WindowResult* begin, const WindowResult* stop,
                               const InputEnd& input, std::vector<AlertNotice>* out) {
  std::set<int> touched;
  std::vector<bool> partial(latest_.size(), false);
  for (size_t m = 0; m < latest_.size(); ++m) {
    const WindowSpec& window = rules_.metrics[m].window;
    if (!window.IsEnd(end)) continue;
    const TimeMs start = window.calendar() ? window.PrevEnd(end) : end - window.size();
    if (!input.Covers(end) || !Covers(static_cast<int>(m), start)) {
      // Only part of this window is in the input: it changes nothing.
      partial[m] = true;
      last_end_[m] = std::max(last_end_[m], end);
      continue;
    }
    // Every metric whose slide divides `end` closed a window here. One
    // that holds nothing and closed none (no data) is not evaluated, but its
    // window at `end` is behind it: its next end comes after this one.
    if (!NeedsClose(static_cast<int>(m)) &&
        (begin == stop || std::none_of(begin, stop, [m](const auto& r) {
           return r.metric == static_cast<int>(m);
         }))) {
      if (last_end_[m] != kMinTime) last_end_[m] = std::max(last_end_[m], end);
      continue;
    }
    latest_[m].clear();
    last_end_[m] = end;
    if (retention_[m] >= 0) PruneHistory(static_cast<int>(m), end);
    // An alert is evaluated at the window ends of the first metric its
    // expression names, its evaluation interval, whichever of its metrics
    // has data; the others give it their latest windows.
    for (int a : alerts_of_metric_[m]) {
      if (rules_.metrics[rules_.alerts[a].metrics[0]].window.IsEnd(end)) touched.insert(a);
    }
  }
  for (const WindowResult* r = begin; r != stop; ++r) {
    if (partial[r->metric] || r->partial) continue;
    latest_[r->metric][r->group] = Latest{r->value, r->start};
    if (retention_[r->metric] >= 0) history_[r->metric][r->group].Add(end, r->value);
  }
  const size_t first_notice = out->size();
  for (int a : touched) Evaluate(a, end, out);
  // Past the end of a bounded input nothing is released either: a window
  // end the input only partly covers changes nothing.
  if (suppressible_ && input.Covers(end)) Suppress(end, first_notice, out);
}

std::pair<std::string, std::string> AlertOperator::SuppressedBy(const AlertDef& def,
                                                                const Labels& labels,
                                                                TimeMs at) const {
  std::pair<std::string, std::string> why;
  if (silences_ != nullptr) why.second = silences_->Match(labels, at);
  for (const Inhibition& in : def.inhibited_by) {
    for (int s : in.sources) {
      const AlertDef& source = rules_.alerts[s];
      for (const auto& [g, st] : states_[s]) {
        if (st.phase != AlertPhase::kFiring) continue;
        const Labels theirs = AlertLabels(source, g);
        const bool equal = std::all_of(in.equal.begin(), in.equal.end(), [&](const std::string& l) {
          auto a = labels.find(l), b = theirs.find(l);
          return a != labels.end() && b != theirs.end() && a->second == b->second;
        });
        if (equal) {
          why.first = source.name;
          break;
        }
      }
      if (!why.first.empty()) break;
    }
    if (!why.first.empty()) break;
  }
  return why;
}

void AlertOperator::Suppress(TimeMs end, size_t first_notice, std::vector<AlertNotice>* out) {
  // Whether an alert is held back is decided once every alert has been
  // evaluated at `end`, so the order of the rules does not matter.
  std::set<std::pair<int, std::string>> fired_now;
  for (size_t i = first_notice; i < out->size(); ++i) {
    AlertNotice& n = (*out)[i];
    if (n.transition != Transition::kFiring) continue;
    const int a = static_cast<int>(n.def - rules_.alerts.data());
    std::tie(n.inhibited_by, n.silenced_by) = SuppressedBy(*n.def, n.labels, end);
    n.notify = n.inhibited_by.empty() && n.silenced_by.empty();
    states_[a][n.group].notified = n.notify;
    fired_now.emplace(a, n.group);
  }
  Release(end, fired_now, out);
}

void AlertOperator::Release(TimeMs end, const std::set<std::pair<int, std::string>>& skip,
                            std::vector<AlertNotice>* out) {
  // Firing alerts held back until now go out once nothing holds them.
  for (size_t a = 0; a < states_.size(); ++a) {
    for (auto& [g, st] : states_[a]) {
      if (st.phase != AlertPhase::kFiring || st.notified ||
          skip.contains({static_cast<int>(a), g})) {
        continue;
      }
      const AlertDef& def = rules_.alerts[a];
      const TimeMs at = end == kMinTime ? st.last_eval : end;
      const auto [inhibited, silenced] = SuppressedBy(def, AlertLabels(def, g), at);
      if (!inhibited.empty() || !silenced.empty()) continue;
      st.notified = true;
      AlertNotice n = MakeNotice(def, g, st, Transition::kFiring, at);
      n.released = true;
      out->push_back(std::move(n));
    }
  }
}

std::vector<AlertNotice> AlertOperator::ReleaseUnheld() {
  std::set<std::pair<int, std::string>> skip;
  for (size_t a = 0; a < states_.size(); ++a) {
    for (const Inhibition& inh : rules_.alerts[a].inhibited_by) {
      if (std::all_of(inh.sources.begin(), inh.sources.end(),
                      [this](int s) { return carried_[static_cast<size_t>(s)]; })) {
        continue;
      }
      for (const auto& [g, st] : states_[a]) skip.emplace(static_cast<int>(a), g);
    }
  }
  std::vector<AlertNotice> out;
  Release(kMinTime, skip, &out);
  return out;
}

void AlertOperator::PruneHistory(int m, TimeMs end) {
  HistoryMap& series = history_[m];
  for (auto it = series.begin(); it != series.end();) {
    it->second.Prune(end - retention_[m]);
    if (it->second.empty() && !keeps_groups_[m]) {
      series.erase(it++);
    } else {
      ++it;
    }
  }
}

std::set<std::string> AlertOperator::GroupsOf(int alert) const {
  const AlertDef& def = rules_.alerts[alert];
  std::set<std::string> groups;
  for (size_t i = 0; i < def.metrics.size(); ++i) {
    const int m = def.metrics[i];
    if (def.metrics.Input(i).fn == HistoryFn::kNone) {
      for (const auto& [g, v] : latest_[m]) groups.insert(g);
    } else {
      for (const auto& [g, h] : history_[m]) groups.insert(g);
    }
  }
  for (const auto& [g, s] : states_[alert]) groups.insert(g);
  return groups;
}

bool AlertOperator::FillSlots(const AlertDef& def, const std::string& g, TimeMs end) {
  static const MetricHistory kNoHistory;
  bool any = false;
  for (size_t i = 0; i < def.metrics.size(); ++i) {
    const int m = def.metrics[i];
    const HistoryInput& in = def.metrics.Input(i);
    if (in.fn == HistoryFn::kNone) {
      auto it = latest_[m].find(g);
      if (it == latest_[m].end()) {
        slots_[i] = Value::Missing();
      } else {
        slots_[i] = Value::Number(it->second.value);
        any = true;
      }
      continue;
    }
    auto it = history_[m].find(g);
    const MetricHistory& h = it != history_[m].end() ? it->second : kNoHistory;
    // A metric that never closed has no history; `end` keeps the arithmetic
    // on ends away from kMinTime.
    const TimeMs current = last_end_[m] == kMinTime ? end : last_end_[m];
    slots_[i] = h.Eval(in, current, end, rules_.metrics[m].window);
    any |= !slots_[i].is_nullish();
  }
  return any;
}

double AlertOperator::AlertValue(const AlertDef& def, const std::string& g) const {
  // Only what `expr` names: `resolve`'s inputs follow its own.
  const size_t n = std::min(def.expr_slots, def.metrics.size());
  for (size_t i = 0; i < n; ++i) {
    if (!HistoryFnIsBool(def.metrics.Input(i).fn) && slots_[i].is_number()) return slots_[i].num;
  }
  // Only conditions (declining, absent) or no value: the latest window
  // kept of the first metric they read that the group has one of.
  for (size_t i = 0; i < n; ++i) {
    if (!HistoryFnIsBool(def.metrics.Input(i).fn)) continue;
    auto it = history_[def.metrics[i]].find(g);
    if (it == history_[def.metrics[i]].end()) continue;
    if (std::optional<double> last = it->second.Last()) return *last;
  }
  return 0;
}

void AlertOperator::Evaluate(int alert, TimeMs end, std::vector<AlertNotice>* out) {
  const AlertDef& def = rules_.alerts[alert];
  auto& states = states_[alert];
  slots_.assign(def.metrics.size(), Value::Missing());
  AlertTiming timing{def.for_duration, def.keep_firing_for, def.has_resolve,
                     rules_.EvaluationStep(def), def.lower_is_worse};
  if (!def.metrics.empty()) {
    const WindowSpec& window = rules_.metrics[def.metrics[0]].window;
    timing.calendar = window.calendar();
    if (timing.calendar) timing.window_start = window.PaneStart(end - 1);
  }
  for (const std::string& g : GroupsOf(alert)) {
    // A history function with a value counts as data: absent() is about a
    // group with no current window.
    const bool any = FillSlots(def, g, end);
    const bool holds = any && def.expr.EvalBool(slots_.data());
    const bool resolves = !any || (def.has_resolve && def.resolve.EvalBool(slots_.data()));
    auto it = states.find(g);
    AlertState fresh;
    AlertState& s = it != states.end() ? it->second : fresh;
    // Without data there is no value: the alert keeps the one it had (an
    // INACTIVE line for want of data shows the value that made it pending).
    const double value = any ? AlertValue(def, g) : s.value;
    Transition t = s.Step(holds, resolves, end, value, timing);
    if (t == Transition::kFiring) s.notified = true;  // unless Suppress holds it back
    if (t != Transition::kNone) {
      out->push_back(MakeNotice(def, g, s, t, end));
      // Resolved for want of data: no value resolved it.
      if (t == Transition::kResolved && !any) out->back().resolved_value.reset();
      // A resolution is sent only where the firing was.
      if (t == Transition::kResolved) out->back().notify = s.notified;
    }
    if (s.phase == AlertPhase::kInactive) {
      if (it != states.end()) states.erase(it);
    } else if (it == states.end()) {
      states.emplace(g, s);
    }
  }
}

Labels AlertOperator::AlertLabels(const AlertDef& def, const std::string& group) const {
  Labels labels = def.labels;
  labels["alertname"] = def.name;
  labels["severity"] = std::string(SeverityName(def.severity));
  std::vector<std::string> values = GroupLabels(group, def.group_labels.size());
  for (size_t i = 0; i < def.group_labels.size(); ++i) labels[def.group_labels[i]] = values[i];
  return labels;
}

AlertNotice AlertOperator::MakeNotice(const AlertDef& def, const std::string& group,
                                      const AlertState& s, Transition t, TimeMs at) const {
  AlertNotice n;
  n.def = &def;
  n.transition = t;
  n.at = at;
  // A firing alert shows, and a resolved one keeps, what it fired with.
  const bool fired = t == Transition::kResolved || s.phase == AlertPhase::kFiring;
  n.value = fired ? s.fired_value : s.value;
  if (t == Transition::kResolved) n.resolved_value = s.value;
  n.group = group;
  n.active_since = s.active_since;
  n.fired_at = s.fired_at;
  n.peak = s.peak;
  if (!def.metrics.empty()) n.window = rules_.metrics[def.metrics[0]].window.ToString();
  n.labels = AlertLabels(def, group);
  for (const auto& [name, tmpl] : def.annotations) {
    n.annotations.emplace_back(name, tmpl.Render(n.value, n.labels));
  }
  return n;
}

std::string AlertOperator::AlertKey(const RuleSet& rules, const AlertDef& a) {
  if (a.fingerprint.empty()) return LegacyAlertKey(rules, a);
  std::string key = StrCat(kAlertKeyMark, a.fingerprint, "|");
  for (int m : a.metrics) StrAppend(&key, rules.metrics[m].fingerprint, ";");
  return key;
}

std::string AlertOperator::LegacyAlertKey(const RuleSet& rules, const AlertDef& a) {
  std::string key = StrCat(a.name, "|", SeverityName(a.severity), "|", a.expr_source, "|",
                           a.resolve_source, "|", a.for_duration, "|", a.keep_firing_for, "|");
  for (int m : a.metrics) StrAppend(&key, rules.metrics[m].fingerprint, ";");
  return key;
}

std::string AlertOperator::PreviousAlertKey(const RuleSet& rules, const AlertDef& a) {
  const auto printed = [](std::string_view source) {
    ExprParse p = ParseExpr(source);
    return p.ok() ? ExprToString(*p.node) : std::string(source);
  };
  std::string key =
      StrCat(kPreviousKeyMark, a.name, "|", SeverityName(a.severity), "|", printed(a.expr_source),
             "|", a.has_resolve ? printed(a.resolve_source) : "", "|", a.for_duration, "|",
             a.keep_firing_for, "|");
  for (const auto& [k, v] : a.labels) StrAppend(&key, k, "=", v, ";");
  StrAppend(&key, "|");
  for (int m : a.metrics) StrAppend(&key, rules.metrics[m].fingerprint, ";");
  return key;
}

bool AlertOperator::KeyIs(const RuleSet& rules, const AlertDef& a, std::string_view saved) {
  if (saved.starts_with(kAlertKeyMark)) return saved == AlertKey(rules, a);
  if (saved.starts_with(kPreviousKeyMark)) return saved == PreviousAlertKey(rules, a);
  return saved == LegacyAlertKey(rules, a);
}

void AlertOperator::AdoptState(AlertOperator& old, std::vector<AlertNotice>* dropped) {
  for (size_t m = 0; m < rules_.metrics.size(); ++m) {
    for (size_t k = 0; k < old.rules_.metrics.size(); ++k) {
      if (old.rules_.metrics[k].fingerprint != rules_.metrics[m].fingerprint) continue;
      latest_[m] = std::move(old.latest_[k]);
      last_end_[m] = old.last_end_[k];
      partial_through_[m] = old.partial_through_[k];
      history_[m] = std::move(old.history_[k]);
      break;
    }
  }
  std::vector<bool> adopted(old.states_.size(), false);
  for (size_t a = 0; a < rules_.alerts.size(); ++a) {
    const std::string key = AlertKey(rules_, rules_.alerts[a]);
    for (size_t b = 0; b < old.rules_.alerts.size(); ++b) {
      if (adopted[b] || AlertKey(old.rules_, old.rules_.alerts[b]) != key) continue;
      states_[a] = std::move(old.states_[b]);
      carried_[a] = true;
      adopted[b] = true;
      break;
    }
  }
  for (size_t b = 0; b < old.states_.size(); ++b) {
    if (adopted[b]) continue;
    for (const auto& [group, s] : old.states_[b])
      old.EndState(old.rules_.alerts[b], group, s, dropped);
  }
}

void AlertOperator::EndState(const AlertDef& def, const std::string& group, const AlertState& s,
                             std::vector<AlertNotice>* out) const {
  if (s.phase == AlertPhase::kFiring) {
    out->push_back(MakeNotice(def, group, s, Transition::kResolved, s.last_eval));
    // No evaluation resolved it: the reload did.
    out->back().resolved_value.reset();
    out->back().notify = s.notified;
  } else if (s.phase == AlertPhase::kPending) {
    // Its pending spell ends here: the transitions show it, so that the
    // next pending of the changed alert follows an inactive.
    out->push_back(MakeNotice(def, group, s, Transition::kInactive, s.last_eval));
    out->back().notify = false;
  }
}

void AlertOperator::StartOverExperiments(const std::vector<std::string>& names) {
  if (names.empty()) return;
  const std::set<std::string, std::less<>> over(names.begin(), names.end());
  // Whether `group` (of `labels`) is one of theirs; without an experiment
  // label it may mix theirs with others': it ends too.
  const auto theirs = [&over](const std::string& group, const std::vector<std::string>& labels) {
    auto at = std::find(labels.begin(), labels.end(), "experiment");
    if (at == labels.end()) return true;
    return over.contains(GroupLabels(group, labels.size())[at - labels.begin()]);
  };
  for (int m : rules_.experiment_outputs) {
    const std::vector<std::string>& by = rules_.metrics[m].by;
    absl::erase_if(latest_[m], [&](const auto& kv) { return theirs(kv.first, by); });
    absl::erase_if(history_[m], [&](const auto& kv) { return theirs(kv.first, by); });
  }
  for (size_t a = 0; a < rules_.alerts.size(); ++a) {
    const AlertDef& def = rules_.alerts[a];
    if (std::none_of(def.metrics.begin(), def.metrics.end(), [&](int m) {
          return rules_.metrics[m].experiment == MetricDef::ExperimentRole::kOutput;
        })) {
      continue;
    }
    for (auto it = states_[a].begin(); it != states_[a].end();) {
      if (!theirs(it->first, def.group_labels)) {
        ++it;
        continue;
      }
      EndState(def, it->first, it->second, &restored_resolutions_);
      it = states_[a].erase(it);
    }
  }
}

AlertNotice AlertOperator::Describe(const Active& a) const {
  const Transition t =
      a.state.phase == AlertPhase::kFiring ? Transition::kFiring : Transition::kPending;
  AlertNotice n = MakeNotice(*a.def, a.group, a.state, t, a.state.last_eval);
  std::tie(n.inhibited_by, n.silenced_by) = SuppressedBy(*a.def, n.labels, a.state.last_eval);
  n.notify = a.state.phase == AlertPhase::kFiring && a.state.notified;
  return n;
}

std::vector<AlertOperator::Active> AlertOperator::ActiveAlerts() const {
  std::vector<Active> out;
  for (size_t a = 0; a < states_.size(); ++a) {
    for (const auto& [g, s] : states_[a]) out.push_back({&rules_.alerts[a], g, s});
  }
  return out;
}

int AlertOperator::FiringCount(Severity sev) const {
  int n = 0;
  for (size_t a = 0; a < states_.size(); ++a) {
    if (rules_.alerts[a].severity != sev) continue;
    for (const auto& [g, s] : states_[a]) n += s.phase == AlertPhase::kFiring;
  }
  return n;
}

}  // namespace vigil
