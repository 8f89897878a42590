// operators/dataflow/dataflow.h
//
// Dataflow is the operator graph of one rule set between the parser and
// the alert operator: events feed the metric operators that read events
// and the session operators of `streams:`; each closed session becomes a
// record that feeds the metric operators `from:` its stream.
//
//   events ──> filters ──> metric operators ────────────────┐
//          └─> session operators ──> records ──> metric operators (from:) ──> window results
//
// At a frontier, sessions close first and their records (event time =
// session end - 1 ms, so never behind a window still open) are aggregated
// before any metric window closes: a session that ends by the frontier is
// always in the windows closed at that frontier.
//
// Limits (OperatorLimits): every metric operator holds at most its
// `limit:` of groups, and all of them together at most max_series; every
// stream at most its `limit:` of open sessions. Over a limit, new groups and
// sessions are dropped and counted (TakeDropped of each operator), never
// allocated, so no rule file or input can exhaust memory through them.
//
// Example:
//   Dataflow flow(rules);
//   flow.Add(event);                       // per accepted event
//   std::vector<WindowResult> out;
//   flow.Close(frontier, &out);            // by window end, metric, group
#ifndef VIGIL_OPERATORS_DATAFLOW_DATAFLOW_H_
#define VIGIL_OPERATORS_DATAFLOW_DATAFLOW_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "operators/dataflow/experiment_operator.h"
#include "operators/dataflow/key_origins.h"
#include "operators/dataflow/keyed_operator.h"
#include "operators/dataflow/metric_operator.h"

namespace vigil {

// Job-wide limits on operator state (the job file's `limits:`).
struct OperatorLimits {
  // Groups (series) held by all metric operators together.
  static constexpr size_t kDefaultMaxSeries = 1'000'000;
  size_t max_series = kDefaultMaxSeries;
};

// The limits of a Dataflow built without explicit ones: what the command
// line set for the process (`vigil run --max-series`, `limits.max_series`),
// so a rule reload keeps them. Set before any job starts.
void SetDefaultOperatorLimits(const OperatorLimits& limits);
OperatorLimits DefaultOperatorLimits();

// A record of an output (`outputs:`, OutputDef): its event time, the
// output's index in RuleSet::outputs, the JSON line written for it and its
// key (a stream's or join's key; for events, the first field's value).
struct TappedRecord {
  TimeMs ts;
  uint32_t output;
  std::string line;
  std::string key;
  bool operator<(const TappedRecord& o) const {
    return std::tie(ts, output, line) < std::tie(o.ts, o.output, o.line);
  }
};

class Dataflow : private GroupBudget {
 public:
  explicit Dataflow(const RuleSet& rules) : Dataflow(rules, DefaultOperatorLimits()) {}
  Dataflow(const RuleSet& rules, const OperatorLimits& limits);
  Dataflow(const Dataflow&) = delete;
  Dataflow& operator=(const Dataflow&) = delete;

