// `vigil report escalations` on a hand-written month: exactly the sessions
// escalated in the month, each with all its turns, in the category its
// reason or its failed last turn gives; the month's bounds in UTC and in a
// time zone.
#include "runtime/escalation_review.h"

#include <fstream>
#include <string>

#include "base/strings.h"
#include "gtest/gtest.h"
#include "tests/runtime/servers.h"
#include "tests/runtime/test_util.h"

namespace vigil {
namespace {

const std::string kVigil = VIGIL_BINARY;

std::string Msg(const char* ts, const char* session, const char* turn, const char* intent,
                const char* error, bool timeout = false) {
  return StrCat("{\"ts\":\"", ts, "\",\"type\":\"message\",\"session_id\":\"", session,
                "\",\"user_id\":\"u-", session, "\",\"turn_id\":\"", turn, "\",\"intent\":\"",
                intent, "\",\"latency_ms\":800,\"llm_timeout\":", timeout ? "true" : "false",
                ",\"error_service\":", error == nullptr ? "null" : StrCat("\"", error, "\""),
                ",\"user_message\":\"q ", turn, "\",\"response\":\"a ", turn, "\"}\n");
}
std::string Esc(const char* ts, const char* session, const char* reason) {
  return StrCat("{\"ts\":\"", ts, "\",\"type\":\"escalation\",\"session_id\":\"", session,
                "\",\"intent\":\"escalation\",\"reason\":\"", reason, "\"}\n");
}

class EscalationReviewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RemoveTestPaths(Path(""));
    events_ = Path("events.ndjson");
    std::ofstream f(events_);
    // s1: a turn in February, escalated in March: both turns belong to it.
    f << Msg("2026-02-28T23:50:00Z", "s1", "s1-1", "faq", nullptr)
      << Msg("2026-03-01T00:05:00Z", "s1", "s1-2", "escalation", nullptr)
      << Esc("2026-03-01T00:06:00Z", "s1", "user_requested")
      // s2: its last turn failed: technical, whatever the reason says.
      << Msg("2026-03-05T10:00:00Z", "s2", "s2-1", "order_tracking", "orders")
      << Esc("2026-03-05T10:01:00Z", "s2", "low_confidence")
      // s3: an early failure, a good last turn: the reason decides.
      << Msg("2026-03-10T09:00:00Z", "s3", "s3-1", "faq", "bedrock")
      << Msg("2026-03-10T09:02:00Z", "s3", "s3-2", "faq", nullptr)
      << Esc("2026-03-10T09:03:00Z", "s3", "low_confidence")
      << "not json\n"
      // s4: wrong answer; its last turn timed out after the escalation.
      << Msg("2026-03-12T12:00:00Z", "s4", "s4-1", "product_question", nullptr)
      << Esc("2026-03-12T12:01:00Z", "s4", "negative_sentiment")
      << Msg("2026-03-12T12:02:00Z", "s4", "s4-2", "product_question", nullptr, true)
      // s5: a reason the mapping does not know.
      << Msg("2026-03-15T08:00:00Z", "s5", "s5-1", "order_tracking", nullptr)
      << Esc("2026-03-15T08:01:00Z", "s5", "billing_dispute")
      // s6: escalated on the last evening of February (UTC).
      << Msg("2026-02-28T23:29:00Z", "s6", "s6-1", "faq", nullptr)
      << Esc("2026-02-28T23:30:00Z", "s6", "user_requested")
      // s7: escalated at the first instant of April.
      << Msg("2026-03-31T23:59:00Z", "s7", "s7-1", "faq", nullptr)
      << Esc("2026-04-01T00:00:00Z", "s7", "user_requested")
      // s8: never escalated.
      << Msg("2026-03-20T10:00:00Z", "s8", "s8-1", "faq", nullptr)
      // s9: escalated twice; the first counts. (Its escalation comes before
      // the s8 line in the file, by time.)
      << Msg("2026-03-20T11:00:00Z", "s9", "s9-1", "faq", "search")
      << Esc("2026-03-21T11:00:00Z", "s9", "user_requested")
      << Esc("2026-03-20T11:01:00Z", "s9", "repeated_failure");
  }
  std::string Path(const std::string& name) {
    return TempPath(std::string("escalations_") +
                        ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_",
                    name);
  }
  std::string events_;
};

