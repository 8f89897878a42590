// Knowledge-base-gap tickets end to end: the vigil binary with the reference
// rules over a generated month with KB-gap incidents on two FAQ topics,
// FaqTopicNegativeFeedback routed to a jira receiver, and FakeJira on
// loopback. The topics that get a ticket are computed here, independently,
// from the generated events (feedback joined to its turn within the hour,
// counted per topic per week); each gets exactly one ticket, also across a
// kill -9 and restart from the checkpoint and across a restart with no state
// at all; the API token shows up in no log, console, status or metrics.
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "base/strings.h"
#include "base/time.h"
#include "gtest/gtest.h"
#include "tests/operators/notify/fake_jira.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

using testing_util::FakeJira;

const std::string kVigil = VIGIL_BINARY;
constexpr char kEmail[] = "kb-bot@example.com";
constexpr char kToken[] = "ATATT3xE2eT0kenV4lue9f8e7d";
constexpr TimeMs kWeek = 7 * 86400000LL;

std::string Auth() { return "Basic " + absl::Base64Escape(StrCat(kEmail, ":", kToken)); }

// Topics whose thumbs-down on FAQ turns, joined to the turn within an hour
// and counted by the week of the feedback, exceed 10 in some week; with the
// count of the first such week.
std::map<std::string, int> ExpectedGaps(const std::vector<std::string>& lines) {
  struct Turn {
    TimeMs ts;
    std::string intent, topic;
  };
  std::map<std::string, Turn> turns;
  std::map<std::pair<TimeMs, std::string>, int> per_week;  // (week start, topic)
  simdjson::dom::parser parser;
  auto str = [](simdjson::dom::element e, const char* key) {
    std::string_view v;
    return e[key].get(v) == simdjson::SUCCESS ? std::string(v) : "";
  };
  for (const std::string& line : lines) {
    simdjson::dom::element e = parser.parse(line);
    const std::string type = str(e, "type");
    const TimeMs ts = ParseRfc3339(str(e, "ts")).value_or(kMinTime);
    if (type == "message") {
      turns[str(e, "turn_id")] = {ts, str(e, "intent"), str(e, "topic")};
    } else if (type == "feedback" && e["rating"].get_int64().value() == -1) {
      auto it = turns.find(str(e, "turn_id"));
      if (it == turns.end() || ts < it->second.ts || ts > it->second.ts + 3600000) continue;
      if (it->second.intent != "faq") continue;
      // Calendar weeks from Monday 00:00 UTC; the epoch was a Thursday.
      ++per_week[{ts - (ts + 3 * 86'400'000LL) % kWeek, it->second.topic}];
    }
  }
  std::map<std::string, int> out;
  for (const auto& [key, count] : per_week) {  // by week, so the first week wins
    if (count > 10) out.emplace(key.second, count);
  }
  return out;
}

