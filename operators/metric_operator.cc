#include "operators/metric_operator.h"

#include <cmath>

#include "windows/hash.h"

namespace vigil {

namespace {
AccSet Prototype(const MetricDef& def) {
  AccSet set;
  for (const AggregateCall& a : def.aggregates) set.emplace_back(a.kind, a.q);
  return set;
}
}  // namespace

std::vector<std::string> GroupLabels(std::string_view group, size_t n) {
  std::vector<std::string> out;
  if (n == 0) return out;
  for (std::string_view part : StrSplit(group, kGroupSeparator)) out.emplace_back(part);
  out.resize(n);
  return out;
}

int FilterBank::Register(const MetricDef& def) {
  const std::string source(Strip(def.where_source));
  for (size_t i = 0; i < sources_.size(); ++i) {
    if (sources_[i] == source) return static_cast<int>(i);
  }
  programs_.push_back(&def.where);
  sources_.push_back(source);
  passed_.push_back(0);
  return static_cast<int>(programs_.size() - 1);
}

MetricOperator::MetricOperator(const MetricDef& def, int index, FilterBank* bank)
    : def_(def), index_(index), bank_(bank), store_(def.window, Prototype(def)) {
  agg_values_.resize(def.aggregates.size());
  if (bank != nullptr && def.has_where) filter_ = bank->Register(def);
}

void MetricOperator::Add(const Event& ev) {
  const Value* slots = ev.slots.data();
  if (filter_ >= 0) {
    if (!bank_->passed(filter_)) return;
  } else if (def_.has_where && !def_.where.EvalBool(slots)) {
    return;
  }
  ++matched_;
  key_.clear();
  for (size_t i = 0; i < def_.by_slots.size(); ++i) {
    if (i) key_.push_back(kGroupSeparator);
    AppendValueText(slots[def_.by_slots[i]], &key_);
  }
  AccSet& pane = *store_.Pane(key_, ev.ts);
  for (size_t i = 0; i < def_.aggregates.size(); ++i) {
    const AggregateCall& agg = def_.aggregates[i];
    Accumulator& acc = pane[i];
    switch (agg.kind) {
      case AggKind::kCount:
      case AggKind::kRatio:
      case AggKind::kRate:
        acc.AddPredicate(!agg.has_arg || agg.arg.EvalBool(slots));
        break;
      case AggKind::kLast: {
        // A boolean's last value is 1 or 0: "is the breaker open" as a number.
        Value v = agg.arg.Eval(slots);
        if (v.is_number()) acc.AddLast(v.num, ev.ts);
        if (v.is_bool()) acc.AddLast(v.b ? 1 : 0, ev.ts);
        break;
      }
      case AggKind::kDistinct: {
        Value v = agg.arg.Eval(slots);
        if (v.is_string()) {
          acc.AddHash(HashBytes(v.str));
        } else if (v.is_number()) {
          acc.AddHash(HashDouble(v.num));
        } else if (v.is_bool()) {
          acc.AddHash(HashDouble(v.b ? 1 : 0));
        }
        break;
      }
      default: {
        Value v = agg.arg.Eval(slots);
        if (v.is_number()) acc.AddNumber(v.num);
      }
    }
  }
}

void MetricOperator::Close(TimeMs frontier, std::vector<WindowResult>* out) {
  store_.CloseUpTo(frontier, [&](const WindowView& w) {
    for (size_t i = 0; i < w.acc.size(); ++i) {
      std::optional<double> r = w.acc[i].Result(def_.window.size());
      agg_values_[i] = r ? Value::Number(*r) : Value::Missing();
    }
    Value v = def_.value.Eval(agg_values_.data());
    if (!v.is_number() || !std::isfinite(v.num)) return;
    WindowResult res;
    res.metric = index_;
    res.def = &def_;
    res.group = std::string(w.group);
    res.labels = GroupLabels(w.group, def_.by.size());
    res.start = w.start;
    res.end = w.end;
    res.value = v.num;
    out->push_back(std::move(res));
  });
}

}  // namespace vigil
