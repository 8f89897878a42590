// runtime/admin_api.h
//
// The job's HTTP endpoint: /metrics, /healthz, /readyz, the admin API and
// the lifecycle endpoints, served on the HTTP server's own thread. The job
// thread publishes snapshots (status, rules, alerts, closed windows) and
// answers reload requests; handlers only copy the latest snapshot under a
// mutex, so a slow client never holds the event path up.
//
//   /api/status   what the job thread last published (Job builds it: source,
//                 inputs, watermark, counters, checkpoint, rules, stall)
//   /api/metrics  the latest closed window of every metric and group; with
//                 ?history=N also the (end, value) of its last N windows
//   /api/rules    rule files, streams, metrics and alerts as loaded
//   /api/alerts   active alerts (pending and firing, inhibited and silenced
//                 ones too) with their fingerprint and formatted value;
//                 ?fingerprint=F keeps the one alert F
//   /api/alerts/history  the last transitions of alerts (pending, firing,
//                 resolved, inactive), oldest first, kept after the alerts
//                 resolve; ?fingerprint=F and ?limit=N narrow it
//   / and /status the status page (runtime/status_page.html, embedded at
//                 build time), a client of the above and /readyz
//   /readyz       503 while starting, while the source cannot reach its
//                 servers, while the watermark is stale, while the archive
//                 cannot write, or while a paging spool cannot be written
//                 (runtime/readiness.h), with why
//   /api/silences the silences of the rule files and the ad hoc ones; POST
//                 adds an ad hoc one (Alertmanager's PostableSilence, times in
//                 event time), DELETE ?id=ID ends it (ServeSilences)
//   POST /-/reload  asks the job thread to reload the rules and answers 202
//                 at once with the request's id; GET /-/reload/status?id=N
//                 tells whether it is pending, succeeded or failed (and why)
//
// The job's `http` settings (web config, lifecycle, connection cap,
// timeouts) apply to the server.
//
// Example:
//   AdminApi api(config, metrics.registry(), notifier, [&] { job.RequestReload(); });
//   absl::Status s = api.Start();             // listens on config.http_listen
//   api.PublishRules(rules);
//   ... on the job thread, between batches:
//   if (uint64_t asked = api.reload_requests(); ...) api.ReloadAnswered(asked, Reload());
#ifndef VIGIL_RUNTIME_ADMIN_API_H_
#define VIGIL_RUNTIME_ADMIN_API_H_

#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "operators/dataflow/sink.h"
#include "operators/notify/notifier.h"
#include "rules/alert_display.h"
#include "rules/rule_set.h"
#include "rules/silence.h"
#include "runtime/http_server.h"
#include "runtime/job_config.h"
#include "runtime/readiness.h"

namespace prometheus {
class Registry;
}

namespace vigil {

class AdminApi {
 public:
  // `notifier` (may be null) answers for the paging spools in /readyz;
  // `on_reload` runs on the HTTP thread for each POST /-/reload and must
  // only flag the job thread.
  AdminApi(const JobConfig& config, std::shared_ptr<prometheus::Registry> registry,
           const Notifier* notifier, std::function<void()> on_reload);
  ~AdminApi();

  // Listens on config.http_listen.
  absl::Status Start();
  void Stop();
  uint16_t port() const { return http_.port(); }
  bool tls() const { return http_.tls(); }

  // Readiness, kept current by the job thread.
  void SetReady(bool ready) { ready_.store(ready); }
  void SetSourceConnected(bool up) { source_connected_.store(up); }
  // ArchiveReadiness of the job's archive ("" while it writes).
  void SetArchiveReadiness(std::string problem) ABSL_LOCKS_EXCLUDED(archive_mu_) {
    absl::MutexLock lock(&archive_mu_);
    archive_problem_ = std::move(problem);
  }
  // /readyz's freshness check; the job observes its watermark into it.
  WatermarkStall& stall() { return stall_; }

  // Serves /api/silences from `book` (thread-safe); before Start.
  void ServeSilences(SilenceBook* book);
  // Runs `refresh` on the HTTP thread before each /metrics answer, for
  // series kept by other threads than the job's (which blocks while its
  // input is quiet); before Start.
  void RefreshOnScrape(std::function<void()> refresh) { on_scrape_ = std::move(refresh); }
  // The job's event time (its watermark), where ad hoc silences start.
  void SetEventTime(TimeMs t) { event_time_.store(t); }

  // The notifier, once it exists (it needs the port this API listens on
  // for its links); before, /readyz checks no paging spool.
  void SetNotifier(const Notifier* notifier) { notifier_.store(notifier); }

  // Snapshots.
  void PublishStatus(std::string json);
  // `active`: AlertOperator::Describe of every active alert.
  void PublishAlerts(const std::vector<AlertNotice>& active);
  // Transitions as AlertOperator::Advance emits them, for /api/alerts/history.
  void RecordTransitions(const std::vector<AlertNotice>& notices);
  // Also drops the latest windows of metrics the rules no longer have.
  void PublishRules(const RuleSet& rules);
  void RecordWindows(const std::vector<WindowResult>& results);

