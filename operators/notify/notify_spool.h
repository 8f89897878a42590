// operators/notify/notify_spool.h
//
// NotifySpool is the durable FIFO of one delivery target: notifications
// waiting to be delivered, oldest first. An entry is appended (and the file
// fdatasync'd) before delivery is attempted and removed only once the
// receiver has accepted it, so a crash or a receiver outage loses nothing;
// a new spool opened on the same file hands back what the old one left, in
// order, with the same ids.
//
// File format: an 8-byte magic "VGSPOOL1", then records
//   u32 body length | u32 CRC-32C of body | body        (little-endian)
//   body = u8 type (1 append, 2 remove) | varint id | append: string key, string data
// Removals are appended too (without fsync: a lost removal only means a
// duplicate delivery, which dedup keys absorb). A record that fails its
// length or checksum check ends the log: a torn write at the tail is
// detected, skipped and cut off when the spool is opened. The file is
// rewritten (temp file, fsync, rename) when removals make up more than half
// of it, so it stays within about twice the live size: after deliveries,
// and during an outage after the bound removes entries.
//
// Bound: live entries take at most `max_bytes`. Over it, entries of the same
// key are coalesced first — only the newest `keep_per_key` of each key stay
// (1 for Alertmanager, where only the latest state matters; 2 for PagerDuty
// and webhooks, where a trigger and its resolve both must arrive) — and
// only then are the oldest entries dropped. Entries up to
// `protected_upto` (being delivered right now) are never removed by the
// bound. With an empty path the spool lives in memory only.
//
// When the file cannot be written (disk full, EIO, permissions), nothing is
// lost while the process lives: the entries stay, in order, marked as held
// in memory only, and the file is cut back to its last complete record (a
// shrink needs no space), so a later record never lands behind a torn one.
// Every later Append, and Retry(), writes all of them again, oldest first;
// once that succeeds they are on disk like the others. Entries held in
// memory only (all of them without a path) are bounded by
// `max_memory_entries`: over it, the same coalescing applies among them,
// then the oldest of them are dropped and counted — the newest states are
// what a receiver must end up with, and an old state still queued behind a
// newer one of its alert would be superseded anyway. A lost removal record
// (the entry was delivered, the file still lists it) makes the next write a
// full rewrite. Such entries are what a checkpoint must keep
// (MemoryOnly(); Restore() after a restart).
//
// A spool file has one owner at a time (an flock on "<path>.lock"): Open
// fails while another spool holds it. Not thread-safe: the owner serialises
// calls.
//
// Example:
//   auto spool = NotifySpool::Open({.path = "/var/lib/vigil/spool/pd.spool",
//                                   .max_bytes = 1 << 20, .keep_per_key = 2});
//   (*spool)->Append({{.key = fingerprint, .data = alert.Encode()}});
//   for (const auto& [id, e] : (*spool)->entries()) { Deliver(e.data); (*spool)->Remove(id); }
//   if (!(*spool)->healthy()) (*spool)->Retry();   // disk full: try again later
#ifndef VIGIL_OPERATORS_NOTIFY_NOTIFY_SPOOL_H_
#define VIGIL_OPERATORS_NOTIFY_NOTIFY_SPOOL_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace vigil {

uint32_t Crc32c(std::string_view data);

class NotifySpool {
 public:
  struct Options {
    std::string path;  // "" = in memory only
    size_t max_bytes = 64 << 20;
    int keep_per_key = 1;
    size_t max_memory_entries = 10000;  // entries not on disk
  };
  struct Item {
    std::string key;
    std::string data;
  };
  struct Entry {
    std::string key;
    std::string data;
    size_t bytes = 0;      // size of its record
    bool on_disk = false;  // written and fdatasync'd
  };
  // An entry as a checkpoint keeps it.
  struct Saved {
    uint64_t id = 0;
    std::string key;
    std::string data;
    friend bool operator==(const Saved&, const Saved&) = default;
  };
  struct AppendResult {
    absl::Status status;        // a write or fsync error (the entries are kept in memory)
    size_t coalesced = 0;       // entries removed because a newer one of their key exists
    size_t dropped = 0;         // entries removed, oldest first, by max_bytes
    size_t dropped_memory = 0;  // entries held in memory removed by max_memory_entries
  };

  // Creates the file (and its directory) if missing, else loads it.
  static absl::StatusOr<std::unique_ptr<NotifySpool>> Open(Options options);
  ~NotifySpool();
  NotifySpool(const NotifySpool&) = delete;
  NotifySpool& operator=(const NotifySpool&) = delete;

  // Appends in order with one fdatasync (writing first what earlier writes
  // could not), then applies the bounds.
  AppendResult Append(const std::vector<Item>& items);
  // Removes a delivered (or given up) entry; unknown ids are ignored.
  absl::Status Remove(uint64_t id);
  // Writes what is held in memory only; OK when nothing is left to write.
  absl::Status Retry();
  // The entries not on disk, oldest first: what a checkpoint keeps.
  std::vector<Saved> MemoryOnly() const;
  // After a restart, the entries a checkpoint kept: one the file holds
  // already (same id, key and data: written after the checkpoint) is
  // skipped, the others are appended in their order.
  AppendResult Restore(const std::vector<Saved>& saved);

  const std::map<uint64_t, Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  size_t live_bytes() const { return live_bytes_; }
  size_t file_bytes() const { return file_bytes_; }
  // Bytes cut off the tail at Open because they did not form a valid record.
  size_t torn_bytes() const { return torn_bytes_; }
  void set_protected_upto(uint64_t id) { protected_upto_ = id; }
  // Everything the spool holds is in its file as it is (always true without
  // a path: nothing is expected on disk).
  bool healthy() const { return options_.path.empty() || (memory_ == 0 && !stale_file_); }
  // Entries held in memory only (all of them without a path).
  size_t memory_entries() const { return memory_; }
  const Options& options() const { return options_; }
  uint64_t write_failures() const { return write_failures_; }
  // The last write error ("" when none yet).
  const std::string& last_error() const { return last_error_; }

 private:
  explicit NotifySpool(Options options) : options_(std::move(options)) {}
  absl::Status Load();
  // Writes every entry to a new file that replaces the old one.
  absl::Status Rewrite();
  // Appends records; on failure cuts the file back to where it was.
  absl::Status WriteAll(std::string data, bool sync);
  // Writes the entries held in memory only.
  absl::Status Persist();
  // Rewrites the file once removals make up more than half of it.
  absl::Status CompactIfBloated();
  absl::Status Failed(absl::Status s);
  void Erase(std::map<uint64_t, Entry>::iterator it, std::string* removals);
  void EnforceBound(AppendResult* result);
  void EnforceMemoryBound(AppendResult* result);

  Options options_;
  int fd_ = -1;
  int lock_fd_ = -1;  // flock'd for the spool's lifetime
  std::map<uint64_t, Entry> entries_;
  uint64_t next_id_ = 1;
  uint64_t protected_upto_ = 0;
  size_t live_bytes_ = 0;
  size_t file_bytes_ = 0;
  size_t torn_bytes_ = 0;
  size_t memory_ = 0;        // entries with !on_disk
  bool stale_file_ = false;  // the file lists removed entries, or ends in a torn record
  uint64_t write_failures_ = 0;
  std::string last_error_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NOTIFY_NOTIFY_SPOOL_H_
