#include "rules/expr_parser.h"

#include <cctype>
#include <charconv>

#include "base/strings.h"
#include "base/time.h"

namespace vigil {

std::string_view ExprOpSymbol(ExprOp op) {
  switch (op) {
    case ExprOp::kNeg:
      return "-";
    case ExprOp::kNot:
      return "not";
    case ExprOp::kAdd:
      return "+";
    case ExprOp::kSub:
      return "-";
    case ExprOp::kMul:
      return "*";
    case ExprOp::kDiv:
      return "/";
    case ExprOp::kMod:
      return "%";
    case ExprOp::kEq:
      return "==";
    case ExprOp::kNe:
      return "!=";
    case ExprOp::kLt:
      return "<";
    case ExprOp::kLe:
      return "<=";
    case ExprOp::kGt:
      return ">";
    case ExprOp::kGe:
      return ">=";
    case ExprOp::kAnd:
      return "and";
    case ExprOp::kOr:
      return "or";
    case ExprOp::kIn:
      return "in";
    case ExprOp::kNotIn:
      return "not in";
    default:
      return "";
  }
}

namespace {

enum class Tok { kEnd, kNumber, kDuration, kString, kName, kPunct, kError };

struct Token {
  Tok kind = Tok::kEnd;
  size_t pos = 0;
  std::string_view text;  // raw source text
  std::string value;      // unescaped string literal
  double number = 0;
};

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Token Next(ExprError* err) {
    while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) ++pos_;
    Token t;
    t.pos = pos_;
    if (pos_ >= src_.size()) return t;
    const char c = src_[pos_];
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && pos_ + 1 < src_.size() &&
         std::isdigit(static_cast<unsigned char>(src_[pos_ + 1])))) {
      return LexNumber(t, err);
    }
    if (IsNameStart(c)) {
      size_t end = pos_;
      while (end < src_.size() &&
             (IsNameChar(src_[end]) ||
              (src_[end] == '.' && end + 1 < src_.size() && IsNameStart(src_[end + 1])))) {
        ++end;
      }
      return Finish(t, Tok::kName, end);
    }
    if (c == '"' || c == '\'') return LexString(t, err);
    static constexpr std::string_view kTwo[] = {"==", "!=", "<=", ">="};
    for (std::string_view op : kTwo) {
      if (src_.substr(pos_, 2) == op) return Finish(t, Tok::kPunct, pos_ + 2);
    }
    if (std::string_view("+-*/%<>()[],").find(c) != std::string_view::npos) {
      return Finish(t, Tok::kPunct, pos_ + 1);
    }
    if (c == '=') {
      *err = {pos_, "unexpected '='; use '==' to compare"};
    } else if (c == '&' || c == '|') {
      *err = {pos_, StrCat("unexpected '", std::string(1, c), "'; use 'and' / 'or'")};
    } else if (c == '!') {
      *err = {pos_, "unexpected '!'; use 'not' or '!='"};
    } else {
      // The whole character, not its first byte, for one of several bytes.
      size_t end = pos_ + 1;
      if (static_cast<unsigned char>(c) >= 0xc0) {
        while (end < src_.size() && (static_cast<unsigned char>(src_[end]) & 0xc0) == 0x80) ++end;
      }
      *err = {pos_, StrCat("unexpected character '", src_.substr(pos_, end - pos_), "'")};
    }
    t.kind = Tok::kError;
    return t;
  }

 private:
  Token Finish(Token t, Tok kind, size_t end) {
    t.kind = kind;
    t.text = src_.substr(pos_, end - pos_);
    pos_ = end;
    return t;
  }

  Token LexNumber(Token t, ExprError* err) {
    size_t end = pos_;
    while (end < src_.size() &&
           (std::isdigit(static_cast<unsigned char>(src_[end])) || src_[end] == '.'))
      ++end;
    if (end < src_.size() && (src_[end] == 'e' || src_[end] == 'E') && end + 1 < src_.size() &&
        (std::isdigit(static_cast<unsigned char>(src_[end + 1])) || src_[end + 1] == '-' ||
         src_[end + 1] == '+')) {
      end += 2;
      while (end < src_.size() && std::isdigit(static_cast<unsigned char>(src_[end]))) ++end;
    }
    if (end < src_.size() && std::isalpha(static_cast<unsigned char>(src_[end]))) {
      // A duration: digits and units up to the end of the word.
      while (end < src_.size() && IsNameChar(src_[end])) ++end;
      std::string_view word = src_.substr(pos_, end - pos_);
      std::optional<DurationMs> d = ParseDuration(word);
      if (!d) {
        *err = {pos_, StrCat("bad duration '", word, "' (units: ms, s, m, h, d, w)")};
        t.kind = Tok::kError;
        return t;
      }
      t.number = static_cast<double>(*d);
      return Finish(t, Tok::kDuration, end);
    }
    std::string_view word = src_.substr(pos_, end - pos_);
    auto [p, ec] = std::from_chars(word.data(), word.data() + word.size(), t.number);
    if (ec != std::errc() || p != word.data() + word.size()) {
      *err = {pos_, StrCat("bad number '", word, "'")};
      t.kind = Tok::kError;
      return t;
    }
    return Finish(t, Tok::kNumber, end);
  }

  Token LexString(Token t, ExprError* err) {
    const char quote = src_[pos_];
    size_t i = pos_ + 1;
    while (i < src_.size() && src_[i] != quote) {
      char c = src_[i];
      if (c == '\\' && i + 1 < src_.size()) {
        char e = src_[++i];
        switch (e) {
          case 'n':
            t.value.push_back('\n');
            break;
          case 't':
            t.value.push_back('\t');
            break;
          default:
            t.value.push_back(e);
        }
      } else {
        t.value.push_back(c);
      }
      ++i;
    }
    if (i >= src_.size()) {
      *err = {pos_, "unterminated string"};
      t.kind = Tok::kError;
      return t;
    }
    return Finish(t, Tok::kString, i + 1);
  }

  std::string_view src_;
  size_t pos_ = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view src) : lex_(src) { Advance(); }

  ExprParse Parse() {
    ExprParse r;
    auto node = ParseOr();
    if (node && tok_.kind != Tok::kEnd && !failed_) {
      Fail(tok_.pos, StrCat("unexpected '", tok_.text, "' after the expression"));
    }
    if (failed_) {
      r.error = err_;
      return r;
    }
    r.node = std::move(node);
    return r;
  }

 private:
  using NodePtr = std::unique_ptr<ExprNode>;

  void Advance() {
    if (failed_) return;
    tok_ = lex_.Next(&err_);
    if (tok_.kind == Tok::kError) failed_ = true;
  }
  NodePtr Fail(size_t pos, std::string msg) {
    if (!failed_) err_ = {pos, std::move(msg)};
    failed_ = true;
    return nullptr;
  }
  // The tree's depth is bounded so that the parser and every recursive walk
  // of the tree (printing, compiling, freeing) stay well within the stack:
  // each operator of a chain, each unary operator, parenthesis and call is
  // a level, counted until the parse function that entered it returns.
  static constexpr int kMaxDepth = 256;
  class Level {
   public:
    explicit Level(int* depth) : depth_(depth), saved_(*depth) {}
    ~Level() { *depth_ = saved_; }
    Level(const Level&) = delete;
    Level& operator=(const Level&) = delete;

   private:
    int* depth_;
    int saved_;
  };
  bool Deeper() {
    if (++depth_ <= kMaxDepth) return true;
    Fail(tok_.pos, StrCat("the expression nests deeper than ", kMaxDepth,
                          " levels of operators, parentheses and calls (each operator of a "
                          "chain such as 'a and b and c' is one); write a choice among many "
                          "values as 'x in [...]'"));
    return false;
  }
  bool IsWord(std::string_view w) const { return tok_.kind == Tok::kName && tok_.text == w; }
  bool IsPunct(std::string_view p) const { return tok_.kind == Tok::kPunct && tok_.text == p; }

  static NodePtr Make(ExprOp op, size_t pos) {
    auto n = std::make_unique<ExprNode>();
    n->op = op;
    n->pos = pos;
    return n;
  }
  static NodePtr Binary(ExprOp op, NodePtr lhs, NodePtr rhs) {
    auto n = Make(op, lhs->pos);
    n->args.push_back(std::move(lhs));
    n->args.push_back(std::move(rhs));
    return n;
  }

  NodePtr ParseOr() {
    Level level(&depth_);
    NodePtr lhs = ParseAnd();
    while (lhs && IsWord("or")) {
      if (!Deeper()) return nullptr;
      Advance();
      NodePtr rhs = ParseAnd();
      if (!rhs) return nullptr;
      lhs = Binary(ExprOp::kOr, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  NodePtr ParseAnd() {
    Level level(&depth_);
    NodePtr lhs = ParseNot();
    while (lhs && IsWord("and")) {
      if (!Deeper()) return nullptr;
      Advance();
      NodePtr rhs = ParseNot();
      if (!rhs) return nullptr;
      lhs = Binary(ExprOp::kAnd, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  NodePtr ParseNot() {
    if (IsWord("not")) {
      Level level(&depth_);
      if (!Deeper()) return nullptr;
      size_t pos = tok_.pos;
      Advance();
      NodePtr inner = ParseNot();
      if (!inner) return nullptr;
      NodePtr n = Make(ExprOp::kNot, pos);
      n->args.push_back(std::move(inner));
      return n;
    }
    return ParseCmp();
  }

  NodePtr ParseCmp() {
    NodePtr lhs = ParseSum();
    if (!lhs) return nullptr;
    static constexpr std::pair<std::string_view, ExprOp> kOps[] = {
        {"==", ExprOp::kEq}, {"!=", ExprOp::kNe}, {"<=", ExprOp::kLe},
        {">=", ExprOp::kGe}, {"<", ExprOp::kLt},  {">", ExprOp::kGt}};
    for (const auto& [sym, op] : kOps) {
      if (IsPunct(sym)) {
        Advance();
        NodePtr rhs = ParseSum();
        if (!rhs) return nullptr;
        return Binary(op, std::move(lhs), std::move(rhs));
      }
    }
    bool negated = false;
    if (IsWord("not")) {
      negated = true;
      Advance();
      if (!IsWord("in")) return Fail(tok_.pos, "expected 'in' after 'not'");
    }
    if (IsWord("in")) return ParseIn(std::move(lhs), negated);
    return lhs;
  }

  NodePtr ParseIn(NodePtr lhs, bool negated) {
    Advance();
    if (!IsPunct("[")) return Fail(tok_.pos, "expected '[' after 'in'");
    Advance();
    NodePtr n = Make(negated ? ExprOp::kNotIn : ExprOp::kIn, lhs->pos);
    n->args.push_back(std::move(lhs));
    while (!IsPunct("]")) {
      NodePtr item = ParseUnary();
      if (!item) return nullptr;
      if (item->op != ExprOp::kLiteral) {
        return Fail(item->pos, "the list after 'in' may hold only literals");
      }
      n->args.push_back(std::move(item));
      if (IsPunct(",")) {
        Advance();
      } else if (!IsPunct("]")) {
        return Fail(tok_.pos, "expected ',' or ']' in the list");
      }
    }
    Advance();
    return n;
  }

  NodePtr ParseSum() {
    Level level(&depth_);
    NodePtr lhs = ParseProduct();
    while (lhs && (IsPunct("+") || IsPunct("-"))) {
      if (!Deeper()) return nullptr;
      ExprOp op = tok_.text == "+" ? ExprOp::kAdd : ExprOp::kSub;
      Advance();
      NodePtr rhs = ParseProduct();
      if (!rhs) return nullptr;
      lhs = Binary(op, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  NodePtr ParseProduct() {
    Level level(&depth_);
    NodePtr lhs = ParseUnary();
    while (lhs && (IsPunct("*") || IsPunct("/") || IsPunct("%"))) {
      if (!Deeper()) return nullptr;
      ExprOp op = tok_.text == "*" ? ExprOp::kMul : tok_.text == "/" ? ExprOp::kDiv : ExprOp::kMod;
      Advance();
      NodePtr rhs = ParseUnary();
      if (!rhs) return nullptr;
      lhs = Binary(op, std::move(lhs), std::move(rhs));
    }
    return lhs;
  }

  NodePtr ParseUnary() {
    if (IsPunct("-")) {
      Level level(&depth_);
      if (!Deeper()) return nullptr;
      size_t pos = tok_.pos;
      Advance();
      NodePtr inner = ParseUnary();
      if (!inner) return nullptr;
      if (inner->op == ExprOp::kLiteral && inner->literal.is_number()) {
        inner->literal.num = -inner->literal.num;
        inner->pos = pos;
        return inner;
      }
      NodePtr n = Make(ExprOp::kNeg, pos);
      n->args.push_back(std::move(inner));
      return n;
    }
    return ParsePrimary();
  }

  NodePtr Literal(Type type, Value v) {
    NodePtr n = Make(ExprOp::kLiteral, tok_.pos);
    n->literal_type = type;
    n->literal = v;
    n->text = std::string(tok_.text);
    Advance();
    return n;
  }

  NodePtr ParsePrimary() {
    switch (tok_.kind) {
      case Tok::kNumber:
        return Literal(Type::kNumber, Value::Number(tok_.number));
      case Tok::kDuration:
        return Literal(Type::kDuration, Value::Number(tok_.number));
      case Tok::kString: {
        NodePtr n = Make(ExprOp::kLiteral, tok_.pos);
        n->literal_type = Type::kString;
        n->text = std::move(tok_.value);
        n->literal = Value::String(n->text);
        Advance();
        return n;
      }
      case Tok::kName:
        return ParseName();
      case Tok::kPunct:
        if (IsPunct("(")) {
          Level level(&depth_);
          if (!Deeper()) return nullptr;
          Advance();
          NodePtr inner = ParseOr();
          if (!inner) return nullptr;
          if (!IsPunct(")")) return Fail(tok_.pos, "expected ')'");
          Advance();
          return inner;
        }
        return Fail(tok_.pos, StrCat("unexpected '", tok_.text, "'"));
      case Tok::kEnd:
        return Fail(tok_.pos, "expected an expression");
      case Tok::kError:
        return nullptr;
    }
    return nullptr;
  }

  NodePtr ParseName() {
    if (IsWord("true")) return Literal(Type::kBool, Value::Bool(true));
    if (IsWord("false")) return Literal(Type::kBool, Value::Bool(false));
    if (IsWord("null")) return Literal(Type::kNull, Value::Null());
    static constexpr std::string_view kReserved[] = {"and", "or", "not", "in"};
    for (std::string_view w : kReserved) {
      if (IsWord(w)) return Fail(tok_.pos, StrCat("expected an expression before '", w, "'"));
    }
    NodePtr n = Make(ExprOp::kName, tok_.pos);
    n->text = std::string(tok_.text);
    Advance();
    if (!IsPunct("(")) return n;
    if (n->text.find('.') != std::string::npos) {
      return Fail(n->pos, StrCat("'", n->text, "' is not a function"));
    }
    n->op = ExprOp::kCall;
    Level level(&depth_);
    if (!Deeper()) return nullptr;
    Advance();
    while (!IsPunct(")")) {
      NodePtr arg = ParseOr();
      if (!arg) return nullptr;
      n->args.push_back(std::move(arg));
      if (IsPunct(",")) {
        Advance();
      } else if (!IsPunct(")")) {
        return Fail(tok_.pos, "expected ',' or ')' in the argument list");
      }
    }
    Advance();
    return n;
  }

  Lexer lex_;
  Token tok_;
  ExprError err_;
  bool failed_ = false;
  int depth_ = 0;
};

}  // namespace

ExprParse ParseExpr(std::string_view source) { return Parser(source).Parse(); }

namespace {
// Quoted so that ParseExpr reads the same string back.
std::string QuoteString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out.push_back(c);
    }
  }
  return out + "\"";
}
// `not` and `in` bind looser than arithmetic and comparisons: as their
// operands (or as the left side of `in`) they need parentheses to read back
// in place.
std::string Operand(const ExprNode& n, bool tight) {
  const bool loose = n.op == ExprOp::kNot || n.op == ExprOp::kIn || n.op == ExprOp::kNotIn;
  return tight && loose ? StrCat("(", ExprToString(n), ")") : ExprToString(n);
}
}  // namespace

std::string ExprToString(const ExprNode& n) {
  switch (n.op) {
    case ExprOp::kLiteral:
      if (n.literal_type == Type::kString) return QuoteString(n.text);
      if (n.literal.is_number() && n.literal_type == Type::kNumber) {
        std::string s;
        AppendValueText(n.literal, &s);
        return s;
      }
      return n.text;
    case ExprOp::kName:
      return n.text;
    case ExprOp::kCall: {
      std::string s = StrCat(n.text, "(");
      for (size_t i = 0; i < n.args.size(); ++i) {
        StrAppend(&s, i ? ", " : "", ExprToString(*n.args[i]));
      }
      return s + ")";
    }
    case ExprOp::kNeg:
      return StrCat("-(", ExprToString(*n.args[0]), ")");
    case ExprOp::kNot:
      return StrCat("not (", ExprToString(*n.args[0]), ")");
    case ExprOp::kIn:
    case ExprOp::kNotIn: {
      std::string s = StrCat(Operand(*n.args[0], true), " ", ExprOpSymbol(n.op), " [");
      for (size_t i = 1; i < n.args.size(); ++i) {
        StrAppend(&s, i > 1 ? ", " : "", ExprToString(*n.args[i]));
      }
      return s + "]";
    }
    default: {
      const bool tight = n.op != ExprOp::kAnd && n.op != ExprOp::kOr;
      return StrCat("(", Operand(*n.args[0], tight), " ", ExprOpSymbol(n.op), " ",
                    Operand(*n.args[1], tight), ")");
    }
  }
}

}  // namespace vigil
