// Notifier against real HTTP servers on loopback (RecordingReceiver).
#include <simdjson.h>
#include <stdlib.h>

#include <chrono>
#include <future>

#include "gtest/gtest.h"
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
using testing_util::TinyFs;
using testing_util::WallMs;

constexpr char kRoutingKey[] = "R0UT1NGKEYSECRET0123456789abcdef";

NotifyConfig BaseConfig() {
  NotifyConfig c;
  c.labels = {{"job", "vigil"}, {"instance", "vigil-0"}};
  c.external_url = "http://vigil.test:9464";
  c.timeout = 2000;
  c.retry_initial = 20;
  c.retry_max = 100;
  return c;
}

NotifyReceiver Receiver(const std::string& name, NotifyReceiver::Kind kind,
                        std::vector<std::string> urls) {
  NotifyReceiver r;
  r.name = name;
  r.kind = kind;
  r.urls = std::move(urls);
  return r;
}

NotifyReceiver Webhook(const std::string& name, const RecordingReceiver& rx) {
  return Receiver(name, NotifyReceiver::Kind::kWebhook, {rx.url("/hook/" + name)});
}

std::unique_ptr<Notifier> MustCreate(NotifyConfig c) {
  absl::StatusOr<std::unique_ptr<Notifier>> n = Notifier::Create(std::move(c));
  EXPECT_TRUE(n.ok()) << n.status();
  return n.ok() ? std::move(*n) : nullptr;
}

ReceiverStats StatsOf(const Notifier& n, const std::string& receiver, size_t index = 0) {
  for (const ReceiverStats& s : n.Stats()) {
    if (s.receiver == receiver && index-- == 0) return s;
  }
  ADD_FAILURE() << "no stats for " << receiver;
  return {};
}

simdjson::dom::element Parse(simdjson::dom::parser& parser, const std::string& body) {
  return parser.parse(body);
}

// The alertnames in the webhook bodies `requests` carried, in order.
std::vector<std::string> AlertNames(const std::vector<RecordedRequest>& requests) {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  for (const RecordedRequest& r : requests) {
    simdjson::dom::element e = Parse(parser, r.body);
    for (simdjson::dom::element a : e["alerts"].get_array()) {
      out.push_back(JsonString(a["labels"], "alertname") + ":" + JsonString(a, "status"));
    }
  }
  return out;
}

TEST(NotifierTest, PagerDutyTriggerThenResolveWithTheSameDedupKey) {
  RecordingReceiver rx;
  ::setenv("VIGIL_TEST_PD_KEY", kRoutingKey, 1);
  NotifyConfig c = BaseConfig();
  NotifyReceiver pd =
      Receiver("pagerduty", NotifyReceiver::Kind::kPagerDuty, {rx.url("/v2/enqueue")});
  pd.routing_key_env = "VIGIL_TEST_PD_KEY";
  c.receivers = {pd};
  c.routes[1] = {"pagerduty"};
  rx.FailNext(1, 503);  // its error body echoes the request, key included

  testing::internal::CaptureStderr();
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  n->OnAlert(MakeNotice("LatencyP99Critical", 1, Transition::kFiring, t0, t0));
  n->OnAlert(MakeNotice("LatencyP99Critical", 1, Transition::kResolved, t0 + 30000, t0));
  ASSERT_TRUE(rx.WaitForAccepted(2, 10s));
  ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "pagerduty").sent == 2; }));
  const std::vector<ReceiverStats> stats = n->Stats();
  n.reset();
  const std::string err = testing::internal::GetCapturedStderr();

  std::vector<RecordedRequest> got = rx.Accepted();
  ASSERT_EQ(got.size(), 2u);
  simdjson::dom::parser p1, p2;
  simdjson::dom::element trigger = Parse(p1, got[0].body);
  simdjson::dom::element resolve = Parse(p2, got[1].body);
  EXPECT_EQ(got[0].method, "POST");
  EXPECT_EQ(got[0].target, "/v2/enqueue");
  EXPECT_NE(got[0].headers.find("Content-Type: application/json"), std::string::npos);
  EXPECT_EQ(JsonString(trigger, "routing_key"), kRoutingKey);
  EXPECT_EQ(JsonString(trigger, "event_action"), "trigger");
  const std::string dedup = JsonString(trigger, "dedup_key");
  EXPECT_EQ(dedup.size(), 16u);
  EXPECT_EQ(JsonString(trigger["payload"], "severity"), "critical");
  EXPECT_EQ(JsonString(trigger["payload"], "source"), "vigil-0");
  EXPECT_EQ(JsonString(trigger["payload"], "summary"), "p99 latency 12034 ms above 10 s");
  EXPECT_EQ(JsonString(trigger["payload"]["custom_details"], "window"), "1m");
  EXPECT_EQ(JsonString(trigger["payload"]["custom_details"]["labels"], "job"), "vigil");
  EXPECT_EQ(JsonString(resolve, "routing_key"), kRoutingKey);
  EXPECT_EQ(JsonString(resolve, "event_action"), "resolve");
  EXPECT_EQ(JsonString(resolve, "dedup_key"), dedup);
  // The resolve says what fired.
  EXPECT_EQ(JsonString(resolve["payload"], "summary"), "p99 latency 12034 ms above 10 s");

  // The outage was logged, without the key (and with the URL redacted).
  EXPECT_NE(err.find("vigil: notify pagerduty " + rx.url() + "/***: HTTP 503"), std::string::npos)
      << err;
  EXPECT_NE(err.find("<redacted>"), std::string::npos) << err;
  EXPECT_EQ(err.find(kRoutingKey), std::string::npos) << err;
  for (const ReceiverStats& s : stats) {
    EXPECT_EQ(s.receiver.find(kRoutingKey), std::string::npos);
    EXPECT_EQ(s.target.find(kRoutingKey), std::string::npos);
  }
}

