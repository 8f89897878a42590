// Scale-out past one machine, end to end over the Kafka protocol on
// loopback: `vigil run --partials` instances sharing the event topic in a
// consumer group, publishing partial aggregates to a partials topic, and a
// `vigil run --merge` stage closing job-wide windows and alerts — compared
// with one instance reading the same topic.
#include "tests/runtime/scale_out_e2e.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "gtest/gtest.h"

namespace vigil::scale_out_test {
namespace {

TEST_F(ScaleOutE2eTest, TwoInstancesAndTheMergeGiveTheWindowsAndAlertsOfOneInstance) {
  const Pair pair = StartPair();
  if (HasFailure()) return;
  const pid_t a = pair.a, b = pair.b;
  const std::string& base_a = pair.base_a;
  const std::string& base_b = pair.base_b;
  Result gen = Sh(kVigil + kGen + " --to " + Url("events") + " 2>&1");
  ASSERT_EQ(gen.exit_code, 0) << gen.out;
  ASSERT_TRUE(
      WaitFor([&] { return StatusRecords(base_a) + StatusRecords(base_b) == kEvents; }, 60));
  EXPECT_GT(StatusRecords(base_a), 0);
  EXPECT_GT(StatusRecords(base_b), 0);
  EXPECT_NE(
      HttpGet(base_a, "/api/status")
          .second.find(
              R"("scale_out":{"role":"instance","instance_id":"a","partials_topic":"partials","publications":)"),
      std::string::npos);
  ::kill(a, SIGTERM);
  ::kill(b, SIGTERM);
  EXPECT_EQ(WaitExit(a), 0) << ReadFile(Path("a.log"));
  EXPECT_EQ(WaitExit(b), 0) << ReadFile(Path("b.log"));
  // The instances close no window themselves.
  EXPECT_NE(ReadFile(Path("a.log")).find(" 0 windows"), std::string::npos)
      << ReadFile(Path("a.log"));

  // Something else written to the partials topic is dead-lettered.
  Result junk =
      Sh("echo 'not a partial' | kcat -b " + broker_->bootstrap() + " -P -t partials -p 1 2>&1");
  ASSERT_EQ(junk.exit_code, 0) << junk.out;
  RunSingle();
  RunMerge();
  const std::vector<std::string> dead = Lines(ReadFile(Path("merge_dead.ndjson")));
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(
      dead[0].rfind(
          R"({"reason":"bad_partial","detail":"not a partials message of this version","source":"partials/1")",
          0),
      0u)
      << dead[0];
  EXPECT_NE(ReadFile(Path("merge.log")).find(" 1 dead-lettered (0 late)"), std::string::npos);
  const std::vector<std::string> single = Windows(Path("single.ndjson"), kUserKeyed);
  EXPECT_GT(single.size(), 500u);
  // Counts, sums and quantiles: the same lines.
  EXPECT_EQ(Windows(Path("merged.ndjson"), kUserKeyed), single);
  const std::vector<std::string> alerts = Alerts(Path("single.log"), {});
  EXPECT_GE(alerts.size(), 2u);
  EXPECT_EQ(Alerts(Path("merge.log"), {}), alerts);
}

// One instance leaves mid-stream (SIGTERM, or SIGKILL); the other takes
// over its partitions; the merge's windows are still those of one instance.
class ScaleOutHandOverTest : public ScaleOutE2eTest, public ::testing::WithParamInterface<int> {};

TEST_P(ScaleOutHandOverTest, AnInstanceStoppedMidRunHandsItsPartitionsOver) {
  const int signal = GetParam();
  const Pair pair = StartPair();
  if (HasFailure()) return;
  const pid_t a = pair.a, b = pair.b;
  const std::string& base_a = pair.base_a;
  const std::string& base_b = pair.base_b;
  // 36,000 events over about 6 s.
  const pid_t gen = Spawn(kVigil + kGen + " --speed 300 --to " + Url("events"), Path("gen.log"));
  ChildGuard guard_gen(gen);
  ASSERT_TRUE(WaitFor([&] { return StatusRecords(base_a) > 4000; }, 30));
  if (signal == SIGKILL) {
    // Killed just after a publication committed, with records read since.
    // Killed inside one, a real broker aborts the open transaction. The
    // development broker (librdkafka's mock cluster) has no transaction
    // markers: the merge drops the panes it shows of it
    // (merge_publication_e2e_test.cc), but if some of the publication's
    // heartbeats went out too they look committed, to the merge and to the
    // next owner's resume offsets alike; so that case is left out.
    const long long published = StatusPublications(base_a);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (StatusPublications(base_a) == published && std::chrono::steady_clock::now() < deadline) {
    }
  }
  ::kill(a, signal);
  const int code = WaitExit(a);
  if (signal == SIGTERM) {
    EXPECT_EQ(code, 0) << ReadFile(Path("a.log"));
  } else {
    EXPECT_EQ(code, -SIGKILL);
  }
  EXPECT_EQ(WaitExit(gen), 0) << ReadFile(Path("gen.log"));
  // b ends up with every partition and reads them to the end.
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string status = HttpGet(base_b, "/api/status").second;
        const std::regex idle_input("\"active\":true,[^}]*\"lag\":(\\d+)");
        long long lag = 0;
        int parts = 0;
        for (std::sregex_iterator it(status.begin(), status.end(), idle_input);
             it != std::sregex_iterator(); ++it) {
          ++parts;
          lag += std::stoll((*it)[1]);
        }
        return parts == 4 && lag == 0;
      },
      60))
      << HttpGet(base_b, "/api/status").second << ReadFile(Path("b.log"));
  if (signal == SIGTERM) {
    // Nothing read twice: a's last publication carried its offsets. (A lag
    // of 0 comes from the partitions' cached high watermarks and can show a
    // moment before b has read the last records: wait for the count to
    // settle; past it, anything more was read twice.)
    WaitFor([&] { return SummaryRecords(Path("a.log")) + StatusRecords(base_b) >= kEvents; }, 10);
    EXPECT_EQ(SummaryRecords(Path("a.log")) + StatusRecords(base_b), kEvents)
        << ReadFile(Path("a.log"));
  }
  ::kill(b, SIGTERM);
  EXPECT_EQ(WaitExit(b), 0) << ReadFile(Path("b.log"));

  RunSingle();
  // Stopped, a hands its open sessions and waiting join events over with
  // its partitions, and b takes them over: every window is that of one
  // instance. Killed, a hands nothing over: the metrics read from sessions
  // and joins are left out of the comparison.
  const bool handed_over = signal == SIGTERM;
  if (handed_over) {
    EXPECT_NE(ReadFile(Path("a.log")).find("handing over the open state of "), std::string::npos)
        << ReadFile(Path("a.log"));
    EXPECT_NE(ReadFile(Path("b.log")).find(": took over the open state of "), std::string::npos)
        << ReadFile(Path("b.log"));
  }
  RunMerge(/*late=*/!handed_over);
  const std::set<std::string>& skip = handed_over ? kUserKeyed : kFromSessions;
  const std::vector<std::string> single = Windows(Path("single.ndjson"), skip);
  EXPECT_GT(single.size(), 300u);
  EXPECT_EQ(Windows(Path("merged.ndjson"), skip), single);
  const std::vector<std::string> alerts =
      Alerts(Path("single.log"), handed_over ? std::set<std::string>{} : kSessionAlerts);
  EXPECT_GE(alerts.size(), 2u);
  EXPECT_EQ(Alerts(Path("merge.log"), handed_over ? std::set<std::string>{} : kSessionAlerts),
            alerts);
}

