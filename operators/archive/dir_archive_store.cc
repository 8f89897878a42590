// DirArchiveStore: an archive in a local directory (operators/archive/archive_store.h).
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/log.h"
#include "base/strings.h"
#include "operators/archive/archive_store.h"

namespace vigil {

namespace {

namespace fs = std::filesystem;
using archive_internal::Errno;
using archive_internal::MakeDirs;
using archive_internal::ReplaceFile;
using archive_internal::SyncDir;
using archive_internal::WriteAll;

// Removes `p`'s parent directories up to (not including) `root` while they
// are empty.
void RemoveEmptyParents(fs::path p, const fs::path& root) {
  std::error_code ec;
  while ((p = p.parent_path()) != root && p.string().size() > root.string().size() &&
         fs::remove(p, ec)) {
  }
}

class DirArchiveStore : public ArchiveStore {
 public:
  explicit DirArchiveStore(std::string dir) : dir_(std::move(dir)), root_(dir_ + "/events") {}
  ~DirArchiveStore() override {
    if (manifest_fd_ >= 0) ::close(manifest_fd_);
    if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
  }

  const std::string& root() const override { return root_; }
  absl::StatusOr<ArchiveManifest> Load() override;

  absl::Status PutBatch(const std::string& rel, std::string_view data) override {
    const size_t slash = rel.rfind('/');
    if (slash != std::string::npos) {
      if (absl::Status s = MakeDirs(root_, rel.substr(0, slash)); !s.ok()) return s;
    }
    const fs::path p(StrCat(root_, "/", rel));
    const std::string tmp = StrCat(p.parent_path().string(), "/.", p.filename().string(), ".tmp");
    return ReplaceFile(p.string(), tmp, data);
  }

  absl::Status Append(const std::vector<ManifestLine>& lines) override;
  absl::Status Replace(const std::vector<ManifestLine>& lines) override;
  absl::StatusOr<std::vector<std::string>> ListBatches() override;

  absl::Status DeleteBatch(const std::string& rel) override {
    std::error_code ec;
    const fs::path p = fs::path(root_) / rel;
    if (!fs::remove(p, ec) && ec) {
      return absl::InternalError(StrCat("cannot remove ", p.string(), ": ", ec.message()));
    }
    RemoveEmptyParents(p, root_);
    return absl::OkStatus();
  }

  absl::Status DeletePartition(const std::string& rel_dir) override {
    std::error_code ec;
    const fs::path p = fs::path(root_) / rel_dir;
    fs::remove_all(p, ec);
    if (ec) return absl::InternalError(StrCat("cannot remove ", p.string(), ": ", ec.message()));
    RemoveEmptyParents(p, root_);
    return absl::OkStatus();
  }

 private:
  std::string ManifestPath() const { return StrCat(root_, "/", kArchiveManifestName); }

  std::string dir_;
  std::string root_;
  int lock_fd_ = -1;
  int manifest_fd_ = -1;
  uint64_t manifest_bytes_ = 0;  // what the manifest holds when every append succeeded
};

absl::StatusOr<ArchiveManifest> DirArchiveStore::Load() {
  std::error_code ec;
  fs::create_directories(root_, ec);
  if (ec) {
    return absl::InternalError(StrCat("cannot create the archive ", root_, ": ", ec.message()));
  }
  // One writer: two jobs appending to one manifest would list each other's
  // batches and remove them as strays.
  const std::string lock = root_ + "/LOCK";
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0) return Errno("cannot open", lock);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        StrCat("the archive ", dir_, " is in use by another job (", lock, " is locked)"));
  }
  absl::StatusOr<ArchiveManifest> m = ReadArchiveManifest(root_);
  if (!m.ok() && !absl::IsNotFound(m.status())) return m.status();
  const std::string manifest = ManifestPath();
  manifest_fd_ = ::open(manifest.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (manifest_fd_ < 0) return Errno("cannot open", manifest);
  if (!m.ok()) {
    SyncDir(root_);
    ArchiveManifest empty;
    empty.root = root_;
    return empty;
  }
  if (m->valid_bytes < m->file_bytes) {
    // A torn append: cut it, or the next line would be glued to it.
    if (::ftruncate(manifest_fd_, static_cast<off_t>(m->valid_bytes)) != 0 ||
        ::fdatasync(manifest_fd_) != 0) {
      return Errno("cannot cut the torn last line of", manifest);
    }
    Logf("archive: %s: cut a torn last line of %llu bytes", manifest.c_str(),
         static_cast<unsigned long long>(m->file_bytes - m->valid_bytes));
  }
  manifest_bytes_ = m->valid_bytes;
  return m;
}

absl::Status DirArchiveStore::Append(const std::vector<ManifestLine>& lines) {
  std::string text;
  for (const ManifestLine& l : lines) text += FormatManifestLine(l);
  const std::string path = ManifestPath();
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

absl::Status DirArchiveStore::Replace(const std::vector<ManifestLine>& lines) {
  std::string text;
  for (const ManifestLine& l : lines) text += FormatManifestLine(l);
  const std::string path = ManifestPath();
  if (absl::Status s = ReplaceFile(path, path + ".tmp", text); !s.ok()) return s;
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  ::close(manifest_fd_);
  manifest_fd_ = fd;
  manifest_bytes_ = text.size();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> DirArchiveStore::ListBatches() {
  std::vector<std::string> batches;
  std::vector<fs::path> temporary;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root_, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    std::error_code type_ec;
    if (!it->is_regular_file(type_ec)) continue;
    const std::string rel = it->path().string().substr(root_.size() + 1);
    const std::string name = it->path().filename().string();
    if ((name.front() == '.' && name.ends_with(".tmp")) || rel == "MANIFEST.tmp") {
      temporary.push_back(it->path());
    } else if (IsArchiveBatchName(name)) {
      batches.push_back(rel);
    }
  }
  if (ec) return absl::InternalError(StrCat("cannot list the archive ", root_, ": ", ec.message()));
  for (const fs::path& p : temporary) fs::remove(p, ec);
  if (!temporary.empty()) {
    Logf("archive: removed %zu temporary files of interrupted writes", temporary.size());
  }
  return batches;
}

}  // namespace

std::unique_ptr<ArchiveStore> OpenDirArchiveStore(const std::string& dir) {
  return std::make_unique<DirArchiveStore>(dir);
}

}  // namespace vigil