TEST(NotifierTest, CreateFailsWhenTheRoutingKeyVariableIsUnset) {
  ::unsetenv("VIGIL_TEST_UNSET_KEY");
  NotifyConfig c = BaseConfig();
  NotifyReceiver pd = Receiver("pd", NotifyReceiver::Kind::kPagerDuty, {"http://127.0.0.1:1/"});
  pd.routing_key_env = "VIGIL_TEST_UNSET_KEY";
  c.receivers = {pd};
  c.routes[1] = {"pd"};
  absl::StatusOr<std::unique_ptr<Notifier>> n = Notifier::Create(c);
  ASSERT_FALSE(n.ok());
  EXPECT_NE(n.status().message().find("VIGIL_TEST_UNSET_KEY"), std::string::npos);
}

TEST(NotifierTest, WebhookGetsOneAlertmanagerShapedPostPerNotice) {
  RecordingReceiver rx;
  NotifyConfig c = BaseConfig();
  c.receivers = {Webhook("team", rx)};
  c.routes[2] = {"team"};
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  n->OnAlert(MakeNotice("CacheHitRateLow", 2, Transition::kPending, t0, t0));
  n->OnAlert(MakeNotice("CacheHitRateLow", 2, Transition::kFiring, t0, t0));
  n->OnAlert(MakeNotice("CacheHitRateLow", 2, Transition::kResolved, t0 + 1000, t0));
  n->OnAlert(MakeNotice("CacheHitRateLow", 2, Transition::kInactive, t0 + 2000, t0));
  n->Flush();
  EXPECT_EQ(StatsOf(*n, "team").sent, 2u);
  std::vector<RecordedRequest> got = rx.Accepted();
  ASSERT_EQ(got.size(), 2u);  // pending and inactive never notify
  EXPECT_EQ(got[0].target, "/hook/team");
  simdjson::dom::parser parser;
  simdjson::dom::element e = Parse(parser, got[0].body);
  EXPECT_EQ(JsonString(e, "version"), "4");
  EXPECT_EQ(JsonString(e, "status"), "firing");
  EXPECT_EQ(JsonString(e, "receiver"), "team");
  EXPECT_EQ(JsonString(e, "groupKey"), "{}:{alertname=\"CacheHitRateLow\"}");
  EXPECT_EQ(JsonString(e, "externalURL"), "http://vigil.test:9464");
  simdjson::dom::element a = e["alerts"].at(0);
  EXPECT_EQ(JsonString(a["labels"], "instance"), "vigil-0");
  EXPECT_EQ(JsonString(a["labels"], "severity"), "P2");
  EXPECT_EQ(JsonString(a["annotations"], "summary"), "p99 latency 12034 ms above 10 s");
  EXPECT_EQ(JsonString(a, "startsAt"), FormatTimestamp(t0));
  EXPECT_EQ(JsonString(a, "fingerprint").size(), 16u);
  e = Parse(parser, got[1].body);
  EXPECT_EQ(JsonString(e, "status"), "resolved");
  EXPECT_EQ(JsonString(e["alerts"].at(0), "endsAt"), FormatTimestamp(t0 + 1000));
}