  void Add(const Event& ev) {
    AddToMetrics(ev);
    for (auto& s : streams_) s.op->Add(ev);
  }
  // The frontier as of the next event Add takes (KeyedOperator::SetFrontier).
  void SetFrontier(TimeMs frontier) {
    frontier_ = frontier;
    for (auto& s : streams_) s.op->SetFrontier(frontier);
  }
  // The same for the metrics only (workers: an event's metric lane).
  void SetMetricsFrontier(TimeMs frontier) { frontier_ = frontier; }
  // Workers (operators/dataflow/workers.h): the two halves of Add, for an
  // event whose metrics and session streams are on different workers.
  void AddToMetrics(const Event& ev) { AddTo(events_, ev); }
  void AddToStream(size_t stream, const Event& ev) { streams_[stream].op->Add(ev); }
  void PrefetchStream(size_t stream, const Event& ev) { streams_[stream].op->Prefetch(ev); }
  void PrefetchMetrics(const Event& ev) {
    for (MetricOperator* op : events_.grouped) op->Prefetch(ev);
  }
  size_t stream_count() const { return streams_.size(); }
  const KeyedOperator& stream(size_t s) const { return *streams_[s].op; }
  KeyedOperator& mutable_stream(size_t s) { return *streams_[s].op; }
  // A hint that `ev` is to be added kPrefetchDistance events from now, so
  // the operators can fetch the state it will touch (operators/parse/parse_ahead.h).
  static constexpr size_t kPrefetchDistance = KeyedOperator::kPrefetchDistance;
  static_assert(kPrefetchDistance == MetricOperator::kPrefetchDistance);
  void Prefetch(const Event& ev) {
    PrefetchMetrics(ev);
    for (auto& s : streams_) s.op->Prefetch(ev);
  }
  // Appends the results of every window with end <= frontier, in the order
  // the alert operator and the sinks require: by window end, then metric
  // (its index in the rule set), then group key. So the same input gives
  // the same output sequence, and an alert reading several metrics sees
  // all of one window end before the next. The results of experiments'
  // input metrics go to their experiment operators, which append their
  // outputs in their place (experiment_operator.h).
  void Close(TimeMs frontier, std::vector<WindowResult>* out);

  // Closes the sessions that end by the frontier, feeding their records to
  // the metrics that read them; no window closes (a scale-out instance,
  // whose windows close in the merge stage).
  void CloseSessions(TimeMs frontier);
  // The same, handing each record to `emit` with its stream's index
  // instead of to the metrics: Workers gather every worker's records and
  // feed them in one order (FeedStream), where which records a metric's
  // limit drops depends on the order. The record's strings are valid
  // during the call only.
  void CloseSessions(TimeMs frontier, const std::function<void(size_t, const Event&)>& emit);
  // A record of stream `stream`, to the metrics (and outputs) that read it.
  void FeedStream(size_t stream, const Event& record) {
    AddRecord(streams_[stream].downstream, record);
  }
  // Whether a metric reads a stream's records.
  bool stream_metrics() const;

  // Record outputs: the records of every output (events as they are added,
  // stream and join records as they are emitted) since the last call, in
  // the order they came; the caller orders them (TappedRecord::operator<)
  // once the frontier has passed their time.
  void TakeTapped(std::vector<TappedRecord>* out);
  // Whether records of outputs are built at all (default yes): a job that
  // writes them nowhere turns it off. Parts (SetWhole) follow their whole.
  // Off, the first event or record an output would have taken is noted
  // (untapped: so the job can say once that it writes them nowhere), and
  // nothing more is looked at.
  void SetTapping(bool on) {
    tapping_ = on;
    ConfigureEmits();
  }
  bool tapping() const { return tapping_; }
  // Whether joins keep only the fields something reads: the metrics of
  // their records, and the outputs while tapping (JoinOperator::SetEmitUse).
  // Off by default: a scale-out instance hands its joins' state over to
  // instances and merges whose outputs may differ. Set it, and tapping,
  // before the joins hold state. Parts (SetWhole) follow their whole.
  void SetLeanJoins(bool on) {
    lean_joins_ = on;
    ConfigureEmits();
  }
  bool lean_joins() const { return lean_joins_; }
  // Tapping and lean joins as `whole` has them (SetWhole does it too).
  void FollowOutputs(const Dataflow& whole) {
    tapping_ = whole.tapping_;
    lean_joins_ = whole.lean_joins_;
    ConfigureEmits();
  }
  bool untapped() const { return untapped_; }
  // Workers: moves every pane of `part`, a Dataflow of the same rules that
  // aggregated part of the events and closes no window, into this one's
  // stores (exact merges), emptying `part`'s. Call part.CloseSessions with
  // the frontier first, so sessions ending by it are in the panes. Returns
  // the panes that could not be merged because a window holding them has
  // closed here already (late).
  uint64_t MergePanesFrom(Dataflow& part);
  // Records of the streams refused since the last call because their window
  // had closed (MetricOperator::TakeLate): state that closed late, as the
  // handed-over sessions a merge stage closes at the end.
  uint64_t TakeLateRecords();
  // Workers: this Dataflow aggregates part of the events of `whole`, whose
  // groups count against the limits as the job's (PaneStore::SetWhole),
  // whose OperatorLimits it takes: `fresh` has a set per metric operator,
  // `fresh_all` counts them all.
  void SetWhole(const Dataflow& whole, PaneStore::FreshGroups* fresh,
                std::atomic<size_t>* fresh_all);
  // The metric operator holding `state_key` (MetricOperator::state_key), or
  // null: how the merge stage finds where a published partial goes.
  MetricOperator* FindMetricOp(std::string_view state_key) const;

