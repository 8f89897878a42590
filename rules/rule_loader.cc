// Loading rule files: the top level of each file, the sections in the
// order they depend on each other, and diagnostics. Each section has a
// loader of its own (metric_loader.cc, alert_loader.cc, stream_loader.cc,
// ...).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <optional>

#include "base/files.h"
#include "base/strings.h"
#include "rules/file_loader.h"
#include "rules/rule_set.h"
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

}  // namespace

namespace {

struct PendingSections {
  std::vector<Pending> schemas, streams, joins, metrics, slos, experiments, trackers, alerts,
      outputs, silences;
};

// Returns whether the file defines anything (or is no mapping: an error).
bool ReadTopLevel(FileLoader& f, const YAML::Node& doc, PendingSections* out) {
  if (!doc || doc.IsNull()) return false;
  if (!doc.IsMap()) {
    f.Error(doc, "a rule file is a mapping with 'metrics' and 'alerts'");
    return true;
  }
  bool defines = false;
  f.CheckKeys(doc, kTopKeys, "a rule file");
  if (YAML::Node schema = doc["schema"]; schema && !schema.IsNull()) {
    out->schemas.push_back({&f, schema});
    defines = true;
  }
  for (const char* key : {"streams", "joins", "metrics", "slos", "experiments", "trackers",
                          "alerts", "outputs", "silences"}) {
    YAML::Node list = doc[key];
    if (!list || list.IsNull()) continue;
    if (!list.IsSequence()) {
      f.Error(list, StrCat("'", key, "' must be a list"));
      defines = true;
      continue;
    }
    for (const auto& item : list) {
      defines = true;
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
  return defines;
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
    if (!ReadTopLevel(*files.back(), docs.back(), &pending)) {
      rules->empty_files.push_back(src.name);
    }
  }
  // An empty rule file is most likely one cut short (a deploy that
  // truncated it, a volume mounted empty): loading it would run, or at a
  // reload keep running, with no rules at all. Next to others, an empty
  // file is a placeholder (LintRules warns).
  // A file with errors (a misspelt section) has them said instead.
  if (!sources.empty() && rules->empty_files.size() == sources.size() && result.errors.empty()) {
    result.errors.push_back(
        {{sources[0].name, 1, 1},
         sources.size() == 1
             ? "the rule file defines no rules (it is empty, or has only comments or empty "
               "sections); vigil does not run without rules"
             : "every rule file is empty (no metric, alert, SLO or other rule in any of them); "
               "vigil does not run without rules",
         false});
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
  CheckExportedNames(*rules, &result.errors);
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
    NormalizeLineBreaks(&*text);
    sources.push_back({path, std::move(*text)});
  }
  if (!failed.errors.empty()) return failed;
  return LoadRuleSources(sources);
}

}  // namespace vigil
