// Checks of the Prometheus rules, the Grafana dashboard, the Dockerfile and
// the systemd unit under deploy/ (see deploy_k8s_test.cc for the manifests).
#include "tests/runtime/deploy_util.h"

namespace vigil {
namespace {

using namespace deploy_test;  // NOLINT: the helpers of these checks

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
  const std::map<std::string, std::string> rule_metrics = RuleMetricNames();
  for (const char* day1 : {"latency_p50_ms", "latency_p95_ms", "latency_p99_ms", "error_rate",
                           "escalation_rate", "cache_hit_rate", "thumbs_down_rate",
                           "intent_messages", "guardrail_rate", "bedrock_breaker_open"}) {
    ASSERT_TRUE(rule_metrics.count(day1)) << day1;
    EXPECT_TRUE(shown.count(rule_metrics.at(day1))) << day1 << " as " << rule_metrics.at(day1);
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

// The build stage copies every folder the binary is built from (one per
// library of CMakeLists.txt), and the image carries the manual page and
// the bash completion the binary generates.
TEST(DeployTest, DockerfileCopiesEverySourceFolderAndInstallsTheManPage) {
  const std::string cmake = ReadFile(kSource + "/CMakeLists.txt");
  std::set<std::string> folders;
  static const std::regex library(R"(vigil_folder_library\(\w+\s+([a-z_]+))");
  for (auto it = std::sregex_iterator(cmake.begin(), cmake.end(), library);
       it != std::sregex_iterator(); ++it) {
    folders.insert((*it)[1].str());
  }
  EXPECT_TRUE(folders.contains("base") && folders.contains("operators")) << cmake;
  std::set<std::string> copied;
  bool man = false, completion = false;
  for (const auto& [kw, rest] : DockerInstructions()) {
    if (kw != "COPY") continue;
    const std::vector<std::string> w = Words(rest);
    if (w.size() == 2 && w[0].back() == '/') copied.insert(w[0].substr(0, w[0].size() - 1));
    man |= w.size() == 3 && w[2] == "/usr/local/share/man/man1/vigil.1";
    completion |= w.size() == 3 && w[2] == "/usr/share/bash-completion/completions/vigil";
  }
  for (const std::string& f : folders) EXPECT_TRUE(copied.contains(f)) << "COPY " << f << "/";
  EXPECT_TRUE(man);
  EXPECT_TRUE(completion);
}

// The image's job file (/etc/vigil/job.yaml) names rule files that the
// image has.
TEST(DeployTest, EveryRuleFileOfTheImagesJobFileIsInTheImage) {
  std::set<std::string> in_image;
  std::string job_source;
  for (const auto& [kw, rest] : DockerInstructions()) {
    if (kw != "COPY") continue;
    std::vector<std::string> w = Words(rest);
    if (w.empty() || w[0].rfind("--from=", 0) == 0) continue;
    const std::string dest = w.back();
    w.pop_back();
    for (const std::string& src : w) {
      const std::string name = src.substr(src.rfind('/') + 1);
      in_image.insert(dest.back() == '/' ? dest + name : dest);
      if (dest == "/etc/vigil/job.yaml") job_source = src;
    }
  }
  ASSERT_FALSE(job_source.empty());
  const YAML::Node job = YAML::LoadFile(kSource + "/" + job_source);
  ASSERT_TRUE(job["rules"].IsSequence());
  for (const YAML::Node& rule : job["rules"]) {
    EXPECT_TRUE(in_image.contains(rule.as<std::string>()))
        << rule.as<std::string>() << " is named by " << job_source << " but not copied";
  }
}

// deploy/rules/events.yaml declares exactly what the generator writes:
// every field it declares turns up in the events, with the declared type
// (or null), and the reference rules read no field it does not declare.
TEST(DeployTest, TheDeclaredEventsAreThoseTheGeneratorWrites) {
  const YAML::Node schema = YAML::LoadFile(kDeploy + "rules/events.yaml")["schema"];
  ASSERT_TRUE(schema.IsMap());
  std::map<std::string, std::string> declared;
  for (const auto& kv : schema) declared[kv.first.as<std::string>()] = kv.second.as<std::string>();
  const std::string events = Temp("declared_events.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --duration 20m --rate 50 --seed 2 --incident bedrock_open@5m+3m " +
               "--out " + events)
                .exit_code,
            0);
  std::map<std::string, std::set<std::string>> seen;  // field -> JSON types
  simdjson::dom::parser parser;
  for (const std::string& line : Lines(ReadFile(events))) {
    simdjson::dom::object o;
    ASSERT_EQ(parser.parse(line).get(o), simdjson::SUCCESS) << line;
    for (auto [key, value] : o) {
      const std::string type = value.is_string()                       ? "string"
                               : value.is_bool()                       ? "bool"
                               : value.is_int64() || value.is_double() ? "number"
                               : value.is_null()                       ? "null"
                                                                       : "other";
      seen[std::string(key)].insert(type);
    }
  }
  for (const auto& [field, type] : declared) {
    ASSERT_TRUE(seen.contains(field)) << field << " is declared but never written";
    for (const std::string& t : seen[field]) {
      EXPECT_TRUE(t == type || t == "null")
          << field << " is declared " << type << ", written " << t;
    }
  }
  for (const auto& [field, types] : seen) {
    EXPECT_TRUE(field == "ts" || field == "type" || declared.contains(field))
        << field << " is written but not declared";
  }
  Result check = Sh(kVigil + " check " + kDeploy + "rules/chatbot.yaml " + kDeploy +
                    "rules/slos.yaml " + kDeploy + "rules/events.yaml 2>&1");
  EXPECT_EQ(check.exit_code, 0) << check.out;
}

// The image tags the deploy files and their documentation name are the
// version of CMakeLists.txt, so that a release changes them with it.
TEST(DeployTest, ImageTagsAreTheProjectVersion) {
  const std::regex tag(R"(vigil:([0-9]+\.[0-9]+\.[0-9]+))");
  int tags = 0;
  for (const char* file : {"Dockerfile", "README.md", "kubernetes/statefulset.yaml"}) {
    const std::string text = ReadFile(kDeploy + file);
    for (std::sregex_iterator it(text.begin(), text.end(), tag), end; it != end; ++it) {
      EXPECT_EQ((*it)[1].str(), VIGIL_VERSION) << file << ": " << it->str();
      ++tags;
    }
  }
  EXPECT_GE(tags, 3);
}

// The image serves its endpoint with TLS and authentication (the web config
// mounted at /etc/vigil-web, as deploy/kubernetes mounts it) and checks its
// health over HTTPS on the path that needs no credentials.
TEST(DeployTest, DockerfileRunsTheEndpointWithTheWebConfig) {
  std::vector<std::string> cmd, health;
  for (const auto& [kw, rest] : DockerInstructions()) {
    if (kw == "CMD") cmd = JsonArray(rest);
    if (kw == "HEALTHCHECK") {
      const size_t at = rest.find("CMD ");
      ASSERT_NE(at, std::string::npos) << rest;
      health = JsonArray(rest.substr(at + 4));
    }
  }
  const auto web = std::find(cmd.begin(), cmd.end(), "--web.config.file");
  ASSERT_NE(web, cmd.end());
  ASSERT_NE(web + 1, cmd.end());
  EXPECT_EQ(*(web + 1), "/etc/vigil-web/web.yml");
  ASSERT_FALSE(health.empty());
  EXPECT_EQ(health[0], "curl");
  EXPECT_EQ(health.back(), "https://127.0.0.1:9464/healthz");
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
    // A library may come with a listed package's dependencies, direct or
    // not (libcrypto with libssl3, liblz4 with librdkafka1, libkrb5-3 with
    // libpq5 through libgssapi-krb5-2), as apt installs them.
    std::set<std::string> closure(runtime.begin(), runtime.end());
    for (std::vector<std::string> next(runtime.begin(), runtime.end()); !next.empty();) {
      std::string names;
      for (const std::string& p : next) names += " " + p;
      next.clear();
      const std::string deps =
          Sh("dpkg-query -W -f='${Depends}, ${Pre-Depends}, '" + names + " 2>/dev/null").out;
      static const std::regex dep(R"((?:^|[,|]\s*)([a-z0-9][a-z0-9.+-]+))");
      for (auto it = std::sregex_iterator(deps.begin(), deps.end(), dep);
           it != std::sregex_iterator(); ++it) {
        if (closure.insert((*it)[1].str()).second) next.push_back((*it)[1].str());
      }
    }
    std::string installed_deps;
    for (const std::string& p : closure) installed_deps += p + ", ";
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
      const std::string pkg = owner.contains(path) ? owner[path] : owner[real];
      ASSERT_FALSE(pkg.empty()) << "no package owns " << path;
      ++libs;
      if (base.contains(pkg)) continue;
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
