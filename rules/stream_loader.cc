// Loading `streams:` entries: session windows per key and the fields each
// closed session emits.
#include <algorithm>

#include "rules/file_loader.h"

namespace vigil {

std::optional<int> RuleSet::FindStream(std::string_view name) const {
  for (size_t i = 0; i < streams.size(); ++i) {
    if (streams[i].name == name) return static_cast<int>(i);
  }
  return std::nullopt;
}

namespace {

const std::vector<std::string> kStreamKeys = {"stream", "help", "where", "key",
                                              "window", "emit", "limit"};

// "session 30m" -> the gap.
std::optional<DurationMs> ParseSessionWindow(FileLoader& f, const YAML::Node& n) {
  std::vector<std::string_view> words;
  for (std::string_view w : StrSplit(n.Scalar(), ' ')) {
    if (!w.empty()) words.push_back(w);
  }
  if (!words.empty() && (words[0] == "tumbling" || words[0] == "sliding")) {
    f.Error(n, StrCat("a stream's window is a session window, e.g. 'session 30m'; ",
                      std::string(words[0]), " windows belong to metrics"));
    return std::nullopt;
  }
  if (words.size() != 2 || words[0] != "session") {
    f.Error(n, StrCat("bad stream window '", n.Scalar(),
                      "': write 'session GAP', e.g. 'session 30m' (a session ends after GAP "
                      "without events of its key)"));
    return std::nullopt;
  }
  std::optional<DurationMs> gap = ParseDuration(words[1]);
  if (!gap || *gap <= 0) {
    f.Error(n, StrCat("bad session gap '", std::string(words[1]),
                      "': a positive duration such as 30m or 7d"));
    return std::nullopt;
  }
  return gap;
}

bool LoadEmit(FileLoader& f, const YAML::Node& name, const YAML::Node& expr, RuleSet* rules,
              StreamDef* s) {
  EmitDef e;
  if (!StartEmit(f, name, expr, *s, "duration_ms", "count()", &e)) return false;
  ValueScope scope(&rules->fields, &e.aggregates, ValueScope::Mode::kSession);
  ExprParse parsed = ParseExpr(e.source);
  if (!parsed.ok()) {
    f.ErrorAt(expr, parsed.error.pos, parsed.error.message);
    return false;
  }
  ExprError err;
  if (!ExprCompiler(&scope).Compile(*parsed.node, Type::kAny, &e.value, &err, &e.type)) {
    f.ErrorAt(expr, err.pos, err.message);
    return false;
  }
  if (e.aggregates.empty()) {
    f.Error(expr, StrCat("field '", e.name, "' needs an aggregate over the session's events, ",
                         "e.g. count(), any(type == \"escalation\") or first(intent)"));
    return false;
  }
  const int slot = s->fields.Intern(e.name);
  if (e.type != Type::kAny) s->fields.Expect(slot, e.type);
  s->emit.push_back(std::move(e));
  return true;
}

}  // namespace

bool StartEmit(FileLoader& f, const YAML::Node& name, const YAML::Node& expr, const StreamDef& s,
               std::string_view builtin, std::string_view example, EmitDef* e) {
  e->name = name.Scalar();
  e->pos = f.PosOf(name);
  if (!ValidLabelName(e->name)) {
    f.Error(name, StrCat("field name '", e->name,
                         "' must be letters, digits and '_' (not starting with a digit)"));
    return false;
  }
  if (e->name == "ts") {
    f.Error(name, StrCat("'ts' is not an emitted field: every record carries its ts (its event "
                         "time); name the field otherwise, e.g. '",
                         s.kind == StreamKind::kJoin ? "left_ts" : "last_ts", "'"));
    return false;
  }
  if (s.fields.Find(e->name)) {
    const bool carried = e->name == builtin || e->name == s.fields.path(kStreamKeySlot);
    f.Error(name, StrCat(s.kind == StreamKind::kJoin ? "join '" : "stream '", s.name,
                         "' already has a field '", e->name, "'",
                         carried ? StrCat(" (every record carries its key and ", builtin, ")")
                                 : std::string()));
    return false;
  }
  if (!expr.IsScalar()) {
    f.Error(expr, StrCat("field '", e->name, "' must be an expression, e.g. ", example));
    return false;
  }
  e->source = expr.Scalar();
  return true;
}

std::optional<std::string> KeyLabel(FileLoader& f, const YAML::Node& key, const std::string& path,
                                    std::string_view builtin, std::string_view builtin_is) {
  std::string label = path;
  std::replace(label.begin(), label.end(), '.', '_');
  if (label == "ts" || label == builtin) {
    f.Error(key, StrCat("the key '", path, "' would be the field '", label,
                        "' of every record, which already carries '", label, "' (",
                        label == "ts" ? std::string_view("its event time") : builtin_is,
                        "); key by another field"));
    return std::nullopt;
  }
  return label;
}

namespace {

// The event field path an emitted field passes on unchanged, or "".
std::string PassedOnPath(const StreamDef& s, const EmitDef& e) {
  ExprParse p = ParseExpr(e.source);
  if (!p.ok()) return "";
  const ExprNode* n = p.node.get();
  if (s.kind == StreamKind::kJoin) {
    if (n->op != ExprOp::kName) return "";
    for (std::string_view side : {"left.", "right."}) {
      if (n->text.starts_with(side) && n->text != StrCat(side, "ts")) {
        return n->text.substr(side.size());
      }
    }
    return "";
  }
  if (n->op != ExprOp::kCall || (n->text != "first" && n->text != "last") || n->args.size() != 1 ||
      n->args[0]->op != ExprOp::kName) {
    return "";
  }
  return n->args[0]->text;
}

}  // namespace

void CheckPassedOnTypes(RuleSet* rules, std::vector<Diagnostic>* errors) {
  for (StreamDef& s : rules->streams) {
    for (const EmitDef& e : s.emit) {
      const std::string path = PassedOnPath(s, e);
      const std::optional<int> event_slot = path.empty() ? std::nullopt : rules->fields.Find(path);
      const std::optional<int> slot = s.fields.Find(e.name);
      if (!event_slot || !slot) continue;
      const Type read = s.fields.expected(*slot);
      if (read == Type::kAny) continue;
      if (std::optional<std::string> err = rules->fields.Expect(*event_slot, read)) {
        errors->push_back(
            {e.pos,
             StrCat("field '", e.name, "' of ", s.kind == StreamKind::kJoin ? "join '" : "stream '",
                    s.name, "' is ", e.source, ", and the rules read it as a ", TypeName(read),
                    ": ", *err),
             false});
      }
    }
  }
}

void LoadStream(FileLoader& f, const YAML::Node& n, RuleSet* rules) {
  if (!n.IsMap()) {
    f.Error(n,
            "each entry of 'streams' must be a mapping with 'stream', 'key', 'window' and "
            "'emit'");
    return;
  }
  f.CheckKeys(n, kStreamKeys, "stream");
  StreamDef s;
  std::optional<std::string> name = f.Scalar(n, "stream", true, "a stream");
  if (!name) return;
  s.name = *name;
  s.pos = f.PosOf(n["stream"]);
  const std::optional<int> dup = rules->FindStream(s.name);
  if (!CheckDefinitionName(f, n["stream"], "stream", s.name,
                           dup ? &rules->streams[*dup].pos : nullptr)) {
    return;
  }
  // Until it is added at the end, it failed (with its errors reported).
  rules->failed_streams.insert(s.name);
  bool ok = true;
  if (std::optional<std::string> help = f.Scalar(n, "help", false, "a stream")) s.help = *help;
  ok &= LoadLimit(f, n, "open sessions", &s.limit);
  if (n["where"] && f.Scalar(n, "where", false, "a stream")) {
    EventScope scope(&rules->fields);
    ok &= CompileExpr(f, n["where"], &scope, Type::kBool, &s.where);
    s.has_where = true;
    s.where_source = n["where"].Scalar();
  }
  std::string key_label;
  if (std::optional<std::string> key = f.Scalar(n, "key", true, "a stream")) {
    ExprParse p = ParseExpr(*key);
    if (!p.ok() || p.node->op != ExprOp::kName) {
      f.Error(n["key"], StrCat("'", *key, "' is not a field path (e.g. session_id, user.id)"));
      ok = false;
    } else if (std::optional<std::string> undeclared = rules->fields.Undeclared(*key)) {
      f.Error(n["key"], *undeclared);
      ok = false;
    } else if (std::optional<std::string> label =
                   KeyLabel(f, n["key"], *key, "duration_ms", "the session's length")) {
      s.key_path = *key;
      s.key_slot = rules->fields.Intern(*key);
      key_label = *label;
    } else {
      ok = false;
    }
  } else {
    ok = false;
  }
  if (std::optional<std::string> w = f.Scalar(n, "window", true, "a stream")) {
    std::optional<DurationMs> gap = ParseSessionWindow(f, n["window"]);
    ok &= gap.has_value();
    s.gap = gap.value_or(0);
  } else {
    ok = false;
  }
  if (!ok) return;
  s.fields.Intern(key_label);                                      // kStreamKeySlot
  s.fields.Expect(s.fields.Intern("duration_ms"), Type::kNumber);  // kStreamDurationSlot
  YAML::Node emit = n["emit"];
  if (!emit || !emit.IsMap() || emit.size() == 0) {
    f.Error(emit ? emit : n,
            "a stream needs 'emit': a mapping of field: aggregate expression, "
            "e.g. turns: count(type == \"message\")");
    return;
  }
  for (const auto& kv : emit) ok &= LoadEmit(f, kv.first, kv.second, rules, &s);
  if (!ok) return;
  std::vector<std::string> emits;
  for (const EmitDef& e : s.emit) emits.push_back(StrCat(e.name, "=", Canonical(e.source)));
  s.fingerprint = StrCat(s.name, "|", Canonical(s.where_source), "|", s.key_path, "|", s.gap, "|",
                         StrJoin(emits, ";"));
  rules->failed_streams.erase(s.name);
  rules->streams.push_back(std::move(s));
}

}  // namespace vigil
