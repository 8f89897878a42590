#include "runtime/rule_test.h"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "base/files.h"
#include "base/strings.h"
#include "rules/rule_set.h"
#include "rules/scopes.h"
#include "rules/yaml_errors.h"
#include "rules/yaml_keys.h"
#include "runtime/job.h"
#include "runtime/rule_test_input.h"

namespace vigil {
namespace {

namespace fs = std::filesystem;
using rule_test::At;
using rule_test::Bool;
using rule_test::BuildEvents;
using rule_test::CaseEvent;
using rule_test::CheckKeys;
using rule_test::DeadLettered;
using rule_test::Duration;
using rule_test::Number;
using rule_test::ReadLabels;
using rule_test::Required;
using rule_test::TestError;
using rule_test::Where;

struct ExpectedAlert {
  TimeMs at;
  std::string alert;
  std::string state;
  Labels labels;
  Labels annotations;
  std::optional<double> value;           // as fired
  std::optional<double> resolved_value;  // resolved: the value that resolved it
  std::optional<bool> notify;            // whether receivers get it
  std::optional<std::string> inhibited_by;
  std::optional<std::string> silenced_by;
  std::string where;  // FILE:LINE:COL of the expectation
};

struct ExpectedMetric {
  TimeMs at;
  std::string metric;
  Labels labels;
  double value;
  double tolerance;
  std::string where;  // FILE:LINE:COL of the expectation
};

// Records what a job produced.
class Recorder : public Sink {
 public:
  void OnWindow(const WindowResult& r) override { windows.push_back(r); }
  void OnAlert(const AlertNotice& n) override { alerts.push_back(n); }
  std::vector<WindowResult> windows;
  std::vector<AlertNotice> alerts;
};

// A transition as the diff prints it. The labels every transition has
// (alertname, severity) are left out, unless the test expects them
// (`expected`): they may be why it is missing.
std::string Describe(TimeMs at, TimeMs start, const std::string& state, const std::string& alert,
                     const Labels& labels, bool expected = false) {
  std::string s = StrCat("at ", FormatDuration(at - start), " ", state, " ", alert);
  std::string l;
  for (const auto& [k, v] : labels) {
    if (!expected && (k == "alertname" || k == "severity")) continue;
    if (!l.empty()) l += ",";
    AppendLabel(k, v, &l);
  }
  return l.empty() ? s : StrCat(s, " {", l, "}");
}

bool Subset(const Labels& want, const Labels& have) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

Labels Annotations(const AlertNotice& n) {
  Labels out;
  for (const auto& [k, v] : n.annotations) out[k] = v;
  return out;
}

void CompareValue(std::string_view what, std::optional<double> want, double got,
                  const AlertNotice& n, TimeMs start, const ExpectedAlert& e, std::string* diff) {
  if (!want || std::fabs(got - *want) <= 1e-9 * std::max(1.0, std::fabs(*want))) return;
  StrAppend(diff, "    ", what, " of ", Describe(n.at, start, e.state, e.alert, {}), ": got ", got,
            ", want ", *want, "  (", e.where, ")\n");
}

// An expectation that names an alert, metric or label the rule files do not
// define could never match: it is reported as such, with the closest name,
// instead of as "missing". Returns whether everything it names is defined.
bool Defined(std::string_view kind, const std::string& name, const std::vector<std::string>& known,
             const std::string& where, std::string* diff) {
  if (std::find(known.begin(), known.end(), name) != known.end()) return true;
  const std::string s = Suggest(name, known);
  StrAppend(diff, "    unknown ", kind, " '", name, "'",
            s.empty() ? std::string() : StrCat("; did you mean '", s, "'?"), "  (", where, ")\n");
  return false;
}

bool AlertDefined(const RuleSet& rules, const ExpectedAlert& e, std::string* diff) {
  std::vector<std::string> names;
  for (const AlertDef& a : rules.alerts) names.push_back(a.name);
  if (!Defined("alert", e.alert, names, e.where, diff)) return false;
  const AlertDef& a = *std::find_if(rules.alerts.begin(), rules.alerts.end(),
                                    [&](const AlertDef& d) { return d.name == e.alert; });
  std::vector<std::string> labels = a.group_labels;
  labels.push_back("alertname");
  labels.push_back("severity");
  for (const auto& [k, v] : a.labels) labels.push_back(k);
  bool ok = true;
  for (const auto& [k, v] : e.labels) {
    ok &= Defined(StrCat("label of alert ", e.alert, ":"), k, labels, e.where, diff);
  }
  return ok;
}

bool MetricDefined(const RuleSet& rules, const ExpectedMetric& e, std::string* diff) {
  std::vector<std::string> names;
  for (const MetricDef& m : rules.metrics) names.push_back(m.name);
  if (!Defined("metric", e.metric, names, e.where, diff)) return false;
  const MetricDef& m = rules.metrics[*rules.FindMetric(e.metric)];
  bool ok = true;
  for (const auto& [k, v] : e.labels) {
    ok &= Defined(StrCat("label of metric ", e.metric, ":"), k, m.by, e.where, diff);
  }
  return ok;
}

// Compares what happened with what was expected; appends diff lines.
void Compare(const RuleSet& rules, const Recorder& got, const std::vector<ExpectedAlert>& alerts,
             const std::vector<ExpectedMetric>& metrics, TimeMs start, std::string* diff) {
  std::vector<bool> matched(got.alerts.size(), false);
  for (const ExpectedAlert& e : alerts) {
    if (!AlertDefined(rules, e, diff)) continue;
    bool found = false;
    for (size_t i = 0; i < got.alerts.size() && !found; ++i) {
      const AlertNotice& n = got.alerts[i];
      if (matched[i] || n.at != e.at || n.def->name != e.alert ||
          TransitionName(n.transition) != e.state || !Subset(e.labels, n.labels)) {
        continue;
      }
      found = matched[i] = true;
      auto compare_text = [&](std::string_view what, const std::optional<std::string>& want,
                              const std::string& got) {
        if (want && *want != got) {
          StrAppend(diff, "    ", what, " of ", Describe(n.at, start, e.state, e.alert, {}),
                    ": got \"", got, "\", want \"", *want, "\"  (", e.where, ")\n");
        }
      };
      if (e.notify && *e.notify != n.notify) {
        StrAppend(diff, "    notify of ", Describe(n.at, start, e.state, e.alert, {}), ": got ",
                  n.notify ? "true" : "false", ", want ", *e.notify ? "true" : "false", "  (",
                  e.where, ")\n");
      }
      compare_text("inhibited_by", e.inhibited_by, n.inhibited_by);
      compare_text("silenced_by", e.silenced_by, n.silenced_by);
      CompareValue("value", e.value, n.value, n, start, e, diff);
      if (e.resolved_value && !n.resolved_value) {
        StrAppend(
            diff, "    resolved_value of ", Describe(n.at, start, e.state, e.alert, {}),
            ": it has none (only a resolution by a value has one: not a ",
            e.state == "resolved" ? "resolution for want of data" : StrCat(e.state, " transition"),
            "), want ", *e.resolved_value, "  (", e.where, ")\n");
      } else if (e.resolved_value) {
        CompareValue("resolved_value", e.resolved_value, *n.resolved_value, n, start, e, diff);
      }
      for (const auto& [k, v] : e.annotations) {
        const Labels ann = Annotations(n);
        auto it = ann.find(k);
        if (it == ann.end() || it->second != v) {
          StrAppend(diff, "    annotation ", k, " of ", Describe(n.at, start, e.state, e.alert, {}),
                    it == ann.end() ? ": it has none" : StrCat(": got \"", it->second, "\""),
                    ", want \"", v, "\"  (", e.where, ")\n");
        }
      }
    }
    if (!found) {
      StrAppend(diff, "    missing:    ", Describe(e.at, start, e.state, e.alert, e.labels, true),
                "  (", e.where, ")\n");
    }
  }
  for (size_t i = 0; i < got.alerts.size(); ++i) {
    const AlertNotice& n = got.alerts[i];
    if (matched[i] ||
        (n.transition != Transition::kFiring && n.transition != Transition::kResolved)) {
      continue;
    }
    StrAppend(
        diff, "    unexpected: ",
        Describe(n.at, start, std::string(TransitionName(n.transition)), n.def->name, n.labels),
        "\n");
  }
  for (const ExpectedMetric& e : metrics) {
    if (!MetricDefined(rules, e, diff)) continue;
    std::vector<const WindowResult*> hits;
    for (const WindowResult& r : got.windows) {
      Labels labels;
      for (size_t i = 0; i < r.labels.size(); ++i) labels[r.def->by[i]] = r.labels[i];
      if (r.end == e.at && r.def->name == e.metric && Subset(e.labels, labels)) hits.push_back(&r);
    }
    // The series that have a window there, as {label="value",...}.
    auto series_there = [&](bool with_values) {
      std::vector<std::string> there;
      for (const WindowResult& r : got.windows) {
        if (r.end != e.at || r.def->name != e.metric || r.labels.empty()) continue;
        std::string l;
        for (size_t i = 0; i < r.labels.size(); ++i) {
          if (i > 0) l += ",";
          AppendLabel(r.def->by[i], r.labels[i], &l);
        }
        there.push_back(StrCat("{", l, "}", with_values ? StrCat(" ", r.value) : std::string()));
      }
      return StrJoin(there, with_values ? ", " : " ");
    };
    std::string want;
    for (const auto& [k, v] : e.labels) {
      if (!want.empty()) want += ",";
      AppendLabel(k, v, &want);
    }
    const std::string series = StrCat(e.metric, want.empty() ? "" : StrCat("{", want, "}"));
    const WindowResult* hit = hits.size() == 1 ? hits[0] : nullptr;
    if (hits.empty()) {
      const std::string there = series_there(false);
      StrAppend(diff, "    metric ", series, " has no window ending at ",
                FormatDuration(e.at - start),
                there.empty() ? std::string() : StrCat(" (series there: ", there, ")"), "  (",
                e.where, ")\n");
    } else if (hits.size() > 1) {
      // Which one was meant is not for the test to guess.
      StrAppend(diff, "    metric ", series, " at ", FormatDuration(e.at - start), ": ",
                hits.size(), " series match (", series_there(true),
                "): list the labels that tell them apart  (", e.where, ")\n");
    } else if (std::fabs(hit->value - e.value) > e.tolerance * std::fabs(e.value)) {
      StrAppend(diff, "    metric ", e.metric, " at ", FormatDuration(e.at - start), ": got ",
                hit->value, ", want ", e.value,
                e.tolerance > 0 ? StrCat(" ± ", e.tolerance * 100, "%") : std::string(), "  (",
                e.where, ")\n");
    }
  }
}

std::vector<ExpectedAlert> ReadExpectedAlerts(const YAML::Node& list, std::string_view file,
                                              TimeMs start) {
  std::vector<ExpectedAlert> alerts;
  for (const auto& e : list) {
    CheckKeys(e,
              {"at", "alert", "state", "labels", "annotations", "value", "resolved_value", "notify",
               "inhibited_by", "silenced_by"},
              "an expected alert");
    auto number = [&](const char* key) {
      return e[key] ? std::optional<double>(Number(e[key])) : std::nullopt;
    };
    auto text = [&](const char* key) {
      return e[key] ? std::optional<std::string>(e[key].Scalar()) : std::nullopt;
    };
    const std::string state = e["state"] ? e["state"].Scalar() : "firing";
    if (state != "pending" && state != "firing" && state != "resolved" && state != "inactive") {
      throw TestError(e["state"], StrCat("state '", state,
                                         "' is not one of pending, firing, resolved, inactive"));
    }
    alerts.push_back({At(Required(e, "at", "an expected alert", e["at"]), start),
                      Required(e, "alert", "an expected alert", e["alert"]).Scalar(), state,
                      ReadLabels(e["labels"]), ReadLabels(e["annotations"]), number("value"),
                      number("resolved_value"),
                      e["notify"] ? std::optional<bool>(Bool(e["notify"])) : std::nullopt,
                      text("inhibited_by"), text("silenced_by"), Where(file, e)});
  }
  return alerts;
}

std::vector<ExpectedMetric> ReadExpectedMetrics(const YAML::Node& list, std::string_view file,
                                                TimeMs start) {
  std::vector<ExpectedMetric> metrics;
  for (const auto& e : list) {
    CheckKeys(e, {"at", "metric", "labels", "value", "tolerance"}, "an expected metric");
    if (e["tolerance"] && !(Number(e["tolerance"]) >= 0)) {
      throw TestError(e["tolerance"], "tolerance must be 0 or more (a share: 0.01 is 1%)");
    }
    metrics.push_back({At(Required(e, "at", "an expected metric", e["at"]), start),
                       Required(e, "metric", "an expected metric", e["metric"]).Scalar(),
                       ReadLabels(e["labels"]),
                       Number(Required(e, "value", "an expected metric", e["value"])),
                       e["tolerance"] ? Number(e["tolerance"]) : 0, Where(file, e)});
  }
  return metrics;
}

// Runs one test case; returns the diff ("" when it passes).
// What a case's run found: the differences (empty: it passed) and the
// events the job refused.
struct CaseOutcome {
  std::string diff;
  std::vector<std::string> dead;
};

CaseOutcome RunCase(const YAML::Node& test, const std::string& file,
                    const std::vector<std::string>& rule_files, const YAML::Node& options) {
  TimeMs start = 0;
  if (YAML::Node s = test["start"]) {
    std::optional<TimeMs> t = ParseRfc3339(s.Scalar());
    if (!t) throw TestError(s, "start must be RFC 3339");
    start = *t;
  }
  CheckKeys(test, {"name", "start", "events", "series", "until", "expect_alerts", "expect_metrics"},
            "a test case");
  TimeMs last = kMaxTime;
  const DurationMs out_of_orderness =
      options["max_out_of_orderness"] ? Duration(options["max_out_of_orderness"]) : 0;
  const std::vector<CaseEvent> events = BuildEvents(test, file, start, out_of_orderness > 0, &last);
  // Read before the run: a mistake in them is reported without running.
  const std::vector<ExpectedAlert> alerts = ReadExpectedAlerts(test["expect_alerts"], file, start);
  const std::vector<ExpectedMetric> metrics =
      ReadExpectedMetrics(test["expect_metrics"], file, start);
  const std::string path =
      StrCat(fs::temp_directory_path().string(), "/vigil-test-", ::getpid(), ".ndjson");
  const std::string dead_path = path + ".dead";
  {
    std::ofstream out(path);
    for (const CaseEvent& e : events) out << e.line << "\n";
  }
  JobConfig config = DefaultJobConfig();
  config.source.kind = SourceKind::kFile;
  config.source.paths = {path};
  config.rule_files = rule_files;
  config.outputs.console = false;
  config.outputs.note_unwritten_records = false;
  config.outputs.dead_letter_path = dead_path;
  config.http_listen = "";
  config.progress = false;
  config.event_time.max_out_of_orderness = out_of_orderness;
  // What annotation templates read as $externalLabels and $externalURL: the
  // job file's notify.labels and notify.external_url.
  if (options["external_labels"]) config.notify.labels = ReadLabels(options["external_labels"]);
  if (YAML::Node url = options["external_url"]) {
    if (!url.IsScalar()) throw TestError(url, "external_url must be a URL");
    config.notify.external_url = url.Scalar();
  }
  config.event_time.input_end = last;
  absl::StatusOr<std::unique_ptr<Job>> job = Job::Create(config);
  if (!job.ok()) {
    fs::remove(path);
    throw std::runtime_error(std::string(job.status().message()));
  }
  auto recorder = std::make_unique<Recorder>();
  Recorder* got = recorder.get();
  (*job)->AddSink(std::move(recorder));
  (*job)->Run();
  fs::remove(path);
  const std::vector<std::string> dead = DeadLettered(dead_path, events, start);
  fs::remove(dead_path);

  CaseOutcome outcome{"", dead};
  Compare((*job)->rules(), *got, alerts, metrics, start, &outcome.diff);
  return outcome;
}

// Appends a case's outcome to the report and its text.
void Add(RuleTestReport* report, RuleTestCase c) {
  if (c.name.empty()) {  // the file failed as a whole
    StrAppend(&report->text, "FAIL ", c.messages[0], "\n");
    for (size_t i = 1; i < c.messages.size(); ++i) {
      StrAppend(&report->text, "    ", c.messages[i], "\n");
    }
  } else {
    StrAppend(&report->text, c.passed ? "PASS " : "FAIL ", c.name, "  (", c.file, ":", c.line,
              ")\n");
    for (const std::string& m : c.messages) StrAppend(&report->text, "    ", m, "\n");
  }
  ++(c.passed ? report->passed : report->failed);
  report->cases.push_back(std::move(c));
}

void FileFailed(RuleTestReport* report, const std::string& file, std::string message,
                const std::vector<std::string>& details = {}) {
  // The line of a "FILE:LINE:COL: ..." message, for --output json.
  int line = 0;
  if (message.rfind(file + ":", 0) == 0) {
    const std::string_view rest = std::string_view(message).substr(file.size() + 1);
    std::from_chars(rest.data(), rest.data() + rest.size(), line);
  }
  RuleTestCase c{file, "", line, false, {std::move(message)}};
  c.messages.insert(c.messages.end(), details.begin(), details.end());
  Add(report, std::move(c));
}

void RunFile(const std::string& file, RuleTestReport* report) {
  absl::StatusOr<std::string> text = ReadWholeFile(file);
  if (!text.ok()) {
    FileFailed(report, file,
               StrCat(file, ": cannot read the test file: ", std::string(text.status().message())));
    return;
  }
  NormalizeLineBreaks(&*text);
  YAML::Node root;
  std::string second;
  try {
    root = LoadOneDocument(file, *text, &second);
  } catch (const YAML::ParserException& e) {
    FileFailed(report, file, YamlErrorLine(file, e, *text));
    return;
  }
  if (!second.empty()) {
    FileFailed(report, file, second);
    return;
  }
  if (absl::Status s = DuplicateKeysError(file, root); !s.ok()) {
    FileFailed(report, file, std::string(s.message()));
    return;
  }
  try {
    if (root.IsMap()) CheckKeys(root, {"rule_files", "options", "tests"}, "a rule test file");
    if (root["options"]) {
      CheckKeys(root["options"], {"max_out_of_orderness", "external_labels", "external_url"},
                "options");
    }
  } catch (const TestError& e) {
    FileFailed(report, file, StrCat(file, ":", e.what()));
    return;
  }
  std::vector<std::string> rule_files;
  const fs::path dir = fs::path(file).parent_path();
  for (const auto& r : root["rule_files"]) rule_files.push_back((dir / r.Scalar()).string());
  if (rule_files.empty()) {
    FileFailed(report, file, StrCat(file, ": no rule_files"));
    return;
  }
  // The rule files' errors once for the file, not once per case.
  if (RuleLoadResult loaded = LoadRuleFiles(rule_files); !loaded.ok()) {
    const YAML::Mark at = root["rule_files"].Mark();
    std::vector<std::string> errors;
    for (const Diagnostic& d : loaded.errors) errors.push_back(d.ToString());
    FileFailed(report, file,
               StrCat(file, ":", at.line + 1, ":", at.column + 1, ": the rule files have errors:"),
               errors);
    return;
  }
  if (!root["tests"] || !root["tests"].IsSequence() || root["tests"].size() == 0) {
    const YAML::Node at = root["tests"] ? root["tests"] : root;
    FileFailed(report, file,
               StrCat(file, ":", at.Mark().line + 1, ":", at.Mark().column + 1,
                      ": no test cases: 'tests' must list at least one, e.g. [{name: quiet, "
                      "events: [{at: 5s, type: message}]}]"));
    return;
  }
  for (const auto& test : root["tests"]) {
    RuleTestCase c{
        file, test["name"] ? test["name"].Scalar() : "(unnamed)", test.Mark().line + 1, false, {}};
    try {
      const CaseOutcome outcome = RunCase(test, file, rule_files, root["options"]);
      for (std::string_view line : StrSplit(outcome.diff, '\n')) {
        line.remove_prefix(std::min(line.find_first_not_of(' '), line.size()));
        if (!line.empty()) c.messages.emplace_back(line);
      }
      c.passed = c.messages.empty();
      // Events the job refused explain what is missing, and a case that
      // passes says so too: it did not test what those events hold.
      if (c.passed && !outcome.dead.empty()) {
        c.messages.push_back(StrCat("note: ", outcome.dead.size(), " of the case's events ",
                                    outcome.dead.size() == 1 ? "was" : "were",
                                    " refused; the case passed without ",
                                    outcome.dead.size() == 1 ? "it" : "them"));
      }
      c.messages.insert(c.messages.end(), outcome.dead.begin(), outcome.dead.end());
    } catch (const TestError& e) {
      c.messages.push_back(StrCat(file, ":", e.what()));
    } catch (const std::exception& e) {
      c.messages.emplace_back(e.what());
    }
    Add(report, std::move(c));
  }
}

}  // namespace

RuleTestReport RunRuleTests(const std::vector<std::string>& files) {
  RuleTestReport report;
  for (const std::string& f : files) RunFile(f, &report);
  return report;
}

std::string RuleTestReport::ToJson() const {
  std::string out = StrCat("{\"passed\":", passed, ",\"failed\":", failed, ",\"cases\":[");
  for (size_t i = 0; i < cases.size(); ++i) {
    const RuleTestCase& c = cases[i];
    if (i > 0) out += ",";
    out += "{\"file\":";
    AppendJsonString(c.file, &out);
    out += ",\"name\":";
    if (c.name.empty()) {
      out += "null";
    } else {
      AppendJsonString(c.name, &out);
    }
    StrAppend(&out, ",\"line\":", c.line > 0 ? std::to_string(c.line) : "null",
              ",\"passed\":", c.passed ? "true" : "false", ",\"messages\":[");
    for (size_t j = 0; j < c.messages.size(); ++j) {
      if (j > 0) out += ",";
      AppendJsonString(c.messages[j], &out);
    }
    out += "]}";
  }
  return out + "]}";
}

}  // namespace vigil
