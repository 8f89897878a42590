// windows/session_windows.h
//
// SessionWindows assigns events to per-key session windows: events of one
// key less than `gap` apart belong to one session; a silence of `gap` or
// more ends it. A session covers [start, last + gap), where start and last
// are its earliest and latest event times, and closes once the frontier
// reaches last + gap.
//
// Events may arrive out of order: one that falls between two sessions of
// its key, less than `gap` from each, merges them into one (the states are
// merged with the caller's merge function), as Flink's merging session
// assigner does.
//
// Memory follows open sessions only: a key's entry is removed when its last
// session closes. Closing visits only sessions due: a heap holds one entry
// per key at (or before) its earliest session end, so a frontier step costs
// O(sessions closed × log keys), not a scan of every key.
//
// State is any movable type; the store never looks inside it.
//
// Example:
//   SessionWindows<int> s(30 * 60 * 1000, [](int& into, int&& from) { into += from; });
//   ++*s.Add("u1", t);                     // a new session [t, t + 30m)
//   ++*s.Add("u1", t + 10 * kMinute);      // the same session, now to t + 40m
//   s.CloseUpTo(t + 40 * kMinute, [](std::string_view key, TimeMs start, TimeMs last,
//                                    int& events) { ... });  // "u1", t, t + 10m, 2
#ifndef VIGIL_WINDOWS_SESSION_WINDOWS_H_
#define VIGIL_WINDOWS_SESSION_WINDOWS_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/container/node_hash_map.h"
#include "windows/strings.h"
#include "windows/time.h"

namespace vigil {

template <typename State>
class SessionWindows {
 public:
  struct Session {
    TimeMs start;
    TimeMs last;
    State state;
  };
  using MergeFn = std::function<void(State& into, State&& from)>;
  using CloseFn = std::function<void(std::string_view key, TimeMs start, TimeMs last, State&)>;

  SessionWindows(DurationMs gap, MergeFn merge) : gap_(gap), merge_(std::move(merge)) {}
  SessionWindows(const SessionWindows&) = delete;
  SessionWindows& operator=(const SessionWindows&) = delete;

  DurationMs gap() const { return gap_; }

  // The state of the session the event at `t` belongs to, created (with
  // `make()`) or extended, merging sessions it bridges. Valid until the next
  // call to Add, Restore or CloseUpTo.
  template <typename Make>
  State* Add(std::string_view key, TimeMs t, Make&& make) {
    Key& k = FindOrAdd(key);
    auto& ss = k.sessions;
    size_t i = 0;
    while (i < ss.size() && !Overlaps(ss[i], t)) ++i;
    if (i == ss.size()) {
      // A new session, kept in start order.
      size_t at = 0;
      while (at < ss.size() && ss[at].start < t) ++at;
      ss.insert(ss.begin() + static_cast<std::ptrdiff_t>(at), Session{t, t, make()});
      ++sessions_;
      latest_end_ = std::max(latest_end_, t + gap_);
      Schedule(k, t + gap_);
      return &ss[at].state;
    }
    ss[i].start = std::min(ss[i].start, t);
    ss[i].last = std::max(ss[i].last, t);
    latest_end_ = std::max(latest_end_, t + gap_);
    // Sessions are at least `gap` apart, so only later ones can now overlap.
    while (i + 1 < ss.size() && ss[i + 1].start - ss[i].last < gap_) {
      ss[i].last = std::max(ss[i].last, ss[i + 1].last);
      merge_(ss[i].state, std::move(ss[i + 1].state));
      ss.erase(ss.begin() + static_cast<std::ptrdiff_t>(i + 1));
      --sessions_;
      ++merged_;
    }
    return &ss[i].state;
  }

