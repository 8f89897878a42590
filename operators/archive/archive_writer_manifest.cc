// ArchiveWriter, the manifest's upkeep (operators/archive/archive_writer.h): appends,
// checkpoint marks, Restore, rewrites, retention and stray files.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "base/log.h"
#include "base/strings.h"
#include "operators/archive/archive_writer.h"

namespace vigil {

namespace {

namespace fs = std::filesystem;
using archive_internal::Count;
using archive_internal::EndsWith;
using archive_internal::Errno;
using archive_internal::ReplaceFile;
using archive_internal::WriteAll;

// Checkpoint marks appended before the manifest is compacted.
constexpr size_t kMaxMarks = 1024;

}  // namespace

absl::Status ArchiveWriter::RemoveStrayFiles() {
  std::set<std::string> listed;
  for (const ManifestLine& l : lines_) {
    if (!l.mark) listed.insert(l.entry.path);
  }
  std::vector<fs::path> stray;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    const std::string rel = it->path().string().substr(root_.size() + 1);
    const std::string name = it->path().filename().string();
    const bool temporary = (name.front() == '.' && EndsWith(name, ".tmp")) || rel == "MANIFEST.tmp";
    const bool unlisted = EndsWith(name, ".ndjson.zst") && !listed.contains(rel);
    if (temporary || unlisted) stray.push_back(it->path());
  }
  if (ec) return absl::InternalError(StrCat("cannot list the archive ", root_, ": ", ec.message()));
  for (const fs::path& p : stray) fs::remove(p, ec);
  if (!stray.empty()) {
    Logf(
        "archive: removed %s no manifest line lists (left by an interrupted "
        "write)",
        Count(stray.size(), "file", "files").c_str());
  }
  // A listed file that is gone cannot be replayed: unlist it.
  std::set<uint64_t> missing;
  for (const ManifestLine& l : lines_) {
    if (!l.mark && !fs::exists(StrCat(root_, "/", l.entry.path), ec)) {
      Logf("archive: %s/%s is listed but missing; unlisting it", root_.c_str(),
           l.entry.path.c_str());
      missing.insert(l.entry.seq);
    }
  }
  if (missing.empty()) return absl::OkStatus();
  return Rewrite([&](const ArchiveEntry& e) { return missing.contains(e.seq); }).status();
}
absl::Status ArchiveWriter::AppendManifest(const std::string& text) {
  const std::string path = StrCat(root_, "/", kArchiveManifestName);
  absl::Status s = WriteAll(manifest_fd_, text, path);
  if (s.ok() && ::fdatasync(manifest_fd_) != 0) s = Errno("cannot sync", path);
  if (s.ok()) {
    manifest_bytes_ += text.size();
    return s;
  }
  // A part of a line would glue the next one to it.
  if (::ftruncate(manifest_fd_, static_cast<off_t>(manifest_bytes_)) != 0) {
    Logf("archive: cannot cut %s back to %llu bytes: %s", path.c_str(),
         static_cast<unsigned long long>(manifest_bytes_), std::strerror(errno));
  }
  return s;
}
void ArchiveWriter::Committed(uint64_t epoch) {
  epoch_ = epoch + 1;
  ManifestLine mark;
  mark.mark = true;
  mark.checkpoint = epoch;
  if (absl::Status s = AppendManifest(FormatManifestLine(mark)); !s.ok()) {
    // Only a later start without any checkpoint reads the marks.
    ++stats_.errors;
    Logf("archive: cannot mark checkpoint %llu: %s", static_cast<unsigned long long>(epoch),
         std::string(s.message()).c_str());
    return;
  }
  lines_.push_back(mark);
  if (++marks_since_rewrite_ > kMaxMarks) {
    if (absl::StatusOr<size_t> r = Rewrite([](const ArchiveEntry&) { return false; }); !r.ok()) {
      ++stats_.errors;
      Logf("archive: %s", std::string(r.status().message()).c_str());
    }
  }
}

absl::Status ArchiveWriter::Restore(uint64_t epoch) {
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
    if (absl::Status s = AppendManifest(FormatManifestLine(extra.back())); !s.ok()) return s;
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
  std::string text;
  for (const ManifestLine& l : kept) text += FormatManifestLine(l);
  const std::string path = StrCat(root_, "/", kArchiveManifestName);
  if (absl::Status s = ReplaceFile(path, path + ".tmp", text); !s.ok()) return s;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  ::close(manifest_fd_);
  manifest_fd_ = fd;
  manifest_bytes_ = text.size();
  marks_since_rewrite_ = 0;
  lines_ = std::move(kept);
  newest_ts_ = kMinTime;
  oldest_hour_ = kMaxTime;
  for (const ManifestLine& l : lines_) {
    if (l.mark) continue;
    newest_ts_ = std::max(newest_ts_, l.entry.max_ts);
    oldest_hour_ = std::min(oldest_hour_, l.entry.hour());
  }
  // Unlisted now, so no reader opens them; a file that cannot be removed
  // here is removed on the next Open.
  for (const ArchiveEntry& e : dropped) {
    std::error_code ec;
    fs::path p = fs::path(root_) / e.path;
    if (!fs::remove(p, ec) && ec) {
      ++stats_.errors;
      Logf("archive: cannot remove %s: %s", p.c_str(), ec.message().c_str());
    }
    // The hour, day, month and year directories, once empty.
    for (int up = 0; up < 4 && fs::remove(p = p.parent_path(), ec);) ++up;
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
    ++stats_.errors;
    Logf("archive: retention: %s", std::string(dropped.status().message()).c_str());
    return;
  }
  // Whole hours expire: whatever else is left in their directories goes too.
  for (TimeMs h : hours) {
    std::error_code ec;
    fs::path p = fs::path(root_) / ArchiveHourDir(h);
    fs::remove_all(p, ec);
    for (int up = 0; up < 3 && fs::remove(p = p.parent_path(), ec);) ++up;
  }
  Logf("archive: retention removed %s of %s before %s", Count(*dropped, "batch", "batches").c_str(),
       Count(hours.size(), "hour", "hours").c_str(),
       FormatTimestamp(AlignDown(cutoff, kArchiveHour)).c_str());
}
}  // namespace vigil
