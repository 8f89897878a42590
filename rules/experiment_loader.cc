// `experiments:` entries: validated where the user wrote them, then
// compiled into input metrics (per unit and arm) and, once for every
// experiment, the output metrics the experiment operator publishes
// (rules/rule_set.h, ExperimentDef).
#include <charconv>
#include <cmath>

#include "rules/file_loader.h"

namespace vigil {
namespace {

const std::vector<std::string> kExperimentKeys = {"experiment", "help",  "arm",     "control",
                                                  "split",      "unit",  "metrics", "alpha",
                                                  "min_effect", "window"};
const std::vector<std::string> kExperimentMetricKeys = {"name", "from",      "where",     "value",
                                                        "goal", "guardrail", "min_effect"};

// "10%" or 0.1; nullopt when it is neither.
std::optional<double> ParseShare(std::string_view s) {
  s = Strip(s);
  const bool percent = !s.empty() && s.back() == '%';
  if (percent) s.remove_suffix(1);
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) {
    return std::nullopt;
  }
  return percent ? v / 100 : v;
}

std::string Number(double v) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

std::string Label(std::string path) {
  std::replace(path.begin(), path.end(), '.', '_');
  return path;
}

struct OutputSpec {
  std::string_view name;
  std::vector<std::string> by;
  std::string_view help;
};

std::vector<OutputSpec> OutputSpecs() {
  const std::vector<std::string> per_metric = {"experiment", "metric", "arm"};
  return {
      {"experiment_units",
       {"experiment", "arm"},
       "Units seen per arm since the experiment started (crossover units left out)"},
      {"experiment_srm_p_value",
       {"experiment"},
       "Sample-ratio-mismatch chi-square p-value of the units against the declared split"},
      {"experiment_sample_ratio_mismatch",
       {"experiment"},
       "1 when the units' split mismatches the declared one (SRM p-value below 0.001), else 0"},
      {"experiment_value", per_metric, "A metric's value per arm since the experiment started"},
      {"experiment_difference", per_metric,
       "Treatment minus control (quantiles: share of the arm above the control's quantile, minus "
       "the control's)"},
      {"experiment_ci_lower", per_metric,
       "Lower end of the always-valid confidence sequence of the difference"},
      {"experiment_ci_upper", per_metric,
       "Upper end of the always-valid confidence sequence of the difference"},
      {"experiment_p_value", per_metric, "Always-valid p-value of the difference (mSPRT)"},
      {"experiment_decision", per_metric,
       "1 treatment wins, -1 control wins, 0 no difference yet, 2 guardrail breached"},
      {"experiment_crossover_units",
       {"experiment"},
       "Units seen in more than one arm, left out of the units and the comparisons"},
  };
}

// Adds the output metrics, once; false after an error (a name taken).
bool AddOutputs(FileLoader& f, const YAML::Node& at, const ExperimentDef& e, RuleSet* rules) {
  if (!rules->experiment_outputs.empty()) {
    const MetricDef& first = rules->metrics[rules->experiment_outputs[0]];
    if (!(first.window == e.window)) {
      f.Error(at, StrCat("experiments publish into shared metrics, so they share one window; '",
                         rules->experiments[0].name, "' has ", first.window.ToString()));
      return false;
    }
    return true;
  }
  for (const OutputSpec& spec : OutputSpecs()) {
    if (std::optional<int> taken = rules->FindMetric(spec.name)) {
      const SourcePos& p = rules->metrics[*taken].pos;
      f.Error(at, StrCat("metric '", spec.name, "' (", p.file, ":", p.line, ":", p.col,
                         ") has the name of an experiment's output; rename it"));
      return false;
    }
  }
  for (const OutputSpec& spec : OutputSpecs()) {
    MetricDef m;
    m.name = std::string(spec.name);
    m.help = std::string(spec.help);
    m.pos = e.pos;
    m.window = e.window;
    m.by = spec.by;
    m.exported = true;
    m.experiment = MetricDef::ExperimentRole::kOutput;
    m.fingerprint = StrCat(m.name, "|experiment|", m.window.ToString());
    rules->experiment_outputs.push_back(static_cast<int>(rules->metrics.size()));
    rules->metrics.push_back(std::move(m));
  }
  return true;
}

// Adds one input metric from a synthesized definition; its index, or -1
// after an error (already reported).
int AddInput(FileLoader& f, const YAML::Node& node, const SourcePos& pos, RuleSet* rules) {
  const size_t before = rules->metrics.size();
  LoadMetric(f, node, rules);
  if (rules->metrics.size() == before) return -1;
  MetricDef& m = rules->metrics.back();
  m.experiment = MetricDef::ExperimentRole::kInput;
  m.pos = pos;
  return static_cast<int>(before);
}

// The fields an experiment metric reads: the events', or a stream's records
// (which must carry the arm and the unit).
struct Reads {
  FieldTable* fields = nullptr;
  std::string stream;  // "" for the events
};

bool LoadSplit(FileLoader& f, const YAML::Node& n, ExperimentDef* e) {
  YAML::Node split = n["split"];
  if (!split) {
    f.Error(n,
            "an experiment needs a 'split': each arm's share, e.g. {control: 0.9, treatment: 0.1}");
    return false;
  }
  if (!split.IsMap() || split.size() < 2) {
    f.Error(split,
            "'split' must map each arm (at least two) to its share, e.g. "
            "{control: 0.9, treatment: 0.1}");
    return false;
  }
  bool ok = true;
  double total = 0;
  for (const auto& kv : split) {
    std::optional<double> share =
        kv.second.IsScalar() ? ParseShare(kv.second.Scalar()) : std::nullopt;
    if (!share || !(*share > 0 && *share < 1)) {
      f.Error(kv.second, StrCat("the share of arm '", kv.first.Scalar(),
                                "' must be above 0 and below 1 (0.1 or 10%)"));
      ok = false;
      e->split.emplace_back(kv.first.Scalar(), 0);  // still an arm, for 'control'
      continue;
    }
    total += *share;
    e->split.emplace_back(kv.first.Scalar(), *share);
  }
  if (ok && std::abs(total - 1) > 1e-9) {
    f.Error(split, StrCat("the shares of 'split' add up to ", Number(total), ", not 1"));
    ok = false;
  }
  return ok;
}

bool LoadGuardrail(FileLoader& f, const YAML::Node& g, ExperimentMetricDef* m) {
  if (!g.IsMap()) {
    f.Error(g, "'guardrail' must be a mapping {max_regression: 10%}");
    return false;
  }
  f.CheckKeys(g, {"max_regression"}, "guardrail");
  std::optional<std::string> r = f.Scalar(g, "max_regression", true, "a guardrail");
  if (!r) return false;
  std::optional<double> v = ParseShare(*r);
  if (!v || *v < 0 || *v >= 1) {
    f.Error(g["max_regression"],
            "'max_regression' must be a share from 0 to below 100% of the control's value, e.g. "
            "10%");
    return false;
  }
  m->guardrail = true;
  m->max_regression = *v;
  return true;
}

// Checks `value:` where it stands (its position kept for errors) and reads
// its kind; the argument's text goes to *arg.
bool LoadValue(FileLoader& f, const YAML::Node& n, const Reads& reads, ExperimentMetricDef* m,
               std::string* arg) {
  std::optional<std::string> value = f.Scalar(n, "value", true, "an experiment metric");
  if (!value) return false;
  std::vector<AggregateCall> aggs;
  Program scratch;
  ValueScope scope(reads.fields, &aggs, ValueScope::Mode::kMetric, reads.stream);
  if (!CompileExpr(f, n["value"], &scope, Type::kNumber, &scratch)) return false;
  ExprParse p = ParseExpr(*value);
  const ExprNode* call = p.ok() ? p.node.get() : nullptr;
  const bool one_call = call != nullptr && call->op == ExprOp::kCall && aggs.size() == 1;
  const AggKind kind = aggs.empty() ? AggKind::kCount : aggs[0].kind;
  if (!one_call ||
      (kind != AggKind::kRatio && kind != AggKind::kAvg && kind != AggKind::kQuantile)) {
    f.Error(n["value"],
            "an experiment metric's value is one of ratio(CONDITION), avg(FIELD) or "
            "quantile(Q, FIELD)");
    return false;
  }
  m->value_source = Canonical(*value);
  m->kind = kind == AggKind::kRatio ? ExperimentMetricDef::Kind::kRatio
            : kind == AggKind::kAvg ? ExperimentMetricDef::Kind::kMean
                                    : ExperimentMetricDef::Kind::kQuantile;
  m->q = aggs[0].q;
  *arg = aggs[0].arg_source;
  return true;
}

// The synthesized input metric of an experiment metric.
YAML::Node InputNode(const YAML::Node& n, const ExperimentDef& e, const ExperimentMetricDef& m,
                     const std::string& arg, const std::string& window) {
  YAML::Node node(YAML::NodeType::Map);
  node["metric"] = StrCat("_experiment_", e.name, "_", m.name);
  if (n["from"]) node["from"] = n["from"];
  std::string where = StrCat(e.arm_path, " != null and ", e.unit_path, " != null");
  if (n["where"] && n["where"].IsScalar())
    where = StrCat("(", n["where"].Scalar(), ") and ", where);
  YAML::Node by(YAML::NodeType::Sequence);
  // By arm and unit: each unit is one observation (a quantile's too: its
  // share of values above the line).
  by.push_back(e.arm_path);
  by.push_back(e.unit_path);
  switch (m.kind) {
    case ExperimentMetricDef::Kind::kRatio:
      node["value"] = StrCat("count(", arg, ") / count()");
      break;
    case ExperimentMetricDef::Kind::kMean:
      where = StrCat("(", where, ") and ", arg, " != null");
      node["value"] = StrCat("sum(", arg, ") / count()");
      break;
    case ExperimentMetricDef::Kind::kQuantile:
      node["value"] = StrCat("quantile(", Number(m.q), ", ", arg, ")");
      break;
  }
  node["where"] = where;
  node["by"] = by;
  node["window"] = window;
  node["export"] = "true";
  node["limit"] = std::to_string(kDefaultSessionLimit);
  return node;
}

bool LoadExperimentMetric(FileLoader& f, const YAML::Node& n, ExperimentDef* e, double min_effect,
                          const std::string& window, RuleSet* rules) {
  if (!n.IsMap()) {
    f.Error(n, "each experiment metric is a mapping {name, value, goal: increase|decrease}");
    return false;
  }
  f.CheckKeys(n, kExperimentMetricKeys, "experiment metric");
  ExperimentMetricDef m;
  std::optional<std::string> name = f.Scalar(n, "name", true, "an experiment metric");
  if (!name) return false;
  m.name = *name;
  m.pos = f.PosOf(n["name"]);
  if (!ValidLabelName(m.name) || m.name[0] == '_') {
    f.Error(n["name"], StrCat("experiment metric name '", m.name,
                              "' must be letters, digits and '_', starting with a letter"));
    return false;
  }
  for (const ExperimentMetricDef& other : e->metrics) {
    if (other.name == m.name) {
      f.Error(n["name"], StrCat("experiment metric '", m.name, "' is already defined at ",
                                other.pos.file, ":", other.pos.line, ":", other.pos.col));
      return false;
    }
  }
  Reads reads{&rules->fields, ""};
  if (std::optional<std::string> from = f.Scalar(n, "from", false, "an experiment metric")) {
    std::optional<int> idx = rules->FindStream(*from);
    if (!idx && rules->failed_streams.contains(*from)) return false;  // reported at the stream
    if (!idx) {
      f.Error(n["from"],
              StrCat("unknown stream '", *from, "'; define it under 'streams:' or 'joins:'"));
      return false;
    }
    StreamDef& s = rules->streams[*idx];
    reads = {&s.fields, *from};
    for (const std::string& path : {e->arm_path, e->unit_path}) {
      if (!s.fields.Find(path)) {
        f.Error(n["from"],
                StrCat("the records of '", *from, "' have no field '", path,
                       "', which experiment '", e->name, "' needs (its ",
                       path == e->arm_path ? "arm" : "unit", "); emit it in '", *from, "'"));
        return false;
      }
    }
  }
  bool ok = true;
  if (n["where"] && f.Scalar(n, "where", false, "an experiment metric")) {
    Program scratch;
    if (reads.stream.empty()) {
      EventScope scope(reads.fields);
      ok &= CompileExpr(f, n["where"], &scope, Type::kBool, &scratch);
    } else {
      StreamScope scope(reads.fields, reads.stream);
      ok &= CompileExpr(f, n["where"], &scope, Type::kBool, &scratch);
    }
  }
  std::string arg;
  ok &= LoadValue(f, n, reads, &m, &arg);
  if (std::optional<std::string> goal = f.Scalar(n, "goal", false, "an experiment metric")) {
    if (*goal == "increase") {
      m.goal = ExperimentMetricDef::Goal::kIncrease;
    } else if (*goal == "decrease") {
      m.goal = ExperimentMetricDef::Goal::kDecrease;
    } else {
      f.Error(n["goal"], "'goal' must be increase or decrease (which way is better)");
      ok = false;
    }
  }
  if (YAML::Node g = n["guardrail"]) ok &= LoadGuardrail(f, g, &m);
  if (ok && m.goal == ExperimentMetricDef::Goal::kNone && !m.guardrail) {
    f.Error(n, StrCat("experiment metric '", m.name,
                      "' needs a 'goal' (increase or decrease) or a 'guardrail'"));
    ok = false;
  }
  m.min_effect = min_effect;
  if (std::optional<std::string> me = f.Scalar(n, "min_effect", false, "an experiment metric")) {
    std::optional<double> v = ParseShare(*me);
    if (!v || !(*v > 0)) {
      f.Error(n["min_effect"], "'min_effect' must be a number above 0");
      ok = false;
    } else {
      m.min_effect = *v;
    }
  } else if (ok && m.kind == ExperimentMetricDef::Kind::kMean) {
    f.Error(n, StrCat("experiment metric '", m.name,
                      "' averages a field, so it needs its own 'min_effect': the smallest "
                      "difference worth detecting, in the field's unit"));
    ok = false;
  }
  if (!ok) return false;
  m.input = AddInput(f, InputNode(n, *e, m, arg, window), m.pos, rules);
  if (m.input < 0) return false;
  e->metrics.push_back(std::move(m));
  return true;
}

bool LoadArmAndUnit(FileLoader& f, const YAML::Node& n, ExperimentDef* e, RuleSet* rules) {
  bool ok = true;
  for (const char* key : {"arm", "unit"}) {
    std::optional<std::string> path =
        f.Scalar(n, key, std::string_view(key) == "arm", "an experiment");
    if (!path && std::string_view(key) == "arm") {
      ok = false;
      continue;
    }
    const std::string text = path ? *path : "session_id";
    ExprParse p = ParseExpr(text);
    if (!p.ok() || p.node->op != ExprOp::kName) {
      f.Error(n[key], StrCat("'", text, "' is not a field path (e.g. variant, meta.arm)"));
      ok = false;
      continue;
    }
    if (std::optional<std::string> undeclared = rules->fields.Undeclared(text)) {
      f.Error(n[key] ? n[key] : n, *undeclared);
      ok = false;
      continue;
    }
    (std::string_view(key) == "arm" ? e->arm_path : e->unit_path) = text;
    (std::string_view(key) == "arm" ? e->arm : e->unit) = Label(text);
  }
  if (ok && e->unit_path == e->arm_path) {
    f.Error(n["unit"] ? n["unit"] : n,
            StrCat("the unit '", e->unit_path,
                   "' is the arm's field; the unit is what is assigned an arm, e.g. user_id or "
                   "session_id"));
    ok = false;
  }
  return ok;
}

// The experiment's name: valid and not taken. False after an error.
bool LoadExperimentName(FileLoader& f, const YAML::Node& n, const RuleSet& rules,
                        ExperimentDef* e) {
  std::optional<std::string> name = f.Scalar(n, "experiment", true, "an experiment");
  if (!name) return false;
  e->name = *name;
  e->pos = f.PosOf(n["experiment"]);
  if (!ValidLabelName(e->name)) {
    f.Error(n["experiment"], StrCat("experiment name '", e->name,
                                    "' must be letters, digits and '_' (not starting with a "
                                    "digit)"));
    return false;
  }
  for (const ExperimentDef& other : rules.experiments) {
    if (other.name == e->name) {
      f.Error(n["experiment"], StrCat("experiment '", e->name, "' is already defined at ",
                                      other.pos.file, ":", other.pos.line, ":", other.pos.col));
      return false;
    }
  }
  return true;
}

// 'control': one arm of the split, put first. False after an error.
bool LoadControl(FileLoader& f, const YAML::Node& n, ExperimentDef* e) {
  std::optional<std::string> control = f.Scalar(n, "control", true, "an experiment");
  if (!control) return false;
  auto it = std::find_if(e->split.begin(), e->split.end(),
                         [&](const auto& arm) { return arm.first == *control; });
  if (it == e->split.end()) {
    if (!e->split.empty()) {
      f.Error(n["control"], StrCat("the control arm '", *control, "' is not in 'split'"));
    }
    return false;
  }
  std::rotate(e->split.begin(), it, it + 1);  // the control first
  return true;
}

// 'alpha', 'min_effect' (the metrics' default) and 'window' (as the
// metrics' window text). False after an error.
bool LoadTestSettings(FileLoader& f, const YAML::Node& n, ExperimentDef* e, double* min_effect,
                      std::string* window) {
  bool ok = true;
  if (std::optional<std::string> a = f.Scalar(n, "alpha", false, "an experiment")) {
    std::optional<double> v = ParseShare(*a);
    if (!v || !(*v > 0 && *v < 0.5)) {
      f.Error(n["alpha"], "'alpha' must be above 0 and below 0.5 (the error rate, e.g. 0.05)");
      ok = false;
    } else {
      e->alpha = *v;
    }
  }
  if (std::optional<std::string> me = f.Scalar(n, "min_effect", false, "an experiment")) {
    std::optional<double> v = ParseShare(*me);
    if (!v || !(*v > 0)) {
      f.Error(n["min_effect"], "'min_effect' must be a number above 0 (e.g. 0.02: two points)");
      ok = false;
    } else {
      *min_effect = *v;
    }
  }
  if (std::optional<std::string> w = f.Scalar(n, "window", false, "an experiment")) {
    // A duration alone is a tumbling window.
    if (ParseDuration(*w)) *w = StrCat("tumbling ", *w);
    absl::StatusOr<WindowSpec> spec = WindowSpec::Parse(*w);
    if (!spec.ok() || spec->kind() == WindowSpec::Kind::kSliding || w->rfind("session", 0) == 0) {
      f.Error(n["window"], StrCat("'", *w,
                                  "' is not a tumbling or calendar window (how often the "
                                  "experiment is evaluated, e.g. 1h or calendar day)"));
      ok = false;
    } else {
      e->window = *spec;
      *window = *w;
    }
  }
  return ok;
}

// The hidden metric that counts each arm's units in each window.
int AddUnitsInput(FileLoader& f, const ExperimentDef& e, const std::string& window,
                  RuleSet* rules) {
  YAML::Node units(YAML::NodeType::Map);
  units["metric"] = StrCat("_experiment_", e.name, "__units");
  units["where"] = StrCat(e.arm_path, " != null and ", e.unit_path, " != null");
  YAML::Node by(YAML::NodeType::Sequence);
  by.push_back(e.arm_path);
  by.push_back(e.unit_path);
  units["by"] = by;
  units["window"] = window;
  units["value"] = "count()";
  units["export"] = "true";
  units["limit"] = std::to_string(kDefaultSessionLimit);
  return AddInput(f, units, e.pos, rules);
}

// What a reload compares: an experiment keeps its state while this is equal.
std::string Fingerprint(const ExperimentDef& e, const RuleSet& rules) {
  std::vector<std::string> parts = {e.name, e.arm_path, e.unit_path, e.window.ToString(),
                                    Number(e.alpha)};
  for (const auto& [arm, share] : e.split) parts.push_back(StrCat(arm, "=", Number(share)));
  for (const ExperimentMetricDef& m : e.metrics) {
    parts.push_back(StrCat(m.name, ":", rules.metrics[m.input].fingerprint, ":",
                           static_cast<int>(m.goal), ":", Number(m.max_regression), ":",
                           m.guardrail ? "g" : "", ":", Number(m.min_effect)));
  }
  return StrJoin(parts, "|");
}

std::string StateFingerprint(const ExperimentDef& e, const RuleSet& rules) {
  std::vector<std::string> parts = {e.name, e.arm_path, e.unit_path, e.window.ToString()};
  for (const auto& [arm, share] : e.split) parts.push_back(arm);
  for (const ExperimentMetricDef& m : e.metrics) {
    parts.push_back(StrCat(m.name, ":", rules.metrics[m.input].fingerprint));
  }
  return StrJoin(parts, "|");
}

}  // namespace

