// AdminApi: /api/silences, ad hoc maintenance windows on a running job
// (rules/silence.h). Times are event time, as alert evaluation is.
#include <simdjson.h>

#include "base/strings.h"
#include "base/time.h"
#include "runtime/admin_api.h"

namespace vigil {
namespace {

HttpResponse BadRequest(const std::string& message) {
  return HttpResponse{400, "text/plain", message + "\n"};
}

// {"matchers":[{"name","value","isRegex","isEqual"}], "startsAt", "endsAt"
// or "duration", "createdBy", "comment"}: Alertmanager's PostableSilence,
// with "duration" (e.g. "2h") as a shorthand for endsAt.
std::optional<SilenceDef> ParseSilence(std::string_view body, TimeMs now, std::string* error) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(body.data(), body.size()).get(root) != simdjson::SUCCESS || !root.is_object()) {
    *error = "the body must be a JSON object with matchers and endsAt (or duration)";
    return std::nullopt;
  }
  SilenceDef s;
  simdjson::dom::array matchers;
  if (root["matchers"].get(matchers) != simdjson::SUCCESS || matchers.size() == 0) {
    *error = "matchers must be a non-empty list of {name, value, isRegex, isEqual}";
    return std::nullopt;
  }
  for (simdjson::dom::element m : matchers) {
    std::string_view name, value;
    bool regex = false, equal = true;
    if (m["name"].get(name) != simdjson::SUCCESS || m["value"].get(value) != simdjson::SUCCESS) {
      *error = "each matcher needs name and value strings";
      return std::nullopt;
    }
    if (m["isRegex"].get(regex) != simdjson::SUCCESS) regex = false;
    if (m["isEqual"].get(equal) != simdjson::SUCCESS) equal = true;
    const LabelMatcher::Op op = regex ? (equal ? LabelMatcher::Op::kRe : LabelMatcher::Op::kNotRe)
                                      : (equal ? LabelMatcher::Op::kEq : LabelMatcher::Op::kNe);
    std::optional<LabelMatcher> lm =
        MakeLabelMatcher(std::string(name), op, std::string(value), error);
    if (!lm) return std::nullopt;
    s.matchers.push_back(std::move(*lm));
  }
  std::string_view text;
  s.starts_at = now == kMinTime ? kMinTime : now;
  if (root["startsAt"].get(text) == simdjson::SUCCESS) {
    std::optional<TimeMs> t = ParseRfc3339(text);
    if (!t) {
      *error = "startsAt must be an RFC 3339 time";
      return std::nullopt;
    }
    s.starts_at = *t;
  }
  if (root["endsAt"].get(text) == simdjson::SUCCESS) {
    std::optional<TimeMs> t = ParseRfc3339(text);
    if (!t) {
      *error = "endsAt must be an RFC 3339 time";
      return std::nullopt;
    }
    s.ends_at = *t;
  } else if (root["duration"].get(text) == simdjson::SUCCESS) {
    std::optional<DurationMs> d = ParseDuration(text);
    if (!d || *d <= 0 || s.starts_at == kMinTime) {
      *error = s.starts_at == kMinTime ? "the job has no event time yet: give startsAt and endsAt"
                                       : "duration must be a positive duration such as 30m or 2h";
      return std::nullopt;
    }
    s.ends_at = s.starts_at + *d;
  } else {
    *error = "a silence needs endsAt (RFC 3339) or duration (e.g. 2h): it expires by itself";
    return std::nullopt;
  }
  if (s.ends_at <= s.starts_at) {
    *error = "endsAt must be after startsAt";
    return std::nullopt;
  }
  if (root["createdBy"].get(text) == simdjson::SUCCESS) s.created_by = std::string(text);
  if (root["comment"].get(text) == simdjson::SUCCESS) s.comment = std::string(text);
  return s;
}

}  // namespace

std::string SilencesJson(const std::vector<SilenceDef>& silences, size_t rule_silences,
                         TimeMs now) {
  std::string out = "[";
  for (size_t i = 0; i < silences.size(); ++i) {
    const SilenceDef& s = silences[i];
    if (i > 0) out.push_back(',');
    out += "{\"id\":";
    AppendJsonString(s.name, &out);
    StrAppend(&out, ",\"source\":\"", i < rule_silences ? "rules" : "api", "\",\"matchers\":[");
    for (size_t k = 0; k < s.matchers.size(); ++k) {
      if (k > 0) out.push_back(',');
      AppendJsonString(s.matchers[k].ToString(), &out);
    }
    out += "],\"startsAt\":";
    AppendJsonTimestamp(s.starts_at, &out);
    out += ",\"endsAt\":";
    AppendJsonTimestamp(s.ends_at, &out);
    StrAppend(&out, ",\"time_intervals\":", s.intervals.size(),
              ",\"active\":", now != kMinTime && s.Active(now));
    out += ",\"comment\":";
    AppendJsonString(s.comment, &out);
    out += ",\"createdBy\":";
    AppendJsonString(s.created_by, &out);
    out.push_back('}');
  }
  out += "]";
  return out;
}

void AdminApi::ServeSilences(SilenceBook* book) {
  http_.Handle(
      "/api/silences",
      [this, book](const HttpRequest& request) {
        const TimeMs now = event_time_.load();
        if (request.method == "POST") {
          std::string error;
          std::optional<SilenceDef> s = ParseSilence(request.body, now, &error);
          if (!s) return BadRequest(error);
          const std::string id = book->Add(std::move(*s));
          return HttpResponse{200, "application/json", StrCat("{\"silenceID\":\"", id, "\"}\n")};
        }
        if (request.method == "DELETE") {
          const std::string_view query = request.query;
          if (!query.starts_with("id=")) {
            return BadRequest("expected ?id=ID, the silenceID POST /api/silences answered");
          }
          if (!book->Expire(query.substr(3), now)) {
            return HttpResponse{404, "text/plain", "no such ad hoc silence\n"};
          }
          return HttpResponse{200, "application/json", "{\"expired\":true}\n"};
        }
        const size_t rule_silences = book->RuleSilenceCount();
        return HttpResponse{200, "application/json",
                            SilencesJson(book->List(now), rule_silences, now)};
      },
      {"GET", "HEAD", "POST", "DELETE"});
}

}  // namespace vigil
