// runtime/job.h
//
// Job is one running stream job: source -> record checks (RecordChecks) ->
// watermark -> dataflow (metric operators: filter, key-by, panes; session
// streams and the metrics reading them) -> window close at the frontier ->
// alert operator -> sinks, plus the HTTP endpoint (AdminApi). Job builds
// these parts from the job config (Init) and runs the batch loop (Run);
// its role (single job, scale-out instance, merge stage) is a JobMode that
// decides what a batch does and when windows close (runtime/job_mode.h).
// The event path runs on the calling thread, or with workers (--workers N)
// parses and aggregates on N threads (operators/dataflow/workers.h); the
// HTTP server runs on its own.
//
// Determinism: lateness is decided per event, in input order on the calling
// thread, against the watermark as of the previous event, and windows close
// in event-time order after the workers' panes are merged exactly, so the
// same input gives the same window results and alerts whatever the batch
// sizes and the number of workers.
//
// Example:
//   absl::StatusOr<std::unique_ptr<Job>> job = Job::Create(config);
//   int exit_code = (*job)->Run();
#ifndef VIGIL_RUNTIME_JOB_H_
#define VIGIL_RUNTIME_JOB_H_

#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "operators/archive/archive_writer.h"
#include "operators/dataflow/alert_operator.h"
#include "operators/dataflow/dataflow.h"
#include "operators/dataflow/handover.h"
#include "operators/dataflow/metric_operator.h"
#include "operators/dataflow/workers.h"
#include "operators/notify/notifier.h"
#include "operators/parse/event_parser.h"
#include "operators/parse/field_presence.h"
#include "operators/parse/parse_ahead.h"
#include "operators/scale_out/merge_stage.h"
#include "operators/scale_out/partials.h"
#include "operators/sink/kafka_sinks.h"
#include "operators/sink/output_sinks.h"
#include "operators/source/kafka_source.h"
#include "operators/source/record_source.h"
#include "runtime/admin_api.h"
#include "runtime/checkpoint.h"
#include "runtime/checkpointer.h"
#include "runtime/evaluation.h"
#include "runtime/job_config.h"
#include "runtime/job_counters.h"
#include "runtime/job_metrics.h"
#include "runtime/job_mode.h"
#include "runtime/latest_windows.h"
#include "runtime/line_positions.h"
#include "runtime/record_checks.h"
#include "runtime/record_outputs.h"
#include "runtime/watermark.h"

namespace vigil {

extern const std::string_view kReferenceRules;

// Loads the configured rule files, or the built-in reference rules.
RuleLoadResult LoadJobRules(const JobConfig& config);
// 16 hex digits of a 64-bit hash of the job's rule files (names and bytes):
// the rules_fingerprint column of the results database.
std::string RulesFingerprint(const JobConfig& config);

// The job's stable name: --instance-id / scale_out.instance_id, else the
// host name (HOST/I for a Kinesis instance I of several). Kafka consumers
// join their group statically under it.
std::string InstanceId(const JobConfig& config);

// The end-of-run summary: the job's counters (the same ones /metrics shows
// and checkpoints carry) and how long this run took.
struct JobSummary : JobCounters {
  double seconds = 0;
  // Events of this run a metric or stream left out at its limit (limit:,
  // limits.max_series), by "metric NAME" or "stream NAME".
  std::map<std::string, uint64_t> left_out;
};

class Job {
 public:
  // The roles a job can have (runtime/job_mode.h) drive its parts.
  friend class SingleMode;
  friend class InstanceMode;
  friend class MergeMode;
  friend class JobStatePart;
  friend absl::StatusOr<std::unique_ptr<JobMode>> MakeJobMode(Job& job);
  friend absl::StatusOr<std::unique_ptr<JobMode>> MakeInstanceMode(Job& job);
  friend absl::StatusOr<std::unique_ptr<JobMode>> MakeMergeMode(Job& job);

  // `extra`: an output beside the configured ones (may be null); one that
  // is a CheckpointPart too (the replay's report) is part of the job's
  // checkpoints, restored with them.
  static absl::StatusOr<std::unique_ptr<Job>> Create(const JobConfig& config,
                                                     std::unique_ptr<Sink> extra = nullptr);
  ~Job();

