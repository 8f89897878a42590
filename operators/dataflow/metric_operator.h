// operators/dataflow/metric_operator.h
//
// MetricOperator runs windowed metrics over the event stream: filter
// (`where:`), key-by (`by:`), and one update per aggregate into the event's
// pane; at the frontier it closes windows and computes each metric's value
// from the merged aggregates. All per-event work uses compiled programs and
// slot indices; the group key is built into a reused buffer.
//
// Metrics with the same filter, window and grouping share one operator and
// one pane store, and identical aggregates within it are kept once:
// latency p50, p95 and p99 of the same events are three answers from one
// quantile sketch, and seven ratios over the same 5-minute windows cost one
// pane lookup per event, not seven.
//
// Groups are bounded: the operator holds panes for at most the smallest
// `limit:` of its metrics, and none past a budget shared with the other
// operators (the job's series cap). An event of a new group over either is
// dropped and counted (TakeDropped): the windows of the groups held stay
// exact, where evicting a group early would emit windows missing events.
//
// A record of a stream (a session or join) for a window already closed is
// late: refused and counted (TakeLate), never a second result for that
// window. It comes only from state closed after the windows its records
// belong to, as the state a merge stage closes for instances that left.
//
// Example:
//   FilterBank filters;
//   auto ops = BuildMetricOperators(rules, &filters);
//   filters.Evaluate(event);
//   for (auto& op : ops) op->Add(event);
//   std::vector<WindowResult> out;
//   for (auto& op : ops) op->Close(watermark, &out);
#ifndef VIGIL_OPERATORS_DATAFLOW_METRIC_OPERATOR_H_
#define VIGIL_OPERATORS_DATAFLOW_METRIC_OPERATOR_H_

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "operators/dataflow/filter_bank.h"
#include "operators/dataflow/sink.h"
#include "operators/parse/event_parser.h"
#include "rules/rule_set.h"
#include "windows/pane_store.h"

namespace vigil {

// The group key of one `by:` value is the value's text; of several, the
// texts joined with kGroupSeparator, each with kGroupSeparator and
// kGroupEscape escaped by kGroupEscape (AppendGroupPart), so that a value
// holding either still gives its own label.
inline constexpr char kGroupSeparator = '\x1f';
inline constexpr char kGroupEscape = '\x1e';
// Escapes what was appended to `key` from `from` on: one part of a group
// key of several values.
void EscapeGroupPart(std::string* key, size_t from);
// The `n` label values of a group key.
std::vector<std::string> GroupLabels(std::string_view group, size_t n);
// Label value `i` of a group key of several values (empty past the last):
// a view of `group`, or, when the value holds an escaped character, of
// `scratch` holding it unescaped.
std::string_view GroupLabel(std::string_view group, size_t i, std::string* scratch);
// The group key of several label values.
std::string JoinGroupLabels(const std::vector<std::string>& labels);

// A metric definition and its index in the rule set.
struct MetricRef {
  const MetricDef* def;
  int index;
};

class MetricOperator {
 public:
  // `members` share the filter, window and `by:` of members[0]. With a bank,
  // Add reads the filter result the bank computed for the event (call
  // bank->Evaluate first); without one it evaluates `where` itself.
  // `stream_key`: for metrics from a stream, what its records' fields mean
  // to them (RecordFieldsKey); `legacy_stream_key`, the stream's whole
  // fingerprint, which checkpoints of earlier versions keyed them by.
  MetricOperator(std::vector<MetricRef> members, FilterBank* bank = nullptr,
                 std::string_view stream_key = "", std::string_view legacy_stream_key = "");

  // What the records of stream `s` mean to metrics `members` that read
  // them: the definition of each field they read (an emit's source, or the
  // record's key and duration or delay) and, for a session stream, its
  // `where:` (the events its aggregates see). A change elsewhere in the
  // stream (its gap, a join's bound or sides, an emit they do not read)
  // changes which records come, not what they hold: the metrics keep their
  // panes, partial where the stream started over
  // (Dataflow::StreamsStartedOver).
  static std::string RecordFieldsKey(const StreamDef& s, const std::vector<MetricRef>& members);

