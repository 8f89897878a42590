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

std::string GoPrintf(std::string_view f, std::span<const TValue> args) {
  std::string out;
  size_t next = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out.push_back(f[i]);
      continue;
    }
    size_t j = i + 1;
    std::string flags;
    while (j < f.size() && std::strchr("+- #0", f[j]) != nullptr) flags.push_back(f[j++]);
    // A width or precision past Go's limit (10^6) is refused, as Go does:
    // `%999999999d` would write a gigabyte into one alert.
    constexpr int kMaxNum = 1'000'000;
    auto number_at = [&](int* v) {
      *v = 0;
      bool fits = true;
      while (j < f.size() && std::isdigit(static_cast<unsigned char>(f[j]))) {
        if (*v > kMaxNum) fits = false;
        if (fits) *v = *v * 10 + (f[j] - '0');
        ++j;
      }
      return fits && *v <= kMaxNum;
    };
    int width = -1, precision = -1;
    bool bad_width = false, bad_precision = false;
    if (j < f.size() && std::isdigit(static_cast<unsigned char>(f[j]))) {
      bad_width = !number_at(&width);
    }
    if (j < f.size() && f[j] == '.') {
      ++j;
      bad_precision = !number_at(&precision);
    }
    if (bad_width || bad_precision) {
      out.append(bad_width ? "%!(BADWIDTH)" : "%!(BADPREC)");
      if (j < f.size()) {
        i = j;
        if (f[j] != '%') ++next;  // the verb's argument is used up
      } else {
        break;
      }
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
    const TValue& a = args[next++];
    const bool left = flags.find('-') != std::string::npos;
    const bool zero = flags.find('0') != std::string::npos && !left;
    std::string piece;
    const bool number = a.kind == TValue::Kind::kNumber;
    switch (verb) {
      case 'v':
        AppendValue(a, &piece);
        break;
      case 's':
        if (a.kind == TValue::Kind::kString) {
          piece = precision >= 0 ? a.s.substr(0, precision) : a.s;
        } else if (a.kind == TValue::Kind::kMap) {
          AppendValue(a, &piece);
        } else {
          AppendBadVerb(verb, a, &piece);
        }
        break;
      case 'q':
        if (a.kind == TValue::Kind::kString) {
          AppendQuoted(a.s, &piece);
        } else {
          AppendBadVerb(verb, a, &piece);
        }
        break;
      case 't':
        if (a.kind == TValue::Kind::kBool) {
          piece = a.b ? "true" : "false";
        } else {
          AppendBadVerb(verb, a, &piece);
        }
        break;
      case 'd':
        // A number prints rounded (Go wants an integer type here).
        // Past ±2^63 a number has no integer to round to.
        if (number && std::isfinite(a.n) && std::fabs(a.n) < 9.2e18) {
          piece = StrCat(flags.find('+') != std::string::npos && a.n >= 0 ? "+" : "",
                         static_cast<long long>(std::llround(a.n)));
        } else {
          AppendBadVerb(verb, a, &piece);
        }
        break;
      case 'x':
      case 'X':
        if (a.kind == TValue::Kind::kString) {
          for (unsigned char c : a.s) {
            char buf[4];
            std::snprintf(buf, sizeof buf, verb == 'x' ? "%02x" : "%02X", c);
            piece += buf;
          }
        } else {
          AppendBadVerb(verb, a, &piece);
        }
        break;
      case 'e':
      case 'E':
      case 'f':
      case 'F':
      case 'g':
      case 'G': {
        if (!number) {
          AppendBadVerb(verb, a, &piece);
          break;
        }
        if ((verb == 'g' || verb == 'G') && precision < 0) {
          if (flags.find('+') != std::string::npos && a.n >= 0) piece.push_back('+');
          AppendGoFloat(a.n, &piece);
          break;
        }
        if (std::isnan(a.n) || std::isinf(a.n)) {
          if (std::isinf(a.n) && a.n > 0)
            piece = "+Inf";
          else
            AppendGoFloat(a.n, &piece);
          break;
        }
        std::string spec = "%";
        if (flags.find('+') != std::string::npos) spec += '+';
        if (flags.find(' ') != std::string::npos) spec += ' ';
        if (flags.find('#') != std::string::npos) spec += '#';
        if (precision >= 0) StrAppend(&spec, ".", precision);
        spec.push_back(verb);
        char buf[512];
        std::snprintf(buf, sizeof buf, spec.c_str(), a.n);
        piece = buf;
        break;
      }
      default:
        AppendBadVerb(verb, a, &piece);
    }
    Pad(std::move(piece), width, left, zero && verb != 's' && verb != 'q', &out);
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
