// windows/session_index.h
//
// SessionIndex maps a key's hash to the 32-bit id of the record holding the
// key, for a table of millions of open session keys: open addressing with
// linear probing over 8-byte slots (the hash's top 32 bits beside the id),
// so a lookup touches one slot's cache line and the record only when 32 hash
// bits match. A slot's position comes from its 32 hash bits alone, so
// resizing and deleting never read the records. The index never sees the
// keys: the caller confirms a candidate id (`is_key`).
//
// Deletion shifts later slots of the probe run back (no tombstones), so the
// table stays fast under churn. It grows at 3/4 full and shrinks when less
// than 1/16 full.
//
// Example:
//   SessionIndex index;
//   index.Insert(h, 7);                                           // id 7 has hash h
//   index.Find(h, [&](uint32_t id) { return Key(id) == k; });     // 7, or kNone
//   index.Replace(h, 7, 9);                                       // now id 9
//   index.Erase(h, 9);
#ifndef VIGIL_WINDOWS_SESSION_INDEX_H_
#define VIGIL_WINDOWS_SESSION_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vigil {

class SessionIndex {
 public:
  static constexpr uint32_t kNone = 0xFFFFFFFF;

  size_t size() const { return size_; }
  size_t capacity() const { return slots_.size(); }

  template <typename IsKey>
  uint32_t Find(uint64_t hash, IsKey&& is_key) const {
    if (slots_.empty()) return kNone;
    const uint64_t tag = Tag(hash);
    for (size_t i = Home(tag);; i = (i + 1) & mask_) {
      const uint64_t s = slots_[i];
      if (s == 0) return kNone;
      if ((s & kTagMask) == tag && is_key(Id(s))) return Id(s);
    }
  }

  // Prefetching hints; neither changes anything. The slot a lookup of
  // `hash` starts at (null while empty), and the first id whose 32 hash bits
  // match, unconfirmed (kNone if there is none).
  const uint64_t* HomeSlot(uint64_t hash) const {
    return slots_.empty() ? nullptr : &slots_[Home(Tag(hash))];
  }
  uint32_t Candidate(uint64_t hash) const {
    return Find(hash, [](uint32_t) { return true; });
  }

  // Adds `id`, which must not be in the index.
  void Insert(uint64_t hash, uint32_t id) {
    if ((size_ + 1) * 4 > slots_.size() * 3) Resize(slots_.empty() ? 16 : 2 * slots_.size());
    Place(Tag(hash) | (uint64_t{id} + 1));
    ++size_;
  }

  // Renames `id`, which must be in the index under `hash`, to `to`, which
  // must not be: the same slot, no probe run changed.
  void Replace(uint64_t hash, uint32_t id, uint32_t to) {
    const uint64_t want = Tag(hash) | (uint64_t{id} + 1);
    size_t i = Home(want);
    while (slots_[i] != want) i = (i + 1) & mask_;
    slots_[i] = Tag(hash) | (uint64_t{to} + 1);
  }

  // Removes `id`, which must be in the index under `hash`.
  void Erase(uint64_t hash, uint32_t id) {
    const uint64_t want = Tag(hash) | (uint64_t{id} + 1);
    size_t i = Home(want);
    while (slots_[i] != want) i = (i + 1) & mask_;
    // Backward shift: move later entries of the run into the hole when the
    // hole lies on their probe path.
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      const uint64_t s = slots_[j];
      if (s == 0) break;
      if (((j - Home(s)) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = s;
        i = j;
      }
    }
    slots_[i] = 0;
    --size_;
    if (slots_.size() > 64 && size_ * 16 < slots_.size()) {
      size_t cap = 16;
      while (size_ * 2 > cap) cap *= 2;
      Resize(cap);
    }
  }

  void Clear() {
    std::vector<uint64_t>().swap(slots_);
    mask_ = 0;
    shift_ = 0;
    size_ = 0;
  }

 private:
  static constexpr uint64_t kTagMask = 0xFFFFFFFF00000000ULL;
  static uint64_t Tag(uint64_t hash) { return hash & kTagMask; }
  static uint32_t Id(uint64_t slot) { return static_cast<uint32_t>(slot) - 1; }
  // The first slot probed: the top bits of the tag.
  size_t Home(uint64_t slot) const { return static_cast<size_t>(slot >> shift_); }

  void Place(uint64_t slot) {
    size_t i = Home(slot);
    while (slots_[i] != 0) i = (i + 1) & mask_;
    slots_[i] = slot;
  }
  void Resize(size_t cap) {
    std::vector<uint64_t> old(cap, 0);
    old.swap(slots_);
    mask_ = cap - 1;
    shift_ = 64;
    for (size_t c = cap; c > 1; c /= 2) --shift_;
    for (uint64_t s : old) {
      if (s != 0) Place(s);
    }
  }

  std::vector<uint64_t> slots_;  // 0 empty, else the hash's top 32 bits | id + 1
  size_t mask_ = 0;
  int shift_ = 0;  // 64 - log2(capacity)
  size_t size_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_WINDOWS_SESSION_INDEX_H_