  // The id of the latest POST /-/reload (0: none so far). The job thread
  // reads it before it reloads and reports with ReloadAnswered: requests
  // asked while a reload runs are answered by the next one.
  uint64_t reload_requests() const;
  // `warnings`: the lint warnings of the rules it swapped in (rules/lint.h).
  void ReloadAnswered(uint64_t up_to, const absl::Status& status,
                      std::vector<std::string> warnings = {});

 private:
  void RegisterHandlers();
  void ServeAlerts();                                     // /api/alerts and /api/alerts/history
  HttpResponse ServeQuery(const HttpRequest& request);    // /api/query
  HttpResponse AskReload();                               // POST /-/reload
  HttpResponse ReloadStatus(const HttpRequest& request);  // /-/reload/status
  HttpResponse Readiness();                               // /readyz
  HttpResponse ServeMetrics(const HttpRequest& request);  // /api/metrics

  const std::string listen_;
  const std::string results_database_;  // /api/query reads it; "" = none
  const std::shared_ptr<prometheus::Registry> registry_;
  std::atomic<const Notifier*> notifier_;
  const Labels extra_labels_;  // the notifier's, part of every fingerprint
  std::function<void()> on_reload_;
  std::function<void()> on_scrape_;
  HttpServer http_;
  std::atomic<bool> ready_{false};
  std::atomic<bool> source_connected_{true};
  std::atomic<TimeMs> event_time_{kMinTime};
  WatermarkStall stall_;

  mutable absl::Mutex reload_mu_;
  uint64_t reload_asked_ ABSL_GUARDED_BY(reload_mu_) = 0;
  uint64_t reload_done_ ABSL_GUARDED_BY(reload_mu_) = 0;
  // The outcome of each reload that answered requests, oldest first; the
  // last kKeptReloads.
  struct ReloadOutcome {
    uint64_t up_to;                     // the highest id it answered
    std::string error;                  // "" when it succeeded
    std::vector<std::string> warnings;  // the new rules' lint warnings
  };
  static constexpr size_t kKeptReloads = 1000;
  std::deque<ReloadOutcome> reload_results_ ABSL_GUARDED_BY(reload_mu_);
  uint64_t reload_forgotten_ ABSL_GUARDED_BY(reload_mu_) = 0;  // ids up to it: dropped

  std::string ArchiveProblem() const ABSL_LOCKS_EXCLUDED(archive_mu_) {
    absl::MutexLock lock(&archive_mu_);
    return archive_problem_;
  }
  mutable absl::Mutex archive_mu_;
  std::string archive_problem_ ABSL_GUARDED_BY(archive_mu_);

  absl::Mutex mu_;
  std::string status_json_ ABSL_GUARDED_BY(mu_);
  std::string rules_json_ ABSL_GUARDED_BY(mu_);
  struct AlertJson {
    std::string fingerprint;
    std::string json;
  };
  // An alert as /api/alerts shows it, fingerprint computed once.
  AlertJson Snapshot(const AlertNotice& n) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::vector<AlertJson> alerts_ ABSL_GUARDED_BY(mu_);
  std::deque<AlertJson> transitions_ ABSL_GUARDED_BY(mu_);
  // Display formats by alert and by metric name (rules/alert_display.h).
  std::map<std::string, ValueFormat, std::less<>> alert_formats_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, ValueFormat, std::less<>> metric_formats_ ABSL_GUARDED_BY(mu_);
  // One metric and group: its latest closed window (results-file JSON) and
  // the (end, value) of its recent windows, oldest first, for
  // /api/metrics?history=N.
  struct SeriesWindows {
    std::string latest;
    TimeMs latest_end = kMinTime;
    std::deque<std::pair<TimeMs, double>> history;
  };
  // By "metric\x1fgroup".
  std::map<std::string, SeriesWindows> latest_windows_ ABSL_GUARDED_BY(mu_);
  // Per metric, its latest window ends (kMetricHistory of them), oldest
  // first, each with the series that had a window ending there: a series
  // whose latest window is older than all of them goes, so groups that
  // come and go (one per session) do not pile up.
  struct EndSeries {
    TimeMs end;
    std::vector<std::string> keys;  // into latest_windows_
  };
  std::map<std::string, std::deque<EndSeries>, std::less<>> recent_ends_ ABSL_GUARDED_BY(mu_);
};

// /api/rules: the rule set as JSON.
std::string RulesJson(const RuleSet& rules);
// One alert of /api/alerts and /api/alerts/history: AppendAlertJson's
// object (operators/sink/output_sinks.h) with "fingerprint" (as in
// notifications: AlertFingerprint of NotificationLabels with the
// notifier's labels), "window" and "value_text" (`value` in `format`).
std::string AlertSnapshotJson(const AlertNotice& n, std::string_view fingerprint,
                              ValueFormat format);
// /api/silences: the first `rule_silences` come from rule files.
std::string SilencesJson(const std::vector<SilenceDef>& silences, size_t rule_silences, TimeMs now);

}  // namespace vigil

#endif  // VIGIL_RUNTIME_ADMIN_API_H_
