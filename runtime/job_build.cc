// Job: building a job from its config (runtime/job.h). Init opens the
// parts in dependency order: rules and operators, the source, event time
// and the record checks, the role (JobMode), checkpoints (restoring the
// newest), the archive, the outputs, the HTTP endpoint, the notifier (its
// links name the endpoint's port), the dead-letter file and the outputs'
// parts of the checkpoints.
#include <unistd.h>

#include <algorithm>

#include "base/host.h"
#include "base/log.h"
#include "base/strings.h"
#include "operators/source/kafka_source.h"
#include "operators/source/line_source.h"
#include "rules/template.h"
#include "runtime/checkpoint_parts.h"
#include "runtime/job.h"
#include "runtime/replay.h"
#include "runtime/web_config.h"

namespace vigil {

absl::Status Job::Init() {
  if (absl::Status s = LoadRules(); !s.ok()) return s;
  if (absl::Status s = OpenSource(); !s.ok()) return s;
  OpenEventTime();
  absl::StatusOr<std::unique_ptr<JobMode>> mode = MakeJobMode(*this);
  if (!mode.ok()) return mode.status();
  mode_ = std::move(*mode);
  std::map<std::string, uint64_t> resume;  // output file -> size to resume at
  if (absl::Status s = OpenCheckpoints(&resume); !s.ok()) return s;
  if (absl::Status s = OpenArchive(); !s.ok()) return s;
  LineWriter* results_writer = nullptr;  // owned by its sink
  if (absl::Status s = OpenOutputs(resume, &results_writer); !s.ok()) return s;
  if (absl::Status s = OpenRecordOutputs(); !s.ok()) return s;
  // The admin API listens before the notifier opens: links in pages name
  // the port it bound (`--http 127.0.0.1:0` picks one).
  if (!config_.http_listen.empty()) {
    admin_ = std::make_unique<AdminApi>(config_, metrics_->registry(), nullptr,
                                        [this] { RequestReload(); });
    admin_->ServeSilences(&silences_);
    if (warehouse_) {
      admin_->RefreshOnScrape(
          [w = warehouse_, m = metrics_.get()] { m->SetResultsDatabaseStats(w->stats()); });
    }
    admin_->PublishRules(*rules_);
    PublishAlerts();
    if (absl::Status s = admin_->Start(); !s.ok()) return s;
  }
  if (absl::Status s = OpenNotifier(); !s.ok()) return s;
  if (admin_) admin_->SetNotifier(notifier_);
  if (!config_.outputs.dead_letter_path.empty()) {
    const std::string& path = config_.outputs.dead_letter_path;
    auto at = resume.find(OutputFileKey(path));
    absl::StatusOr<std::unique_ptr<LineWriter>> w =
        LineWriter::Open(path, at == resume.end() ? std::nullopt : std::optional(at->second));
    if (!w.ok()) return w.status();
    dead_letter_ =
        std::make_unique<DeadLetterWriter>(std::move(*w), config_.source.kind != SourceKind::kKafka,
                                           config_.source.kind != SourceKind::kKinesis);
  }
  for (const auto& [path, size] : resume) {
    if (path != OutputFileKey(config_.outputs.results_path) &&
        path != OutputFileKey(config_.outputs.dead_letter_path)) {
      Log(StrCat("the restored checkpoint wrote ", path,
                 ", which this job does not write: it is left as it is"));
    }
  }
  if (checkpointer_) AddOutputsToCheckpoints(results_writer);
  // Alerts firing at the checkpoint whose definition is gone or changed in
  // these rules resolve, as on a reload: now that the receivers are open.
  DeliverReloadNotices(alert_op_->TakeRestoredResolutions());
  // What an inhibition or silence the rules no longer have held back.
  DeliverReloadNotices(alert_op_->ReleaseUnheld());
  evaluation_ = std::make_unique<Evaluation>(
      Evaluation::Outputs{metrics_.get(), &sinks_, admin_.get(), &summary_, &latest_});
  // A restored checkpoint's latest windows, shown now rather than after
  // each metric's next window.
  if (const std::vector<WindowResult> restored = latest_.All(); !restored.empty()) {
    metrics_->SetWindows(restored);
    if (admin_) admin_->RecordWindows(restored);
  }
  progress_tty_ = config_.progress && ::isatty(2);
  return absl::OkStatus();
}

absl::Status Job::LoadRules() {
  RuleLoadResult loaded = LoadJobRules(config_);
  if (!loaded.ok()) {
    std::string msg = "the rule files have errors:";
    for (const Diagnostic& d : loaded.errors) StrAppend(&msg, "\n", d.ToString());
    return absl::InvalidArgumentError(msg);
  }
  rules_ = std::move(loaded.rules);
  std::vector<std::string> alerts;
  for (const AlertDef& a : rules_->alerts) alerts.push_back(a.name);
  if (absl::Status s = CheckAlertRoutes(config_.notify, alerts); !s.ok()) return s;
  metrics_ = std::make_unique<JobMetrics>(*rules_);
  presence_ = FieldPresence(rules_->fields);
  ahead_ = std::make_unique<ParseAhead>(rules_->fields, config_.max_record_bytes,
                                        Dataflow::kPrefetchDistance);
  flow_ = std::make_unique<Dataflow>(*rules_);
  flow_->SetTapping(WritesRecords());  // before the workers' parts copy it
  // A scale-out instance hands its joins' state to others: they keep every field.
  flow_->SetLeanJoins(config_.scale_out.partials.empty() && !config_.scale_out.merge);
  silences_.SetRuleSilences(rules_->silences);
  alert_op_ = std::make_unique<AlertOperator>(*rules_, &silences_);
  // The merge stage merges published panes: one thread does it.
  if (const int n = EffectiveWorkers(config_.workers); n > 1 && !config_.scale_out.merge) {
    workers_ = std::make_unique<Workers>(
        *rules_, *flow_, Workers::Options{n, config_.worker_key, config_.max_record_bytes});
  }

  return absl::OkStatus();
}

absl::Status Job::OpenSource() {
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
  } else {
    return OpenNextSource();
  }
  return absl::OkStatus();
}

