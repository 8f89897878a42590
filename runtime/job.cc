#include "runtime/job.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <tuple>

#include "base/files.h"
#include "base/hash.h"
#include "base/log.h"
#include "base/strings.h"
#include "operators/dataflow/join_operator.h"
#include "operators/source/kafka_source.h"
#include "operators/source/line_source.h"
#include "runtime/checkpoint_parts.h"
#include "runtime/web_config.h"

namespace vigil {

RuleLoadResult LoadJobRules(const JobConfig& config) {
  if (config.rule_files.empty()) {
    return LoadRuleSources(
        {{"<built-in>/deploy/rules/chatbot.yaml", std::string(kReferenceRules)}});
  }
  return LoadRuleFiles(config.rule_files);
}

std::string RulesFingerprint(const JobConfig& config) {
  std::string all;
  if (config.rule_files.empty()) all = kReferenceRules;
  for (const std::string& f : config.rule_files) {
    absl::StatusOr<std::string> text = ReadWholeFile(f);
    StrAppend(&all, f, '\0', text.ok() ? *text : "", '\0');
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(HashBytes(all)));
  return hex;
}

Job::Job(const JobConfig& config) : config_(config) {}
Job::~Job() {
  if (admin_) admin_->Stop();
}

absl::StatusOr<std::unique_ptr<Job>> Job::Create(const JobConfig& config,
                                                 std::unique_ptr<Sink> extra) {
  std::unique_ptr<Job> job(new Job(config));
  if (extra) job->sinks_.push_back(std::move(extra));
  if (absl::Status s = job->Init(); !s.ok()) return s;
  return job;
}

bool Job::HasLinePositions() const {
  return config_.source.kind == SourceKind::kFile || config_.source.kind == SourceKind::kStdin;
}

std::string Job::SourceIdentity() const {
  if (config_.source.kind == SourceKind::kFile) {
    return StrCat("files:", StrJoin(config_.source.paths, ","));
  }
  return source_->name();
}

void Job::DeadLetter(DeadReason reason, std::string_view detail, const Record& r, TimeMs ts) {
  summary_.DeadLetter(reason);
  if (dead_letter_) dead_letter_->Write(reason, detail, source_->input_name(r.input), r, ts);
}

void Job::ProcessRecords(const std::vector<Record>& batch, TimeMs now, bool per_input_lateness) {
  if (workers_) workers_->Parse(batch);
  for (size_t i = 0; i < batch.size(); ++i) {
    const Record& r = batch[i];
    const ParseAhead::Parsed& parsed =
        workers_ ? workers_->parsed(i)
                 : ahead_->Next(batch, i, [this](const Event& ev) { flow_->Prefetch(ev); });
    // Lateness is judged against the record's own input (a partition, a
    // shard, a file), whose order the broker keeps, so that how fetches of
    // partitions interleave decides nothing; a single job never accepts an
    // event behind its own watermark either, which windows have closed by
    // (an input that was idle and wakes up behind it).
    const TimeMs job_wm = watermark_->Current();
    const TimeMs wm = per_input_lateness ? watermark_->InputWatermark(r.input)
                                         : std::max(watermark_->InputWatermark(r.input), job_wm);
    const RecordChecks::Verdict v = checks_->Check(r, parsed, wm, now);
    if (v.outcome == RecordChecks::kSkip) {
      ++summary_.skipped;
      past_to_ = past_to_ || v.ts >= config_.to;
      // It moves the watermark, so that lateness is judged as in the run
      // that read it, but not past --to: the windows ending after --to
      // close with the input's end, as partial.
      if (v.observe) {
        const TimeMs cap = config_.to == kMaxTime
                               ? kMaxTime
                               : config_.to + config_.event_time.max_out_of_orderness;
        watermark_->Observe(r.input, std::min(v.ts, cap), now);
      }
      continue;
    }
    if (v.outcome == RecordChecks::kDeadLetter) {
      DeadLetter(v.reason, v.detail, r, v.ts);
      continue;
    }
    const Event& event = parsed.ev;
    if (archive_) archive_->Add(r.data, event.ts);
    // What a stream at its limit may let go of first. A scale-out instance
    // closes its sessions by its partitions' watermarks, so there it is
    // left to the Close.
    const TimeMs frontier = per_input_lateness || job_wm == kMinTime || job_wm == kMaxTime
                                ? kMinTime
                                : job_wm - config_.event_time.allowed_lateness;
    watermark_->Observe(r.input, event.ts, now);
    if (workers_) {
      workers_->Accept(i, frontier);
    } else {
      flow_->SetFrontier(frontier);
      flow_->Add(event);
      flow_->NoteOrigins(r.input, event);
    }
    ++summary_.processed;
    if (presence_.Note(event) || !presence_shown_) {
      metrics_->SetFieldPresence(presence_.All());
      presence_shown_ = events_noted_ = true;
    }
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
    if (quiet_inputs_.erase(name) > 0) watermark_->SetQuiet(inputs_restored_);
    awaited_inputs_.erase(name);
    RestoreOrigins(inputs_restored_, name);
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
  if (warehouse_) metrics_->SetResultsDatabaseStats(warehouse_->stats());
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
  if (mode_->SharesInputs()) {
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
    Log(
        StrCat("event time waits for inputs of the restored checkpoint that this job has not "
               "been given back after a minute: ",
               names));
  }
}

void Job::SetStreamGauges() {
  for (size_t s = 0; s < flow_->stream_count(); ++s) {
    const KeyedOperator& op = flow_->stream(s);
    metrics_->SetStream(op.def().name,
                        op.open_sessions() + (workers_ ? workers_->open_sessions(s) : 0),
                        op.emitted() + (workers_ ? workers_->emitted(s) : 0));
  }
}

void Job::RestoreOrigins(int input, const std::string& name) {
  auto it = restored_origins_.find(name);
  if (it == restored_origins_.end()) return;
  for (const auto& [state_key, key] : it->second) {
    for (size_t s = 0; s < flow_->stream_count(); ++s) {
      if (!flow_->stream(s).ReadsStateOf(state_key)) continue;
      if (workers_) {
        workers_->SetOrigin(s, key, input);
      } else {
        flow_->origins(s).Set(key, input);
      }
    }
  }
  restored_origins_.erase(it);
}

std::vector<Dataflow*> Job::AllFlows() {
  std::vector<Dataflow*> flows = {flow_.get()};
  if (workers_) {
    for (Dataflow* f : workers_->flows()) flows.push_back(f);
  }
  return flows;
}

void Job::GatherWorkers(TimeMs frontier) {
  if (workers_) {
    workers_->Aggregate(frontier);  // what they have not aggregated yet, if anything
    if (const uint64_t late = workers_->MergePanesInto(flow_.get()); late > 0) {
      Log(StrCat(late, " panes of the workers reached windows already closed"));
    }
  }
  GatherTaps();
}

void Job::GatherTaps() {
  if (rules_->outputs.empty()) return;
  bool untapped = false;
  for (Dataflow* flow : AllFlows()) {
    flow->TakeTapped(&taps_);
    untapped = untapped || flow->untapped();
  }
  if (!stream_outputs_) taps_.clear();
  if (record_outputs_) {
    record_outputs_->Add(*rules_, &taps_);
    return;
  }
  if (untapped || !taps_.empty()) NoteUnwrittenOutputs();
  taps_.clear();
}

void Job::NoteUnwrittenOutputs() {
  if (unwritten_outputs_logged_ || !config_.outputs.note_unwritten_records) return;
  unwritten_outputs_logged_ = true;
  Log("the rule files declare outputs: but no destination is set (--record-dir DIR, "
      "--records kafka://BROKERS/PREFIX or --records http://URL); their records are not "
      "written");
}

void Job::FlushRecords(TimeMs frontier) {
  if (!record_outputs_) return;
  if (absl::Status s = record_outputs_->Flush(frontier); !s.ok()) {
    Log(StrCat("record outputs: ", std::string(s.message())));
  }
}

InputEnd Job::InputEndAt(TimeMs frontier) const {
  InputEnd input;
  // Only the end of a bounded input (the frontier jumps to +inf) bounds it.
  if (frontier != kMaxTime || config_.event_time.close_partial_windows) return input;
  if (config_.event_time.input_end) {
    input.last = *config_.event_time.input_end;
    return input;
  }
  // Records from --to on were skipped, not missing: the input covers event
  // time up to --to (a window ending by then is complete).
  if (past_to_) {
    input.last = config_.to - 1;
    return input;
  }
  // The merge stage reads no events: its instances report theirs.
  TimeMs last = watermark_->LastTs();
  mode_->LastEventTime(&last);
  if (last != kMinTime) input.last = last;
  return input;
}

void Job::CloseWindows(TimeMs frontier) {
  GatherWorkers(kMinTime);  // their sessions closed as they aggregated (Run)
  if (evaluation_->Close(*flow_, *alert_op_, frontier, InputEndAt(frontier))) PublishAlerts();
  if (const uint64_t late = flow_->TakeLateRecords(); late > 0) {
    summary_.late += late;
    Log(StrCat(late,
               " records of sessions or joins fell in windows already closed: not counted "
               "(late)"));
  }
  GatherTaps();  // records of the sessions and joins Close emitted
  FlushRecords(frontier);
  DeadLetterUnmatched();
}

void Job::DeadLetterUnmatched() {
  struct Unmatched {
    const StreamDef* join;
    JoinOperator::UnmatchedRight right;
  };
  std::vector<Unmatched> all;
  std::vector<JoinOperator::UnmatchedRight> taken;
  for (Dataflow* flow : AllFlows()) {
    for (KeyedOperator* op : flow->mutable_stream_ops()) {
      auto* join = dynamic_cast<JoinOperator*>(op);
      if (join == nullptr || !op->def().join.dead_letter_unmatched_right) continue;
      taken.clear();
      join->TakeUnmatchedRights(&taken);
      for (auto& u : taken) all.push_back({&op->def(), std::move(u)});
    }
  }
  if (all.empty() || !stream_outputs_) return;
  // Whatever the workers: by time, join, key, fields.
  std::sort(all.begin(), all.end(), [](const Unmatched& a, const Unmatched& b) {
    return std::tie(a.right.ts, a.join->name, a.right.key, a.right.json) <
           std::tie(b.right.ts, b.join->name, b.right.key, b.right.json);
  });
  for (const Unmatched& u : all) {
    summary_.UnmatchedToDeadLetter();
    if (!dead_letter_) continue;
    dead_letter_->WriteBuilt(DeadReason::kUnmatched,
                             StrCat("join ", u.join->name, ": no left event with ",
                                    u.join->key_path, " ", u.right.key, " in range"),
                             StrCat("join:", u.join->name), u.right.json, u.right.ts);
  }
}

void Job::PublishAlerts() {
  for (int s = 1; s <= 4; ++s) {
    metrics_->SetFiring(static_cast<Severity>(s), alert_op_->FiringCount(static_cast<Severity>(s)));
  }
  if (!admin_) return;
  std::vector<AlertNotice> active;
  for (const AlertOperator::Active& a : alert_op_->ActiveAlerts()) {
    active.push_back(alert_op_->Describe(a));
  }
  admin_->PublishAlerts(active);
}

void Job::Progress(TimeMs now, bool final) {
  if (!progress_tty_) return;
  // The first line after half a second: a rate over the first batch's
  // milliseconds says nothing.
  if (!final && (now - last_progress_ < 500 || now - started_ < 500)) return;
  last_progress_ = now;
  const double secs = std::max(1e-3, static_cast<double>(now - started_) / 1000.0);
  const TimeMs wm = watermark_->Current();
  std::string line = StrCat(summary_.records, " records, ",
                            static_cast<uint64_t>(static_cast<double>(summary_.records) / secs),
                            "/s, dead-lettered ", summary_.dead_lettered, ", windows ",
                            summary_.windows, ", watermark ",
                            wm == kMinTime   ? std::string("-")
                            : wm == kMaxTime ? std::string("end")
                                             : FormatTimestamp(wm));
  if (source_->bytes_total() > 0) {
    StrAppend(&line, ", ", 100 * source_->bytes_read() / source_->bytes_total(), "%");
  }
  ShowProgress(line, final);
}

TimeMs Job::LatestEventTime() const {
  TimeMs seen = watermark_->LastTs();
  mode_->LastEventTime(&seen);
  return seen;
}

int Job::Run() {
  started_ = WallClockMs();
  if (admin_) admin_->SetReady(true);
  std::vector<Record> batch;
  int exit_code = 0;
  bool input_ended = false;
  while (!stop_.load(std::memory_order_relaxed)) {
    HandleReloadRequests();
    const bool more = source_->Next(&batch, 4096);
    const TimeMs now = WallClockMs();
    if (lines_.skipping() && !SkipRestoredLines(more, &batch)) break;
    if (restored_at_end_ && !batch.empty() && !lines_.skipping() && SingleJob()) {
      // That run closed every window, partial ones too: what follows
      // could only be late.
      Log(StrCat(source_->name(),
                 HasLinePositions() ? StrCat(" goes on past line ", lines_.line(), ", where")
                                    : std::string(" has records after where"),
                 " the checkpoint was written when its input had ended: every window is "
                 "closed, and what follows would all be late (use another checkpoint directory, "
                 "or none)"));
      failed_ = true;
      exit_code = 1;
      break;
    }
    if (checkpointer_ && HasLinePositions()) lines_.Note(batch);
    SyncInputs(now);  // before the batch: it may hold records of new inputs
    mode_->Process(batch, now);
    if (!more) {
      if (!source_->status().ok()) {
        Log(StrCat(source_->name(), ": ", std::string(source_->status().message())));
        exit_code = 1;
      }
      if (config_.source.kind == SourceKind::kFile && next_path_ < config_.source.paths.size()) {
        if (absl::Status s = OpenNextSource(); !s.ok()) {
          Log(std::string(s.message()));
          exit_code = 1;
          break;
        }
        lines_.StartFile();
        if (workers_) workers_->Aggregate();
        continue;
      }
      for (int i = 0; i < watermark_->input_count(); ++i) watermark_->End(i, now);
    } else if (!source_->bounded()) {
      watermark_->Tick(now);
    }
    AdvanceTime(/*at_end=*/!more, now);
    mode_->Tick(now);
    Progress(now, false);
    if (!more) {
      input_ended = true;
      break;
    }
  }
  if (!failed_) mode_->Finish(WallClockMs());
  return Shutdown(input_ended, exit_code);
}

bool Job::SkipRestoredLines(bool more, std::vector<Record>* batch) {
  absl::Status s = more ? lines_.Skip(source_->name(), batch)
                        : absl::FailedPreconditionError(
                              StrCat(source_->name(), " ended before line ", lines_.skip_to_line(),
                                     ", where the checkpoint was taken: this is not the input it "
                                     "was reading"));
  if (s.ok()) return true;
  Log(std::string(s.message()));
  failed_ = true;
  return false;
}

void Job::AdvanceTime(bool at_end, TimeMs now) {
  const TimeMs wm = mode_->Watermark(at_end);
  const TimeMs frontier =
      wm == kMaxTime || wm == kMinTime ? wm : wm - config_.event_time.allowed_lateness;
  // The workers aggregate the batch the job thread accepted and close
  // their sessions that end by the new frontier, in one step.
  if (workers_) {
    workers_->Aggregate(frontier > frontier_ && mode_->WorkersCloseSessions() ? frontier
                                                                              : kMinTime);
  }
  if (frontier > frontier_) {
    frontier_ = frontier;
    mode_->Advance(frontier);
  }
  metrics_->SetWatermark(wm, now);
  if (admin_) admin_->SetEventTime(wm);
  metrics_->SetCounters(summary_);
  if (archive_) {
    archive_->Tick();
    const ArchiveStats stats = archive_->stats();
    metrics_->SetArchiveStats(stats);
    if (admin_) admin_->SetArchiveReadiness(ArchiveReadiness(stats, archive_->root()));
  }
}

int Job::Shutdown(bool input_ended, int exit_code) {
  if (kafka_sink_)
    metrics_->SetSinkCounts("kafka", kafka_sink_->delivered(), kafka_sink_->failed());
  if (notifier_) metrics_->SetNotifyStats(notifier_->Stats());
  SetStreamGauges();
  metrics_->SetCounters(summary_);
  if (failed_) exit_code = 1;
  if (alert_op_) {
    for (const AlertOperator::Active& a : alert_op_->ActiveAlerts()) {
      const AlertNotice n = alert_op_->Describe(a);
      for (auto& s : sinks_) s->OnStillActive(n);
    }
  }
  // A run that read its input to the end reaches no later digest period
  // or renotify interval, and a live job stopped with neither a spool nor
  // checkpoints has nowhere to keep what they hold: it goes out now. A
  // stopped live job with either keeps it for the next run.
  const bool keeps_holds = checkpointer_ != nullptr || !config_.notify.spool_dir.empty();
  if (notifier_ && (input_ended || !keeps_holds) && !failed_) notifier_->EndOfInput();
  for (auto& s : sinks_) s->Flush();
  if (warehouse_) {
    if (absl::Status s = warehouse_->Close(); !s.ok()) {
      Log(std::string(s.message()));
      exit_code = 1;
    }
    metrics_->SetResultsDatabaseStats(warehouse_->stats());
  }
  if (dead_letter_) dead_letter_->Flush();
  if (record_webhook_) record_webhook_->Flush();
  if (archive_) {
    if (absl::Status s = archive_->Flush(); !s.ok()) {
      Log(StrCat("archive: ", std::string(s.message())));
      exit_code = 1;
    }
    metrics_->SetArchiveStats(archive_->stats());
  }
  Progress(WallClockMs(), true);
  summary_.seconds = static_cast<double>(WallClockMs() - started_) / 1000.0;
  metrics_->SetOperators(AllFlows(), flow_->series() + (workers_ ? workers_->fresh_groups() : 0));
  summary_.left_out = metrics_->left_out();
  return exit_code;
}

}  // namespace vigil
