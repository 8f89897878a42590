// Ad hoc silences on a running job: POST /api/silences mutes a page at the
// exact event times it covers, the page goes out when the silence ends, and
// the API lists, expires and refuses as documented.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "base/strings.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

std::string Temp(const std::string& name) { return TempPath("vigil_silences_", name); }

std::string Curl(const std::string& args) { return Sh("curl -s " + args).out; }

// "<at> <state> <alert>" plus what held it back, for each firing/resolved
// line of --output json.
std::vector<std::string> Transitions(const std::string& console) {
  std::vector<std::string> out;
  for (const std::string& line : Lines(console)) {
    auto field = [&](const std::string& key) {
      size_t at = line.find("\"" + key + "\":\"");
      if (at == std::string::npos) return std::string();
      at += key.size() + 4;
      return line.substr(at, line.find('"', at) - at);
    };
    const std::string state = field("state");
    if (state != "firing" && state != "resolved") continue;
    std::string t = field("at").substr(11, 5) + " " + state + " " + field("alert");
    if (line.find("\"notify\":false") != std::string::npos) t += " held back";
    if (!field("silenced_by").empty()) t += " by " + field("silenced_by");
    if (line.find("\"released\":true") != std::string::npos) t += " released";
    out.push_back(t);
  }
  return out;
}