  // Scale-out hand-over (handover.h): with origins tracked, every stream
  // remembers per key the input of the key's latest event (KeyOrigins).
  // Off by default; kept across a rule reload (AdoptState).
  void TrackOrigins() { track_origins_ = true; }
  bool tracks_origins() const { return track_origins_; }
  // `ev`, added (Add, AddToStream) from input `input`.
  void NoteOrigins(int input, const Event& ev) {
    if (!track_origins_) return;
    for (size_t s = 0; s < streams_.size(); ++s) NoteOrigin(s, input, ev);
  }
  void NoteOrigin(size_t stream, int input, const Event& ev) {
    if (!track_origins_) return;
    Stream& st = streams_[stream];
    if (st.op->KeyText(ev, &origin_key_)) st.origins.Note(origin_key_, input, *st.op);
  }
  KeyOrigins& origins(size_t stream) { return streams_[stream].origins; }

  // On a rule reload: takes over the state of every operator of `old`
  // defined the same way (and the origins of their keys). Returns how many
  // kept their state; `restarted` (may be null) gets the indices of the
  // metrics whose windows start over, empty, at the reload.
  size_t AdoptState(Dataflow& old, std::vector<int>* restarted = nullptr);

  // Checkpoints: (state key, encoded state) of every stateful operator,
  // and what each metric operator's panes aggregate (kMetricShapesKey).
  std::vector<std::pair<std::string, std::string>> EncodeState() const;
  // Restores the operators whose key is in `saved`, and, as AdoptState
  // does on a reload, the metric operators whose panes only aggregate
  // otherwise there. Returns how many, or -1 when a saved state does not
  // decode. `restarted` (may be null) gets the indices of the metrics
  // that start over, empty: their windows miss the events read before.
  int DecodeState(const std::vector<std::pair<std::string, std::string>>& saved,
                  std::vector<int>* restarted = nullptr);
  static constexpr char kMetricShapesKey[] = "metric shapes/1";
  // After AdoptState or DecodeState: the metrics reading a stream or join
  // that started over (new, or its definition changed), or an emit of a
  // join that the state it took over lacked (kept by a job that had no
  // reader of it), each with how long after the last event read its
  // records may still lack what the old state held (sessions: the gap;
  // joins: the bound), as (metric index, horizon). A session that was open and goes on past that is
  // emitted later with only its later events.
  std::vector<std::pair<int, DurationMs>> StreamsStartedOver() const;
  // The experiments whose outputs are partial since they started over
  // (ExperimentOperator::started_over), by name: their alerts' states end
  // (AlertOperator::StartOverExperiments).
  std::vector<std::string> ExperimentsStartedOver() const;
  size_t state_count() const { return metric_ops_.size() + streams_.size() + experiments_.size(); }

  const std::vector<std::unique_ptr<MetricOperator>>& metric_ops() const { return metric_ops_; }
  std::vector<KeyedOperator*> mutable_stream_ops();
  const OperatorLimits& limits() const { return limits_; }
  // Groups held by every metric operator together.
  size_t series() const;

