// operators/dataflow/workers.h
//
// Workers run one rule set's dataflow on N threads (the caller's and N - 1
// of their own). For each batch the job's reader takes:
//
//   1. Parse: the records are cut into N runs, each parsed by one worker,
//      which also works out where every event goes (below).
//   2. The job, on its own thread and in input order, decides which parsed
//      events count (oversized, parse errors, time range, future, late) and
//      calls Accept for them. Lateness is decided against the watermark as
//      of the previous record in input order, so no decision depends on N,
//      on the batches or on which worker parsed what.
//   3. Aggregate: every worker adds, in input order, the accepted events
//      routed to it to its own Dataflow (its own panes and sessions):
//        - the metrics reading events, by the hash of the routing key
//          (`worker_key`, default session_id; round-robin by input position
//          for events without one, or when no rule reads that field); all
//          on worker 0 in a batch where a metric's `limit:` or
//          limits.max_series could drop an event, so that which events a
//          limit drops is decided in input order, as by one worker;
//        - each session stream, by the hash of the stream's own key, so all
//          the events of one session meet on one worker whatever the stream
//          is keyed by (a stream of visitors keyed by user_id as well).
//
// At a frontier, CloseSessions closes the sessions that end by it on every
// worker (their records feed that worker's panes; when a metric reading a
// stream's records could drop one at its `limit:` or limits.max_series,
// the records of every worker are fed on worker 0 instead, merged in the
// order of one operator holding every key: by event time, then key, so
// that which records a limit drops does not depend on N, on the batches
// or on the threads), and MergePanesInto moves
// every worker's panes into the job's Dataflow, which closes the windows
// once, in order (Dataflow::Close). Every aggregate merges exactly (exact
// sums, mergeable sketches, first/last by event time, ties by value), so the
// window results and alerts are byte-identical for any N.
//
// Checkpoints hold the state of one Dataflow whatever N: EncodeState writes
// the workers' sessions as if one operator held them all, and TakeRestored
// hands the sessions of a restored Dataflow out to the workers by key, so a
// checkpoint taken with N workers restores with any other number.
//
// Example:
//   Workers workers(rules, flow, {.workers = 2});
//   workers.Parse(batch);
//   for (size_t i = 0; i < batch.size(); ++i)
//     if (workers.parsed(i).ok && !late) workers.Accept(i);
//   workers.Aggregate(frontier);          // and closes sessions ending by it
//   workers.MergePanesInto(&flow);
//   flow.Close(frontier, &results);
#ifndef VIGIL_OPERATORS_DATAFLOW_WORKERS_H_
#define VIGIL_OPERATORS_DATAFLOW_WORKERS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "operators/dataflow/dataflow.h"
#include "operators/parse/event_parser.h"
#include "operators/parse/parse_ahead.h"
#include "operators/source/record_source.h"
#include "rules/rule_set.h"

namespace vigil {

class Workers {
 public:
  struct Options {
    int workers = 2;
    // The field whose hash picks the worker of an event's metrics.
    std::string key = "session_id";
    size_t max_record_bytes = 1 << 20;
  };
  using Parsed = ParseAhead::Parsed;

  // `main`: the job's Dataflow of the same rules, into which the workers'
  // panes are merged; its groups count against the limits with theirs.
  Workers(const RuleSet& rules, const Dataflow& main, const Options& options);
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  int size() const { return static_cast<int>(workers_.size()); }

  // Parses every record of `batch` (not the oversized ones), in parallel.
  // parsed(i) stays valid until the next Parse; `batch` must outlive it.
  void Parse(const std::vector<Record>& batch);
  const Parsed& parsed(size_t i) const { return parsed_[i]; }
  // Record i of the last Parse is to be aggregated. In input order.
  // `frontier`: as of event i (KeyedOperator::SetFrontier).
  void Accept(size_t i, TimeMs frontier = kMinTime) {
    accepted_.push_back(static_cast<uint32_t>(i));
    frontiers_.push_back(frontier);
  }
  // Every worker aggregates the accepted events routed to it, in order,
  // then closes its sessions that end by `close_sessions` (kMinTime: none):
  // one step for both, so a worker never waits for the others in between.
  void Aggregate(TimeMs close_sessions = kMinTime);

  // Closes, on every worker, the sessions that end by `frontier`.
  void CloseSessions(TimeMs frontier);
  // Moves every worker's panes into `into` (a Dataflow of the same rules).
  // Returns the panes of windows `into` had closed already (none, when the
  // job closes windows only after MergePanesInto).
  uint64_t MergePanesInto(Dataflow* into);