absl::Status Job::OpenNextSource() {
  const std::string& path = config_.source.paths[next_path_++];
  // A named pipe read as --input must not hold the job in read while quiet
  // (reloads, checkpoints and SIGTERM are served between batches).
  absl::StatusOr<std::unique_ptr<RecordSource>> src =
      OpenEventPath(path, config_.max_record_bytes, /*idle=*/true);
  if (!src.ok()) return src.status();
  source_ = std::move(*src);
  return absl::OkStatus();
}

void Job::OpenEventTime() {
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
}

absl::Status Job::OpenCheckpoints(std::map<std::string, uint64_t>* resume) {
  if (config_.checkpoint.dir.empty()) return absl::OkStatus();
  if (!source_->has_positions() && !HasLinePositions()) {
    return absl::InvalidArgumentError(
        StrCat("checkpoints need a source with positions (Kafka, Kinesis, files, stdin); ",
               source_->name(), " has none: drop checkpoint.dir / --checkpoint-dir"));
  }
  checkpointer_ = std::make_unique<Checkpointer>(config_.checkpoint.dir, metrics_.get());
  state_part_ = MakeStatePart();
  checkpointer_->Add(state_part_.get());
  checkpointer_->Add(mode_.get());
  for (const auto& sink : sinks_) {  // so far, Create's `extra`
    if (auto* part = dynamic_cast<CheckpointPart*>(sink.get())) checkpointer_->Add(part);
  }
  if (absl::Status s = Restore(resume); !s.ok()) return s;
  if (absl::Status s = mode_->Resume(); !s.ok()) return s;
  return absl::OkStatus();
}

