#include "operators/dataflow/metric_operator.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "base/hash.h"
#include "base/time.h"
#include "rules/expr_parser.h"

namespace vigil {

void EscapeGroupPart(std::string* key, size_t from) {
  if (key->find_first_of("\x1e\x1f", from) == std::string::npos) return;
  std::string part = key->substr(from);
  key->resize(from);
  for (char c : part) {
    if (c == kGroupSeparator || c == kGroupEscape) key->push_back(kGroupEscape);
    key->push_back(c);
  }
}

std::vector<std::string> GroupLabels(std::string_view group, size_t n) {
  std::vector<std::string> out;
  if (n == 0) return out;
  if (n == 1) return {std::string(group)};
  out.emplace_back();
  for (size_t i = 0; i < group.size(); ++i) {
    const char c = group[i];
    if (c == kGroupEscape && i + 1 < group.size()) {
      out.back().push_back(group[++i]);
    } else if (c == kGroupSeparator) {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  out.resize(n);
  return out;
}

std::string_view GroupLabel(std::string_view group, size_t i, std::string* scratch) {
  size_t begin = 0;
  for (size_t part = 0; part < i; ++part) {
    while (begin < group.size() && group[begin] != kGroupSeparator) {
      begin += group[begin] == kGroupEscape ? 2 : 1;
    }
    if (begin >= group.size()) return {};
    ++begin;  // the separator
  }
  size_t end = begin;
  bool escaped = false;
  while (end < group.size() && group[end] != kGroupSeparator) {
    escaped |= group[end] == kGroupEscape;
    end += group[end] == kGroupEscape ? 2 : 1;
  }
  end = std::min(end, group.size());
  if (!escaped) return group.substr(begin, end - begin);
  scratch->clear();
  for (size_t c = begin; c < end; ++c) {
    if (group[c] == kGroupEscape && c + 1 < end) ++c;
    scratch->push_back(group[c]);
  }
  return *scratch;
}

std::string JoinGroupLabels(const std::vector<std::string>& labels) {
  if (labels.size() == 1) return labels[0];
  std::string key;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i) key.push_back(kGroupSeparator);
    const size_t from = key.size();
    key.append(labels[i]);
    EscapeGroupPart(&key, from);
  }
  return key;
}

namespace {

// A `where:` by meaning: its expression printed back (ExprToString).
std::string CanonicalWhere(std::string_view source) {
  ExprParse p = ParseExpr(source);
  return p.ok() ? ExprToString(*p.node) : std::string(Strip(source));
}

}  // namespace

bool MetricOperator::SameStream(const MetricDef& a, const MetricDef& b) {
  const bool same_window = a.pane_group.empty() ? a.window == b.window
                                                : a.window.slide() == b.window.slide() &&
                                                      a.window.pane() == b.window.pane();
  return a.from == b.from && a.pane_group == b.pane_group && a.has_where == b.has_where &&
         Strip(a.where_source) == Strip(b.where_source) && same_window && a.by == b.by &&
         a.by_slots == b.by_slots;
}

namespace {

void CollectNames(const ExprNode& n, std::set<std::string>* out) {
  if (n.op == ExprOp::kName) out->insert(n.text);
  for (const auto& arg : n.args) CollectNames(*arg, out);
}

}  // namespace

std::string MetricOperator::RecordFieldsKey(const StreamDef& s,
                                            const std::vector<MetricRef>& members) {
  std::set<std::string> names;
  for (const MetricRef& m : members) {
    for (const std::string* source : {&m.def->where_source, &m.def->value_source}) {
      if (source->empty()) continue;
      ExprParse p = ParseExpr(*source);
      if (p.ok()) CollectNames(*p.node, &names);
    }
    names.insert(m.def->by.begin(), m.def->by.end());
  }
  std::string key = StrCat(s.kind == StreamKind::kJoin ? "join " : "session ", s.key_path);
  if (s.kind != StreamKind::kJoin) StrAppend(&key, " where ", s.where_source);
  for (const std::string& name : names) {
    auto emit = std::find_if(s.emit.begin(), s.emit.end(),
                             [&](const EmitDef& e) { return e.name == name; });
    StrAppend(&key, "|", name, emit == s.emit.end() ? "" : StrCat("=", emit->source));
  }
  return key;
}

MetricOperator::MetricOperator(std::vector<MetricRef> members, FilterBank* bank,
                               std::string_view stream_key, std::string_view legacy_stream_key)
    : members_(std::move(members)), bank_(bank) {
  // The longest window leads (its size is the store's); shorter ones of an
  // SLO are views of the same panes.
  std::stable_sort(members_.begin(), members_.end(), [](const MetricRef& a, const MetricRef& b) {
    return a.def->window.size() > b.def->window.size();
  });
  std::vector<DurationMs> views;
  for (const MetricRef& m : members_) {
    const DurationMs size = m.def->window.size();
    if (size != members_[0].def->window.size() &&
        std::find(views.begin(), views.end(), size) == views.end()) {
      views.push_back(size);
    }
  }
  // One accumulator per distinct (kind, argument); quantiles of the same
  // argument share a sketch whatever their q.
  std::vector<std::string> keys;
  AccSet prototype;
  size_t max_aggs = 0;
  for (const MetricRef& m : members_) {
    std::vector<Binding> binding;
    for (const AggregateCall& agg : m.def->aggregates) {
      const std::string key = StrCat(AggKindName(agg.kind), "(", agg.arg_source, ")");
      auto it = std::find(keys.begin(), keys.end(), key);
      if (it == keys.end()) {
        keys.push_back(key);
        inputs_.push_back({agg.kind, agg.has_arg, &agg.arg});
        prototype.emplace_back(agg.kind, agg.q);
        it = keys.end() - 1;
      }
      binding.push_back({static_cast<int>(it - keys.begin()), agg.kind, agg.q});
    }
    max_aggs = std::max(max_aggs, binding.size());
    bindings_.push_back(std::move(binding));
  }
  agg_values_.resize(max_aggs);
  std::string windows = lead().window.ToString();
  for (DurationMs v : views) StrAppend(&windows, "+", FormatDuration(v));
  // The `where:` by meaning (as metric fingerprints and alert keys compare
  // it): `type=="message"` keeps the panes of `type == "message"`.
  const std::string where = lead().has_where ? CanonicalWhere(lead().where_source) : "";
  const std::string rest =
      StrCat("|", windows, "|", StrJoin(lead().by, ","), "|", StrJoin(keys, ";"));
  state_key_ = StrCat(where, rest);
  const std::string as_written = StrCat(Strip(lead().where_source), rest);
  shape_key_ = StrCat(Strip(lead().where_source), "|", windows, "|", StrJoin(lead().by, ","), "|",
                      lead().pane_group);
  for (const std::string& key : keys) acc_hashes_.push_back(HashBytes(key));
  // Records of a stream: what they hold depends on what the fields these
  // metrics read mean (RecordFieldsKey).
  if (lead().from >= 0) {
    stream_fingerprint_ = legacy_stream_key;
    state_rest_ = state_key_;
    shape_rest_ = shape_key_;
    as_written_rest_ = as_written;
    if (as_written != state_key_)
      older_state_keys_.push_back(StrCat("from ", stream_key, "|", as_written));
    if (!legacy_stream_key.empty()) {
      older_state_keys_.push_back(StrCat("from ", legacy_stream_key, "|", as_written));
      // Where KeyByWholeStream keyed it: its stream shared what its records
      // meant with another one then.
      if (as_written != state_key_) {
        older_state_keys_.push_back(StrCat("from ", legacy_stream_key, "|", state_key_));
      }
    }
    state_key_ = StrCat("from ", stream_key, "|", state_key_);
    shape_key_ = StrCat("from ", stream_key, "|", shape_key_);
  } else if (as_written != state_key_) {
    older_state_keys_.push_back(as_written);
  }
  from_stream_ = lead().from >= 0;
  views_ = views;
  store_ = std::make_unique<PaneStore>(lead().window, std::move(prototype), std::move(views));
  for (const MetricRef& m : members_) {
    group_limit_ = std::min(group_limit_, static_cast<size_t>(m.def->limit));
  }
  store_->SetGroupLimit(group_limit_);
  if (bank != nullptr && lead().has_where) filter_ = bank->Register(lead());
}

void MetricOperator::KeyByWholeStream() {
  if (!from_stream_ || stream_fingerprint_.empty()) return;
  state_key_ = StrCat("from ", stream_fingerprint_, "|", state_rest_);
  shape_key_ = StrCat("from ", stream_fingerprint_, "|", shape_rest_);
  // The keys by what the records mean are another stream's too: only the
  // earlier versions' key by the stream's whole definition is this one's.
  older_state_keys_.clear();
  if (as_written_rest_ != state_rest_) {
    older_state_keys_.push_back(StrCat("from ", stream_fingerprint_, "|", as_written_rest_));
  }
}

void MetricOperator::SetSeriesBudget(const GroupBudget* budget) {
  budget_ = budget;
  store_->SetGroupLimit(group_limit_, budget_);
}

std::string MetricOperator::name() const {
  std::vector<std::string> names;
  for (const MetricRef& m : members_) names.push_back(m.def->name);
  return StrJoin(names, ",");
}

void MetricOperator::MembersReading(const std::vector<bool>& absent, std::vector<int>* out) const {
  for (size_t i = 0; i < members_.size(); ++i) {
    for (const Binding& b : bindings_[i]) {
      if (b.acc < static_cast<int>(absent.size()) && absent[b.acc]) {
        out->push_back(members_[i].index);
        break;
      }
    }
  }
}

bool MetricOperator::RemapFrom(const std::vector<uint64_t>& old_hashes, PaneStore* old,
                               std::vector<int>* restarted) const {
  std::vector<int> from;
  std::vector<bool> fresh;
  for (uint64_t h : acc_hashes_) {
    auto it = std::find(old_hashes.begin(), old_hashes.end(), h);
    from.push_back(it == old_hashes.end() ? -1 : static_cast<int>(it - old_hashes.begin()));
    fresh.push_back(from.back() < 0);
  }
  if (!old->Remap(store_->prototype(), from)) return false;
  if (restarted != nullptr) MembersReading(fresh, restarted);
  return true;
}

bool MetricOperator::DecodeRemapped(Decoder* dec, AccSet old_prototype,
                                    const std::vector<uint64_t>& old_hashes,
                                    std::vector<int>* restarted) {
  auto old = std::make_unique<PaneStore>(store_->spec(), std::move(old_prototype), views_);
  if (!old->Decode(dec) || !RemapFrom(old_hashes, old.get(), restarted)) return false;
  old->SetGroupLimit(group_limit_, budget_);
  old->SetWhole(whole_);
  store_ = std::move(old);
  return true;
}

bool MetricOperator::AdoptState(MetricOperator& old, std::vector<int>* restarted) {
  if (old.store_ == nullptr) return false;
  if (old.state_key_ != state_key_) {
    // The same panes with other aggregates: those both have carry on.
    if (old.shape_key_ != shape_key_) return false;
    if (!RemapFrom(old.acc_hashes_, old.store_.get(), restarted)) return false;
  }
  store_ = std::move(old.store_);
  store_->SetGroupLimit(group_limit_, budget_);
  store_->SetWhole(whole_);
  dropped_ += old.TakeDropped();
  return true;
}

std::string_view MetricOperator::GroupKey(const Value* slots, std::string* key) const {
  const std::vector<int>& by = lead().by_slots;
  if (by.size() == 1) return ValueText(slots[by[0]], key);
  key->clear();
  for (size_t i = 0; i < by.size(); ++i) {
    if (i) key->push_back(kGroupSeparator);
    const size_t from = key->size();
    AppendValueText(slots[by[i]], key);
    EscapeGroupPart(key, from);
  }
  return *key;
}

void MetricOperator::Prefetch(const Event& ev) {
  if (lead().by_slots.empty() || store_->group_count() < kManyGroups) return;
  constexpr size_t n = kPrefetchDistance;
  const size_t now = hint_seq_ % n;
  const Value* slots = ev.slots.data();
  hinted_any_[now] = !lead().has_where || lead().where.Test(slots, ev.type_class);
  if (hinted_any_[now]) {
    std::string& key = hinted_[now];
    const std::string_view group = GroupKey(slots, &key);
    if (group.data() != key.data()) key.assign(group);
    store_->PrefetchGroup(key, 0);
  }
  // The event hinted `step` calls ago: fetch its next level.
  for (size_t step = 1; step < n; ++step) {
    const size_t then = (hint_seq_ + n - step) % n;
    if (hinted_any_[then]) store_->PrefetchGroup(hinted_[then], step);
  }
  hint_seq_ = static_cast<uint32_t>((hint_seq_ + 1) % n);
}

void MetricOperator::Add(const Event& ev) {
  const Value* slots = ev.slots.data();
  if (filter_ >= 0) {
    if (!bank_->passed(filter_)) return;
  } else if (lead().has_where && !lead().where.Test(slots, ev.type_class)) {
    return;
  }
  // Events behind a closed window were refused as late before they got
  // here; a stream's record is behind only when its state closed late.
  if (from_stream_) {
    if (keep_group_ && !keep_group_(GroupKey(slots, &key_))) return;  // another's to count
    if (store_->Closed(ev.ts)) {
      ++late_;
      return;
    }
  }
  AccSet* found = store_->Pane(GroupKey(slots, &key_), ev.ts, *frontier_);
  if (found == nullptr) {
    ++dropped_;
    return;
  }
  AccSet& pane = *found;
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const Input& in = inputs_[i];
    Accumulator& acc = pane[i];
    switch (in.kind) {
      case AggKind::kCount:
      case AggKind::kRatio:
      case AggKind::kRate:
        acc.AddPredicate(!in.has_arg || in.arg->Test(slots, ev.type_class));
        break;
      case AggKind::kLast: {
        // A boolean's last value is 1 or 0: "is the breaker open" as a number.
        Value v = in.arg->Eval(slots);
        if (v.is_number()) acc.AddLast(v.num, ev.ts);
        if (v.is_bool()) acc.AddLast(v.b ? 1 : 0, ev.ts);
        break;
      }
      case AggKind::kDistinct: {
        Value v = in.arg->Eval(slots);
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
        Value v = in.arg->Eval(slots);
        if (v.is_number()) acc.AddNumber(v.num);
      }
    }
  }
}

