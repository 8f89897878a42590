// windows/pane_store.h
//
// PaneStore keeps the partial aggregates of one windowed metric, one pane
// per (group, pane start). Each event is folded into exactly one pane; a
// window is answered by merging the panes it covers, so a sliding window of
// size S and slide E costs one update per event, not S/E.
//
// Firing a long window with a short slide does not re-merge every pane: a
// window's panes sit in a queue that gains the newest pane and loses the
// oldest as the window slides. When every aggregate of the metric is
// invertible (count, sum, avg, ratio, rate) the queue keeps one running
// aggregate and subtracts the evicted pane; otherwise it is a two-stacks
// queue, which answers a window with amortised O(1) merges.
//
// A window fires once the frontier (watermark minus allowed lateness) has
// reached its end; only windows that hold at least one pane are emitted.
// Groups with nothing left are dropped, so memory follows live groups only.
//
// Views: metrics that differ only in their window size (an SLO's burn
// windows of 5m to 30d, all sliding every 5m) share one store whose spec is
// the longest window; each shorter size keeps its own running merge of the
// newest panes, so every event still costs one pane update and each window
// end one merge per size.
//
// Groups are bounded: a store adds none past its group limit, nor while a
// GroupBudget it shares with other stores (a job's series cap) is spent;
// Pane then returns null and the caller counts the event as dropped. The
// groups it holds are unaffected, so every window it emits is exact.
// What counts are the groups live at the event: those whose last window
// ends after the frontier as of the event (the watermark as of the previous
// record, less the allowed lateness), wherever their panes start: a group
// added for an event goes on into later windows unchecked, so every group
// not yet due may share a window with it. A group whose windows are
// all due counts no more, though it is only dropped at the next CloseUpTo,
// so which events a limit drops follows from the input, not from where the
// job's batches end (and a store holds at most its limit plus the groups
// that became due since the last close).
//
// Example:
//   PaneStore store(WindowSpec::Sliding(5 * kMinute, kMinute),
//                   {Accumulator(AggKind::kCount)});
//   store.Pane("faq", event_time)->at(0).AddPredicate(true);
//   store.CloseUpTo(watermark, [](const WindowView& w) { Emit(w); });
#ifndef VIGIL_WINDOWS_PANE_STORE_H_
#define VIGIL_WINDOWS_PANE_STORE_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/synchronization/mutex.h"
#include "base/codec.h"
#include "base/strings.h"
#include "windows/accumulator.h"
#include "windows/window_spec.h"

namespace vigil {

using AccSet = std::vector<Accumulator>;

// Accumulators only (the prototype gives their kinds when decoding).
void EncodeAccSet(const AccSet& set, Encoder* enc);
bool DecodeAccSet(Decoder* dec, const AccSet& prototype, AccSet* out);

// One closed window of one group (of the store's size, or of a view's:
// end - start tells which).
struct WindowView {
  std::string_view group;
  TimeMs start;
  TimeMs end;
  const AccSet& acc;
  // `acc` itself, when the store drops it once the call returns (a window
  // of one pane): the receiver may move out what it keeps (a sketch).
  AccSet* dropped = nullptr;
};

namespace internal {

// FIFO of panes with an aggregate of its content (see the file comment).
class PaneQueue {
 public:
  PaneQueue(const AccSet* prototype, bool invertible)
      : prototype_(prototype), invertible_(invertible) {}
  void Push(TimeMs start, AccSet pane);
  void Pop();
  bool empty() const { return front_.empty() && back_.empty(); }
  size_t size() const { return front_.size() + back_.size() - back_head_; }
  TimeMs FrontStart() const;
  // Merge of every pane in the queue.
  void Query(AccSet* out) const;
  // Views (invertible queues only): the panes of a shorter window ending
  // where the queue's does, kept as a running merge of their own.
  void AddView();
  // Drops from view `v` the panes starting before `from`; call before
  // popping those panes from the queue.
  void EvictView(size_t v, TimeMs from);
  // The merge of view `v`; false when it holds no pane.
  bool QueryView(size_t v, AccSet* out) const;
  // Raw panes, oldest first (for serialisation).
  void ForEach(const std::function<void(TimeMs, const AccSet&)>& fn) const;
  // Rewrites every set it holds, panes and merges (PaneStore::Remap).
  void RemapAll(const std::function<void(AccSet*)>& remap);

