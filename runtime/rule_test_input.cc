#include "runtime/rule_test_input.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <regex>

namespace vigil::rule_test {
namespace {

// The most events one test case may expand to: about 1.5 GB of lines.
constexpr int64_t kMaxCaseEvents = 10'000'000;

}  // namespace

// A key these files do not know would be an expectation never checked (a
// misspelt `lables:` passes any labels).
void CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
               std::string_view what) {
  if (!map.IsMap()) throw TestError(map, StrCat(what, " must be a mapping"));
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const std::string s = Suggest(key, allowed);
    throw TestError(kv.first, StrCat("unknown key '", key, "' in ", what,
                                     s.empty() ? StrCat("; the keys are ", StrJoin(allowed, ", "))
                                               : StrCat("; did you mean '", s, "'?")));
  }
}

const YAML::Node& Required(const YAML::Node& map, const char* key, std::string_view what,
                           const YAML::Node& node) {
  if (!node) throw TestError(map, StrCat(what, " needs '", key, "'"));
  return node;
}

double Number(const YAML::Node& n) {
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (!s.empty() && end == s.c_str() + s.size()) return v;
  }
  throw TestError(n, "expected a number");
}

bool Bool(const YAML::Node& n) {
  if (n.IsScalar() && (n.Scalar() == "true" || n.Scalar() == "false")) return n.Scalar() == "true";
  throw TestError(n, "expected true or false");
}

DurationMs Duration(const YAML::Node& n) {
  std::optional<DurationMs> d = n.IsScalar() ? ParseDuration(n.Scalar()) : std::nullopt;
  if (!d) throw TestError(n, "expected a duration such as 0, 30s, 5m");
  return *d;
}

// An RFC 3339 time may be e.g. a local midnight 2026-03-01T00:00:00+01:00.
TimeMs At(const YAML::Node& n, TimeMs start) {
  if (n.IsScalar()) {
    if (std::optional<DurationMs> d = ParseDuration(n.Scalar())) return start + *d;
    if (std::optional<TimeMs> t = ParseRfc3339(n.Scalar())) return *t;
  }
  throw TestError(n,
                  "expected an offset such as 0, 30s, 5m, or an RFC 3339 time such as "
                  "2026-03-01T00:00:00+01:00");
}

namespace {

// A YAML 1.2 plain scalar (core schema) that is a number, as JSON; false
// when it is none. Throws for a number JSON cannot hold (.inf, .nan, 1e400).
bool AppendYamlNumber(const YAML::Node& v, std::string* out) {
  static const std::regex kJson(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)");
  static const std::regex kDecimal(R"([-+]?[0-9]+)");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  static const std::regex kOctal(R"(0o[0-7]+)");
  static const std::regex kHex(R"(0x[0-9a-fA-F]+)");
  static const std::regex kSpecial(R"([-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN))");
  const std::string& s = v.Scalar();
  double value = 0;
  if (std::regex_match(s, kOctal) || std::regex_match(s, kHex)) {
    value = static_cast<double>(std::strtoull(s.c_str() + 2, nullptr, s[1] == 'o' ? 8 : 16));
  } else if (std::regex_match(s, kDecimal) || std::regex_match(s, kFloat)) {
    value = std::strtod(s.c_str(), nullptr);
  } else if (std::regex_match(s, kSpecial)) {
    value = HUGE_VAL;
  } else {
    return false;
  }
  if (!std::isfinite(value)) {
    throw TestError(
        v, StrCat("'", s, "' is a number JSON cannot hold; quote it to send it as a string"));
  }
  // As written when it is JSON already (every digit kept), else the value.
  if (std::regex_match(s, kJson)) {
    out->append(s);
  } else {
    AppendJsonNumber(value, out);
  }
  return true;
}

// A scalar's text as an event's JSON would carry it. Throws for bytes that
// are not UTF-8, which `vigil run` dead-letters (malformed_json), rather
// than send U+FFFD in their place.
const std::string& Utf8Scalar(const YAML::Node& v) {
  const std::string& s = v.Scalar();
  if (ValidUtf8(s) != s) {
    throw TestError(v,
                    "this text is not valid UTF-8: vigil run refuses such an event "
                    "(malformed_json)");
  }
  return s;
}

// A YAML scalar as JSON: plain numbers, booleans and null keep their type,
// as YAML 1.2's core schema reads them (`+1`, `.5`, `0x10`, `True`, `~`).
void AppendJsonScalar(const YAML::Node& v, std::string* out) {
  const std::string& s = Utf8Scalar(v);
  if (v.Tag() != "!") {
    if (s == "true" || s == "True" || s == "TRUE") return out->append("true"), void();
    if (s == "false" || s == "False" || s == "FALSE") return out->append("false"), void();
    if (s == "null" || s == "Null" || s == "NULL" || s == "~") return out->append("null"), void();
    if (AppendYamlNumber(v, out)) return;
  }
  AppendJsonString(s, out);
}

void AppendJsonValue(const YAML::Node& v, std::string* out) {
  if (v.IsMap()) {
    out->push_back('{');
    bool first = true;
    for (const auto& kv : v) {
      if (!first) out->push_back(',');
      first = false;
      AppendJsonString(Utf8Scalar(kv.first), out);
      out->push_back(':');
      AppendJsonValue(kv.second, out);
    }
    out->push_back('}');
  } else if (v.IsSequence()) {
    out->push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out->push_back(',');
      AppendJsonValue(v[i], out);
    }
    out->push_back(']');
  } else if (v.IsNull()) {
    out->append("null");
  } else {
    AppendJsonScalar(v, out);
  }
}

