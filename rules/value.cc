#include "rules/value.h"

#include <charconv>
#include <cmath>

namespace vigil {

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kAny:
      return "any";
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "boolean";
    case Type::kNumber:
      return "number";
    case Type::kString:
      return "string";
    case Type::kDuration:
      return "duration";
  }
  return "?";
}

std::string_view KindName(Value::Kind k) {
  switch (k) {
    case Value::Kind::kMissing:
      return "missing";
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return "boolean";
    case Value::Kind::kNumber:
      return "number";
    case Value::Kind::kString:
      return "string";
  }
  return "?";
}

void AppendValueText(const Value& v, std::string* out) {
  switch (v.kind) {
    case Value::Kind::kMissing:
    case Value::Kind::kNull:
      return;
    case Value::Kind::kBool:
      out->append(v.b ? "true" : "false");
      return;
    case Value::Kind::kString:
      out->append(v.str);
      return;
    case Value::Kind::kNumber: {
      if (std::isnan(v.num)) {
        out->append("NaN");
        return;
      }
      if (std::isinf(v.num)) {
        out->append(v.num > 0 ? "+Inf" : "-Inf");
        return;
      }
      char buf[32];
      // -0 is 0: one group, key and label for both, as `==` and distinct() have it.
      auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v.num == 0 ? 0.0 : v.num);
      out->append(buf, static_cast<size_t>(p - buf));
      return;
    }
  }
}

}  // namespace vigil
