// operators/notify/notify_target.h
//
// NotifyTarget delivers the notifications of one receiver URL (one member of
// an Alertmanager HA set, a PagerDuty endpoint, a webhook) on its own
// thread, from its own spool, so that a slow or dead receiver never delays
// another. It is the Notifier's building block; callers use the Notifier.
//
// Delivery contract:
//   - FIFO per target: entries leave the spool only after a 2xx (or a
//     permanent 4xx rejection, counted as failed); while the head is
//     retried, later entries wait.
//   - Transport errors, timeouts, 408, 429 and 5xx are retried with
//     exponential backoff and full jitter in [retry_initial, cap], where cap
//     doubles from retry_initial up to retry_max (a Retry-After header
//     raises the wait, up to retry_max).
//   - Alertmanager: up to 64 queued alerts per POST (never two states of one
//     alert in one POST, so each transition reaches Alertmanager in order);
//     the alerts last delivered as firing are re-sent every resend_interval,
//     and resolved ones for 15 resend intervals after they resolved (as
//     Prometheus does), in case an Alertmanager lost them.
//   - renotify_interval > 0: after an alert was sent to this target, its
//     next state waits until the interval has passed; only its latest state
//     is then sent, and nothing at all if that equals the state last sent
//     (fire -> resolve -> fire collapses to "still firing"). Other alerts
//     are not held up.
//   - Ticket receivers (jira, github): one notification at a time through
//     the find-or-create steps of ticket_tracker.h; a retryable failure of
//     any step retries the whole flow (which looks for the ticket before it
//     creates one). The keys of open tickets are kept per fingerprint and in
//     State(); the API token is never logged.
//   - Digest webhooks: everything queued is POSTed as one webhook body once
//     per `digest_every`, at multiples of it since the Unix epoch; an empty
//     period sends nothing. At the end of a bounded input (EndOfInput) it
//     is sent at once, and renotify holds end.
//   - Failures and recoveries are logged to stderr, one line per event at
//     most every 30 s, naming the receiver and its URL redacted (origin
//     only: webhook URLs carry tokens in their path and query); the
//     PagerDuty routing key, the URL's path, query and credentials are
//     never logged, nor exposed in Stats() (its `target` is redacted too),
//     and a receiver's error body is cleaned of them and cut to 200 bytes.
//   - A spool that cannot be written (disk full, EIO, permissions) keeps
//     the notifications in memory, in order (NotifySpool), delivers them
//     all the same, and writes them again every second and with every
//     Enqueue until it can. Stats() says so (spool_healthy, in_memory,
//     spool_write_failures, spool_error); the log gets the first failure at
//     once, then at most one line a minute with the count since the last
//     one (SpoolFailureLog), and one line when the spool is written again.
//   - State() is what a checkpoint keeps of a target: when each alert was
//     last sent here and in which state (renotify holds), the Alertmanager
//     re-sends, and the notifications held in memory only. A target created
//     with Options::restored continues from it.
//
// Example:
//   auto t = NotifyTarget::Create(options);      // opens the spool
//   (*t)->Start();
//   (*t)->Enqueue({alert});                       // spooled (fsync'd), then delivered
//   (*t)->Stop();                                 // undelivered entries stay spooled
#ifndef VIGIL_OPERATORS_NOTIFY_NOTIFY_TARGET_H_
#define VIGIL_OPERATORS_NOTIFY_NOTIFY_TARGET_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "operators/net/http_client.h"
#include "operators/notify/notify_config.h"
#include "operators/notify/notify_payload.h"
#include "operators/notify/notify_spool.h"
#include "operators/notify/ticket_tracker.h"

