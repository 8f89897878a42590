// The template lexer (rules/template_lexer.h).
#include "rules/template_lexer.h"

#include <cctype>
#include <charconv>

#include "base/strings.h"

namespace vigil::tmpl {
namespace {

bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

class Lexer {
 public:
  Lexer(std::string_view src, ExprError* err) : src_(src), err_(err) {}

  bool Split(std::vector<Item>* items) {
    size_t pos = 0;
    bool trim_next = false;
    while (pos <= src_.size()) {
      size_t open = src_.find("{{", pos);
      std::string_view text = src_.substr(pos, open == std::string_view::npos ? open : open - pos);
      if (trim_next) text = TrimLeft(text);
      size_t inner = open + 2;
      const bool trim_left = open != std::string_view::npos && inner + 1 < src_.size() &&
                             src_[inner] == '-' && IsSpace(src_[inner + 1]);
      if (trim_left) text = TrimRight(text);
      if (!text.empty()) items->push_back({false, pos, std::string(text), {}});
      if (open == std::string_view::npos) return true;
      if (trim_left) inner += 2;
      size_t close = 0;
      bool trim_right = false;
      Item item{true, open, "", {}};
      if (!Action(open, inner, &item.tokens, &close, &trim_right)) return false;
      if (!item.tokens.empty()) items->push_back(std::move(item));
      trim_next = trim_right;
      pos = close + 2;
    }
    return true;
  }

 private:
  static std::string_view TrimLeft(std::string_view s) {
    while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
    return s;
  }
  static std::string_view TrimRight(std::string_view s) {
    while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
    return s;
  }
  bool Fail(size_t pos, std::string msg) {
    *err_ = {pos, std::move(msg)};
    return false;
  }

  // Tokens from `at` to the closing "}}" (its offset in `*close`).
  bool Action(size_t open, size_t at, std::vector<Token>* out, size_t* close, bool* trim_right) {
    size_t i = at;
    while (i < src_.size() && IsSpace(src_[i])) ++i;
    if (src_.compare(i, 2, "/*") == 0) {
      const size_t end = src_.find("*/", i + 2);
      if (end == std::string_view::npos) return Fail(i, "unclosed comment");
      i = end + 2;
      while (i < src_.size() && IsSpace(src_[i])) ++i;
      if (src_.compare(i, 2, "-}") == 0 && i > 0 && IsSpace(src_[i - 1])) *trim_right = true, ++i;
      if (src_.compare(i, 2, "}}") != 0) return Fail(i, "a comment must end the action: /* … */}}");
      *close = i;
      return true;
    }
    while (true) {
      while (i < src_.size() && IsSpace(src_[i])) ++i;
      if (i >= src_.size()) return Fail(open, "unclosed action: '{{' without '}}'");
      if (src_.compare(i, 3, "-}}") == 0 && i > 0 && IsSpace(src_[i - 1])) {
        *trim_right = true;
        *close = i + 1;
        return true;
      }
      if (src_.compare(i, 2, "}}") == 0) {
        *close = i;
        if (out->empty()) return Fail(open, "empty action: '{{ }}' holds nothing");
        return true;
      }
      if (!Next(&i, out)) return false;
    }
  }

  // Field names after a '.', as in .Labels.intent or $labels.intent.
  bool Fields(size_t* i, std::vector<std::string>* fields) {
    while (*i < src_.size() && src_[*i] == '.' && *i + 1 < src_.size() &&
           IsIdentChar(src_[*i + 1])) {
      size_t j = *i + 1;
      while (j < src_.size() && IsIdentChar(src_[j])) ++j;
      fields->emplace_back(src_.substr(*i + 1, j - *i - 1));
      *i = j;
    }
    return true;
  }