void MetricOperator::Close(TimeMs frontier, std::vector<WindowResult>* out) {
  const size_t first = out->size();
  CloseWindows(frontier, out);
  for (const MetricRef& m : members_) {
    if (m.def->forecast) AddForecasts(m, first, out);
  }
}

void MetricOperator::AddForecasts(const MetricRef& m, size_t first,
                                  std::vector<WindowResult>* out) {
  const MetricDef::Forecast& f = *m.def->forecast;
  // (group, end) -> the burn rate there.
  std::map<std::pair<std::string_view, TimeMs>, double> burn;
  const size_t end = out->size();
  for (size_t i = first; i < end; ++i) {
    const WindowResult& r = (*out)[i];
    if (r.metric == f.burn) burn[{r.group, r.end}] = r.value;
  }
  // In the order of the remaining budget's results; a spent budget is 0
  // even when the burn window had no events. Appended after the loop: the
  // map's keys point into `out`.
  std::vector<WindowResult> forecasts;
  for (size_t i = first; i < end; ++i) {
    const WindowResult& r = (*out)[i];
    if (r.metric != f.remaining) continue;
    auto it = burn.find({r.group, r.end});
    double seconds;
    if (r.value <= 0) {
      seconds = 0;
    } else if (it != burn.end() && it->second > 0) {
      seconds = r.value * (static_cast<double>(f.window) / 1000) / it->second;
    } else {
      continue;  // nothing burns: no forecast
    }
    WindowResult& res = forecasts.emplace_back(r);
    res.metric = m.index;
    res.def = m.def;
    res.value = seconds;
  }
  for (WindowResult& res : forecasts) out->push_back(std::move(res));
}

