// Notifier against real HTTP servers on loopback (RecordingReceiver).
#include <simdjson.h>
#include <stdlib.h>

#include <chrono>
#include <future>

#include "gtest/gtest.h"
#include "operators/notify/notifier.h"
#include "tests/operators/notify/notifier_test_util.h"
#include "tests/operators/notify/notify_test_util.h"
#include "tests/operators/notify/recording_receiver.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;
using testing_util::AlertNames;
using testing_util::AmAlerts;
using testing_util::BaseConfig;
using testing_util::Eventually;
using testing_util::JsonString;
using testing_util::kRoutingKey;
using testing_util::MakeNotice;
using testing_util::MustCreate;
using testing_util::Parse;
using testing_util::Receiver;
using testing_util::RecordedRequest;
using testing_util::RecordingReceiver;
using testing_util::StatsOf;
using testing_util::TempDir;
using testing_util::TinyFs;
using testing_util::WallMs;
using testing_util::Webhook;

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

// A bounded run reaches no later period or renotify interval: at the end
// of its input a weekly digest sends what it holds, and a resolve held by
// the renotify interval goes out, so the page sent does not stay open.
// Stopped without reaching the end (a live job), both keep waiting.
TEST(NotifierTest, TheEndOfTheInputSendsDigestsAndHeldStates) {
  const TimeMs t0 = WallMs() - 60000;
  for (bool ended : {false, true}) {
    SCOPED_TRACE(ended);
    RecordingReceiver weekly, team;
    NotifyConfig c = BaseConfig();
    c.timeout = 5000;
    c.renotify_interval = 3600000;
    NotifyReceiver digest = Webhook("weekly", weekly);
    digest.digest_every = 7 * 24 * 3600000LL;
    c.receivers = {digest, Webhook("team", team)};
    c.routes[2] = {"team"};
    c.routes[4] = {"weekly"};
    auto n = MustCreate(c);
    n->OnAlert(MakeNotice("ConversionDeclining", 4, Transition::kFiring, t0, t0));
    n->OnAlert(MakeNotice("NewIntentGrowing", 4, Transition::kFiring, t0, t0));
    n->OnAlert(MakeNotice("A", 2, Transition::kFiring, t0, t0));
    ASSERT_TRUE(team.WaitForAccepted(1, 5s));
    n->OnAlert(MakeNotice("A", 2, Transition::kResolved, t0 + 1, t0));
    if (ended) n->EndOfInput();
    n->Flush();
    if (!ended) {
      EXPECT_EQ(weekly.AcceptedCount(), 0u);
      EXPECT_EQ(AlertNames(team.Accepted()), (std::vector<std::string>{"A:firing"}));
      continue;
    }
    const std::vector<RecordedRequest> got = weekly.Accepted();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(AlertNames(got),
              (std::vector<std::string>{"ConversionDeclining:firing", "NewIntentGrowing:firing"}));
    EXPECT_EQ(AlertNames(team.Accepted()), (std::vector<std::string>{"A:firing", "A:resolved"}));
  }
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

}  // namespace
}  // namespace vigil
