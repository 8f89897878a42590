// runtime/job_metrics.h
//
// The job's own health on /metrics (prometheus-cpp), and the latest closed
// window of every rule metric as a gauge per group. Counters are updated by
// the job thread and read by the HTTP thread; prometheus-cpp's metrics are
// atomic, and a family's Add is internally locked.
//
// Exposed (all prefixed vigil_):
//   events_in_total, events_processed_total, dead_letter_total{reason},
//   late_events_total, window_results_total, watermark_timestamp_seconds,
//   watermark_lag_seconds, alerts_firing{severity},
//   alert_transitions_total{severity,state}, build_info{version},
//   metric_<name>{<by labels>} (one family per rule metric),
//   metric_window_end_timestamp_seconds{metric}, rule_reloads_total{result},
//   rules_last_reload_successful, and the raw-event archive's
//   archive_records_total, archive_batches_total, archive_bytes_total,
//   archive_errors_total, archive_dropped_records_total and
//   archive_pending_batches; the results database's
//   results_database_rows_total{table}, results_database_transactions_total
//   {result}, results_database_queued_rows, results_database_dropped_rows_total,
//   results_database_rejected_rows_total and results_database_deleted_rows_total.
// Readiness: watermark_stall_seconds, watermark_stalled.
// Paging: notifications_total{receiver,target,result},
// notifications_spooled, notify_memory_queue, notify_spool_healthy and
// notify_spool_write_failures_total, each {receiver,target}.
// Limits (SetOperators): operator_memory_bytes{operator,kind}, series,
// series_dropped_events_total{metric}, stream_dropped_events_total{stream};
// joins: join_unmatched_total{join,side}. Fields: rule_field_unseen{field}.
//
// The job's counters (events_in_total, events_processed_total,
// late_events_total, dead_letter_total, window_results_total) show the
// JobCounters the job counts in, which continue across restarts from a
// checkpoint: SetCounters after each batch.
//
// Example:
//   JobMetrics m(rules);
//   m.SetCounters(counters);
//   m.SetWindows(results);   // the windows one close of the dataflow gave
#ifndef VIGIL_RUNTIME_JOB_METRICS_H_
#define VIGIL_RUNTIME_JOB_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>
#include <map>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "operators/archive/archive_writer.h"
#include "operators/dataflow/dataflow.h"
#include "operators/dataflow/sink.h"
#include "operators/notify/notify_target.h"
#include "operators/parse/event_parser.h"
#include "operators/warehouse/warehouse_sink.h"
#include "rules/rule_set.h"
#include "runtime/job_counters.h"

