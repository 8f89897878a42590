// PaneStore's groups over time: which are live for an event (a group
// counts from when it is added until its last window is due), the
// `limit:` and budget checks that refuse new groups, and, with workers,
// the groups new to the job that a worker's part adds in a batch
// (FreshGroups).
#include <algorithm>
#include <map>
#include <string_view>

#include "absl/synchronization/mutex.h"
#include "windows/pane_store.h"

namespace vigil {

namespace {

// Of groups counted by last window end (`ends`), those live for an event
// at `t` with `frontier`: not ended by it. A group whose panes all start
// after `t` counts too: the event's group, once added, goes on into the
// later windows those panes are in (with no check, as a group held), so
// leaving it out would let a window take one group past the limit.
size_t Live(size_t groups, const std::map<TimeMs, size_t>& ends, TimeMs frontier, TimeMs t) {
  frontier = std::min(frontier, t);
  size_t gone = 0;
  for (auto it = ends.begin(); it != ends.end() && it->first <= frontier; ++it) gone += it->second;
  return groups > gone ? groups - gone : 0;
}

void Count(std::map<TimeMs, size_t>* counts, TimeMs key, int delta) {
  auto [it, fresh] = counts->try_emplace(key, 0);
  it->second += static_cast<size_t>(delta);
  if (it->second == 0) counts->erase(it);
}

}  // namespace

bool PaneStore::Admits(TimeMs frontier, TimeMs t) const {
  return !(groups_.size() >= max_groups_ && LiveGroups(frontier, t) >= max_groups_) &&
         !(shared_ != nullptr && shared_->Exhausted(frontier, t));
}

size_t PaneStore::LiveGroups(TimeMs frontier, TimeMs t) const {
  return Live(groups_.size(), ends_, frontier, t);
}

void PaneStore::Track(Group* g, TimeMs start) {
  const TimeMs end = LastEnd(start);
  if (end > g->last_end) {
    if (g->last_end != kMinTime) Count(&ends_, g->last_end, -1);
    g->last_end = end;
    Count(&ends_, end, 1);
  }
}

void PaneStore::Untrack(const Group& g) {
  if (g.last_end != kMinTime) Count(&ends_, g.last_end, -1);
}

void PaneStore::Retrack() {
  ends_.clear();
  for (auto& [key, g] : groups_) {
    Group* group = g.get();
    group->last_end = kMinTime;
    group->ForEachQueued([&](TimeMs t, const AccSet&) { Track(group, t); });
    for (const auto& [t, pane] : group->open) Track(group, t);
  }
}

bool PaneStore::PartAdmits(TimeMs frontier, TimeMs t) const {
  if (shared_ != nullptr && shared_->Exhausted(frontier, t)) return false;
  // Fewer groups held and taken than the limit: room, without the count.
  return whole_.store->group_count() + whole_.fresh_all->load(std::memory_order_relaxed) <
             max_groups_ ||
         JobLiveGroups(frontier, t) < max_groups_;
}

bool PaneStore::TakeFresh(std::string_view group, TimeMs start, TimeMs frontier, TimeMs t) {
  // A group another part took has its place; else the budget first,
  // without the lock its own count takes.
  if (whole_.fresh->Has(group)) return true;
  if (shared_ != nullptr && shared_->Exhausted(frontier, t)) return false;
  return whole_.fresh->Take(group, LastEnd(start), frontier, t,
                            whole_.store->LiveGroups(frontier, t), max_groups_, whole_.fresh_all);
}

bool PaneStore::FreshGroups::Take(std::string_view group, TimeMs last_end, TimeMs frontier,
                                  TimeMs t, size_t held, size_t max_groups,
                                  std::atomic<size_t>* all) {
  absl::MutexLock lock(&mu_);
  const absl::string_view key(group.data(), group.size());
  if (groups_.contains(key)) return true;
  if (held + LiveLocked(frontier, t) >= max_groups) return false;
  groups_.emplace(key, Entry{true, kMinTime, last_end});
  ++fresh_;
  Count(&ends_, last_end, 1);
  all->fetch_add(1, std::memory_order_relaxed);
  return true;
}

void PaneStore::FreshGroups::Advance(std::string_view group, TimeMs held_end, TimeMs last_end) {
  absl::MutexLock lock(&mu_);
  const absl::string_view key(group.data(), group.size());
  auto it = groups_.find(key);
  if (it == groups_.end()) {
    if (held_end == kMinTime || last_end <= held_end) return;
    groups_.emplace(key, Entry{false, held_end, last_end});
    Count(&held_ends_, held_end, 1);
    Count(&revived_ends_, last_end, 1);
    return;
  }
  Entry& e = it->second;
  if (last_end <= e.last_end) return;
  std::map<TimeMs, size_t>* ends = e.fresh ? &ends_ : &revived_ends_;
  Count(ends, e.last_end, -1);
  Count(ends, last_end, 1);
  e.last_end = last_end;
}

bool PaneStore::FreshGroups::Has(std::string_view group) {
  absl::MutexLock lock(&mu_);
  auto it = groups_.find(absl::string_view(group.data(), group.size()));
  return it != groups_.end() && it->second.fresh;
}

size_t PaneStore::FreshGroups::Live(TimeMs frontier, TimeMs t) {
  absl::MutexLock lock(&mu_);
  return LiveLocked(frontier, t);
}

size_t PaneStore::FreshGroups::LiveLocked(TimeMs frontier, TimeMs t) {
  // Held groups live again: due by the job's store's count, not by their
  // own (held_end <= frontier < last_end).
  size_t revived = 0;
  const TimeMs f = std::min(frontier, t);
  for (auto it = held_ends_.begin(); it != held_ends_.end() && it->first <= f; ++it) {
    revived += it->second;
  }
  for (auto it = revived_ends_.begin(); it != revived_ends_.end() && it->first <= f; ++it) {
    revived -= it->second;
  }
  return vigil::Live(fresh_, ends_, frontier, t) + revived;
}

void PaneStore::FreshGroups::Clear() {
  absl::MutexLock lock(&mu_);
  groups_.clear();
  fresh_ = 0;
  ends_.clear();
  held_ends_.clear();
  revived_ends_.clear();
}

}  // namespace vigil
