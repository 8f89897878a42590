// End-to-end tests of paging: the vigil binary with a `notify:` section in
// its job file, a real Alertmanager (Debian's prometheus-alertmanager), and
// local recording HTTP receivers standing in for PagerDuty and webhooks.
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/time.h"
#include "gtest/gtest.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
// LatencyP99Critical (P1) fires at 00:10 and resolves at 00:16; LatencyP95High
// (P2) fires at 00:15 and resolves at 00:16; GuardrailRateHigh (P2) fires at
// 00:23 and resolves at 00:30; ThumbsDownHigh and FaqTopicNegativeFeedback
// are P3.
const std::string kIncidents =
    " --rate 20 --duration 40m --seed 3 --incident latency_spike@5m+10m"
    " --incident guardrail_storm@20m+6m";

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  return e[key].get(v) == simdjson::SUCCESS ? std::string(v) : "";
}
std::string Str(simdjson::dom::element e, const char* object, const char* key) {
  simdjson::dom::element o;
  return e[object].get(o) == simdjson::SUCCESS ? Str(o, key) : "";
}
TimeMs Time(simdjson::dom::element e, const char* key) {
  return ParseRfc3339(Str(e, key)).value_or(kMinTime);
}

// (alert, state) of the console's JSON lines with `severity`, in order.
using Transitions = std::vector<std::pair<std::string, std::string>>;
Transitions ConsoleTransitions(const std::string& console, const std::string& severity) {
  Transitions out;
  simdjson::dom::parser parser;
  for (const std::string& line : Lines(console)) {
    simdjson::dom::element e;
    if (line[0] != '{' || parser.parse(line).get(e) != simdjson::SUCCESS) continue;
    const std::string state = Str(e, "state");
    if (Str(e, "severity") == severity && (state == "firing" || state == "resolved")) {
      out.emplace_back(Str(e, "alert"), state);
    }
  }
  return out;
}

// The "at" of the console's firing lines of `alert`.
std::vector<TimeMs> FiredAt(const std::string& console, const std::string& alert) {
  std::vector<TimeMs> out;
  simdjson::dom::parser parser;
  for (const std::string& line : Lines(console)) {
    simdjson::dom::element e;
    if (line[0] != '{' || parser.parse(line).get(e) != simdjson::SUCCESS) continue;
    if (Str(e, "alert") == alert && Str(e, "state") == "firing") out.push_back(Time(e, "at"));
  }
  return out;
}

// (alertname, status) of every alert in Alertmanager-webhook bodies, and
// their severities.
Transitions WebhookTransitions(const std::vector<RecordedRequest>& requests,
                               std::set<std::string>* severities) {
  Transitions out;
  simdjson::dom::parser parser;
  for (const RecordedRequest& r : requests) {
    simdjson::dom::element body;
    EXPECT_EQ(parser.parse(r.body).get(body), simdjson::SUCCESS) << r.body;
    EXPECT_EQ(Str(body, "version"), "4") << r.body;
    EXPECT_FALSE(Str(body, "groupKey").empty()) << r.body;
    simdjson::dom::array alerts;
    EXPECT_EQ(body["alerts"].get(alerts), simdjson::SUCCESS) << r.body;
    for (simdjson::dom::element a : alerts) {
      out.emplace_back(Str(a, "labels", "alertname"), Str(a, "status"));
      severities->insert(Str(a, "labels", "severity"));
      EXPECT_FALSE(Str(a, "annotations", "summary").empty()) << r.body;
      EXPECT_FALSE(Str(a, "fingerprint").empty()) << r.body;
    }
  }
  return out;
}

