// windows/session_pool.h
//
// SessionPool hands out fixed-size blocks of `stride` values of T, named by
// a 32-bit index, for state that is created and dropped once per session:
// one allocation per 512 blocks instead of one per session, no per-block
// header, and an index (4 bytes) where a pointer would take 8.
//
// Blocks live in chunks that never move, so a block's address stays valid
// until it is freed or the pool is cleared. Freed blocks are reused (last
// freed, first reused) before a new chunk is taken. The pool does not
// compact: an owner that wants memory back after a wave of frees copies its
// live blocks into a fresh pool (see NeedsCompacting) and renames them.
//
// Example:
//   SessionPool<double> pool(/*stride=*/3);
//   uint32_t b = pool.Alloc();           // three zeroed doubles
//   pool.At(b)[2] = 1.5;
//   pool.Free(b);                        // reused by the next Alloc
//   pool.Clear();                        // every chunk released
#ifndef VIGIL_WINDOWS_SESSION_POOL_H_
#define VIGIL_WINDOWS_SESSION_POOL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace vigil {

template <typename T>
class SessionPool {
 public:
  static constexpr uint32_t kChunkBlocks = 512;

  explicit SessionPool(size_t stride) : stride_(stride) {}
  SessionPool(SessionPool&&) noexcept = default;
  SessionPool& operator=(SessionPool&&) noexcept = default;

  size_t stride() const { return stride_; }

  // A block of `stride` values, each equal to T{}.
  uint32_t Alloc() {
    ++live_;
    if (!free_.empty()) {
      const uint32_t b = free_.back();
      free_.pop_back();
      T* p = At(b);
      for (size_t i = 0; i < stride_; ++i) p[i] = T{};
      return b;
    }
    if (next_ == chunks_.size() * kChunkBlocks) {
      chunks_.push_back(std::make_unique<T[]>(kChunkBlocks * stride_));
    }
    return static_cast<uint32_t>(next_++);
  }
  // The caller has already reset what the block owns; its values are
  // overwritten on reuse.
  void Free(uint32_t b) {
    --live_;
    free_.push_back(b);
  }
  T* At(uint32_t b) { return &chunks_[b / kChunkBlocks][(b % kChunkBlocks) * stride_]; }
  const T* At(uint32_t b) const { return &chunks_[b / kChunkBlocks][(b % kChunkBlocks) * stride_]; }

  size_t live() const { return live_; }
  size_t capacity() const { return chunks_.size() * kChunkBlocks; }
  // Whether most of the pool is free blocks: worth copying the live ones
  // into a fresh pool.
  bool NeedsCompacting() const { return capacity() > 8 * (live_ + kChunkBlocks); }
  void Clear() {
    chunks_.clear();
    chunks_.shrink_to_fit();
    std::vector<uint32_t>().swap(free_);
    next_ = 0;
    live_ = 0;
  }

 private:
  size_t stride_;
  std::vector<std::unique_ptr<T[]>> chunks_;
  std::vector<uint32_t> free_;
  size_t next_ = 0;  // blocks ever handed out from the chunks
  size_t live_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_WINDOWS_SESSION_POOL_H_
