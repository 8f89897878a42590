// operators/archive/archive_writer.h
//
// ArchiveWriter keeps the raw events a job accepted, for replays and
// backfills: micro-batches of zstd-compressed NDJSON (or Parquet files,
// operators/archive/parquet_writer.h) under `events/YYYY/MM/DD/HH/` (the UTC
// hour of each event's time; or `events/dt=YYYY-MM-DD/hour=HH/`) in a
// directory or an S3 bucket, listed in a manifest
// (operators/archive/archive_manifest.h describes the layout,
// operators/archive/archive_store.h how each store makes it durable).
//
// Batches. Each hour partition has at most one open batch. A batch closes
// when it has been open for `flush_interval` of processing time (checked by
// Tick), when its uncompressed size reaches `max_bytes`, when more than
// `max_open_batches` hours are open (the least recently written closes), and
// on Flush/Checkpoint. A closed batch is stored whole (a temporary file
// renamed, or one PUT) and only then appended to the manifest. A reader
// trusts the manifest alone, so it never sees a partial file; temporary and
// unlisted files left by a crash are removed on Open.
//
// Writes. With `background_writes` (the job's setting) closed batches are
// written by a thread of the writer's own, in order, so a slow or absent
// store never holds the caller: Add, Tick and a Checkpoint while writes
// fail return at once. Without it, the caller's thread writes them in
// Tick, Add and Flush (tests use this with a fake clock).
//
// Write failures (disk full, permissions, a bucket that does not answer)
// never stop the job: each failed attempt is logged on stderr and counted,
// the batch stays in memory and is retried every `retry_interval` (and at
// every Flush; at a Checkpoint too while writing inline), in order.
// When the batches waiting exceed `max_pending_bytes`, the oldest is dropped,
// logged with its record count and time range, and counted in
// `dropped_records`.
//
// Exactly-once with checkpoints. The job calls Checkpoint(e) before writing
// its checkpoint e: it closes every open batch and writes the waiting ones,
// each listed with epoch e, and fails if any cannot be written (the job then
// skips that checkpoint). In the background it waits until they are written
// or an attempt fails, and fails at once while the writes are failing and
// waiting for their retry. Committed(e), once checkpoint e is written, marks
// it in the manifest (after the batches before it); batches closed from then
// on belong to epoch e + 1,
// and until then to e (a checkpoint that failed is retried as e). On start,
// Restore(e) after restoring checkpoint e removes the batches of later
// epochs — their records will be read again — and Restore(0) when the job
// checkpoints but found no checkpoint removes the batches written after the
// last mark. Batches written without checkpoints carry epoch 0 and are never
// removed by Restore.
//
// Retention. With `retention` > 0, whole hour partitions that end more than
// `retention` before the newest event time archived are deleted (manifest
// first, then files). Event time, never the wall clock: replays stay
// deterministic.
//
// One writer per directory (an flock on `<dir>/events/LOCK`) or bucket
// prefix. One thread calls everything but stats(), which any thread may.
//
// Example:
//   ArchiveOptions o;
//   o.location = "/var/lib/vigil/archive";   // or "s3://bucket/prefix?endpoint=…"
//   o.retention = *ParseDuration("7d");
//   std::unique_ptr<ArchiveWriter> w = *ArchiveWriter::Open(o);
//   w->Add(record.data, event.ts);   // per accepted record
//   w->Tick();                       // per loop: closes batches open for 60 s
//   w->Flush();                      // at exit
#ifndef VIGIL_OPERATORS_ARCHIVE_ARCHIVE_WRITER_H_
#define VIGIL_OPERATORS_ARCHIVE_ARCHIVE_WRITER_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "base/time.h"
#include "operators/archive/archive_manifest.h"
#include "operators/archive/archive_store.h"

struct ZSTD_CCtx_s;

namespace vigil {

struct ArchiveOptions {
  std::string location;  // a directory or an s3:// URL; "" = no archive
  ArchiveFormat format = ArchiveFormat::kNdjsonZst;
  ArchivePartitioning partitioning = ArchivePartitioning::kHourly;
  DurationMs flush_interval = 60000;  // processing time a batch stays open
  size_t max_bytes = 5 << 20;         // uncompressed size that closes a batch
  DurationMs retention = 0;           // 0 = keep forever
  // Not in the job file.
  size_t max_pending_bytes = 256 << 20;  // compressed batches waiting for a retry
  DurationMs retry_interval = 5000;
  int max_open_batches = 8;
  int compression_level = 3;
  bool background_writes = false;  // write on a thread of the writer's own
  std::function<TimeMs()> clock;   // processing time in ms; default: the steady clock
};

struct ArchiveStats {
  uint64_t records = 0;          // records in batches listed in the manifest
  uint64_t batches = 0;          // batches listed
  uint64_t bytes = 0;            // compressed bytes of those batches
  uint64_t errors = 0;           // failed writes (every attempt) and failed deletions
  uint64_t dropped_records = 0;  // records of batches given up (max_pending_bytes)
  uint64_t pending_batches = 0;  // closed batches waiting for a retry
  uint64_t pending_records = 0;  // their records
  std::string failing;           // while writes fail: the last error; else ""
};

class ArchiveWriter {
 public:
  // Opens the store (creating `<dir>/events` and taking its lock, or
  // checking the bucket), reads the manifest, removes temporary and unlisted
  // batch files and applies the retention.
  static absl::StatusOr<std::unique_ptr<ArchiveWriter>> Open(ArchiveOptions options);
  // The same over a store opened by the caller (options.location unused).
  static absl::StatusOr<std::unique_ptr<ArchiveWriter>> Open(ArchiveOptions options,
                                                             std::unique_ptr<ArchiveStore> store);
  // Flushes what is open (best effort; call Flush to see errors).
  ~ArchiveWriter();
  ArchiveWriter(const ArchiveWriter&) = delete;
  ArchiveWriter& operator=(const ArchiveWriter&) = delete;

