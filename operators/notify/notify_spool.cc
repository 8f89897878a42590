#include "operators/notify/notify_spool.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "base/codec.h"
#include "base/strings.h"

namespace vigil {

namespace {

constexpr std::string_view kMagic = "VGSPOOL1";
constexpr uint8_t kAppend = 1;
constexpr uint8_t kRemove = 2;
constexpr size_t kHeader = 8;  // length + checksum
constexpr size_t kMaxRecord = size_t{1} << 30;

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82f63b78u : c >> 1;
    t[i] = c;
  }
  return t;
}

void PutU32(uint32_t v, std::string* out) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

void AppendRecord(std::string_view body, std::string* out) {
  PutU32(static_cast<uint32_t>(body.size()), out);
  PutU32(Crc32c(body), out);
  out->append(body);
}

std::string AppendBody(uint64_t id, std::string_view key, std::string_view data) {
  Encoder enc;
  enc.PutByte(kAppend);
  enc.PutVarint(id);
  enc.PutString(key);
  enc.PutString(data);
  return enc.Release();
}

std::string RemoveBody(uint64_t id) {
  Encoder enc;
  enc.PutByte(kRemove);
  enc.PutVarint(id);
  return enc.Release();
}

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  return absl::InternalError(StrCat(what, " ", path, ": ", std::strerror(errno)));
}

}  // namespace

uint32_t Crc32c(std::string_view data) {
  static const std::array<uint32_t, 256> kTable = MakeCrcTable();
  uint32_t c = 0xffffffffu;
  for (unsigned char b : data) c = kTable[(c ^ b) & 0xff] ^ (c >> 8);
  return c ^ 0xffffffffu;
}

absl::StatusOr<std::unique_ptr<NotifySpool>> NotifySpool::Open(Options options) {
  std::unique_ptr<NotifySpool> spool(new NotifySpool(std::move(options)));
  if (spool->options_.path.empty()) return spool;
  const std::filesystem::path path(spool->options_.path);
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) {
    return absl::InternalError(
        StrCat("cannot create spool directory ", path.parent_path().string(), ": ", ec.message()));
  }
  // One owner per file: a second process (or spool) appending to it would
  // interleave records and deliver everything twice.
  const std::string lock_path = spool->options_.path + ".lock";
  spool->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (spool->lock_fd_ < 0) return ErrnoError("cannot open", lock_path);
  if (::flock(spool->lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    return absl::FailedPreconditionError(
        StrCat(spool->options_.path, ": spool is in use by another notifier"));
  }
  if (absl::Status s = spool->Load(); !s.ok()) return s;
  return spool;
}

NotifySpool::~NotifySpool() {
  if (fd_ >= 0) ::close(fd_);
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the lock
}

absl::Status NotifySpool::Load() {
  const std::string& path = options_.path;
  std::string data;
  {
    std::ifstream in(path, std::ios::binary);
    if (in) {
      std::ostringstream ss;
      ss << in.rdbuf();
      data = std::move(ss).str();
    }
  }
  if (!data.empty() && !data.starts_with(kMagic)) {
    if (data.size() >= kMagic.size() || !kMagic.starts_with(data)) {
      return absl::FailedPreconditionError(StrCat(path, ": not a vigil spool file"));
    }
  }
  size_t pos = data.size() >= kMagic.size() ? kMagic.size() : data.size();
  bool dead = false;
  while (pos < data.size()) {
    if (data.size() - pos < kHeader) break;
    const uint32_t len = GetU32(data.data() + pos);
    const uint32_t crc = GetU32(data.data() + pos + 4);
    if (len > kMaxRecord || len > data.size() - pos - kHeader) break;
    std::string_view body(data.data() + pos + kHeader, len);
    if (Crc32c(body) != crc) break;
    Decoder dec(body);
    const uint8_t type = dec.GetByte();
    const uint64_t id = dec.GetVarint();
    if (type == kAppend) {
      Entry e;
      e.key = std::string(dec.GetString());
      e.data = std::string(dec.GetString());
      e.bytes = kHeader + len;
      e.on_disk = true;
      if (!dec.ok()) break;
      live_bytes_ += e.bytes;
      entries_[id] = std::move(e);
    } else if (type == kRemove && dec.ok()) {
      if (auto it = entries_.find(id); it != entries_.end()) {
        live_bytes_ -= it->second.bytes;
        entries_.erase(it);
      }
      dead = true;
    } else {
      break;
    }
    next_id_ = std::max(next_id_, id + 1);
    pos += kHeader + len;
  }
  torn_bytes_ = data.size() - pos;
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return ErrnoError("cannot open spool", path);
  // Cutting off a torn tail (or a partial magic) needs no free space; the
  // magic is written with the first record (WriteAll).
  const size_t valid = data.size() < kMagic.size() ? 0 : pos;
  file_bytes_ = valid;
  if (valid < data.size() && ::ftruncate(fd_, static_cast<off_t>(valid)) != 0) {
    stale_file_ = true;  // the next write rewrites the file
    Failed(ErrnoError("cannot truncate spool", path)).IgnoreError();
  } else if (dead) {
    // Compaction can wait for room on the disk: the file is right as it is.
    if (absl::Status s = Rewrite(); !s.ok()) Failed(s).IgnoreError();
  }
  return absl::OkStatus();
}

