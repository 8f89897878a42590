#include "rules/field_table.h"

#include "base/strings.h"

namespace vigil {

int FieldTable::Intern(std::string_view path) {
  auto it = index_.find(path);
  if (it != index_.end()) return it->second;
  int slot = size();
  paths_.emplace_back(path);
  expected_.push_back(Type::kAny);
  ranges_.emplace_back();
  index_.emplace(std::string(path), slot);
  return slot;
}

std::optional<std::string> FieldTable::Expect(int slot, Type type) {
  Type& have = expected_[slot];
  if (type == Type::kAny || type == have) return std::nullopt;
  if (have == Type::kAny) {
    have = type;
    return std::nullopt;
  }
  return StrCat("field '", paths_[slot], "' is used as a ", TypeName(type), " here but as a ",
                TypeName(have), " elsewhere");
}

std::optional<int> FieldTable::Find(std::string_view path) const {
  auto it = index_.find(path);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace vigil
