// Pages a receiver could not take by the end of a run, with no spool
// directory, are not lost silently: the job says how many, for which
// receiver, and what would keep them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/strings.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

TEST(UndeliveredE2eTest, PagesLeftInMemoryAtTheEndAreReported) {
  const std::string dir = TempPath("vigil_undelivered_", "");
  std::filesystem::create_directories(dir);
  const std::string rules = dir + "/r.yaml", job = dir + "/job.yaml", events = dir + "/ev.ndjson";
  std::ofstream(rules) << "metrics:\n  - metric: turns\n    window: tumbling 1m\n"
                          "    value: count()\nalerts:\n  - alert: Busy\n    severity: P1\n"
                          "    expr: turns > 2\n";
  // Nothing listens on the port: every delivery fails and is retried.
  std::ofstream(job) << "rules: [" << rules << "]\nnotify:\n  timeout: 1s\n"
                     << "  retry: {initial: 100ms, max: 200ms}\n  receivers:\n"
                     << "    - {name: hook, kind: webhook, url: http://127.0.0.1:" << FreePort()
                     << "/hook}\n  routes: {P1: [hook]}\n";
  {
    std::ofstream ev(events);
    for (const char* t : {"00:00:00", "00:00:10", "00:00:20", "00:01:10", "00:02:10"}) {
      ev << "{\"ts\":\"2026-01-01T" << t << "Z\",\"type\":\"m\"}\n";
    }
  }
  Result r = Sh(StrCat(kVigil, " run --config ", job, " --input ", events,
                       " --http off --no-progress --no-console 2>&1"));
  EXPECT_EQ(r.exit_code, 0) << r.out;
  // Busy fired at 1m and resolved at 2m: both are still queued.
  EXPECT_NE(r.out.find("hook (http://127.0.0.1:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2 notification(s) not delivered by the end and held in memory only"),
            std::string::npos)
      << r.out;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace vigil
