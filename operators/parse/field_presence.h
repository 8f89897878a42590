// operators/parse/field_presence.h
//
// FieldPresence remembers which of the fields the rules read some accepted
// event has carried. A misspelt field in a rule (`cahce_hit`) is missing
// from every event, so its metric silently stays at 0 or its filter never
// holds; the job reports the fields no event carried at the end of a run
// and on /metrics (vigil_rule_field_unseen). Rules whose `schema:` declares
// the events need none of it (the loader already refused undeclared
// fields): then nothing is tracked.
//
// A field counts as carried when it is present in the record, null
// included. Once every field has been seen Note costs one comparison; until
// then it looks only at the fields not yet seen.
//
// Example:
//   FieldPresence presence(rules.fields);
//   if (presence.Note(event)) metrics.SetFieldsUnseen(presence.Unseen());
//   for (const std::string& f : presence.Unseen()) Log("no event carried " + f);
#ifndef VIGIL_OPERATORS_PARSE_FIELD_PRESENCE_H_
#define VIGIL_OPERATORS_PARSE_FIELD_PRESENCE_H_

#include <string>
#include <vector>

#include "operators/parse/event_parser.h"
#include "rules/field_table.h"

namespace vigil {

class FieldPresence {
 public:
  FieldPresence() = default;
  // Every field of `fields` unseen. `fields` must outlive this.
  explicit FieldPresence(const FieldTable& fields);

  // Notes the fields `ev` carries; true when one of them is seen for the
  // first time.
  bool Note(const Event& ev) {
    if (unseen_.empty()) return false;
    bool fresh = false;
    for (size_t i = 0; i < unseen_.size();) {
      const int slot = unseen_[i];
      if (static_cast<size_t>(slot) < ev.slots.size() && !ev.slots[slot].is_missing()) {
        seen_[slot] = true;
        unseen_[i] = unseen_.back();
        unseen_.pop_back();
        fresh = true;
      } else {
        ++i;
      }
    }
    return fresh;
  }

  // Marks `path` seen (after a rule reload, for what the old rules' fields
  // had seen); a path the rules do not read is ignored.
  void MarkSeen(const std::string& path);

  bool seen(int slot) const { return seen_[slot]; }
  // The paths of the fields no event carried, sorted.
  std::vector<std::string> Unseen() const;
  // Every field's path with whether it was seen, in slot order.
  std::vector<std::pair<std::string, bool>> All() const;

 private:
  const FieldTable* fields_ = nullptr;
  std::vector<bool> seen_;   // by slot
  std::vector<int> unseen_;  // slots not seen yet, in no order
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_PARSE_FIELD_PRESENCE_H_