absl::Status NotifySpool::Rewrite() {
  const std::string& path = options_.path;
  const std::string tmp = path + ".tmp";
  std::string data(kMagic);
  for (const auto& [id, e] : entries_) AppendRecord(AppendBody(id, e.key, e.data), &data);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  auto fail = [&](std::string_view what) {
    absl::Status s = ErrnoError(what, tmp);
    ::close(fd);
    ::unlink(tmp.c_str());  // a full disk needs its space back
    return s;
  };
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write");
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0) return fail("cannot sync");
  if (::close(fd) != 0) {
    absl::Status s = ErrnoError("cannot close", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = ErrnoError("cannot rename to", path);
    ::unlink(tmp.c_str());
    return s;
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) {
    stale_file_ = true;
    return ErrnoError("cannot open spool", path);
  }
  file_bytes_ = data.size();
  for (auto& [id, e] : entries_) e.on_disk = true;
  memory_ = 0;
  stale_file_ = false;
  return absl::OkStatus();
}

absl::Status NotifySpool::WriteAll(std::string data, bool sync) {
  if (options_.path.empty() || data.empty()) return absl::OkStatus();
  if (fd_ < 0) return absl::InternalError(StrCat("spool ", options_.path, " is not open"));
  if (file_bytes_ == 0) data.insert(0, kMagic);
  const size_t before = file_bytes_;
  absl::Status status;
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      status = ErrnoError("cannot write spool", options_.path);
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (status.ok() && sync && ::fdatasync(fd_) != 0) {
    status = ErrnoError("cannot sync spool", options_.path);
  }
  if (status.ok()) {
    file_bytes_ += data.size();
    return status;
  }
  // Back to the last complete record, so that the next one is not written
  // behind a torn one (which would end the log when it is loaded).
  if (done > 0 && ::ftruncate(fd_, static_cast<off_t>(before)) != 0) stale_file_ = true;
  return status;
}

absl::Status NotifySpool::Failed(absl::Status s) {
  ++write_failures_;
  last_error_ = std::string(s.message());
  return s;
}

absl::Status NotifySpool::Persist() {
  if (options_.path.empty()) return absl::OkStatus();
  if (stale_file_) {
    absl::Status s = Rewrite();
    return s.ok() ? s : Failed(std::move(s));
  }
  if (memory_ == 0) return absl::OkStatus();
  std::string records;
  for (const auto& [id, e] : entries_) {
    if (!e.on_disk) AppendRecord(AppendBody(id, e.key, e.data), &records);
  }
  if (absl::Status s = WriteAll(std::move(records), /*sync=*/true); !s.ok()) {
    return Failed(std::move(s));
  }
  for (auto& [id, e] : entries_) e.on_disk = true;
  memory_ = 0;
  return absl::OkStatus();
}

absl::Status NotifySpool::Retry() { return Persist(); }

NotifySpool::AppendResult NotifySpool::Append(const std::vector<Item>& items) {
  AppendResult result;
  for (const Item& item : items) {
    const uint64_t id = next_id_++;
    std::string record;
    AppendRecord(AppendBody(id, item.key, item.data), &record);
    Entry e{item.key, item.data, record.size(), /*on_disk=*/false};
    live_bytes_ += e.bytes;
    ++memory_;
    entries_[id] = std::move(e);
  }
  result.status = Persist();
  EnforceBound(&result);
  EnforceMemoryBound(&result);
  return result;
}

std::vector<NotifySpool::Saved> NotifySpool::MemoryOnly() const {
  std::vector<Saved> out;
  out.reserve(memory_);
  for (const auto& [id, e] : entries_) {
    if (!e.on_disk) out.push_back({id, e.key, e.data});
  }
  return out;
}

