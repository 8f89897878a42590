// ArchiveWriter, the manifest's upkeep (operators/archive/archive_writer.h): appends,
// checkpoint marks, Restore, rewrites, retention and stray files.
#include <set>

#include "base/log.h"
#include "base/strings.h"
#include "operators/archive/archive_writer.h"

namespace vigil {

namespace {

using archive_internal::Count;

}  // namespace

absl::Status ArchiveWriter::RemoveStrayFiles() {
  std::set<std::string> listed;
  for (const ManifestLine& l : lines_) {
    if (!l.mark) listed.insert(l.entry.path);
  }
  absl::StatusOr<std::vector<std::string>> files = store_->ListBatches();
  if (!files.ok()) return files.status();
  size_t removed = 0;
  for (const std::string& rel : *files) {
    if (listed.contains(rel)) continue;
    if (absl::Status s = store_->DeleteBatch(rel); !s.ok()) return s;
    ++removed;
  }
  if (removed > 0) {
    Logf("archive: removed %s no manifest line lists (left by an interrupted write)",
         Count(removed, "file", "files").c_str());
  }
  // A listed file that is gone cannot be replayed: unlist it.
  const std::set<std::string> present(files->begin(), files->end());
  std::set<uint64_t> missing;
  for (const ManifestLine& l : lines_) {
    if (!l.mark && !present.contains(l.entry.path)) {
      Logf("archive: %s/%s is listed but missing; unlisting it", root_.c_str(),
           l.entry.path.c_str());
      missing.insert(l.entry.seq);
    }
  }
  if (missing.empty()) return absl::OkStatus();
  return Rewrite([&](const ArchiveEntry& e) { return missing.contains(e.seq); }).status();
}

absl::Status ArchiveWriter::Restore(uint64_t epoch) {
  absl::MutexLock io(&io_mu_);  // nothing is written yet
  // The batches that may be re-read start after the last mark of a new
  // checkpoint history ({"checkpoint":0}); with no checkpoint at all,
  // after the last mark of any checkpoint.
  size_t from = 0;
  for (size_t i = lines_.size(); i > 0; --i) {
    const ManifestLine& l = lines_[i - 1];
    if (l.mark && (epoch == 0 || l.checkpoint == 0)) {
      from = i;
      break;
    }
  }
  std::set<uint64_t> drop;
  uint64_t records = 0;
  for (size_t i = from; i < lines_.size(); ++i) {
    if (!lines_[i].mark && lines_[i].entry.epoch > epoch) {
      drop.insert(lines_[i].entry.seq);
      records += lines_[i].entry.records;
    }
  }
  epoch_ = epoch + 1;
  std::vector<ManifestLine> extra;
  if (epoch == 0) {
    // A new checkpoint history starts here.
    extra.emplace_back();
    extra.back().mark = true;
  }
  if (drop.empty()) {
    if (extra.empty()) return absl::OkStatus();
    if (absl::Status s = store_->Append({extra.back()}); !s.ok()) return s;
    lines_.push_back(extra.back());
    return absl::OkStatus();
  }
  absl::StatusOr<size_t> dropped =
      Rewrite([&](const ArchiveEntry& e) { return drop.contains(e.seq); }, extra);
  if (!dropped.ok()) return dropped.status();
  if (*dropped > 0) {
    Logf(
        "archive: removed %s (%s) written after checkpoint %llu; their records "
        "are read again",
        Count(*dropped, "batch", "batches").c_str(), Count(records, "record", "records").c_str(),
        static_cast<unsigned long long>(epoch));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> ArchiveWriter::Rewrite(const std::function<bool(const ArchiveEntry&)>& drop,
                                              const std::vector<ManifestLine>& extra) {
  // Marks that still matter: the last one, and the last that starts a
  // checkpoint history (see Restore).
  size_t last_mark = lines_.size(), last_start = lines_.size();
  for (size_t i = 0; i < lines_.size(); ++i) {
    if (!lines_[i].mark) continue;
    last_mark = i;
    if (lines_[i].checkpoint == 0) last_start = i;
  }
  std::vector<ManifestLine> kept;
  std::vector<ArchiveEntry> dropped;
  for (size_t i = 0; i < lines_.size(); ++i) {
    const ManifestLine& l = lines_[i];
    if (l.mark) {
      if (i == last_mark || i == last_start) kept.push_back(l);
    } else if (drop(l.entry)) {
      dropped.push_back(l.entry);
    } else {
      kept.push_back(l);
    }
  }
  kept.insert(kept.end(), extra.begin(), extra.end());
  if (absl::Status s = store_->Replace(kept); !s.ok()) return s;
  marks_since_rewrite_ = 0;
  lines_ = std::move(kept);
  NoteWritten();
  // Unlisted now, so no reader opens them; a file that cannot be removed
  // here is removed on the next Open.
  for (const ArchiveEntry& e : dropped) {
    if (absl::Status s = store_->DeleteBatch(e.path); !s.ok()) {
      CountError();
      Logf("archive: %s", std::string(s.message()).c_str());
    }
  }
  return dropped.size();
}

void ArchiveWriter::ApplyRetention() {
  if (options_.retention <= 0 || newest_ts_ == kMinTime) return;
  const TimeMs cutoff = newest_ts_ - options_.retention;
  if (oldest_hour_ == kMaxTime || oldest_hour_ + kArchiveHour > cutoff) return;
  std::set<TimeMs> hours;
  absl::StatusOr<size_t> dropped = Rewrite([&](const ArchiveEntry& e) {
    if (e.hour() + kArchiveHour > cutoff) return false;
    hours.insert(e.hour());
    return true;
  });
  if (!dropped.ok()) {
    CountError();
    Logf("archive: retention: %s", std::string(dropped.status().message()).c_str());
    return;
  }
  // Whole hours expire: whatever else is left in their directories goes too.
  for (TimeMs h : hours) {
    if (absl::Status s = store_->DeletePartition(ArchiveHourDir(h, options_.partitioning));
        !s.ok()) {
      CountError();
      Logf("archive: retention: %s", std::string(s.message()).c_str());
    }
  }
  Logf("archive: retention removed %s of %s before %s", Count(*dropped, "batch", "batches").c_str(),
       Count(hours.size(), "hour", "hours").c_str(),
       FormatTimestamp(AlignDown(cutoff, kArchiveHour)).c_str());
}
}  // namespace vigil
