// runtime/escalation_review.h
//
// `vigil report escalations`: the monthly escalation review. Every session
// escalated to a human in the month (by the time of its first `escalation`
// event, in the month's time zone) with all its bot turns (user message,
// intent, response, latency, error service, LLM timeout) and the
// escalation's `reason`, put in one of the runbook's four review
// categories:
//
//   technical_failure   the last turn before the escalation failed (an
//                       error_service or an LLM timeout), whatever the
//                       reason; or reason repeated_failure, technical_error,
//                       error, timeout
//   could_not_answer    reason low_confidence, no_answer, out_of_scope,
//                       unknown_intent
//   wrong_answer        reason negative_sentiment, wrong_answer,
//                       incorrect_answer, user_corrected
//   needed_a_human      reason user_requested, policy_sensitive,
//                       complex_request, account_specific; and any other
//                       reason (said so in category_by)
//
// Two passes over the files: the escalations of the month, then the turns
// of those sessions, so memory holds only the escalated sessions.
//
// Example:
//   EscalationReview review(*MonthRange("2026-03", "UTC"));
//   review.Read(paths);            // both passes
//   review.WriteNdjson(&out);      // one line per session
//   std::string text = review.Summary("text");
#ifndef VIGIL_RUNTIME_ESCALATION_REVIEW_H_
#define VIGIL_RUNTIME_ESCALATION_REVIEW_H_

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/time.h"

namespace vigil {

enum class ReviewCategory : uint8_t {
  kCouldNotAnswer,
  kWrongAnswer,
  kNeededHuman,
  kTechnicalFailure,
};
inline constexpr int kReviewCategories = 4;
std::string_view ReviewCategoryName(ReviewCategory c);   // could_not_answer
std::string_view ReviewCategoryTitle(ReviewCategory c);  // Could not answer

// A month, "2026-03", as [start, end) in the time zone `zone` (IANA name).
struct MonthRange {
  std::string month;
  std::string zone;
  TimeMs start = 0;
  TimeMs end = 0;
};
absl::StatusOr<MonthRange> ParseMonth(std::string_view month, std::string_view zone);

class EscalationReview {
 public:
  struct Turn {
    TimeMs ts = 0;
    std::string turn_id, intent, user_message, response, error_service;
    std::optional<double> latency_ms;
    bool llm_timeout = false;
  };
  struct Session {
    std::string session_id, user_id, reason;
    TimeMs escalated_at = 0;
    std::vector<Turn> turns;  // by time
    ReviewCategory category = ReviewCategory::kNeededHuman;
    std::string category_by;  // "reason low_confidence", "last turn failed: bedrock", ...
  };

  explicit EscalationReview(MonthRange month) : month_(std::move(month)) {}

  // Reads every file (NDJSON, .zst) twice; an error names the file.
  absl::Status Read(const std::vector<std::string>& paths);

  const std::vector<Session>& sessions() const { return sessions_; }
  // One JSON object per session, by escalation time then session id.
  void WriteNdjson(std::ostream* out) const;
  // The counts per category and per reason; `format` text or json.
  std::string Summary(std::string_view format) const;

  // The category of a session from its reason and its last turn before
  // the escalation (null: none), and why.
  static ReviewCategory Categorize(std::string_view reason, const Turn* last_turn,
                                   std::string* why);

 private:
  MonthRange month_;
  std::vector<Session> sessions_;
  uint64_t malformed_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_ESCALATION_REVIEW_H_
