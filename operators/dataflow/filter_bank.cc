#include "operators/dataflow/filter_bank.h"

#include <map>

#include "base/strings.h"

namespace vigil {

int FilterBank::Register(const MetricDef& def) {
  const std::string source(Strip(def.where_source));
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i] == source) return static_cast<int>(i);
  }
  programs_.push_back(&def.where);
  sources_.push_back(source);
  passed_.push_back(0);
  sealed_ = false;
  return static_cast<int>(programs_.size() - 1);
}

void FilterBank::ChooseClasses() {
  class_slot_ = -1;
  class_values_.clear();
  const size_t n = programs_.size();
  masks_.assign(n, ~uint64_t{0});
  is_test_.assign(n, 0);
  // The field the most filters require values of; the lowest slot of a tie.
  std::map<uint32_t, int> requiring;
  for (const Program* p : programs_) {
    std::map<uint32_t, bool> seen;
    for (const Program::Requirement& r : p->Requirements()) {
      if (!seen[r.slot]) ++requiring[r.slot];
      seen[r.slot] = true;
    }
  }
  int most = 0;
  for (const auto& [slot, count] : requiring) {
    if (count > most) {
      most = count;
      class_slot_ = static_cast<int>(slot);
    }
  }
  if (class_slot_ < 0) return;
  // Past kMaxClasses values there are no classes (below), so the list
  // stops growing there: a filter `x in [...]` of 100,000 values costs
  // 100,000 short scans, not 100,000 long ones.
  bool too_many = false;
  auto class_of = [this, &too_many](const Value& v) {
    for (size_t i = 0; i < class_values_.size(); ++i) {
      if (ValuesEqual(v, class_values_[i])) return static_cast<int>(i) + 1;
    }
    if (class_values_.size() + 1 >= static_cast<size_t>(kMaxClasses)) {
      too_many = true;
      return kMaxClasses;
    }
    class_values_.push_back(v);
    return static_cast<int>(class_values_.size());
  };
  for (size_t f = 0; f < n; ++f) {
    bool whole = false;
    for (const Program::Requirement& r : programs_[f]->Requirements(&whole)) {
      if (static_cast<int>(r.slot) != class_slot_) continue;
      // Several tests of the field in one `and`: the values all allow.
      uint64_t mask = 0;
      for (const Value& v : r.values) {
        const int c = class_of(v);
        if (c < kMaxClasses) mask |= uint64_t{1} << c;
      }
      masks_[f] &= mask;
      is_test_[f] = whole;
    }
  }
  if (too_many) {
    class_slot_ = -1;
    class_values_.clear();
    masks_.assign(n, ~uint64_t{0});
    is_test_.assign(n, 0);
  }
}

void FilterBank::Seal() {
  ChooseClasses();
  classes_.assign(class_values_.size() + 1, Class{});
  for (size_t c = 0; c < classes_.size(); ++c) {
    Class& cl = classes_[c];
    for (int f = 0; f < static_cast<int>(programs_.size()); ++f) {
      if (!Possible(f, static_cast<int>(c))) {
        cl.impossible.push_back(f);
      } else if (is_test_[f]) {
        cl.known.push_back(f);
      } else {
        cl.evaluate.push_back(f);
      }
    }
  }
  sealed_ = true;
}

}  // namespace vigil