TEST(SilencesE2eTest, AnAdHocSilenceMutesThePageAtTheEventTimesItCovers) {
  const std::string events = Temp("events.ndjson"), console = Temp("console.ndjson"),
                    log = Temp("run.log");
  // The P1 on p99 latency fires at 00:15 and resolves at 00:19.
  ASSERT_EQ(Sh(kVigil + " gen --seed 7 --rate 50 --duration 30m --incident latency_spike@10m+8m " +
               "--out " + events)
                .exit_code,
            0);
  const std::vector<std::string> lines = Lines(ReadFile(events));
  FILE* in = ::popen((kVigil + " run --input - --http 127.0.0.1:0 --web.enable-lifecycle " +
                      "--output json --no-pending >" + console + " 2>" + log)
                         .c_str(),
                     "w");
  ASSERT_NE(in, nullptr);
  size_t i = 0;
  for (; i < lines.size() / 6; ++i) std::fprintf(in, "%s\n", lines[i].c_str());  // to ~00:05
  std::fflush(in);
  const std::string base = JobHttpBase(log);
  ASSERT_FALSE(base.empty()) << ReadFile(log);

  // Refused: a body without an end, a bad matcher, a form content type.
  const std::string json = " -H 'Content-Type: application/json' ";
  EXPECT_EQ(Curl(json + "-d '{\"matchers\":[{\"name\":\"alertname\",\"value\":\"X\"}]}' " + base +
                 "/api/silences"),
            "a silence needs endsAt (RFC 3339) or duration (e.g. 2h): it expires by itself\n");
  EXPECT_EQ(Curl(json + "-d '{\"matchers\":[{\"name\":\"a\",\"value\":\"(\",\"isRegex\":true}]," +
                 "\"duration\":\"1h\"}' " + base + "/api/silences")
                .rfind("bad regular expression", 0),
            0u);
  EXPECT_EQ(Sh("curl -s -o /dev/null -w '%{http_code}' -d 'a=b' " + base + "/api/silences").out,
            "415");
  // Refused rather than taken in part: an update (id), an unknown key, an
  // end given twice.
  const std::string matcher = "\"matchers\":[{\"name\":\"alertname\",\"value\":\"X\"}]";
  EXPECT_EQ(Curl(json + "-d '{\"id\":\"s1\"," + matcher + ",\"duration\":\"1h\"}' " + base +
                 "/api/silences"),
            "a silence here is never updated in place: expire it (DELETE /api/silences?id=ID) "
            "and post a new one\n");
  EXPECT_EQ(Curl(json + "-d '{\"bogus\":1," + matcher + ",\"duration\":\"1h\"}' " + base +
                 "/api/silences"),
            "unknown key 'bogus': a silence has matchers, startsAt, endsAt or duration, "
            "createdBy and comment\n");
  EXPECT_EQ(
      Curl(json + "-d '{" + matcher +
           ",\"endsAt\":\"2026-01-02T00:00:00Z\",\"duration\":\"1h\"}' " + base + "/api/silences"),
      "give endsAt or duration, not both\n");
  EXPECT_EQ(Curl(json +
                 "-d '{\"matchers\":[{\"name\":\"alertname\",\"value\":\".*\",\"isRegex\":true}],"
                 "\"duration\":\"1h\"}' " +
                 base + "/api/silences"),
            "every matcher also matches an alert without that label (alertname=~\".*\", "
            "x=\"\"): the silence would hold back every alert; give one that needs a value\n");
  // A value of another type is refused, not read as the default: the
  // string "false" taken as isEqual's default would silence the alert the
  // matcher means to keep.
  const auto post = [&](const std::string& body) {
    return Curl(json + "-d '" + body + "' " + base + "/api/silences");
  };
  EXPECT_EQ(post("{\"matchers\":[{\"name\":\"alertname\",\"value\":\"X\",\"isEqual\":\"false\"},"
                 "{\"name\":\"severity\",\"value\":\"P3\"}],\"duration\":\"1h\"}"),
            "matcher 'alertname': isEqual must be true or false\n");
  EXPECT_EQ(post("{\"matchers\":[{\"name\":\"alertname\",\"value\":\"X.*\",\"isRegex\":\"true\"}],"
                 "\"duration\":\"1h\"}"),
            "matcher 'alertname': isRegex must be true or false\n");
  EXPECT_EQ(post("{\"matchers\":[{\"name\":\"alertname\",\"value\":\"X\",\"bogus\":1}],"
                 "\"duration\":\"1h\"}"),
            "unknown matcher key 'bogus': a matcher has name, value, isRegex and isEqual\n");
  EXPECT_EQ(post("{" + matcher + ",\"duration\":\"1h\",\"comment\":5}"),
            "'comment' must be a string\n");
  EXPECT_EQ(post("{" + matcher + ",\"endsAt\":1767225600000}"), "'endsAt' must be a string\n");
  // 00:12 to 00:16:30 of event time, for the P1.
  EXPECT_EQ(
      Curl(json +
           "-d '{\"matchers\":[{\"name\":\"alertname\",\"value\":\"LatencyP99Critical\","
           "\"isRegex\":false,\"isEqual\":true}],\"startsAt\":\"2026-01-01T00:12:00Z\","
           "\"endsAt\":\"2026-01-01T00:16:30Z\",\"createdBy\":\"ops\",\"comment\":\"drill\"}' " +
           base + "/api/silences"),
      "{\"silenceID\":\"s1\"}\n");
  const std::string listed = Curl(base + "/api/silences");
  EXPECT_NE(listed.find("{\"id\":\"s1\",\"source\":\"api\",\"matchers\":[\"alertname="
                        "\\\"LatencyP99Critical\\\"\"],\"startsAt\":\"2026-01-01T00:12:00.000Z\","
                        "\"endsAt\":\"2026-01-01T00:16:30.000Z\""),
            std::string::npos)
      << listed;
  EXPECT_NE(listed.find("\"comment\":\"drill\",\"createdBy\":\"ops\""), std::string::npos);
  EXPECT_EQ(Curl(base + "/api/silences?id=s1").rfind("[{\"id\":\"s1\",", 0), 0u);
  EXPECT_EQ(Curl(base + "/api/silences?id=s7"), "[]");
  EXPECT_EQ(Curl(base + "/api/silences?x=1"), "expected no parameter, or ?id=ID\n");
  // One that ended before the job's event time would never be active.
  const std::string past = Curl(json + "-d '{" + matcher +
                                ",\"startsAt\":\"2025-12-31T00:00:00Z\","
                                "\"endsAt\":\"2025-12-31T01:00:00Z\"}' " +
                                base + "/api/silences");
  EXPECT_EQ(past.rfind("endsAt 2025-12-31T01:00:00.000Z is not after the job's event time ", 0), 0u)
      << past;
  // A second one, for an hour from the job's watermark, expired at once.
  ASSERT_TRUE(WaitFor(
      [&] {
        return Curl(base + "/metrics").find("vigil_watermark_timestamp_seconds 17672") !=
               std::string::npos;
      },
      20));
  EXPECT_EQ(Curl(json +
                 "-d '{\"matchers\":[{\"name\":\"severity\",\"value\":\"P1\"}],"
                 "\"duration\":\"1h\"}' " +
                 base + "/api/silences"),
            "{\"silenceID\":\"s2\"}\n");
  EXPECT_EQ(Curl("-X DELETE" + json + "'" + base + "/api/silences?id=s2'"), "{\"expired\":true}\n");
  EXPECT_EQ(Sh("curl -s -o /dev/null -w '%{http_code}' -X DELETE" + json + "'" + base +
               "/api/silences?id=s9'")
                .out,
            "404");

  for (; i < lines.size(); ++i) std::fprintf(in, "%s\n", lines[i].c_str());
  const int status = ::pclose(in);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << ReadFile(log);
  // Fired at 00:15 inside the silence: held back; at 00:17, the first
  // window end after it, sent; its resolution at 00:19 too.
  EXPECT_EQ(Transitions(ReadFile(console)), (std::vector<std::string>{
                                                "00:15 firing LatencyP99Critical held back by s1",
                                                "00:17 firing LatencyP99Critical released",
                                                "00:19 resolved LatencyP99Critical",
                                            }));
}

