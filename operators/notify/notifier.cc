#include "operators/notify/notifier.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>

#include "absl/strings/escaping.h"
#include "base/codec.h"
#include "base/log.h"
#include "base/strings.h"

namespace vigil {

namespace {

constexpr uint8_t kStateVersion = 1;

// A target's name across restarts, for its spool file and its checkpoint
// state: receiver name and a hash of the URL (the order of `urls` may change).
std::string TargetName(const NotifyReceiver& r, const std::string& url) {
  return StrCat(r.name, "-", AlertFingerprint({{"url", url}}).substr(0, 8));
}

std::string SpoolPath(const std::string& dir, const NotifyReceiver& r, const std::string& url) {
  if (dir.empty()) return "";
  return (std::filesystem::path(dir) / (TargetName(r, url) + ".spool")).string();
}

// Target name -> encoded NotifyTargetState; nullopt when malformed.
std::optional<std::map<std::string, std::string>> DecodeTargets(std::string_view data) {
  std::map<std::string, std::string> out;
  Decoder dec(data);
  if (dec.GetByte() != kStateVersion) return std::nullopt;
  for (uint64_t n = dec.GetVarint(); n > 0 && dec.ok(); --n) {
    std::string name(dec.GetString());
    std::string_view state = dec.GetString();
    if (!dec.ok() || !NotifyTargetState::Decode(state)) return std::nullopt;
    out[std::move(name)] = std::string(state);
  }
  if (!dec.ok() || !dec.empty()) return std::nullopt;
  return out;
}

// The Authorization header value of a ticket receiver, from the
// environment: "Basic base64(email:token)" or "Bearer token"; and the
// values that must never be logged.
absl::StatusOr<std::pair<std::string, std::vector<std::string>>> TicketAuthorization(
    const NotifyReceiver& r) {
  auto env = [&](const std::string& name, std::string_view what) -> absl::StatusOr<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == '\0') {
      return absl::FailedPreconditionError(StrCat("notify receiver '", r.name,
                                                  "': environment variable ", name, " (", what,
                                                  ") is not set"));
    }
    return std::string(v);
  };
  absl::StatusOr<std::string> token = env(r.token_env, "the API token");
  if (!token.ok()) return token.status();
  if (r.email_env.empty()) {
    return std::make_pair(StrCat("Bearer ", *token), std::vector<std::string>{*token});
  }
  absl::StatusOr<std::string> email = env(r.email_env, "the account's email");
  if (!email.ok()) return email.status();
  const std::string basic = absl::Base64Escape(StrCat(*email, ":", *token));
  return std::make_pair(StrCat("Basic ", basic), std::vector<std::string>{*token, basic});
}

}  // namespace

absl::StatusOr<std::unique_ptr<Notifier>> Notifier::Create(NotifyConfig config) {
  std::map<std::string, std::string> restored;
  if (!config.restored_state.empty()) {
    std::optional<std::map<std::string, std::string>> d = DecodeTargets(config.restored_state);
    if (!d) return absl::DataLossError("unreadable notifier state in the checkpoint");
    restored = std::move(*d);
    config.restored_state.clear();
  }
  std::unique_ptr<Notifier> n(new Notifier(std::move(config)));
  std::map<std::string, std::vector<size_t>> by_receiver;
  if (absl::Status s = n->AddTargets(restored, &by_receiver); !s.ok()) return s;
  if (absl::Status s = n->AddRoutes(by_receiver); !s.ok()) return s;
  for (auto& t : n->targets_) t->Start();
  n->spooler_ = std::thread([p = n.get()] { p->RunSpooler(); });
  return n;
}

