// Workers end to end with the binary: the reference rules over a million
// generated events with incidents give byte-identical window results and
// alert transitions with 1, 2 and 4 workers, from a file, from stdin and
// from a Kafka topic of 8 partitions (the development broker over the
// Kafka protocol on loopback, filled by kcat); more workers than
// partitions change nothing; and vigil_events_processed_total ends equal
// to the summary's processed count.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "runtime/dev_broker.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;
const std::string kQuiet = " --output json --http off --no-progress";

class WorkersE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    events_ = new std::string(TempPath("workers_e2e_", "events.ndjson"));
    // 1,008,000 events: 84 minutes at 200 a second, three incidents.
    Result g = Sh(kVigil + " gen --rate 200 --duration 84m --seed 17 --out " + *events_ +
                  " --incident latency_spike@10m+10m --incident bedrock_open@35m+6m"
                  " --incident escalation_surge@55m+10m");
    ASSERT_EQ(g.exit_code, 0) << g.out;
  }
  static void TearDownTestSuite() {
    std::remove(events_->c_str());
    delete events_;
  }
  std::string Path(const std::string& name) {
    return TempPath(std::string("workers_e2e_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
  // The alert transitions a console printed (JSON lines), in order.
  static std::vector<std::string> Alerts(const std::string& console) {
    std::vector<std::string> out;
    for (const std::string& l : Lines(console)) {
      if (l.find("\"alert\":") != std::string::npos) out.push_back(l);
    }
    return out;
  }
  struct Output {
    std::string results;  // the results file, byte for byte
    std::vector<std::string> alerts;
    std::string log;
  };
  Output Run(const std::string& cmd, const std::string& name) {
    const std::string results = Path(name + ".ndjson"), log = Path(name + ".log");
    Result r = Sh(cmd + " --results " + results + kQuiet + " 2>" + log);
    Output out{ReadFile(results), Alerts(r.out), ReadFile(log)};
    EXPECT_EQ(r.exit_code, 0) << out.log;
    return out;
  }
  // `got` read the million events of events_.
  void ExpectSame(const Output& got, const Output& want, const std::string& what) {
    EXPECT_NE(got.log.find("1008000 records"), std::string::npos) << what << ": " << got.log;
    EXPECT_TRUE(got.results == want.results) << what << ": the window results differ";
    EXPECT_EQ(got.alerts, want.alerts) << what;
  }
  static std::string* events_;
};

std::string* WorkersE2eTest::events_ = nullptr;

TEST_F(WorkersE2eTest, AFileAndStdinGiveTheSameResultsForOneTwoAndFourWorkers) {
  const Output one = Run(kVigil + " run --workers 1 --input " + *events_, "file1");
  EXPECT_GT(Lines(one.results).size(), 2000u);
  EXPECT_GE(one.alerts.size(), 6u);  // each incident fires and resolves
  for (int n : {2, 4}) {
    const std::string w = std::to_string(n);
    ExpectSame(Run(StrCat(kVigil, " run --workers ", w, " --input ", *events_), "file" + w), one,
               StrCat("file, ", w, " workers"));
  }
  for (int n : {1, 2, 4}) {
    const std::string w = std::to_string(n);
    ExpectSame(Run(StrCat("cat ", *events_, " | ", kVigil, " run --workers ", w, " --input -"),
                   "stdin" + w),
               one, StrCat("stdin, ", w, " workers"));
  }
}

// SLOs (their metrics share one pane store per SLO, with views for the
// shorter windows) give byte-identical windows and alerts for any number
// of workers and for a file or stdin.
TEST_F(WorkersE2eTest, SlosGiveTheSameResultsForAnyNumberOfWorkers) {
  const std::string rules = std::string(" --rules ") + VIGIL_SOURCE_DIR + "/deploy/rules/slos.yaml";
  const Output one = Run(kVigil + " run --workers 1" + rules + " --input " + *events_, "slo1");
  EXPECT_GT(Lines(one.results).size(), 500u);
  EXPECT_NE(one.results.find("\"metric\":\"slo_latency_sla_burn_rate_5m\""), std::string::npos);
  EXPECT_NE(one.results.find("\"metric\":\"slo_bedrock_errors_budget_exhaustion_seconds\""),
            std::string::npos);
  EXPECT_FALSE(one.alerts.empty());  // the Bedrock incident burns its budget
  ExpectSame(Run(kVigil + " run --workers 3" + rules + " --input " + *events_, "slo3"), one,
             "SLOs, file, 3 workers");
  ExpectSame(Run("cat " + *events_ + " | " + kVigil + " run --workers 2" + rules + " --input -",
                 "slo_stdin2"),
             one, "SLOs, stdin, 2 workers");
}

// The development broker (librdkafka's mock cluster) keeps about 5 MiB of
// each partition, some 80,000 of these events, so the topic never holds the
// million at once: three live jobs, with 1, 2 and 4 workers, read it while
// the generator writes it at 24,000 events a second; once it has ended and
// the partitions have been idle for the idle timeout, every window has
// closed.
TEST_F(WorkersE2eTest, AKafkaTopicOfEightPartitionsGivesTheFileResultsForAnyNumberOfWorkers) {
  absl::StatusOr<std::unique_ptr<DevBroker>> b = DevBroker::Start(1, {{"events", 8}});
  ASSERT_TRUE(b.ok()) << b.status();
  const std::string url = "kafka://" + (*b)->bootstrap() + "/events";
  // The live jobs close their last windows by the clock, as complete; the
  // file's end closes them the same way with --close-partial-windows.
  const Output file =
      Run(kVigil + " run --workers 1 --close-partial-windows --input " + *events_, "file");

  struct Live {
    std::string results, console, log;
    pid_t pid = 0;
    std::string base;
  };
  std::vector<Live> jobs(3);
  std::vector<std::unique_ptr<ChildGuard>> guards;
  const int workers[] = {1, 2, 4};
  for (size_t j = 0; j < jobs.size(); ++j) {
    const std::string w = std::to_string(workers[j]);
    Live& job = jobs[j];
    job.results = Path("kafka" + w + ".ndjson");
    job.console = Path("kafka" + w + ".console");
    job.log = Path("kafka" + w + ".log");
    // The console (stdout) and the log (stderr) apart.
    job.pid = Spawn(StrCat("/bin/sh -c 'exec ", kVigil, " run --workers ", w, " --input ", url,
                           " --group g", w, " --results ", job.results,
                           " --output json --http 127.0.0.1:0 -X session.timeout.ms=6000"
                           " -X heartbeat.interval.ms=500 2>",
                           job.log, "'"),
                    job.console);
    guards.push_back(std::make_unique<ChildGuard>(job.pid));
  }
  for (Live& job : jobs) {
    job.base = JobHttpBase(job.log);
    ASSERT_FALSE(job.base.empty()) << ReadFile(job.log);
    ASSERT_TRUE(
        WaitFor([&] { return ReadFile(job.log).find("assigned") != std::string::npos; }, 30))
        << ReadFile(job.log);
  }
  Result gen = Sh(kVigil + " gen --to " + url +
                  " --speed 120 --rate 200 --duration 84m --seed 17"
                  " --incident latency_spike@10m+10m --incident bedrock_open@35m+6m"
                  " --incident escalation_surge@55m+10m 2>&1");
  ASSERT_EQ(gen.exit_code, 0) << gen.out;
  ASSERT_NE(gen.out.find("1008000 delivered, 0 failed"), std::string::npos) << gen.out;
  const double windows = static_cast<double>(Lines(file.results).size());
  for (size_t j = 0; j < jobs.size(); ++j) {
    Live& job = jobs[j];
    const std::string what = "8 partitions, " + std::to_string(workers[j]) + " workers";
    // The results file is written out at checkpoints and at the end.
    std::string metrics;
    EXPECT_TRUE(WaitFor(
        [&] {
          metrics = HttpGet(job.base, "/metrics").second;
          return SeriesValue(metrics, "vigil_window_results_total") >= windows;
        },
        120))
        << what << ": " << metrics << ReadFile(job.log);
    EXPECT_EQ(SeriesValue(metrics, "vigil_events_in_total"), 1008000) << what;
    ::kill(job.pid, SIGTERM);
    EXPECT_EQ(WaitExit(job.pid), 0) << ReadFile(job.log);
    EXPECT_TRUE(ReadFile(job.results) == file.results) << what << ": the window results differ";
    // The same transitions; then, as the live watermark follows the clock
    // past weeks without events, the weekly alerts resolve.
    std::vector<std::string> alerts = Alerts(ReadFile(job.console));
    ASSERT_GE(alerts.size(), file.alerts.size()) << what;
    for (size_t i = file.alerts.size(); i < alerts.size(); ++i) {
      EXPECT_NE(alerts[i].find("\"alert\":\"FaqTopicNegativeFeedback\",\"state\":\"resolved\""),
                std::string::npos)
          << what << ": " << alerts[i];
    }
    alerts.resize(file.alerts.size());
    EXPECT_EQ(alerts, file.alerts) << what;
  }
}

// More workers than partitions: four workers and one partition.
TEST_F(WorkersE2eTest, FourWorkersOnOnePartitionGiveTheFileResults) {
  absl::StatusOr<std::unique_ptr<DevBroker>> b = DevBroker::Start(1, {{"one", 1}});
  ASSERT_TRUE(b.ok()) << b.status();
  const std::string events = Path("events.ndjson");
  ASSERT_EQ(Sh(kVigil +
               " gen --rate 20 --duration 30m --seed 5 "
               "--incident latency_spike@5m+10m --out " +
               events)
                .exit_code,
            0);
  Result p = Sh("kcat -b " + (*b)->bootstrap() + " -P -t one -z lz4 -l " + events + " 2>&1");
  ASSERT_EQ(p.exit_code, 0) << p.out;
  const Output file = Run(kVigil + " run --workers 1 --input " + events, "file");
  const Output kafka = Run(kVigil + " run --workers 4 --input kafka://" + (*b)->bootstrap() +
                               "/one --group one --exit-at-end",
                           "kafka");
  EXPECT_NE(kafka.log.find("36000 records"), std::string::npos) << kafka.log;
  EXPECT_GT(Lines(file.results).size(), 500u);
  EXPECT_TRUE(kafka.results == file.results) << "the window results differ";
  EXPECT_EQ(kafka.alerts, file.alerts);
}

TEST_F(WorkersE2eTest, TheProcessedCounterEndsEqualToTheSummary) {
  absl::StatusOr<std::unique_ptr<DevBroker>> b = DevBroker::Start(1, {{"events", 4}});
  ASSERT_TRUE(b.ok()) << b.status();
  const std::string bootstrap = (*b)->bootstrap(), events = Path("events.ndjson");
  ASSERT_EQ(Sh(kVigil + " gen --rate 20 --duration 30m --seed 5 --out " + events).exit_code, 0);
  Result p = Sh("kcat -b " + bootstrap + " -P -t events -z lz4 -l " + events + " 2>&1");
  ASSERT_EQ(p.exit_code, 0) << p.out;
  // A live job: it reads the topic, then waits for more; /metrics is read
  // once it has every event, and the summary printed after SIGTERM.
  const std::string log = Path("run.log");
  const pid_t job = Spawn(kVigil + " run --workers 2 --input kafka://" + bootstrap +
                              "/events --no-console --http 127.0.0.1:0",
                          log);
  ChildGuard guard(job);
  const std::string base = JobHttpBase(log);
  ASSERT_FALSE(base.empty()) << ReadFile(log);
  double processed = 0;
  EXPECT_TRUE(WaitFor(
      [&] {
        processed = SeriesValue(HttpGet(base, "/metrics").second, "vigil_events_processed_total");
        return processed >= 36000;
      },
      60))
      << processed << "\n"
      << ReadFile(log);
  EXPECT_EQ(processed, 36000);
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0) << ReadFile(log);
  EXPECT_TRUE(
      std::regex_search(ReadFile(log), std::regex("36000 records in [0-9.]+s, 36000 processed")))
      << ReadFile(log);
}

TEST_F(WorkersE2eTest, BadWorkerFlagsAreUsageErrors) {
  Result zero = Sh(kVigil + " run --workers 0 2>&1");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_NE(zero.out.find("--workers needs a number of workers from 1 to 64"), std::string::npos)
      << zero.out;
  Result key = Sh(kVigil + " run --worker-key '' 2>&1");
  EXPECT_EQ(key.exit_code, 2);
  EXPECT_NE(key.out.find("--worker-key needs a field name such as session_id"), std::string::npos)
      << key.out;
}

}  // namespace
}  // namespace vigil