  bool Next(size_t* at, std::vector<Token>* out) {
    size_t i = *at;
    const char c = src_[i];
    Token t{Tok::kIdent, i, "", {}, {}};
    if (c == '|' || c == '(' || c == ')' || c == ',') {
      t.kind = c == '|'   ? Tok::kPipe
               : c == '(' ? Tok::kLParen
               : c == ')' ? Tok::kRParen
                          : Tok::kComma;
      ++i;
    } else if (src_.compare(i, 2, ":=") == 0) {
      t.kind = Tok::kDeclare;
      i += 2;
    } else if (c == '=') {
      t.kind = Tok::kAssign;
      ++i;
    } else if (c == '$') {
      t.kind = Tok::kVar;
      size_t j = i + 1;
      while (j < src_.size() && IsIdentChar(src_[j])) ++j;
      t.name = std::string(src_.substr(i + 1, j - i - 1));
      i = j;
      Fields(&i, &t.fields);
    } else if (c == '.' &&
               (i + 1 >= src_.size() || !std::isdigit(static_cast<unsigned char>(src_[i + 1])))) {
      t.kind = Tok::kField;
      if (i + 1 < src_.size() && IsIdentChar(src_[i + 1])) {
        Fields(&i, &t.fields);
      } else {
        ++i;
      }
    } else if (c == '"' || c == '`') {
      t.kind = Tok::kLiteral;
      std::string s;
      if (!String(&i, &s)) return false;
      t.literal = TValue::String(std::move(s));
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.' ||
               ((c == '-' || c == '+') && i + 1 < src_.size() &&
                (std::isdigit(static_cast<unsigned char>(src_[i + 1])) || src_[i + 1] == '.'))) {
      t.kind = Tok::kLiteral;
      size_t j = i + 1;
      while (j < src_.size() &&
             (IsIdentChar(src_[j]) || src_[j] == '.' ||
              ((src_[j] == '-' || src_[j] == '+') && (src_[j - 1] == 'e' || src_[j - 1] == 'E')))) {
        ++j;
      }
      std::string_view num = src_.substr(i, j - i);
      double v = 0;
      std::string_view digits = num;
      const bool negative = !digits.empty() && digits.front() == '-';
      if (!digits.empty() && (digits.front() == '-' || digits.front() == '+'))
        digits.remove_prefix(1);
      std::string cleaned;
      for (char d : digits) {
        if (d != '_') cleaned.push_back(d);
      }
      std::from_chars_result r{};
      if (cleaned.size() > 2 && cleaned[0] == '0' && (cleaned[1] == 'x' || cleaned[1] == 'X')) {
        long long h = 0;
        r = std::from_chars(cleaned.data() + 2, cleaned.data() + cleaned.size(), h, 16);
        v = static_cast<double>(h);
      } else {
        r = std::from_chars(cleaned.data(), cleaned.data() + cleaned.size(), v);
      }
      if (cleaned.empty() || r.ec != std::errc() || r.ptr != cleaned.data() + cleaned.size()) {
        return Fail(i, StrCat("bad number syntax: '", num, "'"));
      }
      t.literal = TValue::Number(negative ? -v : v);
      i = j;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < src_.size() && IsIdentChar(src_[j])) ++j;
      t.name = std::string(src_.substr(i, j - i));
      i = j;
      if (t.name == "true" || t.name == "false") {
        t.kind = Tok::kLiteral;
        t.literal = TValue::Bool(t.name == "true");
      } else if (t.name == "nil") {
        t.kind = Tok::kLiteral;
      }
    } else if (c == '\'') {
      return Fail(i, "character constants ('x') are not supported; use a string \"x\"");
    } else {
      return Fail(i, StrCat("unexpected '", std::string_view(&src_[i], 1), "' in action"));
    }
    out->push_back(std::move(t));
    *at = i;
    return true;
  }

  // A "…" string with Go's escapes, or a `…` raw string.
  bool String(size_t* at, std::string* s) {
    const size_t start = *at;
    const char quote = src_[start];
    size_t i = start + 1;
    while (i < src_.size() && src_[i] != quote) {
      if (quote == '`') {
        s->push_back(src_[i++]);
        continue;
      }
      if (src_[i] == '\n') break;
      if (src_[i] != '\\') {
        s->push_back(src_[i++]);
        continue;
      }
      if (i + 1 >= src_.size()) break;
      const char e = src_[i + 1];
      static constexpr std::string_view kFrom = "ntr\\\"'ab0fv";
      static constexpr std::string_view kTo = "\n\t\r\\\"'\a\b\0\f\v";
      if (size_t k = kFrom.find(e); k != std::string_view::npos) {
        s->push_back(kTo[k]);
        i += 2;
      } else {
        return Fail(i, StrCat("unknown escape sequence '\\", std::string_view(&e, 1), "'"));
      }
    }
    if (i >= src_.size() || src_[i] != quote) return Fail(start, "unterminated string");
    *at = i + 1;
    return true;
  }

  std::string_view src_;
  ExprError* err_;
};

}  // namespace

bool LexTemplate(std::string_view text, std::vector<Item>* items, ExprError* err) {
  return Lexer(text, err).Split(items);
}

}  // namespace vigil::tmpl
