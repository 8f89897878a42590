// windows/session_index.h
//
// SessionIndex maps a key's hash to the 32-bit id of the record holding the
// key, for a table of millions of open session keys: open addressing with
// linear probing over 8-byte slots (32 bits of the hash beside the id), so a
// lookup touches one slot's cache line and the record only when 32 hash bits
// match. The index never sees the keys: the caller confirms a candidate id
// (`is_key`) and supplies a record's full hash when the table is resized
// (`hash_of`).
//
// Deletion shifts later slots of the probe run back (no tombstones), so the
// table stays fast under churn. It grows at 3/4 full and shrinks when less
// than 1/16 full.
//
// Example:
//   SessionIndex index;
//   index.Insert(h, 7, hash_of);                            // id 7 has hash h
//   index.Find(h, [&](uint32_t id) { return Key(id) == k; });   // 7, or kNone
//   index.Erase(h, 7, hash_of);
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
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const uint64_t s = slots_[i];
      if (s == 0) return kNone;
      if ((s & kTagMask) == tag && is_key(Id(s))) return Id(s);
    }
  }

  // Adds `id`, which must not be in the index.
  template <typename HashOf>
  void Insert(uint64_t hash, uint32_t id, HashOf&& hash_of) {
    if ((size_ + 1) * 4 > slots_.size() * 3) Resize(slots_.empty() ? 16 : 2 * slots_.size(), hash_of);
    Place(hash, id);
    ++size_;
  }

  template <typename HashOf>
  void Erase(uint64_t hash, uint32_t id, HashOf&& hash_of) {
    size_t i = hash & mask_;
    const uint64_t want = Tag(hash) | (uint64_t{id} + 1);
    while (slots_[i] != want) i = (i + 1) & mask_;
    // Backward shift: move later entries of the run into the hole when the
    // hole lies on their probe path.
    for (size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      const uint64_t s = slots_[j];
      if (s == 0) break;
      const size_t home = hash_of(Id(s)) & mask_;
      if (((j - home) & mask_) >= ((j - i) & mask_)) {
        slots_[i] = s;
        i = j;
      }
    }
    slots_[i] = 0;
    --size_;
    if (slots_.size() > 64 && size_ * 16 < slots_.size()) {
      size_t cap = 16;
      while (size_ * 2 > cap) cap *= 2;
      Resize(cap, hash_of);
    }
  }

  void Clear() {
    std::vector<uint64_t>().swap(slots_);
    mask_ = 0;
    size_ = 0;
  }

 private:
  static constexpr uint64_t kTagMask = 0xFFFFFFFF00000000ULL;
  static uint64_t Tag(uint64_t hash) { return hash & kTagMask; }
  static uint32_t Id(uint64_t slot) { return static_cast<uint32_t>(slot) - 1; }

  void Place(uint64_t hash, uint32_t id) {
    size_t i = hash & mask_;
    while (slots_[i] != 0) i = (i + 1) & mask_;
    slots_[i] = Tag(hash) | (uint64_t{id} + 1);
  }
  template <typename HashOf>
  void Resize(size_t cap, HashOf&& hash_of) {
    std::vector<uint64_t> old(cap, 0);
    old.swap(slots_);
    mask_ = cap - 1;
    for (uint64_t s : old) {
      if (s != 0) Place(hash_of(Id(s)), Id(s));
    }
  }

  std::vector<uint64_t> slots_;  // 0 empty, else the hash's top 32 bits | id + 1
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_WINDOWS_SESSION_INDEX_H_
