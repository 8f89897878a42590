#include "operators/notify/notify_target.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <set>

#include "base/codec.h"
#include "base/log.h"
#include "base/strings.h"

namespace vigil {

namespace {

constexpr DurationMs kLogEvery = 30000;
constexpr DurationMs kIdleWake = 60000;
// How often a spool that could not be written is tried again.
constexpr DurationMs kSpoolRetry = 1000;
constexpr uint8_t kStateVersion = 2;  // 2 added the ticket keys

}  // namespace

namespace internal {

std::string ReplySnippet(std::string_view body) {
  std::string s(body.substr(0, 200));
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  if (body.size() > 200) s += "...";
  return s;
}

DurationMs ParseRetryAfter(std::string_view v) {
  v = Strip(v);
  int64_t seconds = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size() || seconds < 0) return 0;
  return std::min<int64_t>(seconds, 86400) * 1000;
}

}  // namespace internal

TimeMs NotifyNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string NotifyTargetState::Encode() const {
  Encoder enc;
  enc.PutByte(kStateVersion);
  enc.PutVarint(last_sent.size());
  for (const auto& [fp, sent] : last_sent) {
    enc.PutString(fp);
    enc.PutSigned(sent.at);
    enc.PutByte(sent.firing ? 1 : 0);
  }
  enc.PutVarint(resend.size());
  for (const auto& [fp, r] : resend) {
    enc.PutString(fp);
    enc.PutString(r.alert.Encode());
    enc.PutSigned(r.until);
  }
  enc.PutVarint(memory.size());
  for (const NotifySpool::Saved& m : memory) {
    enc.PutVarint(m.id);
    enc.PutString(m.key);
    enc.PutString(m.data);
  }
  enc.PutVarint(tickets.size());
  for (const auto& [fp, key] : tickets) {
    enc.PutString(fp);
    enc.PutString(key);
  }
  return enc.Release();
}

std::optional<NotifyTargetState> NotifyTargetState::Decode(std::string_view data) {
  Decoder dec(data);
  const uint8_t version = dec.GetByte();
  if (version != 1 && version != kStateVersion) return std::nullopt;
  NotifyTargetState s;
  for (uint64_t n = dec.GetVarint(); n > 0 && dec.ok(); --n) {
    std::string fp(dec.GetString());
    Sent sent;
    sent.at = dec.GetSigned();
    sent.firing = dec.GetByte() != 0;
    s.last_sent[std::move(fp)] = sent;
  }
  for (uint64_t n = dec.GetVarint(); n > 0 && dec.ok(); --n) {
    std::string fp(dec.GetString());
    std::optional<Notification> alert = Notification::Decode(dec.GetString());
    const TimeMs until = dec.GetSigned();
    if (!alert) return std::nullopt;
    s.resend[std::move(fp)] = {std::move(*alert), until};
  }
  for (uint64_t n = dec.GetVarint(); n > 0 && dec.ok(); --n) {
    NotifySpool::Saved m;
    m.id = dec.GetVarint();
    m.key = std::string(dec.GetString());
    m.data = std::string(dec.GetString());
    s.memory.push_back(std::move(m));
  }
  for (uint64_t n = version >= 2 ? dec.GetVarint() : 0; n > 0 && dec.ok(); --n) {
    std::string fp(dec.GetString());
    s.tickets[std::move(fp)] = std::string(dec.GetString());
  }
  if (!dec.ok() || !dec.empty()) return std::nullopt;
  return s;
}

std::string SpoolFailureLog::Failed(TimeMs now, uint64_t in_memory, std::string_view error) {
  ++since_line_;
  ++since_ok_;
  if (failing_ && now - last_line_ < kEvery) return "";
  std::string line;
  if (!failing_) {
    line = StrCat(
        "cannot write the spool; ", in_memory,
        " notification(s) held in memory only until it can (checkpoints keep them): ", error);
  } else {
    line = StrCat("still cannot write the spool: ", since_line_, " failed write(s) in the last ",
                  FormatDuration((now - last_line_) / 1000 * 1000), ", ", in_memory,
                  " notification(s) held in memory only: ", error);
  }
  failing_ = true;
  last_line_ = now;
  since_line_ = 0;
  return line;
}