  // Adds an output beside the configured ones (before Run).
  void AddSink(std::unique_ptr<Sink> sink) { sinks_.push_back(std::move(sink)); }

  // Runs to the end of a bounded input, or until Stop. Returns the exit code.
  int Run();
  // Async-signal-safe.
  void Stop() { stop_.store(true, std::memory_order_relaxed); }
  // Async-signal-safe: re-read the rule files at the next batch boundary.
  void RequestReload() { reload_requested_.store(true, std::memory_order_relaxed); }

  uint16_t http_port() const { return admin_ ? admin_->port() : 0; }
  bool http_tls() const { return admin_ && admin_->tls(); }
  const JobSummary& summary() const { return summary_; }
  // The rules loaded now (replaced by a reload).
  const RuleSet& rules() const { return *rules_; }
  // The fields the rules read that no accepted event carried (none when no
  // event was parsed, as at a merge stage, which reads partial aggregates).
  std::vector<std::string> unseen_fields() const {
    return events_noted_ ? presence_.Unseen() : std::vector<std::string>();
  }

 private:
  explicit Job(const JobConfig& config);
  // Building the job from its config, step by step (runtime/job_build.cc).
  absl::Status Init();
  absl::Status LoadRules();  // and the operators and workers over them
  absl::Status OpenSource();
  absl::Status OpenNextSource();  // the next of several input files
  void OpenEventTime();           // the watermark and the record checks
  // Restores the newest checkpoint; fills *resume (output file -> size).
  absl::Status OpenCheckpoints(std::map<std::string, uint64_t>* resume);
  absl::Status OpenArchive();
  absl::Status OpenRecordOutputs();
  // Whether the job writes the rules' outputs: somewhere (a records
  // directory, webhook or Kafka prefix): else no record is built.
  bool WritesRecords() const;
  // Says once that the rules' outputs: took a record the job writes nowhere.
  void NoteUnwrittenOutputs();
  absl::Status OpenOutputs(const std::map<std::string, uint64_t>& resume,
                           LineWriter** results_writer);
  absl::Status OpenNotifier();
  // Files and stdin: their positions are the job's (lines_).
  bool HasLinePositions() const;
  // Neither a scale-out instance nor the merge stage.
  bool SingleJob() const { return config_.scale_out.partials.empty() && !config_.scale_out.merge; }
  std::string SourceIdentity() const;  // what a checkpoint belongs to
  // Loads the rule files again and swaps them in, keeping the window state
  // of unchanged metrics and the state of unchanged alerts; a file with
  // errors is refused and the running rules stay.
  // `warnings` (may be null) gets the new rules' lint warnings.
  absl::Status Reload(std::vector<std::string>* warnings = nullptr);
  void HandleReloadRequests();
  // The lint warnings of `rules` (rules/lint.h), as `vigil check` prints
  // them, logged one line each (the first 10, then how many more): the
  // rules a reload swaps in, for whoever edits them and watches the log
  // (and GET /-/reload/status).
  static std::vector<std::string> LogLintWarnings(const RuleSet& rules);
  // Notices a reload or a restore under other rules makes outside an
  // evaluation (resolutions of alerts that were firing and are gone or
  // changed, releases of alerts nothing holds back any more): to /metrics,
  // the sinks and the admin API, as transitions.
  void DeliverReloadNotices(const std::vector<AlertNotice>& notices);
  // After a reload or a restore under other rules: the windows of the
  // metrics that started over (`restarted`) that could hold an event read
  // by `seen` are partial in `alerts`, and those of the metrics reading a
  // stream of `flow` that started over up to its horizon past it
  // (Dataflow::StreamsStartedOver). Nothing when no event was read. A
  // scale-out instance tells the merge stage (JobMode::MetricsStartedOver).
  // The alerts' states on the outputs of an experiment that started over
  // end (AlertOperator::StartOverExperiments).
  void MarkStartedOver(const RuleSet& rules, const Dataflow& flow,
                       const std::vector<int>& restarted, TimeMs seen, AlertOperator* alerts);
  // The latest event time read: the merge stage's from its instances.
  TimeMs LatestEventTime() const;
  // The records of a batch through the checks (RecordChecks) into the
  // archive, the watermark and the dataflow, in input order. Each record's
  // lateness is judged against its own input's watermark, and in a single
  // job never behind the job's; `per_input_lateness`: only its input's (a
  // scale-out instance, whose merge judges the panes against its own).
  void ProcessRecords(const std::vector<Record>& batch, TimeMs now, bool per_input_lateness);
  void DeadLetter(DeadReason reason, std::string_view detail, const Record& r,
                  TimeMs ts = kMinTime);
  // Follows the source's inputs (partitions assigned and revoked) in the
  // watermark, and refreshes lag and connectivity on /metrics.
  void SyncInputs(TimeMs now);
  void CloseWindows(TimeMs frontier);
  // How far the input covers event time, for windows closing at
  // `frontier`: bounded only once a bounded input has ended (frontier +inf).
  InputEnd InputEndAt(TimeMs frontier) const;
  // Workers: aggregates the events accepted and not yet aggregated, closes
  // their sessions that end by `frontier` (kMinTime: none) and moves their
  // panes into flow_.
  void GatherWorkers(TimeMs frontier);
  // Record outputs: takes the records every Dataflow tapped since the last
  // call (dropped when no --record-dir), and writes those the frontier has
  // passed.
  // Joins with `unmatched_right: dead_letter`: their unmatched right
  // events, to the dead-letter output (reason unmatched), ordered by time.
  void DeadLetterUnmatched();
  void GatherTaps();
  void FlushRecords(TimeMs frontier);
  // flow_ and the workers' Dataflows, for /metrics.
  std::vector<Dataflow*> AllFlows();
  // Input `input`, named `name`, is back: its restored keys' origins are set.
  void RestoreOrigins(int input, const std::string& name);
  void SetStreamGauges();
  void PublishAlerts();
  // The status snapshot for the admin API (runtime/job_status.cc).
  void PublishStatus(TimeMs now);
  // Feeds the /readyz freshness check and its gauges; appends it to /api/status.
  void AppendWatermarkStall(TimeMs now, std::string* json);
  // Holds the watermark at the restored inputs not seen again yet.
  void HoldForAwaitedInputs(TimeMs now);
  // The job's own state in checkpoints (runtime/job_checkpoint.cc).
  std::unique_ptr<CheckpointPart> MakeStatePart();
  // Loads the newest good checkpoint, if any, and restores from it; reports
  // corrupt ones. Fills *resume with the output sizes to resume at.
  absl::Status Restore(std::map<std::string, uint64_t>* resume);
  // The outputs as parts of the checkpoints, in the order they prepare.
  void AddOutputsToCheckpoints(LineWriter* results_writer);
  // Writes a checkpoint of the state as of the last record handed out (the
  // Checkpointer drives every part); stops the job when a part fails.
  void Checkpoint(TimeMs now);
  // The interval has passed since the last one, or an ad hoc silence
  // changed since (false without checkpoints).
  bool CheckpointDue(TimeMs now) const;
  void Progress(TimeMs now, bool final);
  // Run's steps: drops the lines a restored checkpoint had read (false,
  // failed_ set, when the input ends before them); moves the watermark and
  // the frontier after a batch and refreshes what /metrics and the admin API
  // show of them; flushes every output at the end and gives the exit code.
  bool SkipRestoredLines(bool more, std::vector<Record>* batch);
  void AdvanceTime(bool at_end, TimeMs now);
  int Shutdown(bool input_ended, int exit_code);

