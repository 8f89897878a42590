// `trackers:` entries: the columns of a monthly improvement table, each a
// monthly metric of the rule set (rules/rule_set.h, TrackerDef).
#include "rules/file_loader.h"

namespace vigil {
namespace {

const std::vector<std::string> kTrackerKeys = {"tracker", "help", "metrics"};

// escalation_rate_monthly -> Escalation rate monthly
std::string DefaultTitle(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '_') c = ' ';
  }
  if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

bool LoadColumn(FileLoader& f, const YAML::Node& item, RuleSet* rules, TrackerDef* t) {
  std::string title;
  if (item.IsMap()) {
    f.CheckKeys(item, {"metric", "title"}, "tracker column");
    if (!item["metric"]) {
      f.Error(item, "a tracker column needs a 'metric'");
      return false;
    }
    if (std::optional<std::string> tt = f.Scalar(item, "title", false, "a tracker column")) {
      title = *tt;
    }
  }
  // Constructed once: assigning a YAML::Node writes through to its node.
  const YAML::Node name_node = item.IsMap() ? item["metric"] : item;
  if (!name_node.IsScalar()) {
    f.Error(item, "a tracker column is a metric name or {metric: NAME, title: TEXT}");
    return false;
  }
  const std::string name = name_node.Scalar();
  std::optional<int> idx = rules->FindMetric(name);
  if (!idx) {
    if (rules->failed_metrics.contains(name)) return false;  // reported at the metric
    std::vector<std::string> names;
    for (const MetricDef& m : rules->metrics) names.push_back(m.name);
    const std::string s = Suggest(name, names);
    f.Error(name_node, StrCat("unknown metric '", name, "'",
                              s.empty() ? "" : StrCat("; did you mean '", s, "'?")));
    return false;
  }
  const MetricDef& m = rules->metrics[*idx];
  if (m.window.ToString().rfind("calendar month", 0) != 0) {
    f.Error(name_node, StrCat("metric '", name, "' has window ", m.window.ToString(),
                              "; a tracker's rows are months: give it 'window: calendar month'"));
    return false;
  }
  if (!m.by.empty()) {
    f.Error(name_node, StrCat("metric '", name, "' groups by [", StrJoin(m.by, ", "),
                              "]; a tracker's cell is one value a month"));
    return false;
  }
  t->columns.push_back({*idx, title.empty() ? DefaultTitle(name) : title});
  return true;
}

}  // namespace

void LoadTracker(FileLoader& f, const YAML::Node& n, RuleSet* rules) {
  if (!n.IsMap()) {
    f.Error(n, "each entry of 'trackers' must be a mapping with 'tracker' and 'metrics'");
    return;
  }
  f.CheckKeys(n, kTrackerKeys, "tracker");
  TrackerDef t;
  std::optional<std::string> name = f.Scalar(n, "tracker", true, "a tracker");
  if (!name) return;
  t.name = *name;
  t.pos = f.PosOf(n["tracker"]);
  if (!ValidLabelName(t.name)) {
    f.Error(n["tracker"], StrCat("tracker name '", t.name,
                                 "' must be letters, digits and '_' (not starting with a digit)"));
    return;
  }
  for (const TrackerDef& other : rules->trackers) {
    if (other.name == t.name) {
      f.Error(n["tracker"], StrCat("tracker '", t.name, "' is already defined at ", other.pos.file,
                                   ":", other.pos.line, ":", other.pos.col));
      return;
    }
  }
  if (std::optional<std::string> help = f.Scalar(n, "help", false, "a tracker")) t.help = *help;
  YAML::Node metrics = n["metrics"];
  if (!metrics || !metrics.IsSequence() || metrics.size() == 0) {
    f.Error(metrics ? metrics : n, "a tracker needs 'metrics': the list of its columns");
    return;
  }
  bool ok = true;
  for (const auto& item : metrics) ok &= LoadColumn(f, item, rules, &t);
  if (ok) rules->trackers.push_back(std::move(t));
}

}  // namespace vigil