absl::Status Notifier::AddTargets(const std::map<std::string, std::string>& restored,
                                  std::map<std::string, std::vector<size_t>>* by_receiver) {
  const NotifyConfig& c = config_;
  size_t count = 0;
  for (const NotifyReceiver& r : c.receivers) count += r.urls.size();
  const size_t per_target = std::max<size_t>(4096, c.spool_max_bytes / std::max<size_t>(1, count));
  for (const NotifyReceiver& r : c.receivers) {
    std::string key;
    if (r.kind == NotifyReceiver::Kind::kPagerDuty) {
      const char* v = std::getenv(r.routing_key_env.c_str());
      if (v == nullptr || *v == '\0') {
        return absl::FailedPreconditionError(StrCat("notify receiver '", r.name,
                                                    "': environment variable ", r.routing_key_env,
                                                    " (the PagerDuty routing key) is not set"));
      }
      key = v;
    }
    std::pair<std::string, std::vector<std::string>> auth;
    if (r.ticket()) {
      auto a = TicketAuthorization(r);
      if (!a.ok()) return a.status();
      auth = std::move(*a);
    }
    for (const std::string& url : r.urls) {
      NotifyTarget::Options o;
      o.receiver = r;
      o.url = url;
      o.routing_key = key;
      o.authorization = auth.first;
      o.secrets = auth.second;
      o.spool_path = SpoolPath(c.spool_dir, r, url);
      o.spool_max_bytes = per_target;
      o.external_url = c.external_url;
      o.resend_interval = c.resend_interval;
      o.renotify_interval = c.renotify_interval;
      o.timeout = c.timeout;
      o.retry_initial = c.retry_initial;
      o.retry_max = c.retry_max;
      if (auto it = restored.find(TargetName(r, url)); it != restored.end()) {
        o.restored = NotifyTargetState::Decode(it->second);
      }
      absl::StatusOr<std::unique_ptr<NotifyTarget>> t = NotifyTarget::Create(std::move(o));
      if (!t.ok()) {
        return absl::Status(t.status().code(), StrCat("notify receiver '", r.name,
                                                      "': ", std::string(t.status().message())));
      }
      (*by_receiver)[r.name].push_back(targets_.size());
      targets_.push_back(std::move(*t));
      target_names_.push_back(TargetName(r, url));
    }
  }
  return absl::OkStatus();
}

absl::Status Notifier::AddRoutes(const std::map<std::string, std::vector<size_t>>& by_receiver) {
  const NotifyConfig& c = config_;
  for (size_t sev = 1; sev < c.routes.size(); ++sev) {
    for (const std::string& name : c.routes[sev]) {
      auto it = by_receiver.find(name);
      if (it == by_receiver.end()) {
        return absl::InvalidArgumentError(
            StrCat("notify route P", sev, ": unknown receiver '", name, "'"));
      }
      for (size_t t : it->second) routes_[sev].push_back(t);
    }
  }
  for (const auto& [alert, names] : c.alert_routes) {
    std::vector<size_t>& route = alert_routes_[alert];
    for (const std::string& name : names) {
      auto it = by_receiver.find(name);
      if (it == by_receiver.end()) {
        return absl::InvalidArgumentError(
            StrCat("notify route ", alert, ": unknown receiver '", name, "'"));
      }
      route.insert(route.end(), it->second.begin(), it->second.end());
    }
  }
  return absl::OkStatus();
}

Notifier::~Notifier() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
    cv_.SignalAll();
  }
  if (spooler_.joinable()) spooler_.join();  // spools what was accepted
  // All at once: each may wait out one request in flight.
  for (auto& t : targets_) t->RequestStop();
  for (auto& t : targets_) t->Stop();
}

int Notifier::SeverityOf(const AlertNotice& n) const {
  if (n.def != nullptr) return static_cast<int>(n.def->severity);
  auto it = n.labels.find("severity");
  if (it != n.labels.end() && it->second.size() == 2 && it->second[0] == 'P' &&
      it->second[1] >= '1' && it->second[1] <= '4') {
    return it->second[1] - '0';
  }
  return 0;
}

const std::vector<size_t>* Notifier::RouteOf(const AlertNotice& n) const {
  if (!alert_routes_.empty()) {
    if (auto name = n.labels.find("alertname"); name != n.labels.end()) {
      if (auto it = alert_routes_.find(name->second); it != alert_routes_.end()) {
        return &it->second;
      }
    }
  }
  const int severity = SeverityOf(n);
  if (severity < 1 || severity > 4) return nullptr;
  return &routes_[static_cast<size_t>(severity)];
}

