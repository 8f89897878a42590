// NotifyTarget (notify_target.h): what the delivery thread sends next (in
// order, coalesced by the renotify interval, or a digest's batch) and what
// a delivery leaves behind.
#include <algorithm>
#include <set>

#include "operators/notify/notify_target.h"

namespace vigil {
namespace {

constexpr size_t kAlertmanagerBatch = 64;
constexpr size_t kDigestBatch = 1000;
constexpr size_t kMaxLastSent = 4096;

}  // namespace

bool NotifyTarget::OnHold(const std::string& fingerprint, TimeMs now, TimeMs* until) const {
  if (options_.renotify_interval <= 0 || input_ended_) return false;
  auto it = last_sent_.find(fingerprint);
  if (it == last_sent_.end() || now >= it->second.at + options_.renotify_interval) return false;
  *until = it->second.at + options_.renotify_interval;
  return true;
}

std::optional<NotifyTarget::Work> NotifyTarget::NextWork(TimeMs now, TimeMs* wake) {
  if (digest_) return NextDigest(now, wake);
  std::optional<Work> work = options_.renotify_interval > 0 ? NextHeld(now, wake) : NextFifo();
  if (work || !alertmanager_) return work;
  std::erase_if(resend_, [now](const auto& kv) { return kv.second.until <= now; });
  if (resend_.empty()) return std::nullopt;
  if (now < next_resend_) {
    *wake = std::min(*wake, next_resend_);
    return std::nullopt;
  }
  Work resend;
  resend.resend = true;
  for (const auto& [fp, r] : resend_) resend.alerts.push_back(r.alert);
  return resend;
}

std::optional<NotifyTarget::Work> NotifyTarget::TakeBatch(size_t max, bool one_state_each) {
  Work work;
  std::set<std::string_view> fingerprints;
  std::vector<uint64_t> bad;
  for (const auto& [id, e] : spool_->entries()) {
    if (work.ids.size() >= max) break;
    // Two states of one alert never share a POST: each arrives, in order.
    if (one_state_each && !fingerprints.insert(e.key).second) break;
    std::optional<Notification> a = Notification::Decode(e.data);
    if (!a) {
      bad.push_back(id);
      if (one_state_each) fingerprints.erase(e.key);
      continue;
    }
    work.ids.push_back(id);
    work.alerts.push_back(std::move(*a));
  }
  for (uint64_t id : bad) RemoveEntry(id);
  failed_ += bad.size();
  if (work.ids.empty()) return std::nullopt;
  return work;
}

std::optional<NotifyTarget::Work> NotifyTarget::NextFifo() {
  return TakeBatch(alertmanager_ ? kAlertmanagerBatch : 1, /*one_state_each=*/true);
}

std::optional<NotifyTarget::Work> NotifyTarget::NextHeld(TimeMs now, TimeMs* wake) {
  // Restarts after every removal: removing invalidates the scan.
  for (bool removed = true; removed;) {
    removed = false;
    std::set<std::string> held;
    for (const auto& [id, e] : spool_->entries()) {
      if (held.contains(e.key)) continue;
      TimeMs until = 0;
      if (OnHold(e.key, now, &until)) {
        held.insert(e.key);
        *wake = std::min(*wake, until);
        continue;
      }
      std::vector<uint64_t> ids;  // every queued state of this alert, oldest first
      for (auto it = spool_->entries().find(id); it != spool_->entries().end(); ++it) {
        if (it->second.key == e.key) ids.push_back(it->first);
      }
      std::optional<Notification> latest =
          Notification::Decode(spool_->entries().at(ids.back()).data);
      auto sent = last_sent_.find(e.key);
      if (sent == last_sent_.end()) {
        // Never sent here: the first state goes out now, the rest wait.
        std::optional<Notification> first = Notification::Decode(e.data);
        if (!first) {
          RemoveEntry(id);
          ++failed_;
          removed = true;
          break;
        }
        Work work;
        work.ids = {id};
        work.alerts = {std::move(*first)};
        return work;
      }
      // A hold has ended: only the latest state matters, and only if it differs.
      for (size_t i = 0; i + 1 < ids.size(); ++i) RemoveEntry(ids[i]);
      coalesced_ += ids.size() - 1;
      if (!latest || latest->firing == sent->second.firing) {
        RemoveEntry(ids.back());
        if (latest)
          ++coalesced_;
        else
          ++failed_;
        removed = true;
        break;
      }
      Work work;
      work.ids = {ids.back()};
      work.alerts = {std::move(*latest)};
      return work;
    }
  }
  return std::nullopt;
}

std::optional<NotifyTarget::Work> NotifyTarget::NextDigest(TimeMs now, TimeMs* wake) {
  const DurationMs every = options_.receiver.digest_every;
  if (now >= next_digest_ && spool_->empty()) next_digest_ = AlignDown(now, every) + every;
  if (now < next_digest_ && !input_ended_) {
    *wake = std::min(*wake, next_digest_);
    return std::nullopt;
  }
  return TakeBatch(kDigestBatch, /*one_state_each=*/false);
}

void NotifyTarget::Finish(const Work& work, Outcome outcome, TimeMs now) {
  in_flight_ = false;
  spool_->set_protected_upto(0);
  if (outcome == Outcome::kStopped) return;  // still spooled
  if (work.resend) {
    const bool ok = outcome == Outcome::kDelivered;
    resend_failures_ = ok ? 0 : resend_failures_ + 1;
    next_resend_ = now + (ok ? options_.resend_interval
                             : std::min(options_.resend_interval, Backoff(resend_failures_, 0)));
    return;
  }
  for (uint64_t id : work.ids) RemoveEntry(id);
  if (outcome == Outcome::kRejected) {
    failed_ += work.ids.size();
  } else {
    sent_ += work.ids.size();
    if (last_sent_.size() > kMaxLastSent) {
      std::erase_if(last_sent_, [&](const auto& kv) {
        return now >= kv.second.at + options_.renotify_interval;
      });
    }
    for (const Notification& a : work.alerts) {
      if (options_.renotify_interval > 0) last_sent_[a.fingerprint] = {now, a.firing};
      if (!alertmanager_) continue;
      resend_[a.fingerprint] = {a, a.firing ? kMaxTime : now + 15 * options_.resend_interval};
    }
  }
  if (digest_ && work.ids.size() < kDigestBatch) {
    const DurationMs every = options_.receiver.digest_every;
    next_digest_ = AlignDown(now, every) + every;
  }
}

}  // namespace vigil