class PagingE2eTest : public ::testing::Test {
 protected:
  void SetUp() override { RemoveTestPaths(Path("")); }
  // Unique per test, also when several run in one process.
  std::string Path(const std::string& name) {
    return TempPath(std::string("paging_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
  std::string Events(const std::string& flags) {
    std::string events = Path("events.ndjson");
    EXPECT_EQ(Sh(kVigil + " gen" + flags + " --out " + events).exit_code, 0);
    return events;
  }
  std::string JobFile(const std::string& yaml) {
    std::string path = Path("job.yaml");
    std::ofstream(path) << yaml;
    return path;
  }
  // The base URL of a job started with --http 127.0.0.1:0, from its log.
  static std::string HttpBase(const std::string& log) {
    std::string base = JobHttpBase(log);
    EXPECT_FALSE(base.empty()) << ReadFile(log);
    return base;
  }
};

TEST_F(PagingE2eTest, AlertmanagerHoldsTheFiringP1AndThenResolvesIt) {
  const std::string dir = Path("am");
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  RecordingReceiver am_webhook;
  std::unique_ptr<Alertmanager> am = Alertmanager::Start(dir, am_webhook.url("/am"));
  ASSERT_TRUE(am);
  const std::string job = JobFile(
      "notify:\n"
      "  labels: {job: vigil-e2e, instance: e2e-0}\n"
      "  resend_interval: 1s\n"
      "  timeout: 10s\n"
      "  retry: {initial: 50ms, max: 500ms}\n"
      "  receivers:\n"
      "    - {name: alertmanager, kind: alertmanager, url: " +
      am->url() +
      "}\n"
      "  routes: {P1: [alertmanager]}\n");
  // The events go in through stdin in two parts: Alertmanager shows only
  // alerts that have not resolved, so the test looks at the alert there
  // between the part where it fires and the part where it resolves.
  const std::vector<std::string> events = Lines(ReadFile(Events(kIncidents)));
  ASSERT_EQ(events.size(), 48000u);
  const size_t split = 12 * 60 * 20;  // 00:12, two minutes after the P1 fired
  FILE* in = ::popen((kVigil + " run --config " + job + " --input - --http off --output json " +
                      "--no-progress >" + Path("console.ndjson") + " 2>" + Path("stderr.log"))
                         .c_str(),
                     "w");
  ASSERT_NE(in, nullptr);
  for (size_t i = 0; i < split; ++i) std::fprintf(in, "%s\n", events[i].c_str());
  std::fflush(in);

  simdjson::dom::parser parser;
  std::string body;
  ASSERT_TRUE(WaitFor(
      [&] {
        return (body = HttpGet(am->url(), "/api/v2/alerts").second).find("LatencyP99Critical") !=
               std::string::npos;
      },
      20))
      << ReadFile(Path("stderr.log"));
  simdjson::dom::array held;
  ASSERT_EQ(parser.parse(body).get(held), simdjson::SUCCESS) << body;
  ASSERT_EQ(held.size(), 1u) << "only P1 is routed to Alertmanager: " << body;
  simdjson::dom::element a = held.at(0);
  EXPECT_EQ(Str(a, "labels", "alertname"), "LatencyP99Critical");
  EXPECT_EQ(Str(a, "labels", "severity"), "P1");
  EXPECT_EQ(Str(a, "labels", "job"), "vigil-e2e");
  EXPECT_EQ(Str(a, "labels", "instance"), "e2e-0");
  EXPECT_EQ(Str(a, "annotations", "runbook_url"), "https://runbooks.example/chatbot/latency");
  const std::string fired_summary = Str(a, "annotations", "summary");
  EXPECT_TRUE(
      std::regex_match(fired_summary, std::regex("p99 latency \\d+ ms above 10 s for 5 minutes")))
      << body;
  EXPECT_EQ(Str(a, "status", "state"), "active");
  EXPECT_EQ(Time(a, "startsAt"), *ParseRfc3339("2026-01-01T00:10:00Z")) << body;
  // Alertmanager paged its own receiver about it.
  auto webhook_statuses = [&] {
    std::vector<std::string> out;
    for (const RecordedRequest& r : am_webhook.Accepted()) {
      simdjson::dom::element e;
      if (parser.parse(r.body).get(e) == simdjson::SUCCESS) out.push_back(Str(e, "status"));
    }
    return out;
  };
  ASSERT_TRUE(WaitFor([&] { return !webhook_statuses().empty(); }, 20));
  EXPECT_EQ(webhook_statuses().front(), "firing");

  for (size_t i = split; i < events.size(); ++i) std::fprintf(in, "%s\n", events[i].c_str());
  const int status = ::pclose(in);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(Path("stderr.log"));
  EXPECT_EQ(ConsoleTransitions(ReadFile(Path("console.ndjson")), "P1"),
            (Transitions{{"LatencyP99Critical", "firing"}, {"LatencyP99Critical", "resolved"}}));

  // Resolved in Alertmanager: it tells its receiver, with the times of the
  // incident, and no longer holds the alert.
  ASSERT_TRUE(WaitFor([&] { return webhook_statuses().back() == "resolved"; }, 20))
      << ReadFile(Path("stderr.log"));
  simdjson::dom::element resolved;
  ASSERT_EQ(parser.parse(am_webhook.Accepted().back().body).get(resolved), simdjson::SUCCESS);
  simdjson::dom::element r = resolved["alerts"].at(0);
  EXPECT_EQ(Str(r, "status"), "resolved");
  EXPECT_EQ(Str(r, "labels", "alertname"), "LatencyP99Critical");
  EXPECT_EQ(Str(r, "labels", "job"), "vigil-e2e");
  EXPECT_EQ(Str(r, "labels", "instance"), "e2e-0");
  EXPECT_EQ(Str(r, "annotations", "runbook_url"), "https://runbooks.example/chatbot/latency");
  EXPECT_EQ(Time(r, "startsAt"), *ParseRfc3339("2026-01-01T00:10:00Z"));
  EXPECT_EQ(Time(r, "endsAt"), *ParseRfc3339("2026-01-01T00:16:00Z"));
  // It says what fired (the summary of its last firing evaluation, a p99
  // above 10 s), and separately the p99 that resolved it.
  const std::string resolved_summary = Str(r, "annotations", "summary");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(resolved_summary, m, std::regex("p99 latency (\\d+) ms above.*")))
      << resolved_summary;
  EXPECT_GT(std::stod(m[1].str()), 10000) << resolved_summary;
  EXPECT_LE(std::stod(Str(r, "annotations", "resolved_value")), 10000);
  EXPECT_EQ(Lines(HttpGet(am->url(), "/api/v2/alerts").second), std::vector<std::string>{"[]"});
}

// --alertmanager URL without a job file: every severity reaches it (the P1
// at 00:10 and the P2 at 00:15 both), held there while they fire.
TEST_F(PagingE2eTest, TheAlertmanagerFlagSendsEverySeverity) {
  const std::string dir = Path("am");
  ASSERT_EQ(::mkdir(dir.c_str(), 0755), 0);
  RecordingReceiver am_webhook;
  std::unique_ptr<Alertmanager> am = Alertmanager::Start(dir, am_webhook.url("/am"));
  ASSERT_TRUE(am);
  const std::vector<std::string> events = Lines(ReadFile(Events(kIncidents)));
  FILE* in = ::popen((kVigil + " run --alertmanager " + am->url() +
                      " --input - --http off --no-console --no-progress 2>" + Path("stderr.log"))
                         .c_str(),
                     "w");
  ASSERT_NE(in, nullptr);
  const size_t split = 15 * 60 * 20 + 30 * 20;  // 00:15:30: both fire, neither has resolved
  for (size_t i = 0; i < split; ++i) std::fprintf(in, "%s\n", events[i].c_str());
  std::fflush(in);
  std::string body;
  EXPECT_TRUE(WaitFor(
      [&] {
        body = HttpGet(am->url(), "/api/v2/alerts").second;
        return body.find("LatencyP99Critical") != std::string::npos &&
               body.find("LatencyP95High") != std::string::npos;
      },
      20))
      << body << ReadFile(Path("stderr.log"));
  EXPECT_EQ(::pclose(in), 0) << ReadFile(Path("stderr.log"));
  // A malformed URL is a usage error that names the flag.
  const Result bad = Sh(kVigil + " run --alertmanager 'not a url' 2>&1");
  EXPECT_EQ(bad.exit_code, 2);
  // (The URL is not echoed: it may hold a password.)
  EXPECT_NE(bad.out.find("--alertmanager: URL \"<redacted URL>\" must start with http:// or "
                         "https://"),
            std::string::npos)
      << bad.out;
  // A job file's receiver of that name and another kind is not replaced.
  const std::string job = JobFile(
      "notify:\n  receivers:\n    - {name: alertmanager, kind: webhook, url: "
      "http://127.0.0.1:9/x}\n  routes: {P1: [alertmanager]}\n");
  const Result clash =
      Sh(kVigil + " run --config " + job + " --alertmanager " + am->url() + " 2>&1");
  EXPECT_EQ(clash.exit_code, 2);
  EXPECT_NE(clash.out.find("the job file has one of another kind"), std::string::npos) << clash.out;
}

// A production job file run with --dry-run: the alerts fire and resolve on
// the console as they would, and nothing reaches a receiver or the disk.
TEST_F(PagingE2eTest, ADryRunPagesNobodyAndWritesNothing) {
  RecordingReceiver team;
  const std::string job = JobFile(
      "notify:\n"
      "  receivers:\n"
      "    - {name: team, kind: webhook, url: " +
      team.url("/team") +
      "}\n"
      "  routes: {P1: [team], P2: [team]}\n"
      "checkpoint: {dir: " +
      Path("ckpt") +
      "}\n"
      "outputs:\n"
      "  results: {path: " +
      Path("results.ndjson") +
      "}\n"
      "  dead_letter: {path: " +
      Path("dead.ndjson") +
      "}\n"
      "  archive: {dir: " +
      Path("archive") + "}\n");
  const std::string events = Events(kIncidents);
  auto files_written = [&] {
    std::string out;
    for (const char* name : {"ckpt", "results.ndjson", "dead.ndjson", "archive"}) {
      struct stat st;
      if (::stat(Path(name).c_str(), &st) == 0) out += std::string(name) + " ";
    }
    return out;
  };
  Result dry = Sh(kVigil + " run --config " + job + " --dry-run --input " + events +
                  " --output json --no-progress 2>" + Path("stderr.log"));
  const std::string log = ReadFile(Path("stderr.log"));
  ASSERT_EQ(dry.exit_code, 0) << log;
  EXPECT_EQ(ConsoleTransitions(dry.out, "P1"),
            (Transitions{{"LatencyP99Critical", "firing"}, {"LatencyP99Critical", "resolved"}}));
  EXPECT_TRUE(team.Requests().empty());
  EXPECT_EQ(files_written(), "");
  EXPECT_NE(log.find("vigil: dry run: no notification is sent (receivers team); alerts print "
                     "here"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("vigil: dry run: no checkpoint is read or written"), std::string::npos);
  // The HTTP endpoint moved to a free loopback port, and says where.
  EXPECT_NE(ServingPort(log), 0) << log;

  // The same job file, not dry: the team is paged and the files are there.
  Result wet = Sh(kVigil + " run --config " + job + " --input " + events +
                  " --http off --output json --no-progress 2>" + Path("stderr.log"));
  ASSERT_EQ(wet.exit_code, 0) << ReadFile(Path("stderr.log"));
  EXPECT_FALSE(team.Accepted().empty());
  EXPECT_EQ(files_written(), "ckpt results.ndjson dead.ndjson archive ");
}

TEST_F(PagingE2eTest, EachSeverityReachesOnlyItsReceivers) {
  RecordingReceiver pagerduty, team, tickets, digest;
  // The first page fails; the receiver echoes the request (routing key
  // included) in its error, which vigil must not log verbatim.
  pagerduty.FailNext(1, 500);
  const std::string key = "e2e-routing-key-" + std::to_string(::getpid());
  const std::string job = JobFile(
      "notify:\n"
      "  labels: {job: vigil-e2e}\n"
      "  timeout: 10s\n"
      "  retry: {initial: 50ms, max: 200ms}\n"
      "  spool: {dir: " +
      Path("spool") +
      "}\n"
      "  receivers:\n"
      "    - {name: pagerduty, kind: pagerduty, url: " +
      pagerduty.url("/v2/enqueue") +
      ", routing_key_env: PAGERDUTY_ROUTING_KEY}\n"
      "    - {name: team, kind: webhook, url: " +
      team.url("/team") +
      "}\n"
      "    - {name: tickets, kind: webhook, url: " +
      tickets.url("/tickets") +
      "}\n"
      "    - {name: digest, kind: webhook, url: " +
      digest.url("/digest") +
      ", digest_every: 168h}\n"
      "  routes: {P1: [pagerduty], P2: [team], P3: [tickets], P4: [digest]}\n");
  Result run =
      Sh("PAGERDUTY_ROUTING_KEY=" + key + " " + kVigil + " run --config " + job + " --input " +
         Events(kIncidents) + " --http off --output json --no-progress 2>" + Path("stderr.log"));
  const std::string stderr_text = ReadFile(Path("stderr.log"));
  ASSERT_EQ(run.exit_code, 0) << stderr_text;

  // P1: a trigger and a resolve with one dedup key, to PagerDuty only.
  ASSERT_EQ(ConsoleTransitions(run.out, "P1"),
            (Transitions{{"LatencyP99Critical", "firing"}, {"LatencyP99Critical", "resolved"}}));
  ASSERT_EQ(pagerduty.Requests().size(), 3u) << "a failed trigger, its retry, the resolve";
  const std::vector<RecordedRequest> pages = pagerduty.Accepted();
  ASSERT_EQ(pages.size(), 2u);
  simdjson::dom::parser p1, p2;
  simdjson::dom::element trigger, resolve;
  ASSERT_EQ(p1.parse(pages[0].body).get(trigger), simdjson::SUCCESS) << pages[0].body;
  ASSERT_EQ(p2.parse(pages[1].body).get(resolve), simdjson::SUCCESS) << pages[1].body;
  EXPECT_EQ(pages[0].target, "/v2/enqueue");
  EXPECT_EQ(pages[0].method, "POST");
  EXPECT_EQ(Str(trigger, "event_action"), "trigger");
  EXPECT_EQ(Str(resolve, "event_action"), "resolve");
  EXPECT_FALSE(Str(trigger, "dedup_key").empty());
  EXPECT_EQ(Str(trigger, "dedup_key"), Str(resolve, "dedup_key"));
  EXPECT_EQ(Str(trigger, "routing_key"), key);
  EXPECT_EQ(Str(resolve, "routing_key"), key);
  EXPECT_EQ(Str(trigger, "payload", "severity"), "critical");
  EXPECT_EQ(Str(trigger, "payload", "class"), "LatencyP99Critical");
  EXPECT_EQ(Str(trigger, "payload", "timestamp").substr(0, 19), "2026-01-01T00:10:00");
  // The failure was logged, without the key.
  EXPECT_NE(stderr_text.find("pagerduty"), std::string::npos) << stderr_text;
  EXPECT_EQ(stderr_text.find(key), std::string::npos) << stderr_text;
  EXPECT_EQ(run.out.find(key), std::string::npos);

  // P2 and P3: to their webhooks only, in the Alertmanager webhook shape,
  // each transition once and in the order of the console.
  std::set<std::string> team_severities, ticket_severities, digest_severities;
  EXPECT_EQ(WebhookTransitions(team.Accepted(), &team_severities),
            ConsoleTransitions(run.out, "P2"));
  EXPECT_EQ(ConsoleTransitions(run.out, "P2"), (Transitions{{"LatencyP95High", "firing"},
                                                            {"LatencyP95High", "resolved"},
                                                            {"GuardrailRateHigh", "firing"},
                                                            {"GuardrailRateHigh", "resolved"}}));
  EXPECT_EQ(team_severities, std::set<std::string>{"P2"});
  EXPECT_EQ(team.Requests().size(), 4u);
  const Transitions p3 = ConsoleTransitions(run.out, "P3");
  EXPECT_FALSE(p3.empty());
  EXPECT_EQ(WebhookTransitions(tickets.Accepted(), &ticket_severities), p3);
  EXPECT_EQ(ticket_severities, std::set<std::string>{"P3"});
  // No P4 alert fired; the weekly digest would carry only P4 anyway.
  WebhookTransitions(digest.Accepted(), &digest_severities);
  EXPECT_TRUE(digest_severities.empty() || digest_severities == std::set<std::string>{"P4"});
}

// A run over a file reaches no later digest period: the weekly digest
// sends what the run routed to it when the input ends, in one POST.
TEST_F(PagingE2eTest, ADigestIsSentWhenTheInputEnds) {
  RecordingReceiver digest;
  const std::string job = JobFile(
      "notify:\n"
      "  timeout: 10s\n"
      "  receivers:\n"
      "    - {name: digest, kind: webhook, url: " +
      digest.url("/digest") +
      ", digest_every: 168h}\n"
      "  routes: {P2: [digest]}\n");
  Result run = Sh(kVigil + " run --config " + job + " --input " + Events(kIncidents) +
                  " --http off --output json --no-progress 2>" + Path("stderr.log"));
  ASSERT_EQ(run.exit_code, 0) << ReadFile(Path("stderr.log"));
  const Transitions p2 = ConsoleTransitions(run.out, "P2");
  ASSERT_EQ(p2.size(), 4u);
  ASSERT_EQ(digest.Accepted().size(), 1u);
  std::set<std::string> severities;
  EXPECT_EQ(WebhookTransitions(digest.Accepted(), &severities), p2);
  EXPECT_EQ(severities, std::set<std::string>{"P2"});
}

TEST_F(PagingE2eTest, PagesRaisedDuringAnOutageSurviveAKillAndArriveOnceInOrder) {
  RecordingReceiver pagerduty;
  pagerduty.Stop();  // down: connections are refused
  // Two P1 episodes of LatencyP99Critical, paced at 600x: 25 minutes of
  // event time in 2.5 s.
  auto job_yaml = [&](const std::string& incidents) {
    return "source:\n"
           "  kind: generator\n"
           "  generator: {rate: 20, speed: 600, start: 2026-01-01T00:00:00Z, incidents: [" +
           incidents +
           "]}\n"
           "notify:\n"
           "  timeout: 2s\n"
           "  retry: {initial: 50ms, max: 200ms}\n"
           "  spool: {dir: " +
           Path("spool") +
           "}\n"
           "  receivers:\n"
           "    - {name: pagerduty, kind: pagerduty, url: " +
           pagerduty.url("/v2/enqueue") +
           ", routing_key_env: PAGERDUTY_ROUTING_KEY}\n"
           "  routes: {P1: [pagerduty]}\n";
  };
  const std::string run = "env PAGERDUTY_ROUTING_KEY=e2e-key " + kVigil +
                          " run --http 127.0.0.1:0 --output json --config ";
  auto spooled = [](const std::string& base) {
    return SeriesValue(HttpGet(base, "/metrics").second, "vigil_notifications_spooled",
                       "receiver=\"pagerduty\"");
  };
  auto retried = [](const std::string& base) {
    return SeriesValue(HttpGet(base, "/metrics").second, "vigil_notifications_total",
                       "result=\"retried\"");
  };

  const std::string job1 = JobFile(job_yaml("latency_spike@1m+6m, latency_spike@12m+6m"));
  const std::string log1 = Path("run1.log");
  const pid_t first = Spawn(run + job1, log1);
  ChildGuard first_guard(first);
  const std::string base1 = HttpBase(log1);
  // Both episodes fired and resolved, and all four pages are in the spool.
  ASSERT_TRUE(WaitFor([&] { return ConsoleTransitions(ReadFile(log1), "P1").size() == 4; }, 30))
      << ReadFile(log1);
  EXPECT_TRUE(WaitFor([&] { return spooled(base1) == 4; }, 20)) << ReadFile(log1);
  EXPECT_GT(retried(base1), 0);
  ::kill(first, SIGKILL);
  ASSERT_EQ(WaitExit(first), -SIGKILL);
  const std::string console1 = ReadFile(log1);
  ASSERT_EQ(ConsoleTransitions(console1, "P1"), (Transitions{{"LatencyP99Critical", "firing"},
                                                             {"LatencyP99Critical", "resolved"},
                                                             {"LatencyP99Critical", "firing"},
                                                             {"LatencyP99Critical", "resolved"}}));

  // The restarted job raises nothing itself: only its spool can deliver.
  const std::string job2 = JobFile(job_yaml(""));
  const std::string log2 = Path("run2.log");
  const pid_t second = Spawn(run + job2, log2);
  ChildGuard second_guard(second);
  const std::string base2 = HttpBase(log2);
  EXPECT_TRUE(WaitFor([&] { return spooled(base2) == 4 && retried(base2) > 0; }, 20))
      << ReadFile(log2);
  pagerduty.Restart();
  EXPECT_TRUE(pagerduty.WaitForAccepted(4, std::chrono::seconds(20))) << ReadFile(log2);
  EXPECT_TRUE(WaitFor([&] { return spooled(base2) == 0; }, 20));
  ::kill(second, SIGTERM);
  EXPECT_EQ(WaitExit(second), 0) << ReadFile(log2);
  EXPECT_TRUE(ConsoleTransitions(ReadFile(log2), "P1").empty());

  // Every page once, in the order raised.
  const std::vector<RecordedRequest> pages = pagerduty.Requests();
  ASSERT_EQ(pages.size(), 4u);
  std::vector<std::string> actions, keys;
  std::vector<TimeMs> triggered;
  simdjson::dom::parser parser;
  for (const RecordedRequest& r : pages) {
    simdjson::dom::element e;
    ASSERT_EQ(parser.parse(r.body).get(e), simdjson::SUCCESS) << r.body;
    EXPECT_EQ(r.status, 200);
    actions.push_back(Str(e, "event_action"));
    keys.push_back(Str(e, "dedup_key"));
    if (actions.back() == "trigger") {
      triggered.push_back(ParseRfc3339(Str(e, "payload", "timestamp")).value_or(kMinTime));
    }
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"trigger", "resolve", "trigger", "resolve"}));
  EXPECT_EQ(keys, std::vector<std::string>(4, keys[0]));
  EXPECT_EQ(triggered, FiredAt(console1, "LatencyP99Critical"));
}

}  // namespace
}  // namespace vigil
