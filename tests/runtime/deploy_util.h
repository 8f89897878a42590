// tests/runtime/deploy_util.h
//
// Helpers of the deploy/ checks (deploy_*_test.cc): loading the manifests,
// the Dockerfile, the systemd unit, the dashboard and the alert rules.
#ifndef VIGIL_TESTS_RUNTIME_DEPLOY_UTIL_H_
#define VIGIL_TESTS_RUNTIME_DEPLOY_UTIL_H_

#include <signal.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "rules/rule_set.h"
#include "runtime/dev_broker.h"
#include "runtime/job_config.h"
#include "simdjson.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil::deploy_test {

const std::string kSource = VIGIL_SOURCE_DIR;
const std::string kVigil = VIGIL_BINARY;
const std::string kDeploy = kSource + "/deploy/";

inline std::string Temp(const std::string& name) { return TempPath("deploy_", name); }

// Every document of every .yaml/.yml file directly in `dir`, by file name.
inline std::map<std::string, std::vector<YAML::Node>> LoadYamlDir(const std::string& dir) {
  std::map<std::string, std::vector<YAML::Node>> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string ext = e.path().extension().string();
    if (ext != ".yaml" && ext != ".yml") continue;
    try {
      out[e.path().filename().string()] = YAML::LoadAllFromFile(e.path().string());
    } catch (const YAML::Exception& ex) {
      ADD_FAILURE() << e.path() << ": " << ex.what();
    }
  }
  return out;
}

// The Kubernetes object of `kind` (exactly one is expected).
inline YAML::Node K8s(const std::string& kind) {
  YAML::Node found;
  int n = 0;
  for (const auto& [file, docs] : LoadYamlDir(kDeploy + "kubernetes")) {
    for (const YAML::Node& d : docs) {
      if (d["kind"] && d["kind"].as<std::string>() == kind) {
        found = d;
        ++n;
      }
    }
  }
  EXPECT_EQ(n, 1) << "Kubernetes objects of kind " << kind;
  return found;
}

// The Kubernetes object of `kind` named `name`.
inline YAML::Node K8sNamed(const std::string& kind, const std::string& name) {
  for (const auto& [file, docs] : LoadYamlDir(kDeploy + "kubernetes")) {
    for (const YAML::Node& d : docs) {
      if (d["kind"] && d["kind"].as<std::string>() == kind &&
          d["metadata"]["name"].as<std::string>() == name) {
        return d;
      }
    }
  }
  ADD_FAILURE() << "no " << kind << " named " << name;
  return YAML::Node();
}

inline YAML::Node VigilContainer() {
  YAML::Node containers = K8s("StatefulSet")["spec"]["template"]["spec"]["containers"];
  for (const YAML::Node& c : containers) {
    if (c["name"].as<std::string>() == "vigil") return c;
  }
  ADD_FAILURE() << "no container named vigil in the StatefulSet";
  return YAML::Node();
}

inline std::vector<std::string> Strings(const YAML::Node& seq) {
  std::vector<std::string> out;
  for (const YAML::Node& n : seq) out.push_back(n.as<std::string>());
  return out;
}

inline std::string ConfigMapData(const std::string& key) {
  YAML::Node v = K8s("ConfigMap")["data"][key];
  EXPECT_TRUE(v) << "ConfigMap key " << key;
  return v ? v.as<std::string>() : "";
}

// label map `sub` is contained in `labels`.
inline bool Selects(const YAML::Node& sub, const YAML::Node& labels) {
  if (!sub || !sub.IsMap() || sub.size() == 0) return false;
  for (const auto& kv : sub) {
    const YAML::Node v = labels[kv.first.as<std::string>()];
    if (!v || v.as<std::string>() != kv.second.as<std::string>()) return false;
  }
  return true;
}

// Dockerfile instructions (continuation lines joined, comments dropped).
inline std::vector<std::pair<std::string, std::string>> DockerInstructions() {
  const std::string text =
      std::regex_replace(ReadFile(kDeploy + "Dockerfile"), std::regex("\\\\\\n"), " ");
  std::vector<std::pair<std::string, std::string>> out;
  for (const std::string& line : Lines(text)) {
    const size_t start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    const size_t space = line.find(' ', start);
    out.emplace_back(line.substr(start, space - start),
                     space == std::string::npos ? "" : line.substr(space + 1));
  }
  return out;
}

// The JSON-array form of a Dockerfile instruction.
inline std::vector<std::string> JsonArray(const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::dom::array array;
  std::vector<std::string> out;
  if (parser.parse(text).get(array)) {
    ADD_FAILURE() << "not a JSON array: " << text;
    return out;
  }
  for (simdjson::dom::element e : array) out.emplace_back(std::string_view(e.get_string()));
  return out;
}

// The value of every `Key=` line of the systemd unit (repeatable keys joined by '\n').
inline std::map<std::string, std::string> UnitKeys() {
  std::map<std::string, std::string> out;
  for (const std::string& line : Lines(ReadFile(kDeploy + "systemd/vigil.service"))) {
    if (line[0] == '#' || line[0] == '[') continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string& v = out[line.substr(0, eq)];
    if (!v.empty()) v += "\n";
    v += line.substr(eq + 1);
  }
  return out;
}

inline std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Each `vigil_...` name in a PromQL expression.
inline std::set<std::string> VigilNames(const std::string& expr) {
  std::set<std::string> out;
  static const std::regex name("\\bvigil_[a-zA-Z0-9_]+");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name); it != std::sregex_iterator();
       ++it) {
    out.insert(it->str());
  }
  return out;
}

inline std::vector<std::string> DashboardExprs() {
  simdjson::dom::parser parser;
  simdjson::dom::element dash;
  std::vector<std::string> out;
  if (parser.load(kDeploy + "grafana/vigil-dashboard.json").get(dash)) return out;
  for (simdjson::dom::element p : dash["panels"].get_array()) {
    simdjson::dom::array targets;
    if (p["targets"].get(targets)) continue;
    for (simdjson::dom::element t : targets) {
      std::string_view expr;
      if (!t["expr"].get(expr)) out.emplace_back(expr);
    }
  }
  return out;
}

inline std::vector<std::string> AlertRuleExprs() {
  std::vector<std::string> out;
  for (const YAML::Node& g : YAML::LoadFile(kDeploy + "prometheus/vigil-alerts.yml")["groups"]) {
    for (const YAML::Node& r : g["rules"]) out.push_back(r["expr"].as<std::string>());
  }
  return out;
}

// The metrics of the reference rules, those an SLO compiles to included.
// The reference rule metrics: name -> their name on /metrics.
inline std::map<std::string, std::string> RuleMetricNames() {
  std::map<std::string, std::string> out;
  RuleLoadResult r = LoadRuleFiles({kDeploy + "rules/chatbot.yaml", kDeploy + "rules/slos.yaml"});
  EXPECT_TRUE(r.ok());
  if (!r.ok()) return out;
  for (const MetricDef& m : r.rules->metrics) out[m.name] = ExportName(m.name, m.unit).name;
  return out;
}

// ---------------------------------------------------------------------------
// Kubernetes

}  // namespace vigil::deploy_test

#endif  // VIGIL_TESTS_RUNTIME_DEPLOY_UTIL_H_
