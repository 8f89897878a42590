// The template parser: text and {{ actions }} into the tree of
// template_ast.h, with every static mistake reported at its position.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <set>

#include "base/strings.h"
#include "rules/scopes.h"
#include "rules/template_ast.h"
#include "rules/template_lexer.h"

namespace vigil::tmpl {
namespace {

// Builds the tree from the items, checking names as it goes.
class Parser {
 public:
  Parser(std::vector<Item> items, const std::vector<std::string>& known_labels, ExprError* err)
      : items_(std::move(items)), known_labels_(known_labels), err_(err) {
    scopes_.push_back({"", "value", "labels", "externalLabels", "externalURL"});
  }

  bool Parse(std::vector<Node>* out) {
    std::string stop;
    if (!List(out, &stop)) return false;
    if (!stop.empty()) return Fail(stop_pos_, StrCat("unexpected {{", stop, "}}"));
    return true;
  }

 private:
  bool Fail(size_t pos, std::string msg) {
    *err_ = {pos, std::move(msg)};
    return false;
  }

  // Nodes up to an {{end}} or {{else …}} (named in `*stop`, its tokens
  // left in `stop_tokens_`), or the end of the template (`*stop` empty).
  bool List(std::vector<Node>* out, std::string* stop) {
    while (next_ < items_.size()) {
      Item& item = items_[next_++];
      if (!item.action) {
        Node text;
        text.pos = item.pos;
        text.text = std::move(item.text);
        out->push_back(std::move(text));
        continue;
      }
      const Token& first = item.tokens.front();
      const std::string kw = first.kind == Tok::kIdent ? first.name : "";
      if (kw == "end" || kw == "else") {
        *stop = kw;
        stop_pos_ = item.pos;
        stop_tokens_ = std::move(item.tokens);
        return true;
      }
      if (kw == "if" || kw == "with" || kw == "range") {
        Node n;
        if (!Control(kw, item, &n)) return false;
        out->push_back(std::move(n));
        continue;
      }
      if (kw == "define" || kw == "template" || kw == "block" || kw == "break" ||
          kw == "continue") {
        return Fail(first.pos, StrCat("'", kw, "' is not supported in annotation templates"));
      }
      Node n;
      n.kind = Node::Kind::kAction;
      n.pos = item.pos;
      if (!ParsePipeline(item.tokens, 0, false, &n.pipe)) return false;
      out->push_back(std::move(n));
    }
    return true;
  }

  // {{if}}, {{with}} or {{range}} through its {{end}}. Variables declared
  // in its conditions are visible to its end (as in Go); those declared in
  // a body, to the end of that body.
  bool Control(const std::string& kw, const Item& item, Node* n) {
    n->kind = kw == "if" ? Node::Kind::kIf : kw == "with" ? Node::Kind::kWith : Node::Kind::kRange;
    n->pos = item.pos;
    scopes_.emplace_back();
    const bool ok = ControlBranches(kw, item.tokens, n);
    scopes_.pop_back();
    return ok;
  }

  bool Body(bool rebinds_dot, std::vector<Node>* body, std::string* stop) {
    if (rebinds_dot) ++dot_depth_;
    scopes_.emplace_back();
    const bool ok = List(body, stop);
    scopes_.pop_back();
    if (rebinds_dot) --dot_depth_;
    return ok;
  }