  JobConfig config_;
  std::unique_ptr<RuleSet> rules_;
  std::unique_ptr<JobMetrics> metrics_;
  std::unique_ptr<ParseAhead> ahead_;  // parses records, hinting the dataflow
  FieldPresence presence_;             // the rule fields accepted events carried
  bool presence_shown_ = false;        // on /metrics
  bool events_noted_ = false;          // presence_ has seen an event (no merge stage does)
  std::unique_ptr<Dataflow> flow_;     // the job's windows; all its state when workers_ is null
  // With more than one worker: the threads that parse and aggregate, their
  // panes merged into flow_ before windows close (operators/dataflow/workers.h).
  std::unique_ptr<Workers> workers_;
  // Before alert_op_, which reads it: the rule files' silences and the ad
  // hoc ones of /api/silences.
  SilenceBook silences_;
  std::unique_ptr<AlertOperator> alert_op_;
  std::unique_ptr<WatermarkTracker> watermark_;
  std::unique_ptr<RecordChecks> checks_;  // which records reach the dataflow
  std::unique_ptr<RecordSource> source_;
  KafkaSource* kafka_source_ = nullptr;  // source_ when it is Kafka
  size_t next_path_ = 0;
  std::unique_ptr<LineWriter> console_out_;
  std::vector<std::unique_ptr<Sink>> sinks_;
  std::unique_ptr<DeadLetterWriter> dead_letter_;
  std::unique_ptr<ArchiveWriter> archive_;         // raw events accepted; null without --archive
  std::unique_ptr<RecordOutputs> record_outputs_;  // null without --record-dir
  std::optional<std::string> restored_record_outputs_;  // their state in the checkpoint
  std::unique_ptr<RecordWebhook> record_webhook_;       // null without a records webhook
  std::optional<std::string> restored_record_webhook_;
  std::vector<TappedRecord> taps_;
  bool unwritten_outputs_logged_ = false;
  // Whether the records of session streams and joins and their unmatched
  // events are written: one of several merge instances closing the same
  // handed-over state leaves them to the one that reads partials
  // partition 0 (runtime/job_mode_merge.cc).
  bool stream_outputs_ = true;
  KafkaSink* kafka_sink_ = nullptr;                // owned by sinks_
  WarehouseSink* warehouse_ = nullptr;             // the results database; owned by sinks_
  std::optional<std::string> restored_warehouse_;  // its state in the checkpoint
  Notifier* notifier_ = nullptr;                   // owned by sinks_
  bool failed_ = false;                            // a sink could not commit: exit 1
  bool past_to_ = false;                           // a record at or after --to was skipped
  // Null without checkpoint.dir. state_part_ is the job's own state in
  // them; output_parts_ those of the outputs.
  std::unique_ptr<Checkpointer> checkpointer_;
  std::unique_ptr<CheckpointPart> state_part_;
  std::vector<std::unique_ptr<CheckpointPart>> output_parts_;
  std::map<std::string, TimeMs> restored_inputs_;  // input name -> largest event time
  std::set<std::string> quiet_inputs_;             // taken over read to their end (SetQuiet)
  // A scale-out instance's restored key origins whose partition is not back
  // yet (handover.h): set on the keys when it is, kept in checkpoints.
  NamedOrigins restored_origins_;
  int inputs_restored_ = 0;       // inputs checked against it so far
  bool restored_at_end_ = false;  // the checkpoint restored was written when the input ended
  uint64_t silences_saved_ = 0;   // SilenceBook::changes() the last checkpoint held
  // File and stdin positions: the last record handed to the operators.
  LinePositions lines_;
  // Restored inputs this run has not seen yet (a partition not assigned
  // again so far): they hold the watermark where the checkpoint left them.
  std::map<std::string, TimeMs> awaited_inputs_;
  TimeMs awaited_since_ = 0;  // when the wait started, for the log line
  bool awaited_logged_ = false;
  std::unique_ptr<AdminApi> admin_;  // the HTTP endpoint; null without one
  std::atomic<bool> stop_{false};
  TimeMs last_source_poll_ = 0;
  // SIGHUP and POST /-/reload: reload at the next batch boundary.
  std::atomic<bool> reload_requested_{false};

  TimeMs frontier_ = kMinTime;
  std::unique_ptr<Evaluation> evaluation_;  // window close and alert evaluation
  // What /metrics and /api/metrics show, kept by evaluation_ and in
  // checkpoints; a restored checkpoint's are shown once the outputs open.
  LatestWindows latest_;
  JobSummary summary_;
  TimeMs started_ = 0;
  TimeMs last_progress_ = 0;
  bool progress_tty_ = false;

  // Single job, scale-out instance or merge stage; destroyed first, as it
  // refers to the parts above.
  std::unique_ptr<JobMode> mode_;
};

}  // namespace vigil

#endif  // VIGIL_RUNTIME_JOB_H_