  // Adds one record (a JSON object; line breaks in it, insignificant
  // whitespace in valid JSON, become spaces) with its event time.
  void Add(std::string_view record, TimeMs event_time);
  // Closes batches open for flush_interval; retries waiting batches when due.
  void Tick();
  // Closes and writes every batch; an error if some could not be written
  // (they stay in memory).
  absl::Status Flush();

  absl::Status Checkpoint(uint64_t epoch);
  void Committed(uint64_t epoch);
  absl::Status Restore(uint64_t epoch);

  ArchiveStats stats() const;
  const std::string& root() const { return root_; }

 private:
  struct OpenBatch;
  // A closed batch (its entry and bytes) or a checkpoint mark (line.mark).
  struct ClosedBatch {
    ManifestLine line;
    std::string data;  // one complete zstd frame, or a Parquet file
  };

  explicit ArchiveWriter(ArchiveOptions options);
  absl::Status Init(std::unique_ptr<ArchiveStore> store);
  TimeMs Now() const;

  // The caller's side: open batches.
  OpenBatch* BatchFor(TimeMs hour);
  void Compress(OpenBatch* b, bool end);
  void Encode(OpenBatch* b);  // the whole batch as a Parquet file
  void Close(OpenBatch* b);   // moves it to pending_
  void Enqueue(ClosedBatch c);
  // Inline: writes waiting batches (while failing only when a retry is due,
  // or with `force`). In the background: wakes the writer thread. Then
  // applies max_pending_bytes.
  void Drain(bool force);
  // Waits until nothing is waiting or an attempt started after the call
  // failed; the caller's thread writes (inline) or the writer thread does.
  void WaitWritten();
  absl::Status PendingError();  // OK when nothing waits
  void DropOverLimit() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdatePendingStats() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool WriteDue() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RunWriter();  // the writer thread

  // The writing side: the store and the manifest.
  // Writes waiting lines in order until one fails or none is left.
  void WritePending() ABSL_LOCKS_EXCLUDED(mu_, io_mu_);
  absl::Status Write(const ClosedBatch& b) ABSL_EXCLUSIVE_LOCKS_REQUIRED(io_mu_);
  void WriteFailed(const absl::Status& s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CountError() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status RemoveStrayFiles() ABSL_EXCLUSIVE_LOCKS_REQUIRED(io_mu_);
  // Recomputes newest_ts_ and oldest_hour_ from lines_.
  void NoteWritten() ABSL_EXCLUSIVE_LOCKS_REQUIRED(io_mu_);
  // Rewrites the manifest without the entries `drop` selects (and without
  // marks that no longer matter, plus `extra` at the end), then deletes
  // their files. Returns how many entries were dropped.
  absl::StatusOr<size_t> Rewrite(const std::function<bool(const ArchiveEntry&)>& drop,
                                 const std::vector<ManifestLine>& extra = {})
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(io_mu_);
  void ApplyRetention() ABSL_EXCLUSIVE_LOCKS_REQUIRED(io_mu_);

  ArchiveOptions options_;
  std::string root_;

  // The caller's thread only.
  uint64_t next_seq_ = 1;
  uint64_t epoch_ = 0;  // listed with the batches closed now
  std::vector<std::unique_ptr<OpenBatch>> open_;
  OpenBatch* last_ = nullptr;  // the batch of the previous Add
  uint64_t uses_ = 0;
  std::vector<ZSTD_CCtx_s*> free_cctx_;

  // Whoever writes holds io_mu_ (taken before mu_).
  mutable absl::Mutex io_mu_;
  std::unique_ptr<ArchiveStore> store_ ABSL_GUARDED_BY(io_mu_);
  std::vector<ManifestLine> lines_ ABSL_GUARDED_BY(io_mu_);  // the manifest, in memory
  size_t marks_since_rewrite_ ABSL_GUARDED_BY(io_mu_) = 0;
  TimeMs newest_ts_ ABSL_GUARDED_BY(io_mu_) = kMinTime;
  TimeMs oldest_hour_ ABSL_GUARDED_BY(io_mu_) = kMaxTime;

  // The queue between the two sides.
  mutable absl::Mutex mu_;
  absl::CondVar cv_;  // a line queued, an attempt ended, a retry asked for, stop
  std::deque<ClosedBatch> pending_ ABSL_GUARDED_BY(mu_);
  size_t pending_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // with the one being written
  // The line being written, taken off pending_ meanwhile.
  uint64_t in_flight_records_ ABSL_GUARDED_BY(mu_) = 0;
  bool in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool force_ ABSL_GUARDED_BY(mu_) = false;  // retry now, not at retry_at_
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  TimeMs retry_at_ ABSL_GUARDED_BY(mu_) = kMinTime;
  uint64_t failed_attempts_ ABSL_GUARDED_BY(mu_) = 0;  // in the current run of failures
  uint64_t attempts_failed_ ABSL_GUARDED_BY(mu_) = 0;  // ever, for WaitWritten
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  TimeMs last_failure_log_ ABSL_GUARDED_BY(mu_) = kMinTime;
  ArchiveStats stats_ ABSL_GUARDED_BY(mu_);

  std::thread writer_;  // with background_writes
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_ARCHIVE_ARCHIVE_WRITER_H_
