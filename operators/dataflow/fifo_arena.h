// operators/dataflow/fifo_arena.h
//
// FifoArena keeps byte strings that are released in about the order they
// were put, such as the packed fields of events waiting in a join: copies
// are appended to chunks of `chunk_bytes`, and a chunk is freed once every
// copy in it is released. No allocation or free per string, no per-string
// header, and the strings of one second of input sit side by side.
//
// A copy stays where it is until released, so its view stays valid. A
// string larger than a quarter of a chunk gets a chunk of its own. Memory
// follows the oldest unreleased copy: one long-lived string holds its chunk.
//
// Example:
//   FifoArena arena;
//   auto [chunk, copy] = arena.Put("packed fields");   // copy: a view into the arena
//   arena.Put("key", "fields");                        // one copy: "keyfields"
//   arena.Release(chunk);                              // once per Put
#ifndef VIGIL_OPERATORS_DATAFLOW_FIFO_ARENA_H_
#define VIGIL_OPERATORS_DATAFLOW_FIFO_ARENA_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

class FifoArena {
 public:
  static constexpr uint32_t kNone = 0xFFFFFFFF;  // the chunk of an empty string

  explicit FifoArena(size_t chunk_bytes = 256 << 10) : chunk_bytes_(chunk_bytes) {}
  FifoArena(FifoArena&&) noexcept = default;
  FifoArena& operator=(FifoArena&&) noexcept = default;

  // Copies `bytes`, followed by `more` (one copy of the two, side by side):
  // the chunk to release it with, and the copy.
  std::pair<uint32_t, std::string_view> Put(std::string_view bytes, std::string_view more = {}) {
    const size_t size = bytes.size() + more.size();
    if (size == 0) return {kNone, {}};
    uint32_t id = current_;
    if (size > chunk_bytes_ / 4) {
      id = NewChunk(size);
    } else if (id == kNone || chunks_[id].used + size > chunks_[id].size) {
      if (id != kNone && chunks_[id].live == 0) Drop(id);
      id = current_ = NewChunk(chunk_bytes_);
    }
    Chunk& c = chunks_[id];
    char* at = c.data.get() + c.used;
    if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
    if (!more.empty()) std::memcpy(at + bytes.size(), more.data(), more.size());
    c.used += size;
    ++c.live;
    return {id, std::string_view(at, size)};
  }

  // Releases one copy Put into `chunk`.
  void Release(uint32_t chunk) {
    if (chunk == kNone) return;
    Chunk& c = chunks_[chunk];
    if (--c.live > 0) return;
    if (chunk == current_) {
      c.used = 0;  // written again from the start
    } else {
      Drop(chunk);
    }
  }

  // Bytes of the chunks held.
  size_t bytes() const { return bytes_; }
  size_t chunks() const { return chunks_.size() - free_ids_.size(); }

 private:
  struct Chunk {
    std::unique_ptr<char[]> data;
    size_t size = 0;
    size_t used = 0;
    size_t live = 0;  // copies not released
  };

  uint32_t NewChunk(size_t size) {
    uint32_t id;
    if (free_ids_.empty()) {
      id = static_cast<uint32_t>(chunks_.size());
      chunks_.emplace_back();
    } else {
      id = free_ids_.back();
      free_ids_.pop_back();
    }
    Chunk& c = chunks_[id];
    c.data.reset(new char[size]);
    c.size = size;
    c.used = 0;
    c.live = 0;
    bytes_ += size;
    return id;
  }

  void Drop(uint32_t id) {
    Chunk& c = chunks_[id];
    bytes_ -= c.size;
    c.data.reset();
    c.size = c.used = 0;
    if (id == current_) current_ = kNone;
    free_ids_.push_back(id);
  }

  size_t chunk_bytes_;
  std::vector<Chunk> chunks_;
  std::vector<uint32_t> free_ids_;
  uint32_t current_ = kNone;
  size_t bytes_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_DATAFLOW_FIFO_ARENA_H_