  bool ControlBranches(const std::string& kw, std::vector<Token> head, Node* n) {
    const size_t open_pos = n->pos;
    const std::string unclosed = StrCat("{{", kw, "}} without a matching {{end}}");
    while (true) {
      Pipeline cond;
      if (head.size() < 2) return Fail(head.front().pos, StrCat("missing value for ", kw));
      if (!ParsePipeline(head, 1, kw == "range", &cond)) return false;
      std::vector<Node> body;
      std::string stop;
      if (!Body(kw != "if", &body, &stop)) return false;
      if (stop.empty()) return Fail(open_pos, unclosed);
      if (kw == "range") {
        n->pipe = std::move(cond);
        n->body = std::move(body);
      } else {
        n->branches.emplace_back(std::move(cond), std::move(body));
      }
      if (stop == "end") return End();
      // {{else}}, {{else if …}} or {{else with …}}.
      if (stop_tokens_.size() >= 2 && stop_tokens_[1].kind == Tok::kIdent &&
          stop_tokens_[1].name == kw && kw != "range") {
        head.assign(stop_tokens_.begin() + 1, stop_tokens_.end());
        continue;
      }
      if (stop_tokens_.size() > 1) {
        return Fail(stop_tokens_[1].pos, StrCat("unexpected '", TokText(stop_tokens_[1]),
                                                "' after else in {{", kw, "}}"));
      }
      if (!Body(false, &n->else_body, &stop)) return false;
      if (stop.empty()) return Fail(open_pos, unclosed);
      if (stop != "end")
        return Fail(stop_pos_, StrCat("a second {{else}} in the same {{", kw, "}}"));
      return End();
    }
  }

  bool End() {
    if (stop_tokens_.size() > 1) {
      return Fail(stop_tokens_[1].pos, "unexpected words after {{end}}");
    }
    return true;
  }

  static std::string TokText(const Token& t) {
    switch (t.kind) {
      case Tok::kIdent:
        return t.name;
      case Tok::kVar:
        return "$" + t.name;
      case Tok::kPipe:
        return "|";
      case Tok::kLParen:
        return "(";
      case Tok::kRParen:
        return ")";
      case Tok::kDeclare:
        return ":=";
      case Tok::kAssign:
        return "=";
      case Tok::kComma:
        return ",";
      case Tok::kField:
        return "." + StrJoin(t.fields, ".");
      case Tok::kLiteral:
        return "literal";
    }
    return "?";
  }

  bool Defined(const std::string& name) const {
    for (const auto& s : scopes_) {
      if (s.contains(name)) return true;
    }
    return false;
  }

  // tokens[from..] as a pipeline, with an optional declaration.
  bool ParsePipeline(const std::vector<Token>& t, size_t from, bool range, Pipeline* p) {
    p->pos = t[from].pos;
    size_t i = from;
    // $x := …, $x = …, or (range) $k, $v := …
    size_t j = i;
    std::vector<std::string> names;
    while (j < t.size() && t[j].kind == Tok::kVar && t[j].fields.empty()) {
      names.push_back(t[j].name);
      ++j;
      if (j < t.size() && t[j].kind == Tok::kComma && range && names.size() == 1) {
        ++j;
        continue;
      }
      break;
    }
    if (!names.empty() && j < t.size() &&
        (t[j].kind == Tok::kDeclare || t[j].kind == Tok::kAssign)) {
      if (t[j].kind == Tok::kAssign) {
        if (names.size() != 1) return Fail(t[j].pos, "only one variable can be assigned");
        if (!Defined(names[0])) {
          return Fail(t[i].pos, StrCat("undefined variable \"$", names[0], "\""));
        }
        p->assign = true;
      }
      p->decl = names;
      i = j + 1;
      if (i >= t.size()) return Fail(t[j].pos, "missing value after the declaration");
    }
    size_t end = 0;
    if (!Commands(t, i, &end, p)) return false;
    if (end != t.size()) return Fail(t[end].pos, StrCat("unexpected '", TokText(t[end]), "'"));
    if (!p->assign) {
      for (const std::string& name : p->decl) scopes_.back().insert(name);
    }
    return true;
  }

