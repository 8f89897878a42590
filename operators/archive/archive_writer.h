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
// Write failures (disk full, permissions, a bucket that does not answer)
// never stop the job: each failed
// attempt is logged on stderr and counted, the batch stays in memory and is
// retried every `retry_interval` and at every Flush/Checkpoint, in order.
// When the batches waiting exceed `max_pending_bytes`, the oldest is dropped,
// logged with its record count and time range, and counted in
// `dropped_records`.
//
// Exactly-once with checkpoints. The job calls Checkpoint(e) before writing
// its checkpoint e: it closes every open batch and writes the waiting ones,
// each listed with epoch e, and fails if any cannot be written (the job then
// skips that checkpoint). Committed(e), once checkpoint e is written, marks
// it in the manifest; batches closed from then on belong to epoch e + 1,
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
// prefix. Not thread-safe: the job thread calls everything.
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
#include <vector>

#include "absl/status/statusor.h"
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
  std::function<TimeMs()> clock;  // processing time in ms; default: the steady clock
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

  const ArchiveStats& stats() const { return stats_; }
  const std::string& root() const { return root_; }

 private:
  struct OpenBatch;
  struct ClosedBatch {
    ArchiveEntry entry;
    std::string data;  // one complete zstd frame, or a Parquet file
  };

  explicit ArchiveWriter(ArchiveOptions options);
  absl::Status Init();
  absl::Status RemoveStrayFiles();
  void NoteWritten();  // recomputes newest_ts_ and oldest_hour_ from lines_
  TimeMs Now() const;

  OpenBatch* BatchFor(TimeMs hour);
  void Compress(OpenBatch* b, bool end);
  void Encode(OpenBatch* b);  // the whole batch as a Parquet file
  void Close(OpenBatch* b);   // moves it to pending_
  // Writes waiting batches in order until one fails (while failing, only
  // when a retry is due, or with `force`), then applies max_pending_bytes.
  void Drain(bool force);
  absl::Status WriteBatch(const ClosedBatch& b);
  absl::Status AppendManifest(const ManifestLine& line);
  void WriteFailed(const absl::Status& s);
  void UpdatePendingStats();

  // Rewrites the manifest without the entries `drop` selects (and without
  // marks that no longer matter, plus `extra` at the end), then deletes
  // their files. Returns how many entries were dropped.
  absl::StatusOr<size_t> Rewrite(const std::function<bool(const ArchiveEntry&)>& drop,
                                 const std::vector<ManifestLine>& extra = {});
  void ApplyRetention();

  ArchiveOptions options_;
  std::unique_ptr<ArchiveStore> store_;
  std::string root_;
  std::vector<ManifestLine> lines_;  // the manifest, in memory
  size_t marks_since_rewrite_ = 0;
  uint64_t next_seq_ = 1;
  uint64_t epoch_ = 0;  // listed with the batches closed now
  TimeMs newest_ts_ = kMinTime;
  TimeMs oldest_hour_ = kMaxTime;

  std::vector<std::unique_ptr<OpenBatch>> open_;
  OpenBatch* last_ = nullptr;  // the batch of the previous Add
  uint64_t uses_ = 0;
  std::vector<ZSTD_CCtx_s*> free_cctx_;

  std::deque<ClosedBatch> pending_;
  size_t pending_bytes_ = 0;
  TimeMs retry_at_ = kMinTime;
  uint64_t failed_attempts_ = 0;  // in the current run of failures
  std::string last_error_;
  TimeMs last_failure_log_ = kMinTime;

  ArchiveStats stats_;
};

}  // namespace vigil

#endif  // VIGIL_OPERATORS_ARCHIVE_ARCHIVE_WRITER_H_
