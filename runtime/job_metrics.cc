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