  // Commands separated by '|' from t[i] to the end or a ')'.
  bool Commands(const std::vector<Token>& t, size_t i, size_t* end, Pipeline* p) {
    while (true) {
      Command cmd;
      cmd.pos = i < t.size() ? t[i].pos : t.back().pos;
      while (i < t.size() && t[i].kind != Tok::kPipe && t[i].kind != Tok::kRParen) {
        Arg a;
        if (!Operand(t, &i, &a)) return false;
        cmd.args.push_back(std::move(a));
      }
      if (cmd.args.empty()) {
        return Fail(cmd.pos, p->cmds.empty() ? "missing value" : "missing command after '|'");
      }
      if (!CheckCommand(cmd, !p->cmds.empty())) return false;
      p->cmds.push_back(std::move(cmd));
      if (i < t.size() && t[i].kind == Tok::kPipe) {
        ++i;
        if (i >= t.size() || t[i].kind == Tok::kRParen) {
          return Fail(t[i - 1].pos, "missing command after '|'");
        }
        continue;
      }
      *end = i;
      return true;
    }
  }

  bool CheckCommand(const Command& cmd, bool piped) {
    const Arg& head = cmd.args.front();
    if (head.kind != Arg::Kind::kFunction) {
      if (cmd.args.size() > 1) {
        return Fail(cmd.args[1].pos,
                    "a value cannot take arguments; only a function can (e.g. printf \"%.1f\" "
                    "$value)");
      }
      if (piped) return Fail(head.pos, "only a function can follow '|'");
      return true;
    }
    const FuncInfo* f = FindFunc(head.name);
    const int n = static_cast<int>(cmd.args.size()) - 1 + (piped ? 1 : 0);
    if (n < f->min_args || (f->max_args >= 0 && n > f->max_args)) {
      const std::string want = f->max_args == f->min_args ? StrCat(f->min_args)
                               : f->max_args < 0          ? StrCat("at least ", f->min_args)
                                                 : StrCat(f->min_args, " to ", f->max_args);
      return Fail(head.pos, StrCat("wrong number of arguments for ", head.name, ": want ", want,
                                   ", got ", n));
    }
    // A literal regular expression is checked now.
    if ((head.name == "reReplaceAll" || head.name == "match") && cmd.args.size() > 1 &&
        cmd.args[1].kind == Arg::Kind::kLiteral &&
        cmd.args[1].literal.kind == TValue::Kind::kString) {
      if (std::string e = RegexError(cmd.args[1].literal.s); !e.empty()) {
        return Fail(cmd.args[1].pos, StrCat(head.name, ": bad regular expression: ", e));
      }
    }
    return true;
  }

  bool Operand(const std::vector<Token>& t, size_t* i, Arg* a) {
    const Token& tok = t[*i];
    a->pos = tok.pos;
    switch (tok.kind) {
      case Tok::kLiteral:
        a->kind = Arg::Kind::kLiteral;
        a->literal = tok.literal;
        ++*i;
        return true;
      case Tok::kVar:
        a->kind = Arg::Kind::kVariable;
        a->name = tok.name;
        a->fields = tok.fields;
        ++*i;
        return CheckVariable(*a);
      case Tok::kField:
        a->kind = tok.fields.empty() ? Arg::Kind::kDot : Arg::Kind::kField;
        a->fields = tok.fields;
        ++*i;
        return CheckField(*a);
      case Tok::kIdent:
        a->kind = Arg::Kind::kFunction;
        a->name = tok.name;
        ++*i;
        return CheckFunction(*a);
      case Tok::kLParen: {
        a->kind = Arg::Kind::kPipeline;
        a->pipe = std::make_shared<Pipeline>();
        a->pipe->pos = tok.pos;
        size_t end = 0;
        if (*i + 1 >= t.size()) return Fail(tok.pos, "unclosed '('");
        if (!Commands(t, *i + 1, &end, a->pipe.get())) return false;
        if (end >= t.size() || t[end].kind != Tok::kRParen) return Fail(tok.pos, "unclosed '('");
        *i = end + 1;
        return true;
      }
      default:
        return Fail(tok.pos, StrCat("unexpected '", TokText(tok), "'"));
    }
  }

