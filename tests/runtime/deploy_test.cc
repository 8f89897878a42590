// Checks of the deployment files under deploy/: the Kubernetes manifests,
// the Prometheus rules, the Grafana dashboard, the Dockerfile and the
// systemd unit. They are checked against the binary they deploy: flags
// against `vigil --help`, the job file against LoadJobConfig, probe paths,
// port and metric names against a job started with the StatefulSet's own
// arguments and the ConfigMap's job file (pointed at a development broker).
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
#include "runtime/dev_broker.h"
#include "runtime/job_config.h"
#include "simdjson.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kSource = VIGIL_SOURCE_DIR;
const std::string kVigil = VIGIL_BINARY;
const std::string kDeploy = kSource + "/deploy/";

std::string Temp(const std::string& name) { return TempPath("deploy_", name); }

// Every document of every .yaml/.yml file directly in `dir`, by file name.
std::map<std::string, std::vector<YAML::Node>> LoadYamlDir(const std::string& dir) {
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
YAML::Node K8s(const std::string& kind) {
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

YAML::Node VigilContainer() {
  YAML::Node containers = K8s("StatefulSet")["spec"]["template"]["spec"]["containers"];
  for (const YAML::Node& c : containers) {
    if (c["name"].as<std::string>() == "vigil") return c;
  }
  ADD_FAILURE() << "no container named vigil in the StatefulSet";
  return YAML::Node();
}

std::vector<std::string> Strings(const YAML::Node& seq) {
  std::vector<std::string> out;
  for (const YAML::Node& n : seq) out.push_back(n.as<std::string>());
  return out;
}

std::string ConfigMapData(const std::string& key) {
  YAML::Node v = K8s("ConfigMap")["data"][key];
  EXPECT_TRUE(v) << "ConfigMap key " << key;
  return v ? v.as<std::string>() : "";
}

// label map `sub` is contained in `labels`.
bool Selects(const YAML::Node& sub, const YAML::Node& labels) {
  if (!sub || !sub.IsMap() || sub.size() == 0) return false;
  for (const auto& kv : sub) {
    const YAML::Node v = labels[kv.first.as<std::string>()];
    if (!v || v.as<std::string>() != kv.second.as<std::string>()) return false;
  }
  return true;
}

// Dockerfile instructions (continuation lines joined, comments dropped).
std::vector<std::pair<std::string, std::string>> DockerInstructions() {
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
std::vector<std::string> JsonArray(const std::string& text) {
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
std::map<std::string, std::string> UnitKeys() {
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

std::vector<std::string> Words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Each `vigil_...` name in a PromQL expression.
std::set<std::string> VigilNames(const std::string& expr) {
  std::set<std::string> out;
  static const std::regex name("\\bvigil_[a-zA-Z0-9_]+");
  for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name); it != std::sregex_iterator();
       ++it) {
    out.insert(it->str());
  }
  return out;
}

std::vector<std::string> DashboardExprs() {
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

std::vector<std::string> AlertRuleExprs() {
  std::vector<std::string> out;
  for (const YAML::Node& g : YAML::LoadFile(kDeploy + "prometheus/vigil-alerts.yml")["groups"]) {
    for (const YAML::Node& r : g["rules"]) out.push_back(r["expr"].as<std::string>());
  }
  return out;
}

std::set<std::string> RuleMetricNames() {
  std::set<std::string> out;
  for (const YAML::Node& m : YAML::LoadFile(kDeploy + "rules/chatbot.yaml")["metrics"]) {
    out.insert(m["metric"].as<std::string>());
  }
  return out;
}

// ---------------------------------------------------------------------------
// Kubernetes

TEST(DeployTest, KubernetesManifestsParseAndHaveTheExpectedKinds) {
  const std::map<std::string, std::string> want = {
      {"ConfigMap", "v1"}, {"StatefulSet", "apps/v1"},
      {"Service", "v1"},   {"PodMonitor", "monitoring.coreos.com/v1"},
      {"Secret", "v1"},    {"PodDisruptionBudget", "policy/v1"}};
  std::map<std::string, std::string> got;
  const auto files = LoadYamlDir(kDeploy + "kubernetes");
  EXPECT_EQ(files.size(), 6u);
  for (const auto& [file, docs] : files) {
    ASSERT_FALSE(docs.empty()) << file;
    for (const YAML::Node& d : docs) {
      ASSERT_TRUE(d["kind"] && d["apiVersion"] && d["metadata"]["name"]) << file;
      const std::string kind = d["kind"].as<std::string>();
      EXPECT_TRUE(got.emplace(kind, d["apiVersion"].as<std::string>()).second)
          << file << ": a second " << kind;
      EXPECT_EQ(d["metadata"]["labels"]["app.kubernetes.io/name"].as<std::string>(""), "vigil")
          << file;
    }
  }
  EXPECT_EQ(got, want);
}

TEST(DeployTest, KubernetesObjectsReferToEachOther) {
  const YAML::Node sts = K8s("StatefulSet"), svc = K8s("Service");
  const YAML::Node pod = sts["spec"]["template"];
  const YAML::Node labels = pod["metadata"]["labels"];
  EXPECT_TRUE(Selects(sts["spec"]["selector"]["matchLabels"], labels));
  EXPECT_TRUE(Selects(svc["spec"]["selector"], labels));
  EXPECT_TRUE(Selects(K8s("PodMonitor")["spec"]["selector"]["matchLabels"], labels));
  EXPECT_TRUE(Selects(K8s("PodDisruptionBudget")["spec"]["selector"]["matchLabels"], labels));
  EXPECT_EQ(sts["spec"]["serviceName"].as<std::string>(),
            svc["metadata"]["name"].as<std::string>());
  // Why one replica: see statefulset.yaml.
  EXPECT_EQ(sts["spec"]["replicas"].as<int>(), 1);

  // The PagerDuty key comes from the example Secret's name and key.
  const YAML::Node secret = K8s("Secret");
  bool key_from_secret = false;
  for (const YAML::Node& e : VigilContainer()["env"]) {
    if (e["name"].as<std::string>() != "PAGERDUTY_ROUTING_KEY") continue;
    const YAML::Node ref = e["valueFrom"]["secretKeyRef"];
    ASSERT_TRUE(ref) << "PAGERDUTY_ROUTING_KEY must come from a Secret";
    EXPECT_EQ(ref["name"].as<std::string>(), secret["metadata"]["name"].as<std::string>());
    EXPECT_TRUE(secret["stringData"][ref["key"].as<std::string>()]);
    key_from_secret = true;
  }
  EXPECT_TRUE(key_from_secret);

  // The PodMonitor scrapes the container's named port at /metrics; the
  // Service targets it too.
  const YAML::Node endpoint = K8s("PodMonitor")["spec"]["podMetricsEndpoints"][0];
  EXPECT_EQ(endpoint["path"].as<std::string>(), "/metrics");
  const std::string port_name = endpoint["port"].as<std::string>();
  bool port_found = false;
  for (const YAML::Node& p : VigilContainer()["ports"]) {
    if (p["name"].as<std::string>() == port_name) {
      EXPECT_EQ(p["containerPort"].as<int>(), 9464);
      port_found = true;
    }
  }
  EXPECT_TRUE(port_found) << port_name;
  EXPECT_EQ(svc["spec"]["ports"][0]["targetPort"].as<std::string>(), port_name);
}

TEST(DeployTest, StatefulSetRunsHardenedWithProbesResourcesAndVolumes) {
  const YAML::Node spec = K8s("StatefulSet")["spec"];
  const YAML::Node pod = spec["template"]["spec"];
  const YAML::Node c = VigilContainer();
  EXPECT_TRUE(pod["securityContext"]["runAsNonRoot"].as<bool>(false));
  EXPECT_NE(pod["securityContext"]["runAsUser"].as<int>(0), 0);
  EXPECT_TRUE(c["securityContext"]["readOnlyRootFilesystem"].as<bool>(false));
  EXPECT_FALSE(c["securityContext"]["allowPrivilegeEscalation"].as<bool>(true));
  EXPECT_EQ(Strings(c["securityContext"]["capabilities"]["drop"]), std::vector<std::string>{"ALL"});
  // The image's user (Dockerfile) is the one the pod runs as.
  const std::string dockerfile = ReadFile(kDeploy + "Dockerfile");
  EXPECT_NE(dockerfile.find("--uid " + pod["securityContext"]["runAsUser"].as<std::string>()),
            std::string::npos);

  EXPECT_GE(pod["terminationGracePeriodSeconds"].as<int>(0), 30);
  for (const char* r : {"cpu", "memory"}) EXPECT_TRUE(c["resources"]["requests"][r]) << r;
  EXPECT_TRUE(c["resources"]["limits"]["memory"]);
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["path"].as<std::string>(), "/healthz");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["path"].as<std::string>(), "/readyz");
  EXPECT_EQ(c["livenessProbe"]["httpGet"]["port"].as<std::string>(), "http");
  EXPECT_EQ(c["readinessProbe"]["httpGet"]["port"].as<std::string>(), "http");

  // Claims for checkpoints and spool, mounted where the ConfigMap's job
  // file puts them; /etc/vigil holds the job file and the rules.
  std::map<std::string, std::string> mounts;
  for (const YAML::Node& m : c["volumeMounts"]) {
    mounts[m["name"].as<std::string>()] = m["mountPath"].as<std::string>();
  }
  std::set<std::string> claims;
  for (const YAML::Node& t : spec["volumeClaimTemplates"]) {
    claims.insert(t["metadata"]["name"].as<std::string>());
  }
  EXPECT_EQ(claims, (std::set<std::string>{"checkpoints", "spool"}));
  const std::string job_path = Temp("cm_job.yaml");
  std::ofstream(job_path) << ConfigMapData("job.yaml");
  absl::StatusOr<JobConfig> job = LoadJobConfig(job_path, DefaultJobConfig());
  ASSERT_TRUE(job.ok()) << job.status();
  auto under = [](const std::string& path, const std::string& dir) {
    return !dir.empty() && path.rfind(dir + "/", 0) == 0;
  };
  EXPECT_TRUE(under(job->checkpoint.dir + "/x", mounts["checkpoints"])) << job->checkpoint.dir;
  EXPECT_TRUE(under(job->outputs.dead_letter_path, mounts["checkpoints"]));
  EXPECT_TRUE(under(job->notify.spool_dir + "/x", mounts["spool"])) << job->notify.spool_dir;

  // Every file the pod reads from /etc/vigil is an item of the ConfigMap volume.
  std::set<std::string> config_files;
  for (const YAML::Node& v : pod["volumes"]) {
    if (v["name"].as<std::string>() != "config") continue;
    EXPECT_EQ(v["configMap"]["name"].as<std::string>(),
              K8s("ConfigMap")["metadata"]["name"].as<std::string>());
    for (const YAML::Node& item : v["configMap"]["items"]) {
      EXPECT_TRUE(K8s("ConfigMap")["data"][item["key"].as<std::string>()]);
      config_files.insert(mounts["config"] + "/" + item["path"].as<std::string>());
    }
  }
  const std::vector<std::string> args = Strings(c["args"]);
  const auto config_flag = std::find(args.begin(), args.end(), "--config");
  ASSERT_NE(config_flag, args.end());
  EXPECT_TRUE(config_files.count(*(config_flag + 1))) << *(config_flag + 1);
  for (const std::string& rules : job->rule_files) EXPECT_TRUE(config_files.count(rules)) << rules;
}

TEST(DeployTest, ConfigMapJobFileLoadsAndItsRulesPassCheck) {
  const std::string job_path = Temp("cm_job.yaml");
  std::ofstream(job_path) << ConfigMapData("job.yaml");
  absl::StatusOr<JobConfig> job = LoadJobConfig(job_path, DefaultJobConfig());
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->source.kind, SourceKind::kKafka);
  EXPECT_EQ(job->http_listen, "0.0.0.0:9464");
  EXPECT_FALSE(job->checkpoint.dir.empty());
  EXPECT_FALSE(job->notify.spool_dir.empty());
  EXPECT_FALSE(job->notify.receivers.empty());
  EXPECT_FALSE(job->outputs.kafka.results_topic.empty());
  // Per pod, from --transactional-id $(POD_NAME): see configmap.yaml.
  EXPECT_EQ(job->outputs.kafka.transactional_id, "");
  const std::vector<std::string> args = Strings(VigilContainer()["args"]);
  const auto tid = std::find(args.begin(), args.end(), "--transactional-id");
  ASSERT_NE(tid, args.end());
  EXPECT_EQ(*(tid + 1), "$(POD_NAME)");
  bool pod_name_env = false;
  for (const YAML::Node& e : VigilContainer()["env"]) {
    if (e["name"].as<std::string>() == "POD_NAME") {
      EXPECT_EQ(e["valueFrom"]["fieldRef"]["fieldPath"].as<std::string>(), "metadata.name");
      pod_name_env = true;
    }
  }
  EXPECT_TRUE(pod_name_env);

  const std::string rules = ConfigMapData("chatbot.yaml");
  EXPECT_EQ(rules, ReadFile(kDeploy + "rules/chatbot.yaml"))
      << "the ConfigMap's chatbot.yaml differs from deploy/rules/chatbot.yaml";
  const std::string rules_path = Temp("cm_chatbot.yaml");
  std::ofstream(rules_path) << rules;
  Result check = Sh(kVigil + " check " + rules_path + " 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.out;
}

// ---------------------------------------------------------------------------
// Flags and endpoints

TEST(DeployTest, EveryFlagUsedIsOneTheBinaryHas) {
  const Result help = Sh(kVigil + " --help");
  ASSERT_EQ(help.exit_code, 0);
  std::set<std::string> known;
  static const std::regex flag("(^|\\s)(--[a-z][a-z0-9-]*|-X)(?=[\\s=,|]|$)");
  for (auto it = std::sregex_iterator(help.out.begin(), help.out.end(), flag);
       it != std::sregex_iterator(); ++it) {
    known.insert((*it)[2].str());
  }
  ASSERT_TRUE(known.count("--config") && known.count("--transactional-id")) << help.out;

  std::map<std::string, std::vector<std::string>> uses;
  uses["StatefulSet args"] = Strings(VigilContainer()["args"]);
  for (const auto& [kw, rest] : DockerInstructions()) {
    if (kw == "CMD") uses["Dockerfile CMD"] = JsonArray(rest);
    if (kw == "ENTRYPOINT") {
      EXPECT_EQ(JsonArray(rest), std::vector<std::string>{"vigil"});
    }
  }
  const std::vector<std::string> exec = Words(UnitKeys()["ExecStart"]);
  ASSERT_FALSE(exec.empty());
  EXPECT_EQ(exec[0], "/usr/local/bin/vigil");
  uses["systemd ExecStart"] = std::vector<std::string>(exec.begin() + 1, exec.end());

  for (const auto& [where, args] : uses) {
    ASSERT_FALSE(args.empty()) << where;
    EXPECT_EQ(args[0], "run") << where;
    int flags = 0;
    for (const std::string& a : args) {
      if (a.rfind("-", 0) != 0) continue;
      ++flags;
      EXPECT_TRUE(known.count(a.substr(0, a.find('='))))
          << where << ": " << a << " is not in vigil --help";
    }
    EXPECT_GT(flags, 0) << where;
  }
}

TEST(DeployTest, PortsAndProbePathsMatchWhatTheBinaryServes) {
  // What the manifests and the image expect ...
  const YAML::Node c = VigilContainer();
  EXPECT_EQ(c["ports"][0]["containerPort"].as<int>(), 9464);
  EXPECT_EQ(K8s("Service")["spec"]["ports"][0]["port"].as<int>(), 9464);
  bool exposed = false;
  for (const auto& [kw, rest] : DockerInstructions()) exposed |= kw == "EXPOSE" && rest == "9464";
  EXPECT_TRUE(exposed);
  // ... is the job's default port and what --help documents.
  EXPECT_EQ(DefaultJobConfig().http_listen, "127.0.0.1:9464");
  const Result help = Sh(kVigil + " --help");
  for (const char* path : {"/metrics", "/healthz", "/readyz"}) {
    EXPECT_NE(help.out.find(path), std::string::npos) << path;
  }
  // The live job (below) answers on the probe paths.
}

// ---------------------------------------------------------------------------
// A job run as the pod runs it: the StatefulSet's args over the ConfigMap's
// job file, with the cluster's addresses replaced by local ones (a
// development broker with the job's topics, receivers on a closed port).

const std::regex kCheckpointed("vigil_checkpoints_total\\{result=\"success\"\\} [1-9]");

struct LiveRun {
  std::string metrics;  // the /metrics exposition once every family has samples
  int healthz = -1, readyz = -1, exit_code = -1;
  std::string log;
};

LiveRun RunAsThePod() {
  LiveRun r;
  absl::StatusOr<std::unique_ptr<DevBroker>> broker =
      DevBroker::Start(1, {{"chatbot-events", 2}, {"vigil-windows", 1}, {"vigil-alerts", 1}});
  if (!broker.ok()) {
    r.log = std::string(broker.status().message());
    return r;
  }
  const std::string bootstrap = (*broker)->bootstrap();
  const Result gen = Sh(kVigil +
                        " gen --rate 40 --duration 12m --seed 7 --speed 0 "
                        "--incident error_burst@2m+6m --to kafka://" +
                        bootstrap + "/chatbot-events 2>&1");
  if (gen.exit_code != 0) {
    r.log = "gen: " + gen.out;
    return r;
  }

  const std::string dir = Temp("live");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  YAML::Node job = YAML::Load(ConfigMapData("job.yaml"));
  job["source"]["kafka"]["brokers"] = bootstrap;
  job["outputs"]["kafka"]["brokers"] = bootstrap;
  job["checkpoint"]["dir"] = dir + "/checkpoints";
  job["outputs"]["dead_letter"]["path"] = dir + "/dead-letter.ndjson";
  job["notify"]["spool"]["dir"] = dir + "/spool";
  std::ofstream(dir + "/chatbot.yaml") << ConfigMapData("chatbot.yaml");
  job["rules"] = std::vector<std::string>{dir + "/chatbot.yaml"};
  const std::string closed = "http://127.0.0.1:" + std::to_string(FreePort());
  for (YAML::Node receiver : job["notify"]["receivers"]) {
    receiver.remove("url");
    receiver.remove("urls");
    if (receiver["kind"].as<std::string>() == "alertmanager") {
      receiver["urls"] = std::vector<std::string>{closed};
    } else {
      receiver["url"] = closed + "/hook";
    }
  }
  YAML::Emitter out;
  out << job;
  std::ofstream(dir + "/job.yaml") << out.c_str();

  std::string args;
  for (std::string a : Strings(VigilContainer()["args"])) {
    if (a == "/etc/vigil/job.yaml") a = dir + "/job.yaml";
    if (a == "$(POD_NAME)") a = "vigil-0";
    args += " " + a;
  }
  const uint16_t port = FreePort();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  // Faster group joins and checkpoints than production, for the test's sake.
  const pid_t pid = Spawn("env PAGERDUTY_ROUTING_KEY=test-key " + kVigil + args +
                              " --http 127.0.0.1:" + std::to_string(port) +
                              " --checkpoint-interval 1s -X session.timeout.ms=6000"
                              " -X heartbeat.interval.ms=500",
                          dir + "/run.log");
  // Every family the deploy files query has samples once a checkpoint is
  // written and an alert has been routed to the (unreachable) receivers.
  const std::vector<std::string> wanted = {
      "vigil_source_lag{",          "vigil_metric_error_rate ",
      "vigil_notifications_total{", "vigil_notifications_spooled{",
      "vigil_sink_messages_total{", "vigil_alert_transitions_total{"};
  WaitFor(
      [&] {
        auto [status, body] = HttpGet(base, "/metrics");
        if (status != 200) return false;
        r.metrics = body;
        return std::regex_search(body, kCheckpointed) &&
               std::all_of(wanted.begin(), wanted.end(),
                           [&](const std::string& w) { return body.find(w) != std::string::npos; });
      },
      25);
  r.healthz = HttpGet(base, "/healthz").first;
  r.readyz = HttpGet(base, "/readyz").first;
  ::kill(pid, SIGTERM);
  r.exit_code = WaitExit(pid);
  r.log = ReadFile(dir + "/run.log");
  return r;
}

// One test, one job: it takes about 15 s (the consumer group join, the
// windows, a checkpoint and an alert routed to every receiver).
TEST(DeployTest, TheJobRunAsThePodRunsServesEveryMetricTheDeployFilesUse) {
  const LiveRun r = RunAsThePod();
  ASSERT_FALSE(r.metrics.empty()) << r.log;
  EXPECT_EQ(r.healthz, 200) << r.log;  // the probe paths of statefulset.yaml
  EXPECT_EQ(r.readyz, 200) << r.log;
  EXPECT_EQ(r.exit_code, 0) << r.log;  // SIGTERM, as Kubernetes and systemd stop it
  EXPECT_TRUE(std::regex_search(r.metrics, kCheckpointed)) << r.metrics;

  // Every vigil_ name the dashboard and the alert rules query is served;
  // vigil_metric_<name> is a rule metric of the reference rules (those
  // with no closed window yet are not on /metrics).
  std::set<std::string> served;
  for (const std::string& line : Lines(r.metrics)) {
    if (line.rfind("# TYPE ", 0) == 0) served.insert(Words(line)[2]);
  }
  const std::set<std::string> rule_metrics = RuleMetricNames();
  auto check = [&](const std::vector<std::string>& exprs, const std::string& where) {
    int names = 0;
    for (const std::string& e : exprs) {
      for (const std::string& n : VigilNames(e)) {
        ++names;
        const std::string prefix = "vigil_metric_";
        if (n.rfind(prefix, 0) == 0 && rule_metrics.count(n.substr(prefix.size()))) continue;
        EXPECT_TRUE(served.count(n)) << where << ": " << n << " is not on /metrics, in: " << e;
      }
    }
    EXPECT_GT(names, 10) << where;
  };
  check(DashboardExprs(), "dashboard");
  check(AlertRuleExprs(), "vigil-alerts.yml");

  // promtool parses the exposition. Exit 3 is lint findings: rule metric
  // names are the SRE's (latency_p99_ms abbreviates its unit), the job's
  // own names must be clean.
  const std::string scraped = Temp("metrics.txt");
  std::ofstream(scraped) << r.metrics;
  Result m = Sh("promtool check metrics < " + scraped + " 2>&1");
  EXPECT_TRUE(m.exit_code == 0 || m.exit_code == 3) << m.out;
  for (const std::string& line : Lines(m.out)) {
    EXPECT_EQ(line.rfind("vigil_metric_", 0), 0u) << line;
  }
}

TEST(DeployTest, PromtoolAcceptsTheAlertRulesAndTheirUnitTests) {
  ASSERT_EQ(Sh("command -v promtool >/dev/null").exit_code, 0)
      << "promtool is missing: run scripts/setup.sh";
  Result rules = Sh("promtool check rules " + kDeploy + "prometheus/vigil-alerts.yml 2>&1");
  EXPECT_EQ(rules.exit_code, 0) << rules.out;
  Result tests =
      Sh("cd " + kDeploy + "prometheus && promtool test rules vigil-alerts.test.yml 2>&1");
  EXPECT_EQ(tests.exit_code, 0) << tests.out;
}

TEST(DeployTest, AlertRulesHaveSeveritiesAndSummaries) {
  const auto files = LoadYamlDir(kDeploy + "prometheus");
  ASSERT_TRUE(files.count("vigil-alerts.yml"));
  ASSERT_TRUE(files.count("vigil-alerts.test.yml"));
  int alerts = 0;
  std::set<std::string> names;
  for (const YAML::Node& g : files.at("vigil-alerts.yml").at(0)["groups"]) {
    for (const YAML::Node& r : g["rules"]) {
      const std::string name = r["alert"].as<std::string>("");
      ASSERT_FALSE(name.empty());
      names.insert(name);
      ++alerts;
      // deploy/alertmanager.yml routes on these.
      EXPECT_TRUE(
          std::regex_match(r["labels"]["severity"].as<std::string>(""), std::regex("P[1-4]")))
          << name;
      EXPECT_TRUE(r["annotations"]["summary"]) << name;
    }
  }
  EXPECT_GE(alerts, 8);
  for (const char* want :
       {"VigilDown", "VigilSourceDisconnected", "VigilConsumerLagHigh", "VigilWatermarkStalled",
        "VigilCheckpointFailing", "VigilCheckpointStale", "VigilNotificationsFailing",
        "VigilNotificationsPilingUp", "VigilDeadLettersRising"}) {
    EXPECT_TRUE(names.count(want)) << want;
  }
}

// ---------------------------------------------------------------------------
// Grafana

TEST(DeployTest, DashboardParsesAndEveryPanelQueriesPrometheus) {
  simdjson::dom::parser parser;
  simdjson::dom::element dash;
  ASSERT_EQ(parser.load(kDeploy + "grafana/vigil-dashboard.json").get(dash), simdjson::SUCCESS);
  int64_t schema = 0;
  ASSERT_EQ(dash["schemaVersion"].get(schema), simdjson::SUCCESS);
  EXPECT_GE(schema, 36);
  std::string_view uid;
  EXPECT_EQ(dash["uid"].get(uid), simdjson::SUCCESS);

  bool ds_variable = false;
  for (simdjson::dom::element v : dash["templating"]["list"].get_array()) {
    std::string_view name, type;
    if (!v["name"].get(name) && !v["type"].get(type) && name == "DS_PROMETHEUS") {
      ds_variable = type == "datasource";
    }
  }
  EXPECT_TRUE(ds_variable) << "the datasource must be the variable DS_PROMETHEUS";

  std::set<int64_t> ids;
  int panels = 0;
  for (simdjson::dom::element p : dash["panels"].get_array()) {
    std::string_view type, title;
    int64_t id = 0;
    ASSERT_EQ(p["type"].get(type), simdjson::SUCCESS);
    ASSERT_EQ(p["title"].get(title), simdjson::SUCCESS);
    ASSERT_EQ(p["id"].get(id), simdjson::SUCCESS);
    EXPECT_TRUE(ids.insert(id).second) << "duplicate panel id " << id;
    EXPECT_EQ(p["gridPos"]["w"].error(), simdjson::SUCCESS) << title;
    if (type == "row") continue;
    ++panels;
    simdjson::dom::array targets;
    ASSERT_EQ(p["targets"].get(targets), simdjson::SUCCESS) << title;
    EXPECT_GT(targets.size(), 0u) << title;
    for (simdjson::dom::element t : targets) {
      std::string_view expr, ds;
      EXPECT_EQ(t["expr"].get(expr), simdjson::SUCCESS) << title;
      EXPECT_FALSE(expr.empty()) << title;
      EXPECT_EQ(t["datasource"]["uid"].get(ds), simdjson::SUCCESS) << title;
      EXPECT_EQ(ds, "${DS_PROMETHEUS}") << title;
    }
  }
  EXPECT_GE(panels, 20);

  // The Day-1 rule metrics have panels, under names the rule file has (a
  // renamed rule metric would leave an empty panel).
  std::set<std::string> shown;
  for (const std::string& e : DashboardExprs()) {
    for (const std::string& n : VigilNames(e)) shown.insert(n);
  }
  const std::set<std::string> rule_metrics = RuleMetricNames();
  for (const char* day1 : {"latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_rate",
                           "escalation_rate", "cache_hit_rate", "thumbs_down_rate",
                           "intent_messages", "guardrail_rate", "bedrock_breaker_open"}) {
    EXPECT_TRUE(rule_metrics.count(day1)) << day1;
    EXPECT_TRUE(shown.count(std::string("vigil_metric_") + day1)) << day1;
  }
}

// ---------------------------------------------------------------------------
// Dockerfile

TEST(DeployTest, DockerfileBuildsInOneStageAndRunsAsNonRootInAnother) {
  const auto ins = DockerInstructions();
  std::vector<std::string> stages;
  std::string user, last_stage;
  bool binary = false, rules = false, tests_off = false;
  for (const auto& [kw, rest] : ins) {
    if (kw == "FROM") {
      const std::vector<std::string> w = Words(rest);
      ASSERT_EQ(w.size(), 3u) << "every stage is named: FROM " << rest;
      EXPECT_EQ(w[1], "AS");
      EXPECT_EQ(w[0].rfind("debian:bookworm", 0), 0u) << w[0];
      stages.push_back(w[2]);
      user.clear();
    } else if (kw == "USER") {
      user = rest;
    } else if (kw == "COPY") {
      const std::vector<std::string> w = Words(rest);
      binary |= w.size() == 3 && w[0] == "--from=" + stages.front() &&
                w[1].find("/vigil") != std::string::npos && w[2] == "/usr/local/bin/vigil";
      rules |= rest.find("deploy/rules/") != std::string::npos &&
               w.back().rfind("/etc/vigil/rules/", 0) == 0;
    } else if (kw == "RUN") {
      tests_off |= rest.find("cmake -S") != std::string::npos &&
                   rest.find("-DVIGIL_TESTS=OFF") != std::string::npos;
    }
  }
  EXPECT_GE(stages.size(), 2u);
  EXPECT_FALSE(user.empty()) << "the last stage needs a USER";
  const std::string who = user.substr(0, user.find(':'));
  EXPECT_NE(who, "root");
  EXPECT_NE(who, "0");
  EXPECT_TRUE(binary) << "COPY --from=" << stages.front() << " .../vigil /usr/local/bin/vigil";
  EXPECT_TRUE(rules) << "COPY deploy/rules/... /etc/vigil/rules/";
  EXPECT_TRUE(tests_off);
}

// Package names of each `apt-get install` in the Dockerfile, per stage.
std::vector<std::vector<std::string>> DockerAptPackages() {
  std::vector<std::vector<std::string>> out;
  for (const auto& [kw, rest] : DockerInstructions()) {
    if (kw == "FROM") out.emplace_back();
    if (kw != "RUN" || out.empty()) continue;
    const std::vector<std::string> w = Words(rest);
    for (size_t i = 1; i < w.size(); ++i) {
      if (w[i] != "install" || w[i - 1] != "apt-get") continue;
      for (++i; i < w.size() && w[i] != "&&"; ++i) {
        if (w[i][0] != '-') out.back().push_back(w[i]);
      }
    }
  }
  return out;
}

TEST(DeployTest, DockerfilePackagesExistAndCoverTheBinarysLibraries) {
  const auto stages = DockerAptPackages();
  ASSERT_EQ(stages.size(), 2u);
  const std::vector<std::string>& build = stages[0];
  const std::vector<std::string>& runtime = stages[1];
  ASSERT_FALSE(build.empty());
  ASSERT_FALSE(runtime.empty());

  // The build stage's packages are scripts/setup.sh's (its test tools left out).
  const std::string setup = ReadFile(kSource + "/scripts/setup.sh");
  for (const std::string& p : build) {
    EXPECT_TRUE(std::regex_search(setup, std::regex("\\s" + p + "\\s"))) << p;
  }
  for (const char* test_only : {"libgtest-dev", "prometheus", "kcat"}) {
    EXPECT_EQ(std::count(build.begin(), build.end(), test_only), 0) << test_only;
  }

  // Every shared library the binary loads comes from a package the runtime
  // stage installs (or from the base image's essential set).
  if (Sh("command -v dpkg >/dev/null && command -v ldd >/dev/null").exit_code == 0) {
    const std::set<std::string> base = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"};
    // A library may come with a listed package's dependencies (libcrypto
    // with libssl3, liblz4 with librdkafka1).
    std::string runtime_names;
    for (const std::string& p : runtime) runtime_names += " " + p;
    const std::string installed_deps =
        Sh("dpkg-query -W -f='${Depends}, '" + runtime_names + " 2>/dev/null").out;
    const Result ldd = Sh("ldd " + kVigil);
    ASSERT_EQ(ldd.exit_code, 0);
    // dpkg knows a file by the path its package installed it at: /lib/...
    // for some, the real /usr/lib/... path for others (merged /usr).
    static const std::regex lib("=> (/\\S+)");
    std::vector<std::pair<std::string, std::string>> files;  // as ldd says, real path
    std::string paths;
    for (auto it = std::sregex_iterator(ldd.out.begin(), ldd.out.end(), lib);
         it != std::sregex_iterator(); ++it) {
      files.emplace_back((*it)[1].str(), std::filesystem::canonical((*it)[1].str()).string());
      paths += " " + files.back().first + " " + files.back().second;
    }
    std::map<std::string, std::string> owner;  // path -> package
    for (const std::string& line : Lines(Sh("dpkg -S" + paths + " 2>/dev/null").out)) {
      const size_t sep = line.find(": ");
      if (sep == std::string::npos) continue;
      owner[line.substr(sep + 2)] = line.substr(0, line.find_first_of(":,"));
    }
    int libs = 0;
    for (const auto& [path, real] : files) {
      const std::string pkg = owner.count(path) ? owner[path] : owner[real];
      ASSERT_FALSE(pkg.empty()) << "no package owns " << path;
      ++libs;
      if (base.count(pkg)) continue;
      const bool listed = std::count(runtime.begin(), runtime.end(), pkg) == 1;
      const bool dependency =
          std::regex_search(installed_deps, std::regex("(^|, )" + pkg + "[ ,]"));
      EXPECT_TRUE(listed || dependency)
          << path << " is in " << pkg << ", which the runtime stage does not install";
    }
    EXPECT_GT(libs, 5);
  }

  // The names exist in Debian (needs apt metadata: apt-get update).
  if (Sh("apt-cache show --no-all-versions bash >/dev/null 2>&1").exit_code != 0) {
    GTEST_SKIP() << "no apt metadata here (run apt-get update); package names not checked";
  }
  std::string names;
  for (const auto& stage : stages) {
    for (const std::string& p : stage) names += " " + p;
  }
  // One call for all (apt-cache exits 0 when some are unknown): each name
  // must have its own record.
  const Result show = Sh("apt-cache show --no-all-versions" + names + " 2>/dev/null");
  std::set<std::string> found;
  for (const std::string& line : Lines(show.out)) {
    if (line.rfind("Package: ", 0) == 0) found.insert(line.substr(9));
  }
  for (const auto& stage : stages) {
    for (const std::string& p : stage)
      EXPECT_TRUE(found.count(p)) << p << " is not a Debian package";
  }
}

// ---------------------------------------------------------------------------
// systemd

TEST(DeployTest, SystemdUnitIsHardenedAndReloadsWithSighup) {
  std::map<std::string, std::string> k = UnitKeys();
  EXPECT_EQ(k["Type"], "simple");
  EXPECT_EQ(k["User"], "vigil");
  EXPECT_EQ(k["ExecReload"], "/bin/kill -HUP $MAINPID");
  EXPECT_EQ(k["Restart"], "on-failure");
  EXPECT_EQ(k["StateDirectory"], "vigil");
  EXPECT_FALSE(k["EnvironmentFile"].empty());
  ASSERT_TRUE(k.count("CapabilityBoundingSet"));
  EXPECT_EQ(k["CapabilityBoundingSet"], "");  // no capabilities at all
  EXPECT_EQ(k["RestrictAddressFamilies"], "AF_INET AF_INET6 AF_UNIX");
  EXPECT_EQ(k["ProtectSystem"], "strict");
  EXPECT_EQ(k["SystemCallFilter"].substr(0, 15), "@system-service");
  for (const char* yes : {"NoNewPrivileges", "ProtectHome", "PrivateTmp", "PrivateDevices",
                          "ProtectKernelTunables", "ProtectKernelModules", "ProtectKernelLogs",
                          "ProtectControlGroups", "MemoryDenyWriteExecute", "LockPersonality",
                          "RestrictRealtime", "RestrictNamespaces", "RestrictSUIDSGID"}) {
    EXPECT_EQ(k[yes], "yes") << yes;
  }
  // With ProtectSystem=strict only the state directory is writable: the
  // job file the unit is documented with keeps its state there.
  absl::StatusOr<JobConfig> job = LoadJobConfig(kDeploy + "job-kafka.yaml", DefaultJobConfig());
  ASSERT_TRUE(job.ok()) << job.status();
  for (const std::string& path :
       {job->checkpoint.dir, job->notify.spool_dir, job->outputs.dead_letter_path}) {
    EXPECT_EQ(path.rfind("/var/lib/vigil/", 0), 0u) << path;
  }

  if (Sh("systemd-analyze --version >/dev/null 2>&1").exit_code != 0) {
    GTEST_SKIP() << "systemd-analyze is not available; only the keys were checked";
  }
  // verify needs the executables to exist; it exits 0 on unknown keys and
  // bad values, but prints them, so the output must be empty.
  const std::string dir = Temp("systemd");
  std::filesystem::create_directories(dir);
  const std::string unit = dir + "/vigil.service";
  std::ofstream(unit) << std::regex_replace(ReadFile(kDeploy + "systemd/vigil.service"),
                                            std::regex("/usr/local/bin/vigil"), kVigil);
  Result verify = Sh("cd " + dir + " && systemd-analyze verify " + unit + " 2>&1");
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_EQ(verify.out, "");
  // systemd's own exposure score (0 best, 10 worst; OK is below 2).
  Result security = Sh("systemd-analyze security --offline=yes --threshold=20 " + unit + " 2>&1");
  EXPECT_EQ(security.exit_code, 0) << security.out;
}

}  // namespace
}  // namespace vigil