class TicketsE2eTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) {
    return TempPath(std::string("tickets_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
  void SetUp() override {
    RemoveTestPaths(Path(""));
    events_ = Path("events.ndjson");
    // A low rate: outside the incidents every topic stays well under 10
    // thumbs-down a week (at most 7 with this seed).
    ASSERT_EQ(Sh(kVigil +
                 " gen --rate 0.02 --duration 28d --seed 11 --incident kb_gap:returns@7d+7d "
                 "--incident kb_gap:shipping@14d+14d --out " +
                 events_)
                  .exit_code,
              0);
    lines_ = Lines(ReadFile(events_));
    expected_ = ExpectedGaps(lines_);
  }
  std::string JobFile(const std::string& url, const std::string& tag) {
    std::string path = Path(tag + "_job.yaml");
    std::ofstream(path) << "notify:\n"
                           "  timeout: 5s\n"
                           "  retry: {initial: 50ms, max: 200ms}\n"
                           "  spool: {dir: "
                        << Path(tag + "_spool")
                        << "}\n"
                           "  receivers:\n"
                           "    - name: content\n"
                           "      kind: jira\n"
                           "      url: "
                        << url
                        << "\n"
                           "      project: KB\n"
                           "      email_env: E2E_JIRA_EMAIL\n"
                           "      token_env: E2E_JIRA_TOKEN\n"
                           "      labels: [vigil, kb-gap]\n"
                           "  routes: {FaqTopicNegativeFeedback: [content]}\n";
    return path;
  }
  std::string Env() const {
    return StrCat("env E2E_JIRA_EMAIL=", kEmail, " E2E_JIRA_TOKEN=", kToken, " ");
  }
  // The topic of each ticket, in creation order; the summary must name it.
  static std::vector<std::string> TicketTopics(const FakeJira& jira) {
    std::vector<std::string> out;
    for (const FakeJira::Issue& i : jira.Issues()) {
      const std::string prefix = "FAQ topic ";
      EXPECT_TRUE(i.summary.starts_with(prefix)) << i.summary;
      out.push_back(i.summary.substr(prefix.size(), i.summary.find(':') - prefix.size()));
    }
    return out;
  }
  void ExpectOneTicketPerGap(const FakeJira& jira) {
    std::vector<std::string> topics = TicketTopics(jira);
    std::sort(topics.begin(), topics.end());
    std::vector<std::string> want;
    for (const auto& [topic, count] : expected_) want.push_back(topic);
    EXPECT_EQ(topics, want);
    for (const FakeJira::Issue& i : jira.Issues()) {
      const std::string topic = i.summary.substr(10, i.summary.find(':') - 10);
      EXPECT_EQ(i.summary, StrCat("FAQ topic ", topic, ": ", expected_[topic],
                                  " thumbs-down this week (knowledge-base gap)"));
      EXPECT_EQ(i.priority, "Medium");
      EXPECT_EQ(i.labels.size(), 3u);
    }
  }
  void ExpectNoSecret(const std::string& text, const std::string& what) {
    EXPECT_EQ(text.find(kToken), std::string::npos) << what;
    EXPECT_EQ(text.find(absl::Base64Escape(StrCat(kEmail, ":", kToken))), std::string::npos)
        << what;
  }

  std::string events_;
  std::vector<std::string> lines_;
  std::map<std::string, int> expected_;
};

TEST_F(TicketsE2eTest, OneTicketPerGapTopicAcrossAKillNineAndARestartWithoutState) {
  // The incidents' topics are gaps; a topic without one is not.
  ASSERT_TRUE(expected_.contains("returns"));
  ASSERT_TRUE(expected_.contains("shipping"));
  ASSERT_EQ(expected_.size(), 2u);

  // One uninterrupted run.
  FakeJira jira(Auth());
  Result clean = Sh(Env() + kVigil + " run --config " + JobFile(jira.url(), "clean") + " --input " +
                    events_ + " --http off --output json --no-progress 2>" + Path("clean.log"));
  ASSERT_EQ(clean.exit_code, 0) << ReadFile(Path("clean.log"));
  ExpectOneTicketPerGap(jira);
  ExpectNoSecret(ReadFile(Path("clean.log")) + clean.out, "clean run");
  // Each resolve while the ticket is open is a comment on it. returns: its
  // gap ends after a week. shipping's runs to the end of the input, whose
  // last week is partial (its last event falls short of the week's end), so
  // it is still open.
  for (const FakeJira::Issue& i : jira.Issues()) {
    const std::string topic = i.summary.substr(10, i.summary.find(':') - 10);
    size_t resolves = 0;
    for (const std::string& line : Lines(clean.out)) {
      resolves += line.find("\"alert\":\"FaqTopicNegativeFeedback\",\"state\":\"resolved\"") !=
                      std::string::npos &&
                  line.find("\"topic\":\"" + topic + "\"") != std::string::npos;
    }
    EXPECT_EQ(i.comments.size(), resolves) << topic;
    EXPECT_EQ(resolves, topic == "returns" ? 1u : 0u) << topic;
  }

  // Killed with SIGKILL half-way through (the input through a named pipe),
  // then restarted from its checkpoint on the whole file.
  FakeJira jira2(Auth());
  const std::string input = Path("input.ndjson"), ckpt = Path("ckpt"),
                    job = JobFile(jira2.url(), "kill");
  ASSERT_EQ(::mkfifo(input.c_str(), 0600), 0);
  const pid_t pid =
      Spawn(Env() + kVigil + " run --config " + job + " --input " + input + " --checkpoint-dir " +
                ckpt + " --checkpoint-interval 20ms --http 127.0.0.1:0 --output json",
            Path("run1.log"));
  {
    std::ofstream pipe(input);
    for (size_t i = 0; i < lines_.size() * 6 / 10; ++i) pipe << lines_[i] << '\n';
    pipe.flush();
    ::usleep(1'500'000);
    const std::string base = JobHttpBase(Path("run1.log"));
    ASSERT_FALSE(base.empty()) << ReadFile(Path("run1.log"));
    for (const char* path : {"/metrics", "/api/status", "/api/alerts", "/api/rules"}) {
      ExpectNoSecret(Sh("curl -s " + base + path).out, path);
    }
    ::kill(pid, SIGKILL);
    EXPECT_EQ(WaitExit(pid), -SIGKILL);
  }
  ::unlink(input.c_str());
  const size_t before_restart = jira2.Issues().size();
  EXPECT_GE(before_restart, 1u) << "the first part holds the returns gap";
  ASSERT_EQ(Sh("cp " + events_ + " " + input).exit_code, 0);
  Result resumed =
      Sh(Env() + kVigil + " run --config " + job + " --input " + input + " --checkpoint-dir " +
         ckpt + " --http off --output json --no-progress 2>" + Path("run2.log"));
  const std::string log2 = ReadFile(Path("run2.log"));
  ASSERT_EQ(resumed.exit_code, 0) << log2;
  EXPECT_NE(log2.find("vigil: restored checkpoint"), std::string::npos) << log2;
  ExpectOneTicketPerGap(jira2);
  ExpectNoSecret(ReadFile(Path("run1.log")) + log2 + resumed.out, "killed and resumed runs");

  // A job with no state at all (a new spool, no checkpoint) over the same
  // month against the first Jira: it finds every open ticket by its label.
  const size_t searches_before = jira.rx().Requests().size();
  Result fresh = Sh(Env() + kVigil + " run --config " + JobFile(jira.url(), "fresh") + " --input " +
                    events_ + " --http off --output json --no-progress 2>" + Path("fresh.log"));
  ASSERT_EQ(fresh.exit_code, 0) << ReadFile(Path("fresh.log"));
  ExpectOneTicketPerGap(jira);
  EXPECT_GT(jira.rx().Requests().size(), searches_before);
}

}  // namespace
}  // namespace vigil