  // Emits every session with last + gap <= frontier, ordered by end, then
  // key, then start, and forgets it.
  void CloseUpTo(TimeMs frontier, const CloseFn& emit) {
    struct Closed {
      TimeMs end;
      std::string key;
      Session session;
    };
    std::vector<Closed> closed;
    std::vector<Key*> emptied;
    if (frontier >= latest_end_ && !keys_.empty()) {
      // Everything closes (the end of a bounded input): one pass over the
      // keys instead of a heap pop per key.
      closed.reserve(sessions_);
      for (auto& [name, k] : keys_) {
        for (Session& s : k.sessions) closed.push_back({s.last + gap_, name, std::move(s)});
      }
      keys_.clear();
      heap_.clear();
      sessions_ = 0;
    }
    while (!heap_.empty() && heap_.front().at <= frontier) {
      Key* k = heap_.front().key;
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<Due>());
      heap_.pop_back();
      --k->refs;
      auto& ss = k->sessions;
      for (size_t i = 0; i < ss.size();) {
        if (ss[i].last + gap_ <= frontier) {
          closed.push_back({ss[i].last + gap_, *k->name, std::move(ss[i])});
          ss.erase(ss.begin() + static_cast<std::ptrdiff_t>(i));
          --sessions_;
        } else {
          ++i;
        }
      }
      k->scheduled = kMaxTime;
      if (!ss.empty()) {
        TimeMs next = kMaxTime;
        for (const Session& s : ss) next = std::min(next, s.last + gap_);
        Schedule(*k, next);
      } else if (k->refs == 0) {
        emptied.push_back(k);
      }
    }
    std::sort(closed.begin(), closed.end(), [](const Closed& a, const Closed& b) {
      return std::tie(a.end, a.key, a.session.start) < std::tie(b.end, b.key, b.session.start);
    });
    for (Closed& c : closed) emit(c.key, c.session.start, c.session.last, c.session.state);
    if (!closed.empty() && keys_.empty()) {
      // Tables do not shrink by themselves.
      keys_ = decltype(keys_)();
      std::vector<Due>().swap(heap_);
      return;
    }
    for (Key* k : emptied) {
      if (k->sessions.empty() && k->refs == 0) keys_.erase(*k->name);
    }
    // Give memory back after a wave of closes: tables do not shrink by
    // themselves.
    if (!emptied.empty() && keys_.bucket_count() > 8 * (keys_.size() + 64)) keys_.rehash(0);
    if (heap_.capacity() > 8 * (heap_.size() + 64)) heap_.shrink_to_fit();
  }

  // Every open session, in no particular order (for checkpoints).
  void ForEach(const std::function<void(std::string_view key, const Session&)>& fn) const {
    for (const auto& [name, k] : keys_) {
      for (const Session& s : k.sessions) fn(name, s);
    }
  }

  // Puts back a session saved with ForEach.
  void Restore(std::string_view key, TimeMs start, TimeMs last, State state) {
    Key& k = FindOrAdd(key);
    size_t at = 0;
    while (at < k.sessions.size() && k.sessions[at].start < start) ++at;
    k.sessions.insert(k.sessions.begin() + static_cast<std::ptrdiff_t>(at),
                      Session{start, last, std::move(state)});
    ++sessions_;
    latest_end_ = std::max(latest_end_, last + gap_);
    Schedule(k, last + gap_);
  }

  size_t session_count() const { return sessions_; }
  size_t key_count() const { return keys_.size(); }
  uint64_t merged_count() const { return merged_; }  // sessions joined by a bridging event

 private:
  struct Key {
    absl::InlinedVector<Session, 1> sessions;  // disjoint, in start order
    const std::string* name = nullptr;         // the map's key
    TimeMs scheduled = kMaxTime;  // a heap entry at or before every session end exists
    uint32_t refs = 0;            // heap entries pointing here
  };
  struct Due {
    TimeMs at;
    Key* key;
    bool operator>(const Due& o) const { return at > o.at; }
  };

  bool Overlaps(const Session& s, TimeMs t) const {
    return t - s.last < gap_ && s.start - t < gap_;
  }
  Key& FindOrAdd(std::string_view key) {
    auto it = keys_.find(key);
    if (it == keys_.end()) {
      it = keys_.try_emplace(std::string(key)).first;
      it->second.name = &it->first;
    }
    return it->second;
  }
  void Schedule(Key& k, TimeMs end) {
    if (end >= k.scheduled) return;
    k.scheduled = end;
    ++k.refs;
    heap_.push_back({end, &k});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<Due>());
  }

  DurationMs gap_;
  MergeFn merge_;
  absl::node_hash_map<std::string, Key, StringHash, StringEq> keys_;
  std::vector<Due> heap_;  // a min-heap by `at`
  size_t sessions_ = 0;
  uint64_t merged_ = 0;
  TimeMs latest_end_ = kMinTime;  // the latest session end there has been
};

}  // namespace vigil

#endif  // VIGIL_WINDOWS_SESSION_WINDOWS_H_
