// rules/template_ast.h
//
// The inside of rules/template.h: the values a template computes with, the
// parsed tree, and the function table. Parsing is in template_parse.cc,
// execution in template_exec.cc, the functions in template_funcs.cc.
//
// Example:
//   std::vector<tmpl::Node> root;
//   ExprError err;
//   tmpl::ParseTemplate("{{ if gt $value 1.0 }}high{{ end }}", {}, &root, &err);
#ifndef VIGIL_RULES_TEMPLATE_AST_H_
#define VIGIL_RULES_TEMPLATE_AST_H_

#include <cstddef>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rules/expr_parser.h"

namespace vigil::tmpl {

using Labels = std::map<std::string, std::string>;

// A value as Go's templates see it. Maps are the label sets, borrowed
// from the execution's data.
struct TValue {
  enum class Kind { kNil, kBool, kNumber, kString, kMap };
  Kind kind = Kind::kNil;
  bool b = false;
  double n = 0;
  std::string s;
  const Labels* map = nullptr;

  static TValue Bool(bool v) {
    TValue t;
    t.kind = Kind::kBool;
    t.b = v;
    return t;
  }
  static TValue Number(double v) {
    TValue t;
    t.kind = Kind::kNumber;
    t.n = v;
    return t;
  }
  static TValue String(std::string v) {
    TValue t;
    t.kind = Kind::kString;
    t.s = std::move(v);
    return t;
  }
  static TValue Map(const Labels* m) {
    TValue t;
    t.kind = Kind::kMap;
    t.map = m;
    return t;
  }
};

// Go's truth: false, 0, "", an empty map and nil are false.
bool Truth(const TValue& v);
// Go's type names, for messages: float64, string, bool, map[string]string.
const char* TypeName(const TValue& v);
// Go's %v: 0.25, 1.5e+06, NaN, +Inf; map[a:b c:d]; <nil>.
void AppendValue(const TValue& v, std::string* out);
// Go's strconv.FormatFloat(v, 'g', -1, 64).
void AppendGoFloat(double v, std::string* out);
// Go's fmt.Sprintf with %v %s %q %t %d %x %X %e %E %f %F %g %G %%, flags,
// width and precision; a number under %d prints rounded. Mismatches print
// as Go does: %!s(float64=1.5), %!d(MISSING), %!(EXTRA string=x).
std::string GoPrintf(std::string_view format, std::span<const TValue> args);

struct Pipeline;

// One operand of a command.
struct Arg {
  enum class Kind {
    kDot,       // .
    kField,     // .Labels.intent: fields = {"Labels", "intent"}
    kVariable,  // $labels.intent: name = "labels", fields = {"intent"}; "$" has name ""
    kLiteral,   // "text", 0.5, true, nil
    kFunction,  // humanize: name
    kPipeline,  // ( … )
  };
  Kind kind = Kind::kLiteral;
  size_t pos = 0;
  std::string name;
  std::vector<std::string> fields;
  TValue literal;
  std::shared_ptr<Pipeline> pipe;
};

struct Command {
  size_t pos = 0;
  std::vector<Arg> args;
};

struct Pipeline {
  size_t pos = 0;
  std::vector<std::string> decl;  // $x := … (or $k, $v := in range), without the '$'
  bool assign = false;            // $x = … (decl holds one name)
  std::vector<Command> cmds;
};

struct Node {
  enum class Kind { kText, kAction, kIf, kWith, kRange };
  Kind kind = Kind::kText;
  size_t pos = 0;
  std::string text;  // kText
  Pipeline pipe;     // kAction, kRange
  // kIf and kWith: each condition with its body ("else if" / "else with"
  // add more); `else_body` runs when none holds. kRange: `body` per
  // element, `else_body` when empty.
  std::vector<std::pair<Pipeline, std::vector<Node>>> branches;
  std::vector<Node> body;
  std::vector<Node> else_body;
};

// Parses `text`; `known_labels` are the labels $labels.x and .Labels.x may
// name. On error, `err` holds the byte offset and message.
bool ParseTemplate(std::string_view text, const std::vector<std::string>& known_labels,
                   std::vector<Node>* out, ExprError* err);

// The function table.
struct FuncInfo {
  const char* name;
  int min_args;
  int max_args;  // -1: any number
};
const FuncInfo* FindFunc(std::string_view name);
std::vector<std::string> FuncNames();
// Prometheus functions that need a query engine or the wall clock; named
// in the error so that a pasted template says why it cannot run here.
bool IsUnsupportedPrometheusFunc(std::string_view name);

// Calls `name` (known to FindFunc) with `args`. On error, `*error` is the
// message ("humanize: \"abc\" is not a number").
bool CallFunc(std::string_view name, std::span<const TValue> args, TValue* out, std::string* error);

// Checks a regular expression's syntax (RE2, as Go's regexp): "" if fine.
std::string RegexError(std::string_view pattern);

}  // namespace vigil::tmpl

#endif  // VIGIL_RULES_TEMPLATE_AST_H_
