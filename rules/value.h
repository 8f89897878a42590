// rules/value.h
//
// Value is one field of an event, or one intermediate result of an
// expression: missing, null, boolean, number or string. Strings are views
// into the parsed record (or into a rule's constant pool); a Value never
// owns memory, so copying one is free and evaluation never allocates.
//
// Missing (the field is absent) and null (present as JSON null) both satisfy
// `== null`; neither is a number, so arithmetic on them yields missing and
// ordering comparisons are false.
//
// Example:
//   Value v = Value::Number(12.5);
//   v.is_number();            // true
//   Value::String("faq").str  // "faq"
#ifndef VIGIL_RULES_VALUE_H_
#define VIGIL_RULES_VALUE_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil {

struct Value {
  enum class Kind : uint8_t { kMissing, kNull, kBool, kNumber, kString };

  Kind kind = Kind::kMissing;
  bool b = false;
  double num = 0;
  std::string_view str;

  static Value Missing() { return {}; }
  static Value Null() { return {Kind::kNull, false, 0, {}}; }
  static Value Bool(bool v) { return {Kind::kBool, v, 0, {}}; }
  static Value Number(double v) { return {Kind::kNumber, false, v, {}}; }
  static Value String(std::string_view v) { return {Kind::kString, false, 0, v}; }

  bool is_missing() const { return kind == Kind::kMissing; }
  bool is_nullish() const { return kind == Kind::kMissing || kind == Kind::kNull; }
  bool is_number() const { return kind == Kind::kNumber; }
  bool is_string() const { return kind == Kind::kString; }
  bool is_bool() const { return kind == Kind::kBool; }
  // Only a boolean true is true: rules never coerce numbers or strings.
  bool truthy() const { return kind == Kind::kBool && b; }
};

// The static type of an expression, as the type checker sees it. A field's
// type is unknown until an event arrives (kAny); the checker infers what a
// field must be from how rules use it.
enum class Type : uint8_t { kAny, kNull, kBool, kNumber, kString, kDuration };

std::string_view TypeName(Type t);
std::string_view KindName(Value::Kind k);

// Renders a value as a label or template string: numbers in shortest
// round-trip form ("0.5", "12"; -0 as "0"), booleans as true/false, missing and null as
// the empty string.
void AppendValueText(const Value& v, std::string* out);
// The same text as a view: a string's own bytes, else rendered into
// *scratch (cleared first). For keys looked up once per event.
inline std::string_view ValueText(const Value& v, std::string* scratch) {
  if (v.kind == Value::Kind::kString) return v.str;
  scratch->clear();
  AppendValueText(v, scratch);
  return *scratch;
}

}  // namespace vigil

#endif  // VIGIL_RULES_VALUE_H_
