// Notifier across restarts and crashes, against real HTTP servers on loopback:
// spools, digests, checkpointed target state, in-memory queues.
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