  // Checkpoints: the state of `main` (metric operators: call MergePanesInto
  // first) and the workers' sessions, in Dataflow::EncodeState's format.
  std::vector<std::pair<std::string, std::string>> EncodeState(const Dataflow& main) const;
  // After `main`'s state is restored or adopted: points the workers'
  // metrics at `main`'s panes again (a restored metric operator may hold
  // new ones, e.g. the same panes under other aggregates), and moves the
  // sessions of `main` to the workers that own their keys; `main` keeps
  // none.
  void TakeRestored(Dataflow* main);
  // `key` of stream `s` came from `input`, on the worker that holds it (a
  // scale-out instance's restored origins, handover.h).
  void SetOrigin(size_t s, std::string_view key, int input);
  // A rule reload: every worker's Dataflow is rebuilt for `rules`, keeping
  // the state of the operators defined the same way; `main` is the job's
  // Dataflow for them.
  void Reload(const RuleSet& rules, const Dataflow& main);
  // Groups the workers hold that the job's Dataflow does not (yet): with
  // its series, the job's (vigil_series).
  size_t fresh_groups() const { return fresh_all_.load(std::memory_order_relaxed); }

  // The workers' Dataflows, for their gauges and counters (/metrics).
  std::vector<Dataflow*> flows();
  // Open sessions and records emitted of stream `s`, over every worker.
  size_t open_sessions(size_t s) const;
  uint64_t emitted(size_t s) const;

 private:
  struct Worker;
  static constexpr uint8_t kNowhere = 0xFF;  // a stream event without a key

  void Configure(const RuleSet& rules, const Dataflow& main);
  // Runs fn(w) for every worker w, the caller's thread as worker 0; returns
  // when all have finished.
  void RunAll(const std::function<void(int)>& fn);
  void ThreadMain(int w);
  void ParseRun(int w, size_t begin, size_t end);
  uint8_t RouteText(std::string_view text) const;

  // Whether a limit (a metric's `limit:` or limits.max_series) could drop
  // one of `events` more events: then Aggregate adds the events to the
  // metrics on one worker, in input order, as one job would.
  bool LimitsMayBind(size_t events) const;
  // Whether a limit could drop one of the records CloseSessions(frontier)
  // emits (each metric at most the records of its own stream,
  // KeyedOperator::MostRecordsBy).
  bool StreamLimitsMayBind(TimeMs frontier) const;
  // CloseSessions when StreamLimitsMayBind: every worker closes its
  // sessions into its `closed` records, then worker 0 takes them all, per
  // stream in order of event time, then key.
  void CloseSessionsInOrder(TimeMs frontier);

  Options options_;
  const RuleSet* rules_ = nullptr;
  const Dataflow* main_ = nullptr;
  int key_slot_ = -1;            // of options_.key; -1 when no rule reads it
  bool stream_metrics_ = false;  // a metric reads a stream's records
  size_t stride_ = 1;            // route entries per record: metrics, then each stream
  std::vector<std::unique_ptr<Worker>> workers_;
  // Groups new to the job since the last merge, per metric operator and in
  // all (PaneStore::SetWhole).
  std::unique_ptr<PaneStore::FreshGroups[]> fresh_;
  size_t fresh_count_ = 0;
  std::atomic<size_t> fresh_all_{0};
  std::vector<Parsed> parsed_;
  std::vector<int> inputs_;         // of the last Parse's records (Record::input)
  std::vector<uint8_t> route_;      // record i: route_[i * stride_ + 0 / 1 + s]
  std::vector<uint32_t> accepted_;  // of the last Parse, in input order
  std::vector<TimeMs> frontiers_;   // as of each accepted event
  const std::vector<Record>* batch_ = nullptr;
  uint64_t position_ = 0;  // records parsed before this batch (round-robin)

  // RunAll's hand-off. `task_` and `quit_` are written before the
  // generation moves (release) and read after it is seen (acquire); the
  // workers' writes are seen once `running_` drops to 0 (acq_rel). Both
  // sides spin a little before sleeping in a futex wait: waking a sleeping
  // thread costs a few hundred microseconds on a virtual machine, twice per
  // batch, while the gap between two tasks is usually shorter.
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> running_{0};
  bool quit_ = false;
  const std::function<void(int)>* task_ = nullptr;
  bool spin_ = true;  // no more workers than cores
  std::vector<std::thread> threads_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_WORKERS_H_