 private:
  struct Entry {
    TimeMs start;
    AccSet pane;
    AccSet agg;  // two-stacks front: merge of this pane and all newer front panes
  };
  // Once a subtraction leaves a running merge inexact (an overflowed sum),
  // it is merged again from the panes from `head` on.
  void Rebuild(AccSet* running, size_t head) const;
  const AccSet* prototype_;
  bool invertible_;
  // Invertible: back_ holds every pane, running_ their merge.
  // Two-stacks: front_ (oldest at back()) and back_ (oldest at front()).
  std::vector<Entry> front_;
  std::vector<Entry> back_;
  size_t back_head_ = 0;  // invertible mode pops from the front of back_
  AccSet running_;
  struct View {
    AccSet running;
    size_t head = 0;  // first pane of back_ in the view
  };
  std::vector<View> views_;
};

}  // namespace internal

// A bound on the groups of several stores together, asked only when a
// store is about to add a group.
class GroupBudget {
 public:
  virtual ~GroupBudget() = default;
  // Whether no group may be added for an event at `t` with the frontier
  // `frontier` (see the file comment).
  virtual bool Exhausted(TimeMs frontier, TimeMs t) const = 0;
};

class PaneStore {
 public:
  // `views`: shorter window sizes (multiples of the slide) that share the
  // panes, emitted at the same ends as `spec` (WindowView::start tells
  // which); only when every accumulator is invertible, else ignored.
  PaneStore(WindowSpec spec, AccSet prototype, const std::vector<DurationMs>& views = {});
  PaneStore(const PaneStore&) = delete;
  PaneStore& operator=(const PaneStore&) = delete;

  const WindowSpec& spec() const { return spec_; }

  // The accumulators of the pane holding time `t` for `group`. The pointer
  // is valid until the next call to Pane, MergePane, CloseUpTo or Decode. Null when `group`
  // is not held and adding it would pass the group limit or the budget.
  // `frontier`: as of the event (kMinTime: unknown, every group counts).
  // Inline for the common case: the pane of the previous call again.
  AccSet* Pane(std::string_view group, TimeMs t, TimeMs frontier = kMinTime) {
    const CachedPane& hot = cache_[cache_hot_];
    if (hot.pane != nullptr && t >= hot.start && t < hot.end && hot.key.size() == group.size() &&
        BytesEqual(hot.key.data(), group.data(), group.size())) {
      return hot.pane;
    }
    return FindPane(group, t, frontier);
  }
  // The groups live for an event at `t` with `frontier` (file comment).
  size_t LiveGroups(TimeMs frontier, TimeMs t) const;
  // Whether a group not live at the event may be added: the limit and the
  // budget have room.
  bool Admits(TimeMs frontier, TimeMs t) const;
  // Whether adding `events` more events could meet the group limit: with
  // workers, a batch that could is aggregated on one worker in input order
  // (Workers::Aggregate), so which events a limit drops does not depend on
  // the threads.
  bool LimitMayBind(size_t events) const {
    return max_groups_ != SIZE_MAX && groups_.size() + events >= max_groups_;
  }
  // Workers: of a part's store, those of the job's store and of every part
  // together (SetWhole).
  size_t JobLiveGroups(TimeMs frontier, TimeMs t) const {
    return whole_.store->LiveGroups(frontier, t) + whole_.fresh->Live(frontier, t);
  }
  // The end of the last window of `group`'s newest pane; kMinTime if not held.
  TimeMs LastEndOf(std::string_view group) const {
    auto it = groups_.find(group);
    return it == groups_.end() ? kMinTime : it->second->last_end;
  }

