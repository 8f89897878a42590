// Template execution: the tree of template_ast.h against an alert's value
// and labels.
#include <utility>

#include "base/strings.h"
#include "rules/template.h"
#include "rules/template_ast.h"

namespace vigil {

using tmpl::Arg;
using tmpl::Command;
using tmpl::Node;
using tmpl::Pipeline;
using tmpl::TValue;

namespace {

TemplateEnv& Env() {
  static TemplateEnv* env = new TemplateEnv();
  return *env;
}

struct Data {
  double value = 0;
  const Labels* labels = nullptr;
  const Labels* external_labels = nullptr;
  std::string_view external_url;
};

class Exec {
 public:
  // `check`: every branch runs once, whatever the conditions say.
  Exec(const Data& data, bool check) : data_(data), check_(check) {}

  bool Run(const std::vector<Node>& nodes, std::string* out) {
    for (const Node& n : nodes) {
      if (!RunNode(n, out)) return false;
    }
    return true;
  }
  const ExprError& error() const { return error_; }

 private:
  struct Var {
    std::string name;
    TValue value;
  };

  bool Fail(size_t pos, std::string msg) {
    error_ = {pos, std::move(msg)};
    return false;
  }

  bool RunNode(const Node& n, std::string* out) {
    const size_t mark = vars_.size();
    bool ok = true;
    switch (n.kind) {
      case Node::Kind::kText:
        out->append(n.text);
        break;
      case Node::Kind::kAction: {
        TValue v;
        ok = EvalPipeline(n.pipe, &v);
        if (ok && n.pipe.decl.empty()) {
          if (v.kind == TValue::Kind::kNil) {
            out->append("<no value>");
          } else {
            tmpl::AppendValue(v, out);
          }
        }
        return ok;  // its declarations stay in scope
      }
      case Node::Kind::kIf:
      case Node::Kind::kWith:
        ok = RunBranches(n, out);
        break;
      case Node::Kind::kRange:
        ok = RunRange(n, out);
        break;
    }
    vars_.resize(mark);
    return ok;
  }

  bool RunBranches(const Node& n, std::string* out) {
    const bool with = n.kind == Node::Kind::kWith;
    bool taken = false;
    for (const auto& [cond, body] : n.branches) {
      TValue v;
      if (!EvalPipeline(cond, &v)) return false;
      if (!check_ && !tmpl::Truth(v)) continue;
      if (!RunBody(body, with ? &v : nullptr, out)) return false;
      taken = true;
      if (!check_) return true;
    }
    if (!taken || check_) return RunBody(n.else_body, nullptr, out);
    return true;
  }

  // `body` with '.' set to `dot` (unchanged when null).
  bool RunBody(const std::vector<Node>& body, const TValue* dot, std::string* out) {
    const size_t mark = vars_.size();
    const TValue saved = dot_;
    const bool saved_root = dot_root_;
    if (dot) dot_ = *dot, dot_root_ = false;
    const bool ok = Run(body, out);
    dot_ = saved;
    dot_root_ = saved_root;
    vars_.resize(mark);
    return ok;
  }

  bool RunRange(const Node& n, std::string* out) {
    Pipeline head = n.pipe;
    std::vector<std::string> names = std::move(head.decl);
    head.decl.clear();
    TValue v;
    if (!EvalPipeline(head, &v)) return false;
    if (v.kind != TValue::Kind::kMap) {
      return Fail(n.pipe.pos, StrCat("range can't iterate over ", tmpl::TypeName(v)));
    }
    const Labels empty_sample = {{"", ""}};
    const Labels& m = v.map->empty() && check_ ? empty_sample : *v.map;
    for (const auto& [key, value] : m) {
      const size_t mark = vars_.size();
      const TValue element = TValue::String(value);
      if (names.size() == 1) vars_.push_back({names[0], element});
      if (names.size() == 2) {
        vars_.push_back({names[0], TValue::String(key)});
        vars_.push_back({names[1], element});
      }
      const bool ok = RunBody(n.body, &element, out);
      vars_.resize(mark);
      if (!ok) return false;
      if (check_) break;
    }
    if (v.map->empty() || check_) return RunBody(n.else_body, nullptr, out);
    return true;
  }

  bool EvalPipeline(const Pipeline& p, TValue* out) {
    TValue piped;
    for (size_t i = 0; i < p.cmds.size(); ++i) {
      if (!EvalCommand(p.cmds[i], i > 0 ? &piped : nullptr, &piped)) return false;
    }
    if (p.assign) {
      for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
        if (it->name == p.decl[0]) {
          it->value = piped;
          break;
        }
      }
    } else if (!p.decl.empty()) {
      vars_.push_back({p.decl[0], piped});
    }
    *out = std::move(piped);
    return true;
  }

  bool EvalCommand(const Command& cmd, const TValue* piped, TValue* out) {
    const Arg& head = cmd.args.front();
    if (head.kind != Arg::Kind::kFunction) return EvalArg(head, out);
    std::vector<TValue> args;
    args.reserve(cmd.args.size());
    const bool logic = head.name == "and" || head.name == "or";
    for (size_t i = 1; i < cmd.args.size(); ++i) {
      TValue a;
      if (!EvalArg(cmd.args[i], &a)) return false;
      args.push_back(std::move(a));
      // and/or stop at the first argument that decides (as Go's do).
      if (logic && !check_ && !piped && tmpl::Truth(args.back()) != (head.name == "and")) break;
    }
    if (piped) args.push_back(*piped);
    std::string error;
    if (!tmpl::CallFunc(head.name, args, out, &error)) return Fail(head.pos, error);
    return true;
  }