void LoadExperiment(FileLoader& f, const YAML::Node& n, RuleSet* rules) {
  if (!n.IsMap()) {
    f.Error(n,
            "each entry of 'experiments' must be a mapping with 'experiment', 'arm', "
            "'control', 'split' and 'metrics'");
    return;
  }
  f.CheckKeys(n, kExperimentKeys, "experiment");
  ExperimentDef e;
  if (!LoadExperimentName(f, n, *rules, &e)) return;
  bool ok = LoadArmAndUnit(f, n, &e, rules);
  ok &= LoadSplit(f, n, &e);
  ok &= LoadControl(f, n, &e);
  double min_effect = 0.02;
  std::string window = "tumbling 1h";
  ok &= LoadTestSettings(f, n, &e, &min_effect, &window);
  YAML::Node metrics = n["metrics"];
  if (!metrics || !metrics.IsSequence() || metrics.size() == 0) {
    f.Error(metrics ? metrics : n, "an experiment needs 'metrics': a list of what it compares");
    ok = false;
  }
  if (!ok) return;
  ok &= AddOutputs(f, n["experiment"], e, rules);
  e.units_input = AddUnitsInput(f, e, window, rules);
  ok &= e.units_input >= 0;
  for (const auto& item : metrics) {
    ok &= LoadExperimentMetric(f, item, &e, min_effect, window, rules);
  }
  if (!ok) return;
  e.fingerprint = Fingerprint(e, *rules);
  e.state_fingerprint = StateFingerprint(e, *rules);
  rules->experiments.push_back(std::move(e));
}

std::string_view ExperimentDecisionName(ExperimentDecision d) {
  switch (d) {
    case ExperimentDecision::kControlWins:
      return "control_wins";
    case ExperimentDecision::kTreatmentWins:
      return "treatment_wins";
    case ExperimentDecision::kGuardrailBreached:
      return "guardrail_breached";
    case ExperimentDecision::kNoDifferenceYet:
      break;
  }
  return "no_difference_yet";
}

}  // namespace vigil