TEST(NotifierTest, EachSeverityReachesExactlyItsRoutedReceivers) {
  RecordingReceiver rx;
  NotifyConfig c = BaseConfig();
  c.receivers = {Webhook("pager", rx), Webhook("team", rx), Webhook("tickets", rx),
                 Webhook("weekly", rx)};
  c.routes[1] = {"pager", "team"};
  c.routes[2] = {"team"};
  c.routes[3] = {"tickets"};
  c.routes[4] = {"weekly"};
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  for (int sev = 1; sev <= 4; ++sev) {
    n->OnAlert(MakeNotice("Sev" + std::to_string(sev), sev, Transition::kFiring, t0, t0));
  }
  n->Flush();
  std::map<std::string, std::vector<std::string>> by_target;
  for (const RecordedRequest& r : rx.Accepted()) {
    by_target[r.target].push_back(AlertNames({r})[0]);
  }
  using V = std::vector<std::string>;
  EXPECT_EQ(by_target["/hook/pager"], (V{"Sev1:firing"}));
  EXPECT_EQ(by_target["/hook/team"], (V{"Sev1:firing", "Sev2:firing"}));
  EXPECT_EQ(by_target["/hook/tickets"], (V{"Sev3:firing"}));
  EXPECT_EQ(by_target["/hook/weekly"], (V{"Sev4:firing"}));
  EXPECT_EQ(by_target.size(), 4u);
}

TEST(NotifierTest, DigestBatchesAPeriodIntoOnePostAndSkipsEmptyPeriods) {
  RecordingReceiver rx;
  TempDir dir;
  NotifyConfig c = BaseConfig();
  c.spool_dir = dir.path();
  NotifyReceiver digest = Webhook("weekly", rx);
  digest.digest_every = 400;
  c.receivers = {digest};
  c.routes[4] = {"weekly"};
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  // Start right after a period boundary so the three land in one period.
  std::this_thread::sleep_for(std::chrono::milliseconds(400 - WallMs() % 400 + 20));
  n->OnAlert(MakeNotice("ConversionDeclining", 4, Transition::kFiring, t0, t0));
  n->OnAlert(MakeNotice("NewIntentGrowing", 4, Transition::kFiring, t0, t0, {{"intent", "x"}}));
  n->OnAlert(MakeNotice("ConversionDeclining", 4, Transition::kResolved, t0 + 10, t0));
  ASSERT_TRUE(rx.WaitForAccepted(1, 5s));
  std::this_thread::sleep_for(1000ms);  // two more periods, with nothing to send
  std::vector<RecordedRequest> got = rx.Accepted();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(AlertNames(got),
            (std::vector<std::string>{"ConversionDeclining:firing", "NewIntentGrowing:firing",
                                      "ConversionDeclining:resolved"}));
  simdjson::dom::parser parser;
  simdjson::dom::element e = Parse(parser, got[0].body);
  EXPECT_EQ(JsonString(e, "receiver"), "weekly");
  EXPECT_EQ(JsonString(e, "groupKey"), "{}:{}");
  EXPECT_EQ(JsonString(e["commonLabels"], "severity"), "P4");
  EXPECT_EQ(StatsOf(*n, "weekly").sent, 3u);
}

TEST(NotifierTest, ADigestSurvivesARestart) {
  RecordingReceiver rx;
  TempDir dir;
  NotifyConfig c = BaseConfig();
  c.spool_dir = dir.path();
  NotifyReceiver digest = Webhook("weekly", rx);
  digest.digest_every = 7 * 24 * 3600000LL;  // never due during the test
  c.receivers = {digest};
  c.routes[4] = {"weekly"};
  const TimeMs t0 = WallMs() - 60000;
  {
    auto n = MustCreate(c);
    n->OnAlert(MakeNotice("ConversionDeclining", 4, Transition::kFiring, t0, t0));
    n->OnAlert(MakeNotice("NewIntentGrowing", 4, Transition::kFiring, t0, t0));
    n->WaitSpooled();
    EXPECT_EQ(StatsOf(*n, "weekly").spooled, 2u);
  }
  c.receivers[0].digest_every = 300;
  auto n = MustCreate(c);
  ASSERT_TRUE(rx.WaitForAccepted(1, 5s));
  EXPECT_EQ(AlertNames(rx.Accepted()),
            (std::vector<std::string>{"ConversionDeclining:firing", "NewIntentGrowing:firing"}));
}

