// rules/file_loader.h
//
// The shared machinery of loading one rule file (internal to rules/): exact
// `file:line:col:` positions of YAML nodes and of offsets inside scalars
// (quoted, escaped, block), diagnostics, key checking with suggestions, and
// compiling one expression scalar against a scope.
//
// Example:
//   FileLoader f("rules.yaml", content, &errors);
//   f.CheckKeys(node, {"metric", "window"}, "metric");
//   CompileExpr(f, node["where"], &scope, Type::kBool, &program);
#ifndef VIGIL_RULES_FILE_LOADER_H_
#define VIGIL_RULES_FILE_LOADER_H_

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "base/time.h"
#include "rules/expr_compiler.h"
#include "rules/rule_set.h"
#include "rules/scopes.h"
#include "rules/yaml_keys.h"

namespace vigil {

inline bool ValidLabelName(std::string_view s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// One file being loaded: its text (for exact positions) and its diagnostics.
class FileLoader {
 public:
  FileLoader(std::string name, std::string_view content, std::vector<Diagnostic>* errors)
      : name_(std::move(name)), content_(content), errors_(errors) {}

  SourcePos PosOf(const YAML::Node& n) const {
    YAML::Mark m = n.Mark();
    if (m.line < 0) return built_at_ ? *built_at_ : SourcePos{name_, 1, 1};
    return {name_, m.line + 1, m.column + 1};
  }

  // While it lives, nodes built by the loader (an SLO's alerts), which have
  // no position in the file, are reported at `at` (what they were built
  // from) instead of 1:1.
  class BuiltAt {
   public:
    BuiltAt(FileLoader& f, const SourcePos& at) : f_(f), saved_(f.built_at_) { f.built_at_ = at; }
    ~BuiltAt() { f_.built_at_ = saved_; }
    BuiltAt(const BuiltAt&) = delete;
    BuiltAt& operator=(const BuiltAt&) = delete;

   private:
    FileLoader& f_;
    std::optional<SourcePos> saved_;
  };

  void Error(const YAML::Node& n, std::string msg) {
    errors_->push_back({PosOf(n), std::move(msg), false});
  }

  // Reports an error at byte `offset` of the text of scalar `n`.
  void ErrorAt(const YAML::Node& n, size_t offset, std::string msg) {
    errors_->push_back({PosInScalar(n, offset), std::move(msg), false});
  }

  // Checks that a mapping holds only `allowed` keys; reports the others.
  void CheckKeys(const YAML::Node& map, const std::vector<std::string>& allowed,
                 std::string_view what) {
    NoteKeyList(allowed);
    for (const auto& kv : map) {
      const std::string key = kv.first.Scalar();
      if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
      if (key == "<<") {
        Error(kv.first,
              "YAML merge keys ('<<') are not supported: repeat the fields, or make the whole "
              "entry an anchor (&name) and list its alias (*name)");
        misspelt_.emplace(map.Mark().pos, "");  // any field may be in what it merges
        continue;
      }
      std::string s = Suggest(key, allowed);
      Error(kv.first, StrCat("unknown field '", key, "' in ", what,
                             s.empty() ? StrCat("; allowed: ", StrJoin(allowed, ", "))
                                       : StrCat("; did you mean '", s, "'?")));
      if (!s.empty()) misspelt_.emplace(map.Mark().pos, s);
    }
  }

  // A required or optional scalar string field.
  std::optional<std::string> Scalar(const YAML::Node& map, const char* key, bool required,
                                    std::string_view what) {
    YAML::Node n = map[key];
    if (!n) {
      // One mistake, one error: a misspelt key said what it meant.
      if (required && !misspelt_.contains({map.Mark().pos, key}) &&
          !misspelt_.contains({map.Mark().pos, ""})) {
        const bool vowel = std::string_view("aeiou").find(key[0]) != std::string_view::npos;
        Error(map, StrCat(what, vowel ? " needs an '" : " needs a '", key, "' field"));
      }
      return std::nullopt;
    }
    if (!n.IsScalar()) {
      // An empty value's position is the next token's, lines further on
      // maybe: point at the key instead.
      Error(n.IsNull() ? KeyNode(map, key) : n, StrCat("'", key, "' must be a single value"));
      return std::nullopt;
    }
    return n.Scalar();
  }

  const std::string& name() const { return name_; }

  // The key node `key` of `map` (for its position), or `map` without it.
  static YAML::Node KeyNode(const YAML::Node& map, std::string_view key) {
    for (const auto& kv : map) {
      if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.first;
    }
    return map;
  }

  // Where byte `offset` of the text of scalar `n` is in the file.
  SourcePos PosInScalar(const YAML::Node& n, size_t offset) const {
    SourcePos base = PosOf(n);
    const std::string& text = n.Scalar();
    YAML::Mark m = n.Mark();
    if (m.pos < 0) return base;
    const bool quoted = n.Tag() == "!";
    const size_t start = static_cast<size_t>(m.pos) + (quoted ? 1 : 0);
    if (text.find('\n') == std::string::npos && content_.substr(start, text.size()) == text) {
      base.col += static_cast<int>(offset) + (quoted ? 1 : 0);
      return base;
    }
    const size_t open = static_cast<size_t>(m.pos);
    if (quoted && text.find('\n') == std::string::npos && open < content_.size() &&
        (content_[open] == '"' || content_[open] == '\'')) {
      // A one-line quoted scalar with escapes: the file text is longer.
      const size_t raw = RawOffset(start, content_[open], offset);
      if (raw != std::string_view::npos) base.col += static_cast<int>(raw - open);
      return base;
    }
    const bool folded = static_cast<size_t>(m.pos) < content_.size() && content_[m.pos] == '>';
    if (folded || (!quoted && text.find('\n') == std::string::npos)) {
      // Folded (`>`) or a plain scalar over several lines: each line break
      // and the indentation after it is one space of the text.
      if (std::optional<SourcePos> pos = PosInFolded(static_cast<size_t>(m.pos), text, offset)) {
        return *pos;
      }
      return base;
    }
    // Block scalar: find the expression's line in the file text.
    // An error at the end of the input points just after the last token, not
    // into the trailing newline.
    const size_t last = text.find_last_not_of(" \t\n");
    offset = std::min(offset, last == std::string::npos ? 0 : last + 1);
    std::vector<std::string_view> lines = StrSplit(text, '\n');
    size_t consumed = 0, k = 0;
    while (k + 1 < lines.size() && consumed + lines[k].size() < offset) {
      consumed += lines[k].size() + 1;
      ++k;
    }
    if (lines[k].empty()) return base;
    // Each line is searched after the previous one: a line may repeat text
    // of the line before it.
    size_t search = static_cast<size_t>(m.pos), at = search;
    for (size_t i = 0; i <= k; ++i) {
      if (lines[i].empty()) continue;
      at = content_.find(lines[i], search);
      if (at == std::string_view::npos) return base;
      search = at + lines[i].size();
    }
    int line = 1 + static_cast<int>(std::count(content_.begin(), content_.begin() + at, '\n'));
    size_t line_start = content_.rfind('\n', at == 0 ? 0 : at - 1);
    line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
    return {name_, line, static_cast<int>(at - line_start + offset - consumed) + 1};
  }

 private:
  // Byte `offset` of the text of a folded or multi-line plain scalar whose
  // file text starts at `raw` (at its `>` header, if any): the text read
  // along the file, a line break and the indentation after it standing for
  // one space (or a newline, for an empty line). Nullopt if they part.
  std::optional<SourcePos> PosInFolded(size_t raw, const std::string& text, size_t offset) const {
    size_t f = raw;
    if (f < content_.size() && content_[f] == '>') {
      f = content_.find('\n', f);
      if (f == std::string_view::npos) return std::nullopt;
      ++f;
    }
    for (size_t i = 0; i < offset && i < text.size();) {
      if (f >= content_.size()) return std::nullopt;
      const char c = content_[f];
      if (c == text[i] || (c == '\n' && text[i] == ' ')) {
        ++f;
        ++i;
      } else if (c == ' ' || c == '\t' || c == '\r') {
        ++f;  // indentation the text does not have
      } else {
        return std::nullopt;
      }
    }
    while (f < content_.size() && (content_[f] == ' ' || content_[f] == '\t')) ++f;
    const int line = 1 + static_cast<int>(std::count(content_.begin(), content_.begin() + f, '\n'));
    size_t line_start = f == 0 ? std::string_view::npos : content_.rfind('\n', f - 1);
    line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
    return SourcePos{name_, line, static_cast<int>(f - line_start) + 1};
  }

  // The file offset of byte `offset` of a one-line quoted scalar whose text
  // starts at file offset `raw`, undoing YAML's escapes; npos if the scalar
  // does not end on its line.
  size_t RawOffset(size_t raw, char quote, size_t offset) const {
    size_t cooked = 0;
    while (cooked < offset) {
      if (raw >= content_.size() || content_[raw] == '\n') return std::string_view::npos;
      const char c = content_[raw];
      if (quote == '\'' && c == '\'' && raw + 1 < content_.size() && content_[raw + 1] == '\'') {
        raw += 2;
        cooked += 1;
      } else if (quote == '"' && c == '\\' && raw + 1 < content_.size()) {
        const char e = content_[raw + 1];
        const size_t hex = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : 0;
        size_t bytes = 1;
        if (hex > 0) {
          // \x, \u and \U escapes become the UTF-8 bytes of a code point.
          const unsigned long cp =
              std::strtoul(std::string(content_.substr(raw + 2, hex)).c_str(), nullptr, 16);
          bytes = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        }
        raw += 2 + hex;
        cooked += bytes;
      } else {
        raw += 1;
        cooked += 1;
      }
    }
    return raw;
  }

  std::string name_;
  std::optional<SourcePos> built_at_;
  std::string_view content_;
  std::vector<Diagnostic>* errors_;
  // Mappings (by offset) with an unknown key that said which one it meant
  // ("" for a merge key: any): that key's absence is not reported again.
  std::set<std::pair<int, std::string>> misspelt_;
};

struct Pending {
  FileLoader* file;
  YAML::Node node;
};

inline bool CompileExpr(FileLoader& f, const YAML::Node& scalar, ExprScope* scope, Type want,
                        Program* out) {
  ExprParse parsed = ParseExpr(scalar.Scalar());
  if (!parsed.ok()) {
    f.ErrorAt(scalar, parsed.error.pos, parsed.error.message);
    return false;
  }
  ExprError err;
  if (!ExprCompiler(scope).Compile(*parsed.node, want, out, &err)) {
    f.ErrorAt(scalar, err.pos, err.message);
    return false;
  }
  return true;
}

inline std::string Canonical(std::string_view source) {
  ExprParse p = ParseExpr(source);
  return p.ok() ? ExprToString(*p.node) : std::string(source);
}

// Canonical, with every duration in one spelling (`120s` and `2m` both
// `2m`): what an alert's definition compares (AlertDef::fingerprint).
// Only there: the other definitions' keys keep Canonical's form, which
// checkpoints hold.
inline void SpellDurations(ExprNode* n) {
  if (n->op == ExprOp::kLiteral && n->literal_type == Type::kDuration && n->literal.is_number()) {
    n->text = FormatDuration(static_cast<DurationMs>(n->literal.num));
  }
  for (auto& arg : n->args) SpellDurations(arg.get());
}
inline std::string CanonicalMeaning(std::string_view source) {
  ExprParse p = ParseExpr(source);
  if (!p.ok()) return std::string(source);
  SpellDurations(p.node.get());
  return ExprToString(*p.node);
}

// Checks the name of a definition (`kind` is "metric" or "stream") at
// `node`: a valid label name not already defined (`first`: the earlier
// definition's position, if any). Reports and returns false otherwise.
inline bool CheckDefinitionName(FileLoader& f, const YAML::Node& node, std::string_view kind,
                                const std::string& name, const SourcePos* first) {
  if (!ValidLabelName(name)) {
    f.Error(node, StrCat(kind, " name '", name,
                         "' must be letters, digits and '_' (not starting with a digit)"));
    return false;
  }
  // The expression language's words: no expression could name it.
  for (std::string_view word : {"true", "false", "null", "and", "or", "not", "in"}) {
    if (name != word) continue;
    f.Error(node, StrCat(kind, " name '", name, "' is a word of the expression language (",
                         "true, false, null, and, or, not, in): no expression could name it"));
    return false;
  }
  if (first != nullptr) {
    f.Error(node, StrCat(kind, " '", name, "' is already defined at ", first->file, ":",
                         first->line, ":", first->col));
    return false;
  }
  return true;
}

// Reads an optional `limit:` of a metric or stream (`what`: "groups" or
// "open sessions") into `*limit`: a whole number from 1 to 2^31 - 1.
// Reports and returns false otherwise.
inline bool LoadLimit(FileLoader& f, const YAML::Node& map, std::string_view what, int64_t* limit) {
  YAML::Node n = map["limit"];
  if (!n) return true;
  const std::string text = n.IsScalar() ? n.Scalar() : "";
  char* end = nullptr;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || !std::isdigit(static_cast<unsigned char>(text[0])) || v < 1 ||
      v > 2147483647) {
    f.Error(n, StrCat("'limit' must be a whole number from 1 to 2147483647 (the most ", what,
                      " at once), not '", text, "'"));
    return false;
  }
  *limit = v;
  return true;
}

// The checks every emitted field of a stream or join shares
// (rules/stream_loader.cc): its name is a label name not yet taken in
// `s` (whose records always carry their key and `builtin`, e.g. duration_ms)
// and its expression a scalar (`example` shows one). Fills e->name, pos and
// source; false after reporting the error.
bool StartEmit(FileLoader& f, const YAML::Node& name, const YAML::Node& expr, const StreamDef& s,
               std::string_view builtin, std::string_view example, EmitDef* e);

// The label a stream's `key:` or a join's `on:` path gets in its records
// (dots become '_': user.id -> user_id), or nothing after reporting that it
// is a name every record already carries: `ts`, or `builtin` (duration_ms,
// delay_ms, which holds `builtin_is`).
std::optional<std::string> KeyLabel(FileLoader& f, const YAML::Node& key, const std::string& path,
                                    std::string_view builtin, std::string_view builtin_is);

// Once every rule is loaded (rules/stream_loader.cc): an emitted field that
// passes an event field on (`first(x)`, `last(x)` in a stream, `left.x`,
// `right.x` in a join) has that field's type. Read as another type
// downstream, it is an error at the emit; read as a type the event field
// has no expectation of yet, the event field gets it, so that an event the
// rules cannot read is dead-lettered as wrong_type, as for a direct read.
void CheckPassedOnTypes(RuleSet* rules, std::vector<Diagnostic>* errors);

// Loads one `streams:` entry (rules/stream_loader.cc).
void LoadStream(FileLoader& f, const YAML::Node& n, RuleSet* rules);
// Loads one `joins:` entry (rules/join_loader.cc).
void LoadJoin(FileLoader& f, const YAML::Node& n, RuleSet* rules);
// Loads one `outputs:` entry (rules/output_loader.cc).
void LoadOutput(FileLoader& f, const YAML::Node& n, RuleSet* rules);
// Loads a file's `schema:` section (rules/schema_loader.cc): bounds on
// numeric event fields, into rules->schema and the field table.
void LoadSchema(FileLoader& f, const YAML::Node& n, RuleSet* rules);
// Loads one `silences:` entry (rules/silence_loader.cc).
void LoadSilence(FileLoader& f, const YAML::Node& n, RuleSet* rules);
// Loads one `metrics:` entry (rules/metric_loader.cc) or `alerts:` entry
// (rules/alert_loader.cc).
void LoadMetric(FileLoader& f, const YAML::Node& n, RuleSet* rules);
void LoadAlert(FileLoader& f, const YAML::Node& n, RuleSet* rules);
// Once every metric is loaded (SLOs' included): two metrics whose names on
// /metrics are the same (`lat_ms` with `unit: milliseconds` and
// `lat_seconds`) would overwrite each other's series there; an error at
// the second (rules/metric_loader.cc).
void CheckExportedNames(const RuleSet& rules, std::vector<Diagnostic>* errors);
// An alert's `inhibited_by:` (rules/inhibition_loader.cc), read with the
// alert; the names are resolved, and rings of alerts that inhibit each
// other reported, once every alert is loaded (ResolveInhibitions).
void LoadInhibitions(FileLoader& f, const YAML::Node& n, AlertDef* a);
void ResolveInhibitions(RuleSet* rules, std::vector<Diagnostic>* errors);
// Loads one `slos:` entry (rules/slo_loader.cc) into rules->slos and the
// metrics and alerts it compiles to; after every metric, before alerts.
void LoadSlo(FileLoader& f, const YAML::Node& n, RuleSet* rules);
// Loads one `experiments:` entry (rules/experiment_loader.cc) into
// rules->experiments and the metrics it compiles to; after every metric and
// SLO, before alerts (which may read its outputs).
void LoadExperiment(FileLoader& f, const YAML::Node& n, RuleSet* rules);
// Loads one `trackers:` entry (rules/tracker_loader.cc); after every metric.
void LoadTracker(FileLoader& f, const YAML::Node& n, RuleSet* rules);

}  // namespace vigil

#endif  // VIGIL_RULES_FILE_LOADER_H_