  bool Lookup(const TValue& map, const std::string& key, TValue* out) {
    auto it = map.map->find(key);
    *out = TValue::String(it == map.map->end() ? "" : it->second);
    return true;
  }

  // `fields` applied to the alert itself (the root).
  bool RootFields(const Arg& a, const std::vector<std::string>& fields, TValue* out) {
    if (fields.empty()) {
      return Fail(a.pos, "the alert itself cannot be printed; use .Value or .Labels");
    }
    const std::string& f = fields[0];
    TValue v;
    if (f == "Value") {
      v = TValue::Number(data_.value);
    } else if (f == "Labels") {
      v = TValue::Map(data_.labels);
    } else if (f == "ExternalLabels") {
      v = TValue::Map(data_.external_labels);
    } else if (f == "ExternalURL") {
      v = TValue::String(std::string(data_.external_url));
    } else {
      return Fail(a.pos, StrCat("can't evaluate field ", f, " of an alert"));
    }
    return Fields(a, v, std::vector<std::string>(fields.begin() + 1, fields.end()), out);
  }

  bool Fields(const Arg& a, TValue v, const std::vector<std::string>& fields, TValue* out) {
    for (const std::string& f : fields) {
      if (v.kind != TValue::Kind::kMap) {
        return Fail(a.pos, StrCat("can't evaluate field ", f, " in type ", tmpl::TypeName(v)));
      }
      Lookup(v, f, &v);
    }
    *out = std::move(v);
    return true;
  }

  bool EvalArg(const Arg& a, TValue* out) {
    switch (a.kind) {
      case Arg::Kind::kLiteral:
        *out = a.literal;
        return true;
      case Arg::Kind::kDot:
        if (dot_root_) return RootFields(a, {}, out);
        *out = dot_;
        return true;
      case Arg::Kind::kField:
        if (dot_root_) return RootFields(a, a.fields, out);
        return Fields(a, dot_, a.fields, out);
      case Arg::Kind::kVariable:
        return EvalVariable(a, out);
      case Arg::Kind::kPipeline:
        return EvalPipeline(*a.pipe, out);
      case Arg::Kind::kFunction: {
        // A function as an argument runs with no arguments of its own.
        Command c{a.pos, {a}};
        return EvalCommand(c, nullptr, out);
      }
    }
    return false;
  }

  bool EvalVariable(const Arg& a, TValue* out) {
    for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
      if (it->name != a.name) continue;
      return Fields(a, it->value, a.fields, out);
    }
    TValue v;
    if (a.name.empty()) return RootFields(a, a.fields, out);
    if (a.name == "value") {
      v = TValue::Number(data_.value);
    } else if (a.name == "labels") {
      v = TValue::Map(data_.labels);
    } else if (a.name == "externalLabels") {
      v = TValue::Map(data_.external_labels);
    } else if (a.name == "externalURL") {
      v = TValue::String(std::string(data_.external_url));
    } else {
      return Fail(a.pos, StrCat("undefined variable \"$", a.name, "\""));
    }
    return Fields(a, v, a.fields, out);
  }

  const Data data_;
  const bool check_;
  std::vector<Var> vars_;
  TValue dot_;
  bool dot_root_ = true;
  ExprError error_;
};

}  // namespace

void SetTemplateEnv(TemplateEnv env) { Env() = std::move(env); }
const TemplateEnv& GetTemplateEnv() { return Env(); }

std::optional<Template> Template::Parse(std::string_view text,
                                        const std::vector<std::string>& known_labels,
                                        ExprError* err) {
  Template t;
  t.source_ = std::string(text);
  t.known_labels_ = known_labels;
  auto root = std::make_shared<std::vector<Node>>();
  if (!tmpl::ParseTemplate(text, known_labels, root.get(), err)) return std::nullopt;
  t.root_ = std::move(root);
  if (std::optional<ExprError> e = t.Check()) {
    *err = *e;
    return std::nullopt;
  }
  return t;
}

std::optional<ExprError> Template::Check() const {
  Labels sample;
  // Numbers, so that label values may go through humanize and friends.
  for (const std::string& l : known_labels_) sample.emplace(l, std::string(1, '1'));
  const Labels external;
  Exec exec({1, &sample, &external, "http://vigil.example"}, /*check=*/true);
  std::string out;
  if (!exec.Run(*root_, &out)) return exec.error();
  return std::nullopt;
}

std::string Template::Render(double value, const Labels& labels) const {
  const TemplateEnv& env = GetTemplateEnv();
  Exec exec({value, &labels, &env.external_labels, env.external_url}, /*check=*/false);
  std::string out;
  if (!exec.Run(*root_, &out)) {
    return StrCat("<error expanding template: ", exec.error().message, ">");
  }
  return out;
}

}  // namespace vigil
