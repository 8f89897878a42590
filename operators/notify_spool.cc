#include "operators/notify_spool.h"

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

#include "windows/codec.h"
#include "windows/strings.h"

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
  file_bytes_ = data.size();
  if (data.size() < kMagic.size() || dead || torn_bytes_ > 0 || data.size() != pos) {
    return Rewrite();
  }
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return ErrnoError("cannot open spool", path);
  return absl::OkStatus();
}

absl::Status NotifySpool::Rewrite() {
  const std::string& path = options_.path;
  const std::string tmp = path + ".tmp";
  std::string data(kMagic);
  for (const auto& [id, e] : entries_) AppendRecord(AppendBody(id, e.key, e.data), &data);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create", tmp);
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      absl::Status s = ErrnoError("cannot write", tmp);
      ::close(fd);
      return s;
    }
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd) != 0 || ::close(fd) != 0) return ErrnoError("cannot sync", tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) return ErrnoError("cannot rename to", path);
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd_ < 0) return ErrnoError("cannot open spool", path);
  file_bytes_ = data.size();
  return absl::OkStatus();
}

absl::Status NotifySpool::WriteAll(std::string_view data, bool sync) {
  if (fd_ < 0) return absl::OkStatus();
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoError("cannot write spool", options_.path);
    done += static_cast<size_t>(n);
    file_bytes_ += static_cast<size_t>(n);
  }
  if (sync && ::fdatasync(fd_) != 0) return ErrnoError("cannot sync spool", options_.path);
  return absl::OkStatus();
}

NotifySpool::AppendResult NotifySpool::Append(const std::vector<Item>& items) {
  AppendResult result;
  std::string records;
  for (const Item& item : items) {
    const uint64_t id = next_id_++;
    const size_t before = records.size();
    AppendRecord(AppendBody(id, item.key, item.data), &records);
    Entry e{item.key, item.data, records.size() - before};
    live_bytes_ += e.bytes;
    entries_[id] = std::move(e);
  }
  result.status = WriteAll(records, /*sync=*/true);
  EnforceBound(&result);
  return result;
}

void NotifySpool::Erase(std::map<uint64_t, Entry>::iterator it, std::string* removals) {
  AppendRecord(RemoveBody(it->first), removals);
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
  if (absl::Status s = WriteAll(removals, /*sync=*/false); !s.ok() && result->status.ok()) {
    result->status = s;
  }
}

absl::Status NotifySpool::Remove(uint64_t id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return absl::OkStatus();
  std::string removal;
  Erase(it, &removal);
  if (fd_ < 0) return absl::OkStatus();
  if (entries_.empty()) {
    // Nothing live: start the log over instead of recording the removal.
    if (::ftruncate(fd_, static_cast<off_t>(kMagic.size())) != 0) {
      return ErrnoError("cannot truncate spool", options_.path);
    }
    file_bytes_ = kMagic.size();
    return absl::OkStatus();
  }
  if (absl::Status s = WriteAll(removal, /*sync=*/false); !s.ok()) return s;
  if (file_bytes_ > 2 * live_bytes_ + 4096) return Rewrite();
  return absl::OkStatus();
}

}  // namespace vigil