std::string SpoolFailureLog::Recovered(TimeMs now) {
  if (!failing_) return "";
  std::string line = StrCat("spool written again after ", since_ok_,
                            " failed write(s); every queued "
                            "notification is on disk");
  failing_ = false;
  last_line_ = now;
  since_line_ = 0;
  since_ok_ = 0;
  return line;
}

NotifyTarget::NotifyTarget(Options options)
    : options_(std::move(options)),
      alertmanager_(options_.receiver.kind == NotifyReceiver::Kind::kAlertmanager),
      digest_(options_.receiver.digest_every > 0),
      rng_(std::random_device{}()) {}

absl::StatusOr<std::unique_ptr<NotifyTarget>> NotifyTarget::Create(Options options) {
  absl::StatusOr<HttpUrl> url = HttpUrl::Parse(options.url);
  if (!url.ok()) return url.status();
  std::unique_ptr<NotifyTarget> t(new NotifyTarget(std::move(options)));
  t->http_target_ = url->target;
  t->shown_url_ = url->Redacted();
  t->secrets_ = url->Secrets();
  for (const std::string& secret : t->options_.secrets) t->secrets_.push_back(secret);
  if (t->options_.receiver.ticket()) {
    t->tracker_ = std::make_unique<TicketTracker>(t->options_.receiver, url->target);
  }
  if (t->alertmanager_) {
    // A base URL may carry a path prefix (Alertmanager behind a proxy).
    std::string base = url->target.substr(0, url->target.find('?'));
    if (base.ends_with('/')) base.pop_back();
    t->http_target_ = base + "/api/v2/alerts";
  }
  HttpClient::Options client_options;
  client_options.timeout = std::chrono::milliseconds(t->options_.timeout);
  t->client_ = std::make_unique<HttpClient>(*url, client_options);
  absl::StatusOr<std::unique_ptr<NotifySpool>> spool =
      NotifySpool::Open({.path = t->options_.spool_path,
                         .max_bytes = t->options_.spool_max_bytes,
                         .keep_per_key = t->alertmanager_ ? 1 : 2});
  if (!spool.ok()) return spool.status();
  const TimeMs now = NotifyNowMs();
  absl::MutexLock lock(&t->mu_);
  t->spool_ = std::move(*spool);
  if (t->spool_->torn_bytes() > 0) {
    Logf("notify %s %s: spool %s: skipped a torn record of %zu bytes",
         t->options_.receiver.name.c_str(), t->shown_url_.c_str(), t->options_.spool_path.c_str(),
         t->spool_->torn_bytes());
  }
  if (t->options_.restored) {
    const NotifyTargetState& r = *t->options_.restored;
    for (const auto& [fp, sent] : r.last_sent) t->last_sent_[fp] = sent;
    t->tickets_ = r.tickets;
    if (t->alertmanager_) t->resend_ = r.resend;
    // After what the file kept: the checkpoint's entries were the newest
    // when it was taken (NotifySpool writes oldest first, all or nothing).
    NotifySpool::AppendResult a = t->spool_->Restore(r.memory);
    t->NoteSpoolWrite(a.status, &a);
  } else if (!t->spool_->last_error().empty()) {
    t->NoteSpoolWrite(absl::InternalError(t->spool_->last_error()), nullptr);
  }
  t->next_resend_ = now + t->options_.resend_interval;
  if (t->digest_) {
    const DurationMs every = t->options_.receiver.digest_every;
    t->next_digest_ = AlignDown(now, every) + every;
  }
  return t;
}

NotifyTarget::~NotifyTarget() { Stop(); }

void NotifyTarget::Start() {
  absl::MutexLock lock(&mu_);
  if (!thread_.joinable() && !stop_) thread_ = std::thread([this] { Run(); });
}

void NotifyTarget::RequestStop() {
  absl::MutexLock lock(&mu_);
  stop_ = true;
  cv_.SignalAll();
}

void NotifyTarget::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

void NotifyTarget::Enqueue(const std::vector<Notification>& alerts) {
  if (alerts.empty()) return;
  std::vector<NotifySpool::Item> items;
  items.reserve(alerts.size());
  for (const Notification& a : alerts) items.push_back({a.fingerprint, a.Encode()});
  absl::MutexLock lock(&mu_);
  NotifySpool::AppendResult r = spool_->Append(items);
  NoteSpoolWrite(r.status, &r);
  cv_.SignalAll();
}

