// operators/dataflow/filter_bank.h
//
// FilterBank evaluates each distinct `where:` of the metrics reading one
// input (the events, or one stream's records) once per event, however many
// operators share it.
//
// It also sorts events into classes by the field most filters test for
// equality, usually `type`: each value those filters name (`"message"`,
// `"feedback"`, ...) is a class, and everything else is class 0. A filter
// that requires other values of that field (`type == "feedback" and ...`)
// is false for an event of the class without being evaluated, and a filter
// that is nothing but that test (`type == "message"`) is known from the
// class. So an event costs one comparison of its type and the filters that
// can pass it, however many filters test other types. The metric operators
// of a filter an event's class cannot pass need not see the event at all
// (Possible).
//
// Example:
//   FilterBank bank;
//   int id = bank.Register(def);       // def.where: type == "feedback"
//   bank.Seal();
//   int c = bank.Evaluate(event);
//   if (bank.Possible(id, c) && bank.passed(id)) ...
#ifndef VIGIL_OPERATORS_DATAFLOW_FILTER_BANK_H_
#define VIGIL_OPERATORS_DATAFLOW_FILTER_BANK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "operators/parse/event_parser.h"
#include "rules/program.h"
#include "rules/rule_set.h"

namespace vigil {

class FilterBank {
 public:
  // At most this many classes, class 0 included: with more values the
  // bank evaluates every filter for every event.
  static constexpr int kMaxClasses = 64;

  // Returns the filter's index; metrics with the same filter text share one.
  int Register(const MetricDef& def);
  // Chooses the class field and builds the classes; after the last Register
  // (Evaluate seals a bank that is not).
  void Seal();
  // Evaluates every filter for `ev` (passed) and returns its class.
  int Evaluate(const Event& ev) {
    if (!sealed_) Seal();
    const Value* slots = ev.slots.data();
    const Class& c = classes_[ClassOf(slots)];
    for (int f : c.impossible) passed_[f] = 0;
    for (int f : c.known) passed_[f] = 1;
    for (int f : c.evaluate) passed_[f] = programs_[f]->EvalBool(slots);
    return static_cast<int>(&c - classes_.data());
  }
  bool passed(int id) const { return passed_[id] != 0; }
  // Whether filter `id` can pass an event of class `c` (after Seal).
  bool Possible(int id, int c) const { return (masks_[id] >> c & 1) != 0; }
  // Classes, class 0 included (after Seal); 1 if events are not sorted.
  int class_count() const { return static_cast<int>(classes_.size()); }

 private:
  struct Class {
    std::vector<int> impossible;  // false for this class
    std::vector<int> known;       // true for this class: the filter is the class test
    std::vector<int> evaluate;    // the rest
  };
  int ClassOf(const Value* slots) const {
    if (class_slot_ < 0) return 0;
    const Value& v = slots[class_slot_];
    for (size_t i = 0; i < class_values_.size(); ++i) {
      if (ValuesEqual(v, class_values_[i])) return static_cast<int>(i) + 1;
    }
    return 0;
  }
  // The class field, chosen by Seal, and the mask of the classes each
  // filter can pass.
  void ChooseClasses();

  std::vector<const Program*> programs_;
  std::vector<std::string> sources_;
  std::vector<uint8_t> passed_;
  bool sealed_ = false;
  int class_slot_ = -1;
  std::vector<Value> class_values_;  // class i + 1
  std::vector<uint64_t> masks_;      // per filter: bit c = can pass class c
  std::vector<uint8_t> is_test_;     // per filter: it is the class test alone
  std::vector<Class> classes_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_FILTER_BANK_H_
