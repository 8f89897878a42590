#include "operators/archive/archive_writer.h"

#include <zstd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"
#include "operators/archive/parquet_writer.h"

namespace vigil {

namespace {

using archive_internal::Count;

constexpr size_t kChunk = 64 << 10;  // raw bytes buffered before they are compressed
constexpr DurationMs kFailureLogEvery = 60000;
// Checkpoint marks appended before the manifest is compacted.
constexpr size_t kMaxMarks = 1024;

TimeMs SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

absl::Status CheckOptions(const ArchiveOptions& o) {
  if (o.flush_interval <= 0 || o.max_bytes == 0 || o.retention < 0 || o.max_open_batches < 1) {
    return absl::InvalidArgumentError(
        "archive: flush_interval and max_bytes must be positive, retention not negative");
  }
  return absl::OkStatus();
}

}  // namespace

struct ArchiveWriter::OpenBatch {
  TimeMs hour = 0;
  TimeMs opened_at = 0;  // processing time
  TimeMs min_ts = kMaxTime;
  TimeMs max_ts = kMinTime;
  uint64_t records = 0;
  uint64_t bytes = 0;   // uncompressed
  uint64_t used = 0;    // for closing the least recently written batch
  std::string staging;  // not compressed yet
  std::string compressed;
  std::string error;  // a compression failure
  ZSTD_CCtx* cctx = nullptr;
};

ArchiveWriter::ArchiveWriter(ArchiveOptions options) : options_(std::move(options)) {
  if (!options_.clock) options_.clock = SteadyMs;
}

absl::StatusOr<std::unique_ptr<ArchiveWriter>> ArchiveWriter::Open(ArchiveOptions options) {
  if (options.location.empty()) {
    return absl::InvalidArgumentError("the archive needs a directory or an s3:// URL");
  }
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  absl::StatusOr<std::unique_ptr<ArchiveStore>> store = OpenArchiveStore(options.location);
  if (!store.ok()) return store.status();
  return Open(std::move(options), std::move(*store));
}

absl::StatusOr<std::unique_ptr<ArchiveWriter>> ArchiveWriter::Open(
    ArchiveOptions options, std::unique_ptr<ArchiveStore> store) {
  if (absl::Status s = CheckOptions(options); !s.ok()) return s;
  std::unique_ptr<ArchiveWriter> w(new ArchiveWriter(std::move(options)));
  if (absl::Status s = w->Init(std::move(store)); !s.ok()) return s;
  if (w->options_.background_writes) {
    w->writer_ = std::thread([p = w.get()] { p->RunWriter(); });
  }
  return w;
}

absl::Status ArchiveWriter::Init(std::unique_ptr<ArchiveStore> store) {
  absl::MutexLock io(&io_mu_);
  store_ = std::move(store);
  root_ = store_->root();
  absl::StatusOr<ArchiveManifest> m = store_->Load();
  if (!m.ok()) return m.status();
  for (const std::string& p : m->problems) {
    Logf("archive: skipping manifest line %s", p.c_str());
  }
  lines_ = std::move(m->lines);
  for (const ManifestLine& l : lines_) {
    if (!l.mark) next_seq_ = std::max(next_seq_, l.entry.seq + 1);
  }
  NoteWritten();
  if (absl::Status s = RemoveStrayFiles(); !s.ok()) return s;
  ApplyRetention();
  return absl::OkStatus();
}

void ArchiveWriter::NoteWritten() {
  newest_ts_ = kMinTime;
  oldest_hour_ = kMaxTime;
  for (const ManifestLine& l : lines_) {
    if (l.mark) continue;
    newest_ts_ = std::max(newest_ts_, l.entry.max_ts);
    oldest_hour_ = std::min(oldest_hour_, l.entry.hour());
  }
}

ArchiveWriter::~ArchiveWriter() {
  bool waiting = !open_.empty();
  {
    absl::MutexLock lock(&mu_);
    waiting = waiting || !pending_.empty();
  }
  if (waiting) {
    if (absl::Status s = Flush(); !s.ok()) {
      Logf("archive: lost at exit: %s", std::string(s.message()).c_str());
    }
  }
  if (writer_.joinable()) {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
      cv_.SignalAll();
    }
    writer_.join();
  }
  for (const auto& b : open_) ZSTD_freeCCtx(b->cctx);
  for (ZSTD_CCtx* c : free_cctx_) ZSTD_freeCCtx(c);
}

ArchiveStats ArchiveWriter::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

TimeMs ArchiveWriter::Now() const { return options_.clock(); }