void NotifyTarget::NoteSpoolWrite(const absl::Status& s, const NotifySpool::AppendResult* r) {
  const TimeMs now = NotifyNowMs();
  auto log = [&](const std::string& line) {
    if (line.empty()) return;
    Logf("notify %s %s: %s", options_.receiver.name.c_str(), shown_url_.c_str(), line.c_str());
  };
  if (r != nullptr) {
    dropped_ += r->dropped;
    coalesced_ += r->coalesced;
    dropped_memory_ += r->dropped_memory;
    if (r->dropped > 0 && now - last_drop_log_ >= kLogEvery) {
      last_drop_log_ = now;
      log(StrCat("spool full, dropped the ", r->dropped, " oldest notifications"));
    }
    if (r->dropped_memory > 0 && now - last_drop_log_ >= kLogEvery) {
      last_drop_log_ = now;
      log(StrCat("more than ", spool_->options().max_memory_entries,
                 " notifications held in memory only: dropped the ", r->dropped_memory,
                 " oldest of them"));
    }
  }
  if (!s.ok()) {
    log(spool_log_.Failed(now, spool_->memory_entries(), std::string(s.message())));
  } else if (spool_->healthy()) {
    log(spool_log_.Recovered(now));
  }
}

void NotifyTarget::SyncFiring(const std::vector<Notification>& firing) {
  if (!alertmanager_) return;
  absl::MutexLock lock(&mu_);
  for (const Notification& a : firing) {
    if (a.firing) resend_[a.fingerprint] = {a, kMaxTime};
  }
  next_resend_ = NotifyNowMs();
  cv_.SignalAll();
}

void NotifyTarget::EndOfInput() {
  absl::MutexLock lock(&mu_);
  input_ended_ = true;
  cv_.SignalAll();
}

bool NotifyTarget::Drained() const {
  absl::MutexLock lock(&mu_);
  if (digest_ && !input_ended_) return true;
  if (in_flight_) return false;
  const TimeMs now = NotifyNowMs();
  TimeMs until = 0;
  for (const auto& [id, e] : spool_->entries()) {
    if (!OnHold(e.key, now, &until)) return false;
  }
  return true;
}

ReceiverStats NotifyTarget::Stats() const {
  ReceiverStats s;
  s.receiver = options_.receiver.name;
  s.target = shown_url_;
  s.sent = sent_.load();
  s.failed = failed_.load();
  s.retried = retried_.load();
  s.dropped = dropped_.load();
  s.coalesced = coalesced_.load();
  s.dropped_memory = dropped_memory_.load();
  absl::MutexLock lock(&mu_);
  s.spooled = spool_->size();
  s.in_memory = spool_->memory_entries();
  s.spool_write_failures = spool_->write_failures();
  s.spool_healthy = spool_->healthy();
  if (!s.spool_healthy) s.spool_error = spool_->last_error();
  return s;
}

NotifyTargetState NotifyTarget::State() const {
  NotifyTargetState s;
  absl::MutexLock lock(&mu_);
  for (const auto& [fp, sent] : last_sent_) s.last_sent[fp] = sent;
  s.resend = resend_;
  s.memory = spool_->MemoryOnly();
  s.tickets = tickets_;
  return s;
}

void NotifyTarget::RemoveEntry(uint64_t id) { NoteSpoolWrite(spool_->Remove(id), nullptr); }

void NotifyTarget::Run() {
  // Locked by hand, not by a MutexLock: each delivery runs unlocked.
  mu_.Lock();
  TimeMs next_spool_retry = 0;
  while (!stop_) {
    TimeMs now = NotifyNowMs();
    TimeMs wake = now + kIdleWake;
    if (!spool_->healthy()) {
      if (now >= next_spool_retry) {
        NoteSpoolWrite(spool_->Retry(), nullptr);
        next_spool_retry = now + kSpoolRetry;
        now = NotifyNowMs();
      }
      if (!spool_->healthy()) wake = std::min(wake, next_spool_retry);
    }
    std::optional<Work> work = NextWork(now, &wake);
    if (!work) {
      cv_.WaitWithTimeout(&mu_, absl::Milliseconds(std::max<DurationMs>(1, wake - now)));
      continue;
    }
    in_flight_ = true;
    if (!work->ids.empty()) spool_->set_protected_upto(work->ids.back());
    mu_.Unlock();
    const Outcome outcome = Deliver(*work);
    mu_.Lock();
    Finish(*work, outcome, NotifyNowMs());
  }
  mu_.Unlock();
}

