// tests/runtime/scale_out_e2e.h
//
// What the scale-out end-to-end tests share: a development broker with an
// event topic of 4 partitions and a partials topic of 2, instances and a
// merge stage started as `vigil` processes, and readers of their results,
// logs and status.
#ifndef VIGIL_TESTS_RUNTIME_SCALE_OUT_E2E_H_
#define VIGIL_TESTS_RUNTIME_SCALE_OUT_E2E_H_

#include <signal.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/dev_broker.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil::scale_out_test {

inline const std::string kVigil = VIGIL_BINARY;
inline const std::string kGroupProps = " -X session.timeout.ms=6000 -X heartbeat.interval.ms=500";
inline const std::string kGen =
    " gen --rate 20 --duration 30m --seed 5 --incident latency_spike@5m+10m";
inline constexpr long long kEvents = 36000;

// Metrics read from the `visitors` stream, keyed by user_id: a user's
// sessions live in several partitions (the topic is keyed by session_id),
// so each instance sees part of every user (docs/scale-out.md).
inline const std::set<std::string> kUserKeyed = {"return_visit_rate"};
// Metrics and alerts from session streams and joins: a partition that
// moves because its instance was killed splits its open sessions, and its
// turns waiting in a join are lost with the instance that read them (an
// instance that stops hands them over with the partition).
inline const std::set<std::string> kFromSessions = {"sessions_closed",
                                                    "resolution_rate",
                                                    "session_turns",
                                                    "escalation_rate_by_intent",
                                                    "return_visit_rate",
                                                    "conversion_rate",
                                                    "escalation_rate_monthly",
                                                    "resolution_rate_monthly",
                                                    "conversion_rate_monthly",
                                                    "faq_negative_feedback",
                                                    "faq_negative_share",
                                                    "thumbs_up_rate_by_intent",
                                                    "thumbs_down_rate_by_latency",
                                                    "recommendation_clicks_per_turn",
                                                    "escalation_after_turn_rate",
                                                    "thumbs_up_rate_by_variant"};
inline const std::set<std::string> kSessionAlerts = {"ResolutionRateLow", "SessionLengthUnusual",
                                                     "FaqTopicNegativeFeedback"};

inline std::string Field(const std::string& line, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(line, m, std::regex("\"" + key + "\":\"([^\"]*)\""))) return "";
  return m[1];
}

