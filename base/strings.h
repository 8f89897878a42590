// base/strings.h
//
// Small string helpers over std::string_view. Debian's Abseil is built with
// its own absl::string_view (ABSL_OPTION_USE_STD_STRING_VIEW 0), so absl's
// StrCat/StrSplit do not accept std::string_view; these do, and keep the
// project on one string_view type.
//
// Example:
//   StrCat("window ", 5, "m")          // "window 5m"
//   StrSplit("a,,b", ',')              // {"a", "", "b"}
//   StrJoin({"x", "y"}, ", ")          // "x, y"
//   Strip("  faq ")                    // "faq"
#ifndef VIGIL_BASE_STRINGS_H_
#define VIGIL_BASE_STRINGS_H_

#include <charconv>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil {

namespace internal {
inline void AppendPiece(std::string* out, std::string_view s) { out->append(s); }
inline void AppendPiece(std::string* out, const char* s) { out->append(s); }
inline void AppendPiece(std::string* out, const std::string& s) { out->append(s); }
inline void AppendPiece(std::string* out, char c) { out->push_back(c); }
template <typename T>
requires(std::integral<T> && !std::same_as<T, char> &&
         !std::same_as<T, bool>) void AppendPiece(std::string* out, T v) {
  char buf[24];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out->append(buf, static_cast<size_t>(p - buf));
}
template <typename T>
requires std::floating_point<T>
void AppendPiece(std::string* out, T v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<double>(v));
  out->append(buf, static_cast<size_t>(p - buf));
}
inline void AppendPiece(std::string* out, bool b) { out->append(b ? "true" : "false"); }
}  // namespace internal

template <typename... Args>
void StrAppend(std::string* out, const Args&... args) {
  (internal::AppendPiece(out, args), ...);
}

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::string out;
  StrAppend(&out, args...);
  return out;
}

// The candidate closest to `word` within a small edit distance (about a
// third of its length, at least 2), or "": the "did you mean" of every
// error about a misspelt name (a flag, a field, a metric, a key).
std::string Suggest(std::string_view word, const std::vector<std::string>& candidates);

// Transparent hashing so maps keyed by std::string can be probed with a
// std::string_view without building a string.
struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
struct StringEq {
  using is_transparent = void;
  bool operator()(std::string_view a, std::string_view b) const { return a == b; }
};

// Equality of two byte ranges of length n, inlined: the keys and values the
// event path compares are a few bytes long, where a call to memcmp costs
// more than the comparison.
inline bool BytesEqual(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      uint64_t x, y;
      std::memcpy(&x, a + i, 8);
      std::memcpy(&y, b + i, 8);
      if (x != y) return false;
    }
    uint64_t x, y;  // the last 8 bytes, overlapping what was compared
    std::memcpy(&x, a + n - 8, 8);
    std::memcpy(&y, b + n - 8, 8);
    return x == y;
  }
  if (n >= 4) {
    uint32_t x, y, u, v;
    std::memcpy(&x, a, 4);
    std::memcpy(&y, b, 4);
    std::memcpy(&u, a + n - 4, 4);
    std::memcpy(&v, b + n - 4, 4);
    return x == y && u == v;
  }
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

std::vector<std::string_view> StrSplit(std::string_view s, char sep);
// Splits on runs of whitespace, dropping empty pieces.
std::vector<std::string_view> SplitWords(std::string_view s);
std::string StrJoin(const std::vector<std::string>& parts, std::string_view sep);
std::string_view Strip(std::string_view s);
bool ConsumePrefix(std::string_view* s, std::string_view prefix);

// Appends `s` as a JSON string literal (with quotes), escaping as RFC 8259
// requires. Bytes that are not valid UTF-8 become U+FFFD so the output is
// always valid JSON.
void AppendJsonString(std::string_view s, std::string* out);
// Appends key="value" for people (the console, vigil alerts), the value a
// JSON string literal: a quote or line break in a label value cannot
// break the line or end the value early.
inline void AppendLabel(std::string_view key, std::string_view value, std::string* out) {
  out->append(key);
  out->push_back('=');
  AppendJsonString(value, out);
}
// Appends free text (a rendered summary) for people, on one line: control
// characters, a line break among them, are written as escapes (\n, \t,
// \u001b), so the text can neither break a line nor reach a terminal.
void AppendOneLine(std::string_view text, std::string* out);
// The characters of UTF-8 text (its bytes but continuation bytes), for
// aligning columns.
size_t Utf8Length(std::string_view text);
// Percent-decodes `s` (%41 -> A; '+' stays '+'); false on a malformed
// escape.
bool PercentDecode(std::string_view s, std::string* out);
// RFC 3986 percent-encoding of every byte but the unreserved characters
// (A-Z a-z 0-9 - _ . ~, and '/' when `keep_slash`), upper-case hex, as
// SigV4, URL queries and form bodies take it: "a b/c" -> "a%20b%2Fc".
std::string PercentEncode(std::string_view s, bool keep_slash = false);
// `s` with every byte that is not part of valid UTF-8 replaced by U+FFFD.
std::string ValidUtf8(std::string_view s);
// Appends `v` as the shortest JSON number that reads back as `v`, without
// an exponent from 1e-6 to 1e21 (100000, not 1e+05); NaN and infinities,
// which JSON cannot hold, as null.
void AppendJsonNumber(double v, std::string* out);

// `v` rounded to a whole number, its digits in groups of three, for
// people: 1234567 -> "1,234,567", -12345.6 -> "-12,346".
std::string Thousands(double v);
// One double through a printf format: FormatDouble("%.1f%%", 12.34) ->
// "12.3%".
std::string FormatDouble(const char* format, double v);

// Appends {"k":"v",...} for a range of (string, string) pairs: a label map,
// a list of annotations.
template <class Pairs>
void AppendJsonObject(const Pairs& pairs, std::string* out) {
  out->push_back('{');
  bool first = true;
  for (const auto& [k, v] : pairs) {
    if (!first) out->push_back(',');
    first = false;
    AppendJsonString(k, out);
    out->push_back(':');
    AppendJsonString(v, out);
  }
  out->push_back('}');
}

}  // namespace vigil

#endif  // VIGIL_BASE_STRINGS_H_
