// Loading `joins:` entries: interval joins of two sides of the events by a
// key, and the fields each pair (or unmatched left event) emits.
#include <algorithm>

#include "rules/file_loader.h"

namespace vigil {

namespace {

const std::vector<std::string> kJoinKeys = {"join",   "help", "left", "right", "on",
                                            "within", "kind", "emit", "limit", "unmatched_right"};

// Names in a join's `emit:` are left.FIELD, right.FIELD, left.ts and
// right.ts; the one call is matched(). Each distinct name gets one slot of
// the pair (JoinDef::inputs).
class JoinScope : public ExprScope {
 public:
  JoinScope(FieldTable* events, JoinDef* join) : events_(events), join_(join) {}

  std::optional<Resolved> ResolveName(const ExprNode& name, ExprError* err) override {
    const std::string& text = name.text;
    const bool left = text.rfind("left.", 0) == 0;
    const bool right = text.rfind("right.", 0) == 0;
    if (!left && !right) {
      *err = {name.pos, StrCat("'", text, "' is not a side's field: write left.", text,
                               " or right.", text, " (a join's emit reads both events)")};
      return std::nullopt;
    }
    const std::string path = text.substr(left ? 5 : 6);
    PairInput in;
    if (path == "ts") {
      in.kind = left ? PairInput::Kind::kLeftTs : PairInput::Kind::kRightTs;
      return Resolved{Slot(in), Type::kNumber};
    }
    if (std::optional<std::string> undeclared = events_->Undeclared(path)) {
      *err = {name.pos, *undeclared};
      return std::nullopt;
    }
    in.kind = left ? PairInput::Kind::kLeftField : PairInput::Kind::kRightField;
    in.event_slot = events_->Intern(path);
    in.path = path;
    return Resolved{Slot(in), events_->expected(in.event_slot)};
  }

  std::optional<Resolved> ResolveCall(const ExprNode& call, ExprError* err) override {
    if (call.text == "matched") {
      if (!call.args.empty()) {
        *err = {call.pos, "matched() takes no arguments"};
        return std::nullopt;
      }
      return Resolved{Slot({PairInput::Kind::kMatched, -1, {}}), Type::kBool};
    }
    *err = {call.pos,
            StrCat("unknown function '", call.text,
                   "' in a join's emit; it reads left.FIELD, right.FIELD, left.ts, right.ts and "
                   "matched() (aggregate the join's records in a metric with from:)")};
    return std::nullopt;
  }

  std::optional<std::string> Expect(int slot, Type type) override {
    const PairInput& in = join_->inputs[static_cast<size_t>(slot)];
    switch (in.kind) {
      case PairInput::Kind::kLeftField:
      case PairInput::Kind::kRightField:
        return events_->Expect(in.event_slot, type);
      case PairInput::Kind::kLeftTs:
      case PairInput::Kind::kRightTs:
        if (type == Type::kAny || type == Type::kNumber) return std::nullopt;
        return StrCat("an event's ts is a number (epoch milliseconds), used here as a ",
                      TypeName(type));
      case PairInput::Kind::kMatched:
        if (type == Type::kAny || type == Type::kBool) return std::nullopt;
        return StrCat("matched() is a boolean, used here as a ", TypeName(type));
    }
    return std::nullopt;
  }

 private:
  int Slot(const PairInput& in) {
    auto& inputs = join_->inputs;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i].kind == in.kind && inputs[i].event_slot == in.event_slot) {
        return static_cast<int>(i);
      }
    }
    inputs.push_back(in);
    return static_cast<int>(inputs.size() - 1);
  }

  FieldTable* events_;
  JoinDef* join_;
};

// A signed duration: "0", "24h", "-1m".
std::optional<DurationMs> ParseSignedDuration(std::string_view s) {
  if (s == "0") return 0;
  const bool negative = !s.empty() && s[0] == '-';
  std::optional<DurationMs> d = ParseDuration(negative ? s.substr(1) : s);
  if (!d) return std::nullopt;
  return negative ? -*d : *d;
}

// The most a join's bound may span: a year, so state stays bounded by
// something a person meant.
constexpr DurationMs kMaxJoinSpan = 366LL * 24 * 3600 * 1000;