namespace vigil {

struct ReceiverStats {
  std::string receiver;               // receiver name
  std::string target;                 // the URL delivered to, redacted (HttpUrl::Redacted)
  uint64_t sent = 0;                  // notifications accepted by the receiver (2xx)
  uint64_t failed = 0;                // rejected permanently (4xx other than 408/429)
  uint64_t retried = 0;               // attempts that failed and were retried
  uint64_t spooled = 0;               // queued now (on disk or in memory)
  uint64_t dropped = 0;               // removed by the spool bound, oldest first
  uint64_t coalesced = 0;             // superseded by a newer state of the same alert
  uint64_t dropped_memory = 0;        // held in memory only, dropped over its bound, oldest first
  uint64_t in_memory = 0;             // queued now and not on disk
  uint64_t spool_write_failures = 0;  // failed spool writes, every attempt
  bool spool_healthy = true;          // everything queued is on disk (always, without a spool)
  std::string spool_error;            // the last write error while not healthy
};

// Wall clock, milliseconds since the Unix epoch.
TimeMs NotifyNowMs();

// What a checkpoint keeps of one target (NotifyTarget::State).
struct NotifyTargetState {
  struct Sent {
    TimeMs at = 0;  // wall clock
    bool firing = false;
    friend bool operator==(const Sent&, const Sent&) = default;
  };
  struct Resend {
    Notification alert;
    TimeMs until = kMaxTime;  // firing: as long as it fires
    friend bool operator==(const Resend&, const Resend&) = default;
  };
  std::map<std::string, Sent> last_sent;       // by fingerprint; renotify_interval > 0 only
  std::map<std::string, Resend> resend;        // by fingerprint; Alertmanager only
  std::vector<NotifySpool::Saved> memory;      // queued, not on disk, oldest first
  std::map<std::string, std::string> tickets;  // ticket receivers: fingerprint -> open ticket key

  std::string Encode() const;
  static std::optional<NotifyTargetState> Decode(std::string_view data);
  friend bool operator==(const NotifyTargetState&, const NotifyTargetState&) = default;
};

// The log lines about one spool's write failures: the first failure at
// once, then at most one line per minute with the count since the last
// line, and one line when the spool is written again.
//
// Example:
//   SpoolFailureLog log;
//   log.Failed(0, 3, "No space left on device");       // a line
//   log.Failed(1'000, 4, "No space left on device");   // "": within the minute
//   log.Failed(60'000, 9, "No space left on device");  // a line: "2 failed writes ..."
//   log.Recovered(61'000);                              // a line
class SpoolFailureLog {
 public:
  static constexpr DurationMs kEvery = 60000;
  // A failed write at `now`, with `in_memory` notifications held in memory
  // only: the line to log, or "" within a minute of the last line.
  std::string Failed(TimeMs now, uint64_t in_memory, std::string_view error);
  // The spool holds everything on disk again: the line to log, or "" if
  // nothing had failed since the last recovery.
  std::string Recovered(TimeMs now);

 private:
  bool failing_ = false;
  TimeMs last_line_ = 0;
  uint64_t since_line_ = 0;  // failures not yet in a line
  uint64_t since_ok_ = 0;    // failures since the spool was last healthy
};

class NotifyTarget {
 public:
  struct Options {
    NotifyReceiver receiver;
    std::string url;                   // the receiver URL this target delivers to
    std::string routing_key;           // PagerDuty only
    std::string authorization;         // ticket receivers: the Authorization header
    std::vector<std::string> secrets;  // never logged (tokens)
    std::string spool_path;            // "" = memory only
    size_t spool_max_bytes = 64 << 20;
    std::string external_url;
    DurationMs resend_interval = 60000;
    DurationMs renotify_interval = 0;
    DurationMs timeout = 10000;
    DurationMs retry_initial = 500;
    DurationMs retry_max = 60000;
    std::optional<NotifyTargetState> restored;  // from a checkpoint
  };

  static absl::StatusOr<std::unique_ptr<NotifyTarget>> Create(Options options);
  ~NotifyTarget();  // stops the thread

  void Start();
  // Asks the thread to stop after the delivery in flight (bounded by the
  // HTTP timeout); Stop() also waits for it.
  void RequestStop();
  void Stop();
  // Appends to the spool (fdatasync'd) and wakes the delivery thread.
  void Enqueue(const std::vector<Notification>& alerts);
  // Alertmanager: marks `firing` as delivered firing alerts, re-sent from now on.
  void SyncFiring(const std::vector<Notification>& firing);
  // The job's bounded input ended: no later period or renotify interval
  // will come in this run, so a digest sends what it holds now and held
  // states go out (the latest of each alert, if it differs from the one
  // sent).
  void EndOfInput();
  // Nothing can be delivered right now: the spool is empty, or every entry
  // waits for its renotify interval, or this is a digest (until
  // EndOfInput).
  bool Drained() const;
  ReceiverStats Stats() const;
  // Snapshot for a checkpoint.
  NotifyTargetState State() const;

 private:
  enum class Outcome { kDelivered, kRejected, kStopped };
  struct Work {
    std::vector<uint64_t> ids;  // spool entries carried (none for a re-send)
    std::vector<Notification> alerts;
    bool resend = false;
  };
  using SentState = NotifyTargetState::Sent;
  using Resend = NotifyTargetState::Resend;