TEST(NotifierTest, ServerErrorsAreRetriedAndDeliveredOnceInOrder) {
  RecordingReceiver rx;
  NotifyConfig c = BaseConfig();
  c.receivers = {Webhook("team", rx)};
  c.routes[2] = {"team"};
  rx.FailNext(2, 500);
  rx.FailNext(1, 429);
  rx.CloseNext(1);
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  for (const char* name : {"A", "B", "C"}) {
    n->OnAlert(MakeNotice(name, 2, Transition::kFiring, t0, t0));
  }
  ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "team").sent == 3; }));
  EXPECT_EQ(AlertNames(rx.Accepted()),
            (std::vector<std::string>{"A:firing", "B:firing", "C:firing"}));
  // While the head was retried, nothing behind it went out.
  std::vector<RecordedRequest> all = rx.Requests();
  ASSERT_EQ(all.size(), 7u);
  for (size_t i = 0; i < 5; ++i)
    EXPECT_EQ(AlertNames({all[i]}), (std::vector<std::string>{"A:firing"}));
  ReceiverStats s = StatsOf(*n, "team");
  // 3 or 4: HttpClient itself resends once when a kept-alive connection is
  // closed before any response byte.
  EXPECT_GE(s.retried, 3u);
  EXPECT_LE(s.retried, 4u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.spooled, 0u);
  EXPECT_EQ(s.dropped, 0u);
}

TEST(NotifierTest, ClientErrorsArePermanentFailures) {
  RecordingReceiver rx;
  NotifyConfig c = BaseConfig();
  c.receivers = {Webhook("team", rx)};
  c.routes[2] = {"team"};
  rx.FailNext(1, 400);
  testing::internal::CaptureStderr();
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  n->OnAlert(MakeNotice("A", 2, Transition::kFiring, t0, t0));
  n->OnAlert(MakeNotice("B", 2, Transition::kFiring, t0, t0));
  ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "team").sent == 1; }));
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(rx.Requests().size(), 2u);
  EXPECT_EQ(AlertNames(rx.Accepted()), (std::vector<std::string>{"B:firing"}));
  ReceiverStats s = StatsOf(*n, "team");
  EXPECT_EQ(s.failed, 1u);
  EXPECT_EQ(s.retried, 0u);
  EXPECT_NE(err.find("vigil: notify team " + rx.url() + "/***" +
                     ": rejected 1 notification(s), not retrying: HTTP 400"),
            std::string::npos)
      << err;
}

TEST(NotifierTest, AHangingReceiverNeverSlowsOnAlert) {
  RecordingReceiver rx;
  TempDir dir;
  NotifyConfig c = BaseConfig();
  c.spool_dir = dir.path();
  c.timeout = 30000;  // longer than the hang: only the notifier's queueing is measured
  c.receivers = {Webhook("team", rx)};
  c.routes[2] = {"team"};
  rx.HangAll(true);
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  n->OnAlert(MakeNotice("First", 2, Transition::kFiring, t0, t0));
  ASSERT_TRUE(rx.WaitForRequests(1, 5s));  // the receiver now hangs on the first POST
  // The receiver hangs for 10 s; 1000 notices must be handed over well before.
  std::promise<void> measured;
  std::thread release([&rx, f = measured.get_future()] {
    f.wait_for(10s);
    rx.Release();
  });
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1000; ++i) {
    n->OnAlert(MakeNotice("A" + std::to_string(i), 2,
                          i % 2 ? Transition::kResolved : Transition::kFiring, t0, t0));
  }
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, 5s);
  n->WaitSpooled();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(StatsOf(*n, "team").spooled, 1001u);
  measured.set_value();  // end the hang early; the hung request is retried
  release.join();
  ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "team").sent == 1001; }, 15s));
  std::vector<std::string> names = AlertNames(rx.Accepted());
  ASSERT_EQ(names.size(), 1001u);
  EXPECT_EQ(names[0], "First:firing");
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(names[static_cast<size_t>(i) + 1],
              "A" + std::to_string(i) + (i % 2 ? ":resolved" : ":firing"));
  }
}

TEST(NotifierTest, AHungReceiverTimesOutAndIsRetried) {
  RecordingReceiver rx;
  NotifyConfig c = BaseConfig();
  c.timeout = 300;
  c.receivers = {Webhook("team", rx)};
  c.routes[2] = {"team"};
  rx.HangAll(true);
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  n->OnAlert(MakeNotice("A", 2, Transition::kFiring, t0, t0));
  ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "team").retried >= 2; }));
  rx.Release();
  ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "team").sent == 1; }));
  EXPECT_EQ(AlertNames(rx.Accepted()), (std::vector<std::string>{"A:firing"}));
}

