// NotifyTarget's delivery to ticket receivers (jira, github): the
// find-or-create flow of ticket_tracker.h, with the retries of every target.
#include "base/strings.h"
#include "operators/notify/notify_target.h"

namespace vigil {

namespace {

// Open tickets remembered per target; beyond it the oldest fingerprints
// (in key order) are forgotten and found again by label when they fire.
constexpr size_t kMaxTickets = 10000;

}  // namespace

std::string NotifyTarget::KnownTicket(const std::string& fingerprint) const {
  absl::MutexLock lock(&mu_);
  auto it = tickets_.find(fingerprint);
  return it == tickets_.end() ? "" : it->second;
}

void NotifyTarget::SetTicket(const std::string& fingerprint, const std::string& key) {
  absl::MutexLock lock(&mu_);
  if (key.empty()) {
    tickets_.erase(fingerprint);
    return;
  }
  if (tickets_.size() >= kMaxTickets && !tickets_.contains(fingerprint)) {
    tickets_.erase(tickets_.begin());
  }
  tickets_[fingerprint] = key;
}

bool NotifyTarget::SendTicketRequest(const TicketRequest& req, HttpClientResponse* reply,
                                     TicketStep* step) {
  absl::StatusOr<HttpClientResponse> r =
      client_->Send(req.method, req.target, req.body, tracker_->Headers(options_.authorization));
  if (!r.ok()) {
    *step = {TicketStep::Kind::kRetry, std::string(r.status().message()), 0};
    return false;
  }
  if (r->status / 100 == 2) {
    *reply = std::move(*r);
    return true;
  }
  std::string text = TicketTracker::ErrorText(r->body);
  if (text.empty()) text = r->body;
  // Redacted before cutting: a cut could leave half a token unrecognised.
  step->problem = StrCat(req.method, " ", req.target.substr(0, req.target.find('?')), ": HTTP ",
                         r->status, ": ", internal::ReplySnippet(Redact(text)));
  step->retry_after = internal::ParseRetryAfter(r->Header("Retry-After"));
  const bool retry = r->status >= 500 || r->status == 429 || r->status == 408;
  step->kind = retry ? TicketStep::Kind::kRetry : TicketStep::Kind::kRejected;
  reply->status = r->status;
  return false;
}

NotifyTarget::TicketStep NotifyTarget::TryTicket(const Notification& alert) {
  PayloadContext ctx;
  ctx.external_url = options_.external_url;
  ctx.now = NotifyNowMs();
  ctx.receiver = options_.receiver.name;
  TicketStep step;
  HttpClientResponse reply;
  std::string key = KnownTicket(alert.fingerprint);
  if (!key.empty()) {
    // Still open? A deleted ticket (404) counts as closed.
    if (SendTicketRequest(tracker_->Get(key), &reply, &step)) {
      std::optional<bool> open = tracker_->IsOpen(reply.body);
      if (!open) return {TicketStep::Kind::kRetry, "unreadable reply to the ticket lookup", 0};
      if (!*open) key.clear();
    } else if (reply.status == 404) {
      key.clear();
    } else {
      return step;
    }
    if (key.empty()) SetTicket(alert.fingerprint, "");
  }
  if (key.empty()) {
    // Forgotten (a restart without state, or closed): look for an open one by label.
    if (!SendTicketRequest(tracker_->Search(alert.fingerprint), &reply, &step)) return step;
    std::optional<std::string> found = tracker_->FoundKey(reply.body);
    if (!found) return {TicketStep::Kind::kRetry, "unreadable reply to the ticket search", 0};
    key = *found;
    if (!key.empty()) SetTicket(alert.fingerprint, key);
  }
  if (!alert.firing) {
    if (key.empty()) return step;  // no open ticket: nothing to tell
    if (!SendTicketRequest(tracker_->Comment(key, alert, ctx), &reply, &step)) return step;
    return {};
  }
  if (!key.empty()) return {};  // an open ticket exists: never a second one
  if (!SendTicketRequest(tracker_->Create(alert, ctx), &reply, &step)) return step;
  std::optional<std::string> created = tracker_->CreatedKey(reply.body);
  if (!created || created->empty()) {
    // Created, but the key is unreadable: the next firing finds it by label.
    LogLine("ticket created, but the reply carries no readable key");
    return {};
  }
  SetTicket(alert.fingerprint, *created);
  return {};
}

NotifyTarget::Outcome NotifyTarget::DeliverTicket(const Work& work) {
  for (int attempt = 0;; ++attempt) {
    bool ok = true;
    for (const Notification& alert : work.alerts) {
      TicketStep step = TryTicket(alert);
      if (step.kind == TicketStep::Kind::kDone) continue;
      if (step.kind == TicketStep::Kind::kRejected || work.resend) {
        LogLine(StrCat("rejected a notification, not retrying: ", step.problem));
        return Outcome::kRejected;
      }
      ++retried_;
      const DurationMs delay = Backoff(attempt, step.retry_after);
      LogFailure(StrCat(step.problem, "; retrying in ", FormatDuration(delay)));
      if (!Sleep(delay)) return Outcome::kStopped;
      ok = false;
      break;
    }
    if (ok) {
      LogRecovery();
      return Outcome::kDelivered;
    }
  }
}

}  // namespace vigil