// "24h after" -> [0, 24h]; "5m before" -> [-5m, 0]; "-1m .. 24h" -> [-1m, 24h].
bool ParseWithin(FileLoader& f, const YAML::Node& n, JoinDef* j) {
  const std::string& text = n.Scalar();
  std::vector<std::string_view> words;
  for (std::string_view w : StrSplit(text, ' ')) {
    if (!w.empty()) words.push_back(w);
  }
  const std::string usage =
      "write 'D after' (right.ts in [left.ts, left.ts + D]), 'D before' (right.ts in "
      "[left.ts - D, left.ts]) or 'A .. B' (right.ts - left.ts in [A, B], e.g. -1m .. 24h)";
  std::optional<DurationMs> lower, upper;
  if (words.size() == 2 && (words[1] == "after" || words[1] == "before")) {
    std::optional<DurationMs> d = ParseDuration(words[0]);
    if (!d || *d < 0) {
      f.Error(n, StrCat("bad join bound '", std::string(words[0]), "': a duration such as 24h"));
      return false;
    }
    lower = words[1] == "after" ? 0 : -*d;
    upper = words[1] == "after" ? *d : 0;
  } else if (words.size() == 3 && words[1] == "..") {
    lower = ParseSignedDuration(words[0]);
    upper = ParseSignedDuration(words[2]);
    if (!lower || !upper) {
      f.Error(n, StrCat("bad join bound '", text, "': ", usage));
      return false;
    }
    if (*lower > *upper) {
      f.Error(n, StrCat("join bound '", text,
                        "' is empty: the first end must not be after the "
                        "second"));
      return false;
    }
  } else {
    f.Error(n, StrCat("bad join bound '", text, "': ", usage));
    return false;
  }
  if (*upper - *lower > kMaxJoinSpan) {
    f.Error(n, StrCat("join bound '", text,
                      "' spans more than 366d; a join holds each event "
                      "that long"));
    return false;
  }
  j->lower = *lower;
  j->upper = *upper;
  return true;
}

// `left:` or `right:`: a mapping with an optional `where:` over events.
bool LoadSide(FileLoader& f, const YAML::Node& n, const char* side, RuleSet* rules, bool* has_where,
              Program* where, std::string* source) {
  YAML::Node s = n[side];
  if (!s) {
    f.Error(n, StrCat("a join needs '", side, "': the events of that side, e.g. ", side,
                      ": {where: type == \"",
                      std::string_view(side) == "left" ? "message" : "feedback", "\"}"));
    return false;
  }
  if (s.IsNull()) return true;  // every event with the key
  if (!s.IsMap()) {
    f.Error(s, StrCat("'", side, "' must be a mapping, e.g. {where: type == \"message\"}"));
    return false;
  }
  f.CheckKeys(s, {"where"}, StrCat("a join's ", side));
  if (!s["where"]) return true;
  if (!f.Scalar(s, "where", false, "a join side")) return false;
  EventScope scope(&rules->fields);
  *has_where = true;
  *source = s["where"].Scalar();
  return CompileExpr(f, s["where"], &scope, Type::kBool, where);
}

bool LoadJoinEmit(FileLoader& f, const YAML::Node& name, const YAML::Node& expr, RuleSet* rules,
                  StreamDef* s) {
  EmitDef e;
  if (!StartEmit(f, name, expr, *s, "delay_ms", "left.intent", &e)) return false;
  JoinScope scope(&rules->fields, &s->join);
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
  const int slot = s->fields.Intern(e.name);
  if (e.type != Type::kAny) s->fields.Expect(slot, e.type);
  s->emit.push_back(std::move(e));
  return true;
}

// The join's `on:`: a field path both sides carry. Sets the stream's key
// and `label`, the key's name in the joined records.
bool LoadJoinKey(FileLoader& f, const YAML::Node& n, RuleSet* rules, StreamDef* s,
                 std::string* label) {
  std::optional<std::string> key = f.Scalar(n, "on", true, "a join");
  if (!key) return false;
  ExprParse p = ParseExpr(*key);
  if (!p.ok() || p.node->op != ExprOp::kName) {
    f.Error(n["on"], StrCat("'", *key,
                            "' is not a field path (e.g. turn_id); both sides are "
                            "joined on it"));
    return false;
  }
  if (std::optional<std::string> undeclared = rules->fields.Undeclared(*key)) {
    f.Error(n["on"], *undeclared);
    return false;
  }
  std::optional<std::string> l = KeyLabel(f, n["on"], *key, "delay_ms", "right.ts - left.ts");
  if (!l) return false;
  s->key_path = *key;
  s->key_slot = rules->fields.Intern(*key);
  *label = *l;
  return true;
}

