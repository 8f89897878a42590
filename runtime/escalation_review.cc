#include "runtime/escalation_review.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <unordered_map>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "base/strings.h"
#include "base/time.h"
#include "operators/source/line_source.h"
#include "runtime/replay.h"

namespace vigil {
namespace {

constexpr size_t kMaxRecordBytes = 1 << 20;

struct ReasonCategory {
  std::string_view reason;
  ReviewCategory category;
};
// The documented mapping (escalation_review.h, docs/commands.md).
constexpr ReasonCategory kReasons[] = {
    {"repeated_failure", ReviewCategory::kTechnicalFailure},
    {"technical_error", ReviewCategory::kTechnicalFailure},
    {"error", ReviewCategory::kTechnicalFailure},
    {"timeout", ReviewCategory::kTechnicalFailure},
    {"low_confidence", ReviewCategory::kCouldNotAnswer},
    {"no_answer", ReviewCategory::kCouldNotAnswer},
    {"out_of_scope", ReviewCategory::kCouldNotAnswer},
    {"unknown_intent", ReviewCategory::kCouldNotAnswer},
    {"negative_sentiment", ReviewCategory::kWrongAnswer},
    {"wrong_answer", ReviewCategory::kWrongAnswer},
    {"incorrect_answer", ReviewCategory::kWrongAnswer},
    {"user_corrected", ReviewCategory::kWrongAnswer},
    {"user_requested", ReviewCategory::kNeededHuman},
    {"policy_sensitive", ReviewCategory::kNeededHuman},
    {"complex_request", ReviewCategory::kNeededHuman},
    {"account_specific", ReviewCategory::kNeededHuman},
};

std::string Str(simdjson::dom::element e, const char* key) {
  std::string_view v;
  return e[key].get(v) == simdjson::SUCCESS ? std::string(v) : std::string();
}

// An event's time: RFC 3339 text or epoch milliseconds.
std::optional<TimeMs> EventTime(simdjson::dom::element e) {
  std::string_view text;
  if (e["ts"].get(text) == simdjson::SUCCESS) return ParseRfc3339(text);
  int64_t ms = 0;
  if (e["ts"].get(ms) == simdjson::SUCCESS) return ms;
  double d = 0;
  if (e["ts"].get(d) == simdjson::SUCCESS) return static_cast<TimeMs>(d);
  return std::nullopt;
}

// Calls `each` with every JSON object of the files; counts lines that are
// not one.
template <typename Each>
absl::Status ForEachEvent(const std::vector<std::string>& paths, uint64_t* malformed, Each each) {
  simdjson::dom::parser parser;
  std::vector<Record> batch;
  for (const std::string& path : paths) {
    absl::StatusOr<std::unique_ptr<RecordSource>> src = OpenEventPath(path, kMaxRecordBytes);
    if (!src.ok()) return src.status();
    while ((*src)->Next(&batch, 4096)) {
      for (const Record& r : batch) {
        simdjson::dom::element e;
        if (r.oversized ||
            parser.parse(r.data.data(), r.data.size(), false).get(e) != simdjson::SUCCESS ||
            !e.is_object()) {
          ++*malformed;
          continue;
        }
        each(e);
      }
    }
    if (const absl::Status s = (*src)->status(); !s.ok()) {
      return absl::Status(s.code(), StrCat(path, ": ", std::string(s.message())));
    }
  }
  return absl::OkStatus();
}

std::string Percent(uint64_t n, uint64_t of) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%",
                of == 0 ? 0.0 : 100.0 * static_cast<double>(n) / static_cast<double>(of));
  return buf;
}

}  // namespace

std::string_view ReviewCategoryName(ReviewCategory c) {
  switch (c) {
    case ReviewCategory::kCouldNotAnswer:
      return "could_not_answer";
    case ReviewCategory::kWrongAnswer:
      return "wrong_answer";
    case ReviewCategory::kNeededHuman:
      return "needed_a_human";
    case ReviewCategory::kTechnicalFailure:
      return "technical_failure";
  }
  return "needed_a_human";
}

std::string_view ReviewCategoryTitle(ReviewCategory c) {
  switch (c) {
    case ReviewCategory::kCouldNotAnswer:
      return "Could not answer";
    case ReviewCategory::kWrongAnswer:
      return "Wrong answer";
    case ReviewCategory::kNeededHuman:
      return "Needed a human";
    case ReviewCategory::kTechnicalFailure:
      return "Technical failure";
  }
  return "Needed a human";
}