ArchiveWriter::OpenBatch* ArchiveWriter::BatchFor(TimeMs hour) {
  for (const auto& b : open_) {
    if (b->hour == hour) return b.get();
  }
  if (open_.size() >= static_cast<size_t>(options_.max_open_batches)) {
    auto lru = std::min_element(open_.begin(), open_.end(),
                                [](const auto& a, const auto& b) { return a->used < b->used; });
    Close(lru->get());
    Drain(false);
  }
  auto b = std::make_unique<OpenBatch>();
  b->hour = hour;
  b->opened_at = Now();
  if (free_cctx_.empty()) {
    b->cctx = ZSTD_createCCtx();
  } else {
    b->cctx = free_cctx_.back();
    free_cctx_.pop_back();
    ZSTD_CCtx_reset(b->cctx, ZSTD_reset_session_and_parameters);
  }
  ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_compressionLevel, options_.compression_level);
  ZSTD_CCtx_setParameter(b->cctx, ZSTD_c_checksumFlag, 1);
  open_.push_back(std::move(b));
  return open_.back().get();
}

void ArchiveWriter::Add(std::string_view record, TimeMs event_time) {
  const TimeMs hour = AlignDown(event_time, kArchiveHour);
  OpenBatch* b = last_ != nullptr && last_->hour == hour ? last_ : BatchFor(hour);
  if (b != last_) {
    b->used = ++uses_;
    last_ = b;
  }
  const size_t at = b->staging.size();
  b->staging.append(record);
  if (std::memchr(record.data(), '\n', record.size()) != nullptr ||
      std::memchr(record.data(), '\r', record.size()) != nullptr) {
    for (size_t i = at; i < b->staging.size(); ++i) {
      if (b->staging[i] == '\n' || b->staging[i] == '\r') b->staging[i] = ' ';
    }
  }
  b->staging.push_back('\n');
  ++b->records;
  b->bytes += record.size() + 1;
  b->min_ts = std::min(b->min_ts, event_time);
  b->max_ts = std::max(b->max_ts, event_time);
  // Parquet encodes a batch whole, at Close.
  if (options_.format == ArchiveFormat::kNdjsonZst && b->staging.size() >= kChunk) {
    Compress(b, false);
  }
  if (b->bytes >= options_.max_bytes) {
    Close(b);
    Drain(false);
  }
}

void ArchiveWriter::Compress(OpenBatch* b, bool end) {
  ZSTD_inBuffer in{b->staging.data(), b->staging.size(), 0};
  const size_t room = ZSTD_CStreamOutSize();
  size_t left = 0;
  do {
    const size_t old = b->compressed.size();
    b->compressed.resize(old + room);
    ZSTD_outBuffer out{b->compressed.data() + old, room, 0};
    left = ZSTD_compressStream2(b->cctx, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    b->compressed.resize(old + out.pos);
    if (ZSTD_isError(left)) {
      b->error = StrCat("zstd: ", ZSTD_getErrorName(left));
      break;
    }
  } while (end ? left != 0 : in.pos < in.size);
  b->staging.clear();
}

void ArchiveWriter::Encode(OpenBatch* b) {
  std::vector<std::string_view> records;
  records.reserve(b->records);
  std::string_view rest = b->staging;
  while (!rest.empty()) {
    const size_t nl = rest.find('\n');
    records.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  ParquetBatchOptions options;
  options.compression_level = options_.compression_level;
  absl::StatusOr<std::string> file = EncodeParquetBatch(records, options);
  if (file.ok()) {
    b->compressed = std::move(*file);
  } else {
    b->error = std::string(file.status().message());
  }
  b->staging.clear();
}

void ArchiveWriter::Close(OpenBatch* b) {
  if (options_.format == ArchiveFormat::kParquet) {
    Encode(b);
  } else {
    Compress(b, true);
  }
  if (last_ == b) last_ = nullptr;
  free_cctx_.push_back(b->cctx);
  auto it = std::find_if(open_.begin(), open_.end(), [&](const auto& p) { return p.get() == b; });
  std::unique_ptr<OpenBatch> batch = std::move(*it);
  open_.erase(it);
  if (!batch->error.empty()) {
    // Only an allocation failure (or a record the Parquet encoder refuses,
    // which the job's parser accepted) gets here; the records cannot be kept.
    absl::MutexLock lock(&mu_);
    ++stats_.errors;
    stats_.dropped_records += batch->records;
    Logf("archive: dropped a batch of %llu records: %s",
         static_cast<unsigned long long>(batch->records), batch->error.c_str());
    return;
  }
  ClosedBatch c;
  ArchiveEntry& e = c.line.entry;
  e.seq = next_seq_++;
  e.path = ArchiveBatchPath(e.seq, batch->min_ts, options_.partitioning, options_.format);
  e.records = batch->records;
  e.bytes = batch->bytes;
  e.size = batch->compressed.size();
  e.min_ts = batch->min_ts;
  e.max_ts = batch->max_ts;
  e.epoch = epoch_;
  c.data = std::move(batch->compressed);
  Enqueue(std::move(c));
}

void ArchiveWriter::Enqueue(ClosedBatch c) {
  absl::MutexLock lock(&mu_);
  pending_bytes_ += c.data.size();
  pending_.push_back(std::move(c));
  UpdatePendingStats();
}

void ArchiveWriter::UpdatePendingStats() {
  stats_.pending_batches = in_flight_records_ > 0 ? 1 : 0;
  stats_.pending_records = in_flight_records_;
  for (const ClosedBatch& b : pending_) {
    if (b.line.mark) continue;
    ++stats_.pending_batches;
    stats_.pending_records += b.line.entry.records;
  }
  stats_.failing = failed_attempts_ > 0 ? last_error_ : "";
}

void ArchiveWriter::Tick() {
  const TimeMs now = Now();
  bool closed = false;
  for (size_t i = 0; i < open_.size();) {
    if (now - open_[i]->opened_at >= options_.flush_interval) {
      Close(open_[i].get());
      closed = true;
    } else {
      ++i;
    }
  }
  // In the background the writer thread keeps the retry's time itself.
  bool retry = false;
  if (!options_.background_writes) {
    absl::MutexLock lock(&mu_);
    retry = !pending_.empty() && now >= retry_at_;
  }
  if (closed || retry) Drain(false);
}

bool ArchiveWriter::WriteDue() const {
  return !pending_.empty() && !in_flight_ &&
         (force_ || failed_attempts_ == 0 || Now() >= retry_at_);
}

void ArchiveWriter::Drain(bool force) {
  if (options_.background_writes) {
    absl::MutexLock lock(&mu_);
    if (force) force_ = true;
    DropOverLimit();
    UpdatePendingStats();
    cv_.SignalAll();
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    if (force) force_ = true;
  }
  WritePending();
  absl::MutexLock lock(&mu_);
  DropOverLimit();
  UpdatePendingStats();
}

void ArchiveWriter::RunWriter() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      while (!stop_ && !WriteDue()) {
        // A retry is due on the processing clock, which may not be the
        // real one: look again at least every second.
        DurationMs wait = 1000;
        if (failed_attempts_ > 0 && !pending_.empty()) {
          wait = std::clamp<DurationMs>(retry_at_ - Now(), 1, 1000);
        }
        cv_.WaitWithTimeout(&mu_, absl::Milliseconds(wait));
      }
      if (stop_) return;
    }
    WritePending();
  }
}

