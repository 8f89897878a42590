#include "rules/yaml_keys.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "base/strings.h"

namespace vigil {
namespace {

DuplicateKey::Pos PosOf(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  return {m.line + 1, m.column + 1};
}

// `visited`: the containers walked, by where they start. An alias is the
// node of its anchor, at the anchor's position, so each is walked once: a
// file of nested aliases (a "billion laughs") costs its size, not its
// expansion.
void Walk(const YAML::Node& n, std::vector<DuplicateKey>* out,
          absl::flat_hash_set<std::pair<int, int>>* visited) {
  if (!n.IsSequence() && !n.IsMap()) return;
  const DuplicateKey::Pos at = PosOf(n);
  if (!visited->insert({at.line, at.col}).second) return;
  if (n.IsSequence()) {
    for (const YAML::Node& item : n) Walk(item, out, visited);
    return;
  }
  absl::flat_hash_map<std::string, DuplicateKey::Pos> seen;
  for (const auto& kv : n) {
    if (kv.first.IsScalar()) {
      const std::string& key = kv.first.Scalar();
      const DuplicateKey::Pos pos = PosOf(kv.first);
      auto [it, fresh] = seen.try_emplace(key, pos);
      if (!fresh) out->push_back({key, it->second, pos});
    }
    Walk(kv.second, out, visited);
  }
}

}  // namespace

std::vector<DuplicateKey> FindDuplicateKeys(const YAML::Node& root) {
  std::vector<DuplicateKey> out;
  absl::flat_hash_set<std::pair<int, int>> visited;
  Walk(root, &out, &visited);
  return out;
}

std::string DuplicateKeyMessage(const DuplicateKey& d) {
  return StrCat("duplicate key '", d.key, "': it is also at line ", d.first.line, ", column ",
                d.first.col, "; the keys of a mapping must be unique: merge the two");
}

absl::Status DuplicateKeysError(const std::string& file, const YAML::Node& root) {
  std::string text;
  for (const DuplicateKey& d : FindDuplicateKeys(root)) {
    StrAppend(&text, text.empty() ? "" : "\n", file, ":", d.second.line, ":", d.second.col, ": ",
              DuplicateKeyMessage(d));
  }
  return text.empty() ? absl::OkStatus() : absl::InvalidArgumentError(text);
}

namespace {
std::vector<std::vector<std::string>>* g_key_lists = nullptr;
}  // namespace

void NoteKeyList(const std::vector<std::string>& allowed) {
  if (g_key_lists != nullptr) g_key_lists->push_back(allowed);
}

void RecordKeyLists(std::vector<std::vector<std::string>>* into) { g_key_lists = into; }

std::optional<KeyError> FindKeyError(const YAML::Node& map, const std::vector<std::string>& allowed,
                                     std::string_view where) {
  NoteKeyList(allowed);
  if (!map.IsMap()) return KeyError{map, StrCat("'", where, "' must be a mapping")};
  for (const auto& kv : map) {
    const std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const std::string close = Suggest(key, allowed);
    return KeyError{kv.first,
                    StrCat("unknown key '", key, "' in ", where,
                           close.empty() ? StrCat(" (allowed: ", StrJoin(allowed, ", "), ")")
                                         : StrCat("; did you mean '", close, "'?"))};
  }
  return std::nullopt;
}

}  // namespace vigil
