// rules/type_classes.h
//
// Event classes by `type`. Every value of the event field `type` that a
// rule over events tests for equality (`type == "message"`, `type in
// ["escalation", "feedback"]`) is a class, numbered from 1; class 0 is any
// other type. The parser gives each event its class once
// (FieldTable::TypeClassOf), and a program over events whose top-level
// `and` tests `type` is false at once for an event of a class it excludes,
// and true at once when it is nothing but that test (Program::Test): a
// join side, a session stream or a metric predicate then costs one bit
// test per event instead of a string comparison.
//
// Example:
//   RuleSet rules = ...;                 // where: type == "feedback"
//   AssignTypeClasses(&rules);
//   rules.fields.TypeClassOf("feedback");   // 1
//   program.Test(slots, 1);                 // true, nothing evaluated
#ifndef VIGIL_RULES_TYPE_CLASSES_H_
#define VIGIL_RULES_TYPE_CLASSES_H_

#include "rules/rule_set.h"

namespace vigil {

// Numbers the `type` values the rules' programs over events test for, and
// marks each such program with the classes it can be true for.
void AssignTypeClasses(RuleSet* rules);

}  // namespace vigil

#endif  // VIGIL_RULES_TYPE_CLASSES_H_
