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

TimeMs SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
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
  if (options.flush_interval <= 0 || options.max_bytes == 0 || options.retention < 0 ||
      options.max_open_batches < 1) {
    return absl::InvalidArgumentError(
        "archive: flush_interval and max_bytes must be positive, retention not negative");
  }
  std::unique_ptr<ArchiveWriter> w(new ArchiveWriter(std::move(options)));
  if (absl::Status s = w->Init(); !s.ok()) return s;
  return w;
}

absl::Status ArchiveWriter::Init() {
  absl::StatusOr<std::unique_ptr<ArchiveStore>> store = OpenArchiveStore(options_.location);
  if (!store.ok()) return store.status();
  store_ = std::move(*store);
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
  if (store_ && (!open_.empty() || !pending_.empty())) {
    if (absl::Status s = Flush(); !s.ok()) {
      Logf("archive: lost at exit: %s", std::string(s.message()).c_str());
    }
  }
  for (const auto& b : open_) ZSTD_freeCCtx(b->cctx);
  for (ZSTD_CCtx* c : free_cctx_) ZSTD_freeCCtx(c);
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
    ++stats_.errors;
    stats_.dropped_records += batch->records;
    Logf("archive: dropped a batch of %llu records: %s",
         static_cast<unsigned long long>(batch->records), batch->error.c_str());
    return;
  }
  ClosedBatch c;
  c.entry.seq = next_seq_++;
  c.entry.path =
      ArchiveBatchPath(c.entry.seq, batch->min_ts, options_.partitioning, options_.format);
  c.entry.records = batch->records;
  c.entry.bytes = batch->bytes;
  c.entry.size = batch->compressed.size();
  c.entry.min_ts = batch->min_ts;
  c.entry.max_ts = batch->max_ts;
  c.entry.epoch = epoch_;
  c.data = std::move(batch->compressed);
  pending_bytes_ += c.data.size();
  pending_.push_back(std::move(c));
  UpdatePendingStats();
}

void ArchiveWriter::UpdatePendingStats() {
  stats_.pending_batches = pending_.size();
  stats_.pending_records = 0;
  for (const ClosedBatch& b : pending_) stats_.pending_records += b.entry.records;
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
  if (closed || (!pending_.empty() && now >= retry_at_)) Drain(false);
}

void ArchiveWriter::Drain(bool force) {
  const bool failing = failed_attempts_ > 0;
  if (force || !failing || Now() >= retry_at_) {
    bool wrote = false;
    while (!pending_.empty()) {
      const ClosedBatch& b = pending_.front();
      if (absl::Status s = WriteBatch(b); !s.ok()) {
        WriteFailed(s);
        break;
      }
      ++stats_.batches;
      stats_.records += b.entry.records;
      stats_.bytes += b.entry.size;
      newest_ts_ = std::max(newest_ts_, b.entry.max_ts);
      oldest_hour_ = std::min(oldest_hour_, b.entry.hour());
      pending_bytes_ -= b.data.size();
      pending_.pop_front();
      wrote = true;
    }
    if (failing && pending_.empty()) {
      Logf("archive: writing again after %s",
           Count(failed_attempts_, "failed attempt", "failed attempts").c_str());
      failed_attempts_ = 0;
    }
    if (wrote) ApplyRetention();
  }
  while (pending_bytes_ > options_.max_pending_bytes && !pending_.empty()) {
    const ArchiveEntry& e = pending_.front().entry;
    stats_.dropped_records += e.records;
    Logf(
        "archive: dropped the batch %s (%s, %s to %s): the batches waiting "
        "to be written take %zu bytes, over the limit of %zu",
        e.path.c_str(), Count(e.records, "record", "records").c_str(),
        FormatTimestamp(e.min_ts).c_str(), FormatTimestamp(e.max_ts).c_str(), pending_bytes_,
        options_.max_pending_bytes);
    pending_bytes_ -= pending_.front().data.size();
    pending_.pop_front();
  }
  UpdatePendingStats();
}

void ArchiveWriter::WriteFailed(const absl::Status& s) {
  ++stats_.errors;
  ++failed_attempts_;
  last_error_ = std::string(s.message());
  const TimeMs now = Now();
  retry_at_ = now + options_.retry_interval;
  if (failed_attempts_ > 1 && now - last_failure_log_ < kFailureLogEvery) return;
  last_failure_log_ = now;
  uint64_t records = 0;
  for (const ClosedBatch& b : pending_) records += b.entry.records;
  Logf("archive: %s; %s (%s) kept in memory, retried every %s", last_error_.c_str(),
       Count(pending_.size(), "batch", "batches").c_str(),
       Count(records, "record", "records").c_str(),
       FormatDuration(options_.retry_interval).c_str());
}

absl::Status ArchiveWriter::WriteBatch(const ClosedBatch& b) {
  if (absl::Status s = store_->PutBatch(b.entry.path, b.data); !s.ok()) return s;
  ManifestLine line;
  line.entry = b.entry;
  // On failure the batch stays unlisted: a retry writes it again, Open
  // removes it.
  if (absl::Status s = AppendManifest(line); !s.ok()) return s;
  lines_.push_back(std::move(line));
  return absl::OkStatus();
}

absl::Status ArchiveWriter::Flush() {
  const uint64_t dropped = stats_.dropped_records;
  while (!open_.empty()) Close(open_.front().get());  // in the order they opened
  Drain(true);
  if (pending_.empty()) {
    if (stats_.dropped_records == dropped) return absl::OkStatus();
    return absl::DataLossError(StrCat("dropped ",
                                      Count(stats_.dropped_records - dropped, "record", "records"),
                                      ": ", last_error_));
  }
  uint64_t records = 0;
  for (const ClosedBatch& b : pending_) records += b.entry.records;
  return absl::UnavailableError(
      StrCat("not written yet: ", Count(pending_.size(), "batch", "batches"), " (",
             Count(records, "record", "records"), "): ", last_error_));
}

absl::Status ArchiveWriter::Checkpoint(uint64_t epoch) {
  // Until Committed(epoch), what closes belongs to this epoch: if the
  // checkpoint is not written, the next attempt has the same epoch.
  epoch_ = epoch;
  return Flush();
}
}  // namespace vigil