  // Whether `def` may share this operator.
  static bool SameStream(const MetricDef& a, const MetricDef& b);

  // Keys the state by the stream's whole fingerprint rather than by what
  // its records mean (RecordFieldsKey). Dataflow calls it for operators
  // over different streams of one rule set whose records mean the same to
  // them (a session stream with another gap, a join with other bounds):
  // they would share a state key, and a checkpoint, a reload or a merge
  // stage would give one the other's panes.
  void KeyByWholeStream();

  void Add(const Event& ev);
  // A hint that `ev` is to be added kPrefetchDistance calls from now
  // (Dataflow::Prefetch). In a store of many groups (one per user, say)
  // its group's map slot, the group and its newest pane are then fetched
  // one step per call, so Add finds them in cache; otherwise nothing.
  static constexpr size_t kPrefetchDistance = 4;
  void Prefetch(const Event& ev);
  // The bank filter Add reads (FilterBank::Register), or -1: it evaluates
  // its own `where:` or has none.
  int filter() const { return filter_; }

  // The job's series cap (null: none); it must outlive the operator or be
  // replaced. See the file comment.
  void SetSeriesBudget(const GroupBudget* budget);
  // Where Add reads the frontier as of the event (PaneStore::Pane); it must
  // outlive the operator or be replaced. Unset: every group counts.
  void SetFrontierSource(const TimeMs* frontier) { frontier_ = frontier; }
  // Workers: this operator aggregates part of the events of the job's
  // operator of `whole.store` (PaneStore::SetWhole).
  void SetWhole(const PaneStore::Whole& whole) {
    whole_ = whole;
    store_->SetWhole(whole);
  }
  // Which groups a stream's records count in (null: all): one of several
  // merge instances closing the same handed-over state counts only the
  // groups whose panes it reads (operators/scale_out/merge_stage.h).
  void SetGroupFilter(std::function<bool(std::string_view group)> keep) {
    keep_group_ = std::move(keep);
  }
  // Events dropped because their group was over a limit, since the last call.
  uint64_t TakeDropped() { return std::exchange(dropped_, 0); }
  // Stream records refused for a window already closed, since the last call.
  uint64_t TakeLate() { return std::exchange(late_, 0); }
  // The `limit:` applied: the smallest of the members'.
  size_t group_limit() const { return group_limit_; }
  // Its metrics' names, joined by ',': the operator's name on /metrics.
  std::string name() const;
  // Appends the results of every window with end <= frontier.
  void Close(TimeMs frontier, std::vector<WindowResult>* out);

  // On a rule reload: takes over `old`'s panes if it aggregates the same
  // stream into the same panes (same filter, window and grouping), so
  // unchanged metrics continue without a gap. Returns whether it did. The
  // aggregates both have keep their state; those `old` lacks start empty,
  // and `restarted` (may be null) gets the members that read one. Panes
  // whose aggregates would stop (or start) being all invertible are not
  // taken over.
  bool AdoptState(MetricOperator& old, std::vector<int>* restarted = nullptr);

  // Checkpoints: what the panes hold (the state key) and the panes.
  // DecodeState expects the key first and returns false, reading nothing
  // more, when it differs (the rules changed since the checkpoint).
  const std::string& state_key() const { return state_key_; }
  // The state keys checkpoints of earlier versions used for the same
  // state, tried in order after state_key: the `where:` as written, less
  // the spaces at its ends (before 2026-12-07); and for metrics from a
  // stream, also keyed by the stream's whole definition.
  const std::vector<std::string>& older_state_keys() const { return older_state_keys_; }
  // Scale-out: the state key less its aggregates (with the SLO the panes
  // belong to), and each accumulator's key ("quantile(latency_ms)") hashed,
  // in the order a pane holds them. A merge stage adds the accumulators
  // it shares with an instance that runs other rules
  // (operators/scale_out/partials.h).
  const std::string& shape_key() const { return shape_key_; }
  const std::vector<uint64_t>& accumulator_hashes() const { return acc_hashes_; }
  // Appends the indices (MetricDef::index) of the members that read an
  // accumulator marked in `absent` (one flag per accumulator).
  void MembersReading(const std::vector<bool>& absent, std::vector<int>* out) const;
  void EncodeState(Encoder* enc) const { store_->Encode(enc); }
  bool DecodeState(Decoder* dec) { return store_->Decode(dec); }
  // A checkpoint of the same panes (shape_key) with other aggregates, of
  // kinds `old_prototype` and keys `old_hashes`: as AdoptState, the
  // aggregates both have keep their state, and `restarted` (may be null)
  // gets the members that read a new one. False, nothing changed, when the
  // state is unreadable or cannot be taken over.
  bool DecodeRemapped(Decoder* dec, AccSet old_prototype, const std::vector<uint64_t>& old_hashes,
                      std::vector<int>* restarted);