absl::StatusOr<MonthRange> ParseMonth(std::string_view month, std::string_view zone) {
  absl::CivilMonth m;
  if (month.size() != 7 || !absl::ParseCivilTime(std::string(month), &m)) {
    return absl::InvalidArgumentError(
        StrCat("--month '", month, "' is not a month such as 2026-03"));
  }
  absl::TimeZone tz;
  if (!LoadIanaTimeZone(zone, &tz)) {
    return absl::InvalidArgumentError(StrCat(
        "--timezone '", zone, "' is not a time zone the system knows (e.g. UTC, Europe/Berlin)"));
  }
  MonthRange r;
  r.month = std::string(month);
  r.zone = std::string(zone);
  r.start = absl::ToUnixMillis(absl::FromCivil(absl::CivilSecond(m), tz));
  r.end = absl::ToUnixMillis(absl::FromCivil(absl::CivilSecond(m + 1), tz));
  return r;
}

ReviewCategory EscalationReview::Categorize(std::string_view reason, const Turn* last_turn,
                                            std::string* why) {
  if (last_turn != nullptr && (!last_turn->error_service.empty() || last_turn->llm_timeout)) {
    *why = last_turn->llm_timeout ? "last turn: LLM timeout"
                                  : StrCat("last turn: error_service ", last_turn->error_service);
    return ReviewCategory::kTechnicalFailure;
  }
  for (const ReasonCategory& rc : kReasons) {
    if (rc.reason == reason) {
      *why = StrCat("reason ", reason);
      return rc.category;
    }
  }
  *why = reason.empty() ? "no reason given" : StrCat("unmapped reason ", reason);
  return ReviewCategory::kNeededHuman;
}

absl::Status EscalationReview::Read(const std::vector<std::string>& paths) {
  sessions_.clear();
  malformed_ = 0;
  std::unordered_map<std::string, size_t> index;
  // Pass 1: the first escalation in the month of each session.
  absl::Status s = ForEachEvent(paths, &malformed_, [&](simdjson::dom::element e) {
    if (Str(e, "type") != "escalation") return;
    std::optional<TimeMs> ts = EventTime(e);
    if (!ts || *ts < month_.start || *ts >= month_.end) return;
    const std::string id = Str(e, "session_id");
    if (id.empty()) return;
    auto [it, fresh] = index.emplace(id, sessions_.size());
    if (fresh) {
      sessions_.push_back({id, Str(e, "user_id"), Str(e, "reason"), *ts, {}, {}, {}});
    } else if (*ts < sessions_[it->second].escalated_at) {
      sessions_[it->second].escalated_at = *ts;
      sessions_[it->second].reason = Str(e, "reason");
    }
  });
  if (!s.ok()) return s;
  // Pass 2: their turns.
  uint64_t ignored = 0;
  s = ForEachEvent(paths, &ignored, [&](simdjson::dom::element e) {
    if (Str(e, "type") != "message") return;
    auto it = index.find(Str(e, "session_id"));
    if (it == index.end()) return;
    Session& session = sessions_[it->second];
    Turn t;
    t.ts = EventTime(e).value_or(0);
    t.turn_id = Str(e, "turn_id");
    t.intent = Str(e, "intent");
    t.user_message = Str(e, "user_message");
    t.response = Str(e, "response");
    t.error_service = Str(e, "error_service");
    double latency = 0;
    if (e["latency_ms"].get(latency) == simdjson::SUCCESS) t.latency_ms = latency;
    bool timeout = false;
    if (e["llm_timeout"].get(timeout) == simdjson::SUCCESS) t.llm_timeout = timeout;
    if (session.user_id.empty()) session.user_id = Str(e, "user_id");
    session.turns.push_back(std::move(t));
  });
  if (!s.ok()) return s;
  for (Session& session : sessions_) {
    std::stable_sort(session.turns.begin(), session.turns.end(),
                     [](const Turn& a, const Turn& b) { return a.ts < b.ts; });
    const Turn* last = nullptr;
    for (const Turn& t : session.turns) {
      if (t.ts <= session.escalated_at) last = &t;
    }
    session.category = Categorize(session.reason, last, &session.category_by);
  }
  std::sort(sessions_.begin(), sessions_.end(), [](const Session& a, const Session& b) {
    return a.escalated_at != b.escalated_at ? a.escalated_at < b.escalated_at
                                            : a.session_id < b.session_id;
  });
  return absl::OkStatus();
}