void Notifier::OnAlert(const AlertNotice& n) {
  if (n.transition != Transition::kFiring && n.transition != Transition::kResolved) return;
  if (!n.notify) return;  // inhibited or silenced
  const std::vector<size_t>* route = RouteOf(n);
  const int severity = SeverityOf(n);
  if (route == nullptr || route->empty() || severity < 1 || severity > 4) return;
  Notification alert = MakeNotification(n, config_.labels);
  alert.severity = severity;
  absl::MutexLock lock(&mu_);
  for (size_t t : *route) {
    inbox_.emplace_back(t, alert);
    ++accepted_;
  }
  cv_.SignalAll();
}

void Notifier::RunSpooler() {
  while (true) {
    std::vector<std::pair<size_t, Notification>> batch;
    {
      absl::MutexLock lock(&mu_);
      while (!stop_ && inbox_.empty()) cv_.Wait(&mu_);
      if (inbox_.empty()) return;  // stopping, and everything is spooled
      batch.swap(inbox_);
    }
    std::vector<std::vector<Notification>> per_target(targets_.size());
    for (auto& [t, alert] : batch) per_target[t].push_back(std::move(alert));
    for (size_t t = 0; t < targets_.size(); ++t) targets_[t]->Enqueue(per_target[t]);
    absl::MutexLock lock(&mu_);
    spooled_ += batch.size();
    cv_.SignalAll();
  }
}

void Notifier::WaitSpooled() {
  absl::MutexLock lock(&mu_);
  const uint64_t target = accepted_;
  while (spooled_ < target && !(stop_ && inbox_.empty())) cv_.Wait(&mu_);
}

void Notifier::EndOfInput() {
  WaitSpooled();
  for (const auto& t : targets_) t->EndOfInput();
}

void Notifier::Flush() {
  WaitSpooled();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.timeout);
  while (std::chrono::steady_clock::now() < deadline) {
    bool drained = true;
    for (const auto& t : targets_) drained = drained && t->Drained();
    if (drained) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  // Not a silent loss: say what is left, and where (if anywhere) it stays.
  for (const ReceiverStats& s : Stats()) {
    if (s.spooled > s.in_memory) {
      Log(StrCat(s.receiver, " (", s.target, "): ", s.spooled - s.in_memory,
                 " notification(s) not delivered by the end, kept in the spool (",
                 config_.spool_dir, ") for the next run to deliver"));
    }
    if (s.in_memory == 0) continue;
    Log(StrCat(s.receiver, " (", s.target, "): ", s.in_memory,
               " notification(s) not delivered by the end and held in memory only (no "
               "spool.dir): a checkpoint (--checkpoint-dir) keeps them for the next run, "
               "otherwise they are lost"));
  }
}

void Notifier::SyncFiring(const std::vector<AlertNotice>& firing) {
  std::vector<std::vector<Notification>> per_target(targets_.size());
  for (const AlertNotice& n : firing) {
    if (!n.notify) continue;  // never sent: inhibited or silenced
    const std::vector<size_t>* route = RouteOf(n);
    const int severity = SeverityOf(n);
    if (route == nullptr || severity < 1 || severity > 4) continue;
    Notification a = MakeNotification(n, config_.labels);
    a.firing = true;
    a.severity = severity;
    for (size_t t : *route) per_target[t].push_back(a);
  }
  for (size_t t = 0; t < targets_.size(); ++t) targets_[t]->SyncFiring(per_target[t]);
}

std::string Notifier::EncodeState() const {
  Encoder enc;
  enc.PutByte(kStateVersion);
  enc.PutVarint(targets_.size());
  for (size_t t = 0; t < targets_.size(); ++t) {
    enc.PutString(target_names_[t]);
    enc.PutString(targets_[t]->State().Encode());
  }
  return enc.Release();
}

bool Notifier::ValidState(std::string_view data) { return DecodeTargets(data).has_value(); }

std::vector<ReceiverStats> Notifier::Stats() const {
  std::vector<ReceiverStats> out;
  out.reserve(targets_.size());
  for (const auto& t : targets_) out.push_back(t->Stats());
  return out;
}

}  // namespace vigil