namespace {

// Gives each (result, aggregate) of `sketched` the aggregate's sketch of
// window `w`: one per aggregate (`sketches`: scratch), moved out of a pane
// the store drops, copied otherwise.
void AttachSketches(const WindowView& w, const std::vector<std::pair<size_t, size_t>>& sketched,
                    std::vector<std::shared_ptr<const DDSketch>>* sketches,
                    std::vector<WindowResult>* out) {
  sketches->assign(w.acc.size(), nullptr);
  for (const auto& [result, a] : sketched) {
    std::shared_ptr<const DDSketch>& s = (*sketches)[a];
    if (s == nullptr) {
      s = w.dropped != nullptr ? std::shared_ptr<const DDSketch>((*w.dropped)[a].TakeSketch())
                               : std::make_shared<const DDSketch>(*w.acc[a].sketch());
    }
    (*out)[result].sketch = s;
  }
}

}  // namespace

void MetricOperator::CloseWindows(TimeMs frontier, std::vector<WindowResult>* out) {
  // An experiment's inputs carry their quantile sketch: one per aggregate
  // of the window, shared by the results reading it, and moved out of a
  // pane the store drops (a copy otherwise) once every member has read it.
  std::vector<std::pair<size_t, size_t>> sketched;  // (result, aggregate)
  std::vector<std::shared_ptr<const DDSketch>> sketches;
  store_->CloseUpTo(frontier, [&](const WindowView& w) {
    const DurationMs size = w.end - w.start;
    // An experiment's inputs carry none: it reads arm and unit from the key.
    std::vector<std::string> labels;
    bool labelled = false;
    sketched.clear();
    for (size_t m = 0; m < members_.size(); ++m) {
      // Another view's window (a calendar window is one of varying size, and
      // has no views).
      const WindowSpec& spec = members_[m].def->window;
      if (!spec.calendar() && spec.size() != size) continue;
      if (members_[m].def->forecast) continue;  // from other results, below
      const std::vector<Binding>& binding = bindings_[m];
      for (size_t i = 0; i < binding.size(); ++i) {
        const Accumulator& acc = w.acc[binding[i].acc];
        std::optional<double> r =
            binding[i].kind == AggKind::kQuantile ? acc.QuantileAt(binding[i].q) : acc.Result(size);
        agg_values_[i] = r ? Value::Number(*r) : Value::Missing();
      }
      Value v;
      if (const auto& d = members_[m].def->ratio_divisor; d && binding.size() == 1) {
        std::optional<double> r = w.acc[binding[0].acc].RatioOver(d->num, d->den);
        v = r ? Value::Number(*r) : Value::Missing();
      } else {
        v = members_[m].def->value.Eval(agg_values_.data());
      }
      if (!v.is_number() || !std::isfinite(v.num)) continue;
      WindowResult res;
      if (members_[m].def->internal()) {
        for (size_t i = 0; i < binding.size(); ++i) {
          res.parts.push_back(agg_values_[i].is_number() ? agg_values_[i].num : 0);
          if (w.acc[binding[i].acc].sketch() != nullptr) {
            sketched.emplace_back(out->size(), binding[i].acc);
          }
        }
      }
      res.metric = members_[m].index;
      res.def = members_[m].def;
      res.group = std::string(w.group);
      if (!members_[m].def->internal()) {
        if (!labelled) labels = GroupLabels(w.group, lead().by.size());
        labelled = true;
        res.labels = labels;
      }
      res.start = w.start;
      res.end = w.end;
      res.value = v.num;
      out->push_back(std::move(res));
    }
    if (!sketched.empty()) AttachSketches(w, sketched, &sketches, out);
  });
}

std::vector<std::unique_ptr<MetricOperator>> BuildMetricOperators(const RuleSet& rules,
                                                                  FilterBank* bank, int from) {
  std::vector<std::vector<MetricRef>> groups;
  for (size_t i = 0; i < rules.metrics.size(); ++i) {
    const MetricDef& def = rules.metrics[i];
    if (def.from != from || def.experiment == MetricDef::ExperimentRole::kOutput) continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const std::vector<MetricRef>& g) {
      return MetricOperator::SameStream(*g[0].def, def);
    });
    if (it == groups.end()) {
      groups.push_back({{&def, static_cast<int>(i)}});
    } else {
      it->push_back({&def, static_cast<int>(i)});
    }
  }
  std::vector<std::unique_ptr<MetricOperator>> ops;
  for (auto& g : groups) {
    std::string key, legacy;
    if (from >= 0) {
      key = MetricOperator::RecordFieldsKey(rules.streams[from], g);
      legacy = rules.streams[from].fingerprint;
    }
    ops.push_back(std::make_unique<MetricOperator>(std::move(g), bank, key, legacy));
  }
  return ops;
}

}  // namespace vigil