TEST(NotifierTest, ASpoolSurvivesARestartWhileTheReceiverIsDown) {
  RecordingReceiver rx;
  TempDir dir;
  NotifyConfig c = BaseConfig();
  c.spool_dir = dir.path();
  c.receivers = {Webhook("team", rx)};
  c.routes[2] = {"team"};
  rx.Stop();  // down: connections are refused
  const TimeMs t0 = WallMs() - 60000;
  const std::vector<std::string> expected = {"A:firing", "B:firing", "A:resolved", "C:firing",
                                             "B:resolved"};
  {
    auto n = MustCreate(c);
    n->OnAlert(MakeNotice("A", 2, Transition::kFiring, t0, t0));
    n->OnAlert(MakeNotice("B", 2, Transition::kFiring, t0, t0));
    n->OnAlert(MakeNotice("A", 2, Transition::kResolved, t0 + 1, t0));
    ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "team").retried >= 2; }));
    EXPECT_EQ(StatsOf(*n, "team").spooled, 3u);
  }
  {
    auto n = MustCreate(c);  // restarted, still down
    EXPECT_EQ(StatsOf(*n, "team").spooled, 3u);
    n->OnAlert(MakeNotice("C", 2, Transition::kFiring, t0, t0));
    n->OnAlert(MakeNotice("B", 2, Transition::kResolved, t0 + 1, t0));
    n->WaitSpooled();
  }
  auto n = MustCreate(c);
  rx.Restart();
  ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "team").sent == 5; }));
  EXPECT_EQ(AlertNames(rx.Accepted()), expected);
  EXPECT_EQ(rx.Requests().size(), 5u);  // exactly once each
  EXPECT_EQ(StatsOf(*n, "team").spooled, 0u);
}

TEST(NotifierTest, RenotifyIntervalCollapsesAFlapIntoOneState) {
  RecordingReceiver rx;
  NotifyConfig c = BaseConfig();
  c.renotify_interval = 600;
  c.receivers = {Webhook("team", rx)};
  c.routes[2] = {"team"};
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  n->OnAlert(MakeNotice("A", 2, Transition::kFiring, t0, t0));
  ASSERT_TRUE(rx.WaitForAccepted(1, 5s));
  // Within the interval: resolve and fire again, and another alert meanwhile.
  n->OnAlert(MakeNotice("A", 2, Transition::kResolved, t0 + 1, t0));
  n->OnAlert(MakeNotice("A", 2, Transition::kFiring, t0 + 2, t0 + 2));
  n->OnAlert(MakeNotice("B", 2, Transition::kFiring, t0, t0));
  ASSERT_TRUE(rx.WaitForAccepted(2, 5s));  // B is not held up by A
  EXPECT_EQ(AlertNames(rx.Accepted()), (std::vector<std::string>{"A:firing", "B:firing"}));
  // The interval passes: A's latest state equals what was sent, so no new page.
  ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "team").coalesced == 2; }));
  EXPECT_EQ(rx.AcceptedCount(), 2u);
  EXPECT_EQ(StatsOf(*n, "team").spooled, 0u);
  // A resolve after the interval goes out at once; a flap right after it waits.
  n->OnAlert(MakeNotice("A", 2, Transition::kResolved, t0 + 3, t0 + 2));
  ASSERT_TRUE(rx.WaitForAccepted(3, 5s));
  n->OnAlert(MakeNotice("A", 2, Transition::kFiring, t0 + 4, t0 + 4));
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(rx.AcceptedCount(), 3u);
  ASSERT_TRUE(rx.WaitForAccepted(4, 5s));
  EXPECT_EQ(AlertNames(rx.Accepted()),
            (std::vector<std::string>{"A:firing", "B:firing", "A:resolved", "A:firing"}));
}

// The alerts of every POST /api/v2/alerts body: alertname and endsAt.
std::vector<std::pair<std::string, std::string>> AmAlerts(const std::vector<RecordedRequest>& rs) {
  std::vector<std::pair<std::string, std::string>> out;
  simdjson::dom::parser parser;
  for (const RecordedRequest& r : rs) {
    EXPECT_EQ(r.target, "/prefix/api/v2/alerts");
    for (simdjson::dom::element a : Parse(parser, r.body).get_array()) {
      out.emplace_back(JsonString(a["labels"], "alertname"), JsonString(a, "endsAt"));
    }
  }
  return out;
}