// An instance killed and restarted from its checkpoint still hands the
// sessions it restored over when it stops: six sessions of three turns are
// open when it is killed after a publication; after the restart two of
// them get a fourth turn and a seventh session starts. Stopped with
// SIGTERM, it hands all seven over (not only the three with events since
// the restart), and the merge closes them as one instance would.
TEST_F(ScaleOutE2eTest, ARestoredInstanceHandsItsRestoredSessionsOver) {
  const std::string rules = Path("rules.yaml"), first = Path("first.kv"),
                    second = Path("second.kv"), ckpt = Path("ckpt");
  std::ofstream(rules) << "streams:\n"
                          "  - stream: sess\n"
                          "    key: session_id\n"
                          "    window: session 10m\n"
                          "    emit:\n"
                          "      turns: count()\n"
                          "metrics:\n"
                          "  - metric: sessions_closed\n"
                          "    from: sess\n"
                          "    window: tumbling 1h\n"
                          "    value: count()\n"
                          "  - metric: turns_total\n"
                          "    from: sess\n"
                          "    window: tumbling 1h\n"
                          "    value: sum(turns)\n";
  auto event = [](std::ofstream& out, int session, int second) {
    out << "s" << session << "\t{\"ts\":" << 1'767'225'600'000LL + second * 1000LL
        << ",\"type\":\"message\",\"session_id\":\"s" << session << "\"}\n";
  };
  {
    std::ofstream out(first);
    for (int turn = 0; turn < 3; ++turn) {
      for (int session = 1; session <= 6; ++session) event(out, session, turn * 10 + session);
    }
    // s1 and s2 end up with four turns, s7 with three.
    std::ofstream more(second);
    event(more, 1, 300);
    event(more, 2, 301);
    for (int turn = 0; turn < 3; ++turn) event(more, 7, 302 + turn);
  }
  auto produce = [&](const std::string& file) {
    Result r = Sh("kcat -b " + broker_->bootstrap() + " -P -t events -K '\t' -l " + file + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.out;
  };
  auto start = [&](int run) {
    return Spawn(kVigil + " run --rules " + rules + " --input " + Url("events") +
                     " --group restored --partials " + Url("partials") +
                     " --instance-id a --checkpoint-dir " + ckpt +
                     " --checkpoint-interval 300ms --idle-timeout 1h --http 127.0.0.1:0"
                     " --no-console" +
                     kGroupProps,
                 Path("a" + std::to_string(run) + ".log"));
  };
  produce(first);
  const pid_t a1 = start(1);
  ChildGuard guard_a1(a1);
  const std::string base1 = JobHttpBase(Path("a1.log"));
  ASSERT_FALSE(base1.empty()) << ReadFile(Path("a1.log"));
  ASSERT_TRUE(WaitFor([&] { return StatusRecords(base1) == 18; }, 30)) << ReadFile(Path("a1.log"));
  // Killed after a publication (and its checkpoint) that holds all 18.
  const long long published = StatusPublications(base1);
  ASSERT_TRUE(WaitFor([&] { return StatusPublications(base1) > published + 1; }, 30));
  ::kill(a1, SIGKILL);
  EXPECT_EQ(WaitExit(a1), -SIGKILL);

  const pid_t a2 = start(2);
  ChildGuard guard_a2(a2);
  const std::string base2 = JobHttpBase(Path("a2.log"));
  ASSERT_FALSE(base2.empty()) << ReadFile(Path("a2.log"));
  ASSERT_TRUE(WaitFor([&] { return ActiveInputs(base2) == 4; }, 30)) << ReadFile(Path("a2.log"));
  produce(second);
  ASSERT_TRUE(WaitFor([&] { return StatusRecords(base2) == 23; }, 30))
      << HttpGet(base2, "/api/status").second << ReadFile(Path("a2.log"));
  ::kill(a2, SIGTERM);
  EXPECT_EQ(WaitExit(a2), 0) << ReadFile(Path("a2.log"));
  EXPECT_NE(ReadFile(Path("a2.log")).find("handing over the open state of 7 keys"),
            std::string::npos)
      << ReadFile(Path("a2.log"));

  const pid_t merge = Spawn(kVigil + " run --rules " + rules + " --merge " + Url("partials") +
                                " --exit-at-end --results " + Path("merged.ndjson") +
                                " --http off --no-progress" + kGroupProps,
                            Path("merge.log"));
  ASSERT_EQ(WaitExit(merge), 0) << ReadFile(Path("merge.log"));
  const std::string merged = ReadFile(Path("merged.ndjson"));
  EXPECT_NE(merged.find("\"metric\":\"sessions_closed\",\"start\":\"2026-01-01T00:00:00.000Z\","
                        "\"end\":\"2026-01-01T01:00:00.000Z\",\"labels\":{},\"value\":7"),
            std::string::npos)
      << merged << ReadFile(Path("merge.log"));
  EXPECT_NE(merged.find("\"metric\":\"turns_total\",\"start\":\"2026-01-01T00:00:00.000Z\","
                        "\"end\":\"2026-01-01T01:00:00.000Z\",\"labels\":{},\"value\":23"),
            std::string::npos)
      << merged;
}

// A bounded merge started before the instances have stopped ends with the
// partials topic and closes nothing; it says so, and why.
TEST_F(ScaleOutE2eTest, ABoundedMergeBeforeTheInstancesStopSaysWhatStaysOpen) {
  auto merge = [&](const std::string& log) {
    const pid_t pid = Spawn(kVigil + " run --merge " + Url("partials") +
                                " --exit-at-end --http off --no-progress --no-console" +
                                kGroupProps + " --group m" + log,
                            Path(log));
    EXPECT_EQ(WaitExit(pid), 0) << ReadFile(Path(log));
    return ReadFile(Path(log));
  };
  std::string log = merge("m1.log");
  EXPECT_NE(log.find("vigil: the partials topic ended with the windows from the start on still "
                     "open: no instance has reported on it yet; run a bounded merge once the "
                     "instances have stopped"),
            std::string::npos)
      << log;
  const pid_t a = Spawn(
      kVigil + " run --input " + Url("events") + " --group inst --partials " + Url("partials") +
          " --instance-id a --http 127.0.0.1:0 --no-console --no-progress" + kGroupProps,
      Path("a.log"));
  ChildGuard guard_a(a);
  const std::string base = JobHttpBase(Path("a.log"));
  ASSERT_FALSE(base.empty()) << ReadFile(Path("a.log"));
  const pid_t gen = Spawn(kVigil + kGen + " --speed 600 --to " + Url("events"), Path("gen.log"));
  ChildGuard guard_gen(gen);
  ASSERT_TRUE(WaitFor([&] { return StatusPublications(base) > 2; }, 30)) << ReadFile(Path("a.log"));
  log = merge("m2.log");
  EXPECT_NE(log.find(" on still open: instance(s) a still run; run a bounded merge once the "
                     "instances have stopped"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("vigil: the partials topic ended with the windows from 2026-"),
            std::string::npos)
      << log;
}

// The merge stage killed mid-run and restarted from its checkpoint (panes,
// alert state, heartbeat state, positions in the partials topic): the same
// windows and alert transitions as one instance.
TEST_F(ScaleOutE2eTest, TheMergeKilledAndRestartedFromItsCheckpointMissesNothing) {
  const Pair pair = StartPair();
  if (HasFailure()) return;
  const pid_t a = pair.a, b = pair.b;
  const std::string& base_a = pair.base_a;
  const std::string& base_b = pair.base_b;
  const std::string ckpt = Path("merge_ckpt"), merged = Path("merged.ndjson");
  const std::string merge_flags = " --merge " + Url("partials") + " --checkpoint-dir " + ckpt +
                                  " --checkpoint-interval 100ms --output json --results " + merged +
                                  " --no-progress" + kGroupProps;
  const pid_t merge =
      Spawn(kVigil + " run" + merge_flags + " --http 127.0.0.1:0", Path("merge1.log"));
  ChildGuard guard_merge(merge);
  const std::string base_merge = JobHttpBase(Path("merge1.log"));
  ASSERT_FALSE(base_merge.empty()) << ReadFile(Path("merge1.log"));
  const pid_t gen = Spawn(kVigil + kGen + " --speed 300 --to " + Url("events"), Path("gen.log"));
  ChildGuard guard_gen(gen);
  // Kill it once it has closed some windows, and checkpointed since, while
  // events still flow.
  ASSERT_TRUE(WaitFor([&] { return Lines(ReadFile(merged)).size() > 100; }, 30))
      << ReadFile(Path("merge1.log"));
  auto newest_checkpoint = [&] {  // checkpoint-<epoch>.vck
    long long epoch = 0;
    for (const auto& e : std::filesystem::directory_iterator(ckpt)) {
      const std::string name = e.path().filename().string();
      if (name.starts_with("checkpoint-") && name.ends_with(".vck")) {
        epoch = std::max(epoch, std::stoll(name.substr(11)));
      }
    }
    return epoch;
  };
  const long long before = newest_checkpoint();  // one may be under way: two more
  ASSERT_TRUE(WaitFor([&] { return newest_checkpoint() >= before + 2; }, 30));
  // Its status (refreshed every second) gives each partials partition's
  // watermark, from the instances' heartbeats.
  std::string status;
  EXPECT_TRUE(WaitFor(
      [&] {
        status = HttpGet(base_merge, "/api/status").second;
        for (const std::string part : {"partials/0", "partials/1"}) {
          const std::regex input("\"name\":\"" + part + "\",[^}]*\"watermark\":\"2026-01-01T");
          if (!std::regex_search(status, input)) return false;
        }
        return true;
      },
      10))
      << status;
  ::kill(merge, SIGKILL);
  EXPECT_EQ(WaitExit(merge), -SIGKILL);
  EXPECT_EQ(WaitExit(gen), 0);
  EXPECT_LT(Lines(ReadFile(merged)).size(), 900u) << "the kill should land mid-stream";
  ASSERT_TRUE(
      WaitFor([&] { return StatusRecords(base_a) + StatusRecords(base_b) == kEvents; }, 60));
  ::kill(a, SIGTERM);
  ::kill(b, SIGTERM);
  EXPECT_EQ(WaitExit(a), 0);
  EXPECT_EQ(WaitExit(b), 0);

  const pid_t again =
      Spawn(kVigil + " run --exit-at-end --http off" + merge_flags, Path("merge2.log"));
  ASSERT_EQ(WaitExit(again), 0) << ReadFile(Path("merge2.log"));
  EXPECT_NE(ReadFile(Path("merge2.log")).find("vigil: restored checkpoint"), std::string::npos)
      << ReadFile(Path("merge2.log"));
  // How far the merge stage had closed its windows.
  EXPECT_NE(ReadFile(Path("merge2.log")).find(", windows closed up to 2026-01-01T"),
            std::string::npos)
      << ReadFile(Path("merge2.log"));
  RunSingle();
  EXPECT_EQ(Windows(merged, kUserKeyed), Windows(Path("single.ndjson"), kUserKeyed));
  // Transitions printed before the kill and printed again after the restart
  // (the console is not rolled back) count once.
  std::vector<std::string> seen = Alerts(Path("merge1.log"), {});
  for (const std::string& l : Alerts(Path("merge2.log"), {})) seen.push_back(l);
  std::sort(seen.begin(), seen.end());
  seen.erase(std::unique(seen.begin(), seen.end()), seen.end());
  EXPECT_EQ(seen, Alerts(Path("single.log"), {}));
}

// Instance b starts 20 s after a, on a topic with a backlog that keeps
// growing, and the merge runs from before both, with the shipped idle
// timeout: until every partition of the topic has been reported by an
// instance, the merge closes nothing, so no window holds one instance's
// data only. No record is read twice across the rebalance when b joins:
// the development broker keeps no offsets committed in a transaction and
// refuses the plain commit during the rebalance, so b resumes where the
// partials topic's heartbeats say a's publication ended.
TEST_F(ScaleOutE2eTest, AnInstanceStartingLateOnABacklogMissesNoWindow) {
  // A third of the events before anyone reads, the rest over about 25 s.
  const std::string events = Path("events.ndjson");
  ASSERT_EQ(Sh(kVigil + kGen + " --out " + events).exit_code, 0);
  ASSERT_EQ(Sh("split -l 1000 -d -a 2 " + events + " " + events + ".").exit_code, 0);
  const std::string produce = "kcat -b " + broker_->bootstrap() + " -P -t events -z lz4 -l ";
  ASSERT_EQ(Sh("cat " + events + ".0[0-9] " + events + ".1[01] | " + produce + "/dev/stdin 2>&1")
                .exit_code,
            0);
  const std::string ckpt = Path("merge_ckpt"), merged = Path("merged.ndjson");
  const std::string merge_flags = " --merge " + Url("partials") + " --checkpoint-dir " + ckpt +
                                  " --checkpoint-interval 200ms --output json --results " + merged +
                                  " --http off --no-progress" + kGroupProps;
  const pid_t merge = Spawn(kVigil + " run" + merge_flags, Path("merge1.log"));
  ChildGuard guard_merge(merge);
  auto instance = [&](const std::string& id) {
    return Spawn(kVigil + " run --input " + Url("events") + " --group late --partials " +
                     Url("partials") + " --instance-id " + id +
                     " --checkpoint-interval 300ms --http 127.0.0.1:0 --no-console" + kGroupProps,
                 Path(id + ".log"));
  };
  const pid_t a = instance("a");
  ChildGuard guard_a(a);
  const std::string base_a = JobHttpBase(Path("a.log"));
  ASSERT_FALSE(base_a.empty()) << ReadFile(Path("a.log"));
  const pid_t gen = Spawn("sh -c 'for f in " + events + ".1[2-9] " + events + ".[23][0-9]; do " +
                              produce + "$f || exit 1; sleep 1; done'",
                          Path("gen.log"));
  ChildGuard guard_gen(gen);
  ::sleep(20);
  const pid_t b = instance("b");
  ChildGuard guard_b(b);
  const std::string base_b = JobHttpBase(Path("b.log"));
  ASSERT_FALSE(base_b.empty()) << ReadFile(Path("b.log"));
  EXPECT_EQ(WaitExit(gen), 0) << ReadFile(Path("gen.log"));
  ASSERT_TRUE(
      WaitFor([&] { return StatusRecords(base_a) + StatusRecords(base_b) >= kEvents; }, 120))
      << StatusRecords(base_a) << " + " << StatusRecords(base_b);
  EXPECT_GT(StatusRecords(base_b), 0) << "b should take partitions over mid-backlog";
  ::sleep(2);  // the last publications
  EXPECT_EQ(StatusRecords(base_a) + StatusRecords(base_b), kEvents) << "read twice";
  ::kill(merge, SIGTERM);
  EXPECT_EQ(WaitExit(merge), 0) << ReadFile(Path("merge1.log"));
  ::kill(a, SIGTERM);
  ::kill(b, SIGTERM);
  EXPECT_EQ(WaitExit(a), 0) << ReadFile(Path("a.log"));
  EXPECT_EQ(WaitExit(b), 0) << ReadFile(Path("b.log"));
  // The rest of the windows close at the end of the partials topic.
  const pid_t again = Spawn(kVigil + " run --exit-at-end" + merge_flags, Path("merge2.log"));
  ASSERT_EQ(WaitExit(again), 0) << ReadFile(Path("merge2.log"));
  RunSingle();
  const std::vector<std::string> single = Windows(Path("single.ndjson"), kFromSessions);
  EXPECT_GT(single.size(), 300u);
  EXPECT_EQ(Windows(merged, kFromSessions), single);
}

// Kinesis instances split the shards (--instance I/N) and feed the same
// merge path; one starts late, and is killed mid-stream and restarted from
// its checkpoint, publishing that checkpoint's aggregates again: the merge
// keeps one copy.
TEST_F(ScaleOutE2eTest, KinesisInstancesFeedTheMergeExactlyOnceAcrossARestart) {
  std::unique_ptr<Kinesalite> kinesis = Kinesalite::Start(Path("kinesalite.log"));
  ASSERT_TRUE(kinesis);
  CreateStream(kinesis->endpoint(), "events", 4);
  const std::string stream = kinesis->url("events");
  Result put = Sh(kVigil + kGen + " --to " + stream + " 2>&1");
  ASSERT_EQ(put.exit_code, 0) << put.out;

  Result single =
      Sh(kVigil + " run --input " + stream + " --exit-at-end --output json --results " +
         Path("single.ndjson") + " --http off --no-progress > " + Path("single.log") + " 2>&1");
  ASSERT_EQ(single.exit_code, 0) << ReadFile(Path("single.log"));

  // 250 records per GetRecords call, at most 5 calls a second per shard:
  // an instance takes several seconds over its 18,000 records.
  const std::string job = Path("job.yaml");
  {
    std::ofstream out(job);
    out << "source:\n  kind: kinesis\n  kinesis: {stream: events, endpoint: '"
        << kinesis->endpoint() << "', max_records_per_call: 250}\n";
  }
  auto instance = [&](int i, const std::string& log) {
    const std::string n = std::to_string(i);
    return Spawn(kVigil + " run --config " + job + " --instance " + n + "/2 --partials " +
                     Url("partials") + " --instance-id k" + n + " --checkpoint-dir " +
                     Path("ckpt" + n) +
                     " --checkpoint-interval 100ms --exit-at-end"
                     " --no-console --http 127.0.0.1:0",
                 Path(log));
  };
  const pid_t k1 = instance(1, "k1.log");
  ChildGuard guard1(k1);
  // k1 reads and publishes a while alone: its heartbeats list every shard
  // of the stream, so the merge waits for k0's before closing a window.
  const std::string base1 = JobHttpBase(Path("k1.log"));
  ASSERT_FALSE(base1.empty()) << ReadFile(Path("k1.log"));
  ASSERT_TRUE(WaitFor([&] { return StatusRecords(base1) > 3000; }, 30)) << ReadFile(Path("k1.log"));
  const pid_t k0 = instance(0, "k0_first.log");
  ChildGuard guard0(k0);
  const std::string base0 = JobHttpBase(Path("k0_first.log"));
  ASSERT_FALSE(base0.empty()) << ReadFile(Path("k0_first.log"));
  // Killed after several publications, before the end of its shards.
  ASSERT_TRUE(WaitFor([&] { return StatusRecords(base0) > 5000; }, 30))
      << ReadFile(Path("k0_first.log"));
  ::kill(k0, SIGKILL);
  EXPECT_EQ(WaitExit(k0), -SIGKILL) << "the kill should land mid-stream";
  const pid_t again = instance(0, "k0_again.log");
  EXPECT_EQ(WaitExit(again), 0) << ReadFile(Path("k0_again.log"));
  EXPECT_NE(ReadFile(Path("k0_again.log")).find("vigil: restored checkpoint"), std::string::npos);
  EXPECT_NE(ReadFile(Path("k0_again.log")).find("): watermark 2026-01-01T"), std::string::npos)
      << ReadFile(Path("k0_again.log"));
  EXPECT_EQ(WaitExit(k1), 0) << ReadFile(Path("k1.log"));

  RunMerge();
  EXPECT_EQ(Windows(Path("merged.ndjson"), kUserKeyed), Windows(Path("single.ndjson"), kUserKeyed));
  const std::vector<std::string> alerts = Alerts(Path("single.log"), {});
  EXPECT_GE(alerts.size(), 2u);
  EXPECT_EQ(Alerts(Path("merge.log"), {}), alerts);
}

INSTANTIATE_TEST_SUITE_P(Signals, ScaleOutHandOverTest, ::testing::Values(SIGTERM, SIGKILL),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(info.param == SIGTERM ? "Sigterm" : "Sigkill");
                         });

}  // namespace
}  // namespace vigil::scale_out_test
