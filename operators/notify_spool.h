// operators/notify_spool.h
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
// of it, so it stays within about twice the live size.
//
// Bound: live entries take at most `max_bytes`. Over it, entries of the same
// key are coalesced first — only the newest `keep_per_key` of each key stay
// (1 for Alertmanager, where only the latest state matters; 2 for PagerDuty
// and webhooks, where a trigger and its resolve both must arrive) — and
// only then are the oldest entries dropped. Entries up to
// `protected_upto` (being delivered right now) are never removed by the
// bound. With an empty path the spool lives in memory only.
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
#ifndef VIGIL_OPERATORS_NOTIFY_SPOOL_H_
#define VIGIL_OPERATORS_NOTIFY_SPOOL_H_

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
  };
  struct Item {
    std::string key;
    std::string data;
  };
  struct Entry {
    std::string key;
    std::string data;
    size_t bytes = 0;  // size of its record
  };
  struct AppendResult {
    absl::Status status;   // a write or fsync error (the entries are kept in memory)
    size_t coalesced = 0;  // entries removed because a newer one of their key exists
    size_t dropped = 0;    // entries removed, oldest first, as a last resort
  };

  // Creates the file (and its directory) if missing, else loads it.
  static absl::StatusOr<std::unique_ptr<NotifySpool>> Open(Options options);
  ~NotifySpool();
  NotifySpool(const NotifySpool&) = delete;
  NotifySpool& operator=(const NotifySpool&) = delete;

  // Appends in order with one fdatasync, then applies the bound.
  AppendResult Append(const std::vector<Item>& items);
  // Removes a delivered (or given up) entry; unknown ids are ignored.
  absl::Status Remove(uint64_t id);

  const std::map<uint64_t, Entry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  size_t live_bytes() const { return live_bytes_; }
  size_t file_bytes() const { return file_bytes_; }
  // Bytes cut off the tail at Open because they did not form a valid record.
  size_t torn_bytes() const { return torn_bytes_; }
  void set_protected_upto(uint64_t id) { protected_upto_ = id; }

 private:
  explicit NotifySpool(Options options) : options_(std::move(options)) {}
  absl::Status Load();
  absl::Status Rewrite();
  absl::Status WriteAll(std::string_view data, bool sync);
  void Erase(std::map<uint64_t, Entry>::iterator it, std::string* removals);
  void EnforceBound(AppendResult* result);

  Options options_;
  int fd_ = -1;
  int lock_fd_ = -1;  // flock'd for the spool's lifetime
  std::map<uint64_t, Entry> entries_;
  uint64_t next_id_ = 1;
  uint64_t protected_upto_ = 0;
  size_t live_bytes_ = 0;
  size_t file_bytes_ = 0;
  size_t torn_bytes_ = 0;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_NOTIFY_SPOOL_H_