NotifySpool::AppendResult NotifySpool::Restore(const std::vector<Saved>& saved) {
  std::vector<Item> items;
  for (const Saved& s : saved) {
    auto it = entries_.find(s.id);
    if (it != entries_.end() && it->second.key == s.key && it->second.data == s.data) continue;
    items.push_back({s.key, s.data});
  }
  if (items.empty()) return {};
  return Append(items);
}

void NotifySpool::Erase(std::map<uint64_t, Entry>::iterator it, std::string* removals) {
  if (it->second.on_disk) {
    AppendRecord(RemoveBody(it->first), removals);
  } else {
    --memory_;
  }
  live_bytes_ -= it->second.bytes;
  entries_.erase(it);
}

void NotifySpool::EnforceBound(AppendResult* result) {
  if (live_bytes_ <= options_.max_bytes) return;
  std::string removals;
  // Coalesce: keep only the newest `keep_per_key` entries of every key.
  std::unordered_map<std::string_view, int> seen;
  std::vector<uint64_t> older;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (++seen[it->second.key] > options_.keep_per_key && it->first > protected_upto_) {
      older.push_back(it->first);
    }
  }
  seen.clear();
  for (uint64_t id : older) {
    Erase(entries_.find(id), &removals);
    ++result->coalesced;
  }
  for (auto it = entries_.begin(); live_bytes_ > options_.max_bytes && it != entries_.end();) {
    if (it->first <= protected_upto_) {
      ++it;
      continue;
    }
    auto next = std::next(it);
    Erase(it, &removals);
    ++result->dropped;
    it = next;
  }
  if (stale_file_ || removals.empty()) return;  // a stale file is rewritten anyway
  absl::Status s = WriteAll(std::move(removals), /*sync=*/false);
  if (!s.ok()) {
    stale_file_ = true;
    s = Failed(std::move(s));
  } else {
    // A receiver down while alerts flap: what the bound removes is never
    // delivered, so no Remove would compact the file.
    s = CompactIfBloated();
  }
  if (!s.ok() && result->status.ok()) result->status = s;
}

absl::Status NotifySpool::CompactIfBloated() {
  if (file_bytes_ <= 2 * live_bytes_ + 4096) return absl::OkStatus();
  // Compaction can wait for room on the disk: the file is right as it is.
  if (absl::Status s = Rewrite(); !s.ok()) return Failed(std::move(s));
  return absl::OkStatus();
}

void NotifySpool::EnforceMemoryBound(AppendResult* result) {
  if (memory_ <= options_.max_memory_entries) return;
  std::string unused;  // entries held in memory leave no removal record
  std::unordered_map<std::string_view, int> seen;
  std::vector<uint64_t> older;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (it->second.on_disk) continue;
    if (++seen[it->second.key] > options_.keep_per_key && it->first > protected_upto_) {
      older.push_back(it->first);
    }
  }
  seen.clear();
  for (uint64_t id : older) {
    Erase(entries_.find(id), &unused);
    ++result->coalesced;
  }
  for (auto it = entries_.begin(); memory_ > options_.max_memory_entries && it != entries_.end();) {
    if (it->second.on_disk || it->first <= protected_upto_) {
      ++it;
      continue;
    }
    auto next = std::next(it);
    Erase(it, &unused);
    ++result->dropped_memory;
    it = next;
  }
}

absl::Status NotifySpool::Remove(uint64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return absl::OkStatus();
  const bool on_disk = it->second.on_disk;
  std::string removal;
  Erase(it, &removal);
  if (options_.path.empty()) return absl::OkStatus();
  if (entries_.empty()) {
    // Nothing live: start the log over instead of recording the removal
    // (a shrink needs no free space).
    const size_t keep = std::min(file_bytes_, kMagic.size());
    if (::ftruncate(fd_, static_cast<off_t>(keep)) != 0) {
      stale_file_ = true;
      return Failed(ErrnoError("cannot truncate spool", options_.path));
    }
    file_bytes_ = keep;
    stale_file_ = false;
    return absl::OkStatus();
  }
  if (!on_disk || stale_file_) return absl::OkStatus();
  if (absl::Status s = WriteAll(std::move(removal), /*sync=*/false); !s.ok()) {
    stale_file_ = true;  // it still lists the entry: rewrite it with the next write
    return Failed(std::move(s));
  }
  return CompactIfBloated();
}

}  // namespace vigil
