// AdminApi: /api/silences, ad hoc maintenance windows on a running job
// (rules/silence.h). Times are event time, as alert evaluation is.
#include <simdjson.h>

#include <algorithm>

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
  simdjson::dom::object fields;
  if (root.get(fields) != simdjson::SUCCESS) {
    *error = "the body must be a JSON object with matchers and endsAt (or duration)";
    return std::nullopt;
  }
  for (auto field : fields) {
    const std::string_view key = field.key;
    if (key == "id") {
      *error =
          "a silence here is never updated in place: expire it (DELETE /api/silences?id=ID) and "
          "post a new one";
      return std::nullopt;
    }
    if (key != "matchers" && key != "startsAt" && key != "endsAt" && key != "duration" &&
        key != "createdBy" && key != "comment") {
      *error = StrCat("unknown key '", key,
                      "': a silence has matchers, startsAt, endsAt or duration, createdBy and "
                      "comment");
      return std::nullopt;
    }
    // A value of another type is refused, not read as if it were missing.
    if (key != "matchers" && !field.value.is_string()) {
      *error = StrCat("'", key, "' must be a string");
      return std::nullopt;
    }
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
    simdjson::dom::object matcher;
    if (m.get(matcher) != simdjson::SUCCESS || m["name"].get(name) != simdjson::SUCCESS ||
        m["value"].get(value) != simdjson::SUCCESS) {
      *error = "each matcher needs name and value strings";
      return std::nullopt;
    }
    // isRegex and isEqual are booleans (false and true when left out): a
    // string "false" read as the default would turn != into =.
    for (auto field : matcher) {
      const std::string_view key = field.key;
      if (key != "name" && key != "value" && key != "isRegex" && key != "isEqual") {
        *error = StrCat("unknown matcher key '", key,
                        "': a matcher has name, value, isRegex and isEqual");
        return std::nullopt;
      }
      if ((key == "isRegex" || key == "isEqual") && !field.value.is_bool()) {
        *error = StrCat("matcher '", name, "': ", key, " must be true or false");
        return std::nullopt;
      }
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
  // As Alertmanager: one matcher at least must need a label to be there,
  // or the silence holds back every alert.
  if (std::all_of(s.matchers.begin(), s.matchers.end(),
                  [](const LabelMatcher& m) { return m.Matches(Labels{}); })) {
    *error =
        "every matcher also matches an alert without that label (alertname=~\".*\", x=\"\"): "
        "the silence would hold back every alert; give one that needs a value";
    return std::nullopt;
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
  if (root["endsAt"].error() == simdjson::SUCCESS &&
      root["duration"].error() == simdjson::SUCCESS) {
    *error = "give endsAt or duration, not both";
    return std::nullopt;
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
  if (now != kMinTime && s.ends_at <= now) {
    *error = StrCat("endsAt ", FormatTimestamp(s.ends_at), " is not after the job's event time ",
                    FormatTimestamp(now), ": the silence would never hold anything back");
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
        std::vector<SilenceDef> listed = book->List(now);
        // ?id=ID: that one silence (a list of one, or empty).
        if (!request.query.empty()) {
          const std::string_view query = request.query;
          if (!query.starts_with("id=")) return BadRequest("expected no parameter, or ?id=ID");
          const std::string_view id = query.substr(3);
          std::vector<SilenceDef> one;
          size_t rules_before = 0;
          for (size_t i = 0; i < listed.size(); ++i) {
            if (listed[i].name != id) continue;
            rules_before = i < rule_silences ? 1 : 0;
            one.push_back(std::move(listed[i]));
          }
          return HttpResponse{200, "application/json", SilencesJson(one, rules_before, now)};
        }
        return HttpResponse{200, "application/json", SilencesJson(listed, rule_silences, now)};
      },
      {"GET", "HEAD", "POST", "DELETE"});
}

}  // namespace vigil