void EscalationReview::WriteNdjson(std::ostream* out) const {
  std::string line;
  for (const Session& s : sessions_) {
    line = "{\"session_id\":";
    AppendJsonString(s.session_id, &line);
    line += ",\"user_id\":";
    AppendJsonString(s.user_id, &line);
    line += ",\"escalated_at\":\"";
    AppendTimestamp(s.escalated_at, &line);
    line += "\",\"reason\":";
    AppendJsonString(s.reason, &line);
    line += ",\"category\":";
    AppendJsonString(ReviewCategoryName(s.category), &line);
    line += ",\"category_by\":";
    AppendJsonString(s.category_by, &line);
    line += ",\"turns\":[";
    for (size_t i = 0; i < s.turns.size(); ++i) {
      const Turn& t = s.turns[i];
      if (i) line.push_back(',');
      line += "{\"ts\":\"";
      AppendTimestamp(t.ts, &line);
      line += "\",\"turn_id\":";
      AppendJsonString(t.turn_id, &line);
      line += ",\"intent\":";
      AppendJsonString(t.intent, &line);
      line += ",\"user_message\":";
      AppendJsonString(t.user_message, &line);
      line += ",\"response\":";
      AppendJsonString(t.response, &line);
      line += ",\"latency_ms\":";
      if (t.latency_ms) {
        AppendJsonNumber(*t.latency_ms, &line);
      } else {
        line += "null";
      }
      line += ",\"error_service\":";
      if (t.error_service.empty()) {
        line += "null";
      } else {
        AppendJsonString(t.error_service, &line);
      }
      StrAppend(&line, ",\"llm_timeout\":", t.llm_timeout ? "true" : "false", "}");
    }
    line += "]}\n";
    *out << line;
  }
}

std::string EscalationReview::Summary(std::string_view format) const {
  uint64_t by_category[kReviewCategories] = {};
  std::map<std::string, uint64_t> by_reason;
  for (const Session& s : sessions_) {
    ++by_category[static_cast<int>(s.category)];
    ++by_reason[s.reason.empty() ? "(none)" : s.reason];
  }
  const uint64_t total = sessions_.size();
  std::string out;
  if (format == "json") {
    out = "{\"month\":";
    AppendJsonString(month_.month, &out);
    out += ",\"timezone\":";
    AppendJsonString(month_.zone, &out);
    StrAppend(&out, ",\"sessions\":", total, ",\"categories\":{");
    for (int c = 0; c < kReviewCategories; ++c) {
      if (c) out.push_back(',');
      AppendJsonString(ReviewCategoryName(static_cast<ReviewCategory>(c)), &out);
      StrAppend(&out, ":", by_category[c]);
    }
    out += "},\"reasons\":{";
    bool first = true;
    for (const auto& [reason, n] : by_reason) {
      if (!first) out.push_back(',');
      first = false;
      AppendJsonString(reason, &out);
      StrAppend(&out, ":", n);
    }
    StrAppend(&out, "},\"malformed_lines\":", malformed_, "}\n");
    return out;
  }
  StrAppend(&out, "Escalated sessions, ", month_.month, " (", month_.zone,
            "): ", Thousands(static_cast<double>(total)), "\n\n");
  out += "CATEGORY            SESSIONS   SHARE\n";
  for (int c = 0; c < kReviewCategories; ++c) {
    char row[96];
    std::snprintf(row, sizeof row, "%-18s %9s %7s\n",
                  std::string(ReviewCategoryTitle(static_cast<ReviewCategory>(c))).c_str(),
                  Thousands(static_cast<double>(by_category[c])).c_str(),
                  Percent(by_category[c], total).c_str());
    out += row;
  }
  std::vector<std::string> reasons;
  for (const auto& [reason, n] : by_reason)
    reasons.push_back(StrCat(reason, " ", Thousands(static_cast<double>(n))));
  if (!reasons.empty()) StrAppend(&out, "\nBy reason: ", StrJoin(reasons, " · "), "\n");
  if (malformed_ > 0) {
    StrAppend(&out, "(", Thousands(static_cast<double>(malformed_)),
              malformed_ == 1 ? " line was not a JSON object and was skipped)\n"
                              : " lines were not JSON objects and were skipped)\n");
  }
  return out;
}

}  // namespace vigil
