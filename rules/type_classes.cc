#include "rules/type_classes.h"

#include <cstdint>
#include <optional>
#include <vector>

namespace vigil {
namespace {

// The programs evaluated over events (not over a stream's records, whose
// fields are another table).
std::vector<Program*> EventPrograms(RuleSet* rules) {
  std::vector<Program*> out;
  for (MetricDef& m : rules->metrics) {
    if (m.from >= 0) continue;
    if (m.has_where) out.push_back(&m.where);
    for (AggregateCall& a : m.aggregates) {
      if (a.has_arg) out.push_back(&a.arg);
    }
  }
  for (StreamDef& s : rules->streams) {
    if (s.has_where) out.push_back(&s.where);
    if (s.kind == StreamKind::kJoin) {
      if (s.join.has_left_where) out.push_back(&s.join.left_where);
      if (s.join.has_right_where) out.push_back(&s.join.right_where);
      continue;
    }
    for (EmitDef& e : s.emit) {
      for (AggregateCall& a : e.aggregates) {
        if (a.has_arg) out.push_back(&a.arg);
      }
    }
  }
  return out;
}

}  // namespace

void AssignTypeClasses(RuleSet* rules) {
  FieldTable& fields = rules->fields;
  const std::optional<int> type = fields.Find("type");
  if (!type) return;
  const uint32_t slot = static_cast<uint32_t>(*type);
  const std::vector<Program*> programs = EventPrograms(rules);
  for (const Program* p : programs) {
    for (const Program::Requirement& r : p->Requirements()) {
      if (r.slot != slot) continue;
      for (const Value& v : r.values) {
        if (v.is_string()) fields.AddTypeClass(v.str);
      }
    }
  }
  for (Program* p : programs) {
    bool whole = false;
    uint64_t mask = ~uint64_t{0};
    bool tests_type = false;
    bool classified = true;
    for (const Program::Requirement& r : p->Requirements(&whole)) {
      if (r.slot != slot) continue;
      tests_type = true;
      uint64_t allowed = 0;
      for (const Value& v : r.values) {
        // The parser takes only string types: any other value never matches.
        if (!v.is_string()) continue;
        const int c = fields.TypeClassOf(v.str);
        if (c == 0) classified = false;  // past the classes there are
        allowed |= uint64_t{1} << c;
      }
      mask &= allowed;
    }
    if (tests_type && classified) p->SetTypeClasses(mask, whole);
  }
}

}  // namespace vigil