  // At most `max_groups` groups at once, and none added while `shared` (if
  // not null; it must outlive the store or be replaced) is exhausted. The
  // default is no limit. Groups already held stay.
  void SetGroupLimit(size_t max_groups, const GroupBudget* shared = nullptr) {
    max_groups_ = max_groups;
    shared_ = shared;
  }
  // Workers (operators/dataflow/workers.h): this store aggregates part of
  // the events of `store`, the job's store of the same metric, which is not
  // changed while parts add events (they read it from their threads). A
  // group `store` holds is no new group. A group new to the job takes one
  // place of the group limit when the first part sees it, however many
  // parts see it after (`fresh`, shared by every part of the store), and
  // one of the budget (`fresh_all`, counted over every store), until the
  // parts are merged into the job's stores and FreshGroups::Clear starts
  // again. So the limits stay job-wide with any number of parts.
  class FreshGroups {
   public:
    // Whether `group`, which the job's store (holding `held` groups live
    // at the event) does not hold, may be added for an event at `t` with
    // `frontier`, its last window ending at `last_end`: it has a place
    // already, or one is left under `max_groups` (with the groups of this
    // batch live at the event), and it takes it, counting it in `*all`.
    // The budget is asked apart.
    bool Take(std::string_view group, TimeMs last_end, TimeMs frontier, TimeMs t, size_t held,
              size_t max_groups, std::atomic<size_t>* all);
    // A part gave `group` a pane whose last window ends at `last_end`. A
    // group the job's store holds with an earlier last window end
    // (`held_end`; kMinTime: it holds none) is live again until then, though
    // the job's store counts it as it was.
    void Advance(std::string_view group, TimeMs held_end, TimeMs last_end);
    // Whether a part took `group` as new to the job this batch.
    bool Has(std::string_view group);
    // Of this batch's groups, how many are live for an event at `t` with
    // `frontier`, beyond those the job's store counts live.
    size_t Live(TimeMs frontier, TimeMs t);
    void Clear();

   private:
    struct Entry {
      bool fresh;       // new to the job; else held by the job's store
      TimeMs held_end;  // held: the job's store's last window end for it
      TimeMs last_end;
    };
    size_t LiveLocked(TimeMs frontier, TimeMs t) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
    absl::Mutex mu_;
    absl::flat_hash_map<std::string, Entry> groups_ ABSL_GUARDED_BY(mu_);
    size_t fresh_ ABSL_GUARDED_BY(mu_) = 0;
    // New groups by last window end; held groups live again by the job's
    // store's end and by their own.
    std::map<TimeMs, size_t> ends_ ABSL_GUARDED_BY(mu_);
    std::map<TimeMs, size_t> held_ends_ ABSL_GUARDED_BY(mu_);
    std::map<TimeMs, size_t> revived_ends_ ABSL_GUARDED_BY(mu_);
  };
  struct Whole {
    const PaneStore* store = nullptr;
    FreshGroups* fresh = nullptr;
    std::atomic<size_t>* fresh_all = nullptr;
  };
  void SetWhole(const Whole& whole) { whole_ = whole; }
  bool Holds(std::string_view group) const { return groups_.find(group) != groups_.end(); }

  // Emits every window with end <= frontier that holds data, per group in
  // order of window end. Groups are visited in no particular order; callers
  // that need a stable order sort what they collect.
  void CloseUpTo(TimeMs frontier, const std::function<void(const WindowView&)>& emit);

  // Scale-out. Drain hands every pane to `fn` (by group, oldest first) and
  // empties the store: the partial aggregates an instance publishes. Only
  // meaningful while no window has closed.
  void Drain(const std::function<void(std::string_view group, TimeMs start, const AccSet&)>& fn);
  // Whether a window holding time `t` (or the pane starting there) has
  // fired: data for it now is late. The windows closed up to an end, so
  // this is t before that end (a compare: it runs on every stream record).
  bool Closed(TimeMs t) const { return closed_up_to_ != kMinTime && t < closed_up_to_; }
  // Whether the first window holding the pane (or the time) `t` ends at or
  // before `frontier`: a frontier that far fires it.
  bool FiredBy(TimeMs t, TimeMs frontier) const {
    return frontier != kMinTime && spec_.FirstEndAfter(t) <= frontier;
  }
  // Merges a published partial pane into the store's pane; false (and
  // nothing merged) when the pane is Closed or the accumulators do not
  // match the store's.
  bool MergePane(std::string_view group, TimeMs pane_start, const AccSet& acc);
  const AccSet& prototype() const { return prototype_; }
  // A rule reload that changes which aggregates the panes hold: `prototype`
  // is the new set, and from[j] the index of its accumulator j in the old
  // one (-1: new, it starts empty in every pane). The others keep what
  // they hold. False, nothing changed, when windows of several panes would
  // change whether every aggregate is invertible (how they slide).
  bool Remap(AccSet prototype, const std::vector<int>& from);

  size_t group_count() const { return groups_.size(); }
  // Prefetching hints for the group an event is about to be added to,
  // one level per step: 0 its map slot, 1 the group, 2 its newest pane's
  // accumulators (each level needs the one before in cache to be cheap).
  void PrefetchGroup(std::string_view group, size_t step) const;
  size_t pane_count() const;
  // An estimate of the bytes the store holds: groups and panes exactly, the
  // accumulators' own heap (sketch buckets) from a sample of panes.
  size_t memory_bytes() const;

