// rules/yaml_keys.h
//
// Keys given twice in one YAML mapping. yaml-cpp loads them without a word
// and a lookup then sees only one of the two, so a rule, job or test file
// with two `alerts:` keys would silently lose a whole section. Every loader
// reports them as errors with both positions.
//
// Example:
//   for (const DuplicateKey& d : FindDuplicateKeys(YAML::Load(text))) {
//     Report(d.second, StrCat("duplicate key '", d.key, "' (first at ",
//                             d.first.line, ":", d.first.col, ")"));
//   }
#ifndef VIGIL_RULES_YAML_KEYS_H_
#define VIGIL_RULES_YAML_KEYS_H_

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace vigil {

struct DuplicateKey {
  std::string key;
  struct Pos {
    int line = 0;  // 1-based
    int col = 0;   // 1-based
  };
  Pos first;   // where the key first appears in its mapping
  Pos second;  // a later occurrence (one entry per repetition)
};

// Every repeated scalar key of every mapping in `root`, in document order.
std::vector<DuplicateKey> FindDuplicateKeys(const YAML::Node& root);

// "duplicate key 'alerts': also at line 3, column 1; ..." for a diagnostic
// at `d.second`.
std::string DuplicateKeyMessage(const DuplicateKey& d);

// OK, or InvalidArgument listing every duplicate as `file:line:col: msg`,
// one a line (for the job, web and rule-test files).
absl::Status DuplicateKeysError(const std::string& file, const YAML::Node& root);

// The key lists the loaders check mappings against (rule files, job files,
// notify:), recorded while a recorder is set: the JSON Schemas under
// deploy/schema/ must describe objects with exactly these keys, and a test
// holds them to it. No cost otherwise.
void NoteKeyList(const std::vector<std::string>& allowed);
void RecordKeyLists(std::vector<std::vector<std::string>>* into);  // null: stop

// The configuration files' check of a mapping's keys (job file, notify:,
// web config): what is wrong with `map`, at which node, or nothing. Either
// `map` is no mapping ("'checkpoint' must be a mapping"), or a key is not
// in `allowed`; the message then names the closest allowed key when one is
// close enough, else every allowed key:
//   unknown key 'intervall' in checkpoint; did you mean 'interval'?
//   unknown key 'bogus' in limits (allowed: max_record_bytes, max_series)
// Notes `allowed` (NoteKeyList).
struct KeyError {
  YAML::Node at;  // the node to report at, for its position
  std::string message;
};
std::optional<KeyError> FindKeyError(const YAML::Node& map, const std::vector<std::string>& allowed,
                                     std::string_view where);

}  // namespace vigil

#endif  // VIGIL_RULES_YAML_KEYS_H_
