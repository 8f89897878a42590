// rules/field_table.h
//
// FieldTable assigns every event field path that any rule reads a slot
// index, once, when rules are loaded. The event parser fills exactly these
// slots from each record and compiled programs read them by index, so no
// rule ever looks a field up by name per event.
//
// It also records the type each field must have, inferred from how the
// rules use it (`latency_ms > 100` makes latency_ms a number, `llm_timeout
// or ...` a boolean). A record whose field has another type is bad input: it
// goes to the dead-letter output instead of silently comparing false.
//
// And the range a numeric field must lie in, when the rule file's `schema:`
// bounds it: a record with the field outside it is dead-lettered
// (out_of_range) instead of reaching any aggregate.
//
// And, when `schema:` gives field types, which fields events have at all:
// a declaring table names every field a rule may read (ts and type are
// always there), so a rule reading another one (a misspelt `cahce_hit`) is
// an error when the rules load, with the nearest declared name.
//
// Example:
//   FieldTable fields;
//   int slot = fields.Intern("meta.region");   // 0
//   fields.Intern("meta.region");              // 0 again
//   fields.Expect(slot, Type::kString);        // ok
//   fields.Expect(slot, Type::kNumber);        // error: used as string and as number
//   fields.ExpectNotString(slot);              // error: a string, and last() in a metric
//   fields.SetRange(fields.Intern("latency_ms"), {0, 3'600'000});
#ifndef VIGIL_RULES_FIELD_TABLE_H_
#define VIGIL_RULES_FIELD_TABLE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "base/strings.h"
#include "rules/value.h"

namespace vigil {

class FieldTable {
 public:
  // Both ends inclusive.
  struct Range {
    double min;
    double max;
    bool Contains(double v) const { return v >= min && v <= max; }
  };

  int Intern(std::string_view path);
  // For the events' table: every event's type is a string (an event
  // without one is dead-lettered as missing_type), so `type == 5` is an
  // error rather than a rule that makes the parser dead-letter every event.
  // A stream's or join's own `type` field may be of any type.
  void DeclareEventType();
  // nullopt when fine; otherwise an error message.
  std::optional<std::string> Expect(int slot, Type type);

  // A metric's last() reads the field: a number or a boolean (1 or 0), not
  // a string. nullopt when fine; an error when the rules use it as a
  // string. A record with a string there is then bad input (wrong_type)
  // instead of a value the metric passes over without a word.
  std::optional<std::string> ExpectNotString(int slot);
  bool not_string(int slot) const { return not_string_[slot]; }

  int size() const { return static_cast<int>(paths_.size()); }
  const std::string& path(int slot) const { return paths_[slot]; }
  Type expected(int slot) const { return expected_[slot]; }
  std::optional<int> Find(std::string_view path) const;
  void SetRange(int slot, Range r) { ranges_[slot] = r; }
  const std::optional<Range>& range(int slot) const { return ranges_[slot]; }

  // The schema declares `path` with type `type` (a concrete type); an
  // expectation of another type is then an error that names the schema.
  std::optional<std::string> Declare(std::string_view path, Type type);
  // From now on rules may read declared fields only.
  void SetDeclaring() { declaring_ = true; }
  bool declaring() const { return declaring_; }
  // nullopt when `path` may be read; otherwise the error, with the nearest
  // declared field ("field 'cahce_hit' is not in the schema; did you mean
  // 'cache_hit'?").
  std::optional<std::string> Undeclared(std::string_view path) const;

  // Event classes by `type` (rules/type_classes.h): class i + 1 is the i-th
  // value added, 0 any other type. Values past kMaxTypeClasses - 1 get none.
  static constexpr int kMaxTypeClasses = 64;
  void AddTypeClass(std::string_view type);
  int TypeClassOf(std::string_view type) const {
    for (size_t i = 0; i < type_classes_.size(); ++i) {
      const std::string& t = type_classes_[i];
      if (t.size() == type.size() && BytesEqual(t.data(), type.data(), t.size())) {
        return static_cast<int>(i) + 1;
      }
    }
    return 0;
  }

 private:
  std::vector<std::string> paths_;
  std::vector<Type> expected_;
  std::vector<std::optional<Range>> ranges_;
  std::vector<bool> declared_;
  std::vector<bool> not_string_;
  bool declaring_ = false;
  bool events_ = false;  // DeclareEventType
  int event_type_slot_ = -1;
  std::vector<std::string> type_classes_;
  absl::flat_hash_map<std::string, int, StringHash, StringEq> index_;
};

}  // namespace vigil

#endif  // VIGIL_RULES_FIELD_TABLE_H_