  void Encode(Encoder* enc) const;
  bool Decode(Decoder* dec);

 private:
  struct Group {
    // `sliding`: windows of several panes, slid over a queue; a tumbling or
    // calendar window is its one pane and needs none (most groups: one per
    // user or session of a grouped metric, so the queue is not inlined).
    Group(const AccSet* prototype, bool invertible, size_t views, bool sliding) {
      if (!sliding) return;
      queue = std::make_unique<internal::PaneQueue>(prototype, invertible);
      for (size_t v = 0; v < views; ++v) queue->AddView();
    }
    // Raw panes of the queue, oldest first (none without one).
    void ForEachQueued(const std::function<void(TimeMs, const AccSet&)>& fn) const {
      if (queue) queue->ForEach(fn);
    }
    // Panes not yet in a fired window, by start: one or two at a time (the
    // current pane and, until the watermark passes it, the one before), so
    // they live in the group itself, not in nodes of their own.
    absl::InlinedVector<std::pair<TimeMs, AccSet>, 2> open;
    std::unique_ptr<internal::PaneQueue> queue;  // panes of the window being slid
    TimeMs next_end = kMinTime;                  // next window end to consider
    // The end of the last window of its newest pane, as counted in ends_.
    TimeMs last_end = kMinTime;
  };
  // The end of the last window holding the pane starting at `start`.
  TimeMs LastEnd(TimeMs start) const {
    return spec_.panes_per_window() == 1 ? spec_.OnePaneEnd(start)
                                         : spec_.EndAtOrBefore(start + spec_.size());
  }
  // Counts a pane at `start` of `g` in ends_.
  void Track(Group* g, TimeMs start);
  void Untrack(const Group& g);
  // Tracks every group again (after Decode).
  void Retrack();
  Group* FindOrAddGroup(std::string_view key);
  AccSet* PaneOf(Group* g, std::string_view group, TimeMs start);
  // Returns true when the group holds nothing any more.
  bool CloseGroup(std::string_view key, Group& g, TimeMs frontier,
                  const std::function<void(const WindowView&)>& emit);

  WindowSpec spec_;
  AccSet prototype_;
  bool invertible_;
  std::vector<DurationMs> views_;
  absl::flat_hash_map<std::string, std::unique_ptr<Group>, StringHash, StringEq> groups_;
  // Groups by their `last_end`: LiveGroups.
  std::map<TimeMs, size_t> ends_;
  TimeMs closed_up_to_ = kMinTime;  // frontier of the last effective CloseUpTo
  // Whether a group new to the job (Whole) may be added for an event at
  // `t` in the pane at `start`; takes its place.
  bool TakeFresh(std::string_view group, TimeMs start, TimeMs frontier, TimeMs t);
  // A part: whether a group the job's store holds (or this part took) but
  // whose windows are all due at the event may come back, as Admits.
  bool PartAdmits(TimeMs frontier, TimeMs t) const;

  size_t max_groups_ = SIZE_MAX;
  const GroupBudget* shared_ = nullptr;
  Whole whole_;
  // Consecutive events usually hit one of a few panes (the same minute of
  // a handful of groups, e.g. two prompt variants): a small cache in front
  // of the group map, cleared whenever panes may move (CloseUpTo, Decode).
  // The pane Pane returned last is cache_[cache_hot_]; it holds the times
  // [start, end), so a hit needs no PaneStart.
  struct CachedPane {
    std::string key;
    TimeMs start = kMinTime;
    TimeMs end = kMinTime;
    AccSet* pane = nullptr;
  };
  static constexpr int kCacheSize = 4;
  CachedPane cache_[kCacheSize];
  int cache_next_ = 0;
  int cache_hot_ = 0;
  // Pane past the last pane returned: the cache, then the group map.
  AccSet* FindPane(std::string_view group, TimeMs t, TimeMs frontier);
  void ClearCache() {
    for (CachedPane& c : cache_) c.pane = nullptr;
  }
  AccSet scratch_;
  // A calendar pane's start takes a time zone lookup: Pane remembers the
  // last calendar pane, [calendar_from_, calendar_to_), events fall in.
  TimeMs PaneStart(TimeMs t);
  TimeMs calendar_from_ = kMaxTime;
  TimeMs calendar_to_ = kMinTime;
};

}  // namespace vigil

#endif  // VIGIL_WINDOWS_PANE_STORE_H_
