// The Notifier against a real Alertmanager (Debian's prometheus-alertmanager,
// installed by scripts/setup.sh), and deploy/alertmanager.yml against amtool.
#include <fcntl.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>  // environ (_GNU_SOURCE)

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>

#include "gtest/gtest.h"
#include "operators/net/http_client.h"
#include "operators/notify/notifier.h"
#include "tests/operators/notify/notify_test_util.h"
#include "tests/operators/notify/recording_receiver.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using testing_util::Eventually;
using testing_util::JsonString;
using testing_util::MakeNotice;
using testing_util::RecordedRequest;
using testing_util::RecordingReceiver;
using testing_util::TempDir;
using testing_util::WallMs;

constexpr char kAlertmanager[] = "/usr/bin/prometheus-alertmanager";
constexpr char kAmtool[] = "/usr/bin/amtool";

uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Runs `argv` with stdout and stderr appended to `log`; returns the pid.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

// Runs a command to completion; its exit status and output.
std::pair<int, std::string> RunCommand(const std::vector<std::string>& argv, const TempDir& dir) {
  const std::string log = dir.file("run.log");
  std::remove(log.c_str());
  const pid_t pid = Spawn(argv, log);
  if (pid < 0) return {-1, "cannot start " + argv[0]};
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::ifstream in(log);
  std::string out((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// One Alertmanager on 127.0.0.1:port with its own storage, notifying
// `webhook` (send_resolved) with short group timers.
class AlertmanagerProcess {
 public:
  AlertmanagerProcess(const TempDir& dir, const std::string& webhook)
      : dir_(dir), port_(FreePort()) {
    std::ofstream(dir.file("am.yml")) << "route:\n"
                                         "  receiver: recorder\n"
                                         "  group_by: [alertname]\n"
                                         "  group_wait: 100ms\n"
                                         "  group_interval: 200ms\n"
                                         "  repeat_interval: 1h\n"
                                         "receivers:\n"
                                         "  - name: recorder\n"
                                         "    webhook_configs:\n"
                                         "      - url: "
                                      << webhook
                                      << "\n"
                                         "        send_resolved: true\n";
  }
  ~AlertmanagerProcess() { Stop(); }

  // Starts (again, on the same port) and waits for /-/ready.
  ::testing::AssertionResult Start() {
    if (::access(kAlertmanager, X_OK) != 0) {
      return ::testing::AssertionFailure()
             << kAlertmanager << " is missing: install the Debian package "
             << "prometheus-alertmanager (scripts/setup.sh does)";
    }
    pid_ = Spawn({kAlertmanager, "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                  "--cluster.listen-address=", "--storage.path=" + dir_.file("data"),
                  "--config.file=" + dir_.file("am.yml"), "--log.level=warn"},
                 dir_.file("alertmanager.log"));
    if (pid_ < 0) return ::testing::AssertionFailure() << "cannot start " << kAlertmanager;
    const bool ready = Eventually(
        [&] {
          absl::StatusOr<HttpClientResponse> r = Get("/-/ready");
          return r.ok() && r->status == 200;
        },
        20s);
    if (!ready) {
      std::ifstream in(dir_.file("alertmanager.log"));
      std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      return ::testing::AssertionFailure() << "Alertmanager did not become ready:\n" << log;
    }
    return ::testing::AssertionSuccess();
  }

  void Stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  absl::StatusOr<HttpClientResponse> Get(const std::string& target) const {
    HttpClient::Options o;
    o.timeout = 2s;
    HttpClient client(*HttpUrl::Parse(url()), o);
    return client.Send("GET", target, "");
  }

  // GET /api/v2/alerts as alertname -> alert JSON text (fingerprints checked unique).
  std::map<std::string, std::string> Alerts() const {
    std::map<std::string, std::string> out;
    absl::StatusOr<HttpClientResponse> r = Get("/api/v2/alerts");
    if (!r.ok() || r->status != 200) {
      ADD_FAILURE() << "GET /api/v2/alerts failed";
      return out;
    }
    simdjson::dom::parser parser;
    std::set<std::string> fingerprints;
    for (simdjson::dom::element a : parser.parse(r->body).get_array()) {
      EXPECT_TRUE(fingerprints.insert(JsonString(a, "fingerprint")).second) << r->body;
      out[JsonString(a["labels"], "alertname")] = simdjson::to_string(a);
    }
    return out;
  }

  // alertmanager_alerts_received_total{status=...} from /metrics.
  int ReceivedTotal(const std::string& status) const {
    absl::StatusOr<HttpClientResponse> r = Get("/metrics");
    if (!r.ok()) return -1;
    int total = 0;
    std::istringstream in(r->body);
    for (std::string line; std::getline(in, line);) {
      if (line.starts_with("alertmanager_alerts_received_total{") &&
          line.find("status=\"" + status + "\"") != std::string::npos) {
        total += std::stoi(line.substr(line.rfind(' ') + 1));
      }
    }
    return total;
  }

 private:
  const TempDir& dir_;
  uint16_t port_;
  pid_t pid_ = -1;
};

NotifyConfig AmConfig(const std::string& url, const std::string& spool_dir) {
  NotifyConfig c;
  c.labels = {{"job", "vigil"}, {"instance", "vigil-0"}};
  c.external_url = "http://vigil.test:9464";
  c.spool_dir = spool_dir;
  c.timeout = 2000;
  c.retry_initial = 20;
  c.retry_max = 200;
  NotifyReceiver am;
  am.name = "alertmanager";
  am.kind = NotifyReceiver::Kind::kAlertmanager;
  am.urls = {url};
  c.receivers = {am};
  c.routes[1] = {"alertmanager"};
  return c;
}

// Statuses of the notifications Alertmanager sent about `alertname`.
std::vector<std::string> WebhookStatuses(const RecordingReceiver& rx,
                                         const std::string& alertname) {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  for (const RecordedRequest& r : rx.Accepted()) {
    simdjson::dom::element e = parser.parse(r.body);
    if (JsonString(e["groupLabels"], "alertname") == alertname)
      out.push_back(JsonString(e, "status"));
  }
  return out;
}

TEST(AlertmanagerTest, AFiringAlertAppearsAndAResolvedOneResolves) {
  TempDir dir;
  RecordingReceiver rx;
  AlertmanagerProcess am(dir, rx.url("/am-webhook"));
  ASSERT_TRUE(am.Start());
  auto n = Notifier::Create(AmConfig(am.url(), dir.file("spool")));
  ASSERT_TRUE(n.ok()) << n.status();
  const TimeMs t0 = AlignDown(WallMs() - 120000, 1000);
  (*n)->OnAlert(MakeNotice("LatencyP99Critical", 1, Transition::kFiring, t0, t0));

  std::map<std::string, std::string> alerts;
  ASSERT_TRUE(Eventually([&] { return (alerts = am.Alerts()).contains("LatencyP99Critical"); }));
  simdjson::dom::parser parser;
  simdjson::dom::element a = parser.parse(alerts["LatencyP99Critical"]);
  EXPECT_EQ(JsonString(a["labels"], "severity"), "P1");
  EXPECT_EQ(JsonString(a["labels"], "job"), "vigil");
  EXPECT_EQ(JsonString(a["labels"], "instance"), "vigil-0");
  EXPECT_EQ(JsonString(a["annotations"], "summary"), "p99 latency 12034 ms above 10 s");
  EXPECT_EQ(JsonString(a["annotations"], "runbook_url"), "https://runbooks.example/latency");
  EXPECT_EQ(JsonString(a["status"], "state"), "active");
  EXPECT_EQ(ParseRfc3339(JsonString(a, "startsAt")), t0);
  EXPECT_GT(*ParseRfc3339(JsonString(a, "endsAt")), WallMs());
  EXPECT_EQ(JsonString(a, "generatorURL").rfind("http://vigil.test:9464/status?fingerprint=", 0),
            0u);
  // Alertmanager notified its receiver of the firing alert.
  ASSERT_TRUE(Eventually([&] { return !WebhookStatuses(rx, "LatencyP99Critical").empty(); }));

  AlertNotice resolved = MakeNotice("LatencyP99Critical", 1, Transition::kResolved, t0 + 60000, t0);
  resolved.resolved_value = 3181.25;
  (*n)->OnAlert(resolved);
  // Resolved: gone from the active alerts, and Alertmanager says so to its receiver.
  ASSERT_TRUE(Eventually([&] { return !am.Alerts().contains("LatencyP99Critical"); }));
  ASSERT_TRUE(Eventually([&] {
    std::vector<std::string> s = WebhookStatuses(rx, "LatencyP99Critical");
    return !s.empty() && s.back() == "resolved";
  }));
  // Its notification says what fired and what resolved it, over one minute.
  simdjson::dom::element last = parser.parse(rx.Accepted().back().body)["alerts"].at(0);
  EXPECT_EQ(JsonString(last["annotations"], "summary"), "p99 latency 12034 ms above 10 s");
  EXPECT_EQ(JsonString(last["annotations"], "resolved_value"), "3181.25");
  EXPECT_EQ(ParseRfc3339(JsonString(last, "startsAt")), t0);
  EXPECT_EQ(ParseRfc3339(JsonString(last, "endsAt")), t0 + 60000);
  EXPECT_EQ(am.ReceivedTotal("firing"), 1);
  EXPECT_EQ(am.ReceivedTotal("resolved"), 1);
}

TEST(AlertmanagerTest, TransitionsDuringAnOutageAndARestartAllArriveOncePerFingerprint) {
  TempDir dir;
  RecordingReceiver rx;
  AlertmanagerProcess am(dir, rx.url("/am-webhook"));
  ASSERT_TRUE(am.Start());
  const NotifyConfig config = AmConfig(am.url(), dir.file("spool"));
  const TimeMs t0 = AlignDown(WallMs() - 120000, 1000);
  {
    auto n = Notifier::Create(config);
    ASSERT_TRUE(n.ok()) << n.status();
    (*n)->OnAlert(MakeNotice("A", 1, Transition::kFiring, t0, t0));
    (*n)->OnAlert(MakeNotice("B", 1, Transition::kFiring, t0, t0));
    ASSERT_TRUE(Eventually([&] { return am.Alerts().size() == 2; }));
    am.Stop();
    // Down: A resolves, C fires; then vigil restarts.
    (*n)->OnAlert(MakeNotice("A", 1, Transition::kResolved, t0 + 60000, t0));
    (*n)->OnAlert(MakeNotice("C", 1, Transition::kFiring, t0 + 60000, t0 + 60000));
    ASSERT_TRUE(Eventually([&] { return (*n)->Stats()[0].retried > 0; }));
    EXPECT_EQ((*n)->Stats()[0].spooled, 2u);
  }
  auto n = Notifier::Create(config);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ((*n)->Stats()[0].spooled, 2u);
  (*n)->OnAlert(MakeNotice("B", 1, Transition::kResolved, t0 + 90000, t0));
  (*n)->OnAlert(MakeNotice("D", 1, Transition::kFiring, t0 + 90000, t0 + 90000));
  (*n)->OnAlert(MakeNotice("C", 1, Transition::kResolved, t0 + 100000, t0 + 60000));
  (*n)->OnAlert(MakeNotice("C", 1, Transition::kFiring, t0 + 110000, t0 + 110000));
  (*n)->WaitSpooled();
  ASSERT_TRUE(am.Start());  // a fresh Alertmanager: it keeps no alerts across restarts

  ASSERT_TRUE(Eventually([&] { return (*n)->Stats()[0].sent == 6; }));
  ReceiverStats s = (*n)->Stats()[0];
  EXPECT_EQ(s.spooled, 0u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.dropped, 0u);
  // Every transition of the outage reached the new Alertmanager, each once...
  EXPECT_EQ(am.ReceivedTotal("resolved"), 3);  // A, B, C
  EXPECT_EQ(am.ReceivedTotal("firing"), 3);    // C, D, C again
  // ... and it holds one alert per fingerprint: C (fired again) and D.
  std::map<std::string, std::string> alerts = am.Alerts();
  ASSERT_EQ(alerts.size(), 2u);
  simdjson::dom::parser parser;
  simdjson::dom::element c = parser.parse(alerts["C"]);
  EXPECT_EQ(JsonString(c["status"], "state"), "active");
  EXPECT_EQ(ParseRfc3339(JsonString(c, "startsAt")), t0 + 110000);
  EXPECT_TRUE(alerts.contains("D"));
}

TEST(AlertmanagerTest, DeployConfigPassesAmtoolAndRoutesBySeverity) {
  ASSERT_EQ(::access(kAmtool, X_OK), 0)
      << kAmtool << " is missing: install the Debian package prometheus-alertmanager "
      << "(scripts/setup.sh does)";
  TempDir dir;
  const std::string config = std::string(VIGIL_SOURCE_DIR) + "/deploy/alertmanager.yml";
  auto [rc, out] = RunCommand({kAmtool, "check-config", config}, dir);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("SUCCESS"), std::string::npos) << out;
  const std::pair<const char*, const char*> kRoutes[] = {
      {"P1", "pager"}, {"P2", "team-channel"}, {"P3", "tickets"}, {"P4", "weekly-digest"}};
  for (const auto& [severity, receiver] : kRoutes) {
    auto [code, routed] =
        RunCommand({kAmtool, "config", "routes", "test", "--config.file=" + config,
                    std::string("severity=") + severity, "alertname=X"},
                   dir);
    EXPECT_EQ(code, 0) << routed;
    EXPECT_NE(routed.find(receiver), std::string::npos) << severity << ": " << routed;
  }
}

}  // namespace
}  // namespace vigil
