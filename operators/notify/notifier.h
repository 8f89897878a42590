// operators/notify/notifier.h
//
// Notifier is the sink that pages people: it turns alert notices into
// Alertmanager alerts, PagerDuty events, webhook posts and tickets (Jira,
// GitHub), routed by alert name or else by severity (NotifyConfig::routes),
// and makes sure they arrive.
//
//   - Only firing and resolved transitions notify; pending ones never do,
//     nor notices with notify == false (inhibited or silenced alerts).
//     Labels sent are the notice's labels plus the config's `labels`;
//     annotations are the rendered ones of the rule.
//   - OnAlert never waits for the network or the disk: it hands the notice
//     to a spooler thread, which appends it to the spool of every routed
//     target (one fdatasync per batch); each target (each URL of each
//     receiver, so each member of an Alertmanager HA set) then delivers on
//     its own thread, in order, with retries (see notify_target.h).
//   - Nothing is lost to a receiver outage or a restart: an entry leaves the
//     spool only once delivered, and a Notifier created on the same
//     spool_dir delivers what the previous one left. A spool that cannot be
//     written keeps what it could not write in memory (at most
//     NotifySpool::Options::max_memory_entries per target), as do the
//     queues without a spool_dir: EncodeState() carries those into the
//     checkpoint, and a Notifier created with the checkpoint's state
//     (NotifyConfig::restored_state) delivers them, after what its spools
//     kept.
//   - EncodeState() also carries what decides whether to page: per target,
//     when each alert was last sent and in which state (renotify holds) and
//     the alerts Alertmanager gets re-sent, so a restart neither pages
//     again within a hold nor forgets a resolved alert's re-sends.
//   - Firing alerts are re-sent to Alertmanager every resend_interval with
//     endsAt = now + 4 × resend_interval; a resolved alert carries endsAt =
//     when it resolved (clamped to the wall clock: see notify_payload.h),
//     re-sent for 15 resend intervals.
//
// Crash safety: WaitSpooled() returns once everything handed to OnAlert is
// in the spools (on disk, or held in memory where the disk failed); call it
// before writing a checkpoint, then put EncodeState() into it, so that a
// notice is either spooled, or in the checkpoint, or re-emitted by the
// replay from that checkpoint.
//
// Example:
//   absl::StatusOr<std::unique_ptr<Notifier>> n = Notifier::Create(config);
//   if (!n.ok()) return n.status();      // bad spool dir, unset routing-key variable
//   (*n)->SyncFiring(firing_from_checkpoint);   // after a restore: keep re-sending
//   (*n)->OnAlert(notice);                      // returns at once
//   for (const ReceiverStats& s : (*n)->Stats()) ...  // /metrics
//   (*n)->Flush();                              // at shutdown: bounded wait to drain
#ifndef VIGIL_OPERATORS_NOTIFY_NOTIFIER_H_
#define VIGIL_OPERATORS_NOTIFY_NOTIFIER_H_

#include <array>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "operators/dataflow/sink.h"
#include "operators/notify/notify_config.h"
#include "operators/notify/notify_payload.h"
#include "operators/notify/notify_target.h"

namespace vigil {

class Notifier : public Sink {
 public:
  // Opens or creates the spools, loads pending entries and starts the
  // threads. Fails if a spool cannot be opened or a PagerDuty routing-key
  // or ticket credential variable is unset or empty.
  static absl::StatusOr<std::unique_ptr<Notifier>> Create(NotifyConfig config);
  ~Notifier() override;  // stops the threads; undelivered entries stay spooled
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void OnAlert(const AlertNotice& n) override;
  // Waits, at most `timeout` of the config, until every target has delivered
  // what it can (digests keep their period; renotify holds are not waited
  // for). Used at shutdown.
  void Flush() override;
  // A bounded input ended (call before Flush): digests send what they hold
  // and renotify holds end, since this run reaches no later period.
  void EndOfInput();
  // Blocks until every notice passed to OnAlert so far is in the spools.
  void WaitSpooled();
  // After a restart from a checkpoint: the alerts firing now. They are
  // re-sent to Alertmanager at once and every resend_interval after, without
  // paging PagerDuty or webhooks again.
  void SyncFiring(const std::vector<AlertNotice>& firing);
  std::vector<ReceiverStats> Stats() const;  // one per target; thread-safe
  // The state a checkpoint keeps (see above); call after WaitSpooled().
  std::string EncodeState() const;
  // Whether `data` is a state EncodeState() wrote.
  static bool ValidState(std::string_view data);

 private:
  explicit Notifier(NotifyConfig config) : config_(std::move(config)) {}
  void RunSpooler();
  // Create's steps: a target per receiver URL, restored from `restored`
  // (the checkpoint's states by target name), its index listed under its
  // receiver's name; then the routes, from receiver names to targets.
  absl::Status AddTargets(const std::map<std::string, std::string>& restored,
                          std::map<std::string, std::vector<size_t>>* by_receiver);
  absl::Status AddRoutes(const std::map<std::string, std::vector<size_t>>& by_receiver);
  int SeverityOf(const AlertNotice& n) const;
  // The targets `n` is routed to: its alert name's route, else its
  // severity's; nullptr when none.
  const std::vector<size_t>* RouteOf(const AlertNotice& n) const;

  const NotifyConfig config_;
  std::vector<std::unique_ptr<NotifyTarget>> targets_;
  std::vector<std::string> target_names_;      // by target: name across restarts
  std::array<std::vector<size_t>, 5> routes_;  // severity -> indices into targets_
  std::map<std::string, std::vector<size_t>, std::less<>> alert_routes_;  // by alert name

  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // signalled when the inbox fills, when it is spooled, and on stop
  std::vector<std::pair<size_t, Notification>> inbox_ ABSL_GUARDED_BY(mu_);
  uint64_t accepted_ ABSL_GUARDED_BY(mu_) = 0;  // notices x targets handed over
  uint64_t spooled_ ABSL_GUARDED_BY(mu_) = 0;   // ... and appended to a spool
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread spooler_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NOTIFY_NOTIFIER_H_
