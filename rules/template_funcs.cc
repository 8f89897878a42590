// The functions of annotation templates: Go's builtins and Prometheus'
// template functions, formatting as Go and Prometheus do.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "absl/time/time.h"
#include "base/strings.h"
#include "re2/re2.h"
#include "rules/template_ast.h"

namespace vigil::tmpl {
namespace {

constexpr FuncInfo kFuncs[] = {
    {"and", 1, -1},
    {"or", 1, -1},
    {"not", 1, 1},
    {"len", 1, 1},
    {"index", 1, -1},
    {"print", 0, -1},
    {"printf", 1, -1},
    {"println", 0, -1},
    {"html", 1, 1},
    {"urlquery", 1, 1},
    {"eq", 2, -1},
    {"ne", 2, 2},
    {"lt", 2, 2},
    {"le", 2, 2},
    {"gt", 2, 2},
    {"ge", 2, 2},
    {"humanize", 1, 1},
    {"humanize1024", 1, 1},
    {"humanizeDuration", 1, 1},
    {"humanizePercentage", 1, 1},
    {"humanizeTimestamp", 1, 1},
    {"title", 1, 1},
    {"toUpper", 1, 1},
    {"toLower", 1, 1},
    {"match", 2, 2},
    {"reReplaceAll", 3, 3},
    {"safeHtml", 1, 1},
};

// C's formatting of a finite number; Go's NaN, +Inf and -Inf.
std::string Sprintf(const char* format, double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
  char buf[128];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Prometheus' convertToFloat: numbers, and strings that parse as one.
bool ToFloat(std::string_view fn, const TValue& v, double* out, std::string* error) {
  if (v.kind == TValue::Kind::kNumber) {
    *out = v.n;
    return true;
  }
  if (v.kind == TValue::Kind::kString) {
    std::string_view s = Strip(v.s);
    if (s == "NaN" || s == "+Inf" || s == "Inf" || s == "-Inf") {
      *out = s == "NaN" ? NAN : s.front() == '-' ? -INFINITY : INFINITY;
      return true;
    }
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    if (!s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size()) return true;
    *error = StrCat(fn, ": \"", v.s, "\" is not a number");
    return false;
  }
  *error = StrCat(fn, ": cannot convert ", TypeName(v), " to a number");
  return false;
}

bool ToString(std::string_view fn, const TValue& v, std::string* out, std::string* error) {
  if (v.kind == TValue::Kind::kString) {
    *out = v.s;
    return true;
  }
  *error = StrCat(fn, ": wants a string, got ", TypeName(v));
  return false;
}

// Divides by `step` while |v| >= step, taking the next prefix each time.
std::string ScaleUp(double v, double step, std::initializer_list<const char*> prefixes) {
  const char* prefix = "";
  for (const char* p : prefixes) {
    if (std::fabs(v) < step) break;
    prefix = p;
    v /= step;
  }
  return Sprintf("%.4g", v) + prefix;
}

// Multiplies by 1000 while |v| < 1, taking the next prefix each time.
std::string ScaleDown(double v, const char* unit) {
  const char* prefix = "";
  for (const char* p : {"m", "u", "n", "p", "f", "a", "z", "y"}) {
    if (std::fabs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return StrCat(Sprintf("%.4g", v), prefix, unit);
}

std::string Humanize(double v) {
  if (v == 0 || std::isnan(v) || std::isinf(v)) return Sprintf("%.4g", v);
  if (std::fabs(v) >= 1) return ScaleUp(v, 1000, {"k", "M", "G", "T", "P", "E", "Z", "Y"});
  return ScaleDown(v, "");
}

std::string Humanize1024(double v) {
  if (std::fabs(v) <= 1 || std::isnan(v) || std::isinf(v)) return Sprintf("%.4g", v);
  return ScaleUp(v, 1024, {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"});
}

// Seconds, as Prometheus: "1d 2h 3m 4s", "1m 30s", "1.5s", "250ms".
std::string HumanizeDuration(double v) {
  if (std::isnan(v) || std::isinf(v)) return Sprintf("%.4g", v);
  if (v == 0) return Sprintf("%.4gs", v);
  if (std::fabs(v) < 1) return ScaleDown(v, "s");
  const char* sign = v < 0 ? "-" : "";
  v = std::fabs(v);
  const auto total = static_cast<long long>(v);
  const long long seconds = total % 60, minutes = (total / 60) % 60, hours = (total / 3600) % 24,
                  days = total / 86400;
  if (days != 0) return StrCat(sign, days, "d ", hours, "h ", minutes, "m ", seconds, "s");
  if (hours != 0) return StrCat(sign, hours, "h ", minutes, "m ", seconds, "s");
  if (minutes != 0) return StrCat(sign, minutes, "m ", seconds, "s");
  return StrCat(sign, Sprintf("%.4g", v), "s");
}

// Seconds since the epoch, as Go prints a UTC time.Time (milliseconds kept,
// as Prometheus' model.Time): "2026-03-01 12:00:00.5 +0000 UTC".
bool HumanizeTimestamp(double v, std::string* out, std::string* error) {
  if (std::isnan(v) || std::isinf(v)) {
    *out = Sprintf("%.4g", v);
    return true;
  }
  const double ns = v * 1e9;
  if (ns >= 9.2e18 || ns <= -9.2e18) {
    *error = StrCat("humanizeTimestamp: ", Sprintf("%g", v),
                    " cannot be represented as a nanoseconds timestamp");
    return false;
  }
  const long long ms = static_cast<long long>(ns) / 1000000;
  const absl::Time t = absl::FromUnixMillis(ms);
  *out = absl::FormatTime("%Y-%m-%d %H:%M:%S", t, absl::UTCTimeZone());
  long long frac = ms % 1000;
  if (frac < 0) frac += 1000;
  if (frac != 0) {
    std::string f = StrCat(frac < 100 ? "0" : "", frac < 10 ? "0" : "", frac);
    while (f.back() == '0') f.pop_back();
    StrAppend(out, ".", f);
  }
  StrAppend(out, " +0000 UTC");
  return true;
}

// strings.Title with cases.NoLower: the first letter of every word upper.
std::string Title(std::string s) {
  bool start = true;
  for (char& c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '_' || u >= 0x80) {
      if (start && u < 0x80) c = static_cast<char>(std::toupper(u));
      start = false;
    } else {
      start = true;
    }
  }
  return s;
}

// Go's regexp.Expand template: $1, ${1}, $name, ${name}, $$.
void Expand(std::string_view repl, const re2::RE2& re, const std::vector<re2::StringPiece>& groups,
            std::string* out) {
  for (size_t i = 0; i < repl.size(); ++i) {
    if (repl[i] != '$' || i + 1 >= repl.size()) {
      out->push_back(repl[i]);
      continue;
    }
    if (repl[i + 1] == '$') {
      out->push_back('$');
      ++i;
      continue;
    }
    size_t j = i + 1;
    std::string_view name;
    if (repl[j] == '{') {
      const size_t close = repl.find('}', j);
      if (close == std::string_view::npos) {
        out->push_back('$');
        continue;
      }
      name = repl.substr(j + 1, close - j - 1);
      j = close + 1;
    } else {
      while (j < repl.size() &&
             (std::isalnum(static_cast<unsigned char>(repl[j])) || repl[j] == '_')) {
        ++j;
      }
      name = repl.substr(i + 1, j - i - 1);
    }
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        })) {
      out->push_back('$');
      continue;
    }
    int index = -1;
    if (std::all_of(name.begin(), name.end(),
                    [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
      std::from_chars(name.data(), name.data() + name.size(), index);
    } else {
      auto it = re.NamedCapturingGroups().find(std::string(name));
      if (it != re.NamedCapturingGroups().end()) index = it->second;
    }
    if (index >= 0 && static_cast<size_t>(index) < groups.size() && groups[index].data()) {
      out->append(groups[index].data(), groups[index].size());
    }
    i = j - 1;
  }
}

// Go's Regexp.ReplaceAllString: non-overlapping matches, an empty match
// right after a match skipped.
bool ReReplaceAll(const std::string& pattern, std::string_view repl, std::string_view text,
                  std::string* out, std::string* error) {
  re2::RE2 re(pattern, re2::RE2::Quiet);
  if (!re.ok()) {
    *error = StrCat("reReplaceAll: bad regular expression: ", re.error());
    return false;
  }
  std::vector<re2::StringPiece> groups(re.NumberOfCapturingGroups() + 1);
  size_t copied = 0, search = 0, prev_end = 0;
  bool matched_before = false;
  const re2::StringPiece input(text.data(), text.size());
  while (search <= text.size() && re.Match(input, search, text.size(), re2::RE2::UNANCHORED,
                                           groups.data(), static_cast<int>(groups.size()))) {
    const size_t start = groups[0].data() - text.data(), end = start + groups[0].size();
    if (!(start == end && matched_before && start == prev_end)) {
      out->append(text.substr(copied, start - copied));
      Expand(repl, re, groups, out);
      copied = end;
      matched_before = true;
      prev_end = end;
    }
    if (end > start) {
      search = end;
    } else {
      if (start >= text.size()) break;
      // Past one UTF-8 character.
      size_t next = start + 1;
      while (next < text.size() && (static_cast<unsigned char>(text[next]) & 0xC0) == 0x80) ++next;
      search = next;
    }
  }
  out->append(text.substr(copied));
  return true;
}

int Compare(std::string_view fn, const TValue& a, const TValue& b, std::string* error) {
  if (a.kind == TValue::Kind::kNumber && b.kind == TValue::Kind::kNumber) {
    return a.n < b.n ? -1 : a.n > b.n ? 1 : 0;
  }
  if (a.kind == TValue::Kind::kString && b.kind == TValue::Kind::kString) {
    return a.s.compare(b.s) < 0 ? -1 : a.s == b.s ? 0 : 1;
  }
  if (a.kind == TValue::Kind::kBool && b.kind == TValue::Kind::kBool &&
      (fn == "eq" || fn == "ne")) {
    return a.b == b.b ? 0 : 1;
  }
  *error = a.kind == b.kind ? StrCat(fn, ": invalid type for comparison: ", TypeName(a))
                            : StrCat(fn, ": incompatible types for comparison: ", TypeName(a),
                                     " and ", TypeName(b));
  return 2;
}

std::string QueryEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(c);
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", u);
      out += buf;
    }
  }
  return out;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&#34;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// fmt.Sprint: a space between operands when neither is a string.
std::string Sprint(std::span<const TValue> args, bool println) {
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && (println || (args[i].kind != TValue::Kind::kString &&
                              args[i - 1].kind != TValue::Kind::kString))) {
      out.push_back(' ');
    }
    AppendValue(args[i], &out);
  }
  if (println) out.push_back('\n');
  return out;
}

}  // namespace

