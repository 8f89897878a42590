#include "operators/parse/field_presence.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace vigil {

FieldPresence::FieldPresence(const FieldTable& fields)
    : fields_(&fields), seen_(static_cast<size_t>(fields.size()), false) {
  // A schema that declares the events has already caught misspelt fields.
  if (fields.declaring()) return;
  for (int slot = 0; slot < fields.size(); ++slot) unseen_.push_back(slot);
}

void FieldPresence::MarkSeen(const std::string& path) {
  if (fields_ == nullptr) return;
  const std::optional<int> slot = fields_->Find(path);
  if (!slot || seen_[*slot]) return;
  seen_[*slot] = true;
  unseen_.erase(std::find(unseen_.begin(), unseen_.end(), *slot));
}

std::vector<std::string> FieldPresence::Unseen() const {
  std::vector<std::string> out;
  for (int slot : unseen_) out.push_back(fields_->path(slot));
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::pair<std::string, bool>> FieldPresence::All() const {
  std::vector<std::pair<std::string, bool>> out;
  if (fields_ == nullptr || fields_->declaring()) return out;
  for (int slot = 0; slot < fields_->size(); ++slot) {
    out.emplace_back(fields_->path(slot), seen_[slot]);
  }
  return out;
}

}  // namespace vigil
