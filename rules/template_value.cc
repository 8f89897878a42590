// Template values printed as Go prints them: %v and printf.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "base/strings.h"
#include "rules/template_ast.h"

namespace vigil::tmpl {

bool Truth(const TValue& v) {
  switch (v.kind) {
    case TValue::Kind::kNil:
      return false;
    case TValue::Kind::kBool:
      return v.b;
    case TValue::Kind::kNumber:
      return v.n != 0;
    case TValue::Kind::kString:
      return !v.s.empty();
    case TValue::Kind::kMap:
      return v.map != nullptr && !v.map->empty();
  }
  return false;
}

const char* TypeName(const TValue& v) {
  switch (v.kind) {
    case TValue::Kind::kNil:
      return "nil";
    case TValue::Kind::kBool:
      return "bool";
    case TValue::Kind::kNumber:
      return "float64";
    case TValue::Kind::kString:
      return "string";
    case TValue::Kind::kMap:
      return "map[string]string";
  }
  return "?";
}

void AppendGoFloat(double v, std::string* out) {
  if (std::isnan(v)) return out->append("NaN"), void();
  if (std::isinf(v)) return out->append(v > 0 ? "+Inf" : "-Inf"), void();
  // The shortest digits that read back as `v`, and their exponent.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, r.ptr - buf);
  const size_t e = sci.find('e');
  int exp = 0;
  std::from_chars(sci.data() + e + 1 + (sci[e + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp);
  std::string mantissa(sci.substr(0, e));
  const bool negative = mantissa.front() == '-';
  if (negative) mantissa.erase(0, 1);
  std::string digits;
  for (char c : mantissa) {
    if (c != '.') digits.push_back(c);
  }
  if (negative) out->push_back('-');
  // %e when the exponent is < -4 or >= 6 (Go's 'g' with the shortest
  // precision), else plain digits.
  if (exp < -4 || exp >= 6) {
    out->push_back(digits[0]);
    if (digits.size() > 1) StrAppend(out, ".", std::string_view(digits).substr(1));
    StrAppend(out, "e", exp < 0 ? "-" : "+", std::abs(exp) < 10 ? "0" : "", std::abs(exp));
    return;
  }
  if (exp < 0) {
    StrAppend(out, "0.", std::string(-exp - 1, '0'), digits);
    return;
  }
  const size_t int_digits = static_cast<size_t>(exp) + 1;
  if (digits.size() <= int_digits) {
    StrAppend(out, digits, std::string(int_digits - digits.size(), '0'));
  } else {
    StrAppend(out, std::string_view(digits).substr(0, int_digits), ".",
              std::string_view(digits).substr(int_digits));
  }
}

void AppendValue(const TValue& v, std::string* out) {
  switch (v.kind) {
    case TValue::Kind::kNil:
      out->append("<nil>");
      return;
    case TValue::Kind::kBool:
      out->append(v.b ? "true" : "false");
      return;
    case TValue::Kind::kNumber:
      AppendGoFloat(v.n, out);
      return;
    case TValue::Kind::kString:
      out->append(v.s);
      return;
    case TValue::Kind::kMap: {
      out->append("map[");
      bool first = true;
      for (const auto& [k, val] : *v.map) {
        if (!first) out->push_back(' ');
        first = false;
        StrAppend(out, k, ":", val);
      }
      out->push_back(']');
      return;
    }
  }
}

namespace {

void AppendQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (c == '\n') {
      out->append("\\n");
    } else if (c == '\t') {
      out->append("\\t");
    } else if (u < 0x20 || u == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", u);
      out->append(buf);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// Go's "%!v(type=value)" for a verb that does not fit its operand.
void AppendBadVerb(char verb, const TValue& v, std::string* out) {
  StrAppend(out, "%!", std::string_view(&verb, 1), "(", TypeName(v), "=");
  AppendValue(v, out);
  out->push_back(')');
}

void Pad(std::string s, int width, bool left, bool zero, std::string* out) {
  if (width > 0 && static_cast<int>(s.size()) < width) {
    const size_t n = width - s.size();
    if (left) {
      s.append(n, ' ');
    } else if (zero && !s.empty() && (s[0] == '-' || s[0] == '+')) {
      s.insert(1, n, '0');
    } else {
      s.insert(0, n, zero ? '0' : ' ');
    }
  }
  out->append(s);
}

}  // namespace

namespace {

// One verb's flags, width and precision ("%-6.2f": "-", 6, 2).
struct Spec {
  std::string flags;
  int width = -1;
  int precision = -1;
  // A width or precision past Go's limit (10^6) is refused (Go stops
  // formatting there with %!(NOVERB); this names the cause and goes on):
  // `%999999999d` would write a gigabyte into one alert.
  const char* refused = nullptr;  // "%!(BADWIDTH)" or "%!(BADPREC)"
  bool Has(char flag) const { return flags.find(flag) != std::string::npos; }
};

// Reads the flags, width and precision at f[*j], leaving *j at the verb.
Spec ParseSpec(std::string_view f, size_t* j) {
  constexpr int kMaxNum = 1'000'000;
  Spec s;
  while (*j < f.size() && std::strchr("+- #0", f[*j]) != nullptr) s.flags.push_back(f[(*j)++]);
  auto number_at = [&](int* v) {
    *v = 0;
    bool fits = true;
    while (*j < f.size() && std::isdigit(static_cast<unsigned char>(f[*j]))) {
      if (*v > kMaxNum) fits = false;
      if (fits) *v = *v * 10 + (f[*j] - '0');
      ++*j;
    }
    return fits && *v <= kMaxNum;
  };
  if (*j < f.size() && std::isdigit(static_cast<unsigned char>(f[*j])) && !number_at(&s.width)) {
    s.refused = "%!(BADWIDTH)";
  }
  if (*j < f.size() && f[*j] == '.') {
    ++*j;
    if (!number_at(&s.precision) && s.refused == nullptr) s.refused = "%!(BADPREC)";
  }
  return s;
}

// %e %E %f %F %g %G of a number.
std::string FormatFloat(char verb, double n, const Spec& s) {
  std::string piece;
  if ((verb == 'g' || verb == 'G') && s.precision < 0) {
    if (s.Has('+') && n >= 0) piece.push_back('+');
    AppendGoFloat(n, &piece);
    return piece;
  }
  if (std::isnan(n) || std::isinf(n)) {
    if (std::isinf(n) && n > 0) return "+Inf";
    AppendGoFloat(n, &piece);
    return piece;
  }
  std::string spec = "%";
  if (s.Has('+')) spec += '+';
  if (s.Has(' ')) spec += ' ';
  if (s.Has('#')) spec += '#';
  if (s.precision >= 0) StrAppend(&spec, ".", s.precision);
  spec.push_back(verb);
  char buf[512];
  std::snprintf(buf, sizeof buf, spec.c_str(), n);
  return buf;
}

// One verb applied to its argument, before padding.
std::string FormatArg(char verb, const TValue& a, const Spec& s) {
  std::string piece;
  const bool number = a.kind == TValue::Kind::kNumber;
  switch (verb) {
    case 'v':
      AppendValue(a, &piece);
      return piece;
    case 's':
      if (a.kind == TValue::Kind::kString)
        return s.precision >= 0 ? a.s.substr(0, s.precision) : a.s;
      if (a.kind == TValue::Kind::kMap) {
        AppendValue(a, &piece);
        return piece;
      }
      break;
    case 'q':
      if (a.kind != TValue::Kind::kString) break;
      AppendQuoted(a.s, &piece);
      return piece;
    case 't':
      if (a.kind == TValue::Kind::kBool) return a.b ? "true" : "false";
      break;
    case 'd':
      // A number prints rounded (Go wants an integer type here). Past ±2^63
      // a number has no integer to round to.
      if (number && std::isfinite(a.n) && a.n >= -0x1p63 && a.n < 0x1p63) {
        return StrCat(s.Has('+') && a.n >= 0 ? "+" : "", static_cast<long long>(std::llround(a.n)));
      }
      break;
    case 'x':
    case 'X':
      if (a.kind != TValue::Kind::kString) break;
      for (unsigned char c : a.s) {
        char buf[4];
        std::snprintf(buf, sizeof buf, verb == 'x' ? "%02x" : "%02X", c);
        piece += buf;
      }
      return piece;
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      if (number) return FormatFloat(verb, a.n, s);
      break;
    default:
      break;
  }
  AppendBadVerb(verb, a, &piece);
  return piece;
}

}  // namespace

std::string GoPrintf(std::string_view f, std::span<const TValue> args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out.push_back(f[i]);
      continue;
    }
    size_t j = i + 1;
    const Spec spec = ParseSpec(f, &j);
    if (spec.refused != nullptr) {
      out.append(spec.refused);
      if (j >= f.size()) break;
      i = j;
      if (f[j] != '%') ++next;  // the verb's argument is used up
      continue;
    }
    if (j >= f.size()) {
      out.append("%!(NOVERB)");
      break;
    }
    const char verb = f[j];
    i = j;
    if (verb == '%') {
      out.push_back('%');
      continue;
    }
    if (next >= args.size()) {
      StrAppend(&out, "%!", std::string_view(&verb, 1), "(MISSING)");
      continue;
    }
    const bool left = spec.Has('-');
    const bool zero = spec.Has('0') && !left && verb != 's' && verb != 'q';
    Pad(FormatArg(verb, args[next++], spec), spec.width, left, zero, &out);
  }
  if (next < args.size()) {
    out.append("%!(EXTRA ");
    for (size_t k = next; k < args.size(); ++k) {
      if (k > next) out.append(", ");
      StrAppend(&out, TypeName(args[k]), "=");
      AppendValue(args[k], &out);
    }
    out.push_back(')');
  }
  return out;
}

}  // namespace vigil::tmpl