absl::Status Job::OpenArchive() {
  if (config_.outputs.archive.location.empty()) return absl::OkStatus();
  ArchiveOptions options = config_.outputs.archive;
  options.background_writes = true;  // a slow bucket never holds the job
  absl::StatusOr<std::unique_ptr<ArchiveWriter>> a = ArchiveWriter::Open(std::move(options));
  if (!a.ok()) return a.status();
  archive_ = std::move(*a);
  // Batches after the restored checkpoint go: their records are read again.
  if (checkpointer_) {
    if (absl::Status s = archive_->Restore(checkpointer_->restored_epoch()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

bool Job::WritesRecords() const {
  return !config_.outputs.records_dir.empty() || !config_.outputs.records_webhook.empty() ||
         !config_.outputs.kafka.records_topic_prefix.empty();
}

absl::Status Job::OpenRecordOutputs() {
  const std::string& prefix = config_.outputs.kafka.records_topic_prefix;
  const bool kafka = kafka_sink_ != nullptr && !prefix.empty();
  const std::string& webhook = config_.outputs.records_webhook;
  if (config_.outputs.records_dir.empty() && !kafka && webhook.empty()) return absl::OkStatus();
  absl::StatusOr<std::unique_ptr<RecordOutputs>> r =
      RecordOutputs::Open(config_.outputs.records_dir, *rules_, restored_record_outputs_);
  if (!r.ok()) return r.status();
  record_outputs_ = std::move(*r);
  if (kafka) record_outputs_->SetKafka(kafka_sink_, prefix);
  if (!webhook.empty()) {
    RecordWebhook::Options o;
    o.url = webhook;
    o.batch = config_.outputs.records_webhook_batch;
    o.restored = restored_record_webhook_;
    absl::StatusOr<std::unique_ptr<RecordWebhook>> w = RecordWebhook::Create(std::move(o));
    if (!w.ok()) return w.status();
    record_webhook_ = std::move(*w);
    record_outputs_->SetWebhook(record_webhook_.get());
  }
  return absl::OkStatus();
}

absl::Status Job::OpenOutputs(const std::map<std::string, uint64_t>& resume,
                              LineWriter** results_writer) {
  auto resume_at = [&](const std::string& path) -> std::optional<uint64_t> {
    auto it = resume.find(OutputFileKey(path));
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
    *results_writer = sink->writer();
    sinks_.push_back(std::move(sink));
  }
  if (!config_.outputs.results_database.empty()) {
    WarehouseSink::Options o;
    o.url = config_.outputs.results_database;
    o.fingerprint = RulesFingerprint(config_);
    o.seal_on_checkpoint = checkpointer_ != nullptr;
    o.restored = restored_warehouse_;
    absl::StatusOr<std::unique_ptr<WarehouseSink>> w = WarehouseSink::Create(std::move(o));
    if (!w.ok()) return w.status();
    warehouse_ = w->get();
    sinks_.push_back(std::move(*w));
  }
  if (const auto& k = config_.outputs.kafka; !k.brokers.empty()) {
    std::string txn = k.transactional_id;
    if (txn.empty() && checkpointer_) txn = "vigil-" + config_.source.kafka.group_id;
    absl::StatusOr<std::unique_ptr<KafkaWriter>> w =
        KafkaWriter::Create(k.brokers, k.properties, txn);
    if (!w.ok()) return w.status();
    auto sink = std::make_unique<KafkaSink>(std::move(*w), k.results_topic, k.alerts_topic);
    if (checkpointer_) sink->set_epoch(checkpointer_->epoch() + 1);
    kafka_sink_ = sink.get();
    sinks_.push_back(std::move(sink));
  }
  return absl::OkStatus();
}

namespace {

// `listen` as a client reaches it: the port bound (for port 0), and this
// machine's name for an empty host (every interface).
std::string ServedAddress(std::string_view listen, uint16_t port) {
  std::string_view host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]") {
    const std::string name = HostName();
    return StrCat(name.empty() ? "localhost" : name, ":", port);
  }
  return StrCat(host, ":", port);
}

}  // namespace

absl::Status Job::OpenNotifier() {
  if (config_.notify.empty()) {
    // Templates render as they would with receivers (a dry run keeps them).
    SetTemplateEnv({config_.notify.labels, config_.notify.external_url});
    return absl::OkStatus();
  }
  NotifyConfig n = config_.notify;
  if (n.external_url.empty() && !config_.http_listen.empty()) {
    // Links in pages point at the endpoint as it is served: https when
    // the web config turns TLS on.
    bool tls = false;
    if (!config_.web.config_file.empty()) {
      absl::StatusOr<std::shared_ptr<const WebConfig>> w = LoadWebConfig(config_.web.config_file);
      tls = w.ok() && (*w)->tls_context != nullptr;
    }
    n.external_url =
        (tls ? "https://" : "http://") + ServedAddress(config_.http_listen, admin_->port());
  }
  // $externalLabels and $externalURL of annotation templates.
  SetTemplateEnv({n.labels, n.external_url});
  absl::StatusOr<std::unique_ptr<Notifier>> notifier = Notifier::Create(std::move(n));
  if (!notifier.ok()) return notifier.status();
  notifier_ = notifier->get();
  sinks_.push_back(std::move(*notifier));
  if (checkpointer_ && checkpointer_->restored_epoch() > 0) {
    // Firing alerts from the checkpoint keep being re-sent to
    // Alertmanager; nothing pages again.
    std::vector<AlertNotice> firing;
    for (const AlertOperator::Active& a : alert_op_->ActiveAlerts()) {
      if (a.state.phase == AlertPhase::kFiring) firing.push_back(alert_op_->Describe(a));
    }
    notifier_->SyncFiring(firing);
  }
  return absl::OkStatus();
}

void Job::AddOutputsToCheckpoints(LineWriter* results_writer) {
  // Files before the Kafka commit, to keep the window between the commit
  // and the checkpoint's rename short.
  if (results_writer) {
    output_parts_.push_back(
        std::make_unique<OutputFilePart>(config_.outputs.results_path, results_writer));
  }
  if (dead_letter_) {
    output_parts_.push_back(
        std::make_unique<OutputFilePart>(config_.outputs.dead_letter_path, dead_letter_->writer()));
  }
  if (notifier_) output_parts_.push_back(std::make_unique<NotifierPart>(notifier_));
  if (record_outputs_) checkpointer_->Add(record_outputs_.get());
  if (record_webhook_) checkpointer_->Add(record_webhook_.get());
  if (archive_) output_parts_.push_back(std::make_unique<ArchivePart>(archive_.get()));
  if (warehouse_) output_parts_.push_back(std::make_unique<WarehousePart>(warehouse_));
  if (kafka_sink_) output_parts_.push_back(std::make_unique<KafkaSinkPart>(kafka_sink_));
  for (const auto& part : output_parts_) checkpointer_->Add(part.get());
}

}  // namespace vigil