std::string NotifyTarget::Body(const Work& work, TimeMs now) const {
  PayloadContext ctx;
  ctx.external_url = options_.external_url;
  ctx.now = now;
  ctx.resend_interval = options_.resend_interval;
  ctx.receiver = options_.receiver.name;
  switch (options_.receiver.kind) {
    case NotifyReceiver::Kind::kAlertmanager:
      return AlertmanagerAlertsJson(work.alerts, ctx);
    case NotifyReceiver::Kind::kPagerDuty:
      return PagerDutyEventJson(work.alerts.front(), options_.routing_key, ctx);
    case NotifyReceiver::Kind::kWebhook:
      return WebhookJson(work.alerts, ctx);
    case NotifyReceiver::Kind::kJira:
    case NotifyReceiver::Kind::kGitHub:
      break;  // DeliverTicket
  }
  return "";
}

NotifyTarget::Outcome NotifyTarget::Deliver(const Work& work) {
  if (tracker_ != nullptr) return DeliverTicket(work);
  const HttpHeaders headers = {{"Content-Type", "application/json"}};
  for (int attempt = 0;; ++attempt) {
    absl::StatusOr<HttpClientResponse> r =
        client_->Send("POST", http_target_, Body(work, NotifyNowMs()), headers);
    std::string problem;
    DurationMs retry_after = 0;
    if (r.ok()) {
      if (r->status / 100 == 2) {
        LogRecovery();
        return Outcome::kDelivered;
      }
      // Redacted before cutting: a cut could leave half a key unrecognised.
      problem = StrCat("HTTP ", r->status, ": ", internal::ReplySnippet(Redact(r->body)));
      if (r->status < 500 && r->status != 429 && r->status != 408) {
        LogLine(
            StrCat("rejected ", work.alerts.size(), " notification(s), not retrying: ", problem));
        return Outcome::kRejected;
      }
      retry_after = internal::ParseRetryAfter(r->Header("Retry-After"));
    } else {
      problem = std::string(r.status().message());
    }
    if (work.resend) {
      LogFailure(StrCat("re-send of firing alerts failed: ", problem));
      return Outcome::kRejected;
    }
    ++retried_;
    const DurationMs delay = Backoff(attempt, retry_after);
    LogFailure(StrCat(problem, "; retrying in ", FormatDuration(delay)));
    if (!Sleep(delay)) return Outcome::kStopped;
  }
}

DurationMs NotifyTarget::Backoff(int attempt, DurationMs retry_after) {
  const DurationMs initial = options_.retry_initial, max = options_.retry_max;
  DurationMs cap = initial;
  for (int i = 0; i < attempt && cap < max; ++i) cap *= 2;
  cap = std::min(cap, max);
  std::uniform_int_distribution<DurationMs> jitter(initial, std::max(initial, cap));
  return std::max(jitter(rng_), std::min(retry_after, max));
}

bool NotifyTarget::Sleep(DurationMs ms) {
  absl::MutexLock lock(&mu_);
  const absl::Time deadline = absl::Now() + absl::Milliseconds(ms);
  while (!stop_ && !cv_.WaitWithDeadline(&mu_, deadline)) {
  }
  return !stop_;
}

std::string NotifyTarget::Redact(std::string text) const {
  const std::string& key = options_.routing_key;
  if (!key.empty()) text = RedactSecrets(std::move(text), {key});
  return RedactSecrets(std::move(text), secrets_);
}

void NotifyTarget::LogLine(const std::string& what) {
  const TimeMs now = NotifyNowMs();
  if (last_log_ != 0 && now - last_log_ < kLogEvery) {
    ++suppressed_;
    return;
  }
  std::string line = StrCat("notify ", options_.receiver.name, " ", shown_url_, ": ", Redact(what));
  if (suppressed_ > 0) StrAppend(&line, " (", suppressed_, " similar lines suppressed)");
  Log(line);
  last_log_ = now;
  suppressed_ = 0;
}

void NotifyTarget::LogFailure(const std::string& what) {
  ++failures_in_row_;
  LogLine(what);
}

void NotifyTarget::LogRecovery() {
  if (failures_in_row_ == 0) return;
  last_log_ = 0;  // a recovery is always worth a line
  LogLine(StrCat("delivered again after ", failures_in_row_, " failed attempt(s)"));
  failures_in_row_ = 0;
}

}  // namespace vigil