void ArchiveWriter::WritePending() {
  absl::MutexLock io(&io_mu_);
  bool wrote = false;
  for (;;) {
    ClosedBatch b;
    {
      absl::MutexLock lock(&mu_);
      if (!WriteDue()) {
        if (pending_.empty()) force_ = false;
        break;
      }
      b = std::move(pending_.front());
      pending_.pop_front();
      in_flight_ = true;
      in_flight_records_ = b.line.entry.records;
    }
    const absl::Status s = Write(b);
    absl::MutexLock lock(&mu_);
    in_flight_ = false;
    in_flight_records_ = 0;
    if (b.line.mark) {
      // Only a later start without any checkpoint reads the marks: a mark
      // that cannot be written is not retried.
      if (!s.ok()) {
        ++stats_.errors;
        Logf("archive: cannot mark checkpoint %llu: %s",
             static_cast<unsigned long long>(b.line.checkpoint), std::string(s.message()).c_str());
      }
    } else if (!s.ok()) {
      pending_.push_front(std::move(b));
      WriteFailed(s);
    } else {
      const ArchiveEntry& e = b.line.entry;
      ++stats_.batches;
      stats_.records += e.records;
      stats_.bytes += e.size;
      newest_ts_ = std::max(newest_ts_, e.max_ts);
      oldest_hour_ = std::min(oldest_hour_, e.hour());
      pending_bytes_ -= b.data.size();
      wrote = true;
    }
    if (failed_attempts_ > 0 && s.ok() && pending_.empty()) {
      Logf("archive: writing again after %s",
           Count(failed_attempts_, "failed attempt", "failed attempts").c_str());
      failed_attempts_ = 0;
    }
    if (!s.ok() && !b.line.mark) force_ = false;
    if (pending_.empty()) force_ = false;
    UpdatePendingStats();
    cv_.SignalAll();
  }
  if (wrote) ApplyRetention();
}

void ArchiveWriter::DropOverLimit() {
  while (pending_bytes_ > options_.max_pending_bytes) {
    // The oldest batch not being written.
    auto it = std::find_if(pending_.begin(), pending_.end(),
                           [](const ClosedBatch& b) { return !b.line.mark; });
    if (it == pending_.end()) break;
    const ArchiveEntry& e = it->line.entry;
    stats_.dropped_records += e.records;
    Logf(
        "archive: dropped the batch %s (%s, %s to %s): the batches waiting "
        "to be written take %zu bytes, over the limit of %zu",
        e.path.c_str(), Count(e.records, "record", "records").c_str(),
        FormatTimestamp(e.min_ts).c_str(), FormatTimestamp(e.max_ts).c_str(), pending_bytes_,
        options_.max_pending_bytes);
    pending_bytes_ -= it->data.size();
    pending_.erase(it);
  }
}

