#include "operators/archive/archive_manifest.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/strings.h"

namespace vigil {

namespace {

namespace fs = std::filesystem;

// A path a manifest may name: relative, inside the root, a batch file.
bool SafeBatchPath(std::string_view p) {
  if (p.empty() || p.front() == '/' || !IsArchiveBatchName(p)) return false;
  for (std::string_view part : StrSplit(p, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

bool GetUint(simdjson::dom::object o, std::string_view key, uint64_t* out) {
  return o[key].get_uint64().get(*out) == simdjson::SUCCESS;
}

bool GetTime(simdjson::dom::object o, std::string_view key, TimeMs* out) {
  std::string_view s;
  if (o[key].get_string().get(s) != simdjson::SUCCESS) return false;
  std::optional<TimeMs> t = ParseRfc3339(s);
  if (!t) return false;
  *out = *t;
  return true;
}

// Parses one manifest line; "" on success, else what is wrong with it.
std::string ParseLine(simdjson::dom::parser* parser, std::string_view text, ManifestLine* out) {
  simdjson::dom::element doc;
  if (parser->parse(text.data(), text.size()).get(doc) != simdjson::SUCCESS) return "not JSON";
  simdjson::dom::object o;
  if (doc.get_object().get(o) != simdjson::SUCCESS) return "not a JSON object";
  if (GetUint(o, "checkpoint", &out->checkpoint)) {
    out->mark = true;
    return "";
  }
  ArchiveEntry& e = out->entry;
  std::string_view path;
  if (o["path"].get_string().get(path) != simdjson::SUCCESS || !SafeBatchPath(path)) {
    return "no valid 'path' (a relative .ndjson.zst or .parquet path inside the archive)";
  }
  e.path = std::string(path);
  if (!GetUint(o, "seq", &e.seq) || !GetUint(o, "records", &e.records) ||
      !GetUint(o, "bytes", &e.bytes) || !GetUint(o, "size", &e.size) ||
      !GetUint(o, "epoch", &e.epoch)) {
    return "seq, records, bytes, size and epoch must be non-negative integers";
  }
  if (!GetTime(o, "min_ts", &e.min_ts) || !GetTime(o, "max_ts", &e.max_ts)) {
    return "min_ts and max_ts must be RFC 3339 times";
  }
  return "";
}

}  // namespace

std::vector<ArchiveEntry> ArchiveManifest::Files() const {
  std::vector<ArchiveEntry> out;
  for (const ManifestLine& l : lines) {
    if (!l.mark) out.push_back(l.entry);
  }
  // Within an hour, write order is the order the job accepted the records
  // in, so a replay sees them as the live run did.
  std::stable_sort(out.begin(), out.end(), [](const ArchiveEntry& a, const ArchiveEntry& b) {
    if (a.hour() != b.hour()) return a.hour() < b.hour();
    return a.seq < b.seq;
  });
  return out;
}

void ParseArchiveManifest(std::string_view text, std::string_view name, ArchiveManifest* m) {
  simdjson::dom::parser parser;
  size_t pos = 0;
  m->valid_bytes = 0;
  m->file_bytes = text.size();
  for (uint64_t line_no = 1;; ++line_no) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) break;  // the rest, if any, is a torn append
    const std::string_view line = text.substr(pos, nl - pos);
    pos = nl + 1;
    m->valid_bytes = pos;
    if (Strip(line).empty()) continue;
    ManifestLine parsed;
    const std::string problem = ParseLine(&parser, line, &parsed);
    if (!problem.empty()) {
      m->problems.push_back(StrCat(name, ":", line_no, ": ", problem));
      continue;
    }
    m->lines.push_back(std::move(parsed));
  }
}

absl::StatusOr<ArchiveManifest> ReadArchiveManifest(const std::string& root) {
  const std::string path = StrCat(root, "/", kArchiveManifestName);
  std::error_code ec;
  if (!fs::exists(path, ec)) return absl::NotFoundError(StrCat(path, ": no archive manifest"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InternalError(StrCat(path, ": cannot open: ", std::strerror(errno)));
  std::stringstream ss;
  ss << in.rdbuf();
  ArchiveManifest m;
  m.root = root;
  ParseArchiveManifest(ss.str(), path, &m);
  return m;
}

std::string FormatManifestLine(const ManifestLine& line) {
  if (line.mark) return StrCat("{\"checkpoint\":", line.checkpoint, "}\n");
  const ArchiveEntry& e = line.entry;
  std::string s = "{\"path\":";
  AppendJsonString(e.path, &s);
  StrAppend(&s, ",\"seq\":", e.seq, ",\"records\":", e.records, ",\"bytes\":", e.bytes,
            ",\"size\":", e.size, ",\"min_ts\":\"");
  AppendTimestamp(e.min_ts, &s);
  s += "\",\"max_ts\":\"";
  AppendTimestamp(e.max_ts, &s);
  StrAppend(&s, "\",\"epoch\":", e.epoch, "}\n");
  return s;
}

bool IsArchiveBatchName(std::string_view name) {
  return name.ends_with(kNdjsonZstSuffix) || name.ends_with(kParquetSuffix);
}

std::string ArchiveHourDir(TimeMs t, ArchivePartitioning partitioning) {
  const std::string ts = FormatTimestamp(t);  // YYYY-MM-DDTHH:MM:SS.mmmZ
  if (partitioning == ArchivePartitioning::kHive) {
    return StrCat("dt=", ts.substr(0, 10), "/hour=", ts.substr(11, 2));
  }
  return StrCat(ts.substr(0, 4), "/", ts.substr(5, 2), "/", ts.substr(8, 2), "/", ts.substr(11, 2));
}

std::string ArchiveBatchPath(uint64_t seq, TimeMs min_ts, ArchivePartitioning partitioning,
                             ArchiveFormat format) {
  const std::string ts = FormatTimestamp(min_ts);
  char seq_text[24];
  std::snprintf(seq_text, sizeof seq_text, "%010llu", static_cast<unsigned long long>(seq));
  // Basic ISO 8601 (no ':' or '-'), so the name is portable and sorts.
  std::string compact;
  for (char c : ts) {
    if (c != '-' && c != ':') compact.push_back(c);
  }
  return StrCat(ArchiveHourDir(min_ts, partitioning), "/", seq_text, "-", compact,
                format == ArchiveFormat::kParquet ? kParquetSuffix : kNdjsonZstSuffix);
}

absl::StatusOr<ArchivePartitioning> ParseArchivePartitioning(std::string_view text) {
  if (text == "hourly") return ArchivePartitioning::kHourly;
  if (text == "hive") return ArchivePartitioning::kHive;
  return absl::InvalidArgumentError(
      StrCat("unknown archive partitioning '", text,
             "' (hourly: YYYY/MM/DD/HH, hive: dt=YYYY-MM-DD/hour=HH)"));
}

absl::StatusOr<ArchiveFormat> ParseArchiveFormat(std::string_view text) {
  if (text == "ndjson") return ArchiveFormat::kNdjsonZst;
  if (text == "parquet") return ArchiveFormat::kParquet;
  return absl::InvalidArgumentError(
      StrCat("unknown archive format '", text, "' (ndjson: zstd-compressed NDJSON, or parquet)"));
}

std::optional<std::string> FindArchiveRoot(const std::string& dir) {
  std::error_code ec;
  for (const std::string& root : {dir, StrCat(dir, "/events")}) {
    if (fs::is_regular_file(fs::path(root) / kArchiveManifestName, ec)) return root;
  }
  return std::nullopt;
}

namespace archive_internal {

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(StrCat(what, " ", path, ": ", std::strerror(errno)));
}

void SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("cannot write", path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status ReplaceFile(const std::string& path, const std::string& tmp, std::string_view data) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  absl::Status s = WriteAll(fd, data, tmp);
  if (s.ok() && ::fsync(fd) != 0) s = Errno("cannot sync", tmp);
  if (::close(fd) != 0 && s.ok()) s = Errno("cannot close", tmp);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) s = Errno("cannot rename to", path);
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  SyncDir(fs::path(path).parent_path().string());
  return absl::OkStatus();
}

absl::Status MakeDirs(const std::string& root, std::string_view rel) {
  std::string path = root;
  for (std::string_view part : StrSplit(rel, '/')) {
    const std::string parent = path;
    StrAppend(&path, "/", part);
    if (::mkdir(path.c_str(), 0755) == 0) {
      SyncDir(parent);
      continue;
    }
    if (errno != EEXIST) return Errno("cannot create directory", path);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      errno = ENOTDIR;
      return Errno("cannot create directory", path);
    }
  }
  return absl::OkStatus();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string Count(uint64_t n, std::string_view one, std::string_view many) {
  return StrCat(n, " ", n == 1 ? one : many);
}

}  // namespace archive_internal

}  // namespace vigil
