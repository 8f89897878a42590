#include "runtime/checkpoint.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "base/codec.h"
#include "base/hash.h"
#include "base/strings.h"

namespace vigil {

namespace {

constexpr std::string_view kMagic = "VIGILCK1";
constexpr std::string_view kDeadLettersKey = "vigil.dead-letters";
constexpr std::string_view kPrefix = "checkpoint-";
constexpr std::string_view kSuffix = ".vck";

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::UnavailableError(StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, std::string_view bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("writing", path);
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

std::string EncodeCheckpoint(const CheckpointData& d) {
  Encoder enc;
  enc.PutVarint(d.epoch);
  enc.PutSigned(d.written_at);
  enc.PutString(d.source);
  enc.PutString(d.positions);
  enc.PutSigned(d.watermark);
  enc.PutVarint(d.input_max_ts.size());
  for (const auto& [name, ts] : d.input_max_ts) {
    enc.PutString(name);
    enc.PutSigned(ts);
  }
  enc.PutSigned(d.frontier);
  enc.PutVarint(d.panes.size() + 1);
  for (const auto& [key, state] : d.panes) {
    enc.PutString(key);
    enc.PutString(state);
  }
  enc.PutString(kDeadLettersKey);
  enc.PutString(d.counters.EncodeDeadLetters());
  enc.PutString(d.alerts);
  enc.PutVarint(d.outputs.size());
  for (const auto& [path, size] : d.outputs) {
    enc.PutString(path);
    enc.PutVarint(size);
  }
  const JobCounters& c = d.counters;
  for (uint64_t n : {c.records, c.processed, c.dead_lettered, c.late, c.windows,
                     c.firing_transitions, c.skipped}) {
    enc.PutVarint(n);
  }
  std::string out(kMagic);
  out += enc.data();
  const uint64_t sum = HashBytes(out);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((sum >> (8 * i)) & 0xff));
  return out;
}

absl::StatusOr<CheckpointData> DecodeCheckpoint(std::string_view bytes) {
  if (bytes.size() < kMagic.size() + 8 || bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError("not a vigil checkpoint (bad header or truncated)");
  }
  const std::string_view body = bytes.substr(0, bytes.size() - 8);
  uint64_t stored = 0;
  for (int i = 0; i < 8; ++i) {
    stored |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[body.size() + i])) << (8 * i);
  }
  if (HashBytes(body) != stored)
    return absl::DataLossError("checksum mismatch (corrupt or truncated)");
  Decoder dec(body.substr(kMagic.size()));
  CheckpointData d;
  d.epoch = dec.GetVarint();
  d.written_at = dec.GetSigned();
  d.source = std::string(dec.GetString());
  d.positions = std::string(dec.GetString());
  d.watermark = dec.GetSigned();
  for (uint64_t n = dec.GetVarint(), i = 0; i < n && dec.ok(); ++i) {
    std::string name(dec.GetString());
    d.input_max_ts.emplace_back(std::move(name), dec.GetSigned());
  }
  d.frontier = dec.GetSigned();
  for (uint64_t n = dec.GetVarint(), i = 0; i < n && dec.ok(); ++i) {
    std::string key(dec.GetString());
    std::string_view state = dec.GetString();
    if (key == kDeadLettersKey) {
      if (!d.counters.DecodeDeadLetters(state)) dec.Fail();
    } else {
      d.panes.emplace_back(std::move(key), std::string(state));
    }
  }
  d.alerts = std::string(dec.GetString());
  for (uint64_t n = dec.GetVarint(), i = 0; i < n && dec.ok(); ++i) {
    std::string path(dec.GetString());
    d.outputs.emplace_back(std::move(path), dec.GetVarint());
  }
  JobCounters& c = d.counters;
  for (uint64_t* n : {&c.records, &c.processed, &c.dead_lettered, &c.late, &c.windows,
                      &c.firing_transitions, &c.skipped}) {
    *n = dec.GetVarint();
  }
  if (!dec.ok() || !dec.done()) return absl::DataLossError("malformed checkpoint body");
  return d;
}

CheckpointStore::CheckpointStore(std::string dir, int keep) : dir_(std::move(dir)), keep_(keep) {}

std::vector<std::string> CheckpointStore::Files() const {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir_.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    std::string_view name = e->d_name;
    if (name.size() > kPrefix.size() + kSuffix.size() &&
        name.substr(0, kPrefix.size()) == kPrefix &&
        name.substr(name.size() - kSuffix.size()) == kSuffix) {
      out.emplace_back(name);
    }
  }
  ::closedir(d);
  // Epochs are zero-padded: name order is epoch order.
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status CheckpointStore::Write(const CheckpointData& data) {
  if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) return Errno("creating", dir_);
  char name[64];
  std::snprintf(name, sizeof name, "checkpoint-%020llu.vck",
                static_cast<unsigned long long>(data.epoch));
  const std::string final_path = StrCat(dir_, "/", name);
  const std::string tmp = final_path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("creating", tmp);
  absl::Status s = WriteAll(fd, EncodeCheckpoint(data), tmp);
  if (s.ok() && ::fsync(fd) != 0) s = Errno("syncing", tmp);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), final_path.c_str()) != 0) s = Errno("renaming", tmp);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  const int dfd = ::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  std::vector<std::string> files = Files();
  for (size_t i = 0; i + static_cast<size_t>(keep_) < files.size(); ++i) {
    ::unlink(StrCat(dir_, "/", files[i]).c_str());
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<CheckpointData>> CheckpointStore::LoadLatest(
    std::vector<std::string>* problems) const {
  // A directory that cannot be one (a file, a parent missing or not
  // writable) would fail every checkpoint the job tries: refuse it now.
  struct stat st {};
  if (::stat(dir_.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        StrCat("checkpoint directory ", dir_, " is not a directory"));
  }
  if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) return Errno("creating", dir_);
  if (::access(dir_.c_str(), W_OK) != 0) return Errno("writing in", dir_);
  std::vector<std::string> files = Files();
  for (auto it = files.rbegin(); it != files.rend(); ++it) {
    const std::string path = StrCat(dir_, "/", *it);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      problems->push_back(StrCat(path, ": cannot open: ", std::strerror(errno)));
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    absl::StatusOr<CheckpointData> d = DecodeCheckpoint(ss.str());
    if (!d.ok()) {
      problems->push_back(StrCat(path, ": ", std::string(d.status().message())));
      continue;
    }
    return std::optional<CheckpointData>(std::move(*d));
  }
  return std::optional<CheckpointData>();
}

}  // namespace vigil
