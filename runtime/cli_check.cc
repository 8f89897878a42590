// `vigil check`: rule files' errors with their positions, then the lint's
// warnings, as text or JSON. `vigil test`: rule unit tests, as text or JSON.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "base/strings.h"
#include "rules/lint.h"
#include "rules/rule_set.h"
#include "runtime/cli_args.h"
#include "runtime/rule_test.h"

namespace vigil::cli {

int Check(int argc, char** argv) {
  Args a(argc, argv, 2);
  std::vector<std::string> files;
  bool json = false, strict = false;
  std::string err, v;
  while (!a.Done()) {
    if (a.Value("--output", &v, &err)) {
      if (v != "text" && v != "json") return Usage("--output must be text or json");
      json = v == "json";
    } else if (a.Flag("--strict")) {
      strict = true;
    } else if (a.Peek().rfind("--", 0) == 0) {
      return Usage(a.Unknown("check"));
    } else {
      files.push_back(a.Take());
    }
    if (!err.empty()) return Usage(a.Error(err));
  }
  if (files.empty()) return Usage("check needs at least one rule file");
  RuleLoadResult r = LoadRuleFiles(files);
  std::vector<Diagnostic> all = r.errors;
  if (r.ok()) all = LintRules(*r.rules);
  const size_t warnings = r.ok() ? all.size() : 0;
  if (json) {
    std::string out = "[";
    for (size_t i = 0; i < all.size(); ++i) {
      const Diagnostic& d = all[i];
      if (i) out += ",";
      out += "{\"file\":";
      AppendJsonString(d.pos.file, &out);
      StrAppend(&out, ",\"line\":", d.pos.line, ",\"col\":", d.pos.col, ",\"severity\":\"",
                d.warning ? "warning" : "error", "\",\"message\":");
      AppendJsonString(d.message, &out);
      out += "}";
    }
    out += "]";
    std::puts(out.c_str());
  } else {
    for (const Diagnostic& d : all) std::fprintf(stderr, "%s\n", d.ToString().c_str());
    if (r.ok()) {
      const size_t joins = static_cast<size_t>(
          std::count_if(r.rules->streams.begin(), r.rules->streams.end(),
                        [](const StreamDef& s) { return s.kind == StreamKind::kJoin; }));
      const size_t streams = r.rules->streams.size() - joins;
      auto some = [](size_t n, const char* what) {
        return n == 0 ? std::string() : StrCat(n, " ", what, n == 1 ? ", " : "s, ");
      };
      const size_t outputs = r.rules->outputs.size();
      // An experiment's inputs are its own business; its outputs are metrics.
      const size_t metrics = r.rules->VisibleMetricCount();
      // With --strict a warning fails the check: never "ok" then.
      std::printf(
          "%s: %s (%s%s%s%s%zu metrics, %zu alerts, %s%zu warning%s)\n",
          StrJoin(files, ", ").c_str(), strict && warnings > 0 ? "FAILED with --strict" : "ok",
          some(streams, "stream").c_str(), some(joins, "join").c_str(),
          some(r.rules->slos.size(), "SLO").c_str(),
          some(r.rules->experiments.size(), "experiment").c_str(), metrics, r.rules->alerts.size(),
          some(outputs, "output").c_str(), warnings, warnings == 1 ? "" : "s");
    } else {
      std::fprintf(stderr, "%zu error%s\n", r.errors.size(), r.errors.size() == 1 ? "" : "s");
    }
  }
  if (!r.ok()) return 1;
  return strict && warnings > 0 ? 1 : 0;
}

int Test(int argc, char** argv) {
  Args a(argc, argv, 2);
  std::vector<std::string> files;
  bool json = false;
  std::string err, v;
  while (!a.Done()) {
    if (a.Value("--output", &v, &err)) {
      if (v != "text" && v != "json") return Usage("--output must be text or json");
      json = v == "json";
    } else if (a.Peek().rfind("--", 0) == 0) {
      return Usage(a.Unknown("test"));
    } else {
      files.push_back(a.Take());
    }
    if (!err.empty()) return Usage(a.Error(err));
  }
  if (files.empty()) return Usage("test needs at least one test file");
  const RuleTestReport r = RunRuleTests(files);
  if (json) {
    std::puts(r.ToJson().c_str());
  } else {
    std::fputs(r.text.c_str(), stdout);
    std::printf("%d passed, %d failed\n", r.passed, r.failed);
  }
  return r.failed == 0 && r.passed > 0 ? 0 : 1;
}

}  // namespace vigil::cli