TEST_F(EscalationReviewTest, TheMonthsEscalatedSessionsWithTheirTurnsAndCategories) {
  const std::string out = Path("review.ndjson");
  Result r = Sh(kVigil + " report escalations --month 2026-03 --out " + out + " " + events_);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out,
            "Escalated sessions, 2026-03 (UTC): 6\n"
            "\n"
            "CATEGORY            SESSIONS   SHARE\n"
            "Could not answer           1   16.7%\n"
            "Wrong answer               1   16.7%\n"
            "Needed a human             2   33.3%\n"
            "Technical failure          2   33.3%\n"
            "\n"
            "By reason: billing_dispute 1 · low_confidence 2 · negative_sentiment 1 · "
            "repeated_failure 1 · user_requested 1\n"
            "(1 line was not a JSON object and was skipped)\n"
            "\n"
            "wrote 6 sessions with their turns to " +
                out + "\n");
  const std::vector<std::string> lines = Lines(ReadFile(out));
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(
      lines[0],
      "{\"session_id\":\"s1\",\"user_id\":\"u-s1\",\"escalated_at\":\"2026-03-01T00:06:00.000Z\","
      "\"reason\":\"user_requested\",\"category\":\"needed_a_human\",\"category_by\":\"reason "
      "user_requested\",\"turns\":[{\"ts\":\"2026-02-28T23:50:00.000Z\",\"turn_id\":\"s1-1\","
      "\"intent\":\"faq\",\"user_message\":\"q s1-1\",\"response\":\"a s1-1\",\"latency_ms\":800,"
      "\"error_service\":null,\"llm_timeout\":false},{\"ts\":\"2026-03-01T00:05:00.000Z\","
      "\"turn_id\":\"s1-2\",\"intent\":\"escalation\",\"user_message\":\"q s1-2\",\"response\":"
      "\"a s1-2\",\"latency_ms\":800,\"error_service\":null,\"llm_timeout\":false}]}");
  auto category = [&](size_t i) {
    const std::string& l = lines[i];
    const size_t at = l.find("\"category\":");
    return l.substr(at, l.find(",\"turns\"") - at);
  };
  EXPECT_EQ(category(1),
            "\"category\":\"technical_failure\",\"category_by\":\"last turn: error_service "
            "orders\"");
  EXPECT_EQ(category(2),
            "\"category\":\"could_not_answer\",\"category_by\":\"reason low_confidence\"");
  EXPECT_EQ(category(3),
            "\"category\":\"wrong_answer\",\"category_by\":\"reason negative_sentiment\"");
  EXPECT_EQ(category(4),
            "\"category\":\"needed_a_human\",\"category_by\":\"unmapped reason billing_dispute\"");
  EXPECT_EQ(
      category(5),
      "\"category\":\"technical_failure\",\"category_by\":\"last turn: error_service search\"");
  EXPECT_NE(lines[5].find("\"escalated_at\":\"2026-03-20T11:01:00.000Z\",\"reason\":"
                          "\"repeated_failure\""),
            std::string::npos)
      << lines[5];
  EXPECT_NE(lines[3].find("\"turn_id\":\"s4-2\""), std::string::npos) << "every turn of s4";
}

TEST_F(EscalationReviewTest, TheMonthFollowsItsTimeZone) {
  // In Berlin s6's escalation (23:30 UTC on 28 February) is half past
  // midnight on 1 March; s7's (midnight UTC on 1 April) is 2 a.m. in April.
  Result r = Sh(kVigil + " report escalations --month 2026-03 --timezone Europe/Berlin " +
                "--output json " + events_);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(
      r.out,
      "{\"month\":\"2026-03\",\"timezone\":\"Europe/Berlin\",\"sessions\":7,\"categories\":{"
      "\"could_not_answer\":1,\"wrong_answer\":1,\"needed_a_human\":3,\"technical_failure\":2},"
      "\"reasons\":{\"billing_dispute\":1,\"low_confidence\":2,\"negative_sentiment\":1,"
      "\"repeated_failure\":1,\"user_requested\":2},\"malformed_lines\":1}\n");
}

TEST_F(EscalationReviewTest, BadArgumentsAreRefusedWithAMessage) {
  Result month = Sh(kVigil + " report escalations --month 2026-3 " + events_ + " 2>&1");
  EXPECT_EQ(month.exit_code, 2);
  EXPECT_NE(month.out.find("--month '2026-3' is not a month such as 2026-03"), std::string::npos)
      << month.out;
  Result zone =
      Sh(kVigil + " report escalations --month 2026-03 --timezone Mars/Base " + events_ + " 2>&1");
  EXPECT_EQ(zone.exit_code, 2);
  EXPECT_NE(zone.out.find("--timezone 'Mars/Base' is not a time zone"), std::string::npos)
      << zone.out;
  Result sub = Sh(kVigil + " report escalation --month 2026-03 " + events_ + " 2>&1");
  EXPECT_EQ(sub.exit_code, 2);
  EXPECT_NE(sub.out.find("unknown report 'escalation'; the reports: escalations"),
            std::string::npos)
      << sub.out;
  // A file read twice would list every turn twice; a window results file
  // holds no sessions.
  Result twice =
      Sh(kVigil + " report escalations --month 2026-03 " + events_ + " " + events_ + " 2>&1");
  EXPECT_EQ(twice.exit_code, 2);
  EXPECT_NE(twice.out.find(events_ + " is given twice (by name or in a directory)"),
            std::string::npos)
      << twice.out;
  const std::string results = Path("results.ndjson");
  std::ofstream(results) << R"({"metric":"n","start":"2026-03-01T00:00:00.000Z",)"
                         << R"("end":"2026-03-01T00:01:00.000Z","labels":{},"value":1})"
                         << "\n";
  Result windows = Sh(kVigil + " report escalations --month 2026-03 " + results + " 2>&1");
  EXPECT_EQ(windows.exit_code, 2);
  EXPECT_NE(windows.out.find(results + " holds window results: the escalation review lists "
                                       "sessions and their turns, from event files"),
            std::string::npos)
      << windows.out;
  // The events are read twice: not from stdin.
  Result stdin_input =
      Sh("cat " + events_ + " | " + kVigil + " report escalations --month 2026-03 - 2>&1");
  EXPECT_EQ(stdin_input.exit_code, 2);
  EXPECT_NE(stdin_input.out.find("not from stdin: save them to a file first"), std::string::npos)
      << stdin_input.out;
  // A file that cannot be read to its end is named.
  const std::string cut = Path("cut.ndjson.zst");
  ASSERT_EQ(Sh("zstd -q -c " + events_ + " > " + cut + ".whole && head -c $(($(stat -c %s " + cut +
               ".whole) / 2)) " + cut + ".whole > " + cut)
                .exit_code,
            0);
  Result truncated = Sh(kVigil + " report escalations --month 2026-03 " + cut + " 2>&1");
  EXPECT_EQ(truncated.exit_code, 1);
  EXPECT_NE(truncated.out.find(cut + ": zstd input ends in the middle of a frame"),
            std::string::npos)
      << truncated.out;
}

}  // namespace
}  // namespace vigil