namespace vigil {

class JobMetrics {
 public:
  explicit JobMetrics(const RuleSet& rules);

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  // Brings the counters above up to `c` (they only grow: a smaller value
  // is left as it is).
  void SetCounters(const JobCounters& c);
  // The complete windows of one close of the dataflow (partial ones are
  // skipped): each metric shows its latest window's series, and a series
  // that has no result in it is removed (it is no longer current).
  void SetWindows(const std::vector<WindowResult>& results);
  void Transition(const AlertNotice& n);
  void SetFiring(Severity s, int n) { firing_[static_cast<int>(s) - 1]->Set(n); }
  void SetWatermark(TimeMs watermark, TimeMs now);
  // After a rule reload: gauges for the new rule set's metrics (families of
  // metrics that stay are kept; a family is never unregistered, so a
  // scraper sees no series vanish mid-scrape).
  void Rebind(const RuleSet& rules);
  void Reloaded(bool ok);
  // Per-input source lag (Kafka: records behind the partition's end; Kinesis:
  // milliseconds behind latest); a negative lag (unknown) is not shown.
  void SetSourceLag(const std::string& input, const char* unit, int64_t lag);
  void SetSourceConnected(bool up) { source_up_->Set(up ? 1 : 0); }
  void Checkpointed(bool ok, double seconds, size_t bytes, TimeMs now);
  void CheckpointSkipped() { checkpoints_skipped_->Increment(); }
  // Scale-out: publications of an instance (ok or failed), and messages of
  // the partials topic at the merge stage by outcome (panes, heartbeat,
  // incomplete, late, unknown_metric, malformed, duplicate, state, aborted).
  void PartialsPublished(bool ok, uint64_t messages);
  void MergeMessage(const char* outcome);
  // Keys whose open state (sessions, join events) an instance handed over
  // with partitions ("out") or took over ("in").
  void KeysHandedOver(const char* direction, uint64_t keys);
  // Messages an output delivered and failed to deliver, as totals.
  void SetSinkCounts(const std::string& sink, uint64_t delivered, uint64_t failed);
  // Paging: per receiver and target, totals and the queue depth.
  void SetNotifyStats(const std::vector<ReceiverStats>& stats);
  // Session streams: open sessions and records emitted so far, per stream.
  void SetStream(const std::string& stream, size_t open_sessions, uint64_t records);
  // Operator state: the memory each metric operator and stream holds (an
  // estimate, see PaneStore::memory_bytes and SessionOperator), the series
  // held, and the events dropped over the limits since the last call (it
  // takes them from the operators).
  // `flows`: the job's Dataflow and its workers' (summed per operator);
  // `series`: the groups the job holds (vigil_series).
  // Events a metric or stream left out at its limit since the start of
  // this process, by "metric NAME" or "stream NAME" (SetOperators takes
  // them from the operators).
  const std::map<std::string, uint64_t>& left_out() const { return left_out_; }
  void SetOperators(const std::vector<Dataflow*>& flows, size_t series);
  // How long the watermark has not advanced while events kept arriving, and
  // whether that is over readiness.max_watermark_stall (/readyz is 503).
  void SetWatermarkStall(double seconds, bool over) {
    watermark_stall_->Set(seconds);
    watermark_stalled_->Set(over ? 1 : 0);
  }
  // The raw-event archive's totals.
  void SetArchiveStats(const ArchiveStats& stats);
  // Thread-safe.
  void SetResultsDatabaseStats(const WarehouseSink::Stats& stats);
  // vigil_rule_field_unseen{field}: 1 while no accepted event has carried
  // the field (since the start or a restart), 0 once one has.
  void SetFieldPresence(const std::vector<std::pair<std::string, bool>>& fields);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  JobCounters shown_;  // what the counters below show
  prometheus::Counter* events_in_ = nullptr;
  prometheus::Counter* events_processed_ = nullptr;
  prometheus::Counter* late_events_ = nullptr;
  prometheus::Counter* window_results_ = nullptr;
  std::array<prometheus::Counter*, kDeadReasonCount> dead_letter_{};
  prometheus::Family<prometheus::Counter>* partials_ = nullptr;
  prometheus::Family<prometheus::Counter>* handover_ = nullptr;
  prometheus::Gauge* partials_messages_ = nullptr;
  prometheus::Family<prometheus::Counter>* merge_ = nullptr;
  std::array<prometheus::Gauge*, 4> firing_{};
  prometheus::Family<prometheus::Gauge>* watermarks_ = nullptr;
  prometheus::Family<prometheus::Gauge>* watermark_lags_ = nullptr;
  prometheus::Gauge* watermark_ = nullptr;      // from the first watermark on
  prometheus::Gauge* watermark_lag_ = nullptr;  // from the first watermark on
  prometheus::Family<prometheus::Counter>* transitions_ = nullptr;
  std::vector<prometheus::Family<prometheus::Gauge>*> metric_families_;  // by metric index
  std::vector<double> export_scales_;            // by metric index (`unit:`)
  std::vector<prometheus::Gauge*> window_end_;   // by metric index
  std::vector<std::string> rules_metric_names_;  // by metric index
  std::map<std::string, uint64_t> left_out_;
  // The series each scope (SeriesScope: a metric, or an experiment's
  // outputs) shows: those of its latest window, with their families.
  using Shown = std::pair<prometheus::Family<prometheus::Gauge>*, prometheus::Gauge*>;
  std::map<std::string, std::vector<Shown>> series_shown_;
  std::map<std::string, prometheus::Family<prometheus::Gauge>*> families_by_name_;
  prometheus::Family<prometheus::Gauge>* window_ends_ = nullptr;
  prometheus::Family<prometheus::Counter>* reloads_ = nullptr;
  prometheus::Gauge* last_reload_ok_ = nullptr;
  prometheus::Family<prometheus::Gauge>* source_lag_ = nullptr;
  std::map<std::string, prometheus::Gauge*> source_lag_by_input_;
  prometheus::Gauge* source_up_ = nullptr;
  prometheus::Counter* checkpoints_ok_ = nullptr;
  prometheus::Counter* checkpoints_failed_ = nullptr;
  prometheus::Counter* checkpoints_skipped_ = nullptr;
  prometheus::Gauge* checkpoint_seconds_ = nullptr;
  prometheus::Gauge* checkpoint_bytes_ = nullptr;
  prometheus::Gauge* checkpoint_last_ = nullptr;
  prometheus::Family<prometheus::Counter>* sink_messages_ = nullptr;
  prometheus::Family<prometheus::Counter>* notifications_ = nullptr;
  prometheus::Family<prometheus::Gauge>* notify_queued_ = nullptr;
  prometheus::Family<prometheus::Gauge>* notify_memory_ = nullptr;
  prometheus::Family<prometheus::Gauge>* notify_spool_healthy_ = nullptr;
  prometheus::Family<prometheus::Counter>* notify_spool_failures_ = nullptr;
  prometheus::Family<prometheus::Gauge>* stream_sessions_ = nullptr;
  prometheus::Family<prometheus::Gauge>* stream_records_ = nullptr;
  prometheus::Family<prometheus::Gauge>* operator_memory_ = nullptr;
  std::map<std::string, prometheus::Gauge*> operator_memory_by_name_;
  prometheus::Gauge* series_ = nullptr;
  prometheus::Family<prometheus::Counter>* series_dropped_ = nullptr;
  prometheus::Family<prometheus::Counter>* stream_dropped_ = nullptr;
  prometheus::Family<prometheus::Counter>* join_unmatched_ = nullptr;
  prometheus::Family<prometheus::Gauge>* field_unseen_ = nullptr;
  std::map<std::string, prometheus::Gauge*> field_unseen_by_name_;
  prometheus::Gauge* watermark_stall_ = nullptr;
  prometheus::Gauge* watermark_stalled_ = nullptr;
  prometheus::Counter* archive_records_ = nullptr;
  prometheus::Counter* archive_batches_ = nullptr;
  prometheus::Counter* archive_bytes_ = nullptr;
  prometheus::Counter* archive_errors_ = nullptr;
  prometheus::Counter* archive_dropped_ = nullptr;
  prometheus::Gauge* archive_pending_ = nullptr;
  // The families of the registry, in the order /metrics lists them.
  void RegisterEventsAndAlerts(prometheus::Registry& r);
  void RegisterRulesAndSources(prometheus::Registry& r);
  void RegisterCheckpoints(prometheus::Registry& r);
  void RegisterOutputs(prometheus::Registry& r);
  void RegisterState(prometheus::Registry& r);
  void RegisterArchive(prometheus::Registry& r);
  void RegisterResultsDatabase(prometheus::Registry& r);
  absl::Mutex db_mu_;
  prometheus::Counter* db_windows_ = nullptr;
  prometheus::Counter* db_alerts_ = nullptr;
  prometheus::Counter* db_committed_ = nullptr;
  prometheus::Counter* db_failed_ = nullptr;
  prometheus::Counter* db_dropped_ = nullptr;
  prometheus::Counter* db_deleted_ = nullptr;
  prometheus::Counter* db_rejected_ = nullptr;
  prometheus::Gauge* db_queued_ = nullptr;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_JOB_METRICS_H_
