// A field the rules read that no event carries (a misspelt name) is
// reported: on /metrics while the job runs, on stderr when it ends.
#include <signal.h>

#include <fstream>
#include <string>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

constexpr char kRules[] = R"yaml(metrics:
  - metric: cache_hit_rate
    export: true
    where: type == "message"
    window: tumbling 1m
    value: ratio(cahce_hit)
  - metric: slow_share
    export: true
    where: type == "message"
    window: tumbling 1m
    value: ratio(latency_ms > 2000)
)yaml";

TEST(FieldPresenceE2eTest, AMisspeltFieldIsReportedOnMetricsAndAtTheEnd) {
  const std::string rules = TempPath("presence_", "rules.yaml");
  std::ofstream(rules) << kRules;
  const std::string log = TempPath("presence_", "run.log");
  const pid_t job = Spawn(StrCat(kVigil,
                                 " run --generator --speed 600 --rate 50 --no-console "
                                 "--no-progress --http 127.0.0.1:0 --rules ",
                                 rules),
                          log);
  ChildGuard guard(job);
  const std::string url = JobHttpBase(log);
  ASSERT_FALSE(url.empty()) << ReadFile(log);
  std::string page;
  ASSERT_TRUE(WaitFor(
      [&] {
        page = Sh("curl -s " + url + "/metrics").out;
        return page.find("vigil_rule_field_unseen{field=\"latency_ms\"} 0") != std::string::npos;
      },
      20))
      << page;
  EXPECT_NE(page.find("vigil_rule_field_unseen{field=\"cahce_hit\"} 1"), std::string::npos) << page;
  EXPECT_NE(page.find("vigil_rule_field_unseen{field=\"type\"} 0"), std::string::npos) << page;
  ::kill(job, SIGTERM);
  EXPECT_EQ(WaitExit(job), 0);
  EXPECT_NE(ReadFile(log).find("vigil: the rules read 'cahce_hit', but no accepted event carried "
                               "it; a misspelt name is never carried, and the rules reading it "
                               "never see a value\n"),
            std::string::npos)
      << ReadFile(log);
}

// A run over a file whose events carry every field says nothing.
TEST(FieldPresenceE2eTest, NothingIsSaidWhenEveryFieldWasCarried) {
  const std::string rules = TempPath("presence_", "ok.yaml");
  std::ofstream(rules) << "metrics:\n  - metric: n\n    export: true\n"
                          "    window: tumbling 1m\n    value: sum(latency_ms)\n";
  const std::string events = TempPath("presence_", "events.ndjson");
  std::ofstream(events) << R"({"ts":"2026-01-01T00:00:01Z","type":"message","latency_ms":5})"
                        << "\n";
  const Result r = Sh(StrCat(kVigil, " run --no-console --no-progress --http off --rules ", rules,
                             " --input ", events, " 2>&1"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out.find("no accepted event"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace vigil