TEST(NotifierTest, AlertmanagerGetsFiringAlertsReSentAndThenTheResolve) {
  RecordingReceiver rx;
  NotifyConfig c = BaseConfig();
  c.resend_interval = 150;
  c.receivers = {Receiver("am", NotifyReceiver::Kind::kAlertmanager, {rx.url("/prefix")})};
  c.routes[1] = {"am"};
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  n->OnAlert(MakeNotice("A", 1, Transition::kFiring, t0, t0));
  ASSERT_TRUE(rx.WaitForAccepted(4, 5s));  // the POST and at least 3 re-sends
  for (const auto& [name, ends] : AmAlerts(rx.Accepted())) {
    EXPECT_EQ(name, "A");
    // endsAt = now + 4 x resend_interval: in the future, but not by much.
    const TimeMs end = *ParseRfc3339(ends);
    EXPECT_GT(end, t0 + 60000);
    EXPECT_LE(end, WallMs() + 4 * 150);
  }
  n->OnAlert(MakeNotice("A", 1, Transition::kResolved, t0 + 1000, t0));
  ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "am").sent == 2; }));
  // Resolved: re-sent as resolved for 15 intervals (2.25 s), then not at all.
  ASSERT_TRUE(Eventually([&] {
    const size_t before = rx.AcceptedCount();
    std::this_thread::sleep_for(400ms);
    return rx.AcceptedCount() == before;
  }));
  auto all = AmAlerts(rx.Accepted());
  const std::string resolved_at = FormatTimestamp(t0 + 1000);
  size_t first = 0;
  while (first < all.size() && all[first].second != resolved_at) ++first;
  ASSERT_LT(first, all.size());
  EXPECT_GE(all.size() - first, 5u);
  for (size_t i = first; i < all.size(); ++i) {
    EXPECT_EQ(all[i], std::make_pair(std::string("A"), resolved_at)) << i;
  }
}

TEST(NotifierTest, EachMemberOfAnAlertmanagerPairHasItsOwnQueue) {
  RecordingReceiver up, down;
  down.HangAll(true);
  NotifyConfig c = BaseConfig();
  c.timeout = 30000;
  c.receivers = {Receiver("am", NotifyReceiver::Kind::kAlertmanager,
                          {down.url("/prefix"), up.url("/prefix")})};
  c.routes[1] = {"am"};
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  n->OnAlert(MakeNotice("A", 1, Transition::kFiring, t0, t0));
  n->OnAlert(MakeNotice("B", 1, Transition::kFiring, t0, t0));
  ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "am", 1).sent == 2; }, 5s));
  EXPECT_EQ(StatsOf(*n, "am", 0).sent, 0u);
  // Targets are shown redacted: origin only, path as /***.
  EXPECT_EQ(StatsOf(*n, "am", 0).target, down.url() + "/***");
  EXPECT_EQ(StatsOf(*n, "am", 1).target, up.url() + "/***");
  EXPECT_EQ(AmAlerts(up.Accepted()).size(), 2u);
  down.Release();
  ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "am", 0).sent == 2; }));
}

TEST(NotifierTest, SyncFiringResumesReSendsWithoutPagingAgain) {
  RecordingReceiver rx;
  ::setenv("VIGIL_TEST_PD_KEY2", kRoutingKey, 1);
  NotifyConfig c = BaseConfig();
  c.resend_interval = 150;
  NotifyReceiver pd = Receiver("pd", NotifyReceiver::Kind::kPagerDuty, {rx.url("/pd")});
  pd.routing_key_env = "VIGIL_TEST_PD_KEY2";
  c.receivers = {Receiver("am", NotifyReceiver::Kind::kAlertmanager, {rx.url("/prefix")}), pd,
                 Webhook("team", rx)};
  c.routes[1] = {"am", "pd", "team"};
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  n->SyncFiring({MakeNotice("A", 1, Transition::kFiring, t0, t0)});
  ASSERT_TRUE(rx.WaitForAccepted(2, 5s));
  std::this_thread::sleep_for(100ms);
  for (const RecordedRequest& r : rx.Accepted()) EXPECT_EQ(r.target, "/prefix/api/v2/alerts");
  EXPECT_EQ(AmAlerts(rx.Accepted())[0].first, "A");
  EXPECT_EQ(StatsOf(*n, "pd").sent, 0u);
  EXPECT_EQ(StatsOf(*n, "team").sent, 0u);
}