const FuncInfo* FindFunc(std::string_view name) {
  for (const FuncInfo& f : kFuncs) {
    if (name == f.name) return &f;
  }
  return nullptr;
}

std::vector<std::string> FuncNames() {
  std::vector<std::string> out;
  for (const FuncInfo& f : kFuncs) out.emplace_back(f.name);
  return out;
}

bool IsUnsupportedPrometheusFunc(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "query",      "first",         "label",      "value",       "sortByLabel", "strvalue",
      "args",       "tmpl",          "graphLink",  "tableLink",   "now",         "toTime",
      "toDuration", "parseDuration", "pathPrefix", "externalURL", "stripPort",   "stripDomain",
      "call",       "slice",         "js"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

std::string RegexError(std::string_view pattern) {
  re2::RE2 re(re2::StringPiece(pattern.data(), pattern.size()), re2::RE2::Quiet);
  return re.ok() ? "" : re.error();
}

bool CallFunc(std::string_view fn, std::span<const TValue> args, TValue* out, std::string* error) {
  double v = 0;
  std::string s;
  if (fn == "and" || fn == "or") {
    for (const TValue& a : args) {
      *out = a;
      if (Truth(a) != (fn == "and")) break;
    }
    return true;
  }
  if (fn == "not") return *out = TValue::Bool(!Truth(args[0])), true;
  if (fn == "eq") {
    bool any = false;
    for (size_t i = 1; i < args.size(); ++i) {
      const int c = Compare(fn, args[0], args[i], error);
      if (c == 2) return false;
      any = any || c == 0;
    }
    return *out = TValue::Bool(any), true;
  }
  if (fn == "ne" || fn == "lt" || fn == "le" || fn == "gt" || fn == "ge") {
    const int c = Compare(fn, args[0], args[1], error);
    if (c == 2) return false;
    const bool r = fn == "ne"   ? c != 0
                   : fn == "lt" ? c < 0
                   : fn == "le" ? c <= 0
                   : fn == "gt" ? c > 0
                                : c >= 0;
    return *out = TValue::Bool(r), true;
  }
  if (fn == "len") {
    if (args[0].kind == TValue::Kind::kString) return *out = TValue::Number(args[0].s.size()), true;
    if (args[0].kind == TValue::Kind::kMap) return *out = TValue::Number(args[0].map->size()), true;
    *error = StrCat("len of ", TypeName(args[0]));
    return false;
  }
  if (fn == "index") {
    TValue cur = args[0];
    for (size_t i = 1; i < args.size(); ++i) {
      if (cur.kind != TValue::Kind::kMap || args[i].kind != TValue::Kind::kString) {
        *error = StrCat("index: cannot index ", TypeName(cur), " with ", TypeName(args[i]));
        return false;
      }
      auto it = cur.map->find(args[i].s);
      cur = TValue::String(it == cur.map->end() ? "" : it->second);
    }
    return *out = std::move(cur), true;
  }
  if (fn == "print" || fn == "println")
    return *out = TValue::String(Sprint(args, fn == "println")), true;
  if (fn == "printf") {
    if (!ToString(fn, args[0], &s, error)) return false;
    return *out = TValue::String(GoPrintf(s, args.subspan(1))), true;
  }
  if (fn == "html" || fn == "urlquery") {
    const std::string text = Sprint(args, false);
    return *out = TValue::String(fn == "html" ? HtmlEscape(text) : QueryEscape(text)), true;
  }
  if (fn == "humanize" || fn == "humanize1024" || fn == "humanizeDuration" ||
      fn == "humanizePercentage" || fn == "humanizeTimestamp") {
    if (!ToFloat(fn, args[0], &v, error)) return false;
    if (fn == "humanize") s = Humanize(v);
    if (fn == "humanize1024") s = Humanize1024(v);
    if (fn == "humanizeDuration") s = HumanizeDuration(v);
    if (fn == "humanizePercentage") s = Sprintf("%.4g", v * 100) + "%";
    if (fn == "humanizeTimestamp" && !HumanizeTimestamp(v, &s, error)) return false;
    return *out = TValue::String(std::move(s)), true;
  }
  if (fn == "title" || fn == "toUpper" || fn == "toLower" || fn == "safeHtml") {
    if (!ToString(fn, args[0], &s, error)) return false;
    if (fn == "title") s = Title(std::move(s));
    if (fn == "toUpper")
      std::transform(s.begin(), s.end(), s.begin(),
                     [](unsigned char c) { return std::toupper(c); });
    if (fn == "toLower")
      std::transform(s.begin(), s.end(), s.begin(),
                     [](unsigned char c) { return std::tolower(c); });
    return *out = TValue::String(std::move(s)), true;
  }
  if (fn == "match") {
    std::string pattern, text;
    if (!ToString(fn, args[0], &pattern, error) || !ToString(fn, args[1], &text, error))
      return false;
    re2::RE2 re(pattern, re2::RE2::Quiet);
    if (!re.ok()) {
      *error = StrCat("match: bad regular expression: ", re.error());
      return false;
    }
    return *out = TValue::Bool(re2::RE2::PartialMatch(text, re)), true;
  }
  if (fn == "reReplaceAll") {
    std::string pattern, repl, text;
    if (!ToString(fn, args[0], &pattern, error) || !ToString(fn, args[1], &repl, error) ||
        !ToString(fn, args[2], &text, error)) {
      return false;
    }
    if (!ReReplaceAll(pattern, repl, text, &s, error)) return false;
    return *out = TValue::String(std::move(s)), true;
  }
  *error = StrCat("unknown function '", fn, "'");
  return false;
}

}  // namespace vigil::tmpl