  explicit NotifyTarget(Options options);
  void Run();
  // The next work due at `now`, or none with `*wake` set to when to look again.
  std::optional<Work> NextWork(TimeMs now, TimeMs* wake) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<Work> NextDigest(TimeMs now, TimeMs* wake) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<Work> NextHeld(TimeMs now, TimeMs* wake) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::optional<Work> NextFifo() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Up to `max` spooled notifications in order, undecodable ones dropped
  // and counted; with `one_state_each`, stopping before a second state of
  // an alert already taken.
  std::optional<Work> TakeBatch(size_t max, bool one_state_each) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool OnHold(const std::string& fingerprint, TimeMs now, TimeMs* until) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RemoveEntry(uint64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Counts and logs (rate-limited) the outcome of a spool write.
  void NoteSpoolWrite(const absl::Status& s, const NotifySpool::AppendResult* r)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Finish(const Work& work, Outcome outcome, TimeMs now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Sends `work` until it is accepted, rejected, or the target stops.
  Outcome Deliver(const Work& work);
  // Ticket receivers (notify_target_ticket.cc): one step of the
  // find-or-create flow of ticket_tracker.h for `alert`.
  struct TicketStep {
    enum class Kind { kDone, kRejected, kRetry } kind = Kind::kDone;
    std::string problem;
    DurationMs retry_after = 0;
  };
  Outcome DeliverTicket(const Work& work);
  TicketStep TryTicket(const Notification& alert);
  // Sends `req`; false with `*step` set when the reply is not a 2xx.
  bool SendTicketRequest(const TicketRequest& req, HttpClientResponse* reply, TicketStep* step);
  std::string KnownTicket(const std::string& fingerprint) const;
  void SetTicket(const std::string& fingerprint, const std::string& key);
  std::string Body(const Work& work, TimeMs now) const;
  DurationMs Backoff(int attempt, DurationMs retry_after);
  // Waits `ms` unless stopped; false if stopped.
  bool Sleep(DurationMs ms);

  void LogLine(const std::string& what);  // rate-limited
  void LogFailure(const std::string& what);
  void LogRecovery();
  std::string Redact(std::string text) const;

  const Options options_;
  const bool alertmanager_;
  const bool digest_;
  std::string http_target_;  // request target on the origin
  // The URL as it may be logged and labelled (HttpUrl::Redacted), and what
  // a receiver's reply must be cleaned of before it is logged.
  std::string shown_url_;
  std::vector<std::string> secrets_;
  std::unique_ptr<HttpClient> client_;      // the delivery thread's only
  std::unique_ptr<TicketTracker> tracker_;  // ticket receivers only
  std::mt19937_64 rng_;

  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // signalled on new work and on stop
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool input_ended_ ABSL_GUARDED_BY(mu_) = false;
  std::unique_ptr<NotifySpool> spool_ ABSL_GUARDED_BY(mu_);
  SpoolFailureLog spool_log_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Resend> resend_ ABSL_GUARDED_BY(mu_);  // Alertmanager, by fingerprint
  TimeMs next_resend_ ABSL_GUARDED_BY(mu_) = 0;
  int resend_failures_ ABSL_GUARDED_BY(mu_) = 0;
  TimeMs next_digest_ ABSL_GUARDED_BY(mu_) = 0;
  std::unordered_map<std::string, SentState> last_sent_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> tickets_ ABSL_GUARDED_BY(mu_);  // fingerprint -> open key
  std::thread thread_;

  TimeMs last_drop_log_ ABSL_GUARDED_BY(mu_) = 0;
  std::atomic<uint64_t> sent_{0}, failed_{0}, retried_{0}, dropped_{0}, coalesced_{0},
      dropped_memory_{0};

  // Log rate limiting, delivery thread only.
  TimeMs last_log_ = 0;
  uint64_t suppressed_ = 0;
  uint64_t failures_in_row_ = 0;
};

namespace internal {
// A receiver's reply as logged: its first 200 bytes on one line.
std::string ReplySnippet(std::string_view body);
// A Retry-After header in seconds as milliseconds (at most a day); 0 if absent or malformed.
DurationMs ParseRetryAfter(std::string_view value);
}  // namespace internal

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NOTIFY_NOTIFY_TARGET_H_