void ArchiveWriter::WriteFailed(const absl::Status& s) {
  ++stats_.errors;
  ++failed_attempts_;
  ++attempts_failed_;
  last_error_ = std::string(s.message());
  const TimeMs now = Now();
  retry_at_ = now + options_.retry_interval;
  if (failed_attempts_ > 1 && now - last_failure_log_ < kFailureLogEvery) return;
  last_failure_log_ = now;
  uint64_t records = 0;
  for (const ClosedBatch& b : pending_) records += b.line.entry.records;
  Logf("archive: %s; %s (%s) kept in memory, retried every %s", last_error_.c_str(),
       Count(pending_.size(), "batch", "batches").c_str(),
       Count(records, "record", "records").c_str(),
       FormatDuration(options_.retry_interval).c_str());
}

void ArchiveWriter::CountError() {
  absl::MutexLock lock(&mu_);
  ++stats_.errors;
}

absl::Status ArchiveWriter::Write(const ClosedBatch& b) {
  if (!b.line.mark) {
    if (absl::Status s = store_->PutBatch(b.line.entry.path, b.data); !s.ok()) return s;
  }
  // On failure the batch stays unlisted: a retry writes it again, Open
  // removes it.
  if (absl::Status s = store_->Append({b.line}); !s.ok()) return s;
  lines_.push_back(b.line);
  if (b.line.mark && ++marks_since_rewrite_ > kMaxMarks) {
    if (absl::StatusOr<size_t> r = Rewrite([](const ArchiveEntry&) { return false; }); !r.ok()) {
      CountError();
      Logf("archive: %s", std::string(r.status().message()).c_str());
    }
  }
  return absl::OkStatus();
}

void ArchiveWriter::WaitWritten() {
  absl::ReleasableMutexLock lock(&mu_);
  force_ = true;  // no waiting for retry_at_
  if (!options_.background_writes) {
    lock.Release();
    WritePending();
    return;
  }
  // Counted under the same lock as force_ is set: an attempt that fails
  // before this thread waits still ends the wait.
  const uint64_t failed = attempts_failed_;
  cv_.SignalAll();
  while ((!pending_.empty() || in_flight_) && attempts_failed_ == failed && !stop_) {
    cv_.Wait(&mu_);
  }
}

absl::Status ArchiveWriter::PendingError() {
  absl::MutexLock lock(&mu_);
  if (pending_.empty() && !in_flight_) return absl::OkStatus();
  uint64_t records = in_flight_records_, batches = in_flight_records_ > 0 ? 1 : 0;
  for (const ClosedBatch& b : pending_) {
    if (b.line.mark) continue;
    records += b.line.entry.records;
    ++batches;
  }
  return absl::UnavailableError(StrCat("not written yet: ", Count(batches, "batch", "batches"),
                                       " (", Count(records, "record", "records"),
                                       "): ", last_error_));
}

absl::Status ArchiveWriter::Flush() {
  uint64_t dropped = 0;
  {
    absl::MutexLock lock(&mu_);
    dropped = stats_.dropped_records;
  }
  while (!open_.empty()) Close(open_.front().get());  // in the order they opened
  WaitWritten();
  {
    absl::MutexLock lock(&mu_);
    DropOverLimit();
    UpdatePendingStats();
  }
  if (absl::Status s = PendingError(); !s.ok()) return s;
  absl::MutexLock lock(&mu_);
  if (stats_.dropped_records == dropped) return absl::OkStatus();
  return absl::DataLossError(StrCat(
      "dropped ", Count(stats_.dropped_records - dropped, "record", "records"), ": ", last_error_));
}

absl::Status ArchiveWriter::Checkpoint(uint64_t epoch) {
  // Until Committed(epoch), what closes belongs to this epoch: if the
  // checkpoint is not written, the next attempt has the same epoch.
  epoch_ = epoch;
  if (options_.background_writes) {
    bool failing = false;
    {
      absl::MutexLock lock(&mu_);
      failing = failed_attempts_ > 0;
    }
    if (failing) {
      // Not waiting for a store that fails: the retry comes when it is due.
      while (!open_.empty()) Close(open_.front().get());
      Drain(false);
      return PendingError();
    }
  }
  return Flush();
}

void ArchiveWriter::Committed(uint64_t epoch) {
  epoch_ = epoch + 1;
  ClosedBatch mark;
  mark.line.mark = true;
  mark.line.checkpoint = epoch;
  Enqueue(std::move(mark));
  Drain(false);
}
}  // namespace vigil
