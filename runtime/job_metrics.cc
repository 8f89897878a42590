#include "runtime/job_metrics.h"

#include <algorithm>
#include <map>
#include <set>

#include "base/strings.h"
#include "operators/dataflow/join_operator.h"
#include "runtime/latest_windows.h"

namespace vigil {

using prometheus::BuildCounter;
using prometheus::BuildGauge;

JobMetrics::JobMetrics(const RuleSet& rules) : registry_(std::make_shared<prometheus::Registry>()) {
  auto& r = *registry_;
  RegisterEventsAndAlerts(r);
  RegisterRulesAndSources(r);
  RegisterCheckpoints(r);
  RegisterOutputs(r);
  RegisterState(r);
  RegisterArchive(r);
  RegisterResultsDatabase(r);
  Rebind(rules);
}

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

void JobMetrics::SetFieldPresence(const std::vector<std::pair<std::string, bool>>& fields) {
  for (const auto& [field, seen] : fields) {
    prometheus::Gauge*& g = field_unseen_by_name_[field];
    if (g == nullptr) g = &field_unseen_->Add({{"field", field}});
    g->Set(seen ? 0 : 1);
  }
}

void JobMetrics::Rebind(const RuleSet& rules) {
  // A metric the rules no longer define leaves /metrics with its window
  // end, as a series without a current window does (SetWindows).
  std::set<std::string> names;
  for (const MetricDef& m : rules.metrics) names.insert(m.name);
  for (size_t i = 0; i < rules_metric_names_.size(); ++i) {
    if (window_end_[i] != nullptr && !names.contains(rules_metric_names_[i])) {
      window_ends_->Remove(window_end_[i]);
    }
  }
  std::set<std::string> exported_names;
  for (const MetricDef& m : rules.metrics) exported_names.insert(ExportName(m.name, m.unit).name);
  for (auto it = families_by_name_.begin(); it != families_by_name_.end();) {
    if (exported_names.contains(it->first)) {
      ++it;
      continue;
    }
    for (auto& [scope, shown] : series_shown_) {
      std::erase_if(shown, [&](const Shown& g) { return g.first == it->second; });
    }
    registry_->Remove(*it->second);
    it = families_by_name_.erase(it);
  }
  metric_families_.clear();
  window_end_.clear();
  rules_metric_names_.clear();
  export_scales_.clear();
  for (const MetricDef& m : rules.metrics) {
    const ExportedName exported = ExportName(m.name, m.unit);
    export_scales_.push_back(exported.scale);
    auto it = families_by_name_.find(exported.name);
    if (it == families_by_name_.end()) {
      auto& family =
          BuildGauge()
              .Name(exported.name)
              .Help(m.help.empty() ? StrCat(m.value_source, " over ", m.window.ToString()) : m.help)
              .Register(*registry_);
      it = families_by_name_.emplace(exported.name, &family).first;
    }
    metric_families_.push_back(it->second);
    rules_metric_names_.push_back(m.name);
    window_end_.push_back(nullptr);  // from the metric's first window on: never a 1970 end
  }
}

void JobMetrics::Reloaded(bool ok) {
  reloads_->Add({{"result", ok ? "success" : "failure"}}).Increment();
  last_reload_ok_->Set(ok ? 1 : 0);
}

void JobMetrics::SetCounters(const JobCounters& c) {
  auto bring = [](prometheus::Counter* counter, uint64_t* shown, uint64_t value) {
    if (value <= *shown) return;
    counter->Increment(static_cast<double>(value - *shown));
    *shown = value;
  };
  bring(events_in_, &shown_.records, c.records);
  bring(events_processed_, &shown_.processed, c.processed);
  bring(late_events_, &shown_.late, c.late);
  bring(window_results_, &shown_.windows, c.windows);
  for (int i = 0; i < kDeadReasonCount; ++i) {
    bring(dead_letter_[i], &shown_.dead_letters[i], c.dead_letters[i]);
  }
}

void JobMetrics::SetWindows(const std::vector<WindowResult>& results) {
  std::map<std::string, TimeMs> latest;  // by scope: the end of its latest complete window here
  for (const WindowResult& r : results) {
    if (r.partial) continue;
    auto [it, fresh] = latest.emplace(SeriesScope(r), r.end);
    if (!fresh) it->second = std::max(it->second, r.end);
  }
  std::map<std::string, std::vector<Shown>> shown;
  std::map<int, TimeMs> metric_end;  // by metric: the end it shows now
  for (const WindowResult& r : results) {
    if (r.partial) continue;
    const std::string scope = SeriesScope(r);
    if (r.end != latest[scope]) continue;
    std::map<std::string, std::string> labels;
    for (size_t i = 0; i < r.labels.size(); ++i) labels[r.def->by[i]] = r.labels[i];
    prometheus::Family<prometheus::Gauge>* family = metric_families_[r.metric];
    prometheus::Gauge& g = family->Add(labels);
    g.Set(r.value * export_scales_[r.metric]);
    shown[scope].emplace_back(family, &g);
    metric_end[r.metric] = r.end;
  }
  for (auto& [scope, gauges] : shown) {
    // A series without a result in its scope's latest window (no event of
    // its group) is not current: removed, as a scrape target drops it.
    std::sort(gauges.begin(), gauges.end());
    for (const Shown& g : series_shown_[scope]) {
      if (!std::binary_search(gauges.begin(), gauges.end(), g)) g.first->Remove(g.second);
    }
    series_shown_[scope] = std::move(gauges);
  }
  for (const auto& [metric, end_ms] : metric_end) {
    prometheus::Gauge*& end = window_end_[metric];
    if (end == nullptr) end = &window_ends_->Add({{"metric", rules_metric_names_[metric]}});
    end->Set(static_cast<double>(end_ms) / 1000.0);
  }
}

void JobMetrics::Transition(const AlertNotice& n) {
  transitions_
      ->Add({{"severity", std::string(SeverityName(n.def->severity))},
             {"state", std::string(TransitionName(n.transition))}})
      .Increment();
}

void JobMetrics::SetWatermark(TimeMs watermark, TimeMs now) {
  if (watermark == kMinTime || watermark == kMaxTime) return;
  if (watermark_ == nullptr) {
    watermark_ = &watermarks_->Add({});
    watermark_lag_ = &watermark_lags_->Add({});
  }
  watermark_->Set(static_cast<double>(watermark) / 1000.0);
  // Event time ahead of the clock (an accelerated generator, a producer's
  // clock ahead of this host's): no lag.
  watermark_lag_->Set(static_cast<double>(std::max<TimeMs>(0, now - watermark)) / 1000.0);
}

void JobMetrics::SetSourceLag(const std::string& input, const char* unit, int64_t lag) {
  auto it = source_lag_by_input_.find(input);
  if (it == source_lag_by_input_.end()) {
    if (lag < 0) return;
    it = source_lag_by_input_.emplace(input, &source_lag_->Add({{"input", input}, {"unit", unit}}))
             .first;
  }
  if (lag >= 0) it->second->Set(static_cast<double>(lag));
}

void JobMetrics::PartialsPublished(bool ok, uint64_t messages) {
  if (!partials_) {
    partials_ = &BuildCounter()
                     .Name("vigil_partials_publications_total")
                     .Help("Scale-out instance: transactions of partial aggregates, by result")
                     .Register(*registry_);
    partials_messages_ = &BuildGauge()
                              .Name("vigil_partials_messages")
                              .Help("Scale-out instance: partials messages produced so far")
                              .Register(*registry_)
                              .Add({});
  }
  partials_->Add({{"result", ok ? "ok" : "failed"}}).Increment();
  partials_messages_->Set(static_cast<double>(messages));
}

void JobMetrics::MergeMessage(const char* outcome) {
  if (!merge_) {
    merge_ = &BuildCounter()
                  .Name("vigil_merge_messages_total")
                  .Help("Merge stage: partials messages read, by outcome")
                  .Register(*registry_);
  }
  merge_->Add({{"outcome", outcome}}).Increment();
}

void JobMetrics::KeysHandedOver(const char* direction, uint64_t keys) {
  if (!handover_) {
    handover_ = &BuildCounter()
                     .Name("vigil_partials_handover_keys_total")
                     .Help(
                         "Scale-out instance: keys whose open sessions and join events were "
                         "handed over with partitions (out) or taken over (in)")
                     .Register(*registry_);
  }
  handover_->Add({{"direction", direction}}).Increment(static_cast<double>(keys));
}

void JobMetrics::SetStream(const std::string& stream, size_t open_sessions, uint64_t records) {
  stream_sessions_->Add({{"stream", stream}}).Set(static_cast<double>(open_sessions));
  stream_records_->Add({{"stream", stream}}).Set(static_cast<double>(records));
}

void JobMetrics::SetOperators(const std::vector<Dataflow*>& flows, size_t series) {
  std::map<std::string, double> memory;
  for (Dataflow* flow : flows) {
    for (const auto& op : flow->metric_ops()) {
      memory[StrCat("metrics|", op->name())] += static_cast<double>(op->store().memory_bytes());
      if (const uint64_t dropped = op->TakeDropped()) {
        for (const MetricRef& m : op->members()) {
          series_dropped_->Add({{"metric", m.def->name}}).Increment(static_cast<double>(dropped));
          left_out_[StrCat("metric ", m.def->name)] += dropped;
        }
      }
    }
    for (KeyedOperator* op : flow->mutable_stream_ops()) {
      memory[StrCat("stream|", op->def().name)] += static_cast<double>(op->memory_bytes());
      if (const uint64_t dropped = op->TakeDropped()) {
        stream_dropped_->Add({{"stream", op->def().name}}).Increment(static_cast<double>(dropped));
        left_out_[StrCat("stream ", op->def().name)] += dropped;
      }
      if (auto* join = dynamic_cast<JoinOperator*>(op)) {
        const auto [left, right] = join->TakeUnmatched();
        for (const auto& [side, n] : {std::pair{"left", left}, std::pair{"right", right}}) {
          if (n > 0) {
            join_unmatched_->Add({{"join", op->def().name}, {"side", side}})
                .Increment(static_cast<double>(n));
          }
        }
      }
    }
  }
  series_->Set(static_cast<double>(series));
  // Operators a reload removed leave /metrics rather than show stale bytes.
  for (auto it = operator_memory_by_name_.begin(); it != operator_memory_by_name_.end();) {
    if (!memory.contains(it->first)) {
      operator_memory_->Remove(it->second);
      it = operator_memory_by_name_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [key, bytes] : memory) {
    auto it = operator_memory_by_name_.find(key);
    if (it == operator_memory_by_name_.end()) {
      const size_t bar = key.find('|');
      prometheus::Gauge* g =
          &operator_memory_->Add({{"kind", key.substr(0, bar)}, {"operator", key.substr(bar + 1)}});
      it = operator_memory_by_name_.emplace(key, g).first;
    }
    it->second->Set(bytes);
  }
}

void JobMetrics::Checkpointed(bool ok, double seconds, size_t bytes, TimeMs now) {
  if (!ok) {
    checkpoints_failed_->Increment();
    return;
  }
  checkpoints_ok_->Increment();
  checkpoint_seconds_->Set(seconds);
  checkpoint_bytes_->Set(static_cast<double>(bytes));
  checkpoint_last_->Set(static_cast<double>(now) / 1000.0);
}

void JobMetrics::SetSinkCounts(const std::string& sink, uint64_t delivered, uint64_t failed) {
  for (auto [result, total] : {std::pair<const char*, uint64_t>{"delivered", delivered},
                               std::pair<const char*, uint64_t>{"failed", failed}}) {
    prometheus::Counter& c = sink_messages_->Add({{"sink", sink}, {"result", result}});
    if (static_cast<double>(total) > c.Value()) c.Increment(static_cast<double>(total) - c.Value());
  }
}

namespace {
void SetTotal(prometheus::Counter& c, uint64_t total) {
  if (static_cast<double>(total) > c.Value()) c.Increment(static_cast<double>(total) - c.Value());
}
}  // namespace

void JobMetrics::SetArchiveStats(const ArchiveStats& s) {
  SetTotal(*archive_records_, s.records);
  SetTotal(*archive_batches_, s.batches);
  SetTotal(*archive_bytes_, s.bytes);
  SetTotal(*archive_errors_, s.errors);
  SetTotal(*archive_dropped_, s.dropped_records);
  archive_pending_->Set(static_cast<double>(s.pending_batches));
}

void JobMetrics::SetResultsDatabaseStats(const WarehouseSink::Stats& s) {
  // From the job thread and from the HTTP thread's scrapes.
  absl::MutexLock lock(&db_mu_);
  SetTotal(*db_windows_, s.windows);
  SetTotal(*db_alerts_, s.alerts);
  SetTotal(*db_committed_, s.transactions);
  SetTotal(*db_failed_, s.failures);
  SetTotal(*db_dropped_, s.dropped);
  SetTotal(*db_deleted_, s.deleted);
  SetTotal(*db_rejected_, s.rejected);
  db_queued_->Set(static_cast<double>(s.queued));
}

void JobMetrics::SetNotifyStats(const std::vector<ReceiverStats>& stats) {
  for (const ReceiverStats& s : stats) {
    for (auto [result, total] : {std::pair<const char*, uint64_t>{"sent", s.sent},
                                 {"failed", s.failed},
                                 {"retried", s.retried},
                                 {"dropped", s.dropped},
                                 {"coalesced", s.coalesced},
                                 {"dropped_memory", s.dropped_memory}}) {
      SetTotal(
          notifications_->Add({{"receiver", s.receiver}, {"target", s.target}, {"result", result}}),
          total);
    }
    const prometheus::Labels labels = {{"receiver", s.receiver}, {"target", s.target}};
    notify_queued_->Add(labels).Set(static_cast<double>(s.spooled));
    notify_memory_->Add(labels).Set(static_cast<double>(s.in_memory));
    notify_spool_healthy_->Add(labels).Set(s.spool_healthy ? 1 : 0);
    SetTotal(notify_spool_failures_->Add(labels), s.spool_write_failures);
  }
}

}  // namespace vigil
