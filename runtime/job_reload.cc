// Hot reload (SIGHUP, POST /-/reload): the new rules' dataflow and alert
// operator take over the running ones' state where their definitions are
// unchanged, and what starts over is marked partial.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/log.h"
#include "base/strings.h"
#include "rules/lint.h"
#include "runtime/job.h"

namespace vigil {

std::vector<std::string> Job::LogLintWarnings(const RuleSet& rules) {
  constexpr size_t kShown = 10;  // the rest: `vigil check` lists them
  std::vector<std::string> warnings;
  for (const Diagnostic& d : LintRules(rules)) warnings.push_back(d.ToString());
  for (size_t i = 0; i < warnings.size() && i < kShown; ++i) Log(warnings[i]);
  if (warnings.size() > kShown) {
    Log(StrCat("… and ", warnings.size() - kShown,
               " more lint warnings of the rule files: vigil check FILE... lists them all"));
  }
  return warnings;
}

void Job::DeliverReloadNotices(const std::vector<AlertNotice>& notices) {
  for (const AlertNotice& n : notices) {
    metrics_->Transition(n);
    for (auto& s : sinks_) s->OnAlert(n);
  }
  if (admin_) admin_->RecordTransitions(notices);
}

void Job::MarkStartedOver(const RuleSet& rules, const Dataflow& flow,
                          const std::vector<int>& restarted, TimeMs seen, AlertOperator* alerts) {
  // Its outputs decide nothing from now on: what alerts on them held ends.
  alerts->StartOverExperiments(flow.ExperimentsStartedOver());
  if (seen == kMinTime) return;
  std::vector<std::pair<std::string, TimeMs>> started_over;
  auto mark = [&](int m, TimeMs by) {
    alerts->RestartedAt(m, by);
    started_over.emplace_back(rules.metrics[static_cast<size_t>(m)].name, by);
  };
  for (int m : restarted) mark(m, seen);
  for (const auto& [m, horizon] : flow.StreamsStartedOver()) mark(m, seen + horizon);
  if (!started_over.empty()) mode_->MetricsStartedOver(started_over);
}

absl::Status Job::Reload(std::vector<std::string>* warnings) {
  RuleLoadResult loaded = LoadJobRules(config_);
  if (!loaded.ok()) {
    std::string msg = "reload refused, the running rules stay:";
    for (const Diagnostic& d : loaded.errors) StrAppend(&msg, "\n", d.ToString());
    metrics_->Reloaded(false);
    return absl::InvalidArgumentError(msg);
  }
  std::unique_ptr<RuleSet> rules = std::move(loaded.rules);
  std::vector<std::string> lint = LogLintWarnings(*rules);  // as `vigil check FILE...` says them
  // The job file's routes stay: one that names an alert the new rules do
  // not have is said, not refused (the alert may be gone on purpose).
  std::vector<std::string> alerts;
  for (const AlertDef& a : rules->alerts) alerts.push_back(a.name);
  if (absl::Status s = CheckAlertRoutes(config_.notify, alerts); !s.ok()) {
    Log(StrCat("warning: after the reload, ", std::string(s.message())));
  }
  GatherTaps();  // with the rules that tapped them
  mode_->BeforeReload();
  auto flow = std::make_unique<Dataflow>(*rules);
  flow->FollowOutputs(*flow_);
  std::vector<int> restarted;
  const size_t kept = flow->AdoptState(*flow_, &restarted);
  if (workers_) workers_->Reload(*rules, *flow);
  silences_.SetRuleSilences(rules->silences);
  auto alert_op = std::make_unique<AlertOperator>(*rules, &silences_);
  std::vector<AlertNotice> dropped;
  alert_op->AdoptState(*alert_op_, &dropped);
  // A metric that starts over holds none of the events read so far: its
  // windows that could hold one are partial, and alert on nothing.
  MarkStartedOver(*rules, *flow, restarted, LatestEventTime(), alert_op.get());
  // Notices of dropped alerts refer to the old rules: deliver them first;
  // then the firing alerts nothing holds back any more.
  DeliverReloadNotices(dropped);
  DeliverReloadNotices(alert_op->TakeRestoredResolutions());  // of experiments started over
  DeliverReloadNotices(alert_op->ReleaseUnheld());
  ahead_ = std::make_unique<ParseAhead>(rules->fields, config_.max_record_bytes,
                                        Dataflow::kPrefetchDistance);
  FieldPresence presence(rules->fields);  // what the old rules' fields had seen stays seen
  for (const auto& [field, seen] : presence_.All()) {
    if (seen) presence.MarkSeen(field);
  }
  presence_ = std::move(presence);
  presence_shown_ = false;
  latest_.Rebind(*rules);  // before the old rules, which its windows point into, go
  flow_ = std::move(flow);
  mode_->Reloaded();
  alert_op_ = std::move(alert_op);
  rules_ = std::move(rules);
  metrics_->Rebind(*rules_);
  if (warehouse_) warehouse_->SetFingerprint(RulesFingerprint(config_));
  metrics_->Reloaded(true);
  if (warnings != nullptr) *warnings = std::move(lint);
  PublishAlerts();
  if (admin_) admin_->PublishRules(*rules_);
  Log(StrCat("rules reloaded: ", rules_->streams.size(), " streams, ", rules_->VisibleMetricCount(),
             " metrics, ", rules_->alerts.size(), " alerts; ", kept, " of ", flow_->state_count(),
             " operator states kept"));
  return absl::OkStatus();
}

void Job::HandleReloadRequests() {
  if (!reload_requested_.exchange(false)) return;
  // The requests this reload answers: one asked while it runs gets a
  // reload of its own next time round.
  const uint64_t answered = admin_ ? admin_->reload_requests() : 0;
  std::vector<std::string> warnings;
  absl::Status s = Reload(&warnings);
  if (!s.ok()) Log(std::string(s.message()));
  if (admin_) admin_->ReloadAnswered(answered, s, std::move(warnings));
}

}  // namespace vigil