// `kind:` (inner or left) and `unmatched_right:` (count or dead_letter).
bool LoadJoinKind(FileLoader& f, const YAML::Node& n, JoinDef* j) {
  bool ok = true;
  if (std::optional<std::string> kind = f.Scalar(n, "kind", false, "a join")) {
    if (*kind != "inner" && *kind != "left") {
      f.Error(n["kind"], StrCat("a join's kind is 'inner' (pairs only) or 'left' (also each left "
                                "event no right matched), not '",
                                *kind, "'"));
      ok = false;
    }
    j->keep_unmatched_left = *kind == "left";
  }
  if (std::optional<std::string> u = f.Scalar(n, "unmatched_right", false, "a join")) {
    if (*u != "count" && *u != "dead_letter") {
      f.Error(n["unmatched_right"],
              StrCat("unmatched_right is 'count' (vigil_join_unmatched_total only) or "
                     "'dead_letter' (also to the dead-letter output), not '",
                     *u, "'"));
      ok = false;
    }
    j->dead_letter_unmatched_right = *u == "dead_letter";
  }
  return ok;
}

}  // namespace

void LoadJoin(FileLoader& f, const YAML::Node& n, RuleSet* rules) {
  if (!n.IsMap()) {
    f.Error(n,
            "each entry of 'joins' must be a mapping with 'join', 'left', 'right', 'on', "
            "'within' and 'emit'");
    return;
  }
  f.CheckKeys(n, kJoinKeys, "join");
  StreamDef s;
  s.kind = StreamKind::kJoin;
  s.limit = kDefaultJoinLimit;
  std::optional<std::string> name = f.Scalar(n, "join", true, "a join");
  if (!name) return;
  s.name = *name;
  s.pos = f.PosOf(n["join"]);
  const std::optional<int> dup = rules->FindStream(s.name);
  if (!CheckDefinitionName(f, n["join"], "join", s.name,
                           dup ? &rules->streams[*dup].pos : nullptr)) {
    return;
  }
  // Until it is added at the end, it failed (with its errors reported).
  rules->failed_streams.insert(s.name);
  bool ok = true;
  if (std::optional<std::string> help = f.Scalar(n, "help", false, "a join")) s.help = *help;
  ok &= LoadLimit(f, n, "events waiting for a match", &s.limit);
  JoinDef& j = s.join;
  ok &= LoadSide(f, n, "left", rules, &j.has_left_where, &j.left_where, &j.left_where_source);
  ok &= LoadSide(f, n, "right", rules, &j.has_right_where, &j.right_where, &j.right_where_source);
  std::string key_label;
  ok &= LoadJoinKey(f, n, rules, &s, &key_label);
  if (f.Scalar(n, "within", true, "a join")) {
    ok &= ParseWithin(f, n["within"], &j);
  } else {
    ok = false;
  }
  ok &= LoadJoinKind(f, n, &j);
  if (!ok) return;
  s.fields.Intern(key_label);                                   // kStreamKeySlot
  s.fields.Expect(s.fields.Intern("delay_ms"), Type::kNumber);  // kJoinDelaySlot
  YAML::Node emit = n["emit"];
  if (!emit || !emit.IsMap() || emit.size() == 0) {
    f.Error(emit ? emit : n,
            "a join needs 'emit': a mapping of field: expression over the pair, e.g. "
            "{intent: left.intent, rating: right.rating, rated: matched()}");
    return;
  }
  for (const auto& kv : emit) ok &= LoadJoinEmit(f, kv.first, kv.second, rules, &s);
  if (!ok) return;
  std::vector<std::string> emits;
  for (const EmitDef& e : s.emit) emits.push_back(StrCat(e.name, "=", Canonical(e.source)));
  s.fingerprint =
      StrCat("join|", s.name, "|", Canonical(j.left_where_source), "|",
             Canonical(j.right_where_source), "|", s.key_path, "|", j.lower, "|", j.upper, "|",
             j.keep_unmatched_left ? "left" : "inner", "|", StrJoin(emits, ";"));
  rules->failed_streams.erase(s.name);
  rules->streams.push_back(std::move(s));
}

}  // namespace vigil