 private:
  struct Source {
    std::unique_ptr<FilterBank> filters = std::make_unique<FilterBank>();
    std::vector<MetricOperator*> ops;
    // Per class of the bank (FilterBank::Evaluate): the ops whose filter
    // an event of the class can pass, in the order of `ops`.
    std::vector<std::vector<MetricOperator*>> ops_of_class;
    std::vector<MetricOperator*> grouped;                     // the ops with a `by:` (Prefetch)
    std::vector<std::pair<uint32_t, const OutputDef*>> taps;  // outputs reading it
    // Seals the bank and sorts the ops into ops_of_class.
    void Seal();
  };
  void AddTo(Source& src, const Event& ev) {
    const int c = src.filters->Evaluate(ev);
    for (MetricOperator* op : src.ops_of_class[c]) op->Add(ev);
    if (!src.taps.empty()) Tap(src, ev);
  }
  // A stream's record: the frontier as of it, what the metrics' limits
  // read, is its own time (a group with a window open then is live), not
  // that of the close that emits it, so which records a limit drops does
  // not depend on where the closes fall.
  void AddRecord(Source& src, const Event& record) {
    const TimeMs frontier = frontier_;
    frontier_ = record.ts;
    AddTo(src, record);
    frontier_ = frontier;
  }
  void Tap(const Source& src, const Event& ev);
  // Tells each stream which of its emits are read (SetEmitUse).
  void ConfigureEmits();
  void CloseExperiments(std::vector<WindowResult>* out, size_t first);
  // An experiment that kept its sums over the records of a stream that
  // started over (changed) mixes two meanings from now on: its outputs are
  // partial (ExperimentOperator::MarkStartedOver).
  void MarkIfStreamStartedOver(ExperimentOperator& e) const;
  struct Stream {
    std::unique_ptr<KeyedOperator> op;
    Source downstream;
    KeyOrigins origins;
    bool started_over = false;  // by the last AdoptState or DecodeState
    // The emits the state it took over lacked (KeyedOperator::EmitsLackedBy).
    std::vector<bool> lacking;
  };
  // Metric operators over different streams whose records mean the same to
  // them are keyed by their streams' whole definitions (KeyByWholeStream).
  void KeyApartByStream();
  // Whether metric `m` reads an emit of `s` its state lacked.
  static bool ReadsLacking(const MetricDef& m, const Stream& s);
  // GroupBudget: max_series, over every metric operator's groups live at
  // the event (PaneStore::LiveGroups); with workers, every group new to the
  // job this batch counts.
  bool Exhausted(TimeMs frontier, TimeMs t) const override {
    if (whole_ != nullptr) {
      const size_t fresh = fresh_all_->load(std::memory_order_relaxed);
      return whole_->series() + fresh >= limits_.max_series &&
             JobLiveSeries(frontier, t) >= limits_.max_series;
    }
    return series() >= limits_.max_series && LiveSeries(frontier, t) >= limits_.max_series;
  }
  size_t LiveSeries(TimeMs frontier, TimeMs t) const;
  // Workers: the job's live groups and every part's (PaneStore::JobLiveGroups).
  size_t JobLiveSeries(TimeMs frontier, TimeMs t) const;
  // As of the event being added (SetFrontier), or of the close feeding
  // sessions' records to their metrics: what the metric operators' limits
  // read.
  TimeMs frontier_ = kMinTime;

  OperatorLimits limits_;
  const Dataflow* whole_ = nullptr;
  std::atomic<size_t>* fresh_all_ = nullptr;
  std::vector<std::unique_ptr<MetricOperator>> metric_ops_;
  Source events_;
  std::vector<Stream> streams_;
  std::vector<std::unique_ptr<ExperimentOperator>> experiments_;
  std::vector<TappedRecord> tapped_;
  bool tapping_ = true;
  bool lean_joins_ = false;
  bool untapped_ = false;  // tapping off and an output would have taken a record
  bool track_origins_ = false;
  std::string origin_key_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_DATAFLOW_H_
