#include "windows/pane_store.h"

#include <algorithm>
#include <cassert>

#include "base/prefetch.h"

namespace vigil {
namespace internal {

namespace {
void MergeInto(AccSet* into, const AccSet& from) {
  for (size_t i = 0; i < into->size(); ++i) (*into)[i].Merge(from[i]);
}
bool Exact(const AccSet& set) {
  return std::all_of(set.begin(), set.end(), [](const Accumulator& a) { return a.exact(); });
}
}  // namespace

void PaneQueue::Rebuild(AccSet* running, size_t head) const {
  *running = *prototype_;
  for (size_t i = head; i < back_.size(); ++i) MergeInto(running, back_[i].pane);
}

void PaneQueue::Push(TimeMs start, AccSet pane) {
  if (running_.empty()) running_ = *prototype_;
  MergeInto(&running_, pane);
  for (View& v : views_) {
    if (v.running.empty()) v.running = *prototype_;
    MergeInto(&v.running, pane);
  }
  back_.push_back(Entry{start, std::move(pane), {}});
}

void PaneQueue::AddView() {
  assert(invertible_);
  views_.emplace_back();
}

void PaneQueue::EvictView(size_t v, TimeMs from) {
  View& view = views_[v];
  assert(view.head >= back_head_);
  while (view.head < back_.size() && back_[view.head].start < from) {
    const AccSet& pane = back_[view.head].pane;
    for (size_t i = 0; i < view.running.size(); ++i) view.running[i].Subtract(pane[i]);
    ++view.head;
  }
  if (!Exact(view.running)) Rebuild(&view.running, view.head);
}

bool PaneQueue::QueryView(size_t v, AccSet* out) const {
  const View& view = views_[v];
  if (std::max(view.head, back_head_) >= back_.size()) return false;
  *out = view.running;
  return true;
}

void PaneQueue::Pop() {
  if (invertible_) {
    assert(back_head_ < back_.size());
    for (size_t i = 0; i < running_.size(); ++i) running_[i].Subtract(back_[back_head_].pane[i]);
    ++back_head_;
    if (!Exact(running_)) Rebuild(&running_, back_head_);
    // Compact once the dead prefix dominates, keeping Pop amortised O(1).
    // Views have evicted at least as far (they are shorter windows).
    if (back_head_ == back_.size()) {
      back_.clear();
      for (View& view : views_) view.head = 0;
      back_head_ = 0;
    } else if (back_head_ > 64 && back_head_ * 2 > back_.size()) {
      back_.erase(back_.begin(), back_.begin() + static_cast<ptrdiff_t>(back_head_));
      for (View& view : views_) view.head -= std::min(view.head, back_head_);
      back_head_ = 0;
    }
    return;
  }
  if (front_.empty()) {
    // Flip: move the back stack to the front, newest first, so that each
    // entry's agg covers itself and every newer pane.
    for (size_t i = back_.size(); i-- > 0;) {
      Entry& e = back_[i];
      e.agg = e.pane;
      if (!front_.empty()) MergeInto(&e.agg, front_.back().agg);
      front_.push_back(std::move(e));
    }
    back_.clear();
    running_ = *prototype_;
  }
  assert(!front_.empty());
  front_.pop_back();
}

TimeMs PaneQueue::FrontStart() const {
  if (invertible_) return back_[back_head_].start;
  return front_.empty() ? back_.front().start : front_.back().start;
}

void PaneQueue::Query(AccSet* out) const {
  *out = running_.empty() ? *prototype_ : running_;
  if (!invertible_ && !front_.empty()) MergeInto(out, front_.back().agg);
}

void PaneQueue::ForEach(const std::function<void(TimeMs, const AccSet&)>& fn) const {
  for (size_t i = front_.size(); i-- > 0;) fn(front_[i].start, front_[i].pane);
  for (size_t i = back_head_; i < back_.size(); ++i) fn(back_[i].start, back_[i].pane);
}

void PaneQueue::RemapAll(const std::function<void(AccSet*)>& remap) {
  for (std::vector<Entry>* entries : {&front_, &back_}) {
    for (Entry& e : *entries) {
      remap(&e.pane);
      remap(&e.agg);
    }
  }
  remap(&running_);
  for (View& v : views_) remap(&v.running);
}

}  // namespace internal

bool PaneStore::Remap(AccSet prototype, const std::vector<int>& from) {
  const bool invertible = std::all_of(prototype.begin(), prototype.end(),
                                      [](const Accumulator& a) { return IsInvertible(a.kind()); });
  // A window of one pane slides over nothing.
  if (invertible != invertible_ && spec_.panes_per_window() > 1) return false;
  if (from.size() != prototype.size()) return false;
  invertible_ = invertible;
  for (int f : from) {
    if (f >= static_cast<int>(prototype_.size())) return false;
  }
  // Sets left empty (a queue's unused merges) stay empty.
  auto remap = [&](AccSet* set) {
    if (set->empty()) return;
    AccSet out = prototype;
    for (size_t j = 0; j < from.size(); ++j) {
      if (from[j] >= 0) out[j] = std::move((*set)[from[j]]);
    }
    *set = std::move(out);
  };
  for (auto& [key, g] : groups_) {
    for (auto& [start, pane] : g->open) remap(&pane);
    if (g->queue) g->queue->RemapAll(remap);
  }
  prototype_ = std::move(prototype);  // the queues point at it
  scratch_.clear();
  ClearCache();
  return true;
}

PaneStore::PaneStore(WindowSpec spec, AccSet prototype, const std::vector<DurationMs>& views)
    : spec_(std::move(spec)), prototype_(std::move(prototype)) {
  invertible_ = std::all_of(prototype_.begin(), prototype_.end(),
                            [](const Accumulator& a) { return IsInvertible(a.kind()); });
  if (invertible_ && spec_.panes_per_window() > 1) {
    for (DurationMs v : views) {
      if (v > 0 && v < spec_.size() && v % spec_.pane() == 0) views_.push_back(v);
    }
  }
}

PaneStore::Group* PaneStore::FindOrAddGroup(std::string_view key) {
  auto it = groups_.find(key);
  if (it != groups_.end()) return it->second.get();
  auto g = std::make_unique<Group>(&prototype_, invertible_, views_.size(),
                                   spec_.panes_per_window() > 1);
  Group* raw = g.get();
  groups_.emplace(std::string(key), std::move(g));
  return raw;
}

TimeMs PaneStore::PaneStart(TimeMs t) {
  if (!spec_.calendar()) return spec_.PaneStart(t);
  if (t >= calendar_from_ && t < calendar_to_) return calendar_from_;
  const TimeMs start = spec_.PaneStart(t);
  const TimeMs end = spec_.OnePaneEnd(start);
  // Past the calendar's range each instant is its own pane: nothing to keep.
  if (start <= t && t < end && end != kMaxTime) {
    calendar_from_ = start;
    calendar_to_ = end;
  }
  return start;
}

AccSet* PaneStore::FindPane(std::string_view group, TimeMs t, TimeMs frontier) {
  const TimeMs start = PaneStart(t);
  for (int i = 0; i < kCacheSize; ++i) {
    const CachedPane& c = cache_[i];
    if (c.pane != nullptr && c.start == start && c.key.size() == group.size() &&
        BytesEqual(c.key.data(), group.data(), group.size())) {
      cache_hot_ = i;
      return c.pane;
    }
  }
  Group* g;
  if (auto it = groups_.find(group); it != groups_.end()) {
    g = it->second.get();
    // A group whose windows are all due is no longer live (file comment):
    // it comes back as a new group would, whether or not a close has let
    // it go yet.
    if (whole_.store == nullptr) {
      if (g->last_end <= frontier && !Admits(frontier, t)) return nullptr;
    } else if (g->last_end <= frontier && whole_.store->LastEndOf(group) <= frontier &&
               !PartAdmits(frontier, t)) {  // the job's store looked up only then
      return nullptr;
    }
  } else if (whole_.store != nullptr) {
    if (whole_.store->Holds(group)) {
      if (whole_.store->LastEndOf(group) <= frontier && !PartAdmits(frontier, t)) return nullptr;
    } else if (!TakeFresh(group, start, frontier, t)) {
      return nullptr;
    }
    g = FindOrAddGroup(group);
  } else if (!Admits(frontier, t)) {
    return nullptr;
  } else {
    g = FindOrAddGroup(group);
  }
  return PaneOf(g, group, start);
}

AccSet* PaneStore::PaneOf(Group* g, std::string_view group, TimeMs start) {
  auto& open = g->open;
  auto it = std::lower_bound(open.begin(), open.end(), start,
                             [](const auto& pane, TimeMs t) { return pane.first < t; });
  if (it == open.end() || it->first != start) {
    // Inserting may move the group's other panes: forget where they were.
    if (!open.empty()) ClearCache();
    it = open.emplace(it, start, prototype_);
    const TimeMs before = g->last_end;
    Track(g, start);
    // A part: the job's count learns how long the group is live now.
    if (whole_.store != nullptr && g->last_end > before) {
      whole_.fresh->Advance(group, whole_.store->LastEndOf(group), g->last_end);
    }
  }
  CachedPane& slot = cache_[cache_next_];
  cache_hot_ = cache_next_;
  cache_next_ = (cache_next_ + 1) % kCacheSize;
  slot.key.assign(group);
  slot.start = start;
  // A calendar pane's end is known when PaneStart just looked it up;
  // otherwise the entry holds its start only.
  if (!spec_.calendar()) {
    slot.end = start + spec_.pane();
  } else {
    slot.end = start == calendar_from_ ? calendar_to_ : start + 1;
  }
  slot.pane = &it->second;
  return slot.pane;
}

bool PaneStore::CloseGroup(std::string_view key, Group& g, TimeMs frontier,
                           const std::function<void(const WindowView&)>& emit) {
  const DurationMs size = spec_.size();
  if (spec_.panes_per_window() == 1) {
    // Tumbling (or slide == size) and calendar: a window is exactly one pane.
    size_t fired = 0;
    for (; fired < g.open.size() && spec_.OnePaneEnd(g.open[fired].first) <= frontier; ++fired) {
      auto& [start, pane] = g.open[fired];
      emit(WindowView{key, start, spec_.OnePaneEnd(start), pane, &pane});
    }
    g.open.erase(g.open.begin(), g.open.begin() + static_cast<ptrdiff_t>(fired));
    return g.open.empty();
  }
  internal::PaneQueue& queue = *g.queue;
  while (true) {
    if (queue.empty()) {
      if (g.open.empty()) return true;
      // Skip the empty windows of a gap, but only up to a window that fires
      // now: an event at or after the frontier may still open an earlier
      // pane than the ones seen so far, and its windows must not be skipped.
      const TimeMs first = std::max(g.next_end, spec_.FirstEndAfter(g.open.begin()->first));
      if (first > frontier) return false;
      g.next_end = first;
    }
    if (g.next_end > frontier) return false;
    size_t moved = 0;
    for (; moved < g.open.size() && g.open[moved].first < g.next_end; ++moved) {
      queue.Push(g.open[moved].first, std::move(g.open[moved].second));
    }
    g.open.erase(g.open.begin(), g.open.begin() + static_cast<ptrdiff_t>(moved));
    for (size_t v = 0; v < views_.size(); ++v) queue.EvictView(v, g.next_end - views_[v]);
    while (!queue.empty() && queue.FrontStart() < g.next_end - size) queue.Pop();
    if (!queue.empty()) {
      queue.Query(&scratch_);
      emit(WindowView{key, g.next_end - size, g.next_end, scratch_});
      for (size_t v = 0; v < views_.size(); ++v) {
        if (queue.QueryView(v, &scratch_)) {
          emit(WindowView{key, g.next_end - views_[v], g.next_end, scratch_});
        }
      }
    }
    g.next_end = spec_.NextEnd(g.next_end);
  }
}

void PaneStore::CloseUpTo(TimeMs frontier, const std::function<void(const WindowView&)>& emit) {
  // Windows end on multiples of the slide (or calendar boundaries):
  // nothing can fire until the frontier crosses the next one.
  const TimeMs boundary = spec_.EndAtOrBefore(frontier);
  if (closed_up_to_ != kMinTime && boundary <= closed_up_to_) return;
  closed_up_to_ = boundary;
  ClearCache();
  for (auto it = groups_.begin(); it != groups_.end();) {
    auto next = std::next(it);
    if (CloseGroup(it->first, *it->second, frontier, emit)) {
      Untrack(*it->second);
      groups_.erase(it);
    }
    it = next;
  }
}

void PaneStore::PrefetchGroup(std::string_view group, size_t step) const {
  if (step == 0) {
    groups_.prefetch(group);
    return;
  }
  if (step > 2) return;
  const auto it = groups_.find(group);
  if (it == groups_.end()) return;
  const Group& g = *it->second;
  if (step == 1) {
    PrefetchLine(&g);
  } else if (!g.open.empty()) {
    PrefetchLine(g.open.back().second.data());
  }
}

size_t PaneStore::pane_count() const {
  size_t n = 0;
  for (const auto& [key, g] : groups_) {
    n += g->open.size();
    g->ForEachQueued([&n](TimeMs, const AccSet&) { ++n; });
  }
  return n;
}

size_t PaneStore::memory_bytes() const {
  // Per group, a hash map slot, the Group and the key's bytes; per pane,
  // its place in the group's array (or queue) and its accumulators.
  constexpr size_t kPaneNode = sizeof(std::pair<TimeMs, AccSet>);
  constexpr size_t kGroupSlot = sizeof(std::string) + sizeof(std::unique_ptr<Group>);
  size_t panes = 0, bytes = 0;
  for (const auto& [key, g] : groups_) {
    panes += g->open.size() + (g->queue ? g->queue->size() : 0);
    if (g->queue) bytes += sizeof(internal::PaneQueue);
    bytes += kGroupSlot + sizeof(Group) + (key.size() > 15 ? key.capacity() : 0);
  }
  // Sketches keep their buckets on the heap: take the encoded size of a few
  // panes as the measure of that (encoding every pane would cost as much as
  // the state is large).
  constexpr size_t kSampled = 8;
  size_t sampled = 0, sampled_bytes = 0;
  for (const auto& [key, g] : groups_) {
    for (auto it = g->open.rbegin(); it != g->open.rend() && sampled < kSampled; ++it) {
      Encoder enc;
      EncodeAccSet(it->second, &enc);
      sampled_bytes += enc.Release().size();
      ++sampled;
    }
    if (sampled == kSampled) break;
  }
  const size_t per_pane = kPaneNode + prototype_.size() * sizeof(Accumulator) +
                          (sampled == 0 ? 0 : sampled_bytes / sampled);
  return bytes + panes * per_pane;
}

void EncodeAccSet(const AccSet& set, Encoder* enc) {
  for (const Accumulator& a : set) a.Encode(enc);
}
bool DecodeAccSet(Decoder* dec, const AccSet& prototype, AccSet* out) {
  out->clear();
  for (size_t i = 0; i < prototype.size(); ++i) {
    Accumulator a(prototype[i].kind(), prototype[i].quantile());
    if (!Accumulator::Decode(dec, &a) || a.kind() != prototype[i].kind()) return false;
    out->push_back(std::move(a));
  }
  return true;
}

void PaneStore::Drain(const std::function<void(std::string_view, TimeMs, const AccSet&)>& fn) {
  std::vector<const std::string*> keys;
  for (const auto& [key, g] : groups_) keys.push_back(&key);
  std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
  for (const std::string* key : keys) {
    const Group& g = *groups_.find(*key)->second;
    g.ForEachQueued([&](TimeMs t, const AccSet& p) { fn(*key, t, p); });
    for (const auto& [t, p] : g.open) fn(*key, t, p);
  }
  groups_.clear();
  ends_.clear();
  ClearCache();
}

bool PaneStore::MergePane(std::string_view group, TimeMs pane_start, const AccSet& acc) {
  if (Closed(pane_start) || acc.size() != prototype_.size()) return false;
  // The instances applied their group limits; the merge keeps what they send.
  AccSet* pane = PaneOf(FindOrAddGroup(group), group, spec_.PaneStart(pane_start));
  for (size_t i = 0; i < acc.size(); ++i) (*pane)[i].Merge(acc[i]);
  return true;
}

void PaneStore::Encode(Encoder* enc) const {
  std::vector<const std::string*> keys;
  for (const auto& [key, g] : groups_) keys.push_back(&key);
  std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
  enc->PutSigned(closed_up_to_);
  enc->PutVarint(keys.size());
  for (const std::string* key : keys) {
    const Group& g = *groups_.find(*key)->second;
    enc->PutString(*key);
    enc->PutSigned(g.next_end);
    std::vector<std::pair<TimeMs, const AccSet*>> queued;
    g.ForEachQueued([&queued](TimeMs t, const AccSet& p) { queued.emplace_back(t, &p); });
    enc->PutVarint(queued.size());
    for (const auto& [t, p] : queued) {
      enc->PutSigned(t);
      EncodeAccSet(*p, enc);
    }
    enc->PutVarint(g.open.size());
    for (const auto& [t, p] : g.open) {
      enc->PutSigned(t);
      EncodeAccSet(p, enc);
    }
  }
}

bool PaneStore::Decode(Decoder* dec) {
  groups_.clear();
  ends_.clear();
  ClearCache();
  closed_up_to_ = dec->GetSigned();
  const uint64_t n = dec->GetVarint();
  for (uint64_t i = 0; i < n && dec->ok(); ++i) {
    Group* g = FindOrAddGroup(dec->GetString());
    g->next_end = dec->GetSigned();
    for (int part = 0; part < 2; ++part) {
      const uint64_t panes = dec->GetVarint();
      for (uint64_t j = 0; j < panes && dec->ok(); ++j) {
        const TimeMs t = dec->GetSigned();
        AccSet set;
        if (!DecodeAccSet(dec, prototype_, &set)) return false;
        if (part == 0) {
          if (!g->queue) return false;  // a window of one pane queues none
          g->queue->Push(t, std::move(set));
        } else {
          if (!g->open.empty() && g->open.back().first >= t) return false;  // in order
          g->open.emplace_back(t, std::move(set));
        }
      }
    }
  }
  Retrack();
  return dec->ok();
}

}  // namespace vigil
