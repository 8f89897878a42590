// Loading a rule file's `schema:` section: the range each bounded numeric
// event field must lie in, e.g.
//
//   schema:
//     latency_ms: {min: 0, max: 3600000}
//
// A bounded field is a number (a rule that reads it as anything else is an
// error), and the event parser dead-letters a record whose value lies
// outside the range (out_of_range) before any aggregate sees it.
#include <cerrno>
#include <cmath>
#include <limits>

#include "rules/file_loader.h"

namespace vigil {
namespace {

const std::vector<std::string> kBoundKeys = {"min", "max"};

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

void LoadBound(FileLoader& f, const YAML::Node& key, const YAML::Node& spec, RuleSet* rules) {
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
  if (!spec.IsMap()) {
    f.Error(spec.IsNull() ? key : spec,
            StrCat("field '", path,
                   "' in 'schema' needs a mapping with 'min' and/or 'max', "
                   "e.g. {min: 0, max: 3600000}"));
    return;
  }
  f.CheckKeys(spec, kBoundKeys, StrCat("schema field '", path, "'"));
  if (!spec["min"] && !spec["max"]) {
    f.Error(spec, StrCat("field '", path, "' in 'schema' needs 'min' and/or 'max'"));
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
  b.slot = rules->fields.Intern(path);
  if (std::optional<std::string> err = rules->fields.Expect(b.slot, Type::kNumber)) {
    f.Error(key, *err);
    return;
  }
  rules->fields.SetRange(b.slot, {b.min, b.max});
  rules->schema.push_back(std::move(b));
}

}  // namespace

void LoadSchema(FileLoader& f, const YAML::Node& n, RuleSet* rules) {
  if (!n.IsMap()) {
    f.Error(n, "'schema' must be a mapping of field path: {min: ..., max: ...}");
    return;
  }
  for (const auto& kv : n) LoadBound(f, kv.first, kv.second, rules);
}

}  // namespace vigil
