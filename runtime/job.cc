#include "runtime/job.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "base/strings.h"
#include "operators/source/kafka_source.h"
#include "operators/source/line_source.h"
#include "runtime/web_config.h"

namespace vigil {

TimeMs WallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

RuleLoadResult LoadJobRules(const JobConfig& config) {
  if (config.rule_files.empty()) {
    return LoadRuleSources(
        {{"<built-in>/deploy/rules/chatbot.yaml", std::string(kReferenceRules)}});
  }
  return LoadRuleFiles(config.rule_files);
}

Job::Job(const JobConfig& config) : config_(config) {}
Job::~Job() {
  if (admin_) admin_->Stop();
}

absl::StatusOr<std::unique_ptr<Job>> Job::Create(const JobConfig& config) {
  std::unique_ptr<Job> job(new Job(config));
  if (absl::Status s = job->Init(); !s.ok()) return s;
  return job;
}

absl::Status Job::Init() {
  RuleLoadResult loaded = LoadJobRules(config_);
  if (!loaded.ok()) {
    std::string msg = "the rule files have errors:";
    for (const Diagnostic& d : loaded.errors) StrAppend(&msg, "\n", d.ToString());
    return absl::InvalidArgumentError(msg);
  }
  rules_ = std::move(loaded.rules);
  metrics_ = std::make_unique<JobMetrics>(*rules_);
  ahead_ = std::make_unique<ParseAhead>(rules_->fields, config_.max_record_bytes,
                                        Dataflow::kPrefetchDistance);
  flow_ = std::make_unique<Dataflow>(*rules_);
  alert_op_ = std::make_unique<AlertOperator>(*rules_);
  // The merge stage merges published panes: one thread does it.
  if (const int n = EffectiveWorkers(config_.workers); n > 1 && !config_.scale_out.merge) {
    workers_ = std::make_unique<Workers>(
        *rules_, *flow_, Workers::Options{n, config_.worker_key, config_.max_record_bytes});
  }

  if (config_.source.kind == SourceKind::kGenerator) {
    GeneratorSourceOptions g = config_.source.generator;
    if (config_.source.generator_start_now) g.generator.start = WallClockMs();
    if (absl::Status s = ValidateGeneratorOptions(g.generator); !s.ok()) return s;
    source_ = OpenGeneratorSource(g);
  } else if (config_.source.kind == SourceKind::kStdin) {
    source_ = OpenStdinSource(config_.max_record_bytes);
  } else if (config_.source.kind == SourceKind::kKafka) {
    KafkaSourceOptions k = config_.source.kafka;
    k.max_record_bytes = config_.max_record_bytes;
    k.instance_id = InstanceId(config_);
    if (!config_.scale_out.partials.empty()) k.commit_offsets = false;
    if (config_.scale_out.merge) {
      // Only committed publications; a message holds a group's panes.
      k.properties.insert(k.properties.begin(), {"isolation.level", "read_committed"});
      k.max_record_bytes = std::max<size_t>(k.max_record_bytes, 64 << 20);
    }
    absl::StatusOr<std::unique_ptr<KafkaSource>> src = KafkaSource::Open(k);
    if (!src.ok()) return src.status();
    kafka_source_ = src->get();
    source_ = std::move(*src);
  } else if (config_.source.kind == SourceKind::kKinesis) {
    absl::StatusOr<std::unique_ptr<KinesisSource>> src = OpenKinesisSource(config_.source.kinesis);
    if (!src.ok()) return src.status();
    source_ = std::move(*src);
  } else if (absl::Status s = OpenNextSource(); !s.ok()) {
    return s;
  }
  watermark_ = std::make_unique<WatermarkTracker>(
      std::max(1, source_->input_count()), config_.event_time.max_out_of_orderness,
      config_.event_time.idle_timeout, !source_->bounded());
  RecordChecks::Options checks;
  checks.max_record_bytes = config_.max_record_bytes;
  checks.from = config_.from;
  checks.to = config_.to;
  checks.allowed_lateness = config_.event_time.allowed_lateness;
  // Producers' clocks bound Kafka and Kinesis event times; the generator's
  // event time is its own (it may run --speed times the clock).
  if (config_.source.kind == SourceKind::kKafka || config_.source.kind == SourceKind::kKinesis) {
    checks.max_future = config_.event_time.max_future;
  }
  checks_ = std::make_unique<RecordChecks>(checks);

  if (absl::Status s = InitScaleOut(); !s.ok()) return s;
  std::map<std::string, uint64_t> resume;
  if (!config_.checkpoint.dir.empty()) {
    if (!source_->has_positions() && !HasLinePositions()) {
      return absl::InvalidArgumentError(
          StrCat("checkpoints need a source with positions (Kafka, Kinesis, files, stdin); ",
                 source_->name(), " has none: drop checkpoint.dir / --checkpoint-dir"));
    }
    checkpoints_ = std::make_unique<CheckpointStore>(config_.checkpoint.dir);
    if (absl::Status s = Restore(&resume); !s.ok()) return s;
    if (absl::Status s = RepublishPending(); !s.ok()) return s;
  }
  if (!config_.outputs.archive.dir.empty()) {
    absl::StatusOr<std::unique_ptr<ArchiveWriter>> a = ArchiveWriter::Open(config_.outputs.archive);
    if (!a.ok()) return a.status();
    archive_ = std::move(*a);
    // Batches after the restored checkpoint go: their records are read again.
    if (checkpoints_) {
      if (absl::Status s = archive_->Restore(restored_epoch_); !s.ok()) return s;
    }
  }
  auto resume_at = [&](const std::string& path) -> std::optional<uint64_t> {
    auto it = resume.find(path);
    if (it == resume.end()) return std::nullopt;
    return it->second;
  };

  if (config_.outputs.console) {
    console_out_ = std::make_unique<LineWriter>(stdout);
    sinks_.push_back(std::make_unique<ConsoleAlertSink>(
        console_out_.get(), config_.outputs.console_format, config_.outputs.console_pending));
  }
  if (!config_.outputs.results_path.empty()) {
    absl::StatusOr<std::unique_ptr<LineWriter>> w =
        LineWriter::Open(config_.outputs.results_path, resume_at(config_.outputs.results_path));
    if (!w.ok()) return w.status();
    auto sink = std::make_unique<ResultFileSink>(std::move(*w));
    results_writer_ = sink->writer();
    sinks_.push_back(std::move(sink));
  }
  if (const auto& k = config_.outputs.kafka; !k.brokers.empty()) {
    std::string txn = k.transactional_id;
    if (txn.empty() && checkpoints_) txn = "vigil-" + config_.source.kafka.group_id;
    absl::StatusOr<std::unique_ptr<KafkaWriter>> w =
        KafkaWriter::Create(k.brokers, k.properties, txn);
    if (!w.ok()) return w.status();
    auto sink = std::make_unique<KafkaSink>(std::move(*w), k.results_topic, k.alerts_topic);
    if (checkpoints_) sink->set_epoch(epoch_ + 1);
    kafka_sink_ = sink.get();
    sinks_.push_back(std::move(sink));
  }
  if (!config_.notify.empty()) {
    NotifyConfig n = config_.notify;
    if (n.external_url.empty() && !config_.http_listen.empty()) {
      // Links in pages point at the endpoint as it is served: https when
      // the web config turns TLS on.
      bool tls = false;
      if (!config_.web.config_file.empty()) {
        absl::StatusOr<std::shared_ptr<const WebConfig>> w = LoadWebConfig(config_.web.config_file);
        tls = w.ok() && (*w)->tls_context != nullptr;
      }
      n.external_url = (tls ? "https://" : "http://") + config_.http_listen;
    }
    absl::StatusOr<std::unique_ptr<Notifier>> notifier = Notifier::Create(std::move(n));
    if (!notifier.ok()) return notifier.status();
    notifier_ = notifier->get();
    sinks_.push_back(std::move(*notifier));
    if (restored_epoch_ > 0) {
      // Firing alerts from the checkpoint keep being re-sent to
      // Alertmanager; nothing pages again.
      std::vector<AlertNotice> firing;
      for (const AlertOperator::Active& a : alert_op_->ActiveAlerts()) {
        if (a.state.phase == AlertPhase::kFiring) firing.push_back(alert_op_->Describe(a));
      }
      notifier_->SyncFiring(firing);
    }
  }
  if (!config_.outputs.dead_letter_path.empty()) {
    absl::StatusOr<std::unique_ptr<LineWriter>> w = LineWriter::Open(
        config_.outputs.dead_letter_path, resume_at(config_.outputs.dead_letter_path));
    if (!w.ok()) return w.status();
    dead_letter_ = std::make_unique<DeadLetterWriter>(std::move(*w));
  }
  if (!config_.http_listen.empty()) {
    admin_ = std::make_unique<AdminApi>(config_, metrics_->registry(), notifier_,
                                        [this] { RequestReload(); });
    admin_->PublishRules(*rules_);
    PublishAlerts();
    if (absl::Status s = admin_->Start(); !s.ok()) return s;
  }
  progress_tty_ = config_.progress && ::isatty(2);
  return absl::OkStatus();
}

absl::Status Job::OpenNextSource() {
  const std::string& path = config_.source.paths[next_path_++];
  line_ = 0;
  line_hash_ = 0;
  absl::StatusOr<std::unique_ptr<RecordSource>> src =
      OpenFileSource(path, config_.max_record_bytes);
  if (!src.ok()) return src.status();
  source_ = std::move(*src);
  return absl::OkStatus();
}

void Job::DeadLetter(DeadReason reason, std::string_view detail, const Record& r, TimeMs ts) {
  summary_.DeadLetter(reason);
  if (dead_letter_) dead_letter_->Write(reason, detail, source_->input_name(r.input), r, ts);
}

void Job::ProcessBatch(const std::vector<Record>& batch, TimeMs now) {
  if (merge_) {
    MergeBatch(batch);
    return;
  }
  if (workers_) workers_->Parse(batch);
  for (size_t i = 0; i < batch.size(); ++i) {
    const Record& r = batch[i];
    const ParseAhead::Parsed& parsed =
        workers_ ? workers_->parsed(i)
                 : ahead_->Next(batch, i, [this](const Event& ev) { flow_->Prefetch(ev); });
    // A scale-out instance judges lateness per partition: a partition
    // handed over in a rebalance continues where its last owner stopped,
    // however far this instance's other partitions are.
    const TimeMs wm = partials_ ? watermark_->InputWatermark(r.input) : watermark_->Current();
    const RecordChecks::Verdict v = checks_->Check(r, parsed, wm, now);
    if (v.outcome == RecordChecks::kSkip) {
      ++summary_.skipped;
      continue;
    }
    if (v.outcome == RecordChecks::kDeadLetter) {
      DeadLetter(v.reason, v.detail, r, v.ts);
      continue;
    }
    const Event& event = parsed.ev;
    if (archive_) archive_->Add(r.data, event.ts);
    watermark_->Observe(r.input, event.ts, now);
    if (workers_) {
      workers_->Accept(i);
    } else {
      flow_->Add(event);
    }
    ++summary_.processed;
  }
  summary_.records += batch.size();
}

void Job::SyncInputs(TimeMs now) {
  const int n = source_->input_count();
  while (watermark_->input_count() < n) watermark_->AddInput(now);
  for (; inputs_restored_ < n; ++inputs_restored_) {
    const std::string name = source_->input_name(inputs_restored_);
    auto it = restored_inputs_.find(name);
    if (it != restored_inputs_.end()) watermark_->RestoreInput(inputs_restored_, it->second);
    awaited_inputs_.erase(name);
  }
  for (int i = 0; i < n; ++i) {
    watermark_->SetActive(i, source_->input_active(i), now);
    watermark_->SetCaughtUp(i, source_->input_caught_up(i));
  }
  // Placeholders for inputs the source has not named yet (a consumer before
  // its first assignment) own nothing.
  for (int i = n; i < watermark_->input_count(); ++i) watermark_->SetActive(i, false, now);
  if (!awaited_inputs_.empty() || watermark_->hold() != kMaxTime) HoldForAwaitedInputs(now);
  if (kafka_sink_) kafka_sink_->Poll();
  if (now - last_source_poll_ < 1000) return;
  last_source_poll_ = now;
  if (kafka_sink_)
    metrics_->SetSinkCounts("kafka", kafka_sink_->delivered(), kafka_sink_->failed());
  if (notifier_) metrics_->SetNotifyStats(notifier_->Stats());
  SetStreamGauges();
  metrics_->SetOperators(AllFlows(), flow_->series() + (workers_ ? workers_->fresh_groups() : 0));
  const bool up = source_->connected();
  if (admin_) admin_->SetSourceConnected(up);
  metrics_->SetSourceConnected(up);
  for (int i = 0; i < n; ++i) {
    metrics_->SetSourceLag(source_->input_name(i), source_->lag_unit(), source_->input_lag(i));
  }
  PublishStatus(now);
}

void Job::HoldForAwaitedInputs(TimeMs now) {
  // A scale-out instance shares the partitions with others: once it owns
  // some, the ones it does not are another owner's, and the merge stage
  // holds job-wide time for them.
  if (partials_) {
    for (int i = 0; i < source_->input_count(); ++i) {
      if (source_->input_active(i)) awaited_inputs_.clear();
    }
  }
  TimeMs hold = kMaxTime;
  for (const auto& [name, max_ts] : awaited_inputs_) {
    hold = std::min(
        hold, max_ts == kMinTime ? kMinTime : max_ts - config_.event_time.max_out_of_orderness);
  }
  watermark_->SetHold(hold);
  if (awaited_inputs_.empty()) return;
  if (awaited_since_ == 0) awaited_since_ = now;
  if (!awaited_logged_ && now - awaited_since_ >= 60'000) {
    awaited_logged_ = true;
    std::string names;
    for (const auto& [name, max_ts] : awaited_inputs_)
      StrAppend(&names, names.empty() ? "" : " ", name);
    std::fprintf(stderr,
                 "\nvigil: event time waits for inputs of the restored checkpoint that this job "
                 "has not been given back after a minute: %s\n",
                 names.c_str());
  }
}

void Job::SetStreamGauges() {
  for (size_t s = 0; s < flow_->stream_count(); ++s) {
    const SessionOperator& op = flow_->stream(s);
    metrics_->SetStream(op.def().name,
                        op.open_sessions() + (workers_ ? workers_->open_sessions(s) : 0),
                        op.emitted() + (workers_ ? workers_->emitted(s) : 0));
  }
}

std::vector<Dataflow*> Job::AllFlows() {
  std::vector<Dataflow*> flows = {flow_.get()};
  if (workers_) {
    for (Dataflow* f : workers_->flows()) flows.push_back(f);
  }
  return flows;
}

void Job::GatherWorkers(TimeMs frontier) {
  if (!workers_) return;
  workers_->Aggregate(frontier);  // what they have not aggregated yet, if anything
  if (const uint64_t late = workers_->MergePanesInto(flow_.get()); late > 0) {
    std::fprintf(stderr, "\nvigil: %llu panes of the workers reached windows already closed\n",
                 static_cast<unsigned long long>(late));
  }
}

void Job::CloseWindows(TimeMs frontier) {
  GatherWorkers(kMinTime);  // their sessions closed as they aggregated (Run)
  results_.clear();
  flow_->Close(frontier, &results_);  // in the order the alert operator needs
  for (const WindowResult& r : results_) {
    metrics_->SetWindow(r);
    for (auto& s : sinks_) s->OnWindow(r);
  }
  summary_.windows += results_.size();
  if (admin_) admin_->RecordWindows(results_);
  notices_.clear();
  alert_op_->Advance(frontier, results_, &notices_);
  for (const AlertNotice& n : notices_) {
    metrics_->Transition(n);
    if (n.transition == Transition::kFiring) ++summary_.firing_transitions;
    for (auto& s : sinks_) s->OnAlert(n);
  }
  if (!notices_.empty()) PublishAlerts();
}

void Job::PublishAlerts() {
  for (int s = 1; s <= 4; ++s) {
    metrics_->SetFiring(static_cast<Severity>(s), alert_op_->FiringCount(static_cast<Severity>(s)));
  }
  if (!admin_) return;
  std::string json = "[";
  bool first = true;
  for (const AlertOperator::Active& a : alert_op_->ActiveAlerts()) {
    const AlertNotice n = alert_op_->Describe(a);
    if (!first) json.push_back(',');
    first = false;
    AppendAlertJson(n, &json);
  }
  json.push_back(']');
  admin_->PublishAlerts(std::move(json));
}

void Job::Progress(TimeMs now, bool final) {
  if (!progress_tty_) return;
  if (!final && now - last_progress_ < 500) return;
  last_progress_ = now;
  const double secs = std::max(1e-3, static_cast<double>(now - started_) / 1000.0);
  const TimeMs wm = watermark_->Current();
  std::string line = StrCat("\r\033[K", summary_.records, " records, ",
                            static_cast<uint64_t>(static_cast<double>(summary_.records) / secs),
                            "/s, dead-lettered ", summary_.dead_lettered, ", windows ",
                            summary_.windows, ", watermark ",
                            wm == kMinTime   ? std::string("-")
                            : wm == kMaxTime ? std::string("end")
                                             : FormatTimestamp(wm));
  if (source_->bytes_total() > 0) {
    StrAppend(&line, ", ", 100 * source_->bytes_read() / source_->bytes_total(), "%");
  }
  if (final) line += "\n";
  std::fputs(line.c_str(), stderr);
}

absl::Status Job::Reload() {
  RuleLoadResult loaded = LoadJobRules(config_);
  if (!loaded.ok()) {
    std::string msg = "reload refused, the running rules stay:";
    for (const Diagnostic& d : loaded.errors) StrAppend(&msg, "\n", d.ToString());
    metrics_->Reloaded(false);
    return absl::InvalidArgumentError(msg);
  }
  std::unique_ptr<RuleSet> rules = std::move(loaded.rules);
  auto flow = std::make_unique<Dataflow>(*rules);
  const size_t kept = flow->AdoptState(*flow_);
  if (workers_) workers_->Reload(*rules, *flow);
  auto alert_op = std::make_unique<AlertOperator>(*rules);
  std::vector<AlertNotice> dropped;
  alert_op->AdoptState(*alert_op_, &dropped);
  // Notices of dropped alerts refer to the old rules: deliver them first.
  for (const AlertNotice& n : dropped) {
    metrics_->Transition(n);
    for (auto& s : sinks_) s->OnAlert(n);
  }
  ahead_ = std::make_unique<ParseAhead>(rules->fields, config_.max_record_bytes,
                                        Dataflow::kPrefetchDistance);
  flow_ = std::move(flow);
  if (merge_) merge_->set_flow(flow_.get());
  alert_op_ = std::move(alert_op);
  rules_ = std::move(rules);
  metrics_->Rebind(*rules_);
  metrics_->Reloaded(true);
  PublishAlerts();
  if (admin_) admin_->PublishRules(*rules_);
  std::fprintf(stderr,
               "\nvigil: rules reloaded: %zu streams, %zu metrics, %zu alerts; %zu of %zu "
               "operator states kept\n",
               rules_->streams.size(), rules_->metrics.size(), rules_->alerts.size(), kept,
               flow_->state_count());
  return absl::OkStatus();
}

void Job::HandleReloadRequests() {
  if (!reload_requested_.exchange(false)) return;
  // The requests this reload answers: one asked while it runs gets a
  // reload of its own next time round.
  const uint64_t answered = admin_ ? admin_->reload_requests() : 0;
  absl::Status s = Reload();
  if (!s.ok()) std::fprintf(stderr, "\nvigil: %s\n", std::string(s.message()).c_str());
  if (admin_) admin_->ReloadAnswered(answered, s);
}

int Job::Run() {
  started_ = WallClockMs();
  if (admin_) admin_->SetReady(true);
  std::vector<Record> batch;
  int exit_code = 0;
  while (!stop_.load(std::memory_order_relaxed)) {
    HandleReloadRequests();
    const bool more = source_->Next(&batch, 4096);
    const TimeMs now = WallClockMs();
    if (skip_to_line_ > 0) {
      absl::Status s = more ? SkipRestoredLines(&batch)
                            : absl::FailedPreconditionError(StrCat(
                                  source_->name(), " ended before line ", skip_to_line_,
                                  ", where the checkpoint was taken: this is not the input it "
                                  "was reading"));
      if (!s.ok()) {
        std::fprintf(stderr, "\nvigil: %s\n", std::string(s.message()).c_str());
        failed_ = true;
        break;
      }
    }
    if (checkpoints_ && HasLinePositions()) NoteLinePosition(batch);
    SyncInputs(now);  // before the batch: it may hold records of new inputs
    ProcessBatch(batch, now);
    if (!more) {
      if (!source_->status().ok()) {
        std::fprintf(stderr, "\nvigil: %s: %s\n", source_->name().c_str(),
                     std::string(source_->status().message()).c_str());
        exit_code = 1;
      }
      if (config_.source.kind == SourceKind::kFile && next_path_ < config_.source.paths.size()) {
        if (absl::Status s = OpenNextSource(); !s.ok()) {
          std::fprintf(stderr, "vigil: %s\n", std::string(s.message()).c_str());
          exit_code = 1;
          break;
        }
        if (workers_) workers_->Aggregate();
        continue;
      }
      for (int i = 0; i < watermark_->input_count(); ++i) watermark_->End(i, now);
    } else if (!source_->bounded()) {
      watermark_->Tick(now);
    }
    const TimeMs wm = merge_ ? MergeWatermark(!more) : watermark_->Current();
    const TimeMs frontier =
        wm == kMaxTime || wm == kMinTime ? wm : wm - config_.event_time.allowed_lateness;
    // The workers aggregate the batch the job thread accepted and close
    // their sessions that end by the new frontier, in one step.
    if (workers_) workers_->Aggregate(frontier > frontier_ ? frontier : kMinTime);
    if (frontier > frontier_) {
      frontier_ = frontier;
      // A scale-out instance closes sessions only; windows close in the merge.
      if (partials_) {
        GatherWorkers(kMinTime);
        flow_->CloseSessions(frontier);
      } else {
        CloseWindows(frontier);
      }
    }
    metrics_->SetWatermark(wm, now);
    metrics_->SetCounters(summary_);
    if (archive_) {
      archive_->Tick();
      metrics_->SetArchiveStats(archive_->stats());
    }
    if (partials_) {
      if (now - last_publish_ >= config_.checkpoint.interval) PublishPartials(now, false);
    } else if (checkpoints_ && now - last_checkpoint_ >= config_.checkpoint.interval) {
      Checkpoint(now);
    }
    Progress(now, false);
    if (!more) break;
  }
  if (partials_) {
    if (!failed_) PublishPartials(WallClockMs(), /*leaving=*/true);
    if (kafka_source_) kafka_source_->set_before_revoke(nullptr);
  } else if (checkpoints_ && !failed_) {
    Checkpoint(WallClockMs());
  }
  if (kafka_sink_)
    metrics_->SetSinkCounts("kafka", kafka_sink_->delivered(), kafka_sink_->failed());
  if (notifier_) metrics_->SetNotifyStats(notifier_->Stats());
  SetStreamGauges();
  metrics_->SetCounters(summary_);
  if (failed_) exit_code = 1;
  for (auto& s : sinks_) s->Flush();
  if (dead_letter_) dead_letter_->Flush();
  if (archive_) {
    if (absl::Status s = archive_->Flush(); !s.ok()) {
      std::fprintf(stderr, "\nvigil: archive: %s\n", std::string(s.message()).c_str());
      exit_code = 1;
    }
    metrics_->SetArchiveStats(archive_->stats());
  }
  Progress(WallClockMs(), true);
  summary_.seconds = static_cast<double>(WallClockMs() - started_) / 1000.0;
  return exit_code;
}

}  // namespace vigil