// Window result lines whose metric is not in `skip`, sorted.
inline std::vector<std::string> Windows(const std::string& file,
                                        const std::set<std::string>& skip) {
  std::vector<std::string> out;
  for (const std::string& l : Lines(ReadFile(file))) {
    if (!skip.contains(Field(l, "metric"))) out.push_back(l);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Alert transitions (console JSON lines) of alerts not in `skip`, sorted.
inline std::vector<std::string> Alerts(const std::string& log, const std::set<std::string>& skip) {
  std::vector<std::string> out;
  for (const std::string& l : Lines(ReadFile(log))) {
    if (l.rfind("{\"at\"", 0) == 0 && !skip.contains(Field(l, "alert"))) out.push_back(l);
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline long long StatusRecords(const std::string& base) {
  std::smatch m;
  const std::string body = HttpGet(base, "/api/status").second;
  if (!std::regex_search(body, m, std::regex("\"records\":(\\d+)"))) return -1;
  return std::stoll(m[1]);
}

// Transactions of partial aggregates the instance has committed.
inline long long StatusPublications(const std::string& base) {
  std::smatch m;
  const std::string body = HttpGet(base, "/api/status").second;
  if (!std::regex_search(body, m, std::regex("\"publications\":(\\d+)"))) return -1;
  return std::stoll(m[1]);
}

// Partitions the instance reads now.
inline int ActiveInputs(const std::string& base) {
  const std::string body = HttpGet(base, "/api/status").second;
  int n = 0;
  for (size_t at = body.find("\"active\":true"); at != std::string::npos;
       at = body.find("\"active\":true", at + 1)) {
    ++n;
  }
  return n;
}

inline long long SummaryRecords(const std::string& log) {
  std::smatch m;
  const std::string text = ReadFile(log);
  if (!std::regex_search(text, m, std::regex("vigil: (\\d+) records in"))) return -1;
  return std::stoll(m[1]);
}

class ScaleOutE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Sh("command -v kcat").exit_code, 0) << "kcat is missing: run scripts/setup.sh";
    absl::StatusOr<std::unique_ptr<DevBroker>> b =
        DevBroker::Start(1, {{"events", 4}, {"partials", 2}});
    ASSERT_TRUE(b.ok()) << b.status();
    broker_ = std::move(*b);
  }
  std::string Path(const std::string& name) {
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(test.begin(), test.end(), '/', '_');  // parameterised names
    return TempPath("scale_" + test + "_", name);
  }
  std::string Url(const std::string& topic) {
    return "kafka://" + broker_->bootstrap() + "/" + topic;
  }

  // One instance over the whole topic, to the end: the reference.
  void RunSingle() {
    const pid_t pid = Spawn(kVigil + " run --input " + Url("events") +
                                " --group single --exit-at-end --output json --results " +
                                Path("single.ndjson") + " --http off --no-progress" + kGroupProps,
                            Path("single.log"));
    ASSERT_EQ(WaitExit(pid), 0) << ReadFile(Path("single.log"));
    ASSERT_EQ(SummaryRecords(Path("single.log")), kEvents) << ReadFile(Path("single.log"));
  }
  // Instance "a" runs two workers and "b" one, whatever the machine's
  // cores, so partitions revoked from one and assigned to the other move
  // between worker counts.
  pid_t StartInstance(const std::string& id) {
    return Spawn(kVigil + " run --input " + Url("events") + " --group pair --partials " +
                     Url("partials") + " --instance-id " + id +
                     (id == "a" ? " --workers 2" : " --workers 1") +
                     " --checkpoint-interval 300ms --idle-timeout 1h --http 127.0.0.1:0"
                     " --no-console" +
                     kGroupProps,
                 Path(id + ".log"));
  }
  // Instances "a" and "b" running, each holding some of the 4 partitions.
  struct Pair {
    pid_t a = -1, b = -1;
    std::string base_a, base_b;  // their HTTP endpoints
  };
  Pair StartPair() {
    Pair p;
    p.a = StartInstance("a");
    guards_.push_back(std::make_unique<ChildGuard>(p.a));
    p.base_a = JobHttpBase(Path("a.log"));
    p.b = StartInstance("b");
    guards_.push_back(std::make_unique<ChildGuard>(p.b));
    p.base_b = JobHttpBase(Path("b.log"));
    EXPECT_FALSE(p.base_a.empty() || p.base_b.empty())
        << ReadFile(Path("a.log")) << ReadFile(Path("b.log"));
    EXPECT_TRUE(WaitFor(
        [&] {
          const int in_a = ActiveInputs(p.base_a), in_b = ActiveInputs(p.base_b);
          return in_a > 0 && in_b > 0 && in_a + in_b == 4;
        },
        30))
        << ReadFile(Path("a.log")) << ReadFile(Path("b.log"));
    return p;
  }
  // The merge stage over the whole partials topic, to its end. Every
  // instance has left by then (their open sessions closed as they left),
  // so at the end it closes every window, as one instance does at the end
  // of the topic. `late`: whether partials may come late (see the hand-over
  // test); never otherwise.
  void RunMerge(bool late = false) {
    const pid_t pid = Spawn(kVigil + " run --merge " + Url("partials") +
                                " --exit-at-end --output json --results " + Path("merged.ndjson") +
                                " --dead-letter " + Path("merge_dead.ndjson") +
                                " --http off --no-progress" + kGroupProps,
                            Path("merge.log"));
    ASSERT_EQ(WaitExit(pid), 0) << ReadFile(Path("merge.log"));
    if (late) return;
    EXPECT_NE(ReadFile(Path("merge.log")).find("dead-lettered (0 late)"), std::string::npos)
        << ReadFile(Path("merge.log"));
  }
  std::unique_ptr<DevBroker> broker_;
  std::vector<std::unique_ptr<ChildGuard>> guards_;
};

}  // namespace vigil::scale_out_test

#endif  // VIGIL_TESTS_RUNTIME_SCALE_OUT_E2E_H_