TEST(NotifierTest, InMemorySpoolDeliversToo) {
  RecordingReceiver rx;
  NotifyConfig c = BaseConfig();
  c.receivers = {Webhook("team", rx)};
  c.routes[3] = {"team"};
  auto n = MustCreate(c);
  const TimeMs t0 = WallMs() - 60000;
  for (int i = 0; i < 20; ++i)
    n->OnAlert(MakeNotice("A" + std::to_string(i), 3, Transition::kFiring, t0, t0));
  n->Flush();
  EXPECT_EQ(StatsOf(*n, "team").sent, 20u);
  EXPECT_EQ(rx.AcceptedCount(), 20u);
}

TEST(SpoolFailureLogTest, OneLineAMinuteWithTheCountSinceTheLast) {
  SpoolFailureLog log;
  const std::string error = "cannot write spool /s/team.spool: No space left on device";
  EXPECT_EQ(log.Recovered(0), "");  // nothing had failed
  EXPECT_EQ(log.Failed(1'000, 3, error),
            "cannot write the spool; 3 notification(s) held in memory only until it can "
            "(checkpoints keep them): " +
                error);
  for (TimeMs t = 2'000; t < 61'000; t += 1'000) EXPECT_EQ(log.Failed(t, 4, error), "") << t;
  // 59 failures from 2 s to 60 s, and the one at 61 s.
  EXPECT_EQ(log.Failed(61'000, 9, error),
            "still cannot write the spool: 60 failed write(s) in the last 1m, 9 "
            "notification(s) held in memory only: " +
                error);
  EXPECT_EQ(log.Failed(62'000, 9, error), "");
  EXPECT_EQ(log.Recovered(63'000),
            "spool written again after 62 failed write(s); every queued notification is on "
            "disk");
  EXPECT_EQ(log.Recovered(64'000), "");
  // A new failure is worth a line at once.
  EXPECT_EQ(log.Failed(65'000, 1, error).substr(0, 23), "cannot write the spool;");
}

TEST(NotifyTargetStateTest, RoundTripsEveryField) {
  NotifyTargetState s;
  s.last_sent["fp-a"] = {1'767'225'600'000, true};
  s.last_sent["fp-b"] = {1'767'225'660'123, false};
  Notification firing;
  firing.firing = true;
  firing.labels = {{"alertname", "A"}, {"severity", "P1"}};
  firing.fingerprint = "fp-a";
  firing.fired_at = 1'767'225'600'000;
  firing.at = 1'767'225'600'000;
  firing.severity = 1;
  Notification resolved = firing;
  resolved.firing = false;
  resolved.fingerprint = "fp-b";
  resolved.at = 1'767'225'660'000;
  s.resend["fp-a"] = {firing, kMaxTime};
  s.resend["fp-b"] = {resolved, 1'767'226'560'000};
  s.memory = {{7, "fp-a", firing.Encode()}, {9, "fp-b", resolved.Encode()}};
  const std::string bytes = s.Encode();
  std::optional<NotifyTargetState> back = NotifyTargetState::Decode(bytes);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, s);
  EXPECT_EQ(back->last_sent.at("fp-b").at, 1'767'225'660'123);
  EXPECT_FALSE(back->last_sent.at("fp-b").firing);
  EXPECT_EQ(back->resend.at("fp-b").until, 1'767'226'560'000);
  EXPECT_EQ(back->resend.at("fp-a").alert, firing);
  EXPECT_EQ(back->memory[1].id, 9u);
  EXPECT_EQ(NotifyTargetState::Decode(NotifyTargetState{}.Encode()), NotifyTargetState{});
  // Cut short, or followed by anything: unreadable.
  EXPECT_FALSE(NotifyTargetState::Decode(bytes.substr(0, bytes.size() - 1)).has_value());
  EXPECT_FALSE(NotifyTargetState::Decode(bytes + "x").has_value());
  EXPECT_FALSE(NotifyTargetState::Decode("").has_value());
}

TEST(NotifierTest, ARestartFromTheStateKeepsTheRenotifyHold) {
  RecordingReceiver rx;
  NotifyConfig c = BaseConfig();
  c.renotify_interval = 3'600'000;
  c.receivers = {Webhook("team", rx)};
  c.routes[2] = {"team"};
  const TimeMs t0 = WallMs() - 60000;
  std::string state;
  {
    auto n = MustCreate(c);
    n->OnAlert(MakeNotice("A", 2, Transition::kFiring, t0, t0));
    ASSERT_TRUE(rx.WaitForAccepted(1, 5s));
    ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "team").sent == 1; }));
    state = n->EncodeState();
  }
  EXPECT_TRUE(Notifier::ValidState(state));
  EXPECT_FALSE(Notifier::ValidState(state.substr(0, state.size() - 1)));
  // Restarted from the state: a flap within the hour waits, as it would
  // have without the restart.
  c.restored_state = state;
  auto n = MustCreate(c);
  n->OnAlert(MakeNotice("A", 2, Transition::kResolved, t0 + 1, t0));
  n->OnAlert(MakeNotice("A", 2, Transition::kFiring, t0 + 2, t0 + 2));
  n->Flush();  // held entries count as drained
  EXPECT_EQ(StatsOf(*n, "team").spooled, 2u);
  EXPECT_EQ(rx.Requests().size(), 1u);
  // Without the state, the resolve goes out at once.
  c.restored_state.clear();
  n.reset();
  auto fresh = MustCreate(c);
  fresh->OnAlert(MakeNotice("A", 2, Transition::kResolved, t0 + 1, t0));
  ASSERT_TRUE(rx.WaitForAccepted(2, 5s));
  EXPECT_EQ(AlertNames(rx.Accepted()), (std::vector<std::string>{"A:firing", "A:resolved"}));
}

TEST(NotifierTest, AFullSpoolKeepsPagesInMemoryTheStateCarriesThemAcrossACrash) {
  TinyFs fs;
  if (!fs.ok()) GTEST_SKIP() << "mounting a tmpfs needs root";
  RecordingReceiver rx;
  rx.Stop();  // down
  NotifyConfig c = BaseConfig();
  c.spool_dir = fs.path();
  c.receivers = {Webhook("team", rx)};
  c.routes[2] = {"team"};
  const TimeMs t0 = WallMs() - 60000;
  // Big annotations: no notification fits in the spool file's last page.
  auto notice = [&](const std::string& name, Transition t) {
    AlertNotice n = MakeNotice(name, 2, t, t0, t0);
    n.annotations.emplace_back("description", std::string(5000, 'd'));
    return n;
  };
  const std::vector<std::string> expected = {"A:firing", "B:firing", "A:resolved", "C:firing"};
  std::string state;
  {
    auto n = MustCreate(c);
    fs.Fill();
    ::testing::internal::CaptureStderr();
    n->OnAlert(notice("A", Transition::kFiring));
    n->WaitSpooled();
    n->OnAlert(notice("B", Transition::kFiring));
    n->WaitSpooled();
    n->OnAlert(notice("A", Transition::kResolved));
    n->WaitSpooled();
    n->OnAlert(notice("C", Transition::kFiring));
    n->WaitSpooled();
    ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "team").retried >= 2; }));
    const ReceiverStats s = StatsOf(*n, "team");
    const std::string log = ::testing::internal::GetCapturedStderr();
    EXPECT_FALSE(s.spool_healthy);
    EXPECT_EQ(s.spooled, 4u);
    EXPECT_EQ(s.in_memory, 4u);
    EXPECT_GE(s.spool_write_failures, 4u);
    EXPECT_NE(s.spool_error.find("No space left on device"), std::string::npos) << s.spool_error;
    // One line for all those failures (the next may come a minute later).
    size_t lines = 0;
    for (size_t at = log.find("cannot write the spool"); at != std::string::npos;
         at = log.find("cannot write the spool", at + 1)) {
      ++lines;
    }
    EXPECT_EQ(lines, 1u) << log;
    EXPECT_NE(log.find("vigil: notify team http://127.0.0.1:"), std::string::npos) << log;
    EXPECT_NE(log.find("cannot write the spool; 1 notification(s) held in memory only until"),
              std::string::npos)
        << log;
    state = n->EncodeState();  // the checkpoint
  }                            // the crash: the spool file holds none of them
  c.restored_state = state;
  auto n = MustCreate(c);  // the disk is still full
  EXPECT_EQ(StatsOf(*n, "team").in_memory, 4u);
  rx.Restart();
  ASSERT_TRUE(Eventually([&] { return StatsOf(*n, "team").sent == 4; }));
  EXPECT_EQ(AlertNames(rx.Accepted()), expected);
  EXPECT_EQ(rx.Requests().size(), 4u);  // once each, in order
  EXPECT_EQ(StatsOf(*n, "team").spooled, 0u);
  // Delivered, nothing is at risk any more, though the disk is still full.
  EXPECT_TRUE(StatsOf(*n, "team").spool_healthy);
}

}  // namespace
}  // namespace vigil
