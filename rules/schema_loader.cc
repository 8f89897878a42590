// Loading a rule file's `schema:` section: what each event field is. An
// entry gives a field's type, the range a numeric field must lie in, or
// both:
//
//   schema:
//     latency_ms: {type: number, min: 0, max: 3600000}
//     intent: string
//     cache_hit: bool
//
// A bounded field is a number (a rule that reads it as anything else is an
// error), and the event parser dead-letters a record whose value lies
// outside the range (out_of_range) before any aggregate sees it. Once any
// entry gives a type, the schema declares the events: a rule reading a
// field it does not name is an error (FieldTable::Undeclared), and one
// reading a field as another type than declared too.
#include <cerrno>
#include <cmath>
#include <limits>

#include "rules/file_loader.h"

namespace vigil {
namespace {

const std::vector<std::string> kFieldKeys = {"type", "min", "max"};

// "number", "string", "bool"; nullopt for another word.
std::optional<Type> TypeNamed(std::string_view name) {
  if (name == "number") return Type::kNumber;
  if (name == "string") return Type::kString;
  if (name == "bool" || name == "boolean") return Type::kBool;
  return std::nullopt;
}

// The `type:` of a field (or its shorthand value), or nullopt (reported).
std::optional<Type> FieldType(FileLoader& f, const YAML::Node& n, const std::string& path) {
  const std::string name = n.IsScalar() ? n.Scalar() : "";
  std::optional<Type> t = TypeNamed(name);
  if (!t) {
    f.Error(n, StrCat("field '", path, "' in 'schema': type '", name,
                      "' is not one of number, string, bool"));
  }
  return t;
}

// A finite number, or nullopt (reported).
std::optional<double> Number(FileLoader& f, const YAML::Node& n, const char* key,
                             const std::string& path) {
  const std::string text = n.IsScalar() ? n.Scalar() : "";
  char* end = nullptr;
  errno = 0;
  const double v = text.empty() ? 0 : std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(v) ||
      std::isspace(static_cast<unsigned char>(text[0]))) {
    f.Error(n, StrCat("'", key, "' of field '", path, "' must be a number, not '", text, "'"));
    return std::nullopt;
  }
  return v;
}

void LoadField(FileLoader& f, const YAML::Node& key, const YAML::Node& spec, RuleSet* rules) {
  const std::string path = key.IsScalar() ? key.Scalar() : "";
  ExprParse p = ParseExpr(path);
  if (!key.IsScalar() || !p.ok() || p.node->op != ExprOp::kName) {
    f.Error(key, StrCat("'", path, "' is not a field path (e.g. latency_ms, meta.region)"));
    return;
  }
  if (path == "ts" || path == "type") {
    f.Error(key, StrCat("'", path, "' cannot be bounded in 'schema'; only other numeric fields"));
    return;
  }
  // `intent: string`: a type alone.
  if (spec.IsScalar()) {
    std::optional<Type> t = FieldType(f, spec, path);
    if (!t) return;
    if (std::optional<std::string> err = rules->fields.Declare(path, *t)) f.Error(key, *err);
    rules->fields.SetDeclaring();
    return;
  }
  if (!spec.IsMap()) {
    f.Error(spec.IsNull() ? key : spec,
            StrCat("field '", path,
                   "' in 'schema' needs a type (number, string, bool) or a mapping with 'type', "
                   "'min' and/or 'max', e.g. {type: number, min: 0, max: 3600000}"));
    return;
  }
  f.CheckKeys(spec, kFieldKeys, StrCat("schema field '", path, "'"));
  if (!spec["type"] && !spec["min"] && !spec["max"]) {
    f.Error(spec, StrCat("field '", path, "' in 'schema' needs 'type', 'min' or 'max'"));
    return;
  }
  std::optional<Type> type = Type::kNumber;
  if (spec["type"]) {
    type = FieldType(f, spec["type"], path);
    if (!type) return;
    rules->fields.SetDeclaring();
    if (*type != Type::kNumber && (spec["min"] || spec["max"])) {
      f.Error(spec["type"], StrCat("field '", path, "' has 'min'/'max', so it is a number, not a ",
                                   TypeName(*type)));
      return;
    }
  }
  if (!spec["min"] && !spec["max"]) {
    if (std::optional<std::string> err = rules->fields.Declare(path, *type)) f.Error(key, *err);
    return;
  }
  FieldBound b{path, -1, -std::numeric_limits<double>::infinity(),
               std::numeric_limits<double>::infinity(), f.PosOf(key)};
  bool ok = true;
  if (spec["min"]) {
    std::optional<double> v = Number(f, spec["min"], "min", path);
    ok &= v.has_value();
    if (v) b.min = *v;
  }
  if (spec["max"]) {
    std::optional<double> v = Number(f, spec["max"], "max", path);
    ok &= v.has_value();
    if (v) b.max = *v;
  }
  if (!ok) return;
  if (b.min > b.max) {
    f.Error(spec, StrCat("field '", path, "' has min ", b.min, " above max ", b.max));
    return;
  }
  for (const FieldBound& other : rules->schema) {
    if (other.path == path) {
      f.Error(key, StrCat("field '", path, "' is already bounded at ", other.pos.file, ":",
                          other.pos.line, ":", other.pos.col));
      return;
    }
  }
  if (std::optional<std::string> err = rules->fields.Declare(path, Type::kNumber)) {
    f.Error(key, *err);
    return;
  }
  b.slot = rules->fields.Intern(path);
  rules->fields.SetRange(b.slot, {b.min, b.max});
  rules->schema.push_back(std::move(b));
}

}  // namespace

void LoadSchema(FileLoader& f, const YAML::Node& n, RuleSet* rules) {
  if (!n.IsMap()) {
    f.Error(n, "'schema' must be a mapping of field path: type or {type: ..., min: ..., max: ...}");
    return;
  }
  for (const auto& kv : n) LoadField(f, kv.first, kv.second, rules);
}

}  // namespace vigil