// One event line at `ts` from a YAML mapping of fields.
std::string EventLine(const YAML::Node& fields, TimeMs ts) {
  std::string line = "{\"ts\":\"";
  AppendTimestamp(ts, &line);
  line += "\"";
  for (const auto& kv : fields) {
    const std::string key = Utf8Scalar(kv.first);
    if (key == "at" || key == "ts") continue;
    line += ",";
    AppendJsonString(key, &line);
    line += ":";
    AppendJsonValue(kv.second, &line);
  }
  return line + "}";
}

}  // namespace

Labels ReadLabels(const YAML::Node& n) {
  Labels out;
  if (!n) return out;
  if (!n.IsMap()) throw TestError(n, "expected a mapping of name: value");
  for (const auto& kv : n) out[kv.first.Scalar()] = kv.second.Scalar();
  return out;
}

std::string Where(std::string_view file, const YAML::Node& n) {
  return StrCat(file, ":", n.Mark().line + 1, ":", n.Mark().column + 1);
}

std::vector<CaseEvent> BuildEvents(const YAML::Node& test, std::string_view file, TimeMs start,
                                   bool in_listed_order, TimeMs* last) {
  std::vector<CaseEvent> events;
  *last = kMinTime;
  for (const auto& e : test["events"]) {
    if (!e.IsMap()) throw TestError(e, "an event is a mapping of fields with 'at' or 'ts'");
    TimeMs ts;
    if (e["ts"] && e["at"]) {
      throw TestError(e["at"], "an event has 'at' (offset from start) or 'ts', not both");
    }
    if (e["ts"]) {
      std::optional<TimeMs> t = ParseRfc3339(e["ts"].Scalar());
      if (!t) throw TestError(e["ts"], "ts must be RFC 3339");
      ts = *t;
    } else if (e["at"]) {
      ts = At(e["at"], start);
    } else {
      throw TestError(e, "an event needs 'at' (offset from start) or 'ts'");
    }
    events.push_back({ts, EventLine(e, ts), Where(file, e)});
    *last = std::max(*last, ts);
  }
  const size_t listed = events.size();
  for (const auto& s : test["series"]) {
    CheckKeys(s, {"every", "from", "for", "event"}, "a series");
    const DurationMs every = Duration(s["every"]);
    if (every <= 0) throw TestError(s["every"], "every must be positive");
    const TimeMs from = s["from"] ? At(s["from"], start) : start;
    const DurationMs length = Duration(s["for"]);
    if (!s["event"] || !s["event"].IsMap()) throw TestError(s, "a series needs an 'event' mapping");
    for (const char* key : {"at", "ts"}) {
      if (const YAML::Node t = s["event"][key]) {
        throw TestError(t, StrCat("a series' event takes its time from the series ('every', "
                                  "'from', 'for'); remove its '",
                                  key, "'"));
      }
    }
    const int64_t count = length <= 0 ? 0 : (length - 1) / every + 1;
    if (count > kMaxCaseEvents - static_cast<int64_t>(events.size())) {
      throw TestError(s, StrCat("this case would have more than ", kMaxCaseEvents,
                                " events (a series has one per 'every' over 'for'); use a "
                                "longer 'every' or a shorter 'for'"));
    }
    for (TimeMs t = from; t < from + length; t += every) {
      events.push_back({t, EventLine(s["event"], t), Where(file, s)});
    }
    *last = std::max(*last, from + length - 1);
  }
  if (YAML::Node u = test["until"]) {
    const TimeMs until = start + Duration(u);
    if (*last != kMinTime && until <= *last) {
      // *last + 1: where the last series ends, or just past the last event.
      throw TestError(u,
                      StrCat("until ends the input, which its events and series cover to ",
                             FormatDuration(*last + 1 - start), ": until must be at least that"));
    }
    *last = until - 1;
  }
  if (*last == kMinTime) *last = kMaxTime;
  auto by_time = [](const CaseEvent& a, const CaseEvent& b) { return a.ts < b.ts; };
  if (!in_listed_order) {
    // In time order, as a well-behaved source would feed them.
    std::stable_sort(events.begin(), events.end(), by_time);
    return events;
  }
  const auto series_begin = events.begin() + static_cast<std::ptrdiff_t>(listed);
  std::stable_sort(series_begin, events.end(), by_time);
  std::vector<CaseEvent> merged;
  merged.reserve(events.size());
  auto l = events.begin(), r = series_begin;
  while (l != series_begin || r != events.end()) {
    const bool take_series = r != events.end() && (l == series_begin || r->ts <= l->ts);
    merged.push_back(std::move(*(take_series ? r++ : l++)));
  }
  return merged;
}

std::vector<std::string> DeadLettered(const std::string& path, const std::vector<CaseEvent>& events,
                                      TimeMs start) {
  std::vector<std::string> out;
  std::ifstream in(path);
  simdjson::dom::parser parser;
  for (std::string line; std::getline(in, line);) {
    simdjson::dom::element d;
    if (parser.parse(line).get(d)) continue;
    std::string_view reason, detail;
    int64_t n = 0;
    if (d["reason"].get(reason) || d["detail"].get(detail) || d["line"].get(n)) continue;
    if (n < 1 || static_cast<size_t>(n) > events.size()) continue;
    const CaseEvent& e = events[static_cast<size_t>(n - 1)];
    out.push_back(StrCat("dead-lettered: the event at ", FormatDuration(e.ts - start), " (",
                         e.where, "): ", reason, ": ", detail));
  }
  return out;
}

}  // namespace vigil::rule_test
