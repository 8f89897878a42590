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
// Layout, for millions of open keys: one record per key in a SessionPool
// (key bytes inline up to 24, the first session inline), found through a
// SessionIndex of 8-byte slots; no allocation per key or session beyond
// keys longer than 24 bytes. After a wave of closes the index, the records
// and the heap shrink; once every session has closed they hold nothing.
//
// State is any movable, default-constructible type; the store never looks
// inside it.
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
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "base/prefetch.h"
#include "base/time.h"
#include "windows/session_index.h"
#include "windows/session_pool.h"

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
  ~SessionWindows() { FreeKeys(); }

  DurationMs gap() const { return gap_; }

  // The state of the session the event at `t` belongs to, created (with
  // `make()`) or extended, merging sessions it bridges. Valid until the next
  // call to Add, Restore or CloseUpTo.
  template <typename Make>
  State* Add(std::string_view key, TimeMs t, Make&& make) {
    const uint32_t id = FindOrAdd(key);
    Record& k = Rec(id);
    auto& ss = k.sessions;
    latest_end_ = std::max(latest_end_, t + gap_);
    size_t i = 0;
    while (i < ss.size() && !Overlaps(ss[i], t)) ++i;
    if (i == ss.size()) {
      // A new session, kept in start order.
      size_t at = 0;
      while (at < ss.size() && ss[at].start < t) ++at;
      ss.insert(ss.begin() + static_cast<std::ptrdiff_t>(at), Session{t, t, make()});
      ++sessions_;
      Schedule(id, k, t + gap_);
      return &ss[at].state;
    }
    ss[i].start = std::min(ss[i].start, t);
    ss[i].last = std::max(ss[i].last, t);
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

  // Whether Add(key, t) would open a new session rather than extend (or
  // bridge) an open one of the key: what an owner bounding the open
  // sessions asks before adding.
  bool Opens(std::string_view key, TimeMs t) const {
    const uint32_t id =
        index_.Find(Hash(key), [&](uint32_t i) { return KeyOf(*records_.At(i)) == key; });
    if (id == SessionIndex::kNone) return true;
    const auto& ss = records_.At(id)->sessions;
    return std::none_of(ss.begin(), ss.end(), [&](const Session& s) { return Overlaps(s, t); });
  }

  // Whether `key` has an open session.
  bool Contains(std::string_view key) const {
    return index_.Find(Hash(key), [&](uint32_t i) { return KeyOf(*records_.At(i)) == key; }) !=
           SessionIndex::kNone;
  }

  // Hints for a key about to be added, so that its cache misses overlap
  // other work: each step fetches what the next one reads, given a few
  // hundred nanoseconds in between. They never change any result.
  //   HashKey(key) -> PrefetchIndex -> PrefetchRecord -> PeekLatest
  static uint64_t HashKey(std::string_view key) { return Hash(key); }
  void PrefetchIndex(uint64_t hash) const {
    if (const uint64_t* slot = index_.HomeSlot(hash)) PrefetchLine(slot);
  }
  void PrefetchRecord(uint64_t hash) const {
    const uint32_t id = index_.Candidate(hash);
    if (id == SessionIndex::kNone) return;
    const char* p = reinterpret_cast<const char*>(records_.At(id));
    PrefetchLine(p);
    PrefetchLine(p + sizeof(Record) - 1);
  }
  // The state of the latest open session of the key `hash` most likely
  // names, or null.
  const State* PeekLatest(uint64_t hash) const {
    const uint32_t id = index_.Candidate(hash);
    if (id == SessionIndex::kNone) return nullptr;
    const Record& k = *records_.At(id);
    return k.sessions.empty() ? nullptr : &k.sessions.back().state;
  }

  // Emits every session with last + gap <= frontier, ordered by end, then
  // key, then start, and forgets it.
  void CloseUpTo(TimeMs frontier, const CloseFn& emit) {
    std::vector<Closed> closed;
    std::vector<uint32_t> emptied;  // records to free once emitted
    if (frontier >= latest_end_ && sessions_ > 0) {
      CloseAll(&closed);
    } else {
      CloseDue(frontier, &closed, &emptied);
    }
    SortClosed(&closed);
    for (Closed& c : closed) emit(KeyOf(Rec(c.rec)), c.start, c.last, c.state);
    if (closed.empty() && emptied.empty()) return;
    if (sessions_ == 0) {
      Clear();
      return;
    }
    for (uint32_t id : emptied) {
      if (Rec(id).sessions.empty() && Rec(id).refs == 0) FreeRecord(id);
    }
    // Give memory back after a wave of closes.
    if (records_.NeedsCompacting()) Compact();
    if (heap_.capacity() > 8 * (heap_.size() + 64)) heap_.shrink_to_fit();
  }

  // At most how many sessions CloseUpTo(frontier) would close now: those of
  // the keys due by it (a walk of the heap's due part only).
  size_t MostClosingBy(TimeMs frontier) const {
    if (frontier >= latest_end_) return sessions_;
    size_t n = 0;
    std::vector<size_t> stack;
    if (!heap_.empty()) stack.push_back(0);
    while (!stack.empty()) {
      const size_t i = stack.back();
      stack.pop_back();
      if (heap_[i].at > frontier) continue;  // and so is everything below it
      n += records_.At(heap_[i].rec)->sessions.size();
      for (const size_t child : {2 * i + 1, 2 * i + 2}) {
        if (child < heap_.size()) stack.push_back(child);
      }
    }
    return n;
  }

  // Every open session, in no particular order (for checkpoints).
  void ForEach(const std::function<void(std::string_view key, const Session&)>& fn) const {
    for (uint32_t id = 0; id < records_.capacity(); ++id) {
      const Record& k = *records_.At(id);
      if (k.len == kFree) continue;
      for (const Session& s : k.sessions) fn(KeyOf(k), s);
    }
  }

  // Every open session's state, to be changed in place (for an owner that
  // renames what its states point to).
  template <typename Fn>
  void ForEachState(Fn&& fn) {
    for (uint32_t id = 0; id < records_.capacity(); ++id) {
      Record& k = Rec(id);
      if (k.len == kFree) continue;
      for (Session& s : k.sessions) fn(s.state);
    }
  }

  // Puts back a session saved with ForEach.
  void Restore(std::string_view key, TimeMs start, TimeMs last, State state) {
    const uint32_t id = FindOrAdd(key);
    Record& k = Rec(id);
    size_t at = 0;
    while (at < k.sessions.size() && k.sessions[at].start < start) ++at;
    k.sessions.insert(k.sessions.begin() + static_cast<std::ptrdiff_t>(at),
                      Session{start, last, std::move(state)});
    ++sessions_;
    latest_end_ = std::max(latest_end_, last + gap_);
    Schedule(id, k, last + gap_);
  }

  size_t session_count() const { return sessions_; }
  size_t key_count() const { return index_.size(); }
  uint64_t merged_count() const { return merged_; }  // sessions joined by a bridging event
  // Bytes reserved by the records, the index and the close heap (not the
  // states' own allocations or keys longer than 24 bytes).
  size_t reserved_bytes() const {
    return records_.capacity() * sizeof(Record) + index_.capacity() * sizeof(uint64_t) +
           heap_.capacity() * sizeof(Due);
  }

 private:
  static constexpr uint32_t kFree = 0xFFFFFFFF;  // Record::len of an unused record
  static constexpr size_t kInlineKey = 24;

  struct Record {
    TimeMs scheduled = kMaxTime;  // a heap entry at or before every session end exists
    uint32_t refs = 0;            // heap entries naming this record
    uint32_t len = kFree;         // key length
    union {
      char bytes[kInlineKey];
      char* heap;  // keys longer than kInlineKey, owned
    } key{};
    absl::InlinedVector<Session, 1> sessions;  // disjoint, in start order
  };
  struct Due {
    TimeMs at;
    uint32_t rec;
    bool operator>(const Due& o) const { return at > o.at; }
  };
  struct Closed {
    TimeMs end;
    TimeMs start;
    TimeMs last;
    uint32_t rec;
    State state;
  };

  static uint64_t Hash(std::string_view key) {
    return absl::Hash<absl::string_view>{}(absl::string_view(key.data(), key.size()));
  }
  static std::string_view KeyOf(const Record& k) {
    return {k.len <= kInlineKey ? k.key.bytes : k.key.heap, k.len};
  }
  Record& Rec(uint32_t id) { return *records_.At(id); }
  bool Overlaps(const Session& s, TimeMs t) const {
    return t - s.last < gap_ && s.start - t < gap_;
  }
  uint32_t FindOrAdd(std::string_view key) {
    const uint64_t h = Hash(key);
    const uint32_t found = index_.Find(h, [&](uint32_t id) { return KeyOf(Rec(id)) == key; });
    if (found != SessionIndex::kNone) return found;
    const uint32_t id = records_.Alloc();
    Record& k = Rec(id);
    k.len = static_cast<uint32_t>(key.size());
    char* bytes = k.key.bytes;
    if (key.size() > kInlineKey) bytes = k.key.heap = new char[key.size()];
    if (!key.empty()) std::memcpy(bytes, key.data(), key.size());
    index_.Insert(h, id);
    return id;
  }
  void FreeRecord(uint32_t id) {
    Record& k = Rec(id);
    index_.Erase(Hash(KeyOf(k)), id);
    if (k.len > kInlineKey) delete[] k.key.heap;
    k.len = kFree;
    records_.Free(id);
  }
  void FreeKeys() {
    for (uint32_t id = 0; id < records_.capacity(); ++id) {
      Record& k = Rec(id);
      if (k.len != kFree && k.len > kInlineKey) delete[] k.key.heap;
      k.len = kFree;
    }
  }
  void Clear() {
    FreeKeys();
    records_.Clear();
    index_.Clear();
    std::vector<Due>().swap(heap_);
    sessions_ = 0;
  }
  void Schedule(uint32_t id, Record& k, TimeMs end) {
    if (end >= k.scheduled) return;
    k.scheduled = end;
    ++k.refs;
    heap_.push_back({end, id});
    std::push_heap(heap_.begin(), heap_.end(), std::greater<Due>());
  }

  // Everything closes (the end of a bounded input): one pass over the
  // records instead of a heap pop per key.
  void CloseAll(std::vector<Closed>* closed) {
    closed->reserve(sessions_);
    for (uint32_t id = 0; id < records_.capacity(); ++id) {
      Record& k = Rec(id);
      if (k.len == kFree) continue;
      for (Session& s : k.sessions) {
        closed->push_back({s.last + gap_, s.start, s.last, id, std::move(s.state)});
      }
      k.sessions.clear();
    }
    heap_.clear();
    sessions_ = 0;
  }

  void CloseDue(TimeMs frontier, std::vector<Closed>* closed, std::vector<uint32_t>* emptied) {
    while (!heap_.empty() && heap_.front().at <= frontier) {
      const uint32_t id = heap_.front().rec;
      std::pop_heap(heap_.begin(), heap_.end(), std::greater<Due>());
      heap_.pop_back();
      Record& k = Rec(id);
      --k.refs;
      auto& ss = k.sessions;
      for (size_t i = 0; i < ss.size();) {
        if (ss[i].last + gap_ <= frontier) {
          closed->push_back(
              {ss[i].last + gap_, ss[i].start, ss[i].last, id, std::move(ss[i].state)});
          ss.erase(ss.begin() + static_cast<std::ptrdiff_t>(i));
          --sessions_;
        } else {
          ++i;
        }
      }
      k.scheduled = kMaxTime;
      if (!ss.empty()) {
        TimeMs next = kMaxTime;
        for (const Session& s : ss) next = std::min(next, s.last + gap_);
        Schedule(id, k, next);
      } else if (k.refs == 0) {
        emptied->push_back(id);
      }
    }
  }

  void SortClosed(std::vector<Closed>* closed) {
    auto less = [this](const Closed& a, const Closed& b) {
      if (a.end != b.end) return a.end < b.end;
      const std::string_view ka = KeyOf(Rec(a.rec)), kb = KeyOf(Rec(b.rec));
      return std::tie(ka, a.start) < std::tie(kb, b.start);
    };
    // Sessions mostly close in the order they were opened.
    if (!std::is_sorted(closed->begin(), closed->end(), less)) {
      std::sort(closed->begin(), closed->end(), less);
    }
  }

  // Moves the live records into a fresh pool, renaming them in the index
  // and the heap.
  void Compact() {
    SessionPool<Record> fresh(1);
    std::vector<uint32_t> renamed(records_.capacity(), kFree);
    for (uint32_t id = 0; id < records_.capacity(); ++id) {
      Record& k = Rec(id);
      if (k.len == kFree) continue;
      renamed[id] = fresh.Alloc();
      *fresh.At(renamed[id]) = std::move(k);
      // The key's bytes moved with it; the slot is marked free, not read.
      k.len = kFree;  // NOLINT(bugprone-use-after-move)
    }
    records_ = std::move(fresh);
    for (Due& d : heap_) d.rec = renamed[d.rec];
    index_.Clear();
    for (uint32_t id = 0; id < records_.capacity(); ++id) {
      if (Rec(id).len != kFree) index_.Insert(Hash(KeyOf(Rec(id))), id);
    }
  }

  DurationMs gap_;
  MergeFn merge_;
  SessionPool<Record> records_{1};
  SessionIndex index_;
  std::vector<Due> heap_;  // a min-heap by `at`
  size_t sessions_ = 0;
  uint64_t merged_ = 0;
  TimeMs latest_end_ = kMinTime;  // the latest session end there has been
};

}  // namespace vigil

#endif  // VIGIL_WINDOWS_SESSION_WINDOWS_H_