// The ad hoc silence is in the checkpoint, written at once (not an hour's
// interval later): a job killed before the incident and restarted on the
// whole file still holds the page back.
TEST(SilencesE2eTest, AnAdHocSilenceSurvivesARestart) {
  const std::string events = Temp("restart-events.ndjson"), input = Temp("restart-input.ndjson"),
                    ckpt = Temp("restart-ckpt"), log1 = Temp("restart1.log");
  std::filesystem::remove_all(ckpt);
  std::filesystem::remove(input);
  ASSERT_EQ(Sh(kVigil + " gen --seed 7 --rate 50 --duration 30m --incident latency_spike@10m+8m " +
               "--out " + events)
                .exit_code,
            0);
  const std::vector<std::string> lines = Lines(ReadFile(events));
  ASSERT_EQ(::mkfifo(input.c_str(), 0600), 0);
  // On stdin, which the job keeps stepping on while no line arrives.
  const pid_t pid = Spawn(kVigil + " run --input - --checkpoint-dir " + ckpt +
                              " --checkpoint-interval 1h --http 127.0.0.1:0"
                              " --web.enable-lifecycle --no-console < " +
                              input,
                          log1);
  {
    std::ofstream pipe(input);
    for (size_t i = 0; i < lines.size() / 6; ++i) pipe << lines[i] << '\n';  // to ~00:05
    pipe.flush();
    const std::string base = JobHttpBase(log1);
    ASSERT_FALSE(base.empty()) << ReadFile(log1);
    // The newest complete checkpoint (checkpoint-EPOCH.vck, not the .tmp
    // being written) before the POST.
    auto newest = [&] { return Sh("ls " + ckpt + " | grep '\\.vck$' | sort | tail -1").out; };
    for (int i = 0; i < 100 && newest().empty(); ++i) ::usleep(50'000);
    const std::string before = newest();
    EXPECT_EQ(Curl(" -H 'Content-Type: application/json' -d '{\"matchers\":[{\"name\":"
                   "\"alertname\",\"value\":\"LatencyP99Critical\"}],\"startsAt\":"
                   "\"2026-01-01T00:12:00Z\",\"endsAt\":\"2026-01-01T00:16:30Z\"}' " +
                   base + "/api/silences"),
              "{\"silenceID\":\"s1\"}\n");
    // No more events: the job checkpoints for the silence alone; then it
    // is killed.
    for (int i = 0; i < 100 && newest() == before; ++i) ::usleep(50'000);
    EXPECT_NE(newest(), before) << "no checkpoint after the POST";
    ::kill(pid, SIGKILL);
    EXPECT_EQ(WaitExit(pid), -SIGKILL);
  }
  std::filesystem::remove(input);
  ASSERT_EQ(Sh("cp " + events + " " + input).exit_code, 0);
  Result resumed =
      Sh(kVigil + " run --input - < " + input + " --checkpoint-dir " + ckpt +
         " --http off --output json --no-pending --no-progress 2>" + Temp("restart2.log"));
  ASSERT_EQ(resumed.exit_code, 0) << ReadFile(Temp("restart2.log"));
  EXPECT_NE(ReadFile(Temp("restart2.log")).find("restored checkpoint"), std::string::npos);
  EXPECT_EQ(Transitions(resumed.out), (std::vector<std::string>{
                                          "00:15 firing LatencyP99Critical held back by s1",
                                          "00:17 firing LatencyP99Critical released",
                                          "00:19 resolved LatencyP99Critical",
                                      }));
}

TEST(SilencesE2eTest, ChangingSilencesNeedsTheLifecycleFlag) {
  const std::string log = Temp("nolifecycle.log");
  const pid_t pid = Spawn(kVigil + " run --http 127.0.0.1:0 --no-console", log);
  ChildGuard guard(pid);
  const std::string base = JobHttpBase(log);
  ASSERT_FALSE(base.empty()) << ReadFile(log);
  EXPECT_EQ(Sh("curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "
               "-d '{}' " +
               base + "/api/silences")
                .out,
            "403");
  // The reference rules' maintenance window is listed.
  EXPECT_EQ(
      Curl(base + "/api/silences").rfind("[{\"id\":\"weekly-deploy\",\"source\":\"rules\"", 0), 0u);
}

}  // namespace
}  // namespace vigil
