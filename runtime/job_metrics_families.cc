// The families JobMetrics registers, by the part of the job they are
// about (runtime/job_metrics.h); job_metrics.cc updates them.
#include <string>

#include "runtime/job_metrics.h"

namespace vigil {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

// Records, dead letters, alert states, the watermark and window ends.
void JobMetrics::RegisterEventsAndAlerts(prometheus::Registry& r) {
  events_in_ = &BuildCounter()
                    .Name("vigil_events_in_total")
                    .Help("Records read from the source")
                    .Register(r)
                    .Add({});
  events_processed_ = &BuildCounter()
                           .Name("vigil_events_processed_total")
                           .Help("Events that passed parsing and lateness checks")
                           .Register(r)
                           .Add({});
  late_events_ = &BuildCounter()
                      .Name("vigil_late_events_total")
                      .Help("Events behind the watermark by more than the allowed lateness")
                      .Register(r)
                      .Add({});
  window_results_ = &BuildCounter()
                         .Name("vigil_window_results_total")
                         .Help("Closed windows emitted, all metrics and groups")
                         .Register(r)
                         .Add({});
  auto& dead = BuildCounter()
                   .Name("vigil_dead_letter_total")
                   .Help("Records sent to the dead-letter output, by reason")
                   .Register(r);
  for (int i = 0; i < kDeadReasonCount; ++i) {
    dead_letter_[i] =
        &dead.Add({{"reason", std::string(DeadReasonName(static_cast<DeadReason>(i)))}});
  }
  auto& firing = BuildGauge()
                     .Name("vigil_alerts_firing")
                     .Help("Alert groups currently firing, by severity")
                     .Register(r);
  for (int i = 0; i < 4; ++i) {
    firing_[i] =
        &firing.Add({{"severity", std::string(SeverityName(static_cast<Severity>(i + 1)))}});
  }
  transitions_ = &BuildCounter()
                      .Name("vigil_alert_transitions_total")
                      .Help("Alert state transitions, by severity and new state")
                      .Register(r);
  // Both appear with the first watermark: never a 1970 watermark, or a lag
  // of 0 before anything was read.
  watermarks_ = &BuildGauge()
                     .Name("vigil_watermark_timestamp_seconds")
                     .Help("Job watermark (event time), seconds since the epoch")
                     .Register(r);
  watermark_lags_ = &BuildGauge()
                         .Name("vigil_watermark_lag_seconds")
                         .Help(
                             "Processing time minus the job watermark; 0 when event time runs "
                             "ahead of the clock")
                         .Register(r);
  BuildGauge()
      .Name("vigil_build_info")
      .Help("Build information")
      .Register(r)
      .Add({{"version", VIGIL_VERSION}})
      .Set(1);
  window_ends_ = &BuildGauge()
                      .Name("vigil_metric_window_end_timestamp_seconds")  // kWindowEndGauge
                      .Help(
                          "End of the latest closed window of each rule metric (from its first "
                          "window on)")
                      .Register(r);
}

// Rule reloads, the source and the session streams.
void JobMetrics::RegisterRulesAndSources(prometheus::Registry& r) {
  reloads_ = &BuildCounter()
                  .Name("vigil_rule_reloads_total")
                  .Help("Rule reloads (SIGHUP, POST /-/reload), by result")
                  .Register(r);
  reloads_->Add({{"result", "success"}});
  reloads_->Add({{"result", "failure"}});
  last_reload_ok_ = &BuildGauge()
                         .Name("vigil_rules_last_reload_successful")
                         .Help("1 if the last rule reload succeeded (or none happened)")
                         .Register(r)
                         .Add({});
  last_reload_ok_->Set(1);
  source_lag_ = &BuildGauge()
                     .Name("vigil_source_lag")
                     .Help(
                         "How far each source input (partition, shard) is behind its end; "
                         "the unit label says in what")
                     .Register(r);
  stream_sessions_ = &BuildGauge()
                          .Name("vigil_stream_open_sessions")
                          .Help("Sessions of each stream open (not yet past their gap)")
                          .Register(r);
  stream_records_ = &BuildGauge()
                         .Name("vigil_stream_records")
                         .Help("Records (closed sessions) each stream has emitted since start")
                         .Register(r);
  source_up_ = &BuildGauge()
                    .Name("vigil_source_connected")
                    .Help("1 while the source reaches its servers")
                    .Register(r)
                    .Add({});
  source_up_->Set(1);
}

// Checkpoints.
void JobMetrics::RegisterCheckpoints(prometheus::Registry& r) {
  auto& ckpt = BuildCounter()
                   .Name("vigil_checkpoints_total")
                   .Help("Checkpoints written, by result")
                   .Register(r);
  checkpoints_ok_ = &ckpt.Add({{"result", "success"}});
  checkpoints_failed_ = &ckpt.Add({{"result", "failure"}});
  checkpoints_skipped_ = &BuildCounter()
                              .Name("vigil_checkpoints_corrupt_total")
                              .Help(
                                  "Checkpoint files found corrupt or truncated at start "
                                  "(the previous good one was used)")
                              .Register(r)
                              .Add({});
  checkpoint_seconds_ = &BuildGauge()
                             .Name("vigil_checkpoint_duration_seconds")
                             .Help("Time the last checkpoint took to write")
                             .Register(r)
                             .Add({});
  checkpoint_bytes_ = &BuildGauge()
                           .Name("vigil_checkpoint_size_bytes")
                           .Help("Size of the last checkpoint")
                           .Register(r)
                           .Add({});
  checkpoint_last_ = &BuildGauge()
                          .Name("vigil_checkpoint_last_success_timestamp_seconds")
                          .Help("Wall-clock time of the last successful checkpoint")
                          .Register(r)
                          .Add({});
}

// Outputs and notification targets.
void JobMetrics::RegisterOutputs(prometheus::Registry& r) {
  sink_messages_ = &BuildCounter()
                        .Name("vigil_sink_messages_total")
                        .Help("Messages written by each output, by result (delivered, failed)")
                        .Register(r);
  notifications_ = &BuildCounter()
                        .Name("vigil_notifications_total")
                        .Help(
                            "Alert notifications per receiver and target, by result: sent, "
                            "failed (rejected), retried, dropped (spool bound), coalesced, "
                            "dropped_memory (held in memory only, over its bound)")
                        .Register(r);
  notify_queued_ = &BuildGauge()
                        .Name("vigil_notifications_spooled")
                        .Help("Notifications waiting in each target's spool")
                        .Register(r);
  notify_memory_ = &BuildGauge()
                        .Name("vigil_notify_memory_queue")
                        .Help(
                            "Notifications waiting in each target's spool that are not on "
                            "disk (the spool cannot be written, or has no directory)")
                        .Register(r);
  notify_spool_healthy_ = &BuildGauge()
                               .Name("vigil_notify_spool_healthy")
                               .Help(
                                   "1 while each target's spool holds on disk everything "
                                   "it queues; 0 while it cannot be written (/readyz is 503)")
                               .Register(r);
  notify_spool_failures_ = &BuildCounter()
                                .Name("vigil_notify_spool_write_failures_total")
                                .Help("Failed writes of each target's spool, every attempt")
                                .Register(r);
}

// State: operator memory, series and stream limits, fields, joins, stalls.
void JobMetrics::RegisterState(prometheus::Registry& r) {
  operator_memory_ = &BuildGauge()
                          .Name("vigil_operator_memory_bytes")
                          .Help(
                              "Estimated bytes of state each operator holds: a metric "
                              "operator's panes (kind metrics; operator names its metrics) or "
                              "a stream's open sessions (kind stream)")
                          .Register(r);
  series_ = &BuildGauge()
                 .Name("vigil_series")
                 .Help(
                     "Groups (series) the metric operators hold panes for, all together; "
                     "at most limits.max_series")
                 .Register(r)
                 .Add({});
  series_dropped_ = &BuildCounter()
                         .Name("vigil_series_dropped_events_total")
                         .Help(
                             "Events a metric did not aggregate because their group would "
                             "have been a new series over the metric's limit or limits.max_series")
                         .Register(r);
  stream_dropped_ = &BuildCounter()
                         .Name("vigil_stream_dropped_events_total")
                         .Help(
                             "Events a stream did not take because they would have opened a "
                             "session over the stream's limit")
                         .Register(r);
  field_unseen_ = &BuildGauge()
                       .Name("vigil_rule_field_unseen")
                       .Help(
                           "1 while no accepted event has carried this field a rule reads (a "
                           "misspelt field is always missing), 0 once one has; since the start")
                       .Register(r);
  join_unmatched_ = &BuildCounter()
                         .Name("vigil_join_unmatched_total")
                         .Help(
                             "Events of each side of a join that no event of the other side "
                             "matched within the bound")
                         .Register(r);
  watermark_stall_ = &BuildGauge()
                          .Name("vigil_watermark_stall_seconds")
                          .Help(
                              "Processing time the watermark has not advanced while events "
                              "kept arriving (0 once it advances or every input is idle)")
                          .Register(r)
                          .Add({});
  watermark_stalled_ = &BuildGauge()
                            .Name("vigil_watermark_stalled")
                            .Help(
                                "1 while that is over readiness.max_watermark_stall "
                                "(/readyz answers 503)")
                            .Register(r)
                            .Add({});
}

// The raw-event archive.
void JobMetrics::RegisterArchive(prometheus::Registry& r) {
  archive_records_ = &BuildCounter()
                          .Name("vigil_archive_records_total")
                          .Help("Raw events written to the archive (in batches its manifest lists)")
                          .Register(r)
                          .Add({});
  archive_batches_ = &BuildCounter()
                          .Name("vigil_archive_batches_total")
                          .Help("Archive batch files written and listed in the manifest")
                          .Register(r)
                          .Add({});
  archive_bytes_ = &BuildCounter()
                        .Name("vigil_archive_bytes_total")
                        .Help("Compressed bytes of the archive batch files written")
                        .Register(r)
                        .Add({});
  archive_errors_ = &BuildCounter()
                         .Name("vigil_archive_errors_total")
                         .Help(
                             "Failed archive writes (each attempt; the batch is retried) and "
                             "deletions")
                         .Register(r)
                         .Add({});
  archive_dropped_ = &BuildCounter()
                          .Name("vigil_archive_dropped_records_total")
                          .Help(
                              "Raw events given up because too many batches waited to be "
                              "written")
                          .Register(r)
                          .Add({});
  archive_pending_ = &BuildGauge()
                          .Name("vigil_archive_pending_batches")
                          .Help("Closed archive batches waiting in memory for a retry")
                          .Register(r)
                          .Add({});
}

void JobMetrics::RegisterResultsDatabase(prometheus::Registry& r) {
  auto& rows = BuildCounter()
                   .Name("vigil_results_database_rows_total")
                   .Help("Rows committed to the results database, by table (windows, alerts)")
                   .Register(r);
  db_windows_ = &rows.Add({{"table", "windows"}});
  db_alerts_ = &rows.Add({{"table", "alerts"}});
  auto& transactions = BuildCounter()
                           .Name("vigil_results_database_transactions_total")
                           .Help(
                               "Transactions of the results database by result: committed, "
                               "failed (each retried until it commits)")
                           .Register(r);
  db_committed_ = &transactions.Add({{"result", "committed"}});
  db_failed_ = &transactions.Add({{"result", "failed"}});
  db_dropped_ = &BuildCounter()
                     .Name("vigil_results_database_dropped_rows_total")
                     .Help("Rows given up because too many waited for the results database")
                     .Register(r)
                     .Add({});
  db_rejected_ = &BuildCounter()
                      .Name("vigil_results_database_rejected_rows_total")
                      .Help("Rows the results database refused (each logged)")
                      .Register(r)
                      .Add({});
  db_deleted_ = &BuildCounter()
                     .Name("vigil_results_database_deleted_rows_total")
                     .Help("Rows the results database's retention deleted")
                     .Register(r)
                     .Add({});
  db_queued_ = &BuildGauge()
                    .Name("vigil_results_database_queued_rows")
                    .Help("Rows waiting in memory to be written to the results database")
                    .Register(r)
                    .Add({});
}

}  // namespace vigil