  const std::vector<MetricRef>& members() const { return members_; }
  PaneStore& store() { return *store_; }
  const PaneStore& store() const { return *store_; }
  bool grouped() const { return !members_[0].def->by_slots.empty(); }  // it has a `by:`
  bool from_stream() const { return from_stream_; }
  size_t accumulator_count() const { return inputs_.size(); }

 private:
  struct Input {  // what feeds one accumulator of the shared pane
    AggKind kind;
    bool has_arg;
    const Program* arg;
  };
  struct Binding {  // where one member's aggregate reads its result
    int acc;
    AggKind kind;
    double q;
  };
  const MetricDef& lead() const { return *members_[0].def; }
  // Rewrites `old`, panes of the accumulators `old_hashes`, into this
  // operator's accumulators (PaneStore::Remap); see AdoptState.
  bool RemapFrom(const std::vector<uint64_t>& old_hashes, PaneStore* old,
                 std::vector<int>* restarted) const;
  // The group key of the event with `slots` (a view of the event or of `key`).
  std::string_view GroupKey(const Value* slots, std::string* key) const;
  void CloseWindows(TimeMs frontier, std::vector<WindowResult>* out);
  // An SLO's forecast member (MetricDef::forecast), from the results of
  // this Close from index `first` on.
  void AddForecasts(const MetricRef& m, size_t first, std::vector<WindowResult>* out);

  std::vector<MetricRef> members_;
  std::vector<std::vector<Binding>> bindings_;  // per member, per aggregate
  std::vector<Input> inputs_;
  const FilterBank* bank_;
  int filter_ = -1;
  std::unique_ptr<PaneStore> store_;
  std::string state_key_;
  std::vector<std::string> older_state_keys_;
  std::string shape_key_;
  // Metrics from a stream (KeyByWholeStream): its fingerprint, and the
  // state and shape keys and the older state key less the stream.
  std::string stream_fingerprint_, state_rest_, shape_rest_, as_written_rest_;
  std::vector<uint64_t> acc_hashes_;
  std::vector<DurationMs> views_;  // the store's (PaneStore's constructor)
  std::string key_;
  std::vector<Value> agg_values_;
  size_t group_limit_ = SIZE_MAX;
  PaneStore::Whole whole_;
  const GroupBudget* budget_ = nullptr;
  static constexpr TimeMs kUnknownFrontier = kMinTime;
  const TimeMs* frontier_ = &kUnknownFrontier;
  uint64_t dropped_ = 0;
  uint64_t late_ = 0;
  std::function<bool(std::string_view)> keep_group_;
  bool from_stream_ = false;  // fed by a stream's records, not by events
  // Prefetch's pipeline: the group keys of the last events hinted, by
  // call (empty: nothing to fetch for it).
  static constexpr size_t kManyGroups = 4096;  // fewer stay in cache
  std::array<std::string, kPrefetchDistance> hinted_;
  std::array<bool, kPrefetchDistance> hinted_any_{};
  uint32_t hint_seq_ = 0;
};

// Builds the operators of the metrics of a rule set that read `from` (-1:
// the events; otherwise a stream index), grouping metrics that can share.
std::vector<std::unique_ptr<MetricOperator>> BuildMetricOperators(const RuleSet& rules,
                                                                  FilterBank* bank, int from = -1);

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_METRIC_OPERATOR_H_
