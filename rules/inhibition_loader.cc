// `inhibited_by:` of alerts: read with each alert, resolved to alert
// indices once every alert is loaded, and checked for rings.
#include <algorithm>
#include <string>
#include <vector>

#include "base/strings.h"
#include "rules/file_loader.h"

namespace vigil {
namespace {

std::vector<std::string> CarriedLabels(const AlertDef& a) {
  std::vector<std::string> out = a.group_labels;
  for (const auto& [k, v] : a.labels) out.push_back(k);
  return out;
}

// Alerts that inhibit each other, in a ring of any length, are all held
// back while they all fire: nobody is paged. Each ring is reported once,
// at the inhibited_by entry of its first alert.
void ReportInhibitionCycles(const RuleSet& rules, std::vector<Diagnostic>* errors) {
  const int n = static_cast<int>(rules.alerts.size());
  for (int start = 0; start < n; ++start) {
    // Depth-first over inhibited_by from `start`, each alert once; the
    // path back to it is a ring whose first member is `start`.
    // An alert's edges: the sources of its inhibited_by entries, in order.
    auto edges = [&rules](int a) {
      std::vector<std::pair<int, const Inhibition*>> out;
      for (const Inhibition& in : rules.alerts[a].inhibited_by) {
        for (int s : in.sources) out.emplace_back(s, &in);
      }
      return out;
    };
    std::vector<int> path = {start};
    std::vector<size_t> next = {0};
    std::vector<bool> seen(static_cast<size_t>(n), false);  // reached from start
    seen[start] = true;
    while (!path.empty()) {
      const auto out = edges(path.back());
      if (next.back() >= out.size()) {
        path.pop_back();
        next.pop_back();
        continue;
      }
      const int to = out[next.back()++].first;
      if (to < start) continue;
      if (to == start) {
        std::vector<std::string> names;
        for (int i : path) names.push_back(rules.alerts[i].name);
        names.push_back(rules.alerts[start].name);
        const Inhibition& first = *edges(start)[next.front() - 1].second;
        errors->push_back({first.pos,
                           StrCat("alerts inhibit each other (", StrJoin(names, " by "),
                                  "): while they all fire none is sent; drop one inhibition"),
                           false});
        path.clear();
        break;
      }
      if (seen[to]) continue;
      seen[to] = true;
      path.push_back(to);
      next.push_back(0);
    }
  }
}

}  // namespace

// `inhibited_by: [A, {alert: B, equal: [service]}]`; the names are
// resolved once every alert is loaded (ResolveInhibitions).
void LoadInhibitions(FileLoader& f, const YAML::Node& n, AlertDef* a) {
  if (!n) return;
  if (!n.IsSequence()) {
    f.Error(n, "'inhibited_by' must be a list of alert names or {alert, equal} mappings");
    return;
  }
  for (const YAML::Node& item : n) {
    Inhibition in;
    in.pos = f.PosOf(item);
    if (item.IsScalar()) {
      in.alert = item.Scalar();
    } else if (item.IsMap()) {
      f.CheckKeys(item, {"alert", "equal"}, "an inhibited_by entry");
      std::optional<std::string> name = f.Scalar(item, "alert", true, "an inhibited_by entry");
      if (!name) continue;
      in.alert = *name;
      in.pos = f.PosOf(item["alert"]);
      if (YAML::Node eq = item["equal"]) {
        if (!eq.IsSequence()) {
          f.Error(eq, "'equal' must be a list of label names");
          continue;
        }
        for (const YAML::Node& label : eq) in.equal.push_back(label.Scalar());
      }
    } else {
      f.Error(item, "an inhibited_by entry is an alert name or {alert, equal}");
      continue;
    }
    a->inhibited_by.push_back(std::move(in));
  }
}

// The labels an alert's notifications can carry besides alertname and
// severity: its groups' and its static ones.

void ResolveInhibitions(RuleSet* rules, std::vector<Diagnostic>* errors) {
  std::vector<std::string> names;
  for (const AlertDef& a : rules->alerts) names.push_back(a.name);
  for (AlertDef& a : rules->alerts) {
    for (Inhibition& in : a.inhibited_by) {
      in.sources.clear();
      for (size_t i = 0; i < names.size(); ++i) {
        if (names[i] == in.alert) in.sources.push_back(static_cast<int>(i));
      }
      if (in.sources.empty()) {
        const std::string s = Suggest(in.alert, names);
        errors->push_back({in.pos,
                           StrCat("inhibited_by names unknown alert '", in.alert, "'",
                                  s.empty() ? std::string() : StrCat("; did you mean '", s, "'?")),
                           false});
        continue;
      }
      if (in.alert == a.name) {
        errors->push_back({in.pos, StrCat("alert '", a.name, "' cannot inhibit itself"), false});
        in.sources.clear();  // reported: not also as a ring
        continue;
      }
      // Alerts sharing a name (a warning and a page of one condition) all
      // inhibit; an equal label must be carried by one of them at least.
      const std::vector<std::string> mine = CarriedLabels(a);
      std::vector<std::string> theirs;
      for (int s : in.sources) {
        for (std::string& l : CarriedLabels(rules->alerts[s])) {
          if (std::find(theirs.begin(), theirs.end(), l) == theirs.end()) theirs.push_back(l);
        }
      }
      for (const std::string& label : in.equal) {
        const bool both = std::find(mine.begin(), mine.end(), label) != mine.end() &&
                          std::find(theirs.begin(), theirs.end(), label) != theirs.end();
        if (!both) {
          errors->push_back({in.pos,
                             StrCat("inhibited_by ", in.alert, ": equal label '", label,
                                    "' is not carried by both alerts (", a.name, ": ",
                                    mine.empty() ? "none" : StrJoin(mine, ", "), "; ", in.alert,
                                    ": ", theirs.empty() ? "none" : StrJoin(theirs, ", "), ")"),
                             false});
        }
      }
    }
  }
  ReportInhibitionCycles(*rules, errors);
}

}  // namespace vigil
