// tests/operators/archive/canonical_json.h
//
// CanonicalJson(text): a JSON value in a form where two texts compare
// equal exactly when a reader that keeps the last occurrence of a key (the
// event parser, JavaScript's JSON.parse) gets the same value from both:
// object members sorted by key, duplicates resolved to the last, integers
// and integral doubles as exact integers, other numbers as %.17g, strings
// re-escaped.
// Invalid JSON gives "<invalid: reason>".
//
// Example:
//   CanonicalJson(R"({"b":1.0,"a":[true],"b":2})")  // {"a":[true],"b":2}
#ifndef VIGIL_TESTS_OPERATORS_ARCHIVE_CANONICAL_JSON_H_
#define VIGIL_TESTS_OPERATORS_ARCHIVE_CANONICAL_JSON_H_

#include <simdjson.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <string_view>

#include "base/strings.h"

namespace vigil {

inline void AppendCanonical(simdjson::dom::element e, std::string* out) {
  using T = simdjson::dom::element_type;
  char buf[40];
  switch (e.type()) {
    case T::OBJECT: {
      std::map<std::string, std::string> members;  // sorted, the last occurrence wins
      const simdjson::dom::object object = e.get_object().value_unsafe();
      for (simdjson::dom::key_value_pair field : object) {
        std::string value;
        AppendCanonical(field.value, &value);
        members[std::string(field.key)] = value;
      }
      out->push_back('{');
      for (const auto& [key, value] : members) {
        if (out->back() != '{') out->push_back(',');
        AppendJsonString(key, out);
        out->push_back(':');
        out->append(value);
      }
      out->push_back('}');
      return;
    }
    case T::ARRAY: {
      out->push_back('[');
      const simdjson::dom::array items = e.get_array().value_unsafe();
      for (simdjson::dom::element item : items) {
        if (out->back() != '[') out->push_back(',');
        AppendCanonical(item, out);
      }
      out->push_back(']');
      return;
    }
    case T::INT64:
      StrAppend(out, e.get_int64().value_unsafe());
      return;
    case T::UINT64:
      StrAppend(out, e.get_uint64().value_unsafe());
      return;
    case T::DOUBLE: {
      // An integral double is written as the integer it equals, so that 2.0
      // and 2, or 1e+18 and 1000000000000000000, compare equal.
      const double d = e.get_double().value_unsafe();
      if (d == std::floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
        StrAppend(out, static_cast<int64_t>(d));
      } else if (d == std::floor(d) && d >= 0 && d < 18446744073709551616.0) {
        StrAppend(out, static_cast<uint64_t>(d));
      } else {
        std::snprintf(buf, sizeof buf, "%.17g", d);
        out->append(buf);
      }
      return;
    }
    case T::STRING:
      AppendJsonString(e.get_string().value_unsafe(), out);
      return;
    case T::BOOL:
      out->append(e.get_bool().value_unsafe() ? "true" : "false");
      return;
    case T::NULL_VALUE:
      out->append("null");
      return;
  }
}

inline std::string CanonicalJson(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto error = parser.parse(text.data(), text.size()).get(doc)) {
    return StrCat("<invalid: ", simdjson::error_message(error), ">");
  }
  std::string out;
  AppendCanonical(doc, &out);
  return out;
}

}  // namespace vigil

#endif  // VIGIL_TESTS_OPERATORS_ARCHIVE_CANONICAL_JSON_H_
