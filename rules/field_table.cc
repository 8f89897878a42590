#include "rules/field_table.h"

#include "base/strings.h"

namespace vigil {

void FieldTable::AddTypeClass(std::string_view type) {
  if (TypeClassOf(type) != 0 || type_classes_.size() + 1 >= kMaxTypeClasses) return;
  type_classes_.emplace_back(type);
}

int FieldTable::Intern(std::string_view path) {
  auto it = index_.find(path);
  if (it != index_.end()) return it->second;
  int slot = size();
  paths_.emplace_back(path);
  if (events_ && path == "type") event_type_slot_ = slot;
  expected_.push_back(slot == event_type_slot_ ? Type::kString : Type::kAny);
  ranges_.emplace_back();
  declared_.push_back(false);
  not_string_.push_back(false);
  index_.emplace(std::string(path), slot);
  return slot;
}

std::optional<std::string> FieldTable::Expect(int slot, Type type) {
  Type& have = expected_[slot];
  if (type == Type::kString && not_string_[slot]) {
    return StrCat("field '", paths_[slot],
                  "' is used as a string here but a metric's last() reads it as a number or a "
                  "boolean elsewhere");
  }
  if (type == Type::kAny || type == have) return std::nullopt;
  if (have == Type::kAny) {
    have = type;
    return std::nullopt;
  }
  if (slot == event_type_slot_) {
    return StrCat("field 'type' is the event's type, always a string, but is used as a ",
                  TypeName(type), " here");
  }
  if (declared_[slot]) {
    return StrCat("field '", paths_[slot], "' is declared a ", TypeName(have),
                  " in the schema but used as a ", TypeName(type), " here");
  }
  return StrCat("field '", paths_[slot], "' is used as a ", TypeName(type), " here but as a ",
                TypeName(have), " elsewhere");
}

void FieldTable::DeclareEventType() {
  events_ = true;
  auto it = index_.find("type");
  if (it != index_.end()) {
    event_type_slot_ = it->second;
    expected_[event_type_slot_] = Type::kString;
  }
}

std::optional<std::string> FieldTable::ExpectNotString(int slot) {
  if (expected_[slot] == Type::kString) {
    return StrCat(
        "field '", paths_[slot], "' is ",
        declared_[slot] ? "declared a string in the schema" : "used as a string elsewhere",
        "; last() in a metric keeps a number or a boolean (a session stream's last() "
        "keeps strings)");
  }
  not_string_[slot] = true;
  return std::nullopt;
}

std::optional<std::string> FieldTable::Declare(std::string_view path, Type type) {
  const int slot = Intern(path);
  if (std::optional<std::string> err = Expect(slot, type)) return err;
  declared_[slot] = true;
  return std::nullopt;
}

std::optional<std::string> FieldTable::Undeclared(std::string_view path) const {
  if (!declaring_ || path == "ts" || path == "type") return std::nullopt;
  if (std::optional<int> slot = Find(path); slot && declared_[*slot]) return std::nullopt;
  std::vector<std::string> names = {"ts", "type"};
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (declared_[i]) names.push_back(paths_[i]);
  }
  const std::string near = Suggest(path, names);
  return StrCat("field '", path, "' is not in the schema",
                near.empty() ? std::string("; declare it under 'schema:' with its type")
                             : StrCat("; did you mean '", near, "'?"));
}

std::optional<int> FieldTable::Find(std::string_view path) const {
  auto it = index_.find(path);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

}  // namespace vigil
