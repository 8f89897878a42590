// Checks of the Kubernetes manifests under deploy/kubernetes against the
// binary they deploy: flags against `vigil --help`, the job file against
// LoadJobConfig, probe paths, port and the metric names the dashboard and
// alert rules use against a job started with the StatefulSet's own
// arguments and the ConfigMap's job file (pointed at a development broker).
#include <crypt.h>

#include "tests/runtime/deploy_util.h"

namespace vigil {
namespace {

using namespace deploy_test;  // NOLINT: the helpers of these checks

TEST(DeployTest, KubernetesManifestsParseAndHaveTheExpectedKinds) {
  // Three Secrets: the PagerDuty key, the Jira credentials, and the admin
  // endpoint's TLS and auth.
  const std::multimap<std::string, std::string> want = {
      {"ConfigMap", "v1"}, {"StatefulSet", "apps/v1"},
      {"Service", "v1"},   {"PodMonitor", "monitoring.coreos.com/v1"},
      {"Secret", "v1"},    {"Secret", "v1"},
      {"Secret", "v1"},    {"PodDisruptionBudget", "policy/v1"}};
  std::multimap<std::string, std::string> got;
  std::set<std::string> names;
  const auto files = LoadYamlDir(kDeploy + "kubernetes");
  EXPECT_EQ(files.size(), 6u);
  for (const auto& [file, docs] : files) {
    ASSERT_FALSE(docs.empty()) << file;
    for (const YAML::Node& d : docs) {
      ASSERT_TRUE(d["kind"] && d["apiVersion"] && d["metadata"]["name"]) << file;
      const std::string kind = d["kind"].as<std::string>();
      got.emplace(kind, d["apiVersion"].as<std::string>());
      EXPECT_TRUE(names.insert(kind + "/" + d["metadata"]["name"].as<std::string>()).second)
          << file << ": a second " << kind << " " << d["metadata"]["name"];
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
  const YAML::Node secret = K8sNamed("Secret", "vigil-pagerduty");
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

  // Every credential variable a receiver names comes from a Secret the
  // example declares, by name and key.
  std::vector<std::string> credential_vars;
  for (const NotifyReceiver& r : job->notify.receivers) {
    for (const std::string* v : {&r.routing_key_env, &r.email_env, &r.token_env}) {
      if (!v->empty()) credential_vars.push_back(*v);
    }
  }
  EXPECT_EQ(credential_vars.size(), 3u);  // PagerDuty's key, Jira's email and token
  for (const std::string& var : credential_vars) {
    bool from_secret = false;
    for (const YAML::Node& e : VigilContainer()["env"]) {
      if (e["name"].as<std::string>() != var) continue;
      const YAML::Node ref = e["valueFrom"]["secretKeyRef"];
      ASSERT_TRUE(ref) << var << " must come from a Secret";
      const YAML::Node secret = K8sNamed("Secret", ref["name"].as<std::string>());
      EXPECT_TRUE(secret["stringData"][ref["key"].as<std::string>()]) << var;
      from_secret = true;
    }
    EXPECT_TRUE(from_secret) << var;
  }
  EXPECT_EQ(job->notify.alert_routes.at("FaqTopicNegativeFeedback"),
            std::vector<std::string>{"content-team"});

  std::string paths;
  for (const std::string file : {"chatbot.yaml", "slos.yaml", "events.yaml"}) {
    const std::string rules = ConfigMapData(file);
    std::string deployed = kDeploy;
    deployed.append("rules/").append(file);
    EXPECT_EQ(rules, ReadFile(deployed))
        << "the ConfigMap's " << file << " differs from deploy/rules/" << file;
    const std::string rules_path = Temp("cm_" + file);
    std::ofstream(rules_path) << rules;
    paths += " " + rules_path;
  }
  Result check = Sh(kVigil + " check" + paths + " 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.out;
}

// The admin endpoint ships with TLS and authentication: the job file names
// a web config that the Secret vigil-web provides at the mount the
// StatefulSet gives it, the probes speak HTTPS, and the PodMonitor scrapes
// with the Secret's CA and basic auth.
TEST(DeployTest, TlsAndAuthAreWiredFromTheWebSecret) {
  const std::string job_path = Temp("cm_job_web.yaml");
  std::ofstream(job_path) << ConfigMapData("job.yaml");
  absl::StatusOr<JobConfig> job = LoadJobConfig(job_path, DefaultJobConfig());
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_FALSE(job->web.config_file.empty());
  EXPECT_TRUE(job->web.enable_lifecycle);

  const YAML::Node secret = K8sNamed("Secret", "vigil-web");
  const YAML::Node pod = K8s("StatefulSet")["spec"]["template"]["spec"];
  const YAML::Node c = VigilContainer();
  std::string mount;
  for (const YAML::Node& m : c["volumeMounts"]) {
    if (m["name"].as<std::string>() != "web") continue;
    mount = m["mountPath"].as<std::string>();
    EXPECT_TRUE(m["readOnly"].as<bool>(false));
  }
  ASSERT_FALSE(mount.empty()) << "the StatefulSet mounts the volume 'web'";
  std::set<std::string> files;  // what the pod sees under the mount
  for (const YAML::Node& v : pod["volumes"]) {
    if (v["name"].as<std::string>() != "web") continue;
    EXPECT_EQ(v["secret"]["secretName"].as<std::string>(), "vigil-web");
    for (const YAML::Node& item : v["secret"]["items"]) {
      EXPECT_TRUE(secret["stringData"][item["key"].as<std::string>()]) << item["key"];
      files.insert(mount + "/" + item["path"].as<std::string>());
    }
  }
  EXPECT_TRUE(files.count(job->web.config_file)) << job->web.config_file;

  // Every file the web config reads is in the mount; it asks for TLS and
  // for credentials.
  const YAML::Node web = YAML::Load(secret["stringData"]["web.yml"].as<std::string>());
  const YAML::Node tls = web["tls_server_config"];
  ASSERT_TRUE(tls);
  EXPECT_TRUE(files.count(tls["cert_file"].as<std::string>())) << tls["cert_file"];
  EXPECT_TRUE(files.count(tls["key_file"].as<std::string>())) << tls["key_file"];
  for (const YAML::Node& f : web["bearer_token_files"]) {
    EXPECT_TRUE(files.count(f.as<std::string>())) << f;
  }
  ASSERT_TRUE(web["basic_auth_users"]);
  EXPECT_FALSE(web["unauthenticated_paths"]) << "the default: /healthz and /readyz only";
  // The placeholder hash is refused: the example cannot run as it is.
  const std::string example = Temp("example_web.yml");
  std::ofstream(example) << secret["stringData"]["web.yml"].as<std::string>();
  const Result refused =
      Sh(kVigil + " run --no-console --http 127.0.0.1:0 --web.config.file " + example + " 2>&1");
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_NE(refused.out.find("cannot read cert_file /etc/vigil-web/tls.crt"), std::string::npos)
      << refused.out;

  // Probes over HTTPS on the unauthenticated paths.
  for (const char* probe : {"startupProbe", "livenessProbe", "readinessProbe"}) {
    EXPECT_EQ(c[probe]["httpGet"]["scheme"].as<std::string>(""), "HTTPS") << probe;
  }
  // The scrape: HTTPS, verified with the Secret's CA, basic auth from it.
  const YAML::Node endpoint = K8s("PodMonitor")["spec"]["podMetricsEndpoints"][0];
  EXPECT_EQ(endpoint["scheme"].as<std::string>(""), "https");
  EXPECT_EQ(endpoint["tlsConfig"]["ca"]["secret"]["name"].as<std::string>(""), "vigil-web");
  EXPECT_TRUE(secret["stringData"][endpoint["tlsConfig"]["ca"]["secret"]["key"].as<std::string>()]);
  for (const char* part : {"username", "password"}) {
    const YAML::Node ref = endpoint["basicAuth"][part];
    EXPECT_EQ(ref["name"].as<std::string>(""), "vigil-web") << part;
    EXPECT_TRUE(secret["stringData"][ref["key"].as<std::string>("")]) << part;
  }
  EXPECT_EQ(secret["stringData"]["scrape-username"].as<std::string>(""),
            web["basic_auth_users"].begin()->first.as<std::string>())
      << "the PodMonitor's user is the web config's";
}

// ---------------------------------------------------------------------------
// Flags and endpoints

TEST(DeployTest, EveryFlagUsedIsOneTheBinaryHas) {
  const Result help = Sh(kVigil + " run --help");
  ASSERT_EQ(help.exit_code, 0);
  std::set<std::string> known;
  static const std::regex flag("(^|\\s)(--[a-z][a-z0-9.-]*[a-z0-9]|-X)(?=[\\s=,|]|$)");
  for (auto it = std::sregex_iterator(help.out.begin(), help.out.end(), flag);
       it != std::sregex_iterator(); ++it) {
    known.insert((*it)[2].str());
  }
  ASSERT_TRUE(known.contains("--config") && known.contains("--transactional-id")) << help.out;

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
      if (a.rfind('-', 0) != 0) continue;
      ++flags;
      EXPECT_TRUE(known.count(a.substr(0, a.find('='))))
          << where << ": " << a << " is not in vigil run --help";
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
  const Result help = Sh(kVigil + " run --help");
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
  int metrics_without_auth = -1;
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
  // The Secret vigil-web, made real: a certificate for 127.0.0.1 from a
  // test CA, the scrape password's bcrypt hash, a token.
  const YAML::Node secret = K8sNamed("Secret", "vigil-web")["stringData"];
  const std::string password = secret["scrape-password"].as<std::string>();
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const Result certs = Sh(
      "(cd " + dir + " && openssl req -x509 " + ec + " -keyout ca.key -out ca.crt -days 1 " +
      "-subj /CN=test-ca && openssl req " + ec + " -keyout tls.key -out tls.csr -subj /CN=vigil" +
      " && printf 'subjectAltName=DNS:vigil,IP:127.0.0.1\\n' > san.ext && openssl x509 -req" +
      " -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out tls.crt -days 1" +
      " -extfile san.ext && printf tok > token) 2>&1");
  if (certs.exit_code != 0) {
    r.log = "openssl: " + certs.out;
    return r;
  }
  YAML::Node web = YAML::Load(secret["web.yml"].as<std::string>());
  web["tls_server_config"]["cert_file"] = dir + "/tls.crt";
  web["tls_server_config"]["key_file"] = dir + "/tls.key";
  web["bearer_token_files"] = std::vector<std::string>{dir + "/token"};
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  crypt_data hashed{};
  crypt_gensalt_rn("$2b$", 10, nullptr, 0, salt, sizeof salt);
  const std::string user = secret["scrape-username"].as<std::string>();
  web["basic_auth_users"][user] = std::string(crypt_r(password.c_str(), salt, &hashed));
  YAML::Emitter web_out;
  web_out << web;
  std::ofstream(dir + "/web.yml") << web_out.c_str();

  YAML::Node job = YAML::Load(ConfigMapData("job.yaml"));
  job["http"]["web_config_file"] = dir + "/web.yml";
  job["source"]["kafka"]["brokers"] = bootstrap;
  job["outputs"]["kafka"]["brokers"] = bootstrap;
  job["checkpoint"]["dir"] = dir + "/checkpoints";
  job["outputs"]["dead_letter"]["path"] = dir + "/dead-letter.ndjson";
  job["notify"]["spool"]["dir"] = dir + "/spool";
  std::ofstream(dir + "/chatbot.yaml") << ConfigMapData("chatbot.yaml");
  std::ofstream(dir + "/slos.yaml") << ConfigMapData("slos.yaml");
  std::ofstream(dir + "/events.yaml") << ConfigMapData("events.yaml");
  job["rules"] =
      std::vector<std::string>{dir + "/chatbot.yaml", dir + "/slos.yaml", dir + "/events.yaml"};
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
  const std::string base = "https://127.0.0.1:" + std::to_string(port);
  // As the PodMonitor scrapes and the kubelet probes: curl with the CA and
  // the scrape user; the probes without credentials.
  const auto get = [&](const std::string& path, bool auth) {
    const Result c = Sh("curl -s --max-time 5 --cacert " + dir + "/ca.crt" +
                        (auth ? " -u '" + user + ":" + password + "'" : std::string()) +
                        " -w '\\n%{http_code}' " + base + path);
    const size_t nl = c.out.rfind('\n');
    return std::pair<int, std::string>(
        nl == std::string::npos ? -1 : std::atoi(c.out.c_str() + nl + 1),
        nl == std::string::npos ? c.out : c.out.substr(0, nl));
  };
  // Faster group joins and checkpoints than production, for the test's sake.
  const pid_t pid = Spawn(
      "env PAGERDUTY_ROUTING_KEY=test-key JIRA_EMAIL=kb@example.com "
      "JIRA_API_TOKEN=test-token " +
          kVigil + args + " --http 127.0.0.1:" + std::to_string(port) +
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
        // Not a structured binding: clang 14 cannot capture one in the lambda below.
        const auto got = get("/metrics", true);
        if (got.first != 200) return false;
        const std::string& body = got.second;
        r.metrics = body;
        return std::regex_search(body, kCheckpointed) &&
               std::all_of(wanted.begin(), wanted.end(),
                           [&](const std::string& w) { return body.find(w) != std::string::npos; });
      },
      25);
  r.healthz = get("/healthz", false).first;
  r.readyz = get("/readyz", false).first;
  r.metrics_without_auth = get("/metrics", false).first;
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
  EXPECT_EQ(r.metrics_without_auth, 401) << r.log;
  EXPECT_EQ(r.exit_code, 0) << r.log;  // SIGTERM, as Kubernetes and systemd stop it
  EXPECT_TRUE(std::regex_search(r.metrics, kCheckpointed)) << r.metrics;

  // Every vigil_ name the dashboard and the alert rules query is served;
  // vigil_metric_<name> is a rule metric of the reference rules (those
  // with no closed window yet are not on /metrics).
  std::set<std::string> served;
  for (const std::string& line : Lines(r.metrics)) {
    if (line.rfind("# TYPE ", 0) == 0) served.insert(Words(line)[2]);
  }
  std::set<std::string> rule_metrics;  // as named on /metrics
  for (const auto& [name, exported] : RuleMetricNames()) rule_metrics.insert(exported);
  auto check = [&](const std::vector<std::string>& exprs, const std::string& where) {
    int names = 0;
    for (const std::string& e : exprs) {
      for (const std::string& n : VigilNames(e)) {
        ++names;
        if (rule_metrics.contains(n)) continue;
        EXPECT_TRUE(served.count(n)) << where << ": " << n << " is not on /metrics, in: " << e;
      }
    }
    EXPECT_GT(names, 10) << where;
  };
  check(DashboardExprs(), "dashboard");
  check(AlertRuleExprs(), "vigil-alerts.yml");

  // promtool parses the exposition and lints every name: the job's own and
  // the reference rules' (`unit:` exports latency_p99_ms in seconds).
  const std::string scraped = Temp("metrics.txt");
  std::ofstream(scraped) << r.metrics;
  Result m = Sh("promtool check metrics < " + scraped + " 2>&1");
  EXPECT_EQ(m.exit_code, 0) << m.out;
  EXPECT_EQ(m.out, "");
  EXPECT_NE(r.metrics.find("\nvigil_metric_latency_p99_seconds "), std::string::npos);
}

}  // namespace
}  // namespace vigil