  bool CheckFunction(const Arg& a) {
    if (FindFunc(a.name)) return true;
    if (a.name == "if" || a.name == "else" || a.name == "end" || a.name == "range" ||
        a.name == "with") {
      return Fail(a.pos, StrCat("'", a.name, "' must start its action: {{ ", a.name, " … }}"));
    }
    if (IsUnsupportedPrometheusFunc(a.name)) {
      return Fail(a.pos, StrCat("function '", a.name,
                                "' needs Prometheus' query engine or wall clock, which annotation "
                                "templates here do not have"));
    }
    std::string msg = StrCat("unknown function '", a.name, "'");
    if (std::string s = Suggest(a.name, FuncNames()); !s.empty()) {
      StrAppend(&msg, "; did you mean '", s, "'?");
    }
    return Fail(a.pos, msg);
  }

  bool CheckLabel(const Arg& a, const std::string& label) {
    if (std::find(known_labels_.begin(), known_labels_.end(), label) != known_labels_.end()) {
      return true;
    }
    std::string msg = StrCat("label '", label, "' is not among this alert's labels (",
                             StrJoin(known_labels_, ", "), ")");
    if (std::string s = Suggest(label, known_labels_); !s.empty()) {
      StrAppend(&msg, "; did you mean '", s, "'?");
    }
    return Fail(a.pos, msg);
  }

  bool CheckVariable(const Arg& a) {
    if (!Defined(a.name)) {
      std::string msg = StrCat("undefined variable \"$", a.name, "\"");
      std::vector<std::string> all;
      for (const auto& s : scopes_) {
        for (const std::string& v : s) {
          if (!v.empty()) all.push_back(v);
        }
      }
      if (std::string s = Suggest(a.name, all); !s.empty()) {
        StrAppend(&msg, "; did you mean '$", s, "'?");
      }
      return Fail(a.pos, msg);
    }
    if (a.name == "labels" && !a.fields.empty()) {
      if (a.fields.size() > 1) return Fail(a.pos, "a label's value has no fields");
      return CheckLabel(a, a.fields[0]);
    }
    if ((a.name == "value" || a.name == "externalURL") && !a.fields.empty()) {
      return Fail(a.pos, StrCat("$", a.name, " has no field '", a.fields[0], "'"));
    }
    if (a.name == "externalLabels" && a.fields.size() > 1) {
      return Fail(a.pos, "a label's value has no fields");
    }
    return true;
  }

  // .Value, .Labels.x, .ExternalLabels.x, .ExternalURL while the dot is
  // the alert (outside range and with).
  bool CheckField(const Arg& a) {
    if (dot_depth_ > 0 || a.fields.empty()) return true;
    const std::string& f = a.fields[0];
    if (f == "Labels" || f == "ExternalLabels") {
      if (a.fields.size() > 2) return Fail(a.pos, "a label's value has no fields");
      if (f == "Labels" && a.fields.size() == 2) return CheckLabel(a, a.fields[1]);
      return true;
    }
    if (f == "Value" || f == "ExternalURL") {
      if (a.fields.size() > 1)
        return Fail(a.pos, StrCat(".", f, " has no field '", a.fields[1], "'"));
      return true;
    }
    std::string msg = StrCat("unknown field '.", f,
                             "'; an alert has .Value, .Labels, .ExternalLabels and .ExternalURL");
    if (std::string s = Suggest(f, {"Value", "Labels", "ExternalLabels", "ExternalURL"});
        !s.empty()) {
      msg = StrCat("unknown field '.", f, "'; did you mean '.", s, "'?");
    }
    return Fail(a.pos, msg);
  }

  std::vector<Item> items_;
  const std::vector<std::string>& known_labels_;
  ExprError* err_;
  size_t next_ = 0;
  size_t stop_pos_ = 0;
  std::vector<Token> stop_tokens_;
  std::vector<std::set<std::string>> scopes_;
  int dot_depth_ = 0;  // inside range/with, where '.' is no longer the alert
};

}  // namespace

bool ParseTemplate(std::string_view text, const std::vector<std::string>& known_labels,
                   std::vector<Node>* out, ExprError* err) {
  std::vector<Item> items;
  if (!LexTemplate(text, &items, err)) return false;
  return Parser(std::move(items), known_labels, err).Parse(out);
}

}  // namespace vigil::tmpl
